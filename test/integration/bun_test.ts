// The server suite on Bun, through the Bun.listen adapter.
import { serve } from "../../adapters/bun.ts";
import { defineServerSuite } from "./suite.ts";
import { defineOverloadSuite } from "./overload.ts";
import { defineUpgradeSuite } from "./upgrade.ts";
import { defineStrictSuite } from "./strict.ts";

if ("Bun" in globalThis) {
  defineServerSuite("bun", serve);
  defineOverloadSuite("bun", serve);
  defineUpgradeSuite("bun", serve);
  defineStrictSuite("bun", serve);
}
