// The socket contract on Node, through adapters/node.ts (adapters/node/).
import { nodeTransport } from "../../adapters/node.ts";
import { describeSocketContract } from "../helpers/socket_contract.ts";

const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);
describeSocketContract("node transport", nodeTransport, { skip: isNode ? undefined : "node:net transport: run under Node" });
