// A real third-party OIDC provider (npm oidc-provider) on loopback for FIR graph's interop test.
// Client credentials; JWT access tokens through the resource indicators feature.
// Usage: node oidc_provider.mjs PORT   (prints "ready <issuer>" once listening; stops on SIGTERM or after 10 min)
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
export const RESOURCE = "urn:fir:graph";
export const AUDIENCE = "fir-graph";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "interop-1", use: "sig", alg: "RS256" };

const clients = [
  { client_id: "supplier-portal", client_secret: "supplier-secret", scope: "fir:read" },
  { client_id: "maker-106c", client_secret: "maker-secret", scope: "fir:publish", manufacturer: "106C" },
  { client_id: "secas", client_secret: "secas-secret", scope: "fir:admin" },
];

const provider = new Provider(issuer, {
  clients: clients.map(({ client_id, client_secret, scope }) => ({
    client_id, client_secret, scope,
    grant_types: ["client_credentials"], redirect_uris: [], response_types: [],
  })),
  scopes: ["openid", "fir:read", "fir:publish", "fir:admin"],
  jwks: { keys: [jwk] },
  ttl: { ClientCredentials: 300 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
        return {
          scope: "fir:read fir:publish fir:admin",
          audience: AUDIENCE,
          accessTokenTTL: 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
  extraTokenClaims: (_ctx, token) => {
    const client = clients.find((c) => c.client_id === token.clientId);
    return client?.manufacturer ? { fir_manufacturer: client.manufacturer } : undefined;
  },
});

const server = provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setTimeout(stop, 10 * 60 * 1000).unref();
