// FIR graph joined by a supplier's meter-asset subgraph, behind two real gateways.
// Usage: [FIR_EDGE_ISSUER=... FIR_EDGE_JWKS=...] node federation.mjs FIR_GRAPHQL_URL [--seconds N]
// Starts the meters subgraph, reads FIR graph's live `_service { sdl }`, composes both with Apollo's
// composition, starts @apollo/gateway (in Apollo Server) and Hive Gateway on free loopback ports (and,
// given an issuer, Hive Gateway again with deploy/hive-gateway.config.ts, which checks scopes itself),
// prints one JSON line {"apollo", "hive", "hiveEdge", "meters", "hints"}, runs until stdin closes or N seconds
// (default 300) pass, whichever is first; then it stops everything it started.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";
import { metersServer, typeDefs as metersSdl } from "./meters.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST = "127.0.0.1";
const firUrl = process.argv[2];
const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 300);
const children = [];
// inside node_modules: a config copied here imports @graphql-hive/gateway as it would in the image
mkdirSync(join(HERE, "node_modules", ".cache"), { recursive: true });
const scratch = mkdtempSync(join(HERE, "node_modules", ".cache", "fir-federation-"));

function stop(code) {
  for (const child of children) child.kill("SIGTERM");
  rmSync(scratch, { recursive: true, force: true });
  process.exit(code);
}
setTimeout(() => stop(0), seconds * 1000).unref();
process.stdin.on("end", () => stop(0));
process.stdin.resume();
process.on("SIGTERM", () => stop(0));

async function firSdl() {
  const response = await fetch(firUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  return (await response.json()).data._service.sdl;
}

async function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// @apollo/gateway refuses a supergraph linking a feature `for: SECURITY` that it cannot enforce
// (requiresScopes is enforced only by GraphOS Router, under an Enterprise licence). FIR graph enforces
// every scope rule itself, so this gateway gets the same supergraph with the link's purpose dropped:
// it then carries @requiresScopes as plain metadata and forwards the token.
const withoutSecurityPurpose = (sdl) =>
  sdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/requiresScopes\/v[\d.]+"), for: SECURITY\)/, "$1)");

async function apolloGateway(supergraphSdl) {
  const gateway = new ApolloGateway({
    supergraphSdl: withoutSecurityPurpose(supergraphSdl),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http.headers.set("authorization", context.authorization);
        },
      }),
  });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: HOST },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return url;
}

async function hiveGateway(supergraphSdl, config, env = {}) {
  const file = join(scratch, "supergraph.graphql");
  writeFileSync(file, supergraphSdl);
  const port = await freePort();
  const bin = join(HERE, "node_modules", "@graphql-hive", "gateway", "dist", "bin.js");
  const args = [bin, "supergraph", file, "--host", HOST, "--port", String(port), "--polling", "1h"];
  const child = spawn(process.execPath, [...args, "-c", config], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const base = `http://${HOST}:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`hive-gateway exited with ${child.exitCode}`);
    const ready = await fetch(`${base}/readiness`).then((r) => r.ok, () => false);
    if (ready) return `${base}/graphql`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("hive-gateway did not become ready");
}

function deployConfig() {
  const copy = join(scratch, "gateway.config.ts");
  copyFileSync(join(HERE, "..", "..", "deploy", "hive-gateway.config.ts"), copy);
  return copy;
}

try {
  const { url: metersUrl } = await startStandaloneServer(metersServer(), { listen: { port: 0, host: HOST } });
  const composed = composeServices([
    { name: "fir", typeDefs: parse(await firSdl()), url: firUrl },
    { name: "meters", typeDefs: parse(metersSdl), url: metersUrl },
  ]);
  if (composed.errors) {
    console.log(JSON.stringify({ ok: false, errors: composed.errors.map((e) => e.message) }));
    stop(1);
  }
  const hints = composed.hints.map((h) => ({ code: h.definition.code, message: h.message }));
  // the same gateway with docker-compose's configuration: scopes enforced at the edge too
  const edge = { FIR_OIDC_ISSUER: process.env.FIR_EDGE_ISSUER, FIR_OIDC_JWKS_URI: process.env.FIR_EDGE_JWKS };
  const [apollo, hive, hiveEdge] = await Promise.all([
    apolloGateway(composed.supergraphSdl),
    hiveGateway(composed.supergraphSdl, join(HERE, "hive-gateway.config.mjs")),
    edge.FIR_OIDC_ISSUER
      ? hiveGateway(composed.supergraphSdl, deployConfig(), edge)
      : null,
  ]);
  console.log(JSON.stringify({ ok: true, apollo, hive, hiveEdge, meters: metersUrl, hints }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, errors: [String(error?.stack ?? error)] }));
  stop(1);
}
