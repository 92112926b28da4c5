#!/usr/bin/env bash
# t_differential.sh - the validator against PostgreSQL itself, on at least 100,000 rows, valid and
# mutated (truncated, bytes flipped, fields swapped, quotes broken, boundary values):
#  - every row the validator accepts loads through COPY, and each stored value equals what
#    PostgreSQL makes of the raw text (timestamptz at UTC, integer, numeric);
#  - every row it rejects is refused by PostgreSQL itself (its input functions and the table's
#    own constraints, on a table defined like user_activity), or is in a format sluice refuses on
#    purpose (counted apart), and every row it accepts PostgreSQL accepts.
# Prints "differential: N rows, A accepted, R rejected, M mismatches".
source "$(dirname "$0")/lib.sh"
DUMP=$(dirname "$SLUICE_BIN")/dbtest_differential
ROWS=${DIFF_ROWS:-70000}
pg_start

"$SLUICE_BIN" generate --input-dir "$WORK/gen" --temp-dir "$WORK/tmp" --files 1 --rows-per-file "$ROWS" \
    --bad-ratio 0.1 --interval 0 --seed 17 --log-level warn
src=$(ls "$WORK/gen/"*.csv)

# Mutations and boundary rows, seeded so a failure can be replayed.
awk -v seed=4242 'BEGIN { srand(seed); FS = OFS = ","
    chars = "0123456789-:.+ TZ\",aé";
    split("0,0.00,0.01,-0.01,1.234,99999999.99,100000000,.5,5.,+5,-0,1e3,NaN, 1,007", prices, ",");
    split("0,1,-1,2147483647,2147483648,+7,007,99999999999,1.0, 2,0x10", ints, ",");
    split("2024-02-29 00:00:00|2023-02-29 00:00:00|2026-12-31 23:59:59|2026-01-01 24:00:00|2026-01-01 23:59:60|2026-01-01T10:00:00Z|2026-01-01 10:00:00.123456|2026-01-01 10:00:00.1234567|2026-01-01 10:00:00+05:30|2026-01-01 01:00:00-03:00|9999-12-31 23:59:59|9999-12-31 23:00:00-02:00|0001-01-01 00:00:00|0001-01-01 00:30:00+01:00|2026-1-01 10:00:00|2026-01-01 10:00|26-01-01 10:00:00|2026-01-01 10:00:00 +01:00|2026-01-01 10:00:00+1:00|2026-01-01 10:00:00+15:59|2026-01-01 10:00:00+16:00|2026-02-30 10:00:00|2026-13-01 10:00:00|2026-01-01 25:00:00|2026-01-01 10:60:00|2026-01-01 10:00:00.|2026-01-01t10:00:00", times, "|");
}
NR == 1 { print; next }
{
    print
    r = rand()
    line = $0
    if (r < 0.15) {                       # truncated
        print substr(line, 1, int(rand() * length(line)))
    } else if (r < 0.30) {                # a byte flipped
        p = 1 + int(rand() * length(line))
        c = substr(chars, 1 + int(rand() * length(chars)), 1)
        print substr(line, 1, p - 1) c substr(line, p + 1)
    } else if (r < 0.40) {                # two fields swapped
        n = split(line, f, ","); i = 1 + int(rand() * n); j = 1 + int(rand() * n)
        t = f[i]; f[i] = f[j]; f[j] = t; out = f[1]; for (k = 2; k <= n; k++) out = out "," f[k]; print out
    } else if (r < 0.45) {                # a quote broken (closed on the same line)
        n = split(line, f, ","); i = 1 + int(rand() * n); f[i] = "\"" f[i] "\"x"
        out = f[1]; for (k = 2; k <= n; k++) out = out "," f[k]; print out
    } else if (r < 0.75) {                # boundary values
        n = split(line, f, ",")
        if (n == 7) {
            f[1] = "b" NR "-" int(rand() * 1e9)
            f[2] = times[1 + int(rand() * length(times))]
            f[4] = ints[1 + int(rand() * length(ints))]
            f[5] = prices[1 + int(rand() * length(prices))]
            f[6] = ints[1 + int(rand() * length(ints))]
            if (rand() < 0.1) f[7] = ""
            if (rand() < 0.05) f[3] = "View"
            out = f[1]; for (k = 2; k <= n; k++) out = out "," f[k]; print out
        }
    }
}' "$src" >"$WORK/diff.csv"

"$DUMP" "$WORK/diff.csv" >"$WORK/diff.tsv"
expect_eq "dump exits 0" "$?" 0
awk -F'\t' '$2 == "none" { printf "%s", $1; for (i = 11; i <= 17; i++) printf "\t%s", $i; print "" }' \
    "$WORK/diff.tsv" >"$WORK/accepted.tsv"

psql -Xq -v ON_ERROR_STOP=1 <<SQL
SET TimeZone = 'UTC';
CREATE TABLE diff (line bigint, code text, nf int, r1 text, r2 text, r3 text, r4 text, r5 text, r6 text,
                   r7 text, v1 text, v2 text, v3 text, v4 text, v5 text, v6 text, v7 text);
\copy diff FROM '$WORK/diff.tsv'
-- The accepted rows, through COPY into the column types of user_activity.
CREATE TABLE loaded (line bigint, event_id varchar(50), event_time timestamp NOT NULL,
                     event_type varchar(20), product_id integer, price decimal(10, 2),
                     user_id integer, session_id varchar(50));
\copy loaded FROM '$WORK/accepted.tsv'

CREATE FUNCTION pg_ts(t text) RETURNS timestamp LANGUAGE plpgsql AS
\$\$ BEGIN RETURN t::timestamptz AT TIME ZONE 'UTC'; EXCEPTION WHEN others THEN RETURN NULL; END \$\$;
CREATE FUNCTION pg_num(t text) RETURNS numeric LANGUAGE plpgsql AS
\$\$ BEGIN RETURN t::numeric; EXCEPTION WHEN others THEN RETURN NULL; END \$\$;
-- The spec, independently: PostgreSQL's verdict on the raw texts (its input functions and the
-- table's own constraints, on a table defined like user_activity; empty fields are NULL), less
-- the formats sluice refuses on purpose (README: "Your own table").
CREATE TABLE probe (LIKE user_activity INCLUDING CONSTRAINTS);
CREATE FUNCTION pg_row_ok(d diff) RETURNS boolean LANGUAGE plpgsql AS
\$\$ BEGIN
  IF d.nf <> 7 OR d.r1 IS NULL OR d.r2 IS NULL OR d.r3 IS NULL OR d.r4 IS NULL OR d.r5 IS NULL
     OR d.r6 IS NULL OR d.r7 IS NULL THEN
    RETURN false; -- wrong field count, or a field that is not UTF-8: no row to judge
  END IF;
  INSERT INTO probe VALUES (nullif(d.r1, ''), nullif(d.r2, '')::timestamptz AT TIME ZONE 'UTC',
    nullif(d.r3, ''), nullif(d.r4, '')::integer, nullif(d.r5, '')::numeric,
    nullif(d.r6, '')::integer, nullif(d.r7, ''));
  RAISE SQLSTATE 'SLOK0'; -- taken: undo the insert with the rest of the block
EXCEPTION
  WHEN SQLSTATE 'SLOK0' THEN RETURN true;
  WHEN others THEN RETURN false;
END \$\$;
-- Refused on purpose though PostgreSQL takes them: times not in the ISO 8601 forms, numeric
-- values that would be rounded to the scale, NaN and infinities for numeric.
CREATE FUNCTION stricter(d diff) RETURNS boolean LANGUAGE sql AS \$\$
  SELECT NOT coalesce(d.r2 ~* '^[ \t\n\r\v\f]*([0-9]{4}-[0-9]{2}-[0-9]{2}([ Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? ?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?|-?infinity)[ \t\n\r\v\f]*$', true)
      OR coalesce(d.r5 ~* '^[ \t\n\r\v\f]*[+-]?(nan|inf|infinity)[ \t\n\r\v\f]*$', false)
      OR coalesce(round(pg_num(d.r5), 2) <> pg_num(d.r5), false) \$\$;
ALTER TABLE diff ADD COLUMN pg_ok boolean;
UPDATE diff d SET pg_ok = pg_row_ok(d);
CREATE FUNCTION spec_ok(d diff) RETURNS boolean LANGUAGE sql AS \$\$
  SELECT d.pg_ok AND NOT stricter(d) \$\$;
SQL

total=$(psql_q "SELECT count(*) FROM diff")
accepted=$(psql_q "SELECT count(*) FROM diff WHERE code = 'none'")
rejected=$((total - accepted))
loaded=$(psql_q "SELECT count(*) FROM loaded")
value_mismatch=$(psql_q "SET TimeZone = 'UTC'; SELECT count(*) FROM diff d JOIN loaded l USING (line)
    WHERE l.event_id IS DISTINCT FROM d.r1
       OR l.event_time IS DISTINCT FROM pg_ts(d.r2)
       OR l.event_type IS DISTINCT FROM d.r3
       OR l.product_id IS DISTINCT FROM pg_num(d.r4)
       OR l.price IS DISTINCT FROM pg_num(d.r5)
       OR l.user_id IS DISTINCT FROM pg_num(d.r6)
       OR l.session_id IS DISTINCT FROM nullif(d.r7, '')")
false_accept=$(psql_q "SET TimeZone = 'UTC'; SELECT count(*) FROM diff d WHERE code = 'none' AND NOT spec_ok(d)")
false_reject=$(psql_q "SET TimeZone = 'UTC'; SELECT count(*) FROM diff d WHERE code <> 'none' AND spec_ok(d)")
stricter=$(psql_q "SET TimeZone = 'UTC'; SELECT count(*) FROM diff d WHERE code <> 'none' AND pg_ok AND stricter(d)")
if [ "$false_reject$false_accept" != 00 ]; then
    psql_q "SET TimeZone = 'UTC'; SELECT code, r1, r2, r3, r4, r5, r6, r7 FROM diff d
            WHERE (code = 'none') <> spec_ok(d) LIMIT 10"
fi
mismatches=$((value_mismatch + false_accept + false_reject))
echo "differential: $total rows, $accepted accepted, $rejected rejected, $mismatches mismatches" \
    "($value_mismatch values, $false_accept false accepts, $false_reject false rejects;" \
    "$stricter refused on purpose though PostgreSQL takes them)"
check "at least 100,000 rows" test "$total" -ge 100000
expect_eq "every accepted row loads through COPY" "$loaded" "$accepted"
expect_eq "stored values equal PostgreSQL's reading of the raw text" "$value_mismatch" 0
expect_eq "no row accepted that the spec forbids" "$false_accept" 0
expect_eq "no row rejected that the spec allows" "$false_reject" 0
check "both sides exercised" test "$accepted" -gt 10000 -a "$rejected" -gt 10000
check "the stricter formats are met" test "$stricter" -gt 0
finish
