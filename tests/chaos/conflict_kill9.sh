#!/usr/bin/env bash
# conflict_kill9.sh - chaos scenario: kill -9 of the ingester, again and again, while files whose
# keys repeat (within a file, across files, across batches) load with --on-conflict update.
# The final table must equal what one clean run makes of the same files, and the ledger must
# account for every row once: per file, loaded + rejected + skipped + updated = its data rows;
# the inserts counted (rows_loaded) = the rows in the table; the dead letters = rows_rejected.
# One worker, every file there from the start: files load in name order, which is what makes
# "the last copy read wins" one answer (after a kill, the restart waits for the killed session
# to be gone so no file is seen busy and put back in the queue).
# Run alone (SLUICE_BIN=... bash conflict_kill9.sh; CHAOS=full for the sizes of `make chaos`) or
# by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

if [ "${CHAOS:-quick}" = full ]; then
    CF_FILES=60 CF_ROWS=4000 CF_KEYS=40000 CF_KILLS=100
else
    CF_FILES=${CF_FILES:-24} CF_ROWS=${CF_ROWS:-6000} CF_KEYS=${CF_KEYS:-30000}
    CF_KILLS=${CF_KILLS:-12}
fi
SRC=$WORK/conflict-src
mkdir -p "$SRC"
# CF_FILES files (every other one a tenth of the size), keys drawn from a pool of CF_KEYS so
# they repeat; each row a distinct price and time; 1% invalid (a price of 0).
for ((f = 0; f < CF_FILES; f++)); do
    rows=$((f % 2 ? CF_ROWS / 10 : CF_ROWS))
    awk -v f="$f" -v rows="$rows" -v keys="$CF_KEYS" 'BEGIN {
        srand(1000 + f)
        print "event_id,event_time,event_type,product_id,price,user_id,session_id"
        for (i = 0; i < rows; i++) {
            n = f * 100000 + i
            day = int(n / 86400)
            price = (rand() < 0.01) ? "0.00" : sprintf("%d.%02d", 1 + int(n / 100), n % 100)
            printf "k%d,2024-%02d-%02d %02d:%02d:%02d,view,%d,%s,%d,s%d\n", int(rand() * keys),
                1 + int(day / 28), 1 + day % 28, int(n / 3600) % 24, int(n / 60) % 60, n % 60,
                1 + n % 50, price, 1 + n % 7, f
        }
    }' >"$SRC/c$(printf '%03d' "$f").csv"
done
rows_total=$(($(cat "$SRC"/*.csv | wc -l) - CF_FILES))

MODE=(--on-conflict update --workers 1 --batch-bytes 60000 --log-level error)
table_digest() {
    psql_q "SELECT count(*) || ' ' || md5(string_agg(event_id || ',' || event_time || ',' || price
            || ',' || product_id || ',' || user_id || ',' || session_id, ';' ORDER BY event_id))
            FROM user_activity"
}
no_ingester_session() {
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity
                 WHERE application_name LIKE 'sluice-ingest%'")" == 0 ]
}

# The reference: one clean run.
reset
cp -p "$SRC"/*.csv "$IN"/
ingest_fg --once "${MODE[@]}"
expect_eq "clean run: exit 0" "$?" 0
want=$(table_digest)
want_rejected=$(psql_q "SELECT count(*) FROM user_activity_errors")

# The chaos: the same files, the ingester killed at random points, then a clean pass.
reset
cp -p "$SRC"/*.csv "$IN"/
kills=0 midload=0
while [ "$kills" -lt "$CF_KILLS" ] && [ "$(files_done)" -lt "$CF_FILES" ]; do
    ingest_bg "${MODE[@]}" 2>/dev/null
    pid=$!
    rand_sleep 40 250
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    [ "$(files_done)" -lt "$CF_FILES" ] && midload=$((midload + 1))
    wait_for 20 no_ingester_session || { fail "the killed ingester's session ended"; break; }
done
done_before=$(files_done)
ingest_fg --once "${MODE[@]}"
expect_eq "final pass: exit 0" "$?" 0
got=$(table_digest)
IFS='|' read -r nfiles ndone loaded rejected skipped updated <<<"$(psql_q "SELECT count(*),
    count(*) FILTER (WHERE status = 'done'), sum(rows_loaded), sum(rows_rejected),
    sum(rows_skipped), sum(rows_updated) FROM ingest_files")"
echo "conflict_kill9: $kills kills, $midload with files left; $done_before of $CF_FILES files done before the clean pass;" \
    "rows $rows_total: loaded $loaded, updated $updated, skipped $skipped, rejected $rejected;" \
    "table $got (clean run: $want)"
check "conflict_kill9: at least one kill landed while files were loading" [ "$midload" -gt 0 ]
expect_eq "conflict_kill9: the table equals the clean run's" "$got" "$want"
expect_eq "conflict_kill9: every file done" "$nfiles|$ndone" "$CF_FILES|$CF_FILES"
expect_eq "conflict_kill9: the ledger accounts for every row once" \
    "$((loaded + rejected + skipped + updated))" "$rows_total"
expect_eq "conflict_kill9: inserts counted = rows in the table" "$loaded" "${got%% *}"
expect_eq "conflict_kill9: dead letters = rows_rejected = the clean run's" \
    "$(psql_q "SELECT count(*) FROM user_activity_errors") $rejected" "$want_rejected $want_rejected"
unbalanced=0
for f in "$SRC"/*.csv; do
    n=$(($(wc -l <"$f") - 1))
    [ "$(psql_q "SELECT rows_loaded + rows_rejected + rows_skipped + rows_updated FROM ingest_files
                 WHERE file_name = '$(basename "$f")'")" == "$n" ] || unbalanced=$((unbalanced + 1))
done
expect_eq "conflict_kill9: every file's four counts add up to its rows" "$unbalanced" 0
finish
