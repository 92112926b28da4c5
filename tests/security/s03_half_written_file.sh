#!/usr/bin/env bash
# s03_half_written_file.sh - issue 9, item 3: a producer that writes in place (no temporary
# name and rename) is caught mid-write: the last row has no newline yet ("...,12" of what will
# be "...,123.50"). It used to be accepted as 12. Safe outcome: a file whose last row has no
# final newline is left alone until it has been unchanged for --settle-time; once complete it
# loads with the right value, each row once; a file that really ends without a newline loads
# after the settle time.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
ING=(--db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error"
    --settle-time 30)
# Price last (columns may come in any order), so the cut row is a valid row with a wrong price.
H2='event_id,event_time,event_type,product_id,user_id,session_id,price'
as_producer bash -c 'printf "%s\n%s" "$1" "p1,2026-01-01 00:00:00,purchase,1,1,s,12" >"$2"' _ \
    "$H2" "$D/input/inplace.csv"
capture "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "ingest --once exits 0" "$RC" 0
expect_eq "the unfinished row is not stored" "$(psql_q "SELECT count(*) FROM user_activity")" 0
expect_eq "nor a dead letter for it" "$(psql_q "SELECT count(*) FROM user_activity_errors")" 0
expect_eq "the file is not in the ledger yet" "$(psql_q "SELECT count(*) FROM ingest_files")" 0

as_producer bash -c 'printf "3.50\n" >>"$1"' _ "$D/input/inplace.csv"
capture "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "the completed row loads with its whole value" \
    "$(psql_q "SELECT event_id || '|' || price FROM user_activity")" "p1|123.50"
expect_eq "no dead letters" "$(psql_q "SELECT count(*) FROM user_activity_errors")" 0

# A file that ends without a newline and has not changed for the settle time loads.
as_producer bash -c 'printf "%s\n%s" "$1" "q1,2026-01-01 00:00:00,view,1,2.00,1,s" >"$2" &&
    touch -d "-1 minute" "$2"' _ "$HEADER" "$D/input/settled.csv"
capture "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "a settled file without a final newline loads" \
    "$(psql_q "SELECT price FROM user_activity WHERE event_id = 'q1'")" "2.00"
finish
