#!/usr/bin/env bash
# archiver_kill9.sh - chaos scenario: kill -9 of the archiver in the middle of its moves, again
# and again while new files arrive and are loaded. Every file must end in the archive exactly
# once (no copy left behind, none moved twice) and its ledger row archived.
# Run alone (SLUICE_BIN=... bash archiver_kill9.sh; CHAOS=full for `make chaos` sizes) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
kills=0
for ((k = 0; k < ARCHIVER_KILLS; k++)); do
    wave 30 20 2>/dev/null
    ingest_fg --once --log-level error
    "$SLUICE_BIN" archive --min-age 0 --db "$SLUICE_DB" --input-dir "$IN" \
        --archive-dir "$D/archive" --log-level error >/dev/null 2>&1 &
    pid=$!
    rand_sleep 5 300
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
done
final_pass
echo "archiver_kill9: $kills kills of the archiver mid-pass, $(manifest_sum files) files"
check "archiver_kill9: the archiver was killed at least once" test "$kills" -ge 1
exactly_once archiver_kill9
finish
