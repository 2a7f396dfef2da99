// The socket contract on Deno, through adapters/deno.ts.
import { denoTransport } from "../../adapters/deno.ts";
import { describeSocketContract } from "../helpers/socket_contract.ts";

describeSocketContract("deno transport", denoTransport, { skip: "Deno" in globalThis ? undefined : "Deno.listen transport: run under Deno" });
