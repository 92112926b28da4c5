#!/usr/bin/env bash
# pgcrash.sh - chaos scenario: PostgreSQL crashes (immediate shutdown) and restarts under load.
# Run alone (SLUICE_BIN=... bash pgcrash.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
ingest_bg --batch-bytes 200000 --log-level warn 2>"$WORK/pgcrash.log"
pid=$! crashes=0 worst=0 alive=1
for ((c = 0; c < PG_CRASHES; c++)); do
    wave 8 1000 2>/dev/null
    rand_sleep 100 1500
    "$SLUICE_BIN" db kill --pg-dir "$PG_DIR" >/dev/null 2>&1
    crashes=$((crashes + 1))
    rand_sleep 200 1000
    "$SLUICE_BIN" db start --pg-dir "$PG_DIR" --fast --pg-port "$PG_PORT" >/dev/null 2>&1
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
finish
