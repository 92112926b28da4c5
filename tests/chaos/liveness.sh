#!/usr/bin/env bash
# liveness.sh - chaos scenario: a long but live COPY is never mistaken for a stalled one.
# Ingester A loads one large file (LIVENESS_MB; 1 GB with CHAOS=full) in a single batch with
# --lock-timeout 2; ingester B starts on the same folder meanwhile and finds the file busy for
# far longer than 2 s. A must finish without its backend being terminated (the server log is
# checked), B must end once A has committed, and the counts stay exact.
# Run alone (SLUICE_BIN=... bash liveness.sh; CHAOS=full for `make chaos` sizes) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
rows=$((LIVENESS_MB * 1024 * 1024 / 120)) # ~115 bytes a generated row: the file stays under the 1 GiB batch
BAD_RATIO=0 wave 1 "$rows" 2>/dev/null # no dead letters: they would close the batch early
size=$(stat -c %s "$IN"/*.csv)
echo "liveness: one file of $((size / 1048576)) MB, $rows rows"
CK=A ingest_bg --workers 1 --batch-bytes 1073741824 --lock-timeout 2 --log-level info \
    2>"$WORK/livenessA.log"
a=$!
check "liveness: A's COPY is in flight" wait_for 60 copy_in_flight
t0=$(date +%s)
CK=B ingest_fg --once --workers 1 --lock-timeout 2 --log-level info 2>"$WORK/livenessB.log"
expect_eq "liveness: B exits 0 once A has committed" "$?" 0
waited=$(($(date +%s) - t0))
expect_eq "liveness: the file is done" "$(files_done)" 1
kill -TERM "$a"
wait_exit "$a" 30
expect_eq "liveness: A exits 0" "$EXIT_RC" 0
check "liveness: B waited on the busy file longer than the lock timeout (${waited} s)" \
    test "$waited" -gt 2
expect_eq "liveness: no backend was terminated (server log)" \
    "$(grep -c 'terminating connection due to administrator command' "$PG_DIR/server.log")" 0
expect_eq "liveness: B ended no session" "$(grep -c 'ended PostgreSQL session' "$WORK/livenessB.log")" 0
expect_eq "liveness: A loaded it in one batch" "$(grep -c 'batch committed' "$WORK/livenessA.log")" 1
final_pass
exactly_once liveness
finish
