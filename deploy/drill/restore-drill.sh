#!/usr/bin/env bash
# The restore drill: bring the newest base backup and the WAL archive back as a new server on a
# spare port, to a moment of your choosing (point-in-time recovery), and check the audit chain
# there. Times every step. Touches nothing of the running deployment: run it on the backup host
# (or any host with the same PostgreSQL major version), as the postgres user or as root (the
# server then runs as PG_OS_USER, default postgres).
#
#   BACKUP_DIR=/var/backups/carerounds WAL_ARCHIVE=/var/backups/carerounds/wal \
#   TARGET_TIME='2026-12-06 01:40:00+00' PORT=55432 deploy/drill/restore-drill.sh
#
# TARGET_TIME empty: everything archived. CARE: the `carerounds` program (audit verify runs with
# DATABASE_URL pointing at the restored server). Leaves the restored server running on PORT
# (stop it with `pg_ctl -D $RESTORE_DIR stop`) unless KEEP_RUNNING=no.
set -euo pipefail
: "${BACKUP_DIR:?}" "${WAL_ARCHIVE:?}"
PORT=${PORT:-55432} RESTORE_DIR=${RESTORE_DIR:-/var/tmp/carerounds-restore} DATABASE=${DATABASE:-carerounds}
CARE=${CARE:-/opt/carerounds/venv/bin/carerounds} KEEP_RUNNING=${KEEP_RUNNING:-no}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "${PG_OS_USER:-postgres}" -- "$@"; else "$@"; fi; }
bin() { if [ -n "${PGBIN:-}" ]; then echo "$PGBIN/$1"; else command -v "$1"; fi; }
now() { date +%s%N; }
step() { local ns=$(( $(now) - $2 )); printf '%-34s %5d.%d s\n' "$1" $((ns / 1000000000)) $((ns / 100000000 % 10)); }
drill=$(now)

backup=$(ls -1d "$BACKUP_DIR"/base-* | grep -v '\.partial$' | sort | tail -n1)
echo "restoring $backup to ${TARGET_TIME:-the end of the archive} on port $PORT"
[ ! -e "$RESTORE_DIR" ] || { echo "$RESTORE_DIR exists; remove it first" >&2; exit 1; }

start=$(now)
as_pg mkdir -m 0700 -p "$RESTORE_DIR"
as_pg tar -xzf "$backup/base.tar.gz" -C "$RESTORE_DIR"
as_pg mkdir -p "$RESTORE_DIR/pg_wal"
as_pg tar -xzf "$backup/pg_wal.tar.gz" -C "$RESTORE_DIR/pg_wal"
step "unpack base backup" "$start"

# Recovery: WAL from the archive up to the target, then a new timeline, open for writes.
as_pg tee -a "$RESTORE_DIR/postgresql.auto.conf" >/dev/null <<CONF
restore_command = 'cp $WAL_ARCHIVE/%f %p'
recovery_target_action = 'promote'
${TARGET_TIME:+recovery_target_time = '$TARGET_TIME'}
archive_mode = off
CONF
as_pg touch "$RESTORE_DIR/recovery.signal"
start=$(now)
as_pg "$(bin pg_ctl)" -D "$RESTORE_DIR" -l "$RESTORE_DIR/restore.log" -w -t 3600 \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -k $RESTORE_DIR" start >/dev/null
until [ "$("$(bin psql)" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()')" = f ]; do
  sleep 0.2
done
step "replay WAL to target, promote" "$start"
grep -E "recovery stopping|last completed transaction|redo done" "$RESTORE_DIR/restore.log" | sed 's/^/  /' || true

start=$(now)
"$(bin psql)" -h 127.0.0.1 -p "$PORT" -U postgres -d "$DATABASE" -Atc \
  "SELECT 'audit entries: ' || count(*) || ', newest ' || max(at) || '; tasks: ' || (SELECT count(*) FROM tasks) FROM audit_trail" || true
DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/$DATABASE" "$CARE" audit verify
step "carerounds audit verify" "$start"
step "whole drill" "$drill"

if [ "$KEEP_RUNNING" != yes ]; then
  as_pg "$(bin pg_ctl)" -D "$RESTORE_DIR" -m fast -w stop >/dev/null
  rm -rf "$RESTORE_DIR"
fi
