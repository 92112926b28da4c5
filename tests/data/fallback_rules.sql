-- fallback_rules.sql - rules on user_activity that sluice does not check in C, so only the
-- server refuses the rows that break them (the fallback's tests: t_fallback.sh, the chaos
-- scenario fallback_kill9.sh). Run after sql/postgres_setup.sql. Each rule is deterministic on
-- the row, and each has a SQL predicate the tests use to know which rows it refuses:
--   fallback_trigger_refuses(event_id)  a BEFORE trigger raises (P0001): 1 row in 1,000
--   fallback_check_refuses(event_id)    a CHECK with function calls (23514): 1 row in 256
--   user_id in missing_users            a foreign key to users, which lacks every 101st id
--   product_id 666666                   the trigger raises naming a column, with a detail
--   product_id not in products          a deferred foreign key (checked at COMMIT)

CREATE TABLE users (user_id integer PRIMARY KEY);
INSERT INTO users SELECT g FROM generate_series(1, 60000) g WHERE g % 101 <> 0;
CREATE TABLE products (product_id integer PRIMARY KEY);
INSERT INTO products SELECT g FROM generate_series(1, 2000) g;
INSERT INTO products VALUES (666666);

CREATE FUNCTION fallback_trigger_refuses(id text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT abs(hashtext(id)::bigint) % 1000 = 0 $$;
CREATE FUNCTION fallback_check_refuses(id text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT substr(md5(id), 1, 2) = 'ff' $$;

CREATE FUNCTION user_activity_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF fallback_trigger_refuses(NEW.event_id) THEN
        RAISE EXCEPTION 'event % is refused by the guard trigger', NEW.event_id;
    END IF;
    IF NEW.product_id = 666666 THEN
        RAISE EXCEPTION 'product % is withdrawn', NEW.product_id
            USING COLUMN = 'product_id', DETAIL = 'withdrawn on 2026-01-01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER user_activity_guard BEFORE INSERT ON user_activity
    FOR EACH ROW EXECUTE FUNCTION user_activity_guard();

-- The CHECK calls md5() itself: sluice's checker does not compile function calls.
ALTER TABLE user_activity ADD CONSTRAINT user_activity_id_hash
    CHECK (substr(md5(event_id), 1, 2) <> 'ff');
ALTER TABLE user_activity ADD CONSTRAINT user_activity_user_fk
    FOREIGN KEY (user_id) REFERENCES users;
ALTER TABLE user_activity ADD CONSTRAINT user_activity_product_fk
    FOREIGN KEY (product_id) REFERENCES products DEFERRABLE INITIALLY DEFERRED;

-- The SQLSTATE the server gives a row (in the order it checks: BEFORE trigger, CHECK, foreign
-- keys), or NULL when it takes it. Arguments are the raw CSV fields.
CREATE FUNCTION fallback_expected_state(id text, product text, usr text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN fallback_trigger_refuses(id) OR product = '666666' THEN 'P0001'
        WHEN fallback_check_refuses(id) THEN '23514'
        WHEN usr <> '' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = usr::int)
            THEN '23503'
        WHEN product <> '' AND NOT EXISTS (SELECT 1 FROM products p
                                           WHERE p.product_id = product::int) THEN '23503'
    END $$;
