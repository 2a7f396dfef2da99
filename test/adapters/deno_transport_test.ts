// The socket contract on Deno, through adapters/deno.ts: with each connection read by Deno's
// read op called directly (the default), and again through `conn.read` (the path of a Deno
// without that op).
import { after, before, describe } from "node:test";
import { denoTransport } from "../../adapters/deno.ts";
import { directReads } from "../../adapters/deno/socket.ts";
import { describeSocketContract } from "../helpers/socket_contract.ts";

const skip = "Deno" in globalThis ? undefined : "Deno.listen transport: run under Deno";
describeSocketContract("deno transport", denoTransport, { skip });

describe("reading through conn.read", { skip }, () => {
  before(() => {
    directReads.enabled = false;
  });
  after(() => {
    directReads.enabled = true;
  });
  describeSocketContract("deno transport", denoTransport);
});
