// The GraphQL over HTTP reference audit (graphql-http's auditServer) against a URL given as argv[2].
// Prints one JSON line: every audit's id, name, status and (for failures) reason.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql_http_audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const report = results.map((r) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  ...(r.status === 'ok' ? {} : { reason: r.reason, httpStatus: r.response?.status }),
}));
console.log(JSON.stringify(report));
