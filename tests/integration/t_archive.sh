#!/usr/bin/env bash
# t_archive.sh - the archiver moves only committed files (the ledger decides, not age), never
# overwrites, and leaves a file whose content changed under the same name; then `sluice run`
# end to end: generator, ingester and archiver in one process, everything accounted for.
source "$(dirname "$0")/lib.sh"
pg_start

D=$WORK/data
mkdir -p "$D/input"
ARC=("$SLUICE_BIN" archive --db "$SLUICE_DB" --input-dir "$D/input" --archive-dir "$D/archive")
"$SLUICE_BIN" generate --input-dir "$D/input" --temp-dir "$D/temp" --files 3 --rows-per-file 10 \
    --interval 0 --seed 11 2>/dev/null
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "ingest exits 0" "$RC" 0

# Files that are not committed: a new one, and a committed name whose content changed.
printf 'event_id,event_time,event_type,product_id,price,user_id,session_id\n' >"$D/input/late.csv"
changed=$(ls "$D/input" | head -n 1)
echo "n-1,2026-01-01 00:00:00,view,1,1.00,1,s" >>"$D/input/$changed"
# A name clash in the archive: an older file of the same name is already there.
second=$(ls "$D/input" | sed -n 2p)
mkdir -p "$D/archive"
echo "older" >"$D/archive/$second"

capture "${ARC[@]}" --once --min-age 3600
expect_eq "archive --once exits 0" "$RC" 0
expect_eq "--min-age 3600: nothing is old enough" "$(ls "$D/input" | wc -l)" 4

capture "${ARC[@]}" --once --min-age 0
expect_eq "archive --once --min-age 0 exits 0" "$RC" 0
expect_eq "uncommitted files stay in the hot folder" "$(ls "$D/input" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$changed" late.csv | sort | tr '\n' ' ')"
expect_eq "committed files archived, the clash got a suffix" "$(ls "$D/archive" | wc -l)" 3
check "the older archived file was not overwritten" grep -qx older "$D/archive/$second"
expect_eq "ledger: archived_at and archived_as set" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NOT NULL AND archived_as LIKE '%.1.csv'")" 1
expect_eq "ledger: the changed file's original content is not marked archived" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE archived_at IS NULL")" 1

# --- sluice run: everything together ------------------------------------------------------------
R=$WORK/run
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$R" --seconds 3 --rate 2000 \
    --rows-per-file 100 --bad-ratio 0.02 --min-age 0
expect_eq "run --seconds 3 exits 0" "$RC" 0
generated=$(grep -o 'generated [0-9]* rows' <<<"$ERR" | grep -o '[0-9]*')
check "run generated rows" test "${generated:-0}" -gt 1000
expect_eq "run: every generated row is in one of the tables" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)")" \
    "$generated"
expect_eq "run: the hot folder is empty (all archived)" "$(ls "$R/input" | wc -l)" 0
expect_eq "run: every file archived" \
    "$(psql_q "SELECT count(*) FILTER (WHERE archived_at IS NULL), count(*) > 10 FROM ingest_files")" "0|t"
check "run: metrics file written" grep -q '^sluice_rows_loaded_total ' "$R/checkpoints/metrics.prom"

finish
