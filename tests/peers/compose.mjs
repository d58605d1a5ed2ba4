// Compose FIR graph's SDL with a supplier's asset subgraph using Apollo's own composition.
// Usage: node compose.mjs path/to/schema.graphql  -> prints {"ok": true, "supergraph": "..."} or the errors.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const fir = readFileSync(process.argv[2], "utf8");
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
const result = composeServices([
  { name: "fir", typeDefs: parse(fir), url: "http://fir" },
  { name: "assets", typeDefs: parse(assets), url: "http://assets" },
]);
if (result.errors) {
  console.log(JSON.stringify({ ok: false, errors: result.errors.map((e) => e.message) }));
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, supergraph: result.supergraphSdl }));
