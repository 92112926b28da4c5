#!/usr/bin/env bash
# faults.sh - chaos scenario: every fault point x FAULT_RUNS.
# Run alone (SLUICE_BIN=... bash faults.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

points="claimed mid-copy mid-deadletter before-commit after-commit archive-before-dir-fsync"
crashes=0 runs=0
for p in $points; do
    for ((run = 1; run <= FAULT_RUNS; run++)); do
        reset
        BAD_RATIO=0.05 wave 6 300 2>/dev/null
        n=$((1 + RANDOM % 3))
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
finish
