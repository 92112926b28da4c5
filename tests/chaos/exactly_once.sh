#!/usr/bin/env bash
# exactly_once.sh - the chaos suite: crash sluice and PostgreSQL at every moment we can name,
# and prove that nothing is lost, nothing is duplicated and nothing is stranded.
#
#   CHAOS=full  the sizes of `make chaos` (issue 3): 20 runs per fault point, 200 kill -9 while
#               200 files x 2,000 rows arrive, 20 PostgreSQL crashes, a 30 s stall, 20,000 files
#               of inotify overflow
#   (default)   the quick sizes run by `make test`
# Scenarios can be picked with SCENARIOS="faults kill9 ..." (default: all).
# Every scenario prints its figures: kills, restarts, rows expected/loaded, lost, duplicated.
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/lib_chaos.sh"

if [ "${CHAOS:-quick}" = full ]; then
    FAULT_RUNS=20 KILLS=200 KILL_FILES=200 KILL_ROWS=2000 PG_CRASHES=20 STALL_S=30
    OVERFLOW_FILES=20000
else
    FAULT_RUNS=${FAULT_RUNS:-2} KILLS=${KILLS:-15} KILL_FILES=${KILL_FILES:-30}
    KILL_ROWS=${KILL_ROWS:-500} PG_CRASHES=${PG_CRASHES:-3} STALL_S=${STALL_S:-4}
    OVERFLOW_FILES=${OVERFLOW_FILES:-0}
fi
SCENARIOS=${SCENARIOS:-faults kill9 pgcrash terminate stall diskfull overflow sigterm}
pg_start
psql -Xq -v ON_ERROR_STOP=1 -f "$SLUICE_SRC/sql/postgres_setup.sql" >/dev/null

# --- every fault point x FAULT_RUNS ---------------------------------------------------------------
scenario_faults() {
    local points="claimed mid-copy mid-deadletter before-commit after-commit archive-before-dir-fsync"
    local p run crashes=0 runs=0
    for p in $points; do
        for ((run = 1; run <= FAULT_RUNS; run++)); do
            reset
            BAD_RATIO=0.05 wave 6 300 2>/dev/null
            local n=$((1 + RANDOM % 3)) rc
            if [ "$p" = archive-before-dir-fsync ]; then
                            ingest_fg --once --log-level warn
                SLUICE_FAULT="$p:$n" "$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" \
                    --input-dir "$IN" --archive-dir "$D/archive" --log-level error >/dev/null 2>&1
                rc=$?
            else
                            SLUICE_FAULT="$p:$n" ingest_fg --once --batch-bytes 20000 \
                    --workers 1 --log-level error 2>/dev/null
                rc=$?
            fi
            runs=$((runs + 1))
            [ "$rc" = 77 ] && crashes=$((crashes + 1))
            final_pass
            exactly_once "fault $p:$n (run $run, exit $rc)" >"$WORK/.fault.out"
            if grep -q '^FAIL' "$WORK/.fault.out"; then cat "$WORK/.fault.out"; fi
            PASSED=$((PASSED + $(grep -c '^ok' "$WORK/.fault.out")))
            FAILED=$((FAILED + $(grep -c '^FAIL' "$WORK/.fault.out")))
        done
    done
    echo "faults: $runs runs over 6 fault points, $crashes crashed at their point, each restarted"
    check "faults: most runs reached their fault point" test "$crashes" -ge $((runs * 2 / 3))
}

# --- kill -9 of the ingester while files arrive in waves -------------------------------------------
scenario_kill9() {
    reset
    local waves=5 per=$((KILL_FILES / 5)) kills=0
    (for ((w = 0; w < waves; w++)); do wave "$per" "$KILL_ROWS" 2>/dev/null; sleep 0.3; done) &
    local gen=$!
    while [ "$kills" -lt "$KILLS" ]; do
            ingest_bg --batch-bytes 200000 --log-level error 2>/dev/null
        local pid=$!
        rand_sleep 50 500
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
    done
    wait "$gen"
    final_pass
    echo "kill9: $kills kills of the ingester, $kills restarts, $(manifest_sum files) files arrived in $waves waves"
    exactly_once kill9
}

# --- PostgreSQL crashes (immediate shutdown) and restarts under load ------------------------------
scenario_pgcrash() {
    reset
    ingest_bg --batch-bytes 200000 --log-level warn 2>"$WORK/pgcrash.log"
    local pid=$! crashes=0 worst=0 alive=1
    for ((c = 0; c < PG_CRASHES; c++)); do
        wave 8 1000 2>/dev/null
        rand_sleep 100 1500
        "$SLUICE_BIN" db kill --pg-dir "$PG_DIR" >/dev/null 2>&1
        crashes=$((crashes + 1))
        rand_sleep 200 1000
        "$SLUICE_BIN" db start --pg-dir "$PG_DIR" --fast --pg-port "$PG_PORT" >/dev/null 2>&1
        local before t0 t1 ms
        before=$(psql_q "SELECT coalesce(max(committed_at), '-infinity') FROM ingest_files")
        t0=$(date +%s%N)
        wave 1 100 2>/dev/null
        while [ "$(psql_q "SELECT count(*) FROM ingest_files WHERE committed_at > '$before'")" = 0 ]; do
            sleep 0.1
            [ $((($(date +%s%N) - t0) / 1000000)) -gt 30000 ] && break
        done
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        [ "$ms" -gt "$worst" ] && worst=$ms
        kill -0 "$pid" 2>/dev/null || alive=0
    done
    expect_eq "pgcrash: the ingester never exited by itself" "$alive" 1
    check "pgcrash: resumed within 10 s of each restart (worst ${worst} ms)" test "$worst" -lt 10000
    kill -TERM "$pid"
    wait_exit "$pid" 10
    expect_eq "pgcrash: SIGTERM exit status" "$EXIT_RC" 0
    final_pass
    echo "pgcrash: $crashes immediate shutdowns and restarts of PostgreSQL, worst resume ${worst} ms"
    exactly_once pgcrash
}

# --- pg_terminate_backend of the ingester in the middle of COPY -----------------------------------
scenario_terminate() {
    reset
    wave 2 150000 2>/dev/null
    ingest_bg --log-level warn 2>"$WORK/terminate.log"
    local pid=$! killed=0 i
    for ((i = 0; i < 100 && killed == 0; i++)); do
        killed=$(psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE application_name LIKE 'sluice-ingest%' AND query LIKE 'COPY%'")
        sleep 0.05
    done
    sleep 2
    kill -0 "$pid" 2>/dev/null
    expect_eq "terminate: the ingester survives pg_terminate_backend" "$?" 0
    kill -TERM "$pid"
    wait_exit "$pid" 10
    expect_eq "terminate: SIGTERM exit status" "$EXIT_RC" 0
    final_pass
    echo "terminate: $killed backends terminated in the middle of COPY"
    check "terminate: a COPY was caught and terminated" test "$killed" -ge 1
    exactly_once terminate
}

# --- SIGSTOP in the middle of a batch; a second ingester on the same folder -----------------------
scenario_stall() {
    reset
    wave 4 100000 2>/dev/null
    CK=A ingest_bg --workers 1 --log-level warn 2>"$WORK/stallA.log"
    local a=$! i
    for ((i = 0; i < 100; i++)); do
        [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'sluice-ingest%' AND query LIKE 'COPY%'")" != 0 ] && break
        sleep 0.02
    done
    kill -STOP "$a"
    local t0
    t0=$(date +%s)
    # The second ingester must not be blocked forever by the stopped one's claim.
    CK=B ingest_fg --once --log-level warn 2>"$WORK/stallB.log"
    local waited=$(($(date +%s) - t0))
    sleep $((STALL_S > waited ? STALL_S - waited : 0))
    kill -CONT "$a"
    sleep 1
    kill -TERM "$a"
    wait_exit "$a" 10
    expect_eq "stall: the stopped ingester exits 0 after SIGCONT + SIGTERM" "$EXIT_RC" 0
    echo "stall: ingester A stopped for ${STALL_S}s mid-batch; ingester B finished the folder in ${waited}s"
    check "stall: B was not blocked forever (${waited}s)" test "$waited" -lt $((LOCK_TIMEOUT + 30))
    final_pass
    exactly_once stall
}

# --- the archive folder's disk is full --------------------------------------------------------------
scenario_diskfull() {
    reset
    mkdir -p "$D/archive"
    if ! mount -t tmpfs -o size=64k tmpfs "$D/archive" 2>/dev/null; then
        echo "diskfull: skipped (cannot mount a tmpfs here)"
        return
    fi
    wave 4 1000 2>/dev/null
    ingest_fg --once --log-level warn
    "$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" --input-dir "$IN" \
        --archive-dir "$D/archive" --log-level error >/dev/null 2>&1
    local stuck
    stuck=$(find "$IN" -type f | wc -l)
    check "diskfull: files that did not fit stay in the hot folder" test "$stuck" -ge 1
    expect_eq "diskfull: their ledger rows stay done" \
        "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done' AND archived_at IS NULL")" "$stuck"
    mount -o remount,size=16m "$D/archive"
    final_pass
    echo "diskfull: $stuck files waited for room, then were archived"
    exactly_once diskfull
    umount "$D/archive" 2>/dev/null || umount -l "$D/archive"
}

# --- inotify overflow: files dropped while the ingester is stopped ---------------------------------
scenario_overflow() {
    [ "$OVERFLOW_FILES" -gt 0 ] || { echo "overflow: skipped (OVERFLOW_FILES=0)"; return; }
    reset
    ingest_bg --rescan-interval 3600 2>"$WORK/overflow.log"
    local pid=$!
    sleep 1
    kill -STOP "$pid"
    mkdir -p "$D/stage"
    # Small files written without fsync (speed), then renamed in as one burst.
    awk -v n="$OVERFLOW_FILES" -v dir="$D/stage" 'BEGIN {
        for (i = 0; i < n; i++) {
            f = sprintf("%s/ov_%06d.csv", dir, i)
            print "event_id,event_time,event_type,product_id,price,user_id,session_id" > f
            printf "ov-%d,2026-01-01 00:00:00,view,1,1.00,1,s\n", i > f
            close(f)
        } }'
    find "$D/stage" -name '*.csv' -exec mv -t "$IN" {} +
    printf '{"files": %d, "rows": %d, "valid": %d, "invalid": 0, "valid_price_sum": "%d.00"}\n' \
        "$OVERFLOW_FILES" "$OVERFLOW_FILES" "$OVERFLOW_FILES" "$OVERFLOW_FILES" >"$D/manifests/ov.json"
    kill -CONT "$pid"
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'")" = "$OVERFLOW_FILES" ] && break
        sleep 0.5
    done
    kill -TERM "$pid"
    wait_exit "$pid" 10
    check "overflow: reported in the log" grep -q "overflow" "$WORK/overflow.log"
    final_pass
    echo "overflow: $OVERFLOW_FILES files dropped while the ingester was stopped"
    exactly_once overflow
}

# --- SIGTERM under load -------------------------------------------------------------------------------
scenario_sigterm() {
    reset
    wave 40 2000 2>/dev/null
    ingest_bg --batch-bytes 500000 --log-level warn
    local pid=$!
    rand_sleep 300 900
    local t0 rc ms
    t0=$(date +%s%N)
    kill -TERM "$pid"
    wait_exit "$pid" 10
    rc=$EXIT_RC
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_eq "sigterm: exit 0" "$rc" 0
    check "sigterm: exit within 5 s (${ms} ms)" test "$ms" -lt 5000
    expect_eq "sigterm: no partial batch (ledger sums = table counts)" \
        "$(psql_q "SELECT (SELECT coalesce(sum(rows_loaded), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity)
               AND (SELECT coalesce(sum(rows_rejected), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity_errors)")" t
    final_pass
    exactly_once sigterm
}

for s in $SCENARIOS; do
    echo "== $s"
    "scenario_$s"
done
finish
