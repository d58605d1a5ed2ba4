// Compose FIR graph's SDL with a supplier's asset subgraph using Apollo's own composition.
// Usage: node compose.mjs path/to/schema.graphql  -> prints {"ok": true, "supergraph": "..."} or the errors.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const fir = readFileSync(process.argv[2], "utf8");
const option = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const firUrl = option("--url") ?? "http://fir";
const firOnly = process.argv.includes("--fir-only");
const assets = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@external"])
type Query { meters: [Meter!]! }
type Meter @key(fields: "mpxn") {
  mpxn: ID!
  deviceModel: DeviceModel
  cplEntry: CplEntry
}
type DeviceModel @key(fields: "manufacturerId modelId", resolvable: false) {
  manufacturerId: String!
  modelId: String!
}
type CplEntry @key(fields: "number", resolvable: false) { number: Int! }
`;
const services = [{ name: "fir", typeDefs: parse(fir), url: firUrl }];
if (!firOnly) services.push({ name: "assets", typeDefs: parse(assets), url: "http://assets" });
const result = composeServices(services);
if (result.errors) {
  console.log(JSON.stringify({ ok: false, errors: result.errors.map((e) => e.message) }));
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, supergraph: result.supergraphSdl }));
