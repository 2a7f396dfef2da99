// The socket contract on Bun, through adapters/bun.ts.
import { bunTransport } from "../../adapters/bun.ts";
import { describeSocketContract } from "../helpers/socket_contract.ts";

describeSocketContract("bun transport", bunTransport, { skip: "Bun" in globalThis ? undefined : "Bun.listen transport: run under Bun" });
