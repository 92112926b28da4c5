#!/usr/bin/env bash
# sigterm.sh - chaos scenario: SIGTERM in the middle of a load. The signal is sent while a COPY
# is running and before the folder is drained (both checked), and the ingester must exit 0
# within 5 s with no partial batch.
# Run alone (SLUICE_BIN=... bash sigterm.sh; CHAOS=full for the sizes of `make chaos`) or by run.sh.
source "$(dirname "$0")/lib_chaos.sh"

reset
wave 40 2000 2>/dev/null
ingest_bg --batch-bytes 500000 --log-level warn
pid=$!
check "sigterm: a COPY is in flight" wait_for 30 copy_in_flight
kill -TERM "$pid"
t0=$(date +%s%N)
done_at_signal=$(files_done)
wait_exit "$pid" 10
rc=$EXIT_RC
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "sigterm: exit 0" "$rc" 0
check "sigterm: exit within 5 s (${ms} ms)" test "$ms" -lt 5000
check "sigterm: the signal came before the folder was drained ($done_at_signal of 40 done)" \
    test "$done_at_signal" -lt 40
expect_eq "sigterm: no partial batch (ledger sums = table counts)" \
    "$(psql_q "SELECT (SELECT coalesce(sum(rows_loaded), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity)
           AND (SELECT coalesce(sum(rows_rejected), 0) FROM ingest_files) = (SELECT count(*) FROM user_activity_errors)")" t
final_pass
exactly_once sigterm
finish
