#!/usr/bin/env bash
# s10_cluster_symlinks.sh - issue 9 item 10: the postgres OS user owns the cluster folder, so it
# decides what names in it point to. Planted symlinks (for the files `sluice db start` writes
# there as root, and for the files it reads) must never make root write, chown or read a file
# outside the folder: every victim keeps its content, owner and mode.
source "$(dirname "$0")/../integration/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "s10: the attack needs root (sluice) and postgres (the attacker); skipped as $(id -un)"
    exit 0
fi

pg_start
pg_stop >/dev/null
as_pg() { runuser -u postgres -- "$@"; }

for v in tmp_conf final_conf hba ident pgconf; do
    printf 'precious %s\n' "$v" >"$WORK/victim_$v"
    chmod 644 "$WORK/victim_$v"
done
state() { for v in tmp_conf final_conf hba ident pgconf; do
    stat -c '%n %U %a %s' "$WORK/victim_$v"
    cat "$WORK/victim_$v"
done; }
before=$(state)

# The attack: the temporary names sluice writes first, and the final names, point outside.
as_pg ln -sf "$WORK/victim_tmp_conf" "$PG_DIR/sluice.conf.tmp"
as_pg ln -sf "$WORK/victim_final_conf" "$PG_DIR/sluice.conf"
as_pg ln -sf "$WORK/victim_hba" "$PG_DIR/sluice_hba.conf.tmp"
as_pg ln -sf "$WORK/victim_ident" "$PG_DIR/sluice_ident.conf"
capture "$SLUICE_BIN" db start --pg-dir "$PG_DIR" --pg-port "$PG_PORT" --fast
expect_eq "db start still works (the planted names are replaced, not followed)" "$RC" 0
expect_eq "no file outside the folder changed content, owner or mode" "$(state)" "$before"
check "sluice.conf is now a plain file in the folder" test -f "$PG_DIR/sluice.conf" -a ! -L "$PG_DIR/sluice.conf"
expect_eq "and it belongs to postgres" "$(stat -c %U "$PG_DIR/sluice.conf")" postgres
pg_stop >/dev/null

# postgresql.conf, which sluice reads and rewrites, made a symlink to a root file: refused.
as_pg mv "$PG_DIR/postgresql.conf" "$PG_DIR/postgresql.conf.orig"
as_pg ln -s "$WORK/victim_pgconf" "$PG_DIR/postgresql.conf"
capture "$SLUICE_BIN" db start --pg-dir "$PG_DIR" --pg-port "$PG_PORT" --fast
expect_eq "a symlinked postgresql.conf makes db start fail" "$RC" 1
expect_match "and it says why" "$ERR" "postgresql.conf"
expect_eq "the file it points to is unchanged" "$(state)" "$before"
check "and was not handed to postgres" test "$(stat -c %U "$WORK/victim_pgconf")" = root

# The folder itself handed over only when sluice made it or owns it: not a foreign user's.
mkdir -m 755 "$WORK/foreign"
chown nobody "$WORK/foreign"
capture "$SLUICE_BIN" db start --pg-dir "$WORK/foreign" --pg-port "$(lib_free_port)" --fast
expect_eq "a folder of another user is refused" "$RC" 1
expect_eq "and stays that user's" "$(stat -c %U "$WORK/foreign")" nobody

finish
