#!/usr/bin/env bash
# diskfull.sh - chaos scenario: the archive folder's disk is full.
# Run alone (SLUICE_BIN=... bash diskfull.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
mkdir -p "$D/archive"
if ! mount -t tmpfs -o size=64k tmpfs "$D/archive" 2>/dev/null; then
    echo "diskfull: skipped (cannot mount a tmpfs here)"
    finish
fi
wave 4 1000 2>/dev/null
ingest_fg --once --log-level warn
"$SLUICE_BIN" archive --once --min-age 0 --db "$SLUICE_DB" --input-dir "$IN" \
    --archive-dir "$D/archive" --log-level error >/dev/null 2>&1
stuck=$(find "$IN" -type f | wc -l)
check "diskfull: files that did not fit stay in the hot folder" test "$stuck" -ge 1
expect_eq "diskfull: their ledger rows stay done" \
    "$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done' AND archived_at IS NULL")" "$stuck"
mount -o remount,size=16m "$D/archive"
final_pass
echo "diskfull: $stuck files waited for room, then were archived"
exactly_once diskfull
umount "$D/archive" 2>/dev/null || umount -l "$D/archive"
finish
