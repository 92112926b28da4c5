#!/usr/bin/env bash
# t_start_checks.sh - what can be checked before work starts is: a missing hot folder is an error
# (a typo must not look like success) unless --create-dirs; the error, archive and checkpoint
# folders must be writable (a probe file is made and removed); --log-dir is created. And `sluice
# run` keeps --min-age at shutdown unless --drain-archive.
source "$(dirname "$0")/lib.sh"

pg_start
D=$WORK/d
ING=(ingest --once --db "$SLUICE_DB" --checkpoint-dir "$D/ck" --error-dir "$D/error")

capture "$SLUICE_BIN" "${ING[@]}" --input-dir "$D/inptu"
expect_eq "a missing --input-dir: exit 1" "$RC" 1
expect_match "and the line names it and the way out" "$ERR" \
    "input folder '$D/inptu' does not exist hint=create it, correct --input-dir, or pass --create-dirs"
check "and nothing is created" test ! -e "$D/inptu"
check "not even the other folders" test ! -e "$D/ck"
capture "$SLUICE_BIN" archive --once --db "$SLUICE_DB" --input-dir "$D/inptu" --archive-dir "$D/a"
expect_eq "archive too: exit 1" "$RC" 1

capture "$SLUICE_BIN" "${ING[@]}" --input-dir "$D/input" --create-dirs --log-dir "$D/logs"
expect_eq "--create-dirs makes it: exit 0" "$RC" 0
check "the input folder exists" test -d "$D/input"
check "the error folder exists" test -d "$D/error"
check "the checkpoint folder exists" test -d "$D/ck"
check "--log-dir is created" test -s "$D/logs/sluice.log"
expect_eq "no probe file is left behind" "$(find "$D" -name '.sluice-probe*' | wc -l)" 0

touch "$D/afile"
capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" \
    --error-dir "$D/afile"
expect_eq "an error folder that is a file: exit 1" "$RC" 1
expect_match "and says so" "$ERR" "error folder '$D/afile' is not a folder"

if [ "$(id -u)" = 0 ]; then
    # As another user, a folder owned by root (0755) is not writable: the probe finds out.
    mkdir -p "$WORK/ro/input" "$WORK/ro/ck"
    chmod 755 "$WORK/ro"
    chmod 777 "$WORK/ro/ck" "$WORK/ro/input"
    mkdir -m 755 "$WORK/ro/error"
    capture runuser -u nobody -- "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" \
        --input-dir "$WORK/ro/input" --checkpoint-dir "$WORK/ro/ck" --error-dir "$WORK/ro/error"
    expect_eq "an error folder we cannot write: exit 1" "$RC" 1
    expect_match "and the line says which" "$ERR" "error folder '$WORK/ro/error' is not writable"
fi

# run: --min-age holds at shutdown unless --drain-archive.
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$WORK/r1" --seconds 2 --rate 500 \
    --rows-per-file 50 --min-age 3600
expect_eq "run with --min-age 3600: exit 0" "$RC" 0
check "files loaded" test "$(ls "$WORK/r1/input" | wc -l)" -gt 0
expect_eq "none archived: they are younger than --min-age" "$(ls "$WORK/r1/archive" | wc -l)" 0
psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files"
capture "$SLUICE_BIN" run --db "$SLUICE_DB" --data-dir "$WORK/r2" --seconds 2 --rate 500 \
    --rows-per-file 50 --min-age 3600 --drain-archive
expect_eq "run --drain-archive: exit 0" "$RC" 0
expect_eq "every file archived at the end" "$(ls "$WORK/r2/input" | wc -l)" 0
check "and there were some" test "$(ls "$WORK/r2/archive" | wc -l)" -gt 0

finish
