#!/usr/bin/env bash
# t_types_time.sh - the date/time checkers (src/pgtype_time.c) against PostgreSQL's own input
# functions, value by value: date, time, time(0), timestamp, timestamp(3), timestamptz,
# timestamptz(0), and timestamp/timestamptz again under a --time-zone of +05:30. For each, at
# least 100,000 values (tests/types/time/gen_values.pl: valid ISO values over the whole range and
# mutations of them) go through dbtest_pgtype and through a cast in the server; then
#  - every value sluice accepts is accepted by the server, and its COPY text, read back without
#    any rounding, is exactly the server's value (a timestamp with an offset: the value as
#    timestamptz AT TIME ZONE the --time-zone, sluice's documented conversion);
#  - every value sluice refuses is refused by the server, unless it lies outside the ISO forms
#    sluice documents (decided here by a regular expression of our own: "stricter").
# Prints one line per type: "types: T values=N accepted=A rejected=R stricter=S mismatches=M".
source "$(dirname "$0")/lib.sh"
DRIVER=$(dirname "$SLUICE_BIN")/dbtest_pgtype
GEN="$SLUICE_SRC/tests/types/time/gen_values.pl"
COUNT=${TYPES_TIME_VALUES:-100000}
SHOW_STRICTER=${TYPES_TIME_SHOW_STRICTER:-0} # how many "stricter" values to print per type
pg_start

# The ISO forms of the top comment of pgtype_time.c, matched case-insensitively.
WS='[[:space:]]*'
DATE_RE="[0-9]{4}-[0-9]{2}-[0-9]{2}"
CLOCK_RE="[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?"
OFFSET_RE="(z|[+-][0-9]{2}(:?[0-9]{2})?)"
declare -A FORM=(
    [date]="^$WS(-?infinity|$DATE_RE)$WS\$"
    [time]="^$WS$CLOCK_RE$WS\$"
    [timestamp]="^$WS(-?infinity|$DATE_RE([ t]$CLOCK_RE ?$OFFSET_RE?)?)$WS\$"
)
# In a value of that form, a UTC offset is there when this matches.
HAS_OFFSET=":[0-9]{2}(\\.[0-9]+)? ?$OFFSET_RE$WS\$"

# run_type LABEL SQLTYPE BASETYPE FAMILY SEED [ZONE]
run_type() {
    local label=$1 type=$2 base=$3 family=$4 seed=$5 zone=${6:-}
    local values="$WORK/$seed.values" verdicts="$WORK/$seed.verdicts"
    perl "$GEN" "$family" "$COUNT" "$seed" >"$values"
    if ! "$DRIVER" "$type" ${zone:+"$zone"} <"$values" >"$verdicts"; then
        fail "$label: dbtest_pgtype ran"
        return
    fi
    local nv nr
    nv=$(wc -l <"$values")
    nr=$(wc -l <"$verdicts")
    expect_eq "$label: one verdict per value" "$nr" "$nv"

    # The zone as the server's session zone and as an interval (ISO sign: east is positive).
    local set_zone="SET TIME ZONE 'UTC'" at_zone="INTERVAL '0'"
    if [ -n "$zone" ]; then
        set_zone="SET TIME ZONE INTERVAL '$zone' HOUR TO MINUTE"
        at_zone="INTERVAL '$zone' HOUR TO MINUTE"
    fi
    local expect="t::$type"
    [ "$base" = timestamp ] && expect="CASE WHEN has_offset THEN (t::timestamptz AT TIME ZONE $at_zone)::$type ELSE t::$type END"

    local result
    result=$(paste "$values" "$verdicts" | awk '{ print NR "\t" $0 }' | psql -XAtq -v ON_ERROR_STOP=1 -F' ' -f <(cat <<SQL
$set_zone;
CREATE TEMP TABLE v (id int, raw text, verdict text, payload text);
\\copy v FROM pstdin
-- What the server's input function makes of the raw text (NULL: it refuses it).
CREATE FUNCTION pg_temp.pg_in(t text, has_offset bool) RETURNS $base LANGUAGE plpgsql AS \$\$
DECLARE r $base;
BEGIN
    r := t::$type;
    r := $expect;
    RETURN r;
EXCEPTION WHEN others THEN RETURN NULL;
END \$\$;
-- sluice's COPY text read back as the unconstrained type, so no rounding hides a difference.
CREATE FUNCTION pg_temp.out_in(t text) RETURNS $base LANGUAGE plpgsql AS \$\$
BEGIN RETURN t::$base; EXCEPTION WHEN others THEN RETURN NULL; END \$\$;
CREATE TEMP TABLE judged AS
    SELECT id, raw, verdict, payload, iso,
           pg_temp.pg_in(raw, iso AND raw ~* '$HAS_OFFSET') AS pg,
           CASE WHEN verdict = 'ok' THEN pg_temp.out_in(payload) END AS mine
    FROM (SELECT *, raw ~* '${FORM[$family]}' AS iso FROM v) x;
CREATE TEMP TABLE wrong AS
    SELECT * FROM judged
    WHERE (verdict = 'ok' AND (NOT iso OR pg IS NULL OR mine IS NULL OR mine <> pg))
       OR (verdict = 'bad' AND pg IS NOT NULL AND iso)
       OR verdict NOT IN ('ok', 'bad');
SELECT count(*), count(*) FILTER (WHERE verdict = 'ok'), count(*) FILTER (WHERE verdict = 'bad'),
       count(*) FILTER (WHERE verdict = 'bad' AND pg IS NOT NULL AND NOT iso),
       (SELECT count(*) FROM wrong)
FROM judged;
SELECT 'mismatch: ' || quote_literal(raw) || ' sluice ' || verdict || ' ' || quote_literal(payload)
       || ' server ' || coalesce(pg::text, 'refuses')
FROM wrong ORDER BY id LIMIT 10;
SELECT 'stricter: ' || quote_literal(raw) || ' server ' || pg::text FROM judged
WHERE verdict = 'bad' AND pg IS NOT NULL AND NOT iso ORDER BY id LIMIT $SHOW_STRICTER;
SQL
    ))
    if [ -z "$result" ]; then
        fail "$label: the server judged the values"
        return
    fi
    local n a r s m
    read -r n a r s m <<<"$(head -n 1 <<<"$result")"
    echo "types: $label values=$n accepted=$a rejected=$r stricter=$s mismatches=$m"
    tail -n +2 <<<"$result" | sed 's/^/       /'
    expect_eq "$label: no mismatches" "$m" 0
    check "$label: at least 100000 values" test "$n" -ge 100000
    check "$label: some accepted" test "$a" -gt 0
    check "$label: some rejected" test "$r" -gt 0
}

run_type date date date date 101
run_type time time time time 102
run_type "time(0)" "time(0)" time time 103
run_type timestamp timestamp timestamp timestamp 104
run_type "timestamp(3)" "timestamp(3)" timestamp timestamp 105
run_type timestamptz timestamptz timestamptz timestamp 106
run_type "timestamptz(0)" "timestamptz(0)" timestamptz timestamp 107
run_type "timestamp@+05:30" timestamp timestamp timestamp 108 +05:30
run_type "timestamptz@+05:30" timestamptz timestamptz timestamp 109 +05:30
run_type "timestamptz(0)@-08:00" "timestamptz(0)" timestamptz timestamp 110 -08:00

finish
