#!/usr/bin/env bash
# t_status.sh - sluice status reads the hot folder, the ledger and the dead letters with no
# ingester running: exact counts in the table and in --json, files pending and their age,
# --max-lag exits 1 only when the oldest pending file is older, archive progress, a file stuck
# in the ledger as 'loading', another pipeline's table in the same database counted apart
# (--table, --dlq-table), and exit 1 when the database cannot be read.
source "$(dirname "$0")/lib.sh"
pg_start

IN=$WORK/in
mkdir -p "$IN"
ST=("$SLUICE_BIN" status --db "$SLUICE_DB" --input-dir "$IN")
jnum() { # jnum KEY: the number after "KEY": in $OUT
    grep -o "\"$1\":[-0-9.a-z]*" <<<"$OUT" | head -n 1 | cut -d: -f2
}

capture "${ST[@]}" --json
expect_eq "empty: exit 0" "$RC" 0
expect_eq "empty: nothing pending" "$(jnum files_pending) $(jnum oldest_pending_age)" "0 0.000"
expect_match "empty: no commit yet" "$OUT" '"last_commit":null'

"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 12 --rows-per-file 300 \
    --interval 0 --bad-ratio 0.1 --seed 5 --log-level warn
capture "${ST[@]}" --json
expect_eq "before loading: 12 files pending" "$(jnum files_pending)" 12
expect_eq "before loading: their bytes" "$(jnum bytes_pending)" "$(cat "$IN"/*.csv | wc -c)"

"$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/ck" \
    --error-dir "$WORK/err" --log-level warn
capture "${ST[@]}" --json
expect_eq "loaded: exit 0" "$RC" 0
expect_eq "loaded: nothing pending" "$(jnum files_pending)" 0
expect_eq "loaded: ledger done, quarantined, waiting to archive" \
    "$(jnum done) $(jnum quarantined) $(jnum waiting_to_archive) $(jnum archived)" "12 0 12 0"
expect_eq "dead letters total = the table's" "$(jnum total)" \
    "$(psql_q "SELECT count(*) FROM user_activity_errors")"
for code in missing_field bad_value rule_violation wrong_column_count bad_encoding \
    duplicate_key; do
    expect_eq "dead letters $code = the table's" "$(jnum "$code")" \
        "$(psql_q "SELECT count(*) FROM user_activity_errors WHERE error_code = '$code'")"
done
all_rows=$(psql_q "SELECT sum(rows_loaded + rows_rejected) FROM ingest_files")
expect_eq "rows/s over the last minute = rows committed / 60" "$(jnum last_minute)" \
    "$(awk -v n="$all_rows" 'BEGIN { printf "%.3f", n / 60 }')"
age=$(jnum last_commit_age)
awk -v a="$age" 'BEGIN { exit !(a >= 0 && a < 60) }' && pass "last commit is recent ($age s)" ||
    fail "last commit is recent" "$age"

capture "${ST[@]}"
expect_eq "table: exit 0" "$RC" 0
expect_match "table: files done" "$OUT" "files done                 12"
expect_match "table: waiting to archive" "$OUT" "files waiting to archive   12"
expect_match "table: dead letters total" "$OUT" \
    "total                      $(psql_q "SELECT count(*) FROM user_activity_errors")"

# --- lag: two files landed two minutes ago and nobody loads them -------------------------------
"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 2 --rows-per-file 10 \
    --interval 0 --seed 6 --log-level warn
late=$(ls -t "$IN" | head -n 2)
for f in $late; do touch -d '-120 seconds' "$IN/$f"; done
capture "${ST[@]}" --json --max-lag 60
expect_eq "--max-lag 60 with a 120 s old file: exit 1" "$RC" 1
expect_match "--max-lag says why" "$ERR" "over --max-lag 60"
expect_match "--json says lagging" "$OUT" '"lagging":true'
expect_eq "2 files pending" "$(jnum files_pending)" 2
awk -v a="$(jnum oldest_pending_age)" 'BEGIN { exit !(a >= 119 && a < 200) }' &&
    pass "oldest pending age about 120 s" || fail "oldest pending age about 120 s" "$(jnum oldest_pending_age)"
capture "${ST[@]}" --max-lag 600
expect_eq "--max-lag 600: exit 0" "$RC" 0
expect_match "table: 2 files pending" "$OUT" "files pending              2 ("

# --- a file stuck half-loaded in the ledger counts too ------------------------------------------
psql_q "INSERT INTO ingest_files (target_table, file_name, content_hash, size_bytes, file_mtime,
        status) VALUES ('public.user_activity', 'stuck.csv', 'x', 10, now() - interval '1 hour',
        'loading')" >/dev/null
capture "${ST[@]}" --json --max-lag 1800
expect_eq "a file loading for an hour: exit 1" "$RC" 1
expect_eq "ledger: 1 loading" "$(jnum loading)" 1
psql_q "DELETE FROM ingest_files WHERE file_name = 'stuck.csv'" >/dev/null

# --- another pipeline in the same database: its ledger rows and dead letters are its own ------
psql_q "CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric);
        CREATE TABLE sales.orders_errors (error_id bigserial, id text, amount text,
            error_code text, error_column text, error_message text, source_file text,
            line_number bigint, raw_line text, ingestion_time timestamp);
        INSERT INTO sales.orders_errors (error_code) VALUES ('bad_value'), ('bad_value');
        INSERT INTO ingest_files (target_table, file_name, content_hash, size_bytes, status,
            rows_loaded, committed_at)
        SELECT 'sales.orders', file_name, 'h', size_bytes, 'done', 5, now() FROM ingest_files
        WHERE status = 'done' ORDER BY file_name LIMIT 3" >/dev/null
capture "${ST[@]}" --json
expect_eq "the default table's counts leave the other pipeline out" \
    "$(jnum done) $(jnum waiting_to_archive) $(jnum total)" \
    "12 12 $(psql_q "SELECT count(*) FROM user_activity_errors")"
expect_match "--json names the table" "$OUT" '"table":"public.user_activity"'
capture "${ST[@]}" --json --table sales.orders
expect_eq "--table sales.orders: its 3 files done, 2 dead letters in sales.orders_errors" \
    "$RC $(jnum done) $(jnum waiting_to_archive) $(jnum total) $(jnum bad_value)" "0 3 3 2 2"
expect_eq "--table sales.orders: the hot folder's 14 files but its 3 are pending for it" \
    "$(jnum files_pending)" 11
capture "${ST[@]}" --table sales.orders
expect_match "the table names the ledger's table" "$OUT" "ledger (ingest_files) of sales.orders"
expect_match "and the dead-letter table" "$OUT" 'dead letters (sales.orders_errors)'
capture "${ST[@]}" --json --table nosuch
expect_eq "--table of a missing table: exit 0, nothing loaded" "$RC $(jnum done)" "0 0"
expect_match "and it says so" "$ERR" 'table "nosuch" does not exist'
psql_q "DELETE FROM ingest_files WHERE target_table = 'sales.orders'" >/dev/null

# --- archive progress ----------------------------------------------------------------------------
"$SLUICE_BIN" archive --once --db "$SLUICE_DB" --input-dir "$IN" --archive-dir "$WORK/arch" \
    --min-age 0 --log-level warn >/dev/null
capture "${ST[@]}" --json
expect_eq "after archive: 0 waiting, 12 archived" "$(jnum waiting_to_archive) $(jnum archived)" "0 12"

# --- the database down ---------------------------------------------------------------------------
pg_stop >/dev/null
capture "${ST[@]}"
expect_eq "database down: exit 1" "$RC" 1
expect_match "database down: says so" "$ERR" "cannot connect to PostgreSQL"
capture "$SLUICE_BIN" status --max-lag x
expect_eq "bad --max-lag: exit 2" "$RC" 2
finish
