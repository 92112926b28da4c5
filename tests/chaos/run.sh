#!/usr/bin/env bash
# run.sh - the chaos suite: each scenario script in this folder on its own throwaway cluster,
# one after the other, then the totals. CHAOS=full gives the sizes of `make chaos`; the quick
# sizes run inside `make test` (tests/integration/t_chaos_quick.sh). Pick scenarios with
# SCENARIOS="kill9 stall ..." (default: all of them).
set -u
dir=$(dirname "$0")
SCENARIOS=${SCENARIOS:-faults kill9 pgcrash terminate stall diskfull overflow sigterm archiver_kill9 shared_kill9 fallback_kill9 liveness conflict_kill9 split_kill9}
passed=0 failed=0 broken=""
for s in $SCENARIOS; do
    echo "== $s"
    out=$(bash "$dir/$s.sh" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v '^ok   - '
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    p=${line%% passed*} f=${line#*passed, }
    f=${f%% failed*}
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" != 0 ] || [ -z "$line" ]; then
        broken="$broken $s"
        [ -z "$line" ] && failed=$((failed + 1))
    fi
done
[ -n "$broken" ] && echo "chaos: failed scenarios:$broken"
echo "$passed passed, $failed failed"
[ -z "$broken" ]
