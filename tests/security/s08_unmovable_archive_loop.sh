#!/usr/bin/env bash
# s08_unmovable_archive_loop.sh - issue 9, item 8, the archiver's half: a committed file whose
# name is the longest a folder allows, with that name taken in the archive, so the clash suffix
# makes the name too long and the move can never succeed. Safe outcome: the archiver running its
# one-second passes keeps going, moves the other files, and logs the failed move once per file
# per minute (before: once per pass, and an --once loop elsewhere made 480,000 lines in 3 s).
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
{ echo "$HEADER"; rows ok 2; } | drop_as_producer "$D/input" ok.csv
# A 255-byte name, its twin already in the archive.
long=$(printf 'L%.0s' {1..251}).csv
{ echo "$HEADER"; rows long 1; } | drop_as_producer "$D/input" "$long"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error"
expect_eq "the long-named file loads" \
    "$(psql_q "SELECT status FROM ingest_files WHERE file_name = '$long'")" "done"
mkdir -p "$D/archive"
echo taken >"$D/archive/$long"
touch -d '-2 hours' "$D/input/$long" "$D/input/ok.csv"
"$SLUICE_BIN" archive --db "$SLUICE_DB" --input-dir "$D/input" --archive-dir "$D/archive" \
    --min-age 0 2>"$WORK/archive.log" &
apid=$!
# Let it make several one-second passes: ok.csv moves in the first.
wait_for 20 test -f "$D/archive/ok.csv"
expect_eq "the archiver moved the movable file" "$(ls "$D/archive" | grep -c '^ok.csv$')" 1
passes_until=$((SECONDS + 4))
while [ "$SECONDS" -lt "$passes_until" ]; do sleep 0.5; done # a 4-second window of passes
kill -TERM "$apid"
wait "$apid"
expect_eq "the archiver keeps running and stops cleanly" "$?" 0
expect_eq "the failed move is logged once by the file layer" \
    "$(grep -c "cannot move '$long'" "$WORK/archive.log")" 1
expect_eq "and once by the archiver" "$(grep -c "'$long' stays in the hot folder" "$WORK/archive.log")" 1
check "the long-named file is still in the hot folder" test -f "$D/input/$long"
expect_eq "the archive's file of that name is untouched" "$(cat "$D/archive/$long")" taken
finish
