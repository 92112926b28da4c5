#!/usr/bin/env bash
# t_types_text.sh - the text family's type checkers (src/pgtype_text.c) against PostgreSQL's
# own input functions, value by value: text, varchar(5), varchar(20), char(5), json, jsonb, an
# enum and a domain over varchar(10), at least 100,000 generated and mutated values each
# (tests/types/text/gen_values.pl; valid UTF-8 without NUL only, which is what the row validator
# lets through to the type checkers).
#
# For each value the checker's verdict (dbtest_pgtype) and PostgreSQL's (the type's input
# function called inside a plpgsql EXCEPTION block) are compared:
#  - accepted by sluice, refused by PostgreSQL: a mismatch;
#  - accepted by both: the COPY text sluice wrote must give exactly the value the raw text gives
#    (compared through the output function, so padding and jsonb's normal form count);
#  - refused by sluice, accepted by PostgreSQL: a mismatch unless the value is in the documented
#    stricter class, JSON nested deeper than 1000 levels, decided by the generator's own count
#    of brackets (and refused for that reason; counted as "stricter").
# bpchar without a length is run too (it keeps trailing spaces, which char(n) pads away).
# Prints "types: NAME values=N accepted=A rejected=R stricter=S mismatches=M" per type; fails
# when M > 0, N < 100000, or A or R is 0 -- except that text and bpchar must have R = 0: their
# input functions refuse no valid UTF-8 without NUL. A self-check feeds one wrong verdict through the same comparison and
# expects it to be caught.
source "$(dirname "$0")/lib.sh"
DRIVER=$(dirname "$SLUICE_BIN")/dbtest_pgtype
GEN="$SLUICE_SRC/tests/types/text/gen_values.pl"
VALUES=${TYPES_TEXT_VALUES:-100000}
pg_start

psql_q "CREATE TYPE t_mood AS ENUM ('sad', 'ok', 'happy', 'Happy Face', 'naïve', '中文', 'a,b',
            'it''s', 'back\\slash', ' lead', 'trail ', 'x', '😀');
        CREATE DOMAIN t_short AS varchar(10);" >/dev/null

# The judges: what PostgreSQL's input function makes of a text (its output form), or NULL
# when it refuses it. (A COPY text equal to the raw text is judged once: same input, same value.) Input functions are called directly where SQL can name them; the domain
# goes through a plpgsql assignment, which applies varchar(10)'s input rules and the domain.
judge() { # NAME EXPRESSION-OF-x [DECLARE]
    psql_q "CREATE FUNCTION judge_$1(x text) RETURNS text LANGUAGE plpgsql AS \$f\$
            ${3:+DECLARE $3;} BEGIN $2; EXCEPTION WHEN others THEN RETURN NULL; END \$f\$" >/dev/null
}
judge text "RETURN format('%s', textin(x::cstring))"
judge varchar5 "RETURN format('%s', varcharin(x::cstring, 'varchar'::regtype, 5 + 4))"
judge varchar20 "RETURN format('%s', varcharin(x::cstring, 'varchar'::regtype, 20 + 4))"
judge char5 "RETURN format('%s', bpcharin(x::cstring, 'bpchar'::regtype, 5 + 4))"
judge bpchar "RETURN format('%s', bpcharin(x::cstring, 'bpchar'::regtype, -1))"
judge json "RETURN format('%s', json_in(x::cstring))"
judge jsonb "RETURN format('%s', jsonb_in(x::cstring))"
judge enum "RETURN format('%s', enum_in(x::cstring, 't_mood'::regtype))"
judge domain "y := x; RETURN format('%s', y)" "y t_short"

# The judges themselves, on values whose fate is known.
expect_eq "judges know varchar(5), char(5), the domain and jsonb" "$(psql_q "SELECT concat_ws('|',
    judge_varchar5('abcdef') IS NULL, judge_varchar5('abcde   '), judge_char5('ab'),
    judge_domain('abcdefghijk') IS NULL, judge_domain('abcdefghij  '), judge_enum('OK') IS NULL,
    judge_json('\"\\u0000\"'), judge_jsonb('\"\\u0000\"') IS NULL, judge_jsonb('1.50'))")" \
    't|abcde|ab   |t|abcdefghij|t|"\u0000"|t|1.50'

# compare NAME: counts for the loaded values vals_NAME and verdicts verd_NAME.
compare() {
    psql_q "WITH p AS MATERIALIZED (
              SELECT v.id, v.v, v.depth, s.verdict, s.copy, judge_$1(v.v) AS pg
              FROM vals_$1 v FULL JOIN verd_$1 s USING (id)),
            j AS (
              SELECT verdict, pg,
                     depth > 1000 AND copy LIKE '%nested deeper than 1000 levels%' AS stricter,
                     CASE WHEN verdict <> 'ok' THEN NULL WHEN copy = v THEN pg
                          ELSE judge_$1(copy) END AS mine
              FROM p)
            SELECT count(*), count(*) FILTER (WHERE verdict = 'ok'),
                   count(*) FILTER (WHERE verdict = 'bad'),
                   count(*) FILTER (WHERE verdict = 'bad' AND pg IS NOT NULL AND stricter),
                   count(*) FILTER (WHERE verdict IS DISTINCT FROM 'ok' AND verdict IS DISTINCT FROM 'bad'
                       OR verdict = 'ok' AND (pg IS NULL OR mine IS DISTINCT FROM pg)
                       OR verdict = 'bad' AND pg IS NOT NULL AND NOT stricter)
            FROM j" | tr '|' ' '
}

# run NAME 'SQL TYPE' GENERATOR-ARGS...
run() {
    local name=$1 type=$2 n a r s m
    shift 2
    perl "$GEN" "$@" >"$WORK/$name.tsv" || { fail "$name: generator failed"; return; }
    cut -f1 "$WORK/$name.tsv" | "$DRIVER" "$type" >"$WORK/$name.out" ||
        { fail "$name: dbtest_pgtype failed"; return; }
    psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<EOF || { fail "$name: loading the verdicts failed"; return; }
CREATE TABLE vals_$name (id bigserial PRIMARY KEY, v text NOT NULL, depth int NOT NULL);
\\copy vals_$name (v, depth) FROM '$WORK/$name.tsv'
CREATE TABLE verd_$name (id bigserial PRIMARY KEY, verdict text NOT NULL, copy text NOT NULL);
\\copy verd_$name (verdict, copy) FROM '$WORK/$name.out'
EOF
    read -r n a r s m <<<"$(compare "$name")"
    echo "types: $name values=$n accepted=$a rejected=$r stricter=$s mismatches=$m"
    if [ "${m:-1}" -ne 0 ]; then
        fail "$name: $m mismatches"
        psql_q "SELECT s.verdict, v.v, s.copy, judge_$name(v.v) FROM vals_$name v
                JOIN verd_$name s USING (id)
                WHERE (s.verdict = 'ok') <> (judge_$name(v.v) IS NOT NULL) AND NOT v.depth > 1000
                   OR s.verdict = 'ok' AND judge_$name(s.copy) IS DISTINCT FROM judge_$name(v.v)
                LIMIT 10" | cut -c1-300 | sed 's/^/       /'
    elif [ "${n:-0}" -lt 100000 ] || [ "${a:-0}" -eq 0 ]; then
        fail "$name: too few values or acceptances"
    elif [ "$name" = text ] || [ "$name" = bpchar ]; then
        expect_eq "$name: nothing refused, as its input function refuses nothing" "$r" 0
    elif [ "${r:-0}" -eq 0 ]; then
        fail "$name: no value refused"
    else
        pass "$name: every verdict agrees with PostgreSQL's"
    fi
}

SECONDS=0
run text text text "$VALUES" 11 5
run varchar5 'varchar(5)' text "$VALUES" 12 5
run varchar20 'varchar(20)' text "$VALUES" 13 20
run char5 'char(5)' text "$VALUES" 14 5
run bpchar bpchar text "$VALUES" 19 5
run json json json "$VALUES" 15
run jsonb jsonb json "$VALUES" 16
run enum t_mood enum "$VALUES" 17
run domain t_short text "$VALUES" 18 10

# The comparison can fail: one refused value passed off as accepted is one mismatch.
psql_q "CREATE TABLE vals_tamper AS SELECT * FROM vals_varchar5;
        CREATE TABLE verd_tamper AS SELECT * FROM verd_varchar5;
        UPDATE verd_tamper SET verdict = 'ok', copy = (SELECT v FROM vals_tamper WHERE id = verd_tamper.id)
        WHERE id = (SELECT min(id) FROM verd_varchar5 WHERE verdict = 'bad');
        CREATE FUNCTION judge_tamper(x text) RETURNS text LANGUAGE sql
        AS 'SELECT judge_varchar5(x)'" >/dev/null
read -r n a r s m <<<"$(compare tamper)"
expect_eq "a wrong verdict is caught" "$m" 1
echo "compared in ${SECONDS}s"
finish
