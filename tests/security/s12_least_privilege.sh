#!/usr/bin/env bash
# s12_least_privilege.sh - issue 9 item 12: two roles. The owner makes the schema (`sluice db
# setup`, or `db start` for the embedded cluster); ingest, archive and run need only the GRANTs
# setup prints, skip DDL when the schema is current, and name the exact GRANT that is missing. The
# attack: the role the pipeline runs as (a stolen ingest credential) destroys or rewrites data.
source "$(dirname "$0")/../integration/lib.sh"

pg_start
INGEST=$("$SLUICE_BIN" db ingest-url --pg-dir "$PG_DIR" --pg-port "$PG_PORT")
expect_eq "db ingest-url names the ingest role" "$INGEST" \
    "host=$PG_DIR port=$PG_PORT dbname=ecommerce_db user=sluice_ingest"
ing_q() { psql -XAtq -d "$INGEST" -c "$1" 2>&1; }

D=$WORK/d
"$SLUICE_BIN" generate --input-dir "$D/input" --temp-dir "$D/temp" --files 3 --rows-per-file 20 \
    --interval 0 --seed 7 --log-level warn
capture "$SLUICE_BIN" ingest --once --db "$INGEST" --input-dir "$D/input" --checkpoint-dir "$D/ck" \
    --error-dir "$D/error"
expect_eq "the ingest role ingests" "$RC" 0
expect_eq "every row is in" "$(psql_q 'SELECT count(*) FROM user_activity') files=$(psql_q "SELECT count(*) FROM ingest_files WHERE status = 'done'")" \
    "$(psql_q 'SELECT sum(rows_loaded) FROM ingest_files') files=3"
check "no DDL when the schema is current" bash -c "! grep -q 'creating or upgrading the schema' <<<'$ERR'"
capture "$SLUICE_BIN" archive --once --min-age 0 --db "$INGEST" --input-dir "$D/input" \
    --archive-dir "$D/archive"
expect_eq "the ingest role archives" "$RC" 0

# The attack: what a stolen ingest credential tries. Every one is refused.
expect_match "it cannot drop a table" "$(ing_q 'DROP TABLE user_activity')" "must be owner of table user_activity"
expect_match "it cannot delete rows" "$(ing_q 'DELETE FROM user_activity')" "permission denied for table user_activity"
expect_match "it cannot rewrite loaded rows" "$(ing_q "UPDATE user_activity SET price = 0")" \
    "permission denied for table user_activity"
expect_match "it cannot empty the dead letters" "$(ing_q 'TRUNCATE user_activity_errors')" \
    "permission denied for table user_activity_errors"
expect_match "it cannot create tables in public" "$(ing_q 'CREATE TABLE t (x int)')" \
    "permission denied for schema public"
expect_match "it cannot alter the ledger" "$(ing_q 'ALTER TABLE ingest_files ADD COLUMN x int')" \
    "must be owner of table ingest_files"
expect_eq "the rows are all still there" "$(psql_q 'SELECT count(*) FROM user_activity')" \
    "$(psql_q 'SELECT sum(rows_loaded) FROM ingest_files')"

# db setup: as the owner, the schema and the exact GRANTs for a named ingest role.
capture "$SLUICE_BIN" db setup --db "$SLUICE_DB" --ingest-role loader
expect_eq "db setup exits 0" "$RC" 0
expect_eq "db setup prints the GRANTs the ingest role needs" "$OUT" \
    'GRANT CONNECT, TEMPORARY ON DATABASE ecommerce_db TO loader;
GRANT USAGE ON SCHEMA public TO loader;
GRANT SELECT, INSERT, UPDATE ON TABLE public.ingest_files TO loader;
GRANT SELECT, INSERT ON TABLE public.user_activity TO loader;
GRANT INSERT ON TABLE public.user_activity_errors TO loader;
GRANT USAGE ON SEQUENCE public.user_activity_errors_error_id_seq TO loader;'

# A missing grant is named exactly, once, and the process ends.
psql_q "REVOKE UPDATE ON ingest_files FROM sluice_ingest"
capture "$SLUICE_BIN" ingest --once --db "$INGEST" --input-dir "$D/input" --checkpoint-dir "$D/ck" \
    --error-dir "$D/error"
expect_eq "without UPDATE on the ledger: exit 1" "$RC" 1
expect_match "the line names the GRANT to run" "$ERR" \
    'hint=as the owner role run: GRANT UPDATE ON TABLE public.ingest_files TO sluice_ingest;'
"$SLUICE_BIN" db start --pg-dir "$PG_DIR" --pg-port "$PG_PORT" >/dev/null 2>&1
capture "$SLUICE_BIN" ingest --once --db "$INGEST" --input-dir "$D/input" --checkpoint-dir "$D/ck" \
    --error-dir "$D/error"
expect_eq "db start grants it again" "$RC" 0

# The embedded pipeline runs as the ingest role.
capture "$SLUICE_BIN" run --pg-dir "$PG_DIR" --pg-port "$PG_PORT" --data-dir "$WORK/r" \
    --seconds 1 --rate 200 --log-level debug
expect_eq "run on the embedded cluster exits 0" "$RC" 0
expect_match "as the ingest role" "$ERR" "connected to PostgreSQL (user=sluice_ingest"
check "the pipeline never as the owner" bash -c \
    "! grep -Eq ' (ingest|ingest-[0-9]|archive|run): connected to PostgreSQL \(user=myuser' <<<'$ERR'"

finish
