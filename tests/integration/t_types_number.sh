#!/usr/bin/env bash
# t_types_number.sh - the number family's type checkers (src/pgtype_number.c) against
# PostgreSQL's own input functions, value by value: smallint, integer, bigint, a domain over
# integer, numeric with and without a typmod, real, double precision, boolean and uuid.
#
# For each type, >= 100,000 values (tests/types/number/gen_values.pl: valid spellings,
# boundaries, mutations) go through dbtest_pgtype; values and verdicts are loaded into the
# cluster, and SQL calls the type's input function (with the column's typmod, as COPY does)
# inside an EXCEPTION block. A mismatch is:
#  - sluice accepts and the server refuses the raw value, or refuses sluice's COPY text;
#  - sluice accepts and the value stored from its COPY text differs from the one stored from the
#    raw value (::text, which keeps numeric's scale; the send bytes for floats);
#  - sluice refuses and the server accepts, unless an independent predicate here puts the value
#    in a documented stricter class (numeric: NaN and Infinity; numeric(p,s): a value that
#    rounding to s places would change); those are counted as "stricter".
# One line per type: "types: T values=N accepted=A rejected=R stricter=S mismatches=M"; the test
# fails when M > 0, N < 100000, or A or R is 0.
source "$(dirname "$0")/lib.sh"
DRIVER=$(dirname "$SLUICE_BIN")/dbtest_pgtype
GEN="$SLUICE_SRC/tests/types/number/gen_values.pl"
COUNT=${TYPES_COUNT:-100000}
pg_start

numeric_typmod() { echo $(((($1 << 16) | ($2 & 0x7ff)) + 4)); } # as pg_attribute has it

# id | type as written in CREATE TABLE | value family | the server's reading of text v | scale
# (the scale for the stricter predicate: empty for no typmod, "-" for types with no stricter class)
TYPES="int2|smallint|int|int2in(v::cstring)::text|-
int4|integer|int|int4in(v::cstring)::text|-
int8|bigint|int|int8in(v::cstring)::text|-
dom_int|dom_int|int|v::dom_int::text|-
num|numeric|numeric|numeric_in(v::cstring, 1700, -1)::text|
num10_2|numeric(10,2)|numeric|numeric_in(v::cstring, 1700, $(numeric_typmod 10 2))::text|2
num5_0|numeric(5,0)|numeric|numeric_in(v::cstring, 1700, $(numeric_typmod 5 0))::text|0
num3_3|numeric(3,3)|numeric|numeric_in(v::cstring, 1700, $(numeric_typmod 3 3))::text|3
float4|real|float|encode(float4send(float4in(v::cstring)), 'hex')|-
float8|double precision|float|encode(float8send(float8in(v::cstring)), 'hex')|-
bool|boolean|bool|boolin(v::cstring)::text|-
uuid|uuid|uuid|uuid_in(v::cstring)::text|-"

psql_q "CREATE DOMAIN dom_int AS integer;
CREATE TABLE cases (typ text, seq int, v text, verdict text, out text);
CREATE TABLE judged (typ text, seq int, v text, verdict text, out text, pg text, ours text,
                     stricter bool);
-- The documented stricter classes, decided from the raw text alone.
CREATE FUNCTION stricter_numeric(v text, s int) RETURNS bool LANGUAGE plpgsql AS \$\$
DECLARE
    t text := btrim(v, E' \\t\\n\\r\\f\\013');
    x numeric;
BEGIN
    IF t ~* '^[+-]?(nan|inf|infinity)\$' THEN
        RETURN true;
    END IF;
    IF s IS NULL THEN
        RETURN false;
    END IF;
    BEGIN
        x := numeric_in(t::cstring, 1700, -1);
    EXCEPTION WHEN others THEN
        -- too many decimals for an unconstrained numeric: changed by rounding unless zero
        RETURN substring(t from '^[^eE]*') ~ '[1-9]';
    END;
    RETURN x <> round(x, s);
END \$\$;" >/dev/null || { fail "set up the judging tables"; finish; }

for fam in int numeric float bool uuid; do
    perl "$GEN" "$fam" "$COUNT" 1511 >"$WORK/$fam.values" || fail "generate $fam values"
done

while IFS='|' read -r id type fam expr scale; do
    "$DRIVER" "$type" <"$WORK/$fam.values" >"$WORK/$id.verdicts" || fail "$type: dbtest_pgtype failed"
    paste "$WORK/$fam.values" "$WORK/$id.verdicts" |
        awk -v id="$id" '{ print id "\t" NR "\t" $0 }' >"$WORK/$id.tsv"
    if [ "$scale" = "-" ]; then
        stricter="false"
    else
        stricter="stricter_numeric(v, ${scale:-NULL})"
    fi
    psql_q "\\copy cases FROM '$WORK/$id.tsv'" >/dev/null || fail "$type: loading the verdicts failed"
    psql_q "CREATE FUNCTION pg_$id(v text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    RETURN $expr;
EXCEPTION WHEN others THEN
    RETURN NULL;
END \$\$;
INSERT INTO judged
SELECT typ, seq, v, verdict, out, pg, ours,
       verdict = 'bad' AND pg IS NOT NULL AND $stricter
  FROM (SELECT c.*, pg_$id(v) AS pg,
               CASE WHEN verdict = 'ok' THEN pg_$id(out) END AS ours
          FROM cases c WHERE typ = '$id') j;" >/dev/null || fail "$type: judging failed"

    read -r n a r s m < <(psql_q "SELECT count(*), count(*) FILTER (WHERE verdict = 'ok'),
        count(*) FILTER (WHERE verdict = 'bad'), count(*) FILTER (WHERE stricter),
        count(*) FILTER (WHERE (verdict = 'ok' AND (pg IS NULL OR ours IS DISTINCT FROM pg))
                            OR (verdict = 'bad' AND pg IS NOT NULL AND NOT stricter))
        FROM judged WHERE typ = '$id'" | tr '|' ' ')
    echo "types: $type values=$n accepted=$a rejected=$r stricter=$s mismatches=$m"
    if [ "${m:-1}" -eq 0 ] && [ "${n:-0}" -ge 100000 ] && [ "${a:-0}" -gt 0 ] && [ "${r:-0}" -gt 0 ]; then
        pass "$type: agrees with the server on $n values"
    else
        fail "$type: values=$n accepted=$a rejected=$r mismatches=$m"
        psql_q "SELECT format('       %L: sluice %s %L, server %L', left(v, 60), verdict,
                              left(out, 60), left(coalesce(pg, '(refused)'), 60))
                  FROM judged WHERE typ = '$id' AND (
                       (verdict = 'ok' AND (pg IS NULL OR ours IS DISTINCT FROM pg))
                    OR (verdict = 'bad' AND pg IS NOT NULL AND NOT stricter))
                 ORDER BY seq LIMIT 15"
    fi
done <<<"$TYPES"

finish
