// A supplier's meter-asset subgraph, as a supplier's platform team would write it: each meter knows
// its four identity fields (as the meter reports them: any case, stray spaces) and its manufacturer,
// and points at FIR graph's DeviceFirmwareStatus and Manufacturer entities for everything else.
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@shareable"])

type Query {
  meters: [Meter!]!
  meter(mpxn: ID!): Meter
}

type Meter @key(fields: "mpxn") {
  mpxn: ID!
  site: String!
  manufacturer: Manufacturer!
  firmware: DeviceFirmwareStatus!
}

type Manufacturer @key(fields: "manufacturerId", resolvable: false) {
  manufacturerId: String!
}

type DeviceFirmwareStatus
  @key(fields: "identity { manufacturerId modelId hardwareVersion firmwareVersion }", resolvable: false) {
  identity: DeviceIdentity!
}

type DeviceIdentity @shareable {
  manufacturerId: String!
  modelId: String!
  hardwareVersion: String!
  firmwareVersion: String!
}
`;

// Two on the CPL (one three steps from latest, one on it), one whose entry was Removed, one unknown.
export const METERS = [
  { mpxn: "1900000000001", site: "Leeds", identity: ["106c", "4331", "00ac", " 124074da "] },
  { mpxn: "1900000000002", site: "York", identity: ["106C", "4331", "00AC", "12610010"] },
  { mpxn: "1900000000003", site: "Hull", identity: ["1063", "4772", "0101", "03030236"] },
  { mpxn: "1900000000004", site: "Bath", identity: ["106C", "4331", "00AC", "DEADBEEF"] },
];

const identity = ([manufacturerId, modelId, hardwareVersion, firmwareVersion]) => ({
  manufacturerId,
  modelId,
  hardwareVersion,
  firmwareVersion,
});

const resolvers = {
  Query: {
    meters: () => METERS,
    meter: (_, { mpxn }) => METERS.find((m) => m.mpxn === mpxn) ?? null,
  },
  Meter: {
    __resolveReference: ({ mpxn }) => METERS.find((m) => m.mpxn === mpxn) ?? null,
    manufacturer: (m) => ({ manufacturerId: m.identity[0] }),
    firmware: (m) => ({ identity: identity(m.identity) }),
  },
};

export function metersServer() {
  return new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
}
