#!/usr/bin/env bash
# t_upgrade.sh - sluice on a database the original project made, and on one an earlier sluice
# upgraded: the original's rows are kept, its index and rules are recognised whatever their names
# (no second event_time index for every insert to pay for), the seed's rules become CHECK
# constraints (NOT VALID, said so, when old rows break them), the dead-letter table is widened,
# the ledger gains target_table with its old rows kept as user_activity's, every change is said
# in the log, and a second start changes nothing.
source "$(dirname "$0")/lib.sh"

pg_start
SOCK="host=$PG_DIR port=$PG_PORT"
psql_admin() { PGUSER=$([ "$(id -u)" = 0 ] && echo postgres || id -un) psql_q "$1"; }
in_db() { PGDATABASE=$1 psql_q "$2"; }

# The original project's schema, in our words: the events table with its primary key and an
# index on event_time named its own way, and a dead-letter table whose columns are loosely typed
# strings with a message and a time, no id. Rows in both, one event breaking the seed's rules.
original_schema() {
    in_db "$1" "
        CREATE TABLE user_activity (
            event_id VARCHAR(50) PRIMARY KEY, event_time TIMESTAMP NOT NULL,
            event_type VARCHAR(20), product_id INTEGER, price DECIMAL(10, 2),
            user_id INTEGER, session_id VARCHAR(50));
        CREATE INDEX idx_event_time ON user_activity (event_time);
        CREATE TABLE user_activity_errors (
            event_id VARCHAR(255), event_time VARCHAR(255), event_type VARCHAR(255),
            product_id VARCHAR(255), price VARCHAR(255), user_id VARCHAR(255),
            session_id VARCHAR(255), error_message TEXT,
            ingestion_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
        INSERT INTO user_activity VALUES
            ('old-1', '2024-03-01 08:00:00', 'view', 11, 19.99, 7, 's-1'),
            ('old-2', '2024-03-01 08:05:00', 'purchase', 12, 5.00, 7, 's-1'),
            ('old-3', '2024-03-01 08:09:00', 'cart', 13, 0.00, 8, 's-2');
        INSERT INTO user_activity_errors (event_id, price, error_message)
            VALUES ('old-bad', 'abc', 'price is not a number');" >/dev/null
}

ingest() { # ingest DB FOLDER: one pass over the folder into DB
    "$SLUICE_BIN" ingest --once --db "$SOCK dbname=$1 user=myuser" --input-dir "$2" \
        --checkpoint-dir "$WORK/ck-$1" --error-dir "$WORK/err-$1"
}

event_time_indexes() {
    in_db "$1" "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index
                WHERE indrelid = 'user_activity'::regclass AND indkey::text =
                (SELECT attnum::text FROM pg_attribute WHERE attrelid = 'user_activity'::regclass
                 AND attname = 'event_time')"
}

# --- a database the original made -----------------------------------------------------------
psql_admin "CREATE DATABASE orig OWNER myuser" >/dev/null
original_schema orig
mkdir -p "$WORK/in1"
"$SLUICE_BIN" generate --input-dir "$WORK/in1" --temp-dir "$WORK/tmp" --files 3 \
    --rows-per-file 40 --interval 0 --bad-ratio 0 --seed 11 --log-level warn
capture ingest orig "$WORK/in1"
expect_eq "ingest on the original's database: exit 0" "$RC" 0
for line in \
    "user_activity: added CHECK constraint user_activity_event_type_check (event_type IN ('view', 'purchase')) NOT VALID: 1 existing rows break it and are kept; new rows are checked" \
    "user_activity: added CHECK constraint user_activity_price_check (price > 0) NOT VALID: 1 existing rows break it and are kept; new rows are checked" \
    "user_activity: added CHECK constraint user_activity_product_id_check (product_id > 0); every existing row passes" \
    "user_activity: added CHECK constraint user_activity_user_id_check (user_id > 0); every existing row passes" \
    "user_activity_errors: column price widened to TEXT" \
    "user_activity_errors: added column error_code" \
    "user_activity_errors: added column error_id, numbering the existing rows" \
    "user_activity: kept its index idx_event_time on (event_time); none added beside it"; do
    expect_match "the log says: ${line:0:60}..." "$ERR" "INFO  setup: $line"
done
expect_eq "the original's event_time index is kept, and no second one is made" \
    "$(event_time_indexes orig)" "idx_event_time"
expect_eq "the original's rows are kept as they were" \
    "$(in_db orig "SELECT string_agg(event_id || ' ' || event_type || ' ' || price, ',' ORDER BY 1)
                   FROM user_activity WHERE event_id LIKE 'old-%'")" \
    "old-1 view 19.99,old-2 purchase 5.00,old-3 cart 0.00"
expect_eq "and the new files' 120 rows are loaded beside them" \
    "$(in_db orig "SELECT count(*) FROM user_activity")" 123
expect_eq "the rules old rows break are NOT VALID, the others validated" \
    "$(in_db orig "SELECT string_agg(conname || '=' || convalidated, ',' ORDER BY conname)
                   FROM pg_constraint WHERE conrelid = 'user_activity'::regclass
                   AND contype = 'c'")" \
    "user_activity_event_type_check=false,user_activity_price_check=false,user_activity_product_id_check=true,user_activity_user_id_check=true"
capture in_db orig "INSERT INTO user_activity VALUES ('new-1', now(), 'cart', 1, 1, 1, 's')"
expect_match "the database now refuses a row against the seed's rules" "$ERR" \
    "violates check constraint \"user_activity_event_type_check\""
capture in_db orig "INSERT INTO user_activity VALUES ('new-2', now(), 'view', 1, 1, -4, 's')"
expect_match "ids > 0 too" "$ERR" "violates check constraint \"user_activity_user_id_check\""
expect_eq "the old dead letter is kept, numbered, its columns widened" \
    "$(in_db orig "SELECT error_id || ' ' || event_id || ' ' || price || ' ' || error_message || ' '
                   || pg_typeof(price) FROM user_activity_errors WHERE event_id = 'old-bad'")" \
    "1 old-bad abc price is not a number text"
expect_eq "the ledger has the 3 files, as user_activity's" \
    "$(in_db orig "SELECT count(*) || ' ' || min(target_table) || ' ' || max(target_table)
                   FROM ingest_files")" "3 public.user_activity public.user_activity"

# A second start changes nothing and says nothing about the schema.
capture ingest orig "$WORK/in1"
expect_eq "second start: exit 0" "$RC" 0
expect_eq "second start: no schema change logged" \
    "$(grep -cE 'INFO  (setup|db): (created|added|dropped|kept|user_activity|ledger|creating)' <<<"$ERR")" 0
expect_eq "second start: still one event_time index" "$(event_time_indexes orig)" "idx_event_time"
expect_eq "second start: nothing loaded twice" "$(in_db orig "SELECT count(*) FROM user_activity")" 123

# --- a rule the original already has under its own name is recognised ----------------------
psql_admin "CREATE DATABASE named OWNER myuser" >/dev/null
original_schema named
in_db named "DELETE FROM user_activity WHERE event_id = 'old-3';
             ALTER TABLE user_activity ADD CONSTRAINT positive_price CHECK (price > 0)" >/dev/null
mkdir -p "$WORK/empty"
capture ingest named "$WORK/empty"
expect_eq "ingest with its own price rule: exit 0" "$RC" 0
expect_match "the log says its rule is kept" "$ERR" \
    "INFO  setup: user_activity: kept its CHECK constraint positive_price, the same rule as user_activity_price_check"
expect_eq "no second price rule is added; the others are, validated" \
    "$(in_db named "SELECT string_agg(conname || '=' || convalidated, ',' ORDER BY conname)
                    FROM pg_constraint WHERE conrelid = 'user_activity'::regclass
                    AND contype = 'c'")" \
    "positive_price=true,user_activity_event_type_check=true,user_activity_product_id_check=true,user_activity_user_id_check=true"

# --- a database an earlier sluice (schema 1) upgraded: both indexes, a ledger without tables --
psql_admin "CREATE DATABASE earlier OWNER myuser" >/dev/null
original_schema earlier
in_db earlier "
    CREATE INDEX idx_user_activity_event_time ON user_activity (event_time);
    CREATE TABLE ingest_files (
        file_name TEXT NOT NULL, content_hash TEXT NOT NULL, size_bytes BIGINT NOT NULL,
        file_mtime TIMESTAMPTZ, status TEXT NOT NULL DEFAULT 'loading'
            CHECK (status IN ('loading', 'done', 'quarantined')),
        committed_offset BIGINT NOT NULL DEFAULT 0, committed_line BIGINT NOT NULL DEFAULT 1,
        rows_loaded BIGINT NOT NULL DEFAULT 0, rows_rejected BIGINT NOT NULL DEFAULT 0,
        discovered_at TIMESTAMPTZ NOT NULL DEFAULT now(), committed_at TIMESTAMPTZ,
        archived_at TIMESTAMPTZ, archived_as TEXT, PRIMARY KEY (file_name, content_hash));
    CREATE INDEX idx_ingest_files_to_archive ON ingest_files (file_name)
        WHERE archived_at IS NULL AND status = 'done';
    INSERT INTO ingest_files (file_name, content_hash, size_bytes, status, rows_loaded)
        VALUES ('a.csv', 'h1', 100, 'done', 3), ('b.csv', 'h2', 50, 'loading', 0);
    COMMENT ON TABLE ingest_files IS 'sluice schema 1'" >/dev/null
capture ingest earlier "$WORK/empty"
expect_eq "ingest on an earlier sluice's database: exit 0" "$RC" 0
expect_match "the log says the ledger changed" "$ERR" \
    "INFO  db: ledger ingest_files: added column target_table, now part of the key; its 2 existing rows belong to public.user_activity"
expect_match "the log says which duplicate index went" "$ERR" \
    "INFO  setup: user_activity: dropped index idx_user_activity_event_time, a duplicate of idx_event_time on (event_time)"
expect_eq "one event_time index is left, the original's" "$(event_time_indexes earlier)" \
    "idx_event_time"
expect_eq "the ledger's rows are kept, as user_activity's" \
    "$(in_db earlier "SELECT string_agg(target_table || ' ' || file_name || ' ' || status || ' '
                      || rows_loaded, ',' ORDER BY file_name) FROM ingest_files")" \
    "public.user_activity a.csv done 3,public.user_activity b.csv loading 0"
expect_eq "the ledger's key has the table" \
    "$(in_db earlier "SELECT pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE conrelid = 'ingest_files'::regclass AND contype = 'p'")" \
    "PRIMARY KEY (target_table, file_name, content_hash)"
expect_match "the log says the ledger gained header_line" "$ERR" \
    "INFO  db: ledger ingest_files: added column header_line (NULL for the 2 files loaded before)"
expect_eq "the rows kept have no header line" \
    "$(in_db earlier "SELECT count(*) FILTER (WHERE header_line IS NULL) FROM ingest_files")" 2
expect_match "the log says the ledger gained rows_skipped" "$ERR" \
    "INFO  db: ledger ingest_files: added column rows_skipped, 0 for the rows already there"
expect_eq "the ledger's kept rows count nothing skipped or updated" \
    "$(in_db earlier "SELECT string_agg(file_name || ' ' || rows_skipped || ' ' || rows_updated, ','
                      ORDER BY file_name) FROM ingest_files")" \
    "a.csv 0 0,b.csv 0 0"
expect_eq "the marker says schema 4" \
    "$(in_db earlier "SELECT obj_description('ingest_files'::regclass, 'pg_class')")" \
    "sluice schema 4"

# From schema 3 (a ledger without header lines): the column is added, the rows kept.
in_db earlier "ALTER TABLE ingest_files DROP COLUMN header_line;
               COMMENT ON TABLE ingest_files IS 'sluice schema 3'" >/dev/null
capture ingest earlier "$WORK/empty"
expect_eq "ingest on a schema 3 ledger: exit 0" "$RC" 0
expect_match "the log says the ledger gained header_line" "$ERR" \
    "INFO  db: ledger ingest_files: added column header_line (NULL for the 2 files loaded before)"
expect_eq "its rows kept, without header lines; the marker says schema 4" \
    "$(in_db earlier "SELECT count(*) FILTER (WHERE header_line IS NULL) || ' '
                      || obj_description('ingest_files'::regclass, 'pg_class') FROM ingest_files")" \
    "2 sluice schema 4"

finish
