#!/usr/bin/env bash
# t_fallback.sh - rows that pass sluice's checks but that the server refuses (a trigger that
# raises for 1 row in 1,000, a CHECK with function calls, a foreign key, a deferred foreign key)
# become db_rejected dead letters with the server's SQLSTATE, message, detail and column, exactly
# once; every other row of their batch loads, and the ledger counts them. The rules are in
# tests/data/fallback_rules.sql, with a SQL predicate that says which rows each one refuses.
source "$(dirname "$0")/lib.sh"
pg_start
psql -Xq -v ON_ERROR_STOP=1 -f "$SLUICE_SRC/tests/data/fallback_rules.sql" >/dev/null

IN=$WORK/data/input
mkdir -p "$IN"
ING=("$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/data/ck"
    --error-dir "$WORK/data/error")

# An event id of the form PREFIX-N that the predicate refuses.
refused_id() {
    psql_q "SELECT '$1-' || g FROM generate_series(1, 1000000) g WHERE $2('$1-' || g) LIMIT 1"
}
trg=$(refused_id trg fallback_trigger_refuses)
chk=$(refused_id chk fallback_check_refuses)
check "found ids the trigger and the CHECK refuse" test -n "$trg" -a -n "$chk"
check "the trigger's id passes the CHECK" test "$(psql_q "SELECT fallback_check_refuses('$trg')")" = f

# --- a file written here: one row for each way to be refused, among rows that load ------------
cat >"$IN/mixed.csv" <<CSV
event_id,event_time,event_type,product_id,price,user_id,session_id
ok-1,2026-01-15 10:00:00,view,1,1.00,1,s-1
$trg,2026-01-15 10:00:01,view,2,2.00,2,s-1
ok-2,2026-01-15 10:00:02,view,3,3.00,3,s-1
$chk,2026-01-15 10:00:03,view,4,4.00,4,s-1
fk-1,2026-01-15 10:00:04,purchase,5,5.00,101,s-1
ok-3,2026-01-15 10:00:05,view,6,6.00,6,s-1
col-1,2026-01-15 10:00:06,view,666666,7.00,7,s-1
bad-1,2026-01-15 10:00:07,view,8,-8.00,8,s-1
ok-3,2026-01-15 10:00:08,view,9,9.00,9,s-1
def-1,2026-01-15 10:00:09,view,777777,10.00,10,s-1
ok-4,2026-01-15 10:00:10,purchase,11,11.00,11,s-1
CSV
capture "${ING[@]}"
expect_eq "mixed: ingest exits 0" "$RC" 0
expect_eq "mixed: every other row loads" \
    "$(psql_q "SELECT string_agg(event_id || '/' || price, ' ' ORDER BY event_id) FROM user_activity")" \
    "ok-1/1.00 ok-2/3.00 ok-3/6.00 ok-4/11.00"
expect_eq "mixed: dead letters with the server's SQLSTATE, message, detail and column" \
    "$(psql_q "SELECT line_number, event_id, error_code, coalesce(error_column, 'NULL'), error_message
               FROM user_activity_errors ORDER BY line_number")" \
"3|$trg|db_rejected|NULL|P0001: event $trg is refused by the guard trigger
5|$chk|db_rejected|NULL|23514: new row for relation \"user_activity\" violates check constraint \"user_activity_id_hash\": Failing row contains ($chk, 2026-01-15 10:00:03, view, 4, 4.00, 4, s-1).
6|fk-1|db_rejected|NULL|23503: insert or update on table \"user_activity\" violates foreign key constraint \"user_activity_user_fk\": Key (user_id)=(101) is not present in table \"users\".
8|col-1|db_rejected|product_id|P0001: product 666666 is withdrawn: withdrawn on 2026-01-01
9|bad-1|rule_violation|price|price: '-8.00' violates user_activity_price_check ((price > (0)::numeric))
10|ok-3|duplicate_key|event_id|event_id: 'ok-3' is already loaded
11|def-1|db_rejected|NULL|23503: insert or update on table \"user_activity\" violates foreign key constraint \"user_activity_product_fk\": Key (product_id)=(777777) is not present in table \"products\"."
expect_eq "mixed: a dead letter keeps the row's fields and raw line" \
    "$(psql_q "SELECT event_time, event_type, product_id, price, user_id, session_id, source_file, raw_line
               FROM user_activity_errors WHERE event_id = 'fk-1'")" \
    "2026-01-15 10:00:04|purchase|5|5.00|101|s-1|mixed.csv|fk-1,2026-01-15 10:00:04,purchase,5,5.00,101,s-1"
expect_eq "mixed: ledger counts the refused rows as rejected" \
    "$(psql_q "SELECT status, rows_loaded, rows_rejected FROM ingest_files WHERE file_name = 'mixed.csv'")" \
    "done|4|7"
expect_match "mixed: the log says the batch went careful" "$ERR" "careful mode"
expect_match "mixed: the log counts the refused rows" "$ERR" "5 rows refused by the server"

# --- a key loaded already, met in careful mode: duplicate_key, as the staging path makes it ------
cat >"$IN/again.csv" <<CSV
event_id,event_time,event_type,product_id,price,user_id,session_id
ok-5,2026-01-15 11:00:00,view,1,1.00,1,s-2
ok-1,2026-01-15 11:00:01,view,1,1.50,1,s-2
fk-2,2026-01-15 11:00:02,view,1,1.00,202,s-2
ok-6,2026-01-15 11:00:03,view,1,1.00,1,s-2
CSV
capture "${ING[@]}"
expect_eq "again: ingest exits 0" "$RC" 0
expect_eq "again: new rows load, the old copy stays" \
    "$(psql_q "SELECT string_agg(event_id || '/' || price, ' ' ORDER BY event_id) FROM user_activity
               WHERE event_id IN ('ok-1', 'ok-5', 'ok-6')")" "ok-1/1.00 ok-5/1.00 ok-6/1.00"
expect_eq "again: the loaded key is a duplicate_key dead letter, the foreign key a db_rejected one" \
    "$(psql_q "SELECT line_number, event_id, error_code, error_column, left(error_message, 5)
               FROM user_activity_errors WHERE source_file = 'again.csv' ORDER BY line_number")" \
"3|ok-1|duplicate_key|event_id|event
4|fk-2|db_rejected||23503"
expect_eq "again: ledger" \
    "$(psql_q "SELECT rows_loaded, rows_rejected FROM ingest_files WHERE file_name = 'again.csv'")" "2|2"

# --- two header layouts in one careful batch: each refused row keeps its own fields ----------
cat >"$IN/layout_a.csv" <<CSV
user_id,event_id,price,event_time,event_type,product_id
303,la-1,1.00,2026-01-15 13:00:00,view,1
3,la-2,2.00,2026-01-15 13:00:01,view,1
CSV
cat >"$IN/layout_b.csv" <<CSV
event_id,event_time,event_type,product_id,price,user_id,session_id
lb-1,2026-01-15 13:00:02,view,1,3.00,3,s-4
lb-2,2026-01-15 13:00:03,view,1,4.00,404,s-4
CSV
capture "${ING[@]}"
expect_eq "layouts: ingest exits 0" "$RC" 0
expect_eq "layouts: the rows no rule refuses load, session_id NULL where the file has none" \
    "$(psql_q "SELECT string_agg(event_id || '/' || user_id || '/' || coalesce(session_id, 'NULL'), ' '
               ORDER BY event_id) FROM user_activity WHERE event_id LIKE 'l_-_'")" "la-2/3/NULL lb-1/3/s-4"
expect_eq "layouts: each refused row with its own file's fields" \
    "$(psql_q "SELECT source_file, line_number, event_id, user_id, price, coalesce(session_id, 'NULL'),
               left(error_message, 5) FROM user_activity_errors WHERE source_file LIKE 'layout_%'
               ORDER BY source_file")" \
"layout_a.csv|2|la-1|303|1.00|NULL|23503
layout_b.csv|3|lb-2|404|4.00|s-4|23503"

# --- generated files: every row accounted for, each refused row once with the right SQLSTATE ----
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
rm -rf "$WORK/data"
mkdir -p "$IN"
capture "$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/data/temp" --files 20 \
    --rows-per-file 2000 --bad-ratio 0.01 --seed 11 --interval 0 --manifest "$WORK/manifest.json"
expect_eq "generate exits 0" "$RC" 0
json_val() {
    grep -o "\"$1\": *\"\?[0-9.]*" "$2" | head -n 1 | sed 's/.*[": ]//'
}
valid=$(json_val valid "$WORK/manifest.json")
invalid=$(json_val invalid "$WORK/manifest.json")
capture "${ING[@]}" --batch-bytes 300000
expect_eq "generated: ingest exits 0" "$RC" 0
IFS='|' read -r loaded refused others <<<"$(psql_q "SELECT (SELECT count(*) FROM user_activity),
    count(*) FILTER (WHERE error_code = 'db_rejected'), count(*) FILTER (WHERE error_code <> 'db_rejected')
    FROM user_activity_errors")"
echo "generated: $valid valid rows, $loaded loaded, $refused refused by the server; $invalid invalid, $others other dead letters"
expect_eq "generated: loaded + refused = the valid rows" "$((loaded + refused))" "$valid"
expect_eq "generated: the other dead letters are the invalid rows" "$others" "$invalid"
expect_eq "generated: no event_id both loaded and refused, none refused twice" \
    "$(psql_q "SELECT count(*) = count(DISTINCT event_id) FROM (SELECT event_id FROM user_activity
               UNION ALL SELECT event_id FROM user_activity_errors WHERE error_code = 'db_rejected') s")" t
expect_eq "generated: each refused row breaks a rule, with the SQLSTATE that rule gives" \
    "$(psql_q "SELECT count(*) FROM user_activity_errors WHERE error_code = 'db_rejected'
               AND left(error_message, 5) IS DISTINCT FROM
                   fallback_expected_state(event_id, product_id, user_id)")" 0
expect_eq "generated: the valid rows no rule refuses all loaded (none refused by mistake)" \
    "$(psql_q "SELECT count(*) FROM user_activity WHERE
               fallback_expected_state(event_id, product_id::text, user_id::text) IS NOT NULL")" 0
by_state=$(psql_q "SELECT string_agg(s || '=' || n, ' ' ORDER BY s) FROM (SELECT left(error_message, 5) s,
    count(*) n FROM user_activity_errors WHERE error_code = 'db_rejected' GROUP BY 1) x")
echo "generated: refused by SQLSTATE: $by_state"
check "generated: the trigger, the CHECK and the foreign key each refused rows" \
    test "$(psql_q "SELECT count(DISTINCT left(error_message, 5)) FROM user_activity_errors
                    WHERE error_code = 'db_rejected'")" = 3
expect_eq "generated: ledger sums match the tables, every file done" \
    "$(psql_q "SELECT count(*) FILTER (WHERE status = 'done'), sum(rows_loaded), sum(rows_rejected) FROM ingest_files")" \
    "20|$loaded|$((refused + others))"

# --- a refusal outside the rows' COPY is not routed: the batch fails and loads nothing ---------
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
psql_q "ALTER TABLE user_activity_errors ADD CONSTRAINT no_bad_prices CHECK (price IS NULL OR price NOT LIKE '-%')"
NEG=$WORK/neg
mkdir -p "$NEG/input"
cat >"$NEG/input/negative.csv" <<CSV
event_id,event_time,event_type,product_id,price,user_id,session_id
neg-1,2026-01-15 12:00:00,view,1,-1.00,1,s-3
neg-2,2026-01-15 12:00:01,view,1,1.00,1,s-3
CSV
NING=("$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$NEG/input" --checkpoint-dir "$NEG/ck"
    --error-dir "$NEG/error")
"${NING[@]}" 2>"$NEG/log" &
pid=$!
check "dead letter refused: the ingester says so as an error" \
    wait_for 30 grep -q "other than the rows' COPY was refused" "$NEG/log"
kill -TERM "$pid"
wait "$pid"
expect_eq "dead letter refused: nothing committed" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity), (SELECT count(*) FROM ingest_files
               WHERE status = 'done')")" "0|0"
psql_q "ALTER TABLE user_activity_errors DROP CONSTRAINT no_bad_prices"
capture "${NING[@]}" --once
expect_eq "dead letter refused: loads once the constraint is gone" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity), (SELECT count(*) FROM user_activity_errors)")" "1|1"

finish
