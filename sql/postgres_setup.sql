-- sluice schema: the seed pipeline's tables (user_activity and its dead letters), kept
-- compatible with the original project's queries, and the ledger that makes loading exactly-once.
-- Idempotent. sluice runs it at start when a part is missing or older than its marker, and it
-- works by hand too:  psql -d ecommerce_db -f sql/postgres_setup.sql
-- Every change made to an existing table is announced as a NOTICE (sluice logs them).

-- Clean events: the original's columns, and its rules as CHECK constraints so the database
-- enforces them too (sluice checks them in C first). A table the original made is upgraded in
-- place, its rows kept: a rule or an index it already has under another name is recognised and
-- not added twice. A rule that old rows break is added NOT VALID: new rows are checked, the old
-- ones stay as they are, and the notice says how many break it.
DO $$
DECLARE
    t regclass := to_regclass(format('%I.%I', current_schema(), 'user_activity'));
    rule record;
    mine oid;
    same text;
    bad bigint;
    idx text[];
BEGIN
    IF t IS NULL THEN
        CREATE TABLE user_activity (
            event_id    VARCHAR(50) PRIMARY KEY,
            event_time  TIMESTAMP NOT NULL,
            event_type  VARCHAR(20) NOT NULL
                        CONSTRAINT user_activity_event_type_check
                        CHECK (event_type IN ('view', 'purchase')),
            product_id  INTEGER NOT NULL
                        CONSTRAINT user_activity_product_id_check CHECK (product_id > 0),
            price       DECIMAL(10, 2) NOT NULL
                        CONSTRAINT user_activity_price_check CHECK (price > 0),
            user_id     INTEGER NOT NULL
                        CONSTRAINT user_activity_user_id_check CHECK (user_id > 0),
            session_id  VARCHAR(50)
        );
        CREATE INDEX idx_user_activity_event_time ON user_activity (event_time);
        RAISE NOTICE 'created table user_activity with its CHECK rules and its event_time index';
        RETURN;
    END IF;

    FOR rule IN SELECT * FROM (VALUES
            ('user_activity_event_type_check', $r$event_type IN ('view', 'purchase')$r$),
            ('user_activity_product_id_check', 'product_id > 0'),
            ('user_activity_price_check', 'price > 0'),
            ('user_activity_user_id_check', 'user_id > 0')) AS r(name, expr)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint
                              WHERE conrelid = t AND conname = rule.name);
        -- Added NOT VALID first: instant, and its text as the server prints it can be compared
        -- with the table's other rules, whatever their names.
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s) NOT VALID',
                       t, rule.name, rule.expr);
        SELECT oid INTO mine FROM pg_constraint WHERE conrelid = t AND conname = rule.name;
        SELECT o.conname INTO same FROM pg_constraint o
         WHERE o.conrelid = t AND o.contype = 'c' AND o.oid <> mine
           AND replace(pg_get_constraintdef(o.oid), ' NOT VALID', '')
             = replace(pg_get_constraintdef(mine), ' NOT VALID', '')
         LIMIT 1;
        IF same IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', t, rule.name);
            RAISE NOTICE 'user_activity: kept its CHECK constraint %, the same rule as %',
                same, rule.name;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT count(*) FROM %s WHERE NOT (%s)', t, rule.expr) INTO bad;
        IF bad = 0 THEN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', t, rule.name);
            RAISE NOTICE 'user_activity: added CHECK constraint % (%); every existing row passes',
                rule.name, rule.expr;
        ELSE
            RAISE NOTICE 'user_activity: added CHECK constraint % (%) NOT VALID: % existing rows break it and are kept; new rows are checked',
                rule.name, rule.expr, bad;
        END IF;
    END LOOP;

    -- The seed's required fields are NOT NULL, where no old row is NULL there.
    FOR rule IN SELECT * FROM unnest(ARRAY['event_type', 'product_id', 'price', 'user_id']) AS c(name)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t
                              AND attname = rule.name AND attnotnull);
        EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL', t, rule.name) INTO bad;
        IF bad = 0 THEN
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', t, rule.name);
            RAISE NOTICE 'user_activity: % is now NOT NULL', rule.name;
        ELSE
            RAISE NOTICE 'user_activity: % stays nullable: % existing rows have no value',
                rule.name, bad;
        END IF;
    END LOOP;

    -- One plain index on event_time, whatever its name; the one an earlier sluice added beside
    -- the original's is dropped, so inserts do not pay for two.
    SELECT array_agg(c.relname::text ORDER BY c.relname = 'idx_user_activity_event_time', c.relname)
      INTO idx
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am am ON am.oid = c.relam
     WHERE i.indrelid = t AND am.amname = 'btree' AND i.indnatts = 1
       AND i.indexprs IS NULL AND i.indpred IS NULL AND i.indisvalid
       AND i.indkey[0] = (SELECT attnum FROM pg_attribute
                          WHERE attrelid = t AND attname = 'event_time' AND NOT attisdropped);
    IF idx IS NULL THEN
        CREATE INDEX idx_user_activity_event_time ON user_activity (event_time);
        RAISE NOTICE 'user_activity: added index idx_user_activity_event_time on (event_time)';
    ELSIF cardinality(idx) > 1 AND 'idx_user_activity_event_time' = ANY (idx) THEN
        EXECUTE format('DROP INDEX %I.%I',
                       (SELECT n.nspname FROM pg_class c JOIN pg_namespace n
                        ON n.oid = c.relnamespace WHERE c.oid = t),
                       'idx_user_activity_event_time');
        RAISE NOTICE 'user_activity: dropped index idx_user_activity_event_time, a duplicate of % on (event_time)',
            idx[1];
    ELSIF idx[1] <> 'idx_user_activity_event_time' THEN
        RAISE NOTICE 'user_activity: kept its index % on (event_time); none added beside it', idx[1];
    END IF;
END
$$;

-- Dead letters: one TEXT column per column of user_activity (bad data has any length and any
-- shape), and where and why each row was rejected. sluice makes the same for any --table.
CREATE TABLE IF NOT EXISTS user_activity_errors (
    error_id        BIGSERIAL PRIMARY KEY,
    event_id        TEXT,
    event_time      TEXT,
    event_type      TEXT,
    product_id      TEXT,
    price           TEXT,
    user_id         TEXT,
    session_id      TEXT,
    error_code      TEXT,
    error_column    TEXT,
    error_message   TEXT,
    source_file     TEXT,
    line_number     BIGINT,
    raw_line        TEXT,
    ingestion_time  TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    replay_count    INTEGER NOT NULL DEFAULT 0,
    last_replayed_at TIMESTAMPTZ
);
-- Upgrade a table made by the original project: widen its typed columns to TEXT and add
-- sluice's columns. Only columns that need it are touched, so a current table is left alone.
DO $$
DECLARE
    t regclass := to_regclass(format('%I.%I', current_schema(), 'user_activity_errors'));
    col text;
BEGIN
    FOR col IN
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = t AND NOT a.attisdropped
          AND a.attname IN ('event_id', 'event_time', 'event_type', 'product_id', 'price',
                            'user_id', 'session_id', 'error_message')
          AND a.atttypid <> 'text'::regtype
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE TEXT USING %I::text', t, col, col);
        RAISE NOTICE 'user_activity_errors: column % widened to TEXT', col;
    END LOOP;
    FOR col IN
        SELECT c FROM unnest(ARRAY['error_code', 'error_column', 'source_file', 'raw_line']) AS c
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute
                          WHERE attrelid = t AND attname = c AND NOT attisdropped)
    LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I TEXT', t, col);
        RAISE NOTICE 'user_activity_errors: added column %', col;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = t AND attname = 'line_number' AND NOT attisdropped) THEN
        ALTER TABLE user_activity_errors ADD COLUMN line_number BIGINT;
        RAISE NOTICE 'user_activity_errors: added column line_number';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = t AND attname = 'error_id' AND NOT attisdropped) THEN
        ALTER TABLE user_activity_errors ADD COLUMN error_id BIGSERIAL;
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = t AND contype = 'p') THEN
            ALTER TABLE user_activity_errors ADD PRIMARY KEY (error_id);
        END IF;
        RAISE NOTICE 'user_activity_errors: added column error_id, numbering the existing rows';
    END IF;
    -- (source_file, line_number): find a file's dead letters; any index on these columns will do.
    IF NOT EXISTS (SELECT 1 FROM pg_index i
                   WHERE i.indrelid = t AND i.indnatts >= 2 AND i.indpred IS NULL
                     AND i.indkey[0] = (SELECT attnum FROM pg_attribute
                                        WHERE attrelid = t AND attname = 'source_file')
                     AND i.indkey[1] = (SELECT attnum FROM pg_attribute
                                        WHERE attrelid = t AND attname = 'line_number')) THEN
        CREATE INDEX idx_user_activity_errors_source
            ON user_activity_errors (source_file, line_number);
    END IF;
    -- sluice replay: how often a dead letter was re-checked, and when last.
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = t AND attname = 'replay_count' AND NOT attisdropped) THEN
        ALTER TABLE user_activity_errors ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0;
        RAISE NOTICE 'user_activity_errors: added column replay_count';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = t AND attname = 'last_replayed_at' AND NOT attisdropped) THEN
        ALTER TABLE user_activity_errors ADD COLUMN last_replayed_at TIMESTAMPTZ;
        RAISE NOTICE 'user_activity_errors: added column last_replayed_at';
    END IF;
END
$$;
COMMENT ON TABLE user_activity_errors IS 'sluice seed 3';

-- sluice: the ledger. Everything above is the seed pipeline's (user_activity); sluice runs it only
-- when --table is the default. Everything below is shared by every pipeline of this database.

-- The ledger: one row per target table and input file (name + content). It is updated in the
-- same transaction as the rows it accounts for, so it is the single record of what is committed.
-- target_table is the table as the catalog names it, "schema.table", so one database can serve
-- several pipelines, each with its own folder and table, and the same file names.
CREATE TABLE IF NOT EXISTS ingest_files (
    target_table      TEXT        NOT NULL,
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
    rows_skipped      BIGINT      NOT NULL DEFAULT 0,
    rows_updated      BIGINT      NOT NULL DEFAULT 0,
    discovered_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    committed_at      TIMESTAMPTZ,
    archived_at       TIMESTAMPTZ,
    archived_as       TEXT,
    header_line       TEXT,
    PRIMARY KEY (target_table, file_name, content_hash)
);
-- From schema 1 (one pipeline a database): every row it holds was loaded into user_activity.
-- The key gains the table; the archiver's index is remade to page within one table.
DO $$
DECLARE
    seed text;
    pkey text;
    nrows bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'ingest_files'::regclass
               AND attname = 'target_table' AND NOT attisdropped) THEN
        RETURN;
    END IF;
    SELECT coalesce((SELECT n.nspname || '.' || c.relname FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = to_regclass(format('%I.%I', current_schema(), 'user_activity'))),
                    current_schema() || '.user_activity')
      INTO seed;
    EXECUTE format('ALTER TABLE ingest_files ADD COLUMN target_table TEXT NOT NULL DEFAULT %L',
                   seed);
    ALTER TABLE ingest_files ALTER COLUMN target_table DROP DEFAULT;
    SELECT conname INTO pkey FROM pg_constraint
     WHERE conrelid = 'ingest_files'::regclass AND contype = 'p';
    IF pkey IS NOT NULL THEN
        EXECUTE format('ALTER TABLE ingest_files DROP CONSTRAINT %I', pkey);
    END IF;
    ALTER TABLE ingest_files ADD PRIMARY KEY (target_table, file_name, content_hash);
    DROP INDEX IF EXISTS idx_ingest_files_to_archive;
    SELECT count(*) INTO nrows FROM ingest_files;
    RAISE NOTICE 'ledger ingest_files: added column target_table, now part of the key; its % existing rows belong to %',
        nrows, seed;
END
$$;
CREATE INDEX IF NOT EXISTS idx_ingest_files_to_archive
    ON ingest_files (target_table, file_name, content_hash)
    WHERE archived_at IS NULL AND status = 'done';

-- From schema 2: the counts of --on-conflict skip and update. A row of an older ledger loaded
-- in reject mode, so it skipped and updated nothing: zero is its true count.
DO $$
DECLARE
    col text;
BEGIN
    FOREACH col IN ARRAY ARRAY['rows_skipped', 'rows_updated'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'ingest_files'::regclass
                       AND attname = col AND NOT attisdropped) THEN
            EXECUTE format('ALTER TABLE ingest_files ADD COLUMN %I BIGINT NOT NULL DEFAULT 0', col);
            RAISE NOTICE 'ledger ingest_files: added column %, 0 for the rows already there', col;
        END IF;
    END LOOP;
END
$$;

-- From schema 3: each file's header line (line 1 as read, bytes that are not UTF-8 written \xNN),
-- recorded with the file's first batch, so `sluice replay` can read a dead letter's raw_line
-- under the header it came with. Files loaded before have none (NULL): their dead letters are
-- not replayed.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'ingest_files'::regclass
                   AND attname = 'header_line' AND NOT attisdropped) THEN
        ALTER TABLE ingest_files ADD COLUMN header_line TEXT;
        RAISE NOTICE 'ledger ingest_files: added column header_line (NULL for the % files loaded before)',
            (SELECT count(*) FROM ingest_files);
    END IF;
END
$$;

-- sluice checks this marker at start and skips this part when the ledger is already current.
COMMENT ON TABLE ingest_files IS 'sluice schema 4';
