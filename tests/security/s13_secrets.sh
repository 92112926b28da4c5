#!/usr/bin/env bash
# s13_secrets.sh - issue 9 item 13: a password reaches sluice from a file (--pg-password-file,
# POSTGRES_PASSWORD_FILE, PGPASSFILE) without ever being in argv; one given in argv is overwritten
# there at start (with a warning); none appears in the logs, a malformed URI included; core dumps
# are off while one is in memory; the embedded postmaster's environment holds none. The attack:
# another local user reads /proc/PID/cmdline, the logs, or the postmaster's environment.
source "$(dirname "$0")/../integration/lib.sh"

# The postmaster inherits no secret from the environment `db start` ran in.
PG_DIR="$WORK/pg"
PG_PORT=$(lib_free_port)
export PG_PORT
SLUICE_DB=$(DATABASE_URL="postgresql://u:s3cret-url@h/db" POSTGRES_PASSWORD=s3cret-env \
    PGPASSWORD=s3cret-pg "$SLUICE_BIN" db start --pg-dir "$PG_DIR" --fast --pg-port "$PG_PORT" \
    --pg-listen 127.0.0.1 2>/dev/null)
export SLUICE_DB PGHOST="$PG_DIR" PGPORT="$PG_PORT" PGDATABASE=ecommerce_db PGUSER=myuser
pm=$(head -n 1 "$PG_DIR/postmaster.pid")
check "the postmaster runs" kill -0 "$pm"
expect_eq "its environment holds no secret" "$(tr '\0' '\n' <"/proc/$pm/environ" | grep -c s3cret)" 0

ADMIN=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
PGUSER=$ADMIN psql_q "ALTER ROLE sluice_ingest PASSWORD 'pw-from-a-file'"
D=$WORK/d
mkdir -p "$D/input"
chmod -R 777 "$D"
ING=(ingest --once --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error")
TCP="host=127.0.0.1 port=$PG_PORT dbname=ecommerce_db user=sluice_ingest"
printf 'pw-from-a-file\n' >"$WORK/pw"
chmod 600 "$WORK/pw"

capture env POSTGRES_PASSWORD_FILE="$WORK/pw" "$SLUICE_BIN" "${ING[@]}" --db "$TCP"
expect_eq "POSTGRES_PASSWORD_FILE supplies the password" "$RC" 0
capture "$SLUICE_BIN" "${ING[@]}" --db "$TCP" --pg-password-file "$WORK/pw"
expect_eq "--pg-password-file supplies it" "$RC" 0
printf '127.0.0.1:%s:ecommerce_db:sluice_ingest:pw-from-a-file\n' "$PG_PORT" >"$WORK/pgpass"
chmod 600 "$WORK/pgpass"
capture env PGPASSFILE="$WORK/pgpass" "$SLUICE_BIN" "${ING[@]}" --db "$TCP"
expect_eq "PGPASSFILE supplies it" "$RC" 0
check "no warning when the password came from a file" bash -c "! grep -q 'command line' <<<'$ERR'"

# A password in argv: overwritten there at start, with a warning. The server is away (port 1) so
# the process stays, retrying, while we look at it from outside.
"$SLUICE_BIN" ingest --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error" \
    --db "host=127.0.0.1 port=1 dbname=x user=u password=s3cret-argv" --pg-password s3cret-flag \
    2>"$WORK/argv.log" &
pid=$!
for _ in $(seq 100); do grep -q retrying "$WORK/argv.log" && break; sleep 0.05; done
check "it is running" kill -0 "$pid"
expect_eq "/proc/PID/cmdline no longer shows either password" \
    "$(tr '\0' ' ' <"/proc/$pid/cmdline" | grep -c 's3cret')" 0
expect_match "it says they were visible until then" "$(cat "$WORK/argv.log")" \
    "a password was given on the command line: other users could read it in the process list until now"
kill -TERM "$pid"
wait "$pid"
expect_eq "no log line holds a password" "$(grep -c s3cret "$WORK/argv.log")" 0

# A malformed URI with a password is never logged raw.
capture "$SLUICE_BIN" "${ING[@]}" --db "postgresql://u:s3cret-uri@localhost:54x2/db"
expect_eq "a malformed URI: exit 1" "$RC" 1
expect_eq "and its password is not logged" "$(grep -c s3cret <<<"$ERR")" 0

# Core dumps are off while a password is in memory: the kernel then makes /proc/PID root's, so
# another user (or a crash) cannot read the process's memory.
if [ "$(id -u)" = 0 ]; then
    printf 's3cret-nobody\n' >"$WORK/pw-nobody"
    chmod 644 "$WORK/pw-nobody"
    runuser -u nobody -- "$SLUICE_BIN" ingest --input-dir "$D/input" --checkpoint-dir "$D/ck2" \
        --error-dir "$D/e2" --db "host=127.0.0.1 port=1 dbname=x user=u" \
        --pg-password-file "$WORK/pw-nobody" 2>"$WORK/nobody.log" &
    for _ in $(seq 100); do grep -q retrying "$WORK/nobody.log" && break; sleep 0.05; done
    pid=$(pgrep -u nobody -f "$D/ck2" | head -n 1)
    check "it runs as nobody" test -n "$pid"
    expect_eq "it is not dumpable: /proc/PID belongs to root" "$(stat -c %U "/proc/$pid/status")" root
    runuser -u nobody -- "$SLUICE_BIN" ingest --input-dir "$D/input" --checkpoint-dir "$D/ck3" \
        --error-dir "$D/e3" --db "host=127.0.0.1 port=1 dbname=x user=u" 2>/dev/null &
    for _ in $(seq 100); do pid2=$(pgrep -u nobody -f "$D/ck3" | head -n 1); [ -n "$pid2" ] && break; sleep 0.05; done
    expect_eq "without a password it stays dumpable (the check can fail)" \
        "$(stat -c %U "/proc/$pid2/status")" nobody
    kill -TERM "$pid" "$pid2"
    wait
fi

finish
