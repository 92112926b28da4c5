#!/usr/bin/env bash
# terminate.sh - chaos scenario: pg_terminate_backend of the ingester in the middle of COPY.
# Run alone (SLUICE_BIN=... bash terminate.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
wave 2 150000 2>/dev/null
ingest_bg --log-level info 2>"$WORK/terminate.log"
pid=$! killed=0
for ((i = 0; i < 100 && killed == 0; i++)); do
    killed=$(psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                     WHERE application_name LIKE 'sluice-ingest%' AND query LIKE 'COPY%'")
    sleep 0.05
done
# It survives: it reconnects and commits again (the ledger moves after the termination).
check "terminate: the ingester reconnects and loads on" wait_for 60 \
    grep -q "batch committed" "$WORK/terminate.log"
kill -0 "$pid" 2>/dev/null
expect_eq "terminate: the ingester survives pg_terminate_backend" "$?" 0
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "terminate: SIGTERM exit status" "$EXIT_RC" 0
final_pass
echo "terminate: $killed backends terminated in the middle of COPY"
check "terminate: a COPY was caught and terminated" test "$killed" -ge 1
exactly_once terminate
finish
