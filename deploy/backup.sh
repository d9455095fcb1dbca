#!/usr/bin/env bash
# The gateway's backup: the database (pg_dump, custom format) and the media files, with what
# they must contain, for deploy/restore-drill.sh to check. README, "Backups".
#
#   deploy/envfile.py /etc/illgateway/illgateway.env deploy/backup.sh /var/backups/illgateway
#
# Reads DATABASE_URL and MEDIA_ROOT (the application's environment). Writes, into a folder of
# its own named by the time (UTC), e.g. /var/backups/illgateway/20261128T013000Z/:
#   database.dump   pg_dump --format=custom (restore with pg_restore, any table alone too)
#   media.tar.gz    the files under MEDIA_ROOT (an empty archive when there are none)
#   counts.txt      rows per table and the ledger's sums, taken in the dump's own snapshot
#   SHA256SUMS      checksums of the three
# The folder appears whole or not at all (written under a temporary name, then renamed).
# KEEP_DAYS (default 14): older backup folders are deleted after a successful backup.
# Copy the folders off the machine (another site): a backup beside the database is no backup.
set -euo pipefail
umask 077

DEST=${1:?usage: backup.sh DESTINATION_FOLDER}
: "${DATABASE_URL:?DATABASE_URL is not set (run it through deploy/envfile.py)}"
HERE=$(cd "$(dirname "$0")" && pwd)
KEEP_DAYS=${KEEP_DAYS:-14}
MEDIA=${MEDIA_ROOT:-}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$DEST"
WORK="$DEST/.$STAMP.partial"
rm -rf "$WORK"
mkdir "$WORK"
trap 'rm -rf "$WORK"; [ -n "${PSQL_CHILD:-}" ] && kill "$PSQL_CHILD" 2>/dev/null || true' EXIT

# One snapshot for the dump and the counts: a read-only transaction exports it and stays open
# while pg_dump reads the same snapshot, then the counts are taken in that transaction.
coproc PSQL { psql -X -q -A -t -v ON_ERROR_STOP=1 "$DATABASE_URL" 2>&1; }
# Bash unsets PSQL_PID as soon as it reaps the coprocess, which may be before `wait` below
# (psql ends the moment its input closes): keep the number in a variable of our own.
PSQL_CHILD=$PSQL_PID
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" >&"${PSQL[1]}"
read -r SNAPSHOT <&"${PSQL[0]}"
case "$SNAPSHOT" in
  *-*) ;;
  *) echo "backup: could not start a snapshot: $SNAPSHOT" >&2; exit 1 ;;
esac

pg_dump --format=custom --no-owner --no-privileges --snapshot="$SNAPSHOT" \
  --file="$WORK/database.dump" "$DATABASE_URL"

{ cat "$HERE/counts.sql"; echo "\\echo __END__"; } >&"${PSQL[1]}"
ENDED=
while read -r line <&"${PSQL[0]}"; do
  [ "$line" = "__END__" ] && { ENDED=1; break; }
  case "$line" in
    "rows "*|ledger_*|account_*|request_*) echo "$line" >>"$WORK/counts.txt" ;;
    ?*) echo "backup: the counts failed: $line" >&2; exit 1 ;;
  esac
done
[ -n "$ENDED" ] || { echo "backup: psql ended before the counts were taken" >&2; exit 1; }
echo "COMMIT;" >&"${PSQL[1]}"
exec {PSQL[1]}>&-
wait "$PSQL_CHILD" 2>/dev/null || true
unset PSQL_CHILD

if [ -n "$MEDIA" ] && [ -d "$MEDIA" ]; then
  tar -C "$MEDIA" -czf "$WORK/media.tar.gz" .
  echo "media_files $(find "$MEDIA" -type f | wc -l)" >>"$WORK/counts.txt"
else
  tar -czf "$WORK/media.tar.gz" -T /dev/null
  echo "media_files 0" >>"$WORK/counts.txt"
fi

(cd "$WORK" && sha256sum database.dump media.tar.gz counts.txt >SHA256SUMS)
mv "$WORK" "$DEST/$STAMP"
echo "backup: $DEST/$STAMP ($(du -sh "$DEST/$STAMP" | cut -f1))"

# Only after a good backup: forget the old ones.
find "$DEST" -mindepth 1 -maxdepth 1 -type d -name '20*Z' -mtime +"$KEEP_DAYS" -exec rm -rf {} +
