// Hive Gateway in front of the FIR graph replicas (docker-compose.yml, service `router`).
// FIR graph enforces every scope rule itself; this gateway enforces the supergraph's @requiresScopes
// again at the edge, as a second line of defence: it verifies the bearer token against the issuer's
// JWKS, takes the scopes from its `scope` claim, removes fields the caller may not see before planning
// (each with an UNAUTHORIZED_FIELD_OR_TYPE error) and forwards the token unchanged to the subgraphs.
import { createRemoteJwksSigningKeyProvider, defineConfig, extractFromHeader } from "@graphql-hive/gateway";

const issuer = process.env.FIR_OIDC_ISSUER ?? "http://keycloak:8080/realms/fir";
const jwksUri = process.env.FIR_OIDC_JWKS_URI ?? `${issuer}/protocol/openid-connect/certs`;

export const gatewayConfig = defineConfig({
  jwt: {
    signingKeyProviders: [createRemoteJwksSigningKeyProvider({ jwksUri })],
    tokenLookupLocations: [extractFromHeader({ name: "authorization", prefix: "Bearer" })],
    tokenVerification: {
      issuer,
      audience: process.env.FIR_OIDC_AUDIENCE ?? "fir-graph",
      algorithms: ["RS256", "PS256", "ES256"],
    },
    // anonymous callers see the public CPL; a token that fails verification is refused outright
    reject: { missingToken: false, invalidToken: true },
  },
  genericAuth: {
    mode: "protect-granular",
    resolveUserFn: (context) => context.jwt?.payload,
    rejectUnauthenticated: false,
  },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get("authorization") }),
  },
});
