#!/usr/bin/env bash
# shared_kill9.sh - chaos scenario: two ingesters share one hot folder (each with its own
# checkpoint folder) while files arrive; one of them, chosen at random, is killed with -9 and
# restarted, again and again. The survivor must take over the dead one's files.
# Run alone (SLUICE_BIN=... bash shared_kill9.sh; CHAOS=full for `make chaos` sizes) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
(for ((w = 0; w < 5; w++)); do wave $((KILL_FILES / 5)) "$KILL_ROWS" 2>/dev/null; sleep 0.3; done) &
gen=$!
# start V: (re)start ingester V (0 or 1), each start logging to a file of its own.
starts=(0 0)
start() {
    starts[$1]=$((starts[$1] + 1))
    local log="$WORK/shared$1.${starts[$1]}.log"
    if [ "$1" = 0 ]; then CK=A ingest_bg --batch-bytes 200000 --log-level info 2>"$log"
    else CK=B ingest_bg --batch-bytes 200000 --log-level info 2>"$log"; fi
    pids[$1]=$!
}
# up V: ingester V's latest start has reached its main loop.
up() {
    grep -q "watching" "$WORK/shared$1.${starts[$1]}.log" 2>/dev/null
}
start 0
start 1
kills=0
for ((k = 0; k < KILLS; k++)); do
    rand_sleep 50 500
    v=$((RANDOM % 2))
    kill -9 "${pids[$v]}" 2>/dev/null
    wait "${pids[$v]}" 2>/dev/null
    kills=$((kills + 1))
    start "$v"
done
wait "$gen"
for v in 0 1; do
    check "shared_kill9: ingester $v is up before its SIGTERM" wait_for 30 up "$v"
    kill -TERM "${pids[$v]}"
    wait_exit "${pids[$v]}" 10
    expect_eq "shared_kill9: ingester $v exits 0 on SIGTERM" "$EXIT_RC" 0
done
final_pass
echo "shared_kill9: $kills kills of one of two ingesters sharing the folder, $(manifest_sum files) files"
exactly_once shared_kill9
finish
