#!/usr/bin/env bash
# fallback_kill9.sh - chaos scenario: kill -9 of the ingester while it loads files whose rows the
# server refuses (tests/data/fallback_rules.sql: a trigger raising for 1 row in 1,000, a CHECK
# with function calls, a foreign key, a deferred foreign key), so its batches run in careful
# mode; first at random instants, then at the fault point inside the bisection (mid-bisect: a
# refused row just routed, its batch not committed). Then exactly once across user_activity and
# user_activity_errors: every valid row is loaded or a db_rejected dead letter, not both, each
# input row in at most one dead letter, each refused row with the SQLSTATE its rule gives.
# Run alone (SLUICE_BIN=... bash fallback_kill9.sh; CHAOS=full for the sizes of `make chaos`)
# or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"
psql -Xq -v ON_ERROR_STOP=1 -f "$SLUICE_SRC/tests/data/fallback_rules.sql" >/dev/null

reset
waves=5 per=$((KILL_FILES / 5)) kills=0
(for ((w = 0; w < waves; w++)); do wave "$per" "$KILL_ROWS" 2>/dev/null; sleep 0.3; done) &
gen=$!
while [ "$kills" -lt "$KILLS" ]; do
    ingest_bg --batch-bytes 200000 --log-level error 2>/dev/null
    pid=$!
    rand_sleep 50 500
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
done
wait "$gen"
WAVE=$waves # (the waves above counted in their own subshell)
runs=$((FAULT_RUNS * 3)) crashes=0
for ((run = 1; run <= runs; run++)); do
    wave 2 "$KILL_ROWS" 2>/dev/null
    SLUICE_FAULT="mid-bisect:$((1 + RANDOM % 4))" ingest_fg --once --batch-bytes 200000 \
        --workers 1 --log-level error 2>/dev/null
    [ $? = 77 ] && crashes=$((crashes + 1))
done
final_pass
echo "fallback_kill9: $kills kills at random, $crashes of $runs runs stopped inside the bisection," \
    "$(manifest_sum files) files"
check "fallback_kill9: most runs reached the fault point inside careful mode" \
    test "$crashes" -ge $((runs * 2 / 3))

# The refused rows are valid rows too (the generator knows nothing of the rules). A repeat of a
# refused row (the generator's duplicate_key rows) in a later chunk of its file meets the same
# refusal, so it is a second db_rejected dead letter of that event_id from another line.
files=$(manifest_sum files)
valid=$(manifest_sum valid)
invalid=$(manifest_sum invalid)
psum=$(manifest_sum valid_price_sum 1)
IFS='|' read -r loaded dloaded refused drefused others both lsum <<<"$(psql_q "
    WITH l AS (SELECT event_id, price FROM user_activity),
         d AS (SELECT * FROM user_activity_errors WHERE error_code = 'db_rejected')
    SELECT (SELECT count(*) FROM l), (SELECT count(DISTINCT event_id) FROM l),
           (SELECT count(*) FROM d), (SELECT count(DISTINCT event_id) FROM d),
           (SELECT count(*) FROM user_activity_errors WHERE error_code <> 'db_rejected'),
           (SELECT count(*) FROM l JOIN (SELECT DISTINCT event_id FROM d) x USING (event_id)),
           (SELECT round(coalesce(sum(price), 0), 2) FROM
               (SELECT price FROM l UNION ALL SELECT price FROM
                   (SELECT DISTINCT ON (event_id) price::numeric FROM d ORDER BY event_id) r) p)")"
echo "fallback_kill9: $valid valid rows: $loaded loaded, $drefused refused by the server" \
    "($refused dead letters); $invalid invalid, $others other dead letters"
expect_eq "fallback_kill9: no event_id loaded twice" "$dloaded" "$loaded"
expect_eq "fallback_kill9: no event_id both loaded and refused" "$both" 0
expect_eq "fallback_kill9: loaded + refused = valid rows (nothing lost)" \
    "$((loaded + drefused))" "$valid"
expect_eq "fallback_kill9: other dead letters + repeats of refused rows = invalid rows" \
    "$((others + refused - drefused))" "$invalid"
expect_eq "fallback_kill9: sum(price) of loaded and refused rows exact" "$lsum" "$psum"
expect_eq "fallback_kill9: each input line in at most one dead letter" \
    "$(psql_q "SELECT count(*) - count(DISTINCT (source_file, line_number)) FROM user_activity_errors")" 0
expect_eq "fallback_kill9: each refused row with the SQLSTATE of its rule" \
    "$(psql_q "SELECT count(*) FROM user_activity_errors WHERE error_code = 'db_rejected' AND
               left(error_message, 5) IS DISTINCT FROM fallback_expected_state(event_id, product_id, user_id)")" 0
expect_eq "fallback_kill9: no loaded row breaks a rule" \
    "$(psql_q "SELECT count(*) FROM user_activity WHERE
               fallback_expected_state(event_id, product_id::text, user_id::text) IS NOT NULL")" 0
check "fallback_kill9: the server refused rows" test "$drefused" -gt 0
expect_eq "fallback_kill9: ledger sums match the tables" \
    "$(psql_q "SELECT sum(rows_loaded), sum(rows_rejected) FROM ingest_files")" \
    "$loaded|$((refused + others))"
IFS='|' read -r nfiles ndone narch <<<"$(psql_q "SELECT count(*), count(*) FILTER (WHERE status = 'done'),
    count(*) FILTER (WHERE archived_at IS NOT NULL) FROM ingest_files")"
expect_eq "fallback_kill9: every file done and archived" "$nfiles|$ndone|$narch" "$files|$files|$files"
expect_eq "fallback_kill9: nothing stranded in the hot folder" "$(find "$IN" -type f | wc -l)" 0
finish
