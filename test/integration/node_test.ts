// The server suite on Node, through the node:net adapter.
import { serve } from "../../adapters/node.ts";
import { defineServerSuite } from "./suite.ts";
import { defineOverloadSuite } from "./overload.ts";
import { defineUpgradeSuite } from "./upgrade.ts";
import { defineStrictSuite } from "./strict.ts";

if (!("Deno" in globalThis) && !("Bun" in globalThis)) {
  defineServerSuite("node", serve);
  defineOverloadSuite("node", serve);
  defineUpgradeSuite("node", serve);
  defineStrictSuite("node", serve);
}
