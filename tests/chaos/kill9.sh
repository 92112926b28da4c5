#!/usr/bin/env bash
# kill9.sh - chaos scenario: kill -9 of the ingester while files arrive in waves.
# Run alone (SLUICE_BIN=... bash kill9.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

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
final_pass
echo "kill9: $kills kills of the ingester, $kills restarts, $(manifest_sum files) files arrived in $waves waves"
exactly_once kill9
finish
