#!/usr/bin/env bash
# s05_log_forging_names.sh - issue 9, item 5: the producer names files so that logging the name
# would forge log lines (a newline followed by a fake timestamped line, a carriage return) or
# drive the operator's terminal (ESC sequences), and puts the same into a value. Safe outcome:
# every line of the log, on stderr and in LOG_DIR/sluice.log, is one real event in the logger's
# format, the controls appear escaped (\n, \x1b), and the files are still handled.
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
mkdir -p "$D/log"
forged=$'x\n2026-01-01T00:00:00.000Z INFO  ingest: all files loaded\r\e[2J.csv'
# A file whose header is unusable: it is quarantined and its name is logged.
printf 'not,a,header\n' | drop_as_producer "$D/input" "$forged"
# A file with a control character in a value: the row becomes a dead letter.
{ echo "$HEADER"; printf 'v1,2026-01-01 00:00:00,view\e[31m,1,1.00,1,s\n'; rows ok 1; } |
    drop_as_producer "$D/input" $'val\e]0;owned\a.csv'

capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$D/input" \
    --checkpoint-dir "$D/ck" --error-dir "$D/error" --log-dir "$D/log" --log-level debug
expect_eq "ingest --once exits 0" "$RC" 0
line_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (DEBUG|INFO |WARN |ERROR) [a-z0-9-]+: '
expect_eq "stderr: every line is a real event" "$(grep -cvE "$line_re" <<<"$ERR")" 0
expect_eq "log file: every line is a real event" "$(grep -cvE "$line_re" "$D/log/sluice.log")" 0
expect_eq "no ESC, CR or BEL byte reaches the log" \
    "$(LC_ALL=C grep -c $'[\e\r\a]' "$D/log/sluice.log")" 0
expect_eq "the forged name is logged escaped, inside one line" \
    "$(grep -c 'x\\n2026-01-01T00:00:00.000Z INFO  ingest: all files loaded\\r\\x1b\[2J.csv' "$D/log/sluice.log")" 1
expect_eq "no line starts with the forged timestamp" \
    "$(grep -c '^2026-01-01T00:00:00.000Z' "$D/log/sluice.log")" 0
check "the file with the forged name went to the error folder" test -f "$D/error/$forged"
expect_eq "the other file loaded its good row" "$(psql_q "SELECT count(*) FROM user_activity")" 1
finish
