#!/usr/bin/env bash
# t_ingest.sh - sluice ingest against a real PostgreSQL: exact rows out of the original's
# format, the original's bad-data file routed with the right codes, reruns that change nothing,
# generator totals accounted for row by row, names never touched, and a clean SIGTERM.
source "$(dirname "$0")/lib.sh"
pg_start

# json_val KEY FILE: a number (or quoted number) from the generator's manifest.
json_val() {
    grep -o "\"$1\": *\"\?[0-9.]*" "$2" | head -n 1 | sed 's/.*[": ]//'
}
# manifest_classes FILE: "code=n,..." for the classes the manifest counts, sorted by code.
manifest_classes() {
    local code n out=()
    for code in bad_encoding bad_value duplicate_key missing_field row_too_long \
        rule_violation unterminated_quote wrong_column_count; do
        n=$(json_val "$code" "$1")
        [ -n "$n" ] && [ "$n" != 0 ] && out+=("$code=$n")
    done
    (IFS=,; echo "${out[*]}")
}

IN=$WORK/data/input
ING=("$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/data/ck"
    --error-dir "$WORK/data/error")
mkdir -p "$IN"

# --- the original's format, and its bad-data file -------------------------------------------
cat >"$IN/events_good.csv" <<'CSV'
event_id,event_time,event_type,product_id,price,user_id,session_id
3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a11,2026-01-15 10:00:00,view,101,25.50,7,s-1
3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a12,2026-01-15T10:00:01.250Z,purchase,101,25.50,7,s-1
3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a13,2026-01-15 23:30:00-02:00,view,7,0.01,2147483647,
CSV
cat >"$IN/events_bad.csv" <<'CSV'
event_id,event_time,event_type,product_id,price,user_id,session_id
b-1,2026-01-15 11:00:00,purchase,55,-50.0,9,s-9
b-2,2026-01-15 11:00:01,unknown_event,56,10.00,9,s-9
b-3,2026-01-15 11:00:02,purchase,57,99.99,9,s-9
CSV
# names that must never be touched
echo "x" >"$IN/notes.txt"
echo "x" >"$IN/partial.csv.tmp"
echo "x" >"$IN/.hidden.csv"
ln -s "$IN/events_good.csv" "$IN/link.csv"

capture "${ING[@]}" --once
expect_eq "ingest --once exits 0" "$RC" 0
expect_eq "exact rows in user_activity" "$(psql_q "SELECT event_id, event_time, event_type,
    product_id, price, user_id, coalesce(session_id, 'NULL') FROM user_activity ORDER BY event_id")" \
"3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a11|2026-01-15 10:00:00|view|101|25.50|7|s-1
3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a12|2026-01-15 10:00:01.25|purchase|101|25.50|7|s-1
3f1c9a52-6b1e-4d38-9a7e-2c4b8f0e1a13|2026-01-16 01:30:00|view|7|0.01|2147483647|NULL
b-3|2026-01-15 11:00:02|purchase|57|99.99|9|s-9"
expect_eq "bad-data file: two dead letters with codes, columns, lines" \
    "$(psql_q "SELECT event_id, error_code, error_column, source_file, line_number, raw_line
               FROM user_activity_errors ORDER BY line_number")" \
"b-1|rule_violation|price|events_bad.csv|2|b-1,2026-01-15 11:00:00,purchase,55,-50.0,9,s-9
b-2|rule_violation|event_type|events_bad.csv|3|b-2,2026-01-15 11:00:01,unknown_event,56,10.00,9,s-9"
expect_eq "ledger: both files done with their counts" \
    "$(psql_q "SELECT file_name, status, rows_loaded, rows_rejected, committed_offset = size_bytes
               FROM ingest_files ORDER BY file_name")" \
"events_bad.csv|done|1|2|t
events_good.csv|done|3|0|t"
check "other names untouched" test -f "$IN/notes.txt" -a -f "$IN/partial.csv.tmp" -a -f "$IN/.hidden.csv"
check "symlink moved to the error folder, never read" test -L "$WORK/data/error/link.csv"
expect_match "symlink logged" "$ERR" "link.csv"

snapshot() {
    psql_q "SELECT (SELECT count(*) FROM user_activity), (SELECT count(*) FROM user_activity_errors),
            (SELECT string_agg(file_name || status || rows_loaded || committed_at, ',' ORDER BY file_name)
             FROM ingest_files)"
}
before=$(snapshot)
capture "${ING[@]}" --once
expect_eq "second ingest --once exits 0" "$RC" 0
expect_eq "second ingest --once changes nothing" "$(snapshot)" "$before"

# Same name, different content: a new file. Same content under the old name: nothing new.
cp "$IN/events_bad.csv" "$WORK/bad_copy"
sed -i 's/b-3/b-4/' "$IN/events_bad.csv"
capture "${ING[@]}" --once
expect_eq "same name with new content is a new file" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE file_name = 'events_bad.csv'")" 2
expect_eq "its rows: b-4 loaded, b-1/b-2 rejected again" \
    "$(psql_q "SELECT count(*) FROM user_activity WHERE event_id = 'b-4'")|$(psql_q "SELECT count(*) FROM user_activity_errors")" "1|4"

# --- duplicates: first loaded wins, later copies are dead letters ---------------------------
cat >"$IN/dups.csv" <<'CSV'
event_id,event_time,event_type,product_id,price,user_id,session_id
d-1,2026-01-15 12:00:00,view,1,1.00,1,s
d-1,2026-01-15 12:00:01,view,1,2.00,1,s
b-3,2026-01-15 12:00:02,view,1,3.00,1,s
d-2,2026-01-15 12:00:03,view,1,4.00,1,s
CSV
capture "${ING[@]}" --once
expect_eq "duplicates: first copy wins" "$(psql_q "SELECT price FROM user_activity WHERE event_id = 'd-1'")" "1.00"
expect_eq "duplicates: later copies are dead letters" \
    "$(psql_q "SELECT event_id, line_number FROM user_activity_errors WHERE error_code = 'duplicate_key' ORDER BY line_number")" \
"d-1|3
b-3|4"
expect_eq "duplicates: ledger counts" \
    "$(psql_q "SELECT rows_loaded, rows_rejected FROM ingest_files WHERE file_name = 'dups.csv'")" "2|2"

# --- generator totals, every row accounted for ----------------------------------------------
IN2=$WORK/gen/input
capture "$SLUICE_BIN" generate --input-dir "$IN2" --temp-dir "$WORK/gen/temp" --files 5 \
    --rows-per-file 200 --bad-ratio 0.05 --seed 3 --interval 0 --manifest "$WORK/manifest.json"
expect_eq "generate exits 0" "$RC" 0
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$IN2" \
    --checkpoint-dir "$WORK/gen/ck" --error-dir "$WORK/gen/error"
expect_eq "ingest of generated files exits 0" "$RC" 0
valid=$(json_val valid "$WORK/manifest.json")
rows=$(json_val rows "$WORK/manifest.json")
psum=$(json_val valid_price_sum "$WORK/manifest.json")
expect_eq "generated rows" "$rows" 1000
expect_eq "all 1000 rows accounted for" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)")" 1000
expect_eq "valid rows loaded" "$(psql_q "SELECT count(*) FROM user_activity")" "$valid"
expect_eq "sum of valid prices" "$(psql_q "SELECT sum(price) FROM user_activity")" "$psum"
expect_eq "dead letters by class match the manifest" \
    "$(psql_q "SELECT string_agg(error_code || '=' || n, ',' ORDER BY error_code) FROM
               (SELECT error_code, count(*) n FROM user_activity_errors GROUP BY 1) s")" \
    "$(manifest_classes "$WORK/manifest.json")"
expect_eq "ledger: rows read = loaded + rejected, every file done" \
    "$(psql_q "SELECT count(*), sum(rows_loaded + rows_rejected) FROM ingest_files WHERE status = 'done'")" "5|1000"

# --- SIGTERM under load: exit 0 within 5 s, no partial batch ----------------------------------
IN3=$WORK/big/input
"$SLUICE_BIN" generate --input-dir "$IN3" --temp-dir "$WORK/big/temp" --files 200 \
    --rows-per-file 2000 --bad-ratio 0.01 --seed 5 --interval 0 --manifest "$WORK/big.json" 2>/dev/null
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
"$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN3" --checkpoint-dir "$WORK/big/ck" \
    --error-dir "$WORK/big/error" --batch-bytes 1000000 2>"$WORK/big.log" &
pid=$!
sleep 1
kill -TERM "$pid"
t0=$(date +%s%N)
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "SIGTERM: exit 0" "$rc" 0
check "SIGTERM: exit within 5 s (took ${ms} ms)" test "$ms" -lt 5000
expect_eq "SIGTERM: ledger matches tables (no partial batch)" \
    "$(psql_q "SELECT (SELECT coalesce(sum(rows_loaded), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity)
           AND (SELECT coalesce(sum(rows_rejected), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity_errors)")" t
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$IN3" --checkpoint-dir "$WORK/big/ck" \
    --error-dir "$WORK/big/error"
expect_eq "after restart: every row of 200 files accounted for" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)")" 400000
expect_eq "after restart: distinct event ids" \
    "$(psql_q "SELECT count(DISTINCT event_id) = count(*) FROM user_activity")" t
expect_eq "after restart: valid rows match the manifest" "$(psql_q "SELECT count(*) FROM user_activity")" \
    "$(json_val valid "$WORK/big.json")"

finish
