#!/usr/bin/env bash
# s07_descriptor_exhaustion.sh - issue 9, item 7: the producer drops many small files at once,
# more than the descriptor limit. A batch used to hold up to 2000 open files per worker: with
# `ulimit -n 1024` and thousands of small files `--once` exited 1. Safe outcome: sluice raises
# its soft limit to the hard limit at start, holds a bounded number of descriptors, treats
# EMFILE as back-pressure, and loads every file; --once exits 0.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
NFILES=5000
as_producer bash -c '
    for ((i = 1; i <= $2; i++)); do
        printf "%s\nf%d,2026-01-01 00:00:00,view,1,1.00,1,s\n" "$3" "$i" >"$1/.f$i.part"
        mv "$1/.f$i.part" "$1/f$i.csv"
    done' _ "$D/input" "$NFILES" "$HEADER"
ING=(--db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error")

# The soft limit is raised to the hard one at start.
mkdir -p "$WORK/empty"
(ulimit -Sn 256 && ulimit -Hn 4096 && exec "$SLUICE_BIN" ingest "${ING[@]}" --input-dir "$WORK/empty" \
    --checkpoint-dir "$WORK/ck0" 2>"$WORK/idle.log") &
idle=$!
wait_for 20 grep -q watching "$WORK/idle.log"
expect_eq "soft limit raised to the hard limit" \
    "$(awk '/Max open files/ { print $4 "/" $5 }' "/proc/$idle/limits")" "4096/4096"
kill -TERM "$idle"
wait "$idle"

# A hard limit of 1024 and 5000 files.
capture timeout -k 2 300 bash -c 'ulimit -n 1024 && exec "$@"' _ "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "ingest --once under ulimit -n 1024 exits 0" "$RC" 0
expect_eq "no descriptor error ends the run" "$(grep -c 'Too many open files' <<<"$ERR")" 0
expect_eq "every file is loaded" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'"):$(psql_q "SELECT count(*) FROM user_activity")" \
    "$NFILES:$NFILES"
finish
