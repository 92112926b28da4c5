#!/usr/bin/env bash
# measure-memory.sh - peak RSS of `sluice ingest --once` for a single 1,000,000-row file, for a
# backlog of 20,000 generated files, and for a hot folder of 1,000,000 one-row files waiting at
# start, measured by /usr/bin/time -v against a throwaway PostgreSQL.
# Prints the figures and exits non-zero when one is over LIMIT_MB (64) or a file was not loaded.
#   ROWS=1000000 FILES=20000 BACKLOG=1000000 LIMIT_MB=64 scripts/measure-memory.sh
# (BACKLOG=0 skips the last one, which takes some minutes.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SLUICE=${SLUICE_BIN:-build/sluice}
ROWS=${ROWS:-1000000}
FILES=${FILES:-20000}
BACKLOG=${BACKLOG:-1000000}
LIMIT_MB=${LIMIT_MB:-64}

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-mem.XXXXXX")" && pwd -P)
chmod 755 "$work"
trap '"$SLUICE" db stop --pg-dir "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
db=$("$SLUICE" db start --pg-dir "$work/pg" --pg-port $((20000 + RANDOM % 20000)) --fast 2>/dev/null)

# peak_kb ARGS...: the ingester's maximum resident set size in KiB.
peak_kb() {
    /usr/bin/time -v "$SLUICE" ingest --once --db "$db" --log-level warn "$@" 2>&1 >/dev/null |
        awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
}

"$SLUICE" generate --input-dir "$work/one" --temp-dir "$work/tmp" --files 1 --rows-per-file "$ROWS" \
    --interval 0 --bad-ratio 0.01 --log-level warn
one=$(peak_kb --input-dir "$work/one" --checkpoint-dir "$work/ck1" --error-dir "$work/err")

"$SLUICE" generate --input-dir "$work/many" --temp-dir "$work/tmp" --files "$FILES" --rows-per-file 5 \
    --interval 0 --log-level warn
many=$(peak_kb --input-dir "$work/many" --checkpoint-dir "$work/ck2" --error-dir "$work/err")

backlog=0
if [ "$BACKLOG" -gt 0 ]; then
    # One-row files written without fsync, then renamed in as one folder.
    scripts/tiny-files.sh "$work/stage" "$BACKLOG" bk
    mv "$work/stage" "$work/backlog"
    t0=$(date +%s)
    backlog=$(peak_kb --input-dir "$work/backlog" --checkpoint-dir "$work/ck3" --error-dir "$work/err")
    echo "backlog of $BACKLOG files loaded in $(($(date +%s) - t0)) s"
fi

loaded=$(psql -XAtq -d "$db" -c "SELECT count(*) FROM ingest_files WHERE status = 'done'")
status=0
report() {
    local mb
    mb=$(awk -v k="$2" 'BEGIN { printf "%.1f", k / 1024 }')
    local verdict=ok
    awk -v k="$2" -v l="$LIMIT_MB" 'BEGIN { exit !(k / 1024 <= l) }' || { verdict="OVER ${LIMIT_MB} MB"; status=1; }
    printf 'peak RSS, %-34s %8s MB  %s\n' "$1:" "$mb" "$verdict"
}
report "one file of $ROWS rows" "$one"
report "a backlog of $FILES files" "$many"
[ "$BACKLOG" -gt 0 ] && report "$BACKLOG files waiting at start" "$backlog"
echo "files done in the ledger: $loaded (expected $((FILES + 1 + BACKLOG)))"
[ "$loaded" = $((FILES + 1 + BACKLOG)) ] || status=1
exit $status
