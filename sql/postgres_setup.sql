-- sluice schema: the original project's tables, kept compatible with its queries, plus the
-- ledger that makes loading exactly-once. Idempotent: sluice runs it at every start, and it
-- works by hand too:  psql -d ecommerce_db -f sql/postgres_setup.sql

-- Clean events: the original's columns, with the seed's rules as the table's own constraints
-- (sluice reads its whole contract from this definition, and the database enforces it too).
CREATE TABLE IF NOT EXISTS user_activity (
    event_id    VARCHAR(50) PRIMARY KEY,
    event_time  TIMESTAMP NOT NULL,
    event_type  VARCHAR(20) NOT NULL CHECK (event_type IN ('view', 'purchase')),
    product_id  INTEGER NOT NULL CHECK (product_id > 0),
    price       DECIMAL(10, 2) NOT NULL CHECK (price > 0),
    user_id     INTEGER NOT NULL CHECK (user_id > 0),
    session_id  VARCHAR(50)
);
CREATE INDEX IF NOT EXISTS idx_user_activity_event_time ON user_activity (event_time);

-- Dead letters: the original's columns, raw fields as TEXT (bad data has any length), and
-- where and why each row was rejected.
CREATE TABLE IF NOT EXISTS user_activity_errors (
    error_id        BIGSERIAL PRIMARY KEY,
    event_id        TEXT,
    event_time      TEXT,
    event_type      TEXT,
    product_id      TEXT,
    price           TEXT,
    user_id         TEXT,
    session_id      TEXT,
    error_message   TEXT,
    ingestion_time  TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
-- Upgrade a table made by the original project: widen its typed columns to TEXT and add
-- sluice's columns. Only columns that need it are touched, so a current table is left alone.
DO $$
DECLARE
    col text;
BEGIN
    FOR col IN
        SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'user_activity_errors'
          AND column_name IN ('event_id', 'event_time', 'event_type', 'product_id', 'price',
                              'user_id', 'session_id')
          AND data_type <> 'text'
    LOOP
        EXECUTE format('ALTER TABLE user_activity_errors ALTER COLUMN %I TYPE TEXT USING %I::text',
                       col, col);
    END LOOP;
    FOR col IN
        SELECT c FROM unnest(ARRAY['error_code', 'error_column', 'source_file', 'raw_line']) AS c
        WHERE NOT EXISTS (SELECT 1 FROM information_schema.columns
                          WHERE table_schema = current_schema()
                            AND table_name = 'user_activity_errors' AND column_name = c)
    LOOP
        EXECUTE format('ALTER TABLE user_activity_errors ADD COLUMN %I TEXT', col);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema()
                     AND table_name = 'user_activity_errors' AND column_name = 'line_number') THEN
        ALTER TABLE user_activity_errors ADD COLUMN line_number BIGINT;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS idx_user_activity_errors_source
    ON user_activity_errors (source_file, line_number);

-- The ledger: one row per input file (name + content). It is updated in the same transaction as
-- the rows it accounts for, so it is the single record of what is committed.
CREATE TABLE IF NOT EXISTS ingest_files (
    file_name         TEXT        NOT NULL,
    content_hash      TEXT        NOT NULL,
    size_bytes        BIGINT      NOT NULL,
    file_mtime        TIMESTAMPTZ,
    status            TEXT        NOT NULL DEFAULT 'loading'
                      CHECK (status IN ('loading', 'done', 'quarantined')),
    committed_offset  BIGINT      NOT NULL DEFAULT 0,
    committed_line    BIGINT      NOT NULL DEFAULT 1,
    rows_loaded       BIGINT      NOT NULL DEFAULT 0,
    rows_rejected     BIGINT      NOT NULL DEFAULT 0,
    discovered_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    committed_at      TIMESTAMPTZ,
    archived_at       TIMESTAMPTZ,
    archived_as       TEXT,
    PRIMARY KEY (file_name, content_hash)
);
CREATE INDEX IF NOT EXISTS idx_ingest_files_to_archive
    ON ingest_files (file_name) WHERE archived_at IS NULL AND status = 'done';

-- sluice checks this marker at start and skips the script when the schema is already current.
COMMENT ON TABLE ingest_files IS 'sluice schema 1';
