#!/bin/sh
# A hot standby of the primary: cloned once with `pg_basebackup -R` (streaming, so it follows the primary
# from then on), then started; later starts keep the clone. Extra arguments go to `postgres`.
#   PGDATA         the standby's data directory (empty or absent the first time)
#   PRIMARY_HOST   the primary's host name or socket directory; PRIMARY_PORT (5432)
#   PGUSER, PGPASSWORD   a role with REPLICATION on the primary (libpq reads them)
set -eu
: "${PGDATA:?PGDATA names the standby data directory}"
: "${PRIMARY_HOST:?PRIMARY_HOST names the primary}"
port="${PRIMARY_PORT:-5432}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    tries=0
    until pg_isready -q -h "$PRIMARY_HOST" -p "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -ge "${PRIMARY_WAIT_SECONDS:-120}" ]; then
            echo "standby: the primary at $PRIMARY_HOST:$port is not ready" >&2
            exit 1
        fi
        sleep 1
    done
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    # -R writes primary_conninfo and standby.signal; -X stream copies the WAL made during the backup
    pg_basebackup -h "$PRIMARY_HOST" -p "$port" -D "$PGDATA" -R -X stream -c fast
    # a clone of a primary whose socket lives in its data directory carries the socket's lock file
    rm -f "$PGDATA"/.s.PGSQL.*.lock
fi
exec postgres -D "$PGDATA" "$@"
