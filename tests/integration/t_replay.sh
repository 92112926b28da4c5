#!/usr/bin/env bash
# t_replay.sh - sluice replay: dead letters re-read from raw_line under their file's header (kept
# in the ledger) and re-checked against the current contract.
#  - a generated load with 5% invalid rows across the codes; the event type rule widened to the
#    generator's bad type: exactly the rows with that cause move, the counts balance;
#  - --dry-run before and after widening changes nothing (the two tables dumped, compared);
#  - kill -9 at each replay fault point: every row in exactly one of the two tables, none twice;
#  - two replays at once move each row once;
#  - one raw_line corrected by SQL moves; the others keep their codes, replay_count + 1;
#  - a quarantined file's dead letter and a file loaded before headers were kept are refused
#    with the message; bad options exit 2;
#  - a table of our own: a widened CHECK, a header in another column order, and a trigger that
#    refuses one row (it stays, db_rejected with the server's message);
#  - duplicates follow --on-conflict: skip drops them from the dead letters, update replaces the
#    stored row (the last copy in the batch wins, the --update-if guard may decline).
source "$(dirname "$0")/lib.sh"
pg_start

IN=$WORK/in
mkdir -p "$IN" "$WORK/err" "$WORK/ck" "$WORK/tmp"
ING=("$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/ck"
    --error-dir "$WORK/err" --once --log-level warn)
REPLAY=("$SLUICE_BIN" replay --db "$SLUICE_DB" --log-level warn)

"$SLUICE_BIN" generate --input-dir "$IN" --temp-dir "$WORK/tmp" --files 8 --rows-per-file 1000 \
    --bad-ratio 0.05 --seed 12 --interval 0 --manifest "$WORK/manifest.json" --log-level warn
ROWS=$(grep -o '"rows": *[0-9]*' "$WORK/manifest.json" | grep -o '[0-9]*$')
capture "${ING[@]}"
expect_eq "ingest exits 0" "$RC" 0

total() {
    psql_q "SELECT (SELECT count(*) FROM user_activity) + (SELECT count(*) FROM user_activity_errors)"
}
# Every dead letter's event_id either in the table or among the dead letters, never both, for
# the rows that can move (fresh ids); and table + dead letters = rows read.
both() {
    psql_q "SELECT count(*) FROM user_activity_errors e JOIN user_activity u USING (event_id)
            WHERE e.error_code <> 'duplicate_key'"
}
dump() {
    psql_q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM user_activity t"
    psql_q "SELECT md5(string_agg(t::text, '|' ORDER BY t.error_id)) FROM user_activity_errors t"
}
codes() {
    psql_q "SELECT string_agg(error_code || '=' || n, ',' ORDER BY error_code) FROM
            (SELECT error_code, count(*) n FROM user_activity_errors GROUP BY 1) c"
}

expect_eq "table + dead letters = rows read" "$(total)" "$ROWS"
expect_eq "the ledger keeps each file's header line" \
    "$(psql_q "SELECT count(*) FILTER (WHERE header_line =
        'event_id,event_time,event_type,product_id,price,user_id,session_id'), count(*)
        FROM ingest_files")" "8|8"
NERR=$(psql_q "SELECT count(*) FROM user_activity_errors")
MOVERS=$(psql_q "SELECT count(*) FROM user_activity_errors
                 WHERE error_code = 'rule_violation' AND error_column = 'event_type'")
check "some dead letters have the unknown event type ($MOVERS)" test "$MOVERS" -gt 0
check "the load has 5 or more codes" test "$(codes | tr ',' '\n' | wc -l)" -ge 5
psql_q "CREATE TABLE movers AS SELECT error_id, event_id FROM user_activity_errors
        WHERE error_code = 'rule_violation' AND error_column = 'event_type'" >/dev/null
CODES_BEFORE=$(codes)

# --- nothing passes yet: a dry run and a real one move nothing ------------------------------
before=$(dump)
capture "${REPLAY[@]}" --dry-run
expect_eq "dry run before widening: exit 0" "$RC" 0
expect_match "dry run before widening: nothing would move" "$OUT" "would move 0,"
expect_eq "dry run changes nothing" "$(dump)" "$before"

# --- widen the rule to the generator's bad type ---------------------------------------------
psql_q "ALTER TABLE user_activity DROP CONSTRAINT user_activity_event_type_check,
        ADD CONSTRAINT user_activity_event_type_check
        CHECK (event_type IN ('view', 'purchase', 'unknown_event'))" >/dev/null
before=$(dump)
capture "${REPLAY[@]}" --dry-run --batch-rows 7
expect_eq "dry run after widening: exit 0" "$RC" 0
expect_match "dry run: what would move, by code" "$OUT" \
    "dry run, nothing changed: would move $MOVERS (rule_violation $MOVERS), would still fail $((NERR - MOVERS)) ("
expect_eq "dry run after widening changes nothing" "$(dump)" "$before"

# --- kill -9 inside a batch, at each fault point --------------------------------------------
for fault in replay-after-insert:1 replay-before-commit:1 replay-before-commit:3 \
    replay-after-commit:2; do
    capture env SLUICE_FAULT=$fault "${REPLAY[@]}" --batch-rows 2 --code rule_violation \
        --where-raw '%,unknown_event,%'
    expect_eq "fault $fault: the process died there" "$RC" 77
    expect_eq "fault $fault: table + dead letters = rows read" "$(total)" "$ROWS"
    expect_eq "fault $fault: no row in both tables" "$(both)" 0
    expect_eq "fault $fault: each mover exactly once" \
        "$(psql_q "SELECT count(*) FROM movers m WHERE
            (SELECT count(*) FROM user_activity u WHERE u.event_id = m.event_id) +
            (SELECT count(*) FROM user_activity_errors e WHERE e.error_id = m.error_id) <> 1")" 0
done
# before-commit:3 let two batches of 2 commit, after-commit:2 two more
moved_early=$(psql_q "SELECT count(*) FROM movers JOIN user_activity USING (event_id)")
expect_eq "the batches committed before the faults kept their rows" "$moved_early" \
    "$((MOVERS < 8 ? MOVERS : 8))"

# --- two replays at once, then the rest -----------------------------------------------------
"${REPLAY[@]}" --batch-rows 3 >"$WORK/r1.out" 2>"$WORK/r1.err" &
p1=$!
"${REPLAY[@]}" --batch-rows 3 >"$WORK/r2.out" 2>"$WORK/r2.err" &
p2=$!
wait "$p1"
rc1=$?
wait "$p2"
rc2=$?
expect_eq "two replays at once: both exit 0" "$rc1 $rc2" "0 0"
m1=$(grep -o '^moved [0-9]*' "$WORK/r1.out" | grep -o '[0-9]*')
m2=$(grep -o '^moved [0-9]*' "$WORK/r2.out" | grep -o '[0-9]*')
expect_eq "two replays at once: together they moved the rest, once" "$((m1 + m2))" \
    "$((MOVERS - moved_early))"
expect_eq "after replay: table + dead letters = rows read" "$(total)" "$ROWS"
expect_eq "after replay: no row in both tables" "$(both)" 0
expect_eq "exactly the rows with that cause moved" \
    "$(psql_q "SELECT count(*) FROM movers JOIN user_activity USING (event_id)")|$(
        psql_q "SELECT count(*) FROM user_activity_errors WHERE event_type = 'unknown_event'
                AND error_code = 'rule_violation'")|$(
        psql_q "SELECT count(*) FROM user_activity_errors")" "$MOVERS|0|$((NERR - MOVERS))"
expect_eq "the others keep their codes" "$(codes)" "$(
    psql_q "SELECT string_agg(c || '=' || n, ',' ORDER BY c) FROM (SELECT c, n - CASE WHEN
            c = 'rule_violation' THEN $MOVERS ELSE 0 END AS n FROM (SELECT split_part(x, '=', 1) c,
            split_part(x, '=', 2)::int n FROM unnest(string_to_array('$CODES_BEFORE', ',')) x) a) b
            WHERE n > 0")"
expect_eq "the ones that stayed were re-checked (replay_count, last_replayed_at)" \
    "$(psql_q "SELECT count(*) FILTER (WHERE replay_count >= 1 AND last_replayed_at IS NOT NULL),
               count(*) FROM user_activity_errors")" "$((NERR - MOVERS))|$((NERR - MOVERS))"
expect_eq "a moved row is stored as the loader stores it" \
    "$(psql_q "SELECT count(*) FROM movers m JOIN user_activity u USING (event_id)
               WHERE u.event_type = 'unknown_event' AND u.price > 0 AND u.event_time IS NOT NULL")" \
    "$MOVERS"

# --- correct one raw_line by SQL and replay it ----------------------------------------------
ID=$(psql_q "SELECT min(error_id) FROM user_activity_errors WHERE error_code = 'rule_violation'
             AND error_column = 'price' AND price = '-50.00'")
check "a price dead letter to correct" test -n "$ID"
EID=$(psql_q "SELECT event_id FROM user_activity_errors WHERE error_id = $ID")
psql_q "UPDATE user_activity_errors SET raw_line = replace(raw_line, ',-50.00,', ',50.00,')
        WHERE error_id = $ID" >/dev/null
before=$(dump)
capture "${REPLAY[@]}" --code rule_violation --dry-run
expect_match "dry run: the corrected row would move" "$OUT" "would move 1 (rule_violation 1)"
expect_eq "dry run changes nothing" "$(dump)" "$before"
capture "${REPLAY[@]}" --code rule_violation --where-raw '%,50.00,%'
expect_eq "replay of the corrected row: exit 0" "$RC" 0
expect_match "replay of the corrected row: it moves" "$OUT" "moved 1 (rule_violation 1)"
expect_eq "the corrected row is in the table, out of the dead letters" \
    "$(psql_q "SELECT price FROM user_activity WHERE event_id = '$EID'")|$(
        psql_q "SELECT count(*) FROM user_activity_errors WHERE error_id = $ID")" "50.00|0"
expect_eq "table + dead letters = rows read" "$(total)" "$ROWS"

ID=$(psql_q "SELECT min(error_id) FROM user_activity_errors WHERE error_code = 'bad_value'")
psql_q "UPDATE user_activity_errors SET raw_line = '' WHERE error_id = $ID" >/dev/null
capture "${REPLAY[@]}" --where-raw ''
expect_eq "an emptied raw_line stays, and says so" "$OUT|$(psql_q "SELECT error_code || ': ' ||
    error_message FROM user_activity_errors WHERE error_id = $ID")" \
    "moved 0, still failing 1 (wrong_column_count 1), refused 0|wrong_column_count: raw_line holds no row"

# --- refused: a quarantined file, and a file loaded before headers were kept -----------------
printf 'id,event_time,event_type\nx,2026-01-01 00:00:00,view\n' >"$IN/broken_header.csv"
capture "${ING[@]}"
expect_eq "a bad header: quarantined" \
    "$(psql_q "SELECT error_code FROM user_activity_errors WHERE source_file = 'broken_header.csv'")" \
    "bad_header"
before=$(dump)
capture "${REPLAY[@]}" --file broken_header.csv
expect_eq "replay of a quarantined file's dead letter: exit 0" "$RC" 0
expect_match "it is refused" "$OUT" "moved 0, still failing 0, refused 1"
expect_match "with the message" "$ERR" \
    "refused 1 dead letters of files refused whole (bad_header, bad_file): drop the fixed file in again instead"
expect_eq "a refused dead letter is left as it was" "$(dump)" "$before"

F=$(psql_q "SELECT source_file FROM user_activity_errors WHERE error_code = 'missing_field'
            ORDER BY error_id LIMIT 1")
N=$(psql_q "SELECT count(*) FROM user_activity_errors WHERE source_file = '$F'")
psql_q "UPDATE ingest_files SET header_line = NULL WHERE file_name = '$F'" >/dev/null
capture "${REPLAY[@]}" --file "$F"
expect_match "a file loaded before headers were kept: refused" "$OUT" "refused $N"
expect_match "with the message" "$ERR" "of files loaded before the ledger kept header lines"

# --- bad options ----------------------------------------------------------------------------
capture "${REPLAY[@]}" --code nonsense
expect_eq "an unknown --code: exit 2" "$RC" 2
capture "${REPLAY[@]}" --since 'not a time'
expect_eq "an unreadable --since: exit 2" "$RC" 2
expect_match "it says why" "$ERR" "invalid value 'not a time' for --since"
INGEST=$("$SLUICE_BIN" db ingest-url --pg-dir "$PG_DIR" --pg-port "$PG_PORT")
capture "$SLUICE_BIN" replay --db "$INGEST"
expect_eq "replay as the ingest role: exit 1" "$RC" 1
expect_match "it names what replay needs, which the ingest role is never granted" "$ERR" \
    'GRANT SELECT, UPDATE, DELETE ON TABLE public.user_activity_errors TO sluice_ingest;'
capture "${REPLAY[@]}" --batch-rows 0
expect_eq "--batch-rows 0: exit 2" "$RC" 2
capture "${REPLAY[@]}" --since '2000-01-01' --until '2000-01-02'
expect_eq "a window with no dead letters: exit 0, nothing" "$RC|$OUT" \
    "0|moved 0, still failing 0, refused 0"

# --- a table of our own ---------------------------------------------------------------------
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE readings (
    site  varchar(8) NOT NULL,
    seq   bigint NOT NULL,
    n     integer NOT NULL CHECK (n BETWEEN 1 AND 10),
    note  text DEFAULT 'none',
    PRIMARY KEY (site, seq)
);
CREATE FUNCTION no_fifty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.n = 50 THEN RAISE EXCEPTION 'fifty is not allowed here'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER no_fifty BEFORE INSERT ON readings FOR EACH ROW EXECUTE FUNCTION no_fifty();
SQL
IN2=$WORK/in2
mkdir -p "$IN2"
printf 'site,seq,n,note\na,1,5,ok\na,2,20,big\na,3,50,fifty\na,4,0,zero\n' >"$IN2/r1.csv"
printf 'n,seq,site\n30,1,b\n7,2,b\n40,4,a\n60,1,a\n' >"$IN2/r2.csv"
capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN2" --checkpoint-dir "$WORK/ck" \
    --error-dir "$WORK/err" --once --log-level warn --table readings
expect_eq "own table: ingest exits 0" "$RC" 0
expect_eq "own table: dead letters" \
    "$(psql_q "SELECT string_agg(source_file || ':' || line_number || ':' || error_code, ','
               ORDER BY source_file, line_number) FROM readings_errors")" \
    "r1.csv:3:rule_violation,r1.csv:4:rule_violation,r1.csv:5:rule_violation,r2.csv:2:rule_violation,r2.csv:4:rule_violation,r2.csv:5:rule_violation"
psql_q "ALTER TABLE readings DROP CONSTRAINT readings_n_check,
        ADD CONSTRAINT readings_n_check CHECK (n BETWEEN 1 AND 100)" >/dev/null
capture "${REPLAY[@]}" --table readings
expect_eq "own table: replay exits 0" "$RC" 0
expect_eq "own table: summary" "$OUT" \
    "moved 3 (rule_violation 3), still failing 3 (rule_violation 1, duplicate_key 1, db_rejected 1), refused 0"
expect_eq "own table: rows, defaults where the file had no column" \
    "$(psql_q "SELECT string_agg(site || seq || ':' || n || ':' || note, ',' ORDER BY site, seq)
               FROM readings")" "a1:5:ok,a2:20:big,a4:40:none,b1:30:none,b2:7:none"
expect_eq "own table: what stays, and why" \
    "$(psql_q "SELECT string_agg(line_number || ':' || error_code || ':' || error_message || ':'
               || replay_count, ',' ORDER BY source_file, line_number) FROM readings_errors")" \
    "4:db_rejected:P0001: fifty is not allowed here:1,5:rule_violation:n: '0' violates readings_n_check (((n >= 1) AND (n <= 100))):1,5:duplicate_key:key (site, seq) = (a, 1) is already loaded:1"

# --- duplicates follow --on-conflict --------------------------------------------------------
ING_R=("$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN2" --checkpoint-dir "$WORK/ck"
    --error-dir "$WORK/err" --once --log-level warn --table readings)
before=$(psql_q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM readings_errors t")
capture "${REPLAY[@]}" --table readings --on-conflict skip --code duplicate_key --dry-run
expect_eq "skip, dry run: the duplicate would leave the dead letters" "$OUT" \
    "dry run, nothing changed: would move 0, would skip 1, would still fail 0, refused 0"
expect_eq "skip, dry run: nothing changed" \
    "$(psql_q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM readings_errors t")" \
    "$before"
printf 'site,seq,n\na,2,9\nb,1,31\nb,2,8\nb,2,9\n' >"$IN2/r3.csv"
capture "${ING_R[@]}"
expect_eq "r3.csv: every row a duplicate_key (reject mode)" \
    "$(psql_q "SELECT count(*) FROM readings_errors WHERE source_file = 'r3.csv'
               AND error_code = 'duplicate_key'")" 4
capture "${REPLAY[@]}" --table readings --on-conflict update --update-if 'EXCLUDED.n > readings.n' \
    --code duplicate_key
expect_eq "update: replaced where the guard holds, the batch's last copy wins" "$RC|$OUT" \
    "0|moved 3 (duplicate_key 3), updated 3, skipped 2, still failing 0, refused 0"
expect_eq "update: the stored rows" \
    "$(psql_q "SELECT string_agg(site || seq || ':' || n || ':' || note, ',' ORDER BY site, seq)
               FROM readings")" "a1:60:ok,a2:20:big,a4:40:none,b1:31:none,b2:9:none"
expect_eq "update: no duplicate_key left" \
    "$(psql_q "SELECT count(*) FROM readings_errors WHERE error_code = 'duplicate_key'")" 0
printf 'site,seq,n\nb,1,50\nb,2,77\n' >"$IN2/r5.csv"
capture "${ING_R[@]}"
capture "${REPLAY[@]}" --table readings --on-conflict update --update-if 'EXCLUDED.n > readings.n' \
    --file r5.csv
expect_eq "update: a row the server refuses stays, the others go in one by one" "$RC|$OUT" \
    "0|moved 1 (duplicate_key 1), updated 1, skipped 0, still failing 1 (db_rejected 1), refused 0"
expect_eq "update: what the refused one left, and what the other replaced" "$(
    psql_q "SELECT error_code || ':' || error_message FROM readings_errors
            WHERE source_file = 'r5.csv'")|$(psql_q "SELECT n FROM readings WHERE site = 'b'
            ORDER BY seq")" "db_rejected:P0001: fifty is not allowed here|31
77"
printf 'site,seq,n\na,1,70\n' >"$IN2/r4.csv"
capture "${ING_R[@]}"
capture "${REPLAY[@]}" --table readings --on-conflict skip
# r4's copy of a1, and r5's refused copy of b1 (its key is loaded: skipped before the trigger runs)
expect_eq "skip: the duplicates leave the dead letters, the stored rows stay" "$OUT|$(
    psql_q "SELECT n FROM readings WHERE site = 'a' AND seq = 1")|$(
    psql_q "SELECT count(*) FROM readings_errors WHERE source_file = 'r4.csv'")" \
    "moved 0, skipped 2, still failing 2 (rule_violation 1, db_rejected 1), refused 0|60|0"

finish
