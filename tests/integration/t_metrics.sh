#!/usr/bin/env bash
# t_metrics.sh - the HTTP endpoint of a running ingester: /metrics passes promtool during a run,
# every error code is a series from the start, the counters equal the database's counts once
# drained (rows loaded, rows rejected by code, files by status), the gauges stay current while
# PostgreSQL is stopped (sluice_db_up 0, /readyz 503 with a reason, a file landing meanwhile is
# pending and ageing), and everything returns when it is back; metrics.prom holds the same text.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_http.sh"
pg_start

IN=$WORK/in
CK=$WORK/ck
mkdir -p "$IN"
"$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$CK" \
    --error-dir "$WORK/err" --listen 127.0.0.1:0 --rescan-interval 1 2>"$WORK/ingest.log" &
ING=$!
http_url "$WORK/ingest.log"
expect_match "listens on loopback" "$URL" "http://127.0.0.1:"

# --- before any file: every series exists, at 0 ------------------------------------------------
curl -sf "${URL}metrics" >"$WORK/m0.txt"
check "promtool check metrics (idle)" promtool check metrics <"$WORK/m0.txt"
expect_eq "one rejected series per error code, all 0" \
    "$(grep '^sluice_rows_rejected_total{' "$WORK/m0.txt" | awk '{ print $2 }' | sort -u | tr '\n' ' ')" "0 "
expect_eq "eleven error codes" "$(grep -c '^sluice_rows_rejected_total{' "$WORK/m0.txt")" 11
for name in sluice_rows_read_total sluice_rows_loaded_total sluice_bytes_read_total \
    sluice_files_pending sluice_bytes_pending sluice_oldest_pending_file_age_seconds \
    sluice_batches_total sluice_batch_duration_seconds_count sluice_commit_latency_seconds_count \
    sluice_db_up sluice_db_reconnects_total sluice_retries_total \
    sluice_last_error_timestamp_seconds sluice_last_commit_timestamp_seconds \
    process_start_time_seconds process_resident_memory_bytes; do
    grep -q "^$name " "$WORK/m0.txt" || fail "series $name present" "missing"
done
pass "every series of the issue present"
expect_match "build info" "$(cat "$WORK/m0.txt")" 'sluice_build_info{version="'
expect_eq "healthz 200" "$(http_code healthz)" 200
check "readyz 200 once the database is checked" wait_for 10 http_code_is readyz 200

# --- a run: generated files with bad rows, a bad header, a symlink ----------------------------
"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 40 --rows-per-file 500 \
    --rate 10000 --bad-ratio 0.05 --seed 11 --log-level warn &
GEN=$!
sleep 0.5
curl -sf "${URL}metrics" >"$WORK/m1.txt"
check "promtool check metrics (during the run)" promtool check metrics <"$WORK/m1.txt"
wait "$GEN"
printf 'id,when\n1,2\n' >"$IN/bad_header.csv"
ln -s "$IN/bad_header.csv" "$IN/link.csv"

drained() {
    [ "$(metric 'sluice_files_total{status="done"}')" = 40 ] &&
        [ "$(metric 'sluice_files_total{status="quarantined"}')" = 1 ] &&
        [ "$(metric 'sluice_files_total{status="ignored"}')" = 1 ] &&
        [ "$(metric sluice_files_pending)" = 0 ]
}
check "drained: 40 files done, 1 quarantined, the symlink ignored, none pending" wait_for 60 drained
curl -sf "${URL}metrics" >"$WORK/m2.txt"
check "promtool check metrics (drained)" promtool check metrics <"$WORK/m2.txt"
m2() { awk -v s="$1" '$1 == s { print $2 }' "$WORK/m2.txt"; }
expect_eq "rows_loaded_total = count(user_activity)" "$(m2 sluice_rows_loaded_total)" \
    "$(psql_q "SELECT count(*) FROM user_activity")"
db_codes=$(psql_q "SELECT c || '=' || count(e.error_code) FROM unnest(ARRAY['missing_field',
    'bad_value', 'rule_violation', 'wrong_column_count', 'bad_encoding', 'unterminated_quote',
    'row_too_long', 'duplicate_key', 'bad_header', 'bad_file', 'db_rejected']) AS c
    LEFT JOIN user_activity_errors e ON e.error_code = c GROUP BY c ORDER BY c")
metric_codes=$(grep '^sluice_rows_rejected_total{' "$WORK/m2.txt" |
    sed 's/.*code="\([a-z_]*\)"} \(.*\)/\1=\2/' | sort)
expect_eq "rows_rejected_total by code = user_activity_errors by code" "$metric_codes" "$db_codes"
[ "$(echo "$db_codes" | grep -vc '=0$')" -ge 4 ] && pass "at least 4 codes non-zero" ||
    fail "at least 4 codes non-zero" "$db_codes"
expect_eq "rows_read_total = loaded + rejected" "$(m2 sluice_rows_read_total)" \
    "$(psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)")"
expect_eq "files by status = the ledger's" \
    "$(m2 'sluice_files_total{status="done"}') $(m2 'sluice_files_total{status="quarantined"}')" \
    "$(psql_q "SELECT count(*) FILTER (WHERE status = 'done') || ' ' || count(*) FILTER (WHERE status = 'quarantined') FROM ingest_files")"
check "the symlink went to the error folder" test -L "$WORK/err/link.csv"
expect_eq "bytes_read_total = the ledger's committed bytes" "$(m2 sluice_bytes_read_total)" \
    "$(psql_q "SELECT sum(committed_offset) FROM ingest_files")"
expect_eq "commit latency observed once per file done" \
    "$(m2 sluice_commit_latency_seconds_count)" 40
expect_eq "batch histogram count = batches" "$(m2 sluice_batch_duration_seconds_count)" \
    "$(m2 sluice_batches_total)"
expect_eq "db up" "$(m2 sluice_db_up)" 1
check "metrics.prom written" test -s "$CK/metrics.prom"
check "metrics.prom passes promtool" promtool check metrics <"$CK/metrics.prom"
expect_eq "metrics.prom has the same series as the endpoint" \
    "$(grep -v '^#' "$CK/metrics.prom" | awk '{ print $1 }' | sort)" \
    "$(grep -v '^#' "$WORK/m2.txt" | awk '{ print $1 }' | sort)"

# --- PostgreSQL stopped: up goes 0, readyz 503, gauges keep moving ------------------------------
loaded_before=$(m2 sluice_rows_loaded_total)
pg_stop >/dev/null
check "sluice_db_up goes 0 while the server is stopped" wait_for 15 metric_is sluice_db_up 0
check "readyz 503 while the server is stopped" wait_for 10 http_code_is readyz 503
expect_match "readyz says why" "$(curl -s "${URL}readyz")" '"reason":"database unreachable'
expect_eq "healthz still 200 (the loops are alive, only waiting)" "$(http_code healthz)" 200
"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 1 --rows-per-file 100 \
    --interval 0 --seed 12 --log-level warn
pending_one() { [ "$(metric sluice_files_pending)" = 1 ]; }
check "a file landing while the server is down is pending" wait_for 15 pending_one
age1=$(metric sluice_oldest_pending_file_age_seconds)
sleep 1.5 # the age is time itself: read it again a while later
age2=$(metric sluice_oldest_pending_file_age_seconds)
awk -v a="$age1" -v b="$age2" 'BEGIN { exit !(a > 0 && b >= a + 1) }' &&
    pass "oldest pending age grows while the server is down ($age1 -> $age2)" ||
    fail "oldest pending age grows while the server is down" "$age1 -> $age2"
err_ts=$(metric sluice_last_error_timestamp_seconds)
awk -v t="$err_ts" 'BEGIN { exit !(t > 0) }' && pass "last error timestamp set" ||
    fail "last error timestamp set" "$err_ts"

# --- back ------------------------------------------------------------------------------------------
pg_start >/dev/null
check "sluice_db_up back to 1" wait_for 30 metric_is sluice_db_up 1
check "readyz back to 200" wait_for 15 http_code_is readyz 200
check "the file loaded after the outage" wait_for 30 metric_is sluice_rows_loaded_total \
    $((loaded_before + 100))
expect_eq "rows_loaded_total = count(user_activity) after the outage" \
    "$(metric sluice_rows_loaded_total)" "$(psql_q "SELECT count(*) FROM user_activity")"
check "pending back to 0" wait_for 10 metric_is sluice_files_pending 0

# --- hostile requests get a status, not a stall ---------------------------------------------------
expect_eq "unknown path 404" "$(http_code nothing)" 404
expect_eq "POST refused" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "${URL}metrics")" 405

# --- where it listens ------------------------------------------------------------------------------
hostport=${URL#http://}
hostport=${hostport%/}
mkdir -p "$WORK/empty"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$WORK/empty" \
    --checkpoint-dir "$WORK/ck2" --error-dir "$WORK/err2" --listen "$hostport"
expect_eq "a named address in use: exit 1" "$RC" 1
expect_match "a named address in use: says so" "$ERR" "cannot listen on '$hostport'"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$WORK/empty" \
    --checkpoint-dir "$WORK/ck2" --error-dir "$WORK/err2" --listen nonsense
expect_eq "a bad --listen: exit 1" "$RC" 1
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$WORK/empty" \
    --checkpoint-dir "$WORK/ck2" --error-dir "$WORK/err2"
expect_eq "ingest listens only when told" "$(grep -c 'dashboard at' <<<"$ERR")" 0
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$WORK/run" --seconds 1 --rate 100
expect_eq "run: exit 0" "$RC" 0
expect_match "run listens on loopback by default, from port 9464" \
    "$(grep -o 'dashboard at http://127.0.0.1:94[6-8][0-9]/' <<<"$ERR")" "dashboard at http://127.0.0.1:94"
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$WORK/run" --seconds 1 --rate 100 --listen off
expect_eq "run --listen off: no endpoint" "$(grep -c 'dashboard at' <<<"$ERR")" 0

kill -TERM "$ING"
wait "$ING"
expect_eq "ingester exits 0 on SIGTERM" "$?" 0
finish
