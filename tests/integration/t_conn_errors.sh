#!/usr/bin/env bash
# t_conn_errors.sh - failures that retrying cannot fix end the process at once: exit 1, one
# ERROR line that says why (with hint= where there is one), in under 5 s. An outage is retried,
# and with --once given up after --max-wait. `run --seconds` ends on time whatever the database
# does.
source "$(dirname "$0")/lib.sh"

pg_start
D=$WORK/d
mkdir -p "$D/input"
ING=(ingest --once --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error")
SOCK="host=$PG_DIR port=$PG_PORT"

# attempt NAME CMD...: run sluice with CMD, with its stderr in ERR, exit code in RC and the
# elapsed seconds in SECS.
attempt() {
    local t0=$EPOCHREALTIME
    if [ "$1" = env ]; then capture "$@"; else capture "$SLUICE_BIN" "$@"; fi
    SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# permanent NAME EXPECTED_TEXT: the last attempt exited 1 within 5 s with exactly one log line at
# ERROR level, no retry, and that line contains EXPECTED_TEXT.
permanent() {
    expect_eq "$1: exit 1" "$RC" 1
    check "$1: ends in under 5 s ($SECS s)" awk -v s="$SECS" 'BEGIN { exit !(s < 5) }'
    expect_eq "$1: one ERROR line" "$(grep -c ' ERROR ' <<<"$ERR")" 1
    expect_eq "$1: no retry" "$(grep -c 'retrying' <<<"$ERR")" 0
    expect_match "$1: the line says why" "$(grep ' ERROR ' <<<"$ERR")" "$2"
}

attempt "${ING[@]}" --db "this is not a conninfo"
permanent "a --db that is not a conninfo" "neither key=value pairs nor a postgresql:// URI"
expect_eq "and it is not taken for a database name: one line in all" "$(wc -l <<<"$ERR")" 1

attempt "${ING[@]}" --db "$SOCK port=notaport dbname=ecommerce_db"
permanent "port=notaport" "invalid port 'notaport'"

attempt "${ING[@]}" --db "postgresql://u:s3cret@localhost:54x2/db"
permanent "a malformed URI" "invalid port '54x2'"
expect_match "a password in argv is warned about" "$ERR" "a password was given on the command line"
check "a malformed URI is never logged with its password" bash -c "! grep -q s3cret <<<'$ERR'"

attempt "${ING[@]}" --db "$SOCK dbname=no_such_db user=myuser"
permanent "a database that does not exist" "(3D000)"
expect_match "and the server's message is kept" "$ERR" 'database "no_such_db" does not exist'

attempt "${ING[@]}" --db "$SOCK dbname=ecommerce_db user=no_such_role"
permanent "a role that does not exist" "(28000)"

# The cluster's superuser (peer-mapped to us): what a DBA would do.
psql_admin() { PGUSER=$([ "$(id -u)" = 0 ] && echo postgres || id -un) psql_q "$1"; }

# The ingest role has no CREATE on schema public (the PostgreSQL 15 default): in a database
# without the schema that is 42501, with a hint that names `sluice db setup`.
psql_admin "CREATE DATABASE fresh"
attempt "${ING[@]}" --db "$SOCK dbname=fresh user=sluice_ingest"
permanent "no privilege to create the schema" "(42501)"
expect_match "the hint names sluice db setup" "$(grep ' ERROR ' <<<"$ERR")" \
    "hint=the schema is missing or older than this sluice and this role may not create it: run 'sluice db setup'"

# The schema is current but the role lacks grants: the line names each GRANT to run.
psql_q "REVOKE INSERT ON user_activity, user_activity_errors FROM sluice_ingest"
psql_q "REVOKE USAGE ON SEQUENCE user_activity_errors_error_id_seq FROM sluice_ingest"
attempt "${ING[@]}" --db "$SOCK dbname=ecommerce_db user=sluice_ingest"
permanent "missing grants" "lacks privileges sluice needs (42501)"
expect_match "the line names the missing GRANTs exactly" "$(grep ' ERROR ' <<<"$ERR")" \
    'hint=as the owner role run: GRANT INSERT ON TABLE public.user_activity TO sluice_ingest; GRANT INSERT ON TABLE public.user_activity_errors TO sluice_ingest; GRANT USAGE ON SEQUENCE public.user_activity_errors_error_id_seq TO sluice_ingest;'
check "and not one it holds" bash -c "! grep -q 'ON TABLE ingest_files' <<<'$ERR'"
attempt archive --once --input-dir "$D/input" --archive-dir "$D/archive" \
    --db "$SOCK dbname=ecommerce_db user=sluice_ingest"
expect_eq "the archiver needs less: it runs with those grants" "$RC" 0
psql_q "GRANT INSERT ON user_activity, user_activity_errors TO sluice_ingest"
psql_q "GRANT USAGE ON SEQUENCE user_activity_errors_error_id_seq TO sluice_ingest"
attempt "${ING[@]}" --db "$SOCK dbname=ecommerce_db user=sluice_ingest"
expect_eq "once granted, the ingest role ingests" "$RC" 0

# A schema newer than this binary.
psql_admin "CREATE DATABASE newer OWNER myuser"
capture "$SLUICE_BIN" "${ING[@]}" --db "$SOCK dbname=newer user=myuser"
PGDATABASE=newer psql_q "COMMENT ON TABLE ingest_files IS 'sluice schema 99'"
attempt "${ING[@]}" --db "$SOCK dbname=newer user=myuser"
ours=$(grep -o "sluice schema [0-9]*" "$SLUICE_SRC/sql/postgres_setup.sql" | grep -o "[0-9]*$")
permanent "a schema newer than this binary" "version 99, newer than this sluice (version $ours)"

# POSTGRES_* fill what --db leaves unset.
attempt env -u PGUSER -u PGDATABASE "$SLUICE_BIN" "${ING[@]}" --db "host=$PG_DIR port=$PG_PORT"
permanent "without a user or database the defaults fail" "(28000)"
capture env -u PGUSER -u PGDATABASE POSTGRES_USER=myuser POSTGRES_DB=ecommerce_db "$SLUICE_BIN" "${ING[@]}" \
    --db "host=$PG_DIR port=$PG_PORT"
expect_eq "POSTGRES_USER and POSTGRES_DB complete --db" "$RC" 0

# Transient: no server. Retried with backoff; --once gives up after --max-wait.
attempt "${ING[@]}" --db "host=$PG_DIR port=1 dbname=ecommerce_db" --max-wait 2
expect_eq "server down, --once --max-wait 2: exit 1" "$RC" 1
check "after --max-wait, not before ($SECS s)" awk -v s="$SECS" 'BEGIN { exit !(s >= 2 && s < 4) }'
check "retried meanwhile" test "$(grep -c ' WARN ' <<<"$ERR")" -ge 3
expect_eq "one ERROR line" "$(grep -c ' ERROR ' <<<"$ERR")" 1
expect_match "it says it gave up" "$(grep ' ERROR ' <<<"$ERR")" "giving up after 2."

# A service waits for the server: it is still retrying after 2 s, and connects once the server
# answers.
pg_stop >/dev/null
"$SLUICE_BIN" ingest --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error" \
    --db "$SLUICE_DB" 2>"$WORK/svc.log" &
svc=$!
for _ in $(seq 100); do [ "$(grep -c ' WARN ' "$WORK/svc.log")" -ge 4 ] && break; sleep 0.05; done
check "without --max-wait the service keeps retrying" kill -0 "$svc"
pg_start >/dev/null
for _ in $(seq 200); do grep -q 'watching' "$WORK/svc.log" && break; sleep 0.05; done
expect_match "and connects when the server is back" "$(cat "$WORK/svc.log")" "watching"
kill -TERM "$svc"
wait "$svc"
expect_eq "then stops cleanly on SIGTERM" "$?" 0

# Over TCP (--pg-listen: scram-sha-256): a wrong password, no password, SSL required of a server
# without SSL.
pg_stop >/dev/null
pg_start --pg-listen 127.0.0.1 >/dev/null
psql_admin "ALTER ROLE sluice_ingest PASSWORD 'right-one'"
TCP="host=127.0.0.1 port=$PG_PORT dbname=ecommerce_db user=sluice_ingest"
attempt "${ING[@]}" --db "$TCP password=wrong-one"
permanent "a wrong password" "(28P01)"
expect_match "the server's message is kept" "$ERR" 'password authentication failed for user "sluice_ingest"'
check "the password is not logged" bash -c "! grep -q wrong-one <<<'$ERR'"
attempt "${ING[@]}" --db "$TCP"
permanent "no password" "no password supplied"
attempt "${ING[@]}" --db "$TCP password=right-one sslmode=require"
permanent "SSL required of a server without SSL" "server does not support SSL"
attempt "${ING[@]}" --db "$TCP" --pg-password right-one
expect_eq "the right password over TCP works" "$RC" 0

# run --seconds ends on time with the database away.
attempt run --db "host=$PG_DIR port=1 dbname=ecommerce_db" --data-dir "$WORK/run" --seconds 2
expect_eq "run --seconds 2 with no server: exit 1" "$RC" 1
check "run --seconds 2 ends on time ($SECS s)" awk -v s="$SECS" 'BEGIN { exit !(s >= 2 && s < 4) }'

finish
