#!/usr/bin/env bash
# t_ledger.sh - the ledger module's own test (tests/db/dbtest_ledger.c) against a throwaway
# cluster: claims, compare-and-set, re-drops, archiver paging, stalled-claim freeing.
source "$(dirname "$0")/lib.sh"

pg_start
ledger_test="$(dirname "$SLUICE_BIN")/dbtest_ledger"
capture "$ledger_test"
printf '%s\n' "$OUT"
[ -n "$ERR" ] && printf '%s\n' "$ERR" | sed 's/^/       /'
expect_eq "dbtest_ledger passes" "$RC" 0
expect_match "dbtest_ledger ran its checks" "$OUT" " 0 failed"
finish
