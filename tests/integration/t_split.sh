#!/usr/bin/env bash
# t_split.sh - one large file loaded as segments by several workers ends exactly as one worker
# loading it alone: the same rows, the same dead letters (code, column, line, raw text), the same
# ledger counts. The file has 5% invalid rows, keys repeated from far earlier in the file (so in
# another segment), rows whose quoted fields hold newlines and commas (a cut must not land inside
# them, and line numbers must stay exact). A large file with a wrong header is quarantined once.
# Then the same load is killed at crash points, and run again until done: still the same end
# state. (tests/chaos/split_kill9.sh kills it at random instants.)
source "$(dirname "$0")/lib.sh"
ROWS=${SPLIT_ROWS:-40000}
pg_start

"$SLUICE_BIN" generate --input-dir "$WORK/gen" --temp-dir "$WORK/tmp" --files 1 \
    --rows-per-file "$ROWS" --bad-ratio 0.05 --interval 0 --seed 29 --log-level warn
src=$(ls "$WORK/gen/"*.csv)
# Every 97th row: a quoted session_id holding a newline and a comma; every 1000th row from the
# middle on: the key of a row 15,000 rows earlier (a duplicate_key dead letter).
awk -F, 'NR == 1 { print; next }
    { keys[NR] = $1 }
    NR % 97 == 0 { $0 = $1 "," $2 "," $3 "," $4 "," $5 "," $6 ",\"s,\n" NR "\"" }
    NR > 20000 && NR % 1000 == 0 { sub(/^[^,]*/, keys[NR - 15000]) }
    { print }' "$src" >"$WORK/big.csv"
rm -f "$src"
size=$(stat -c %s "$WORK/big.csv")

reset() { psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files" >/dev/null; }
# state: what must not depend on how the file was loaded.
state() {
    psql_q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM user_activity t"
    psql_q "SELECT md5(string_agg(concat_ws('/', error_code, error_column, line_number,
                raw_line), '|' ORDER BY line_number, raw_line)) FROM user_activity_errors"
    psql_q "SELECT status, committed_offset, rows_loaded, rows_rejected FROM ingest_files"
}
# ingest DIR WORKERS BATCH_BYTES [ENV...]: one --once run.
ingest() {
    local dir=$1 workers=$2 batch=$3
    shift 3
    capture env "$@" "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$dir" \
        --workers "$workers" --batch-bytes "$batch" --checkpoint-dir "$WORK/ck" \
        --error-dir "$WORK/err" --log-level info
}
fresh_input() {
    rm -rf "$WORK/in" && mkdir -p "$WORK/in" && cp "$WORK/big.csv" "$WORK/in/big.csv"
}

# The reference: one worker, one batch.
fresh_input
ingest "$WORK/in" 1 $((size * 2))
expect_eq "one worker: exit 0" "$RC" 0
want=$(state)
expect_match "one worker: file done" "$want" "done|$size|"
dups=$(psql_q "SELECT count(*) FROM user_activity_errors WHERE error_code = 'duplicate_key'")
check "one worker: the repeated keys are dead letters ($dups)" test "$dups" -ge 20
multi=$(psql_q "SELECT count(*) FROM user_activity WHERE session_id LIKE E's,\n%'")
check "one worker: quoted newlines loaded" test "$multi" -gt 300

# Segments: two and three workers, small batches (many segments, cuts among quoted newlines).
for run in "2 300000" "3 120000" "2 40000"; do
    set -- $run
    reset
    fresh_input
    ingest "$WORK/in" "$1" "$2"
    expect_eq "$1 workers, $2-byte segments: exit 0" "$RC" 0
    expect_match "$1 workers, $2-byte segments: loaded as segments" "$ERR" "in segments of about"
    batches=$(grep -c "batch committed" <<<"$ERR")
    check "$1 workers, $2-byte segments: several segments committed ($batches)" \
        test "$batches" -ge $((size / $2 - 1))
    workers_used=$(grep "batch committed" <<<"$ERR" | grep -o "ingest-[0-9]" | sort -u | wc -l)
    check "$1 workers, $2-byte segments: segments loaded by $workers_used workers" \
        test "$workers_used" -ge 2
    expect_eq "$1 workers, $2-byte segments: same end state as one worker" "$(state)" "$want"
    expect_match "$1 workers, $2-byte segments: the file counted done once" "$ERR" \
        "stopped: 1 files done, 0 quarantined"
done

# A large file whose header is wrong is quarantined whole, once, as with one worker.
reset
fresh_input
sed -i '1s/.*/event_id,when,what/' "$WORK/in/big.csv"
ingest "$WORK/in" 2 200000
expect_eq "bad header, 2 workers: exit 0" "$RC" 0
expect_eq "bad header, 2 workers: one dead letter" \
    "$(psql_q "SELECT error_code, line_number FROM user_activity_errors")" "bad_header|1"
expect_eq "bad header, 2 workers: ledger" "$(psql_q "SELECT status, rows_loaded FROM ingest_files")" \
    "quarantined|0"
check "bad header, 2 workers: moved to the error folder" test -f "$WORK/err/big.csv"
expect_match "bad header, 2 workers: counted once" "$ERR" "0 files done, 1 quarantined"
rm -rf "$WORK/err"

# A run killed where a segment waits for its turn, then run again to the end.
reset
fresh_input
ingest "$WORK/in" 2 200000 SLUICE_FAULT=segment-turn:3
expect_eq "killed at the third segment's turn: exit 77" "$RC" 77
ingest "$WORK/in" 2 200000
expect_eq "after the kill: exit 0" "$RC" 0
expect_eq "after the kill: same end state as one worker" "$(state)" "$want"

# Killed again and again at a random pass of a random crash point (claimed, mid-copy, the
# segment's turn, before and after COMMIT), run again each time, until a run finishes.
reset
fresh_input
RANDOM=7
points=(claimed mid-copy segment-turn before-commit after-commit)
kills=0
for round in $(seq 1 12); do
    ingest "$WORK/in" 2 150000 SLUICE_FAULT="${points[RANDOM % 5]}:$((RANDOM % 6 + 1))"
    [ "$RC" = 77 ] && kills=$((kills + 1))
    [ "$(psql_q "SELECT status FROM ingest_files")" = done ] && break
done
ingest "$WORK/in" 2 150000
expect_eq "after $kills kills: exit 0" "$RC" 0
check "at least 5 kills landed ($kills)" test "$kills" -ge 5
expect_eq "after $kills kills: same end state as one worker" "$(state)" "$want"
finish
