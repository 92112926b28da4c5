#!/bin/bash
# pg-entrypoint - first start: cluster, TLS material, roles; every start: exec postgres.
#
# Environment: POSTGRES_DB, OWNER_ROLE, INGEST_ROLE, and the secrets ADMIN_PASSWORD_FILE,
# OWNER_PASSWORD_FILE, INGEST_PASSWORD_FILE. Each first-start step is redone if a crash
# interrupted it: the cluster is made in a temporary folder and renamed into place when
# complete, and the certificates are only written when missing.
set -euo pipefail

say() { echo "pg-entrypoint: $*" >&2; }
secret() {
    local f=${!1:?$1 must name a secret file}
    [ -s "$f" ] || { say "$1: '$f' is missing or empty"; exit 1; }
    cat "$f"
}

certs=/certs
ca=/var/lib/postgresql/data/ca   # the CA key and the server's key stay in the data volume
mkdir -p -m 0700 "$ca"
if [ ! -s "$certs/ca.crt" ] || [ ! -s "$ca/server.key" ]; then
    say "making a CA and a server certificate for host 'postgres'"
    tmp=$(mktemp -d "$ca/new.XXXXXX")
    openssl req -x509 -new -nodes -newkey rsa:2048 -days 3650 -subj "/CN=sluice compose CA" \
        -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=postgres" \
        -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:postgres,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
        >"$tmp/ext"
    openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
        -CAcreateserial -days 825 -extfile "$tmp/ext" -out "$tmp/server.crt" 2>/dev/null
    chmod 0600 "$tmp/server.key" "$tmp/ca.key"
    mv "$tmp"/ca.key "$tmp"/server.key "$tmp"/server.crt "$ca/"
    cp "$tmp/ca.crt" "$certs/ca.crt.new" && chmod 0644 "$certs/ca.crt.new"
    mv "$tmp/ca.crt" "$ca/ca.crt"
    mv "$certs/ca.crt.new" "$certs/ca.crt"
    rm -rf "$tmp"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    say "first start: initdb"
    db=${POSTGRES_DB:-ecommerce_db}
    owner=${OWNER_ROLE:?} ingest=${INGEST_ROLE:?}
    work="$PGDATA.new"
    rm -rf "$work"
    secret OWNER_PASSWORD_FILE >/dev/null
    secret INGEST_PASSWORD_FILE >/dev/null
    pw=$(mktemp)
    secret ADMIN_PASSWORD_FILE >"$pw"
    initdb -D "$work" -U postgres --pwfile="$pw" --auth-local=scram-sha-256 \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    cat >>"$work/postgresql.conf" <<CONF
listen_addresses = '*'
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$ca/server.crt'
ssl_key_file = '$ca/server.key'
ssl_min_protocol_version = 'TLSv1.2'
max_connections = 100
idle_in_transaction_session_timeout = '120s'
CONF
    # TLS and scram for every TCP client; the socket only inside this container.
    cat >"$work/pg_hba.conf" <<HBA
local     all   postgres                   scram-sha-256
host      all   postgres   127.0.0.1/32    scram-sha-256
hostssl   $db   $owner     0.0.0.0/0       scram-sha-256
hostssl   $db   $ingest    0.0.0.0/0       scram-sha-256
hostssl   $db   $owner     ::/0            scram-sha-256
hostssl   $db   $ingest    ::/0            scram-sha-256
HBA
    pg_ctl -D "$work" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" \
        -w start >/dev/null
    export PGPASSWORD
    PGPASSWORD=$(secret ADMIN_PASSWORD_FILE)
    psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d postgres \
        -v owner="$owner" -v ingest="$ingest" -v db="$db" <<'SQL'
\set owner_pw `cat "$OWNER_PASSWORD_FILE"`
\set ingest_pw `cat "$INGEST_PASSWORD_FILE"`
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_pw';
CREATE ROLE :"ingest" LOGIN PASSWORD :'ingest_pw';
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"ingest";
\connect :"db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
SQL
    unset PGPASSWORD
    pg_ctl -D "$work" -m fast -w stop >/dev/null
    mv "$work" "$PGDATA"
    say "cluster ready: database $db, roles $owner (owner) and $ingest (ingest)"
fi

exec postgres -D "$PGDATA"
