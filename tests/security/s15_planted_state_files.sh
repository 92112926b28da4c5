#!/usr/bin/env bash
# s15_planted_state_files.sh - issue 9, item 15: someone who can write to the checkpoint or log
# folder plants symlinks where sluice, running as root, creates its lock, its
# metrics and its log, pointing at files only root may write. Safe outcome: no target changes;
# sluice refuses the planted lock and log with one clear line; the metrics temporary is never
# followed; the files sluice creates are 0600 (lock, metrics) and 0640 (log).
source "$(dirname "$0")/lib_security.sh"
pg_start
D=$WORK/data
hot_folder "$D/input"
for dir in ck log; do
    mkdir -p "$D/$dir"
    chown "$PRODUCER": "$D/$dir" # a folder the attacker may write to
done
mkdir -p "$WORK/root"
for v in passwd shadow metrics; do
    printf 'root:x:0:0:%s\n' "$v" >"$WORK/root/$v"
    chmod 600 "$WORK/root/$v"
done
snapshot() { (cd "$WORK/root" && stat -c '%n %s %Y %a %U' * && cat *); }
before=$(snapshot)
{ echo "$HEADER"; rows ok 3; } | drop_as_producer "$D/input" ok.csv
ING=(--db "$SLUICE_DB" --input-dir "$D/input" --checkpoint-dir "$D/ck" --error-dir "$D/error")

# 1. The log file is a symlink to a root-only file.
as_producer ln -s "$WORK/root/passwd" "$D/log/sluice.log"
capture "$SLUICE_BIN" ingest --once "${ING[@]}" --log-dir "$D/log"
expect_eq "a symlinked log file: refused, exit 1" "$RC" 1
expect_match "a symlinked log file: one clear line" "$ERR" "sluice.log': it is a symbolic link"
as_producer rm "$D/log/sluice.log"

# 2. The lock file is a symlink to a root-only file.
as_producer ln -s "$WORK/root/shadow" "$D/ck/ingest.lock"
capture "$SLUICE_BIN" ingest --once "${ING[@]}"
expect_eq "a symlinked lock file: refused, exit 1" "$RC" 1
expect_match "a symlinked lock file: says why" "$ERR" "cannot open lock file"
as_producer rm "$D/ck/ingest.lock"

# 3. The metrics temporary is a symlink to a root-only file. (A hard link would need
#    fs.protected_hardlinks=0; fs_open_private refuses those too, see tests/unit/test_fsutil.c.)
as_producer ln -s "$WORK/root/metrics" "$D/ck/.metrics.prom.tmp"
capture "$SLUICE_BIN" ingest --once "${ING[@]}" --log-dir "$D/log"
expect_eq "with a planted metrics temporary: the run still succeeds" "$RC" 0
expect_eq "rows loaded" "$(psql_q "SELECT count(*) FROM user_activity")" 3
check "metrics.prom is not there through the planted link" test ! -e "$D/ck/metrics.prom"

expect_eq "no root-only file changed" "$(snapshot)" "$before"

# 4. With the folders clean: what sluice creates is private.
as_producer rm "$D/ck/.metrics.prom.tmp"
rm -f "$D/log/sluice.log"
{ echo "$HEADER"; rows more 1; } | drop_as_producer "$D/input" more.csv
(umask 000 && "$SLUICE_BIN" ingest --once "${ING[@]}" --log-dir "$D/log" 2>/dev/null)
expect_eq "lock file mode" "$(stat -c %a "$D/ck/ingest.lock")" 600
expect_eq "metrics file mode" "$(stat -c %a "$D/ck/metrics.prom")" 600
expect_eq "log file mode" "$(stat -c %a "$D/log/sluice.log")" 640
expect_match "metrics are written" "$(cat "$D/ck/metrics.prom")" "sluice_rows_loaded_total"
finish
