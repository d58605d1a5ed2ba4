#!/usr/bin/env bash
# Regenerate deploy/supergraph.graphql from schema.graphql with Apollo's composition (tests/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
node tests/peers/compose.mjs schema.graphql --url http://gateway:8000/graphql --fir-only \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"], d; sys.stdout.write(d["supergraph"])' \
  > deploy/supergraph.graphql
