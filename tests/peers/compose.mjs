// Compose FIR graph's SDL with a supplier's meter-asset subgraph (meters.mjs) using Apollo's own composition.
// Usage: node compose.mjs path/to/schema.graphql  -> prints {"ok": true, "supergraph": "..."} or the errors.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { typeDefs as meters } from "./meters.mjs";

const fir = readFileSync(process.argv[2], "utf8");
const option = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const firUrl = option("--url") ?? "http://fir";
const firOnly = process.argv.includes("--fir-only");
const services = [{ name: "fir", typeDefs: parse(fir), url: firUrl }];
if (!firOnly) services.push({ name: "meters", typeDefs: parse(meters), url: "http://meters" });
const result = composeServices(services);
if (result.errors) {
  console.log(JSON.stringify({ ok: false, errors: result.errors.map((e) => e.message) }));
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, supergraph: result.supergraphSdl, hints: result.hints.map((h) => h.message) }));
