#!/usr/bin/env bash
# Restore drill: prove a backup of deploy/backup.sh restores. README, "Backups".
#
#   deploy/envfile.py /etc/illgateway/illgateway.env deploy/restore-drill.sh /var/backups/illgateway/20261128T013000Z
#
# Checks the checksums, restores the dump into a FRESH database (RESTORE_DATABASE_URL; by
# default DATABASE_URL's server, database "<name>_restore_drill", dropped and re-created; the
# live database is never touched), unpacks the media files into a temporary folder, then
# compares rows per table, the ledger's sums and the media file count with counts.txt, which
# backup.sh took in the dump's own snapshot. With the application's environment (SECRET_KEY
# set) it also runs `manage.py check_ledger` on the restored database. Exits non-zero, naming
# each difference, when anything disagrees. The restored database is left for inspection
# (KEEP_RESTORED=0 drops it).
set -euo pipefail

BACKUP=${1:?usage: restore-drill.sh BACKUP_FOLDER}
: "${DATABASE_URL:?DATABASE_URL is not set (run it through deploy/envfile.py)}"
HERE=$(cd "$(dirname "$0")" && pwd)
APP=$(dirname "$HERE")
PYTHON=${PYTHON:-$APP/.venv/bin/python}

server_url() { local url=${1%%\?*}; echo "${url%/*}"; }
database_name() { local url=${1%%\?*}; echo "${url##*/}"; }

LIVE_NAME=$(database_name "$DATABASE_URL")
RESTORE_URL=${RESTORE_DATABASE_URL:-$(server_url "$DATABASE_URL")/${LIVE_NAME}_restore_drill}
RESTORE_NAME=$(database_name "$RESTORE_URL")
if [ "$RESTORE_NAME" = "$LIVE_NAME" ] && [ "$(server_url "$RESTORE_URL")" = "$(server_url "$DATABASE_URL")" ]; then
  echo "restore-drill: RESTORE_DATABASE_URL is the live database; refusing" >&2
  exit 2
fi
case "$RESTORE_NAME" in
  ""|*[!A-Za-z0-9_]*) echo "restore-drill: a plain database name is needed, not '$RESTORE_NAME'" >&2; exit 2 ;;
esac

echo "restore-drill: checking $BACKUP"
(cd "$BACKUP" && sha256sum --quiet --check SHA256SUMS)

echo "restore-drill: restoring into $RESTORE_NAME"
psql -X -q -v ON_ERROR_STOP=1 "$(server_url "$RESTORE_URL")/postgres" <<SQL
DROP DATABASE IF EXISTS "$RESTORE_NAME" WITH (FORCE);
CREATE DATABASE "$RESTORE_NAME";
SQL
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$RESTORE_URL" "$BACKUP/database.dump"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
psql -X -q -A -t -v ON_ERROR_STOP=1 -f "$HERE/counts.sql" "$RESTORE_URL" >"$WORK/restored.txt"
mkdir "$WORK/media"
tar -xzf "$BACKUP/media.tar.gz" -C "$WORK/media"
echo "media_files $(find "$WORK/media" -type f | wc -l)" >>"$WORK/restored.txt"

if ! diff -u --label "backup (counts.txt)" --label "restored" "$BACKUP/counts.txt" "$WORK/restored.txt"; then
  echo "restore-drill: FAILED: the restored data differs from the backup (above)" >&2
  exit 1
fi
TABLES=$(grep -c '^rows ' "$WORK/restored.txt")
echo "restore-drill: $TABLES tables, the same rows in each; $(grep -E '^(ledger_entries|ledger_amount_sum|account_balance_sum|media_files) ' "$WORK/restored.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"

if [ -n "${SECRET_KEY:-}" ] || [ "${DEBUG:-}" = "true" ]; then
  echo "restore-drill: manage.py check_ledger on the restored database"
  (cd "$APP" && DATABASE_URL="$RESTORE_URL" "$PYTHON" manage.py check_ledger)
else
  echo "restore-drill: check_ledger skipped (no application environment: run through deploy/envfile.py)"
fi

if [ "${KEEP_RESTORED:-1}" = "0" ]; then
  psql -X -q "$(server_url "$RESTORE_URL")/postgres" -c "DROP DATABASE \"$RESTORE_NAME\" WITH (FORCE)"
fi
echo "restore-drill: OK"
