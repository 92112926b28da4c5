#!/usr/bin/env bash
# t_dlq_table.sh - the tables of a pipeline with its own --table: the table must exist (one ERROR
# line, exit 1: create it first); its dead-letter table is made with one TEXT column per column
# of the target (names kept, in order, dropped and generated columns left out) and the error
# columns; a column the target gains is added; an old typed dead-letter table is widened, its rows
# kept; a current one costs no change; names are quoted (mixed case, another schema); the grants
# check and `db setup` cover the tables actually used.
source "$(dirname "$0")/lib.sh"

pg_start
mkdir -p "$WORK/in"
setup() { "$SLUICE_BIN" db setup --db "$SLUICE_DB" --ingest-role loader "$@"; }
columns() { # columns TABLE: name:type of each column, in order
    psql_q "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
            FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
}

capture setup --table nosuch
expect_eq "a missing --table: exit 1" "$RC" 1
expect_match "and one line says to create it" "$(grep ' ERROR ' <<<"$ERR")" \
    "ERROR setup: table \"nosuch\" does not exist: create it first"
expect_eq "and no dead-letter table is made" "$(psql_q "SELECT to_regclass('nosuch_errors')")" ""

psql_q 'CREATE SCHEMA sales;
        CREATE TABLE sales."Orders" (id int PRIMARY KEY, gone int, "Amount" numeric(10, 2),
            note varchar(20), doubled numeric GENERATED ALWAYS AS ("Amount" * 2) STORED);
        ALTER TABLE sales."Orders" DROP COLUMN gone' >/dev/null
capture setup --table sales.Orders
expect_eq "db setup --table sales.Orders: exit 0" "$RC" 0
expect_match "the log says the dead-letter table was made" "$ERR" \
    'INFO  setup: created dead-letter table "sales"."Orders_errors" for "sales"."Orders"'
expect_eq "one TEXT column per written column, in order, and the error columns" \
    "$(columns 'sales."Orders_errors"')" \
    "error_id:bigint,id:text,Amount:text,note:text,error_code:text,error_column:text,error_message:text,source_file:text,line_number:bigint,raw_line:text,ingestion_time:timestamp without time zone"
expect_eq "error_id is its primary key, and (source_file, line_number) is indexed" \
    "$(psql_q "SELECT string_agg(pg_get_indexdef(indexrelid), ' | ' ORDER BY indisprimary DESC)
               FROM pg_index WHERE indrelid = 'sales.\"Orders_errors\"'::regclass")" \
    'CREATE UNIQUE INDEX "Orders_errors_pkey" ON sales."Orders_errors" USING btree (error_id) | CREATE INDEX "Orders_errors_source_file_line_number_idx" ON sales."Orders_errors" USING btree (source_file, line_number)'
expect_eq "db setup prints the GRANTs for these tables" "$OUT" \
    'GRANT CONNECT, TEMPORARY ON DATABASE ecommerce_db TO loader;
GRANT USAGE ON SCHEMA public TO loader;
GRANT USAGE ON SCHEMA sales TO loader;
GRANT SELECT, INSERT, UPDATE ON TABLE public.ingest_files TO loader;
GRANT SELECT, INSERT ON TABLE sales."Orders" TO loader;
GRANT INSERT ON TABLE sales."Orders_errors" TO loader;
GRANT USAGE ON SEQUENCE sales."Orders_errors_error_id_seq" TO loader;'

capture setup --table sales.Orders
expect_eq "again: exit 0" "$RC" 0
expect_eq "again: no change, none logged" "$(grep -c 'dead-letter table' <<<"$ERR")" 0

psql_q 'ALTER TABLE sales."Orders" ADD COLUMN "Qty" int' >/dev/null
capture setup --table sales.Orders
expect_match "a column the target gained is added" "$ERR" \
    'INFO  setup: dead-letter table "sales"."Orders_errors": added column Qty (the target has it)'
expect_eq "at the end, as TEXT" "$(columns 'sales."Orders_errors"' | tr ',' '\n' | tail -n 1)" \
    "Qty:text"

# An old dead-letter table with typed columns and a row: completed, widened, the row kept.
psql_q "CREATE TABLE items (sku text PRIMARY KEY, n int);
        CREATE TABLE items_errors (sku varchar(10), n int, error_message varchar(100),
            ingestion_time timestamp DEFAULT now());
        INSERT INTO items_errors (sku, n, error_message) VALUES ('A-1', 42, 'too many')" >/dev/null
capture setup --table items
expect_eq "db setup --table items with an old dead-letter table: exit 0" "$RC" 0
for line in "column sku widened from character varying to TEXT" \
    "column n widened from integer to TEXT" "added column error_id" "added column raw_line" \
    "column error_message widened from character varying to TEXT" \
    "added an index on (source_file, line_number)"; do
    expect_match "the log says: $line" "$ERR" "INFO  setup: dead-letter table \"public\".\"items_errors\": $line"
done
expect_eq "its row is kept, numbered" \
    "$(psql_q "SELECT error_id || ' ' || sku || ' ' || n || ' ' || error_message FROM items_errors")" \
    "1 A-1 42 too many"
expect_eq "error_id became its primary key" \
    "$(psql_q "SELECT count(*) FROM pg_index WHERE indrelid = 'items_errors'::regclass
               AND indisprimary")" 1

# --dlq-table names it; a target column that an error column needs is refused.
capture setup --table items --dlq-table sales.item_rejects
expect_eq "--dlq-table sales.item_rejects: exit 0" "$RC" 0
expect_eq "made there" "$(columns sales.item_rejects | cut -d, -f1-3)" "error_id:bigint,sku:text,n:text"
psql_q "CREATE TABLE lines (id int, raw_line text)" >/dev/null
capture setup --table lines
expect_eq "a target with a column named raw_line: exit 1" "$RC" 1
expect_match "and it says why" "$ERR" \
    'table "public"."lines" has a column named raw_line, which its dead-letter table needs for itself'
capture setup --table items --dlq-table items
expect_eq "--dlq-table naming the target: exit 1" "$RC" 1

# The grants check covers the tables used: the embedded cluster's ingest role, granted the seed's
# tables at db start, is told exactly what it lacks on sales."Orders".
INGEST=$("$SLUICE_BIN" db ingest-url --pg-dir "$PG_DIR" --pg-port "$PG_PORT")
ING=(ingest --once --db "$INGEST" --input-dir "$WORK/in" --checkpoint-dir "$WORK/ck"
    --error-dir "$WORK/err" --table sales.Orders)
capture "$SLUICE_BIN" "${ING[@]}"
expect_eq "ingest as a role without grants on sales.Orders: exit 1" "$RC" 1
expect_match "the line names the GRANTs on the tables used" "$ERR" \
    'hint=as the owner role run: GRANT USAGE ON SCHEMA sales TO sluice_ingest; GRANT SELECT, INSERT ON TABLE sales."Orders" TO sluice_ingest; GRANT INSERT ON TABLE sales."Orders_errors" TO sluice_ingest; GRANT USAGE ON SEQUENCE sales."Orders_errors_error_id_seq" TO sluice_ingest;'
setup --table sales.Orders --ingest-role sluice_ingest 2>/dev/null | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
capture "$SLUICE_BIN" "${ING[@]}"
expect_eq "with the GRANTs db setup prints: exit 0" "$RC" 0
expect_eq "and the current tables cost it no DDL (nothing logged)" \
    "$(grep -cE 'created|added|widened' <<<"$ERR")" 0

finish
