# lib.sh - sourced by every integration test (bash).
#
# Gives a test a throwaway folder $WORK (removed on exit, with the cluster in it stopped), a
# throwaway PostgreSQL cluster (pg_start / pg_stop, then psql works with no options), and checks
# that count: check, expect_eq, expect_match; finish prints the totals and sets the exit status.
# The environment is cleared of sluice's and libpq's settings so a test sees only what it sets.
# Set KEEP_WORK=1 to keep $WORK for a look after a failure.

set -uo pipefail

: "${SLUICE_BIN:?set SLUICE_BIN to the sluice binary}"
: "${SLUICE_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export SLUICE_BIN SLUICE_SRC

unset DATABASE_URL POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD \
    DATA_DIR INPUT_DIR TEMP_DIR ARCHIVE_DIR CHECKPOINT_DIR ERROR_DIR PG_DIR LOG_DIR LOG_LEVEL \
    EVENT_TYPES MAX_ROW_BYTES MAX_FILE_BYTES BATCH_BYTES RESCAN_INTERVAL LOCK_TIMEOUT \
    ARCHIVE_AGE_MINUTES DEMO_SECONDS PRODUCER_UID SETTLE_TIME SLUICE_LISTEN \
    PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS PGDATA

# -P: the cluster prints its folder resolved, so $WORK must be spelled the same way.
WORK=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")" && pwd -P)
chmod 755 "$WORK" # the postgres OS user (when we are root) must reach $WORK/pg
PG_DIR=""
PASSED=0
FAILED=0

lib_cleanup() {
    if [ -n "$PG_DIR" ]; then
        "$SLUICE_BIN" db stop --pg-dir "$PG_DIR" >/dev/null 2>&1 ||
            "$SLUICE_BIN" db kill --pg-dir "$PG_DIR" >/dev/null 2>&1
    fi
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap lib_cleanup EXIT

# A port no other cluster on this machine announces a socket for. The socket lives in the
# cluster's own folder, so this only keeps psql's defaults and log lines unambiguous.
lib_free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "/var/run/postgresql/.s.PGSQL.$port" ] || break
    done
    echo "$port"
}

# pg_start [extra db start options]: start a cluster in $WORK/pg; export SLUICE_DB (its
# conninfo) and PGHOST/PGPORT/PGDATABASE/PGUSER. The test stops here if it cannot start.
pg_start() {
    PG_DIR="$WORK/pg"
    PG_PORT=${PG_PORT:-$(lib_free_port)}
    if ! SLUICE_DB=$("$SLUICE_BIN" db start --pg-dir "$PG_DIR" --fast --pg-port "$PG_PORT" "$@"); then
        echo "FAIL - pg_start: sluice db start failed"
        [ -f "$PG_DIR/server.log" ] && tail -n 20 "$PG_DIR/server.log"
        exit 1
    fi
    export SLUICE_DB PG_PORT
    export PGHOST="$PG_DIR" PGPORT="$PG_PORT" PGDATABASE=ecommerce_db PGUSER=myuser
}

pg_stop() {
    "$SLUICE_BIN" db stop --pg-dir "$PG_DIR"
}

# psql_q SQL: run it and print the value(s), unaligned, one row a line.
psql_q() {
    psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# capture CMD...: run it; its exit status goes to RC, its stdout to OUT, its stderr to ERR.
capture() {
    local out="$WORK/.capture.out" err="$WORK/.capture.err"
    "$@" >"$out" 2>"$err"
    RC=$?
    OUT=$(<"$out")
    ERR=$(<"$err")
}

# wait_for SECONDS CMD...: run CMD (quietly) every 50 ms until it succeeds, or give 1 once
# SECONDS have passed: the one way tests wait for a condition.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

pass() {
    PASSED=$((PASSED + 1))
    echo "ok   - $1"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL - $1${2:+: $2}"
}

# check NAME CMD...: passes when CMD succeeds; on failure shows what it printed.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name" "'$*' failed"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/       /'
    fi
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', expected '$3'"
    fi
}

# expect_match NAME TEXT SUBSTRING: passes when TEXT contains SUBSTRING.
expect_match() {
    if [[ "$2" == *"$3"* ]]; then
        pass "$1"
    else
        fail "$1" "'$3' not in '$2'"
    fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] || exit 1
    exit 0
}
