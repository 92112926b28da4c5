#!/usr/bin/env bash
# split_kill9.sh - chaos scenario: kill -9 of the ingester, again and again, while large files
# load as segments taken by three workers (--batch-bytes small, so every file is cut in many
# segments, several in flight at once). Then a clean pass: every row exactly once, every
# invalid row a dead letter, every file done and archived (exactly_once).
# Run alone (SLUICE_BIN=... bash split_kill9.sh; CHAOS=full for the sizes of `make chaos`) or
# by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

if [ "${CHAOS:-quick}" = full ]; then
    SP_FILES=6 SP_ROWS=120000 SP_KILLS=100
else
    SP_FILES=${SP_FILES:-3} SP_ROWS=${SP_ROWS:-60000} SP_KILLS=${SP_KILLS:-15}
fi
reset
wave "$SP_FILES" "$SP_ROWS"
kills=0 midload=0
while [ "$kills" -lt "$SP_KILLS" ] && [ "$(files_done)" -lt "$SP_FILES" ]; do
    ingest_bg --workers 3 --batch-bytes 200000 --log-level error 2>/dev/null
    pid=$!
    rand_sleep 30 250
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    [ "$(files_done)" -lt "$SP_FILES" ] && midload=$((midload + 1))
done
echo "split_kill9: $kills kills, $midload while files were loading; $(files_done) of $SP_FILES files done before the clean pass"
check "split_kill9: at least one kill landed while files were loading" [ "$midload" -gt 0 ]
final_pass
exactly_once split_kill9
finish
