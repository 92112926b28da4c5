#!/usr/bin/env bash
# run.sh - check the coordination protocol model (sluice.pml) exhaustively with spin.
#
# Each line below is one exhaustive run: a size, a property, and whether spin must find it held
# ("pass") or find a counterexample ("FAIL", for the deliberately broken variants, so the test
# shows the properties can fail). Prints the state count of every run; exits 1 when any result
# differs from what is expected.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v spin >/dev/null || { echo "model: spin is not installed (scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/sluice.pml" "$work/"
cd "$work"

failed=0
# run NAME EXPECT MODE DEFINES...   MODE is safety (assertions, end states) or live (the LTL
# property under weak fairness).
run() {
    local name=$1 expect=$2 mode=$3
    shift 3
    local defs=("$@") cc=(-O2 -w) pan=(-m400000)
    if [ "$mode" = live ]; then
        defs+=(-DLIVENESS)
        cc+=(-DNFAIR=3)
        pan+=(-a -f)
    else
        cc+=(-DSAFETY -DCOLLAPSE)
    fi
    spin -a "${defs[@]}" sluice.pml >spin.out 2>&1 || { cat spin.out >&2; failed=1; return; }
    gcc "${cc[@]}" -o pan pan.c
    ./pan "${pan[@]}" >pan.out 2>&1 || true
    local errors states got
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out)
    states=$(awk '/states, stored/ { print $1; exit }' pan.out)
    if [ -z "$errors" ]; then
        cat pan.out >&2
        echo "model: $name: spin gave no verdict" >&2
        failed=1
        return
    fi
    if grep -q "max search depth too small" pan.out; then
        echo "model: $name: search depth too small, the run was not exhaustive" >&2
        failed=1
        return
    fi
    got=pass
    [ "$errors" = 0 ] || got=FAIL
    local why=""
    [ "$got" = FAIL ] && why=" ($(grep -m1 -E '^pan:1:' pan.out | sed 's/^pan:1: //'))"
    printf 'model: %-44s %-7s %12s states  %s\n' "$name" "$got" "$states" "${defs[*]}$why"
    if [ "$got" != "$expect" ]; then
        echo "model: $name: expected $expect" >&2
        [ "$got" = FAIL ] && spin -t -p -g "${defs[@]}" sluice.pml 2>&1 | tail -60 >&2
        failed=1
    fi
}

#   name                                      expect mode    defines
run "exactly once, 2 ingesters, 3 faults"     pass safety -DNING=2 -DROWS=2 -DFAULTS=3
run "exactly once, 3 ingesters, no faults"    pass safety -DNING=3 -DROWS=2 -DFAULTS=0
run "exactly once, 3 ingesters, 1 fault"      pass safety -DNING=3 -DROWS=1 -DFAULTS=1
run "everything done, 2 ingesters, 2 faults"  pass live   -DNING=2 -DROWS=2 -DFAULTS=2
# Each guard alone carries exactly-once: the advisory lock without the compare-and-set, and the
# compare-and-set without the lock. Without both, rows are loaded twice.
run "no compare-and-set (the lock holds)"     pass safety -DNING=2 -DROWS=2 -DFAULTS=2 -DNO_CAS
run "no advisory lock (the CAS holds)"        pass safety -DNING=2 -DROWS=2 -DFAULTS=2 -DNO_LOCK
run "BROKEN: no lock and no compare-and-set"  FAIL safety -DNING=2 -DROWS=2 -DFAULTS=2 -DNO_LOCK -DNO_CAS
# Without free_stalled_claims a stopped ingester holds its files forever.
run "BROKEN: no stalled-claim check"          FAIL live   -DNING=2 -DROWS=2 -DFAULTS=2 -DNO_STALL_CHECK
# A writer renaming new content over the name at any time, even between the archiver's check and
# its rename: the archiver sets the entry aside under a hidden name, verifies it is the file it
# checked and gives anything else back; a pass that died after the set-aside is resumed (with
# faults: the archiver killed at any step). Without the verification, or moving a set-aside entry
# on resume without hashing it, the new content is archived in place of the loaded one.
run "renamed over the name, no faults"        pass safety -DNING=2 -DROWS=2 -DFAULTS=0 -DREDROP_OVER
run "renamed over the name, any 1 fault"      pass safety -DNING=2 -DROWS=2 -DFAULTS=1 -DREDROP_OVER
run "BROKEN: no check of the set-aside entry" FAIL safety -DNING=2 -DROWS=2 -DFAULTS=0 -DREDROP_OVER -DNO_VERIFY
run "BROKEN: resume moves it unhashed"        FAIL safety -DNING=2 -DROWS=2 -DFAULTS=1 -DREDROP_OVER -DNO_RESUME_CHECK

[ "$failed" = 0 ] && echo "model: all results as expected"
exit "$failed"
