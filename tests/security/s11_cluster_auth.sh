#!/usr/bin/env bash
# s11_cluster_auth.sh - issue 9 item 11: the embedded cluster trusts nobody for arriving. On the
# socket only peer authentication through sluice's map; no TCP listener unless asked, and then
# scram-sha-256; the roles sluice uses are not superusers. The attack: another OS user that can
# reach the socket (the server's own user) logs in as sluice's roles, or anyone connects over TCP
# without a password.
source "$(dirname "$0")/../integration/lib.sh"

pg_start
ADMIN=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
admin_q() { PGUSER=$ADMIN psql_q "$1"; }

expect_eq "no TCP listener by default" "$(psql_q 'SHOW listen_addresses')" ""
expect_eq "the access rules: peer on the socket, nothing else" \
    "$(admin_q "SELECT type || ' ' || auth_method || ' ' || array_to_string(options, ',')
                FROM pg_hba_file_rules ORDER BY line_number")" "local peer map=sluice"
expect_eq "no rule trusts" "$(grep -v '^#' "$PG_DIR/sluice_hba.conf" | grep -c trust)" 0
expect_eq "the owner and ingest roles are not superusers" \
    "$(admin_q "SELECT string_agg(rolname || '=' || rolsuper, ',' ORDER BY rolname) FROM pg_roles
                WHERE rolname IN ('myuser', 'sluice_ingest')")" "myuser=false,sluice_ingest=false"

if [ "$(id -u)" = 0 ]; then
    # The attack: the postgres OS user reaches the socket; with trust it was anyone it liked.
    capture runuser -u postgres -- psql -XAtq -h "$PG_DIR" -p "$PG_PORT" -U myuser -d ecommerce_db \
        -c "SELECT 1"
    expect_eq "another OS user cannot log in as the owner" "$RC" 2
    expect_match "peer refuses it" "$ERR" 'Peer authentication failed for user "myuser"'
    capture runuser -u postgres -- psql -XAtq -h "$PG_DIR" -p "$PG_PORT" -U sluice_ingest \
        -d ecommerce_db -c "SELECT 1"
    expect_eq "nor as the ingest role" "$RC" 2
    capture runuser -u nobody -- psql -XAtq -h "$PG_DIR" -p "$PG_PORT" -U myuser -d ecommerce_db \
        -c "SELECT 1"
    expect_eq "nobody cannot either" "$RC" 2
fi

# TCP only when asked, and then never without a password.
pg_stop >/dev/null
pg_start --pg-listen 127.0.0.1 >/dev/null
expect_eq "--pg-listen sets the listener" "$(psql_q 'SHOW listen_addresses')" "127.0.0.1"
capture psql -XAtq "host=127.0.0.1 port=$PG_PORT dbname=ecommerce_db user=myuser password=guess" \
    -c "SELECT 1"
expect_eq "TCP without the right password is refused" "$RC" 2
expect_match "by scram-sha-256" "$ERR" 'password authentication failed for user "myuser"'
pg_stop >/dev/null
pg_start >/dev/null
capture psql -XAtq "host=127.0.0.1 port=$PG_PORT dbname=ecommerce_db user=myuser" -c "SELECT 1"
expect_eq "without --pg-listen nothing listens on TCP again" "$RC" 2

finish
