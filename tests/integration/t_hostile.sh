#!/usr/bin/env bash
# t_hostile.sh - the hand-written hostile corpus (tests/data/hostile) dropped into the folder of
# a running ingester: every row lands where tests/data/hostile/EXPECTED says, every unusable
# file goes to the error folder, the ingester keeps running, and a second run changes nothing.
source "$(dirname "$0")/lib.sh"
pg_start
H=$SLUICE_SRC/tests/data/hostile
D=$WORK/data
mkdir -p "$D/input"
ING=(--db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error"
    --max-row-bytes 100 --max-file-bytes 1200)

"$SLUICE_BIN" ingest "${ING[@]}" --rescan-interval 1 2>"$WORK/ingest.log" &
pid=$!
sleep 0.5
# Hand the corpus over the way producers do: complete files renamed in.
mkdir -p "$D/stage"
cp -a "$H/." "$D/stage/"
rm "$D/stage/EXPECTED"
for f in "$D/stage/"* "$D/stage/".hidden.csv; do mv "$f" "$D/input/"; done
ln -s "$D/input/values.csv" "$D/input/link.csv"
mkfifo "$D/input/pipe.csv"
mkdir "$D/input/folder.csv"

nfiles=$(grep -c '^=' "$H/EXPECTED")
for ((i = 0; i < 100; i++)); do
    [ "$(psql_q "SELECT count(*) FROM ingest_files WHERE status <> 'loading'" 2>/dev/null)" = "$nfiles" ] && break
    sleep 0.1
done
sleep 1.5 # one more rescan: the symlink, FIFO and folder are handled by then
check "the ingester is still running after the whole corpus" kill -0 "$pid"

expect_eq "dead letters: file, line, code, column" \
    "$(psql_q "SELECT source_file || '|' || line_number || '|' || error_code || '|' || coalesce(error_column, '')
               FROM user_activity_errors ORDER BY 1")" \
    "$(grep -v '^[#=]' "$H/EXPECTED" | LC_ALL=C sort)"
expect_eq "ledger: status and counts per file" \
    "$(psql_q "SELECT '=' || file_name || '|' || status || '|' || rows_loaded || '|' || rows_rejected
               FROM ingest_files ORDER BY 1")" \
    "$(grep '^=' "$H/EXPECTED" | LC_ALL=C sort)"
expect_eq "loaded rows = sum of the ledger" "$(psql_q "SELECT count(*) FROM user_activity")" \
    "$(grep '^=' "$H/EXPECTED" | awk -F'|' '{ s += $3 } END { print s }')"
expect_eq "raw_line keeps invalid bytes and NUL as \\xNN" \
    "$(psql_q "SELECT raw_line FROM user_activity_errors WHERE source_file = 'encoding.csv' ORDER BY line_number")" \
    'e02,2026-01-01 00:00:00,vi\xffew,1,1.00,1,s
e03,2026-01-01 00:00:00,view,1,1.00,1,s\x00x'
expect_eq "raw text columns: NULL when not UTF-8, raw otherwise" \
    "$(psql_q "SELECT coalesce(event_type, 'NULL') || '|' || event_id FROM user_activity_errors
               WHERE source_file = 'encoding.csv' ORDER BY line_number")" \
    "NULL|e02
view|e03"
expect_eq "unterminated quote: one dead letter from that row to the end" \
    "$(psql_q "SELECT raw_line FROM user_activity_errors WHERE error_code = 'unterminated_quote'")" \
    'e09,"2026-01-01 00:00:00,view,1,1.00,1,s
e10,2026-01-01 00:00:00,view,1,1.00,1,s'
expect_eq "row too long: raw text cut at the cap" \
    "$(psql_q "SELECT octet_length(raw_line) FROM user_activity_errors WHERE error_code = 'row_too_long'")" 100
expect_eq "quoted commas, newlines, BOM, CRLF, reordered header" \
    "$(psql_q "SELECT event_id || '|' || session_id || '|' || price || '|' || event_time FROM user_activity
               WHERE event_id LIKE 'q%' ORDER BY 1")" \
    "q01|s,1|1000.00|2026-01-01 00:00:00
q02|s,2|2.50|2026-01-01 00:00:00"
expect_eq "the error folder: unusable files and entries that are not regular files" \
    "$(cd "$D/error" && ls -A | LC_ALL=C sort | tr '\n' ' ')" \
    "folder.csv header_binary.csv header_missing.csv link.csv pipe.csv too_big.csv "
check "the symlink was moved, not followed" test -L "$D/error/link.csv"
check "the FIFO was moved, never opened" test -p "$D/error/pipe.csv"
expect_eq "names that do not match are never touched" \
    "$(cd "$D/input" && ls -A .hidden.csv notes.txt partial.csv.tmp | tr '\n' ' ')" \
    ".hidden.csv notes.txt partial.csv.tmp "

kill -TERM "$pid"
wait "$pid"
expect_eq "SIGTERM: exit 0" "$?" 0
snap() { psql_q "SELECT (SELECT count(*) FROM user_activity), (SELECT count(*) FROM user_activity_errors),
                 (SELECT string_agg(file_name || status || committed_at, ',' ORDER BY file_name) FROM ingest_files)"; }
before=$(snap)
capture "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "second run exits 0" "$RC" 0
expect_eq "second run changes nothing" "$(snap)" "$before"
finish
