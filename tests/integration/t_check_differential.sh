#!/usr/bin/env bash
# t_check_differential.sh - the compiled CHECK constraints against PostgreSQL itself.
#
# A table with columns of several types and a domain, and one CHECK constraint per form the
# compiler supports (plus AND/OR/NOT combinations and one it must refuse). dbtest_check reads the
# table from the catalog as the engine does, compiles every constraint, generates rows around
# the constraints' constants and says which compiled constraint each row fails first, in the
# server's order. The server then inserts every row, one at a time, and names the constraint it
# rejects the row with. Rows with a value the type parsers refuse are left out (counted).
# Prints "checks: <constraint> rows=N failed=F mismatches=M" per constraint, where rows counts
# the rows the server tested that constraint on; fails on any mismatch or too few rows.
source "$(dirname "$0")/lib.sh"
DRIVER=$(dirname "$SLUICE_BIN")/dbtest_check
ROWS=${CHECK_ROWS:-112000}
MIN_COMPARED=${CHECK_MIN_COMPARED:-100000}
pg_start

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE DOMAIN pct AS integer CONSTRAINT pct_range CHECK (VALUE BETWEEN 0 AND 100);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE chk (
    q integer, b bigint, price numeric(10,2), event_type varchar(20) COLLATE "C", tx text,
    code varchar(10) COLLATE "C", d date, ts timestamp, ok boolean, p pct,
    f double precision, c char(5), spare integer, tz timestamptz, m mood, u uuid,
    CONSTRAINT a_price_pos CHECK (price > 0),
    CONSTRAINT a_price_tick CHECK (price >= 0.015),
    CONSTRAINT b_event_in CHECK (event_type IN ('view', 'purchase')),
    CONSTRAINT c_q_between CHECK (q BETWEEN 1 AND 100),
    CONSTRAINT d_code_length CHECK (length(code) = 3),
    CONSTRAINT e_tx_char_length CHECK (char_length(tx) <= 10),
    CONSTRAINT f_d_not_null CHECK (d IS NOT NULL),
    CONSTRAINT g_b_negatives CHECK (b <> -1 AND b > -3000000000),
    CONSTRAINT h_q_not_in CHECK (q NOT IN (3, 4)),
    CONSTRAINT i_ts_before CHECK (ts < '2030-01-01 12:00'),
    CONSTRAINT j_d_after CHECK ('2000-01-01' <= d),
    CONSTRAINT k_b_flipped CHECK (5000000000 > b),
    CONSTRAINT l_ok_not_false CHECK (ok IS NOT FALSE),
    CONSTRAINT m_and_or CHECK ((q > 50 AND b < 10) OR tx IS NULL OR ts >= '2020-01-01'),
    CONSTRAINT n_not CHECK (NOT (event_type = 'purchase' AND price < 1.00)),
    CONSTRAINT o_f_float CHECK (f > 1.5),
    CONSTRAINT p_c_bpchar CHECK (c IN ('ab', 'cd')),
    CONSTRAINT q_q_numeric CHECK (q > 2.5),
    CONSTRAINT r_code_order CHECK (code >= 'abc'),
    CONSTRAINT s_tx_quote CHECK (tx <> 'it''s'),
    CONSTRAINT u_spare_null CHECK (spare IS NULL),
    CONSTRAINT v_q_in CHECK (q IN (60, 61, 7, 99) OR q < 50),
    CONSTRAINT w_tz_after CHECK (tz > '2020-01-01 00:00+02'),
    CONSTRAINT x_m_order CHECK (m >= 'ok'),
    CONSTRAINT y_u_not_zero CHECK (u <> '00000000-0000-0000-0000-000000000000'),
    CONSTRAINT zz_refused_lower CHECK (lower(tx) <> 'forbidden')
);
-- the base row every generated row starts from: the server accepts it
INSERT INTO chk VALUES (60, 5, 10.00, 'purchase', 'hello', 'abc', '2020-06-15', '2020-06-15 08:30:00',
                        true, 50, 2.5, 'ab', NULL, '2020-06-15 08:30:00+00', 'happy',
                        '00000000-0000-0000-0000-000000000001');
SQL
expect_eq "base row stored" "$(psql_q 'SELECT count(*) FROM chk')" 1

start=$SECONDS
"$DRIVER" chk "$ROWS" "${CHECK_SEED:-11}" "$WORK/cons.tsv" "$WORK/rows.tsv" >"$WORK/verdicts.tsv"
expect_eq "driver exits 0" "$?" 0
expect_eq "driver wrote a verdict per row" "$(wc -l <"$WORK/verdicts.tsv")" "$ROWS"
echo "# driver: $((SECONDS - start)) s"

while IFS=$'\t' read -r ord name status info; do
    echo "# $name: $status${info:+ ($info)}"
done <"$WORK/cons.tsv"
expect_eq "the lower() constraint is refused" \
    "$(awk -F'\t' '$2 == "zz_refused_lower" { print $3 ": " $4 }' "$WORK/cons.tsv")" \
    "refused: calls lower()"
expect_eq "every other constraint compiles" \
    "$(awk -F'\t' '$3 == "compiled"' "$WORK/cons.tsv" | wc -l)" \
    "$(($(wc -l <"$WORK/cons.tsv") - 1))"

start=$SECONDS
psql -Xq -v ON_ERROR_STOP=1 <<SQL
SET DateStyle = ISO;
SET TimeZone = 'UTC';
TRUNCATE chk;
CREATE TABLE cons (ord int, name text, status text, info text);
CREATE TABLE input (line int, q text, b text, price text, event_type text, tx text, code text,
                    d text, ts text, ok text, p text, f text, c text, spare text, tz text,
                    m text, u text);
CREATE TABLE verdict (line int, v text);
CREATE TABLE result (line int, v text);
\copy cons FROM '$WORK/cons.tsv'
\copy input FROM '$WORK/rows.tsv'
\copy verdict FROM '$WORK/verdicts.tsv'
DO \$\$
DECLARE
    r record;
    cname text;
BEGIN
    FOR r IN SELECT * FROM input ORDER BY line LOOP
        BEGIN
            INSERT INTO chk VALUES (r.q::integer, r.b::bigint, r.price::numeric(10,2),
                r.event_type, r.tx, r.code, r.d::date, r.ts::timestamp, r.ok::boolean, r.p::pct,
                r.f::double precision, r.c, r.spare::integer, r.tz::timestamptz, r.m::mood,
                r.u::uuid);
            INSERT INTO result VALUES (r.line, 'none');
        EXCEPTION
            WHEN check_violation THEN
                GET STACKED DIAGNOSTICS cname = CONSTRAINT_NAME;
                INSERT INTO result VALUES (r.line, cname);
            WHEN others THEN
                INSERT INTO result VALUES (r.line, 'error:' || SQLSTATE);
        END;
    END LOOP;
END
\$\$;
SQL
expect_eq "server judged every row" "$(psql_q 'SELECT count(*) FROM result')" "$ROWS"
echo "# server: $((SECONDS - start)) s"

# A row matches when both name the same constraint; the server may also name a constraint the
# compiler refused, which the engine leaves to it, when no compiled one fails earlier.
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE judged AS
SELECT v.line, v.v AS mine, r.v AS pg, pc.ord AS pg_ord,
       NOT (v.v = r.v OR (pc.status = 'refused' AND (v.v = 'none' OR mc.ord > pc.ord))) AS mismatch
FROM verdict v JOIN result r USING (line)
LEFT JOIN cons pc ON pc.name = r.v LEFT JOIN cons mc ON mc.name = v.v
WHERE v.v <> 'bad' AND r.v NOT LIKE 'error:%';
SQL
psql_q "SELECT format('checks: %s rows=%s failed=%s mismatches=%s', k.name,
               count(*) FILTER (WHERE j.pg = 'none' OR j.pg_ord >= k.ord),
               count(*) FILTER (WHERE j.pg = k.name),
               count(*) FILTER (WHERE j.mismatch AND (j.pg = k.name OR j.mine = k.name)))
        FROM cons k CROSS JOIN judged j GROUP BY k.ord, k.name ORDER BY k.ord"
psql_q "SELECT format('# mismatch: line %s: sluice says %s, the server %s: %s', j.line, j.mine, j.pg,
               (SELECT row(i.*)::text FROM input i WHERE i.line = j.line))
        FROM judged j WHERE j.mismatch ORDER BY j.line LIMIT 20"

compared=$(psql_q 'SELECT count(*) FROM judged')
excluded=$(psql_q "SELECT count(*) FROM verdict WHERE v = 'bad'")
server_values=$(psql_q "SELECT count(*) FROM verdict v JOIN result r USING (line)
                        WHERE v.v <> 'bad' AND r.v LIKE 'error:%'")
mismatches=$(psql_q 'SELECT count(*) FROM judged WHERE mismatch')
server_only=$(psql_q "SELECT count(*) FROM judged WHERE pg = 'zz_refused_lower'")
echo "checks: total rows=$ROWS compared=$compared excluded=$excluded (values the parsers refuse)" \
    "mismatches=$mismatches left-to-server=$server_only"
[ "$server_values" = 0 ] || echo "# note: $server_values rows the type parsers accept were refused" \
    "by the server's input functions (a type parser's business, not a CHECK's)"
expect_eq "no mismatch" "$mismatches" 0
check "at least $MIN_COMPARED rows compared" test "$compared" -ge "$MIN_COMPARED"
expect_eq "the server failed rows on every compiled constraint (none without)" \
    "$(psql_q "SELECT string_agg(k.name, ' ') FROM cons k WHERE k.status = 'compiled'
               AND NOT EXISTS (SELECT 1 FROM judged j WHERE j.pg = k.name)")" ""
check "the server caught rows for the refused constraint" test "$server_only" -gt 0
finish
