#!/usr/bin/env bash
# t_ledger.sh - the ledger module's own test (tests/db/dbtest_ledger.c) against a throwaway
# cluster: claims, compare-and-set, re-drops, archiver paging, stalled-claim freeing, each for two
# target tables sharing the database and the file names. Then the same through the binary: the
# archiver and status of one table's pipeline leave another's files alone.
source "$(dirname "$0")/lib.sh"

pg_start
ledger_test="$(dirname "$SLUICE_BIN")/dbtest_ledger"
capture "$ledger_test"
printf '%s\n' "$OUT"
[ -n "$ERR" ] && printf '%s\n' "$ERR" | sed 's/^/       /'
expect_eq "dbtest_ledger passes" "$RC" 0
expect_match "dbtest_ledger ran its checks" "$OUT" " 0 failed"
psql_q "TRUNCATE ingest_files"

# Two pipelines, two folders holding the same three files: user_activity's loads them; the
# other table's (sales.orders) has loaded none of them.
psql_q "CREATE SCHEMA sales; CREATE TABLE sales.orders (id int)" >/dev/null
A=$WORK/a B=$WORK/b
"$SLUICE_BIN" generate --input-dir "$A" --temp-dir "$WORK/tmp" --files 3 --rows-per-file 20 \
    --interval 0 --seed 3 --log-level warn
mkdir -p "$B" && cp -p "$A"/*.csv "$B"/
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$A" --checkpoint-dir "$WORK/ck" \
    --error-dir "$WORK/err" --log-level warn
expect_eq "user_activity's pipeline loads its 3 files" \
    "$RC $(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'
                   AND target_table = 'public.user_activity'")" "0 3"
capture "$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" --input-dir "$B" \
    --archive-dir "$WORK/arch-b" --table sales.orders
expect_eq "sales.orders' archiver moves none of the same names: they are not its" \
    "$RC $OUT $(ls "$B" | wc -l)" "0 archived 0 files 3"
capture "$SLUICE_BIN" status --db "$SLUICE_DB" --input-dir "$B" --table sales.orders --json
expect_match "sales.orders' status has them pending" "$OUT" '"files_pending":3'
capture "$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" --input-dir "$A" \
    --archive-dir "$WORK/arch-a"
expect_eq "user_activity's archiver moves its 3" "$RC $OUT $(ls "$A" | wc -l)" "0 archived 3 files 0"
capture "$SLUICE_BIN" archive --once --db "$SLUICE_DB" --input-dir "$A" --archive-dir "$WORK/x" \
    --table sales.nosuch
expect_eq "an archiver for a table that does not exist: exit 1" "$RC" 1
expect_match "and it says to create it" "$ERR" 'table "sales"."nosuch" does not exist: create it first'
finish
