#!/usr/bin/env bash
# t_conflict.sh - --on-conflict reject, skip and update on the seed table, with a key repeated
# within one file, across two files of one batch, and against rows a previous run loaded:
#  - reject: the first copy stays, the others are duplicate_key dead letters (as before);
#  - skip: the first copy stays, the others are dropped and counted as rows_skipped, no dead letter;
#  - update: the last copy read wins; earlier copies in a batch count as rows_skipped, a row that
#    replaced a stored one as rows_updated; --update-if declines older rows (rows_skipped);
#  - in every mode, for every file: loaded + rejected + skipped + updated = the data rows read;
#  - refused at start: an unknown mode or --update-if without update (exit 2), skip on a table
#    without a key and a guard the server does not accept (exit 1).
source "$(dirname "$0")/lib.sh"
pg_start

row() { printf '%s,2024-01-01 %s,view,1,%s,1,s\n' "$1" "$2" "$3"; }
HEADER="event_id,event_time,event_type,product_id,price,user_id,session_id"

# The first run's two files (one batch: a1 then a2) and the second run's one.
write_run1() {
    mkdir -p "$1"
    { echo "$HEADER"; row e1 10:00:00 1.00; row e2 10:00:00 2.00; row e1 10:05:00 11.00
      row e3 10:00:00 3.00; } >"$1/a1.csv"
    { echo "$HEADER"; row e2 10:07:00 22.00; row e4 10:00:00 4.00
      echo "e5,not a time,view,1,5.00,1,s"; } >"$1/a2.csv"
    touch -d '2024-01-01 00:00:00' "$1/a1.csv"
    touch -d '2024-01-01 00:00:01' "$1/a2.csv"
}
write_run2() {
    mkdir -p "$1"
    { echo "$HEADER"; row e3 10:09:00 33.00; row e1 09:00:00 99.00; row e6 10:00:00 6.00
      row e6 10:10:00 66.00; } >"$1/b1.csv"
}

reset() { psql_q "TRUNCATE user_activity, user_activity_errors, ingest_files" >/dev/null; }

# ingest NAME DIR ARGS...: one --once run with one worker (files in a fixed order).
ingest() {
    local dir=$2
    shift 2
    capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$dir" --workers 1 \
        --checkpoint-dir "$WORK/ck" --error-dir "$WORK/err" --log-level warn "$@"
}

table() { psql_q "SELECT string_agg(event_id || '=' || price, ' ' ORDER BY event_id) FROM user_activity"; }
ledger() {
    psql_q "SELECT string_agg(file_name || ' ' || rows_loaded || '/' || rows_rejected || '/'
                              || rows_skipped || '/' || rows_updated, ', ' ORDER BY file_name)
            FROM ingest_files"
}
dead() { psql_q "SELECT coalesce(string_agg(error_code || ':' || event_id, ' ' ORDER BY line_number, source_file), '')
                 FROM user_activity_errors"; }
# Every file's four counts add up to its data rows (lines after the header).
balanced() {
    local dirs=("$@") f n bad=0
    for f in $(find "${dirs[@]}" -name '*.csv'); do
        n=$(($(wc -l <"$f") - 1))
        [ "$(psql_q "SELECT rows_loaded + rows_rejected + rows_skipped + rows_updated
                     FROM ingest_files WHERE file_name = '$(basename "$f")'")" == "$n" ] || bad=1
    done
    return $bad
}
metric() { sed -n "s/^$1 //p" "$WORK/ck/metrics.prom"; }

for mode in reject skip update guard; do
    reset
    rm -rf "$WORK/$mode" "$WORK/ck"
    write_run1 "$WORK/$mode/1"
    write_run2 "$WORK/$mode/2"
    args=(--on-conflict "${mode/guard/update}")
    [ "$mode" == guard ] && args+=(--update-if "EXCLUDED.event_time > user_activity.event_time")
    ingest "$mode" "$WORK/$mode/1" "${args[@]}"
    expect_eq "$mode: first run exits 0" "$RC" 0
    ingest "$mode" "$WORK/$mode/2" "${args[@]}"
    expect_eq "$mode: second run exits 0" "$RC" 0
    case $mode in
    reject)
        expect_eq "reject: the first copy of each key stays" "$(table)" \
            "e1=1.00 e2=2.00 e3=3.00 e4=4.00 e6=6.00"
        expect_eq "reject: the later copies are duplicate_key dead letters" "$(dead)" \
            "duplicate_key:e2 duplicate_key:e3 duplicate_key:e1 duplicate_key:e1 bad_value:e5 duplicate_key:e6"
        expect_eq "reject: the ledger (loaded/rejected/skipped/updated)" "$(ledger)" \
            "a1.csv 3/1/0/0, a2.csv 1/2/0/0, b1.csv 1/3/0/0"
        ;;
    skip)
        expect_eq "skip: the first copy of each key stays" "$(table)" \
            "e1=1.00 e2=2.00 e3=3.00 e4=4.00 e6=6.00"
        expect_eq "skip: only the invalid row is a dead letter" "$(dead)" "bad_value:e5"
        expect_eq "skip: the ledger counts the repeats as skipped" "$(ledger)" \
            "a1.csv 3/0/1/0, a2.csv 1/1/1/0, b1.csv 1/0/3/0"
        expect_eq "skip: metrics count 3 skipped, 0 updated (second run)" \
            "$(metric sluice_rows_skipped_total) $(metric sluice_rows_updated_total)" "3 0"
        ;;
    update)
        expect_eq "update: the last copy read wins, in the batch and across runs" "$(table)" \
            "e1=99.00 e2=22.00 e3=33.00 e4=4.00 e6=66.00"
        expect_eq "update: only the invalid row is a dead letter" "$(dead)" "bad_value:e5"
        expect_eq "update: earlier copies in a batch skipped, replacements updated" "$(ledger)" \
            "a1.csv 2/0/2/0, a2.csv 2/1/0/0, b1.csv 1/0/1/2"
        expect_eq "update: metrics count 1 skipped, 2 updated (second run)" \
            "$(metric sluice_rows_skipped_total) $(metric sluice_rows_updated_total)" "1 2"
        ;;
    guard)
        expect_eq "guard: an older row does not replace a newer one (e1 stays 11.00)" "$(table)" \
            "e1=11.00 e2=22.00 e3=33.00 e4=4.00 e6=66.00"
        expect_eq "guard: the declined row is counted as skipped" "$(ledger)" \
            "a1.csv 2/0/2/0, a2.csv 2/1/0/0, b1.csv 1/0/2/1"
        ;;
    esac
    check "$mode: every file's counts add up to its rows" balanced "$WORK/$mode"
done

# A guard is weighed against the stored row only: within one batch the last copy read wins.
reset
rm -rf "$WORK/g2"
mkdir -p "$WORK/g2"
{ echo "$HEADER"; row e7 10:00:00 7.00; row e7 09:00:00 70.00; } >"$WORK/g2/c.csv"
ingest guard2 "$WORK/g2" --on-conflict update --update-if "EXCLUDED.event_time > user_activity.event_time"
expect_eq "guard, one batch: the last copy read wins" "$RC $(table) $(ledger)" "0 e7=70.00 c.csv 1/0/1/0"

# Careful mode (a row the server refuses, here by a foreign key): a key already loaded is
# skipped or upserted there too, the last copy read winning, and the ledger still balances.
psql_q "CREATE TABLE parent (id int PRIMARY KEY); INSERT INTO parent VALUES (1);
        CREATE TABLE kv (k int PRIMARY KEY, v int REFERENCES parent (id), note text)" >/dev/null
for mode in skip update; do
    psql_q "TRUNCATE kv, ingest_files" >/dev/null
    psql_q "DROP TABLE IF EXISTS kv_errors" >/dev/null
    rm -rf "$WORK/fk-$mode"
    mkdir -p "$WORK/fk-$mode/1" "$WORK/fk-$mode/2"
    printf 'k,v,note\n1,1,a\n2,1,b\n' >"$WORK/fk-$mode/1/f1.csv"
    printf 'k,v,note\n1,1,A\n3,99,x\n2,1,B\n2,1,BB\n4,1,d\n' >"$WORK/fk-$mode/2/f2.csv"
    ingest "fk-$mode" "$WORK/fk-$mode/1" --table kv --on-conflict "$mode"
    ingest "fk-$mode" "$WORK/fk-$mode/2" --table kv --on-conflict "$mode"
    got="$RC $(psql_q "SELECT string_agg(k || '=' || note, ' ' ORDER BY k) FROM kv")"
    got="$got | $(psql_q "SELECT string_agg(error_code || ':' || k, ' ') FROM kv_errors")"
    got="$got | $(ledger)"
    if [ "$mode" == skip ]; then
        expect_eq "careful mode, skip: the first copies stay, the FK row is a dead letter" "$got" \
            "0 1=a 2=b 4=d | db_rejected:3 | f1.csv 2/0/0/0, f2.csv 1/1/3/0"
    else
        expect_eq "careful mode, update: the last copies win, the FK row is a dead letter" "$got" \
            "0 1=A 2=BB 4=d | db_rejected:3 | f1.csv 2/0/0/0, f2.csv 1/1/1/2"
    fi
done

# Refused at start.
mkdir -p "$WORK/none"
ingest bad "$WORK/none" --on-conflict sometimes
expect_eq "an unknown mode: exit 2" "$RC" 2
expect_match "and it names the modes" "$ERR" "--on-conflict 'sometimes': use reject, skip or update"
ingest bad "$WORK/none" --on-conflict skip --update-if "true"
expect_eq "--update-if without update mode: exit 2" "$RC" 2
expect_match "and it says why" "$ERR" "--update-if needs --on-conflict update"
ingest bad "$WORK/none" --on-conflict update --update-if "EXCLUDED.nosuch > user_activity.event_time"
expect_eq "a guard naming a column the table lacks: exit 1" "$RC" 1
expect_match "and the server's reason is shown" "$ERR" \
    "--update-if 'EXCLUDED.nosuch > user_activity.event_time' does not work in the upsert of"
expect_match "naming the column" "$ERR" 'column excluded.nosuch does not exist'
ingest bad "$WORK/none" --on-conflict update --update-if "EXCLUDED.event_time >"
expect_eq "a guard that does not parse: exit 1" "$RC" 1
expect_match "a syntax error" "$ERR" "syntax error"
ON_CONFLICT=update UPDATE_IF="true) RETURNING 1; DROP TABLE ingest_files; SELECT (1" \
    ingest bad "$WORK/none"
expect_eq "a guard smuggling a second statement: exit 1 (from the environment)" "$RC" 1
expect_eq "and the ledger is still there" "$(psql_q "SELECT to_regclass('ingest_files') IS NOT NULL")" t
psql_q "CREATE TABLE nokey (a int)" >/dev/null
ingest bad "$WORK/none" --table nokey --on-conflict skip
expect_eq "skip on a table without a key: exit 1" "$RC" 1
expect_match "and it says so" "$ERR" "--on-conflict skip needs a key, and public.nokey has no primary key or unique constraint"
# A unique constraint other than the key: never taken for a key conflict, never a batch retried
# for ever; in every mode the row it refuses is a duplicate_key dead letter with the server's words.
psql_q "CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE, n int)" >/dev/null
for mode in reject skip update; do
    psql_q "TRUNCATE accounts, ingest_files; DELETE FROM accounts_errors" >/dev/null 2>&1 || true
    mkdir -p "$WORK/u_$mode"
    printf 'id,email,n\n1,a@x,1\n2,b@x,1\n' >"$WORK/u_$mode/u1.csv"
    printf 'id,email,n\n3,b@x,2\n1,c@x,3\n' >"$WORK/u_$mode/u2.csv"
    touch -d '2024-01-01 00:00:00' "$WORK/u_$mode/u1.csv"
    touch -d '2024-01-01 00:00:01' "$WORK/u_$mode/u2.csv"
    ingest u "$WORK/u_$mode" --table accounts --on-conflict "$mode" --batch-bytes 1024 --max-wait 30
    expect_eq "second unique, $mode: exits 0" "$RC" 0
    expect_eq "second unique, $mode: id 3 (email taken) is a duplicate_key dead letter naming the constraint" \
        "$(psql_q "SELECT error_code || '|' || (error_message LIKE '%accounts_email_key%') FROM accounts_errors WHERE id = '3'")" \
        "duplicate_key|true"
done
expect_eq "second unique, update: id 1 replaced by the later row" \
    "$(psql_q "SELECT email || ' ' || n FROM accounts WHERE id = 1")" "c@x 3"
# Two workers, keys repeated across many files (so across workers and batches, loaded at the same
# time): whichever copy commits first stays, and every other copy is accounted for once. Staging
# inserts in key order and routes a row that lost the race to a concurrent COMMIT, so neither a
# deadlock nor careful mode is met.
mkdir -p "$WORK/race"
for f in $(seq 1 40); do
    { echo "$HEADER"; for i in $(seq 1 300); do row "r$(((f * 7919 + i * 104729) % 2000))" 10:00:00 1.00; done; } \
        >"$WORK/race/r$f.csv"
done
rows=$((40 * 300))
distinct=$(cat "$WORK/race/"*.csv | grep -v '^event_id' | cut -d, -f1 | sort -u | wc -l)
for mode in reject skip; do
    reset
    rm -rf "$WORK/race_in" && cp -r "$WORK/race" "$WORK/race_in"
    capture "$SLUICE_BIN" ingest --once --db "$SLUICE_DB" --input-dir "$WORK/race_in" --workers 2 \
        --batch-bytes 20000 --on-conflict "$mode" --checkpoint-dir "$WORK/ck" \
        --error-dir "$WORK/err" --log-level info
    expect_eq "race, $mode: exit 0" "$RC" 0
    expect_eq "race, $mode: each key loaded once" \
        "$(psql_q "SELECT count(*) || ' ' || count(DISTINCT event_id) FROM user_activity")" \
        "$distinct $distinct"
    if [ "$mode" = reject ]; then
        expect_eq "race, reject: every other copy a duplicate_key dead letter of a loaded key" \
            "$(psql_q "SELECT count(*) FROM user_activity_errors e WHERE error_code = 'duplicate_key'
                       AND EXISTS (SELECT 1 FROM user_activity u WHERE u.event_id = e.event_id)")" \
            "$((rows - distinct))"
    fi
    expect_eq "race, $mode: the ledger accounts for every row once" \
        "$(psql_q "SELECT sum(rows_loaded) || ' ' || sum(rows_loaded + rows_rejected + rows_skipped)
                   FROM ingest_files")" "$distinct $rows"
    check "race, $mode: no deadlock, no careful mode" \
        bash -c '! grep -qE "deadlock|careful mode" <<<"$1"' _ "$ERR"
done
finish
