// The server suite on Deno, through the Deno.listen adapter.
import { serve } from "../../adapters/deno.ts";
import { defineServerSuite } from "./suite.ts";
import { defineOverloadSuite } from "./overload.ts";
import { defineUpgradeSuite } from "./upgrade.ts";
import { defineStrictSuite } from "./strict.ts";

if ("Deno" in globalThis) {
  defineServerSuite("deno", serve);
  defineOverloadSuite("deno", serve);
  defineUpgradeSuite("deno", serve);
  defineStrictSuite("deno", serve);
}
