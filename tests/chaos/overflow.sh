#!/usr/bin/env bash
# overflow.sh - chaos scenario: inotify overflow: files dropped while the ingester is stopped.
# Run alone (SLUICE_BIN=... bash overflow.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

[ "$OVERFLOW_FILES" -gt 0 ] || { echo "overflow: skipped (OVERFLOW_FILES=0)"; finish; }
reset
ingest_bg --rescan-interval 3600 2>"$WORK/overflow.log"
pid=$!
# stopped once it watches the folder (its first listing is done)
wait_for 10 grep -q "watching" "$WORK/overflow.log"
kill -STOP "$pid"
# Small files written without fsync (speed), then renamed in as one burst.
bash "$SLUICE_SRC/scripts/tiny-files.sh" "$D/stage" "$OVERFLOW_FILES" ov
find "$D/stage" -name '*.csv' -exec mv -t "$IN" {} +
printf '{"files": %d, "rows": %d, "valid": %d, "invalid": 0, "valid_price_sum": "%d.00"}\n' \
    "$OVERFLOW_FILES" "$OVERFLOW_FILES" "$OVERFLOW_FILES" "$OVERFLOW_FILES" >"$D/manifests/ov.json"
kill -CONT "$pid"
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
finish
