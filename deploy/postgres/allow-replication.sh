#!/bin/sh
# Primary, first start only (/docker-entrypoint-initdb.d): let POSTGRES_USER stream WAL to a standby over
# the network. The image's own pg_hba line (`host all all all`) does not match replication connections.
set -eu
printf 'host replication %s all scram-sha-256\n' "${POSTGRES_USER:-postgres}" >> "$PGDATA/pg_hba.conf"
