#!/usr/bin/env bash
# s14_tls.sh - issue 9 item 14: sslmode=verify-full with sslrootcert works against a server whose
# certificate a throwaway CA (made here with openssl) signed for localhost; the attack, a server
# with a certificate from another CA or for another name (a man in the middle), fails at once with
# one clear line and exit 1, never retried.
source "$(dirname "$0")/../integration/lib.sh"

C=$WORK/certs
mkdir -p "$C"
ossl() { openssl "$@" >/dev/null 2>&1 || { echo "FAIL - openssl $1"; exit 1; }; }
for ca in ca other_ca; do
    ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sluice test $ca" \
        -keyout "$C/$ca.key" -out "$C/$ca.crt"
done
ossl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$C/server.key" -out "$C/server.csr"
printf 'subjectAltName = DNS:localhost\n' >"$C/ext"
ossl x509 -req -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
    -extfile "$C/ext" -out "$C/server.crt"

pg_start --pg-listen 127.0.0.1
pg_stop >/dev/null
install -m 600 "$C/server.crt" "$C/server.key" "$PG_DIR/"
[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR/server.crt" "$PG_DIR/server.key"
printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$PG_DIR/postgresql.conf"
pg_start --pg-listen 127.0.0.1 >/dev/null
ADMIN=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
PGUSER=$ADMIN psql_q "ALTER ROLE sluice_ingest PASSWORD 'tls-pw'"
printf 'tls-pw\n' >"$WORK/pw"

D=$WORK/d
"$SLUICE_BIN" generate --input-dir "$D/input" --temp-dir "$D/temp" --files 2 --rows-per-file 10 \
    --interval 0 --seed 3 --log-level warn
ING=(ingest --once --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error"
    --pg-password-file "$WORK/pw")
BASE="port=$PG_PORT dbname=ecommerce_db user=sluice_ingest sslmode=verify-full"
attempt() {
    local t0=$EPOCHREALTIME
    capture "$SLUICE_BIN" "$@"
    SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

attempt "${ING[@]}" --db "host=localhost hostaddr=127.0.0.1 $BASE sslrootcert=$C/ca.crt"
expect_eq "verify-full with the right CA and name: exit 0" "$RC" 0
expect_eq "and the rows are in" "$(psql_q 'SELECT count(*) FROM user_activity')" \
    "$(psql_q 'SELECT sum(rows_loaded) FROM ingest_files')"
check "some rows" test "$(psql_q 'SELECT count(*) FROM user_activity')" -gt 0
expect_eq "the session is encrypted" "$(PGPASSWORD=tls-pw psql -XAtq \
    "host=localhost hostaddr=127.0.0.1 $BASE sslrootcert=$C/ca.crt" \
    -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')" "t"

fast_fail() { # NAME TEXT
    expect_eq "$1: exit 1" "$RC" 1
    check "$1: at once ($SECS s)" awk -v s="$SECS" 'BEGIN { exit !(s < 5) }'
    expect_eq "$1: one ERROR line" "$(grep -c ' ERROR ' <<<"$ERR")" 1
    expect_eq "$1: never retried" "$(grep -c retrying <<<"$ERR")" 0
    expect_match "$1: the line says why" "$(grep ' ERROR ' <<<"$ERR")" "$2"
}
attempt "${ING[@]}" --db "host=localhost hostaddr=127.0.0.1 $BASE sslrootcert=$C/other_ca.crt"
fast_fail "a certificate from another CA" "certificate verify failed"
attempt "${ING[@]}" --db "host=127.0.0.1 $BASE sslrootcert=$C/ca.crt"
fast_fail "a certificate for another name" 'does not match host name "127.0.0.1"'
attempt "${ING[@]}" --db "host=localhost hostaddr=127.0.0.1 $BASE sslrootcert=$WORK/none.crt"
fast_fail "a missing root certificate" "root certificate file"

finish
