// The server suite on Deno, through the Deno.listen adapter.
import { serve } from "../../adapters/deno.ts";
import { defineServerSuite } from "./suite.ts";

if ("Deno" in globalThis) defineServerSuite("deno", serve);
