#!/usr/bin/env bash
# stall.sh - chaos scenario: SIGSTOP in the middle of a batch; a second ingester on the same folder.
# Run alone (SLUICE_BIN=... bash stall.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
wave 4 100000 2>/dev/null
CK=A ingest_bg --workers 1 --log-level warn 2>"$WORK/stallA.log"
a=$!
check "stall: A's COPY is in flight" wait_for 30 copy_in_flight
kill -STOP "$a"
t0=$(date +%s)
# The second ingester must not be blocked forever by the stopped one's claim.
CK=B ingest_fg --once --log-level warn 2>"$WORK/stallB.log"
waited=$(($(date +%s) - t0))
sleep $((STALL_S > waited ? STALL_S - waited : 0))
kill -CONT "$a"
kill -TERM "$a"
wait_exit "$a" 10
expect_eq "stall: the stopped ingester exits 0 after SIGCONT + SIGTERM" "$EXIT_RC" 0
echo "stall: ingester A stopped for ${STALL_S}s mid-batch; ingester B finished the folder in ${waited}s"
check "stall: B was not blocked forever (${waited}s)" test "$waited" -lt $((LOCK_TIMEOUT + 30))
final_pass
exactly_once stall
finish
