// Hive Gateway for the tests: the caller's Authorization header goes to every subgraph unchanged.
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get("authorization") }),
  },
  logging: "warn",
});
