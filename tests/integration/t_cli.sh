#!/usr/bin/env bash
# t_cli.sh - the command line: --version and --help, every subcommand's --help, bad usage exits 2
# with a pointer to --help, and option precedence flag > environment > default.
source "$(dirname "$0")/lib.sh"

capture "$SLUICE_BIN" --version
expect_eq "--version exits 0" "$RC" 0
expect_match "--version names the program" "$OUT" "sluice "
capture "$SLUICE_BIN" --help
expect_eq "--help exits 0" "$RC" 0
expect_match "--help shows the usage" "$OUT" "Usage: sluice COMMAND"
capture "$SLUICE_BIN"
expect_eq "no command exits 2" "$RC" 2
capture "$SLUICE_BIN" frobnicate
expect_eq "an unknown command exits 2" "$RC" 2
expect_match "and points at --help" "$ERR" "Try 'sluice --help'"

for cmd in generate ingest archive run db replay; do
    capture "$SLUICE_BIN" "$cmd" --help
    expect_eq "$cmd --help exits 0" "$RC" 0
    expect_match "$cmd --help shows the usage" "$OUT" "Usage: sluice $cmd"
    capture "$SLUICE_BIN" "$cmd" --no-such-option
    expect_eq "$cmd with an unknown option exits 2" "$RC" 2
    expect_match "$cmd with an unknown option points at --help" "$ERR" "Try 'sluice $cmd --help'"
done

capture "$SLUICE_BIN" ingest --max-row-bytes abc
expect_eq "ingest --max-row-bytes abc exits 2" "$RC" 2
expect_match "and says which option" "$ERR" "--max-row-bytes"
capture "$SLUICE_BIN" archive --min-age -1
expect_eq "archive --min-age -1 exits 2" "$RC" 2
capture "$SLUICE_BIN" generate --rows-per-file 5-2
expect_eq "generate --rows-per-file 5-2 exits 2" "$RC" 2
capture "$SLUICE_BIN" generate --bad-ratio 1.5
expect_eq "generate --bad-ratio 1.5 exits 2" "$RC" 2
for seed in abc -1 " 7" 18446744073709551616; do
    capture "$SLUICE_BIN" run --seed "$seed"
    expect_eq "run --seed '$seed' exits 2 before starting anything" "$RC" 2
    expect_match "run --seed '$seed' points at --help" "$ERR" "Try 'sluice run --help'"
done
capture env MAX_ROW_BYTES=abc "$SLUICE_BIN" ingest
expect_eq "a bad value from the environment exits 2" "$RC" 2
expect_match "and names the variable" "$ERR" "MAX_ROW_BYTES"

# Precedence, seen through `sluice db url` (which needs no server): flag > env > default.
url() { (cd "$WORK" && "$SLUICE_BIN" db url "$@"); }
expect_eq "defaults: DATA_DIR/pg, port 5432, ecommerce_db, myuser" "$(url)" \
    "host=$WORK/data/pg port=5432 dbname=ecommerce_db user=myuser"
expect_eq "POSTGRES_DB overrides the default" "$(POSTGRES_DB=env_db url)" \
    "host=$WORK/data/pg port=5432 dbname=env_db user=myuser"
expect_eq "--pg-db overrides POSTGRES_DB" "$(POSTGRES_DB=env_db url --pg-db flag_db)" \
    "host=$WORK/data/pg port=5432 dbname=flag_db user=myuser"
expect_eq "POSTGRES_USER and POSTGRES_PORT apply" "$(POSTGRES_USER=u1 POSTGRES_PORT=6543 url)" \
    "host=$WORK/data/pg port=6543 dbname=ecommerce_db user=u1"
expect_eq "--pg-user and --pg-port override them" \
    "$(POSTGRES_USER=u1 POSTGRES_PORT=6543 url --pg-user u2 --pg-port 7654)" \
    "host=$WORK/data/pg port=7654 dbname=ecommerce_db user=u2"
expect_eq "DATA_DIR moves the cluster folder" "$(DATA_DIR=$WORK/d url)" \
    "host=$WORK/d/pg port=5432 dbname=ecommerce_db user=myuser"
expect_eq "PG_DIR overrides DATA_DIR" "$(DATA_DIR=$WORK/d PG_DIR=$WORK/e url)" \
    "host=$WORK/e port=5432 dbname=ecommerce_db user=myuser"
expect_eq "--pg-dir overrides PG_DIR" "$(PG_DIR=$WORK/e url --pg-dir "$WORK/f")" \
    "host=$WORK/f port=5432 dbname=ecommerce_db user=myuser"
expect_eq "--data-dir overrides DATA_DIR" "$(DATA_DIR=$WORK/d url --data-dir "$WORK/g")" \
    "host=$WORK/g/pg port=5432 dbname=ecommerce_db user=myuser"
expect_eq "a folder with a space is quoted" "$(url --pg-dir "$WORK/a b")" \
    "host='$WORK/a b' port=5432 dbname=ecommerce_db user=myuser"

finish
