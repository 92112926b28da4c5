#!/usr/bin/env bash
# t_own_table.sh - sluice on a table of the test's own design (--table), with every supported
# type (smallint .. jsonb, an enum, a domain with its own CHECK), every compiled constraint form
# (comparison, BETWEEN, IN, IS [NOT] NULL, length/char_length, AND/OR), a composite key, defaults
# and a NOT NULL without one, header names mapped by --column-map and by case:
#  - the valid rows store exactly what PostgreSQL's own CSV COPY makes of the same file;
#  - each invalid row is one dead letter with the expected code and column;
#  - a file with other columns gets the defaults; a repeated key across files is duplicate_key;
#  - a header without a NOT NULL column (no default) is a bad_header, the file quarantined;
#  - --strict-columns refuses a header name the table lacks.
source "$(dirname "$0")/lib.sh"
pg_start

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA shop;
CREATE TYPE mood AS ENUM ('calm', 'busy', 'wild');
CREATE DOMAIN percent AS numeric(5,2) CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE shop.readings (
    site     varchar(8) NOT NULL,
    seq      bigint NOT NULL,
    id       serial,
    small    smallint CHECK (small <> 0),
    n        integer NOT NULL CHECK (n >= 1 AND n <= 1000),
    amount   numeric(8,3) CHECK (amount BETWEEN -5 AND 5000),
    ratio    real,
    weight   double precision CHECK (weight IS NULL OR weight > 0),
    flag     boolean NOT NULL DEFAULT false,
    code     char(3) CHECK (length(code) = 3),
    label    text CHECK (char_length(label) <= 10),
    kind     text CHECK (kind IN ('a', 'b', 'c')),
    day      date CHECK (day >= '2020-01-01'),
    at       time,
    ts       timestamp CHECK (ts < '2100-01-01'),
    tstz     timestamptz,
    uid      uuid,
    doc      json,
    docb     jsonb,
    feeling  mood,
    pct      percent,
    note     varchar(20) CHECK (note IS NOT NULL),
    created  timestamptz NOT NULL DEFAULT now(),
    twice    integer GENERATED ALWAYS AS (n * 2) STORED,
    serial   bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (site, seq)
);
SQL

IN=$WORK/in
mkdir -p "$IN" "$WORK/err" "$WORK/ck"
COLS="site,seq,small,n,amount,ratio,weight,code,label,kind,day,at,ts,tstz,uid,doc,docb,feeling,pct,note"
CMP="site,seq,small,n,amount,ratio,weight,code,label,kind,day,at,ts,tstz,uid,doc::text,docb,feeling,pct,note"
HEAD="SITE,Sequence,small,n,amount,ratio,weight,code,label,kind,day,at,ts,tstz,uid,doc,docb,feeling,pct,note"
# valid rows only: PostgreSQL's own COPY of this file is the reference
cat >"$WORK/good.csv" <<CSV
$HEAD
s1,1,5,10,12.5,1.5,2.25,abc,hello,a,2024-02-29,23:59:59,2024-05-01 10:20:30.5,2024-05-01 10:20:30+02:00,A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11,"{""k"": [1, 2]}","{""b"": 1, ""a"": 2}",calm,99.5,first
s1,2,,1,-5,,,,x,b,2020-01-01,00:00,2099-12-31 23:59:59,2024-01-01T00:00:00Z,,null,[],wild,0,second
s2,1,-1,1000,5000,-0.0,1e-3,xyz,"tab	in",c,2030-06-15,12:00:00.123456,2024-05-01 00:00:00,2024-05-01 00:00:00,{a0eebc999c0b4ef8bb6d6bb9bd380a12},"""s""","{""nested"": {""x"": [true, false, null]}}",busy,100,third
CSV
cp "$WORK/good.csv" "$IN/a_good.csv"
ING=("$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$IN" --checkpoint-dir "$WORK/ck"
    --error-dir "$WORK/err" --table shop.readings --column-map Sequence=seq --once
    --log-level warn)
capture "${ING[@]}"
expect_eq "first round (the valid file) exits 0" "$RC" 0
# the bad rows come second, so that the repeated key of line 19 meets a committed row
# one problem per row: line|code|column
cat >"$IN/b_bad.csv" <<CSV
$HEAD
s3,1,0,1,1,,,,,,,,,,,,,,,r
s3,2,1,1001,1,,,,,,,,,,,,,,,r
s3,3,1,,1,,,,,,,,,,,,,,,r
s3,4,1,1,4999.0001,,,,,,,,,,,,,,,r
s3,5,1,1,-5.001,,,,,,,,,,,,,,,r
s3,6,1,1,1,,-1,,,,,,,,,,,,,r
s3,7,1,1,1,,,ab,,,,,,,,,,,,r
s3,8,1,1,1,,,,abcdefghijk,,,,,,,,,,,r
s3,9,1,1,1,,,,,d,,,,,,,,,,r
s3,10,1,1,1,,,,,,2019-12-31,,,,,,,,,r
s3,11,1,1,1,,,,,,,,2100-01-01 00:00:00,,,,,,,r
s3,12,1,1,1,,,,,,,,,,not-a-uuid,,,,,r
s3,13,1,1,1,,,,,,,,,,,{bad,,,,r
s3,14,1,1,1,,,,,,,,,,,,,Calm,,r
s3,15,1,1,1,,,,,,,,,,,,,,100.01,r
s3,16,1,1,1,,,,,,,,,,,,,,,
toolongsite,17,1,1,1,,,,,,,,,,,,,,,r
s1,1,1,1,1,,,,,,,,,,,,,,,r
s3,18,40000,1,1,,,,,,,,,,,,,,,r
s3,19,1,1,1,,,,,,2024-02-30,,,,,,,,,r
CSV
cat >"$WORK/bad.expected" <<'EXP'
2|rule_violation|small
3|rule_violation|n
4|missing_field|n
5|bad_value|amount
6|rule_violation|amount
7|rule_violation|weight
8|rule_violation|code
9|rule_violation|label
10|rule_violation|kind
11|rule_violation|day
12|rule_violation|ts
13|bad_value|uid
14|bad_value|doc
15|bad_value|feeling
16|rule_violation|pct
17|rule_violation|note
18|bad_value|site
19|duplicate_key|site
20|bad_value|small
21|bad_value|day
EXP
capture "${ING[@]}"
expect_eq "second round (the bad rows) exits 0" "$RC" 0
expect_eq "3 valid rows loaded" "$(psql_q "SELECT count(*) FROM shop.readings")" 3
expect_eq "dead letters: code and column of each bad row" \
    "$(psql_q "SELECT line_number || '|' || error_code || '|' || coalesce(error_column, '-')
               FROM shop.readings_errors WHERE source_file = 'b_bad.csv' ORDER BY line_number")" \
    "$(cat "$WORK/bad.expected")"

[ -n "${SHOW_DEAD_LETTERS:-}" ] && psql -X -c "SELECT line_number, error_code, error_column, error_message FROM shop.readings_errors ORDER BY line_number"
# the reference: PostgreSQL's own CSV COPY of the valid rows, into a table of the same types
psql -Xq -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE mirror AS SELECT * FROM shop.readings WITH NO DATA;
\\copy mirror ($COLS) FROM '$WORK/good.csv' CSV HEADER
SQL
diffq="SELECT $CMP FROM shop.readings EXCEPT SELECT $CMP FROM mirror"
expect_eq "stored values = PostgreSQL's COPY of the same text (sluice - pg)" \
    "$(psql_q "SELECT count(*) FROM ($diffq) d")" 0
expect_eq "stored values = PostgreSQL's COPY of the same text (pg - sluice)" \
    "$(psql_q "SELECT count(*) FROM (SELECT $CMP FROM mirror EXCEPT SELECT $CMP FROM shop.readings) d")" 0
expect_eq "the tab inside a quoted field is kept" \
    "$(psql_q "SELECT label = E'tab\\tin' FROM shop.readings WHERE site = 's2'")" t
expect_eq "defaults filled: serial id and created, flag false; generated and identity columns by the server" \
    "$(psql_q "SELECT count(*) FROM shop.readings WHERE id IS NOT NULL AND created IS NOT NULL AND NOT flag AND twice = 2 * n AND serial IS NOT NULL")" 3

# another layout (defaults for the rest); a key already loaded; a header without n
cat >"$IN/c_other.csv" <<'CSV'
site,seq,n,note,flag
s2,1,5,again,yes
s4,1,5,fourth,on
CSV
cat >"$IN/d_missing.csv" <<'CSV'
site,seq,note
s5,1,x
CSV
capture "${ING[@]}"
expect_eq "third round exits 0" "$RC" 0
expect_eq "s4 loaded with defaults, flag from 'on'" \
    "$(psql_q "SELECT n || ' ' || flag || ' ' || (small IS NULL) || ' ' || note FROM shop.readings WHERE site = 's4'")" \
    "5 true true fourth"
expect_eq "a key loaded by another file is duplicate_key" \
    "$(psql_q "SELECT error_code || '|' || error_column || '|' || error_message FROM shop.readings_errors WHERE source_file = 'c_other.csv'")" \
    "duplicate_key|site|key (site, seq) = (s2, 1) is already loaded"
expect_eq "a header without the NOT NULL column n is a bad_header" \
    "$(psql_q "SELECT error_code || '|' || error_message FROM shop.readings_errors WHERE source_file = 'd_missing.csv'")" \
    "bad_header|missing required column 'n'"
check "the bad-header file is in the error folder" test -f "$WORK/err/d_missing.csv"
expect_eq "the ledger is scoped to the table and balances" \
    "$(psql_q "SELECT sum(rows_loaded) || ' ' || sum(rows_rejected) FROM ingest_files")" "4 22"

# --strict-columns: a header name the table lacks is refused
mkdir -p "$WORK/in2"
printf 'site,seq,n,note,bogus\ns6,1,1,x,1\n' >"$WORK/in2/e_extra.csv"
capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$WORK/in2" \
    --checkpoint-dir "$WORK/ck2" --error-dir "$WORK/err2" --table shop.readings --strict-columns \
    --once --log-level warn
expect_eq "strict: exits 0" "$RC" 0
expect_eq "strict: bad_header naming the column" \
    "$(psql_q "SELECT error_code || '|' || error_message FROM shop.readings_errors WHERE source_file = 'e_extra.csv'")" \
    "bad_header|table shop.readings has no column 'bogus'"

# --event-types: a rule on top of the table's (here narrower than its CHECK), compiled the same way
mkdir -p "$WORK/in3"
printf 'event_id,event_time,event_type,product_id,price,user_id,session_id\n%s\n%s\n' \
    "e1,2024-01-01 00:00:00,view,1,1,1," "e2,2024-01-01 00:00:00,purchase,1,1,1," >"$WORK/in3/f.csv"
capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$WORK/in3" --checkpoint-dir "$WORK/ck3" \
    --error-dir "$WORK/err3" --event-types view --once --log-level warn
expect_eq "--event-types: exits 0" "$RC" 0
expect_eq "--event-types: the allowed type loads, the other is a rule_violation naming the option" \
    "$(psql_q "SELECT string_agg(event_id, ',') FROM user_activity") $(psql_q "SELECT event_id || '|' || error_code || '|' || error_column || '|' || error_message FROM user_activity_errors")" \
    "e1 e2|rule_violation|event_type|event_type: 'purchase' violates --event-types (((event_type)::text = ANY ((ARRAY['view'::text])::text[])))"
capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$WORK/in3" --checkpoint-dir "$WORK/ck3" \
    --error-dir "$WORK/err3" --table shop.readings --event-types view --once
expect_eq "--event-types on a table without event_type: exit 1" "$RC" 1
expect_match "--event-types on a table without event_type: says so" "$ERR" "the table has no text column event_type"

# a case-insensitive (nondeterministic) collation: equality is not byte equality, so its CHECK is
# the server's, and 'ABC' passes CHECK (k = 'abc') as PostgreSQL says
if psql_q "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)" >/dev/null 2>&1; then
    psql_q "CREATE TABLE ci_t (k text COLLATE ci CHECK (k = 'abc'))" >/dev/null
    mkdir -p "$WORK/in4"
    printf 'k\nABC\nabd\n' >"$WORK/in4/c.csv"
    capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$WORK/in4" --checkpoint-dir "$WORK/ck4" \
        --error-dir "$WORK/err4" --table ci_t --once
    expect_eq "nondeterministic collation: exits 0" "$RC" 0
    expect_match "its CHECK is left to the server, said at start" "$ERR" "under a nondeterministic collation"
    expect_eq "'ABC' loads, 'abd' is the server's refusal" \
        "$(psql_q "SELECT string_agg(k, ',') FROM ci_t") $(psql_q "SELECT k || '|' || error_code FROM ci_t_errors")" \
        "ABC abd|db_rejected"
fi

# a table that does not exist: one clear error, exit 1
capture "$SLUICE_BIN" ingest --db "$SLUICE_DB" --input-dir "$WORK/in2" \
    --checkpoint-dir "$WORK/ck2" --error-dir "$WORK/err2" --table nosuch --once
expect_eq "missing table: exit 1" "$RC" 1
expect_match "missing table: says so" "$ERR" 'table "nosuch" does not exist: create it first'
finish
