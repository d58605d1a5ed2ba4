// The benchmark's load generator: autocannon in its own process, so that it never shares an event loop
// (or a GIL) with the gateway it measures. Reads a JSON spec file, prints one JSON result on stdout.
//
// spec: { url, headers, bodies: [string], connections, duration?, amount? }
// Bodies are handed out round-robin across all connections (one shared counter), so 64 connections
// spread over the identities instead of walking the same list in lockstep.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

// autocannon lives with the other Node.js peers (tests/peers/node_modules), not next to this file.
const autocannon = createRequire(new URL('../peers/package.json', import.meta.url))('autocannon')

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'))
let next = 0
// autocannon's own histogram keeps whole milliseconds; the response event carries the exact time.
const latencies = []
const statuses = {}

const options = {
  url: spec.url,
  method: 'POST',
  connections: spec.connections,
  headers: { ...spec.headers, 'content-type': 'application/json' },
  requests: [{ setupRequest: (req) => ({ ...req, body: spec.bodies[next++ % spec.bodies.length] }) }],
  timeout: 30,
}
if (spec.amount) options.amount = spec.amount
else options.duration = spec.duration

const started = process.hrtime.bigint()
const instance = autocannon(options)
instance.on('response', (_client, status, _bytes, ms) => {
  latencies.push(ms)
  statuses[status] = (statuses[status] || 0) + 1
})
const result = await instance
const seconds = Number(process.hrtime.bigint() - started) / 1e9

process.stdout.write(JSON.stringify({
  seconds,
  latencies,
  statuses,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
}))
