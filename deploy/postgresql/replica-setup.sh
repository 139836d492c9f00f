#!/usr/bin/env bash
# Make this host a streaming replica of the primary (run as postgres, on an empty data dir).
# PRIMARY: the primary's address; a role with REPLICATION in ~/.pgpass; slot name per replica.
set -euo pipefail
PRIMARY=${PRIMARY:?the primary host} PGDATA=${PGDATA:-/var/lib/postgresql/15/main}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin} SLOT=${SLOT:-carerounds_replica1}
"$PGBIN/pg_basebackup" -h "$PRIMARY" -U backup -D "$PGDATA" -R -X stream -C -S "$SLOT" -c fast -P
echo "now start PostgreSQL on this host; check with: SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp();"
