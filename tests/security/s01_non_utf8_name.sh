#!/usr/bin/env bash
# s01_non_utf8_name.sh - issue 9, item 1: the producer drops a file whose name is not UTF-8
# (b\xfe1.csv). It used to make every ledger statement of its batch fail (SQLSTATE 22021) and the
# batch retry forever: no file loaded again, not even later ones. Safe outcome: the name is kept
# losslessly in the ledger as 'b\xfe1.csv' (the raw_line escape), its rows load, the files of the
# same batch and files arriving later load, and the run ends normally.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
ING=(--db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error")
{ echo "$HEADER"; rows bad 2; } | drop_as_producer "$D/input" $'b\xfe1.csv'
{ echo "$HEADER"; rows same 3; } | drop_as_producer "$D/input" same_batch.csv
capture timeout -k 2 60 "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "ingest --once ends, exit 0" "$RC" 0
expect_eq "no statement failed on the name's encoding" "$(grep -c '22021\|invalid byte sequence' <<<"$ERR")" 0
expect_eq "the ledger keeps the name losslessly" \
    "$(psql_q "SELECT file_name || '|' || status || '|' || rows_loaded FROM ingest_files ORDER BY 1")" \
    'b\xfe1.csv|done|2
same_batch.csv|done|3'
expect_eq "rows of both files loaded" \
    "$(psql_q "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM user_activity")" \
    "bad1,bad2,same1,same2,same3"

{ echo "$HEADER"; rows later 1; } | drop_as_producer "$D/input" later.csv
capture timeout -k 2 60 "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "a file arriving later loads too" \
    "$RC:$(psql_q "SELECT count(*) FROM user_activity WHERE event_id = 'later1'")" "0:1"
expect_eq "and the odd name is not loaded twice" "$(psql_q "SELECT count(*) FROM user_activity")" 6

# The archiver finds the file under its real bytes from the encoded ledger name.
touch -d '-2 hours' "$D/input/"*.csv
capture "$SLUICE_BIN" archive --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --archive-dir "$D/archive" --min-age 0
check "the odd name is archived under its own bytes" test -f "$D/archive/"$'b\xfe1.csv'
expect_eq "archived_as is encoded like file_name" \
    "$(psql_q "SELECT archived_as FROM ingest_files WHERE file_name LIKE 'b%'")" 'b\xfe1.csv'
finish
