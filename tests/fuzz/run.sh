#!/usr/bin/env bash
# tests/fuzz/run.sh - `make fuzz`: build the libFuzzer harnesses with clang (ASan + UBSan), seed
# corpora (rows: tests/data and generator output; names: a few hostile names; CHECK constraints:
# tests/data/fuzz-check, real pg_get_constraintdef texts with a row of values), fuzz each target
# for FUZZ_SECONDS (600) or FUZZ_RUNS executions, and print the figures. Crashes land in build-fuzz/artifacts; add each one to
# tests/data/fuzz-regressions/ so tests/unit/test_fuzz_regressions.c replays it in every test run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
B=${FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON -DSLUICE_SANITIZE=ON >/dev/null
cmake --build "$B" -j 2 --target fuzz_ingest_row fuzz_name_codec fuzz_check_expr sluice >/dev/null
mkdir -p "$B/corpus" "$B/artifacts"
# Seeds: the hand-written hostile files and small slices of generated files (first byte: chunk).
find tests/data -type f -name '*.csv' -size -64k -exec cp {} "$B/corpus/" \; 2>/dev/null || true
seed_dir=$(mktemp -d)
"$B/sluice" generate --input-dir "$seed_dir/in" --temp-dir "$seed_dir/tmp" --files 20 \
    --rows-per-file 5-40 --bad-ratio 0.3 --interval 0 --seed 9 --log-level warn
for f in "$seed_dir/in/"*.csv; do
    { printf '\x07'; cat "$f"; } >"$B/corpus/gen-$(basename "$f")"
done
rm -rf "$seed_dir"
# Seeds for the name target: what a hostile producer would name its files.
mkdir -p "$B/corpus-names"
printf 'b\xfe1.csv' >"$B/corpus-names/latin1"
printf 'a\\xfe.csv' >"$B/corpus-names/fake-escape"
printf 'x.csv\n2026-01-01T00:00:00.000Z INFO  ingest: forged\x1b[2J' >"$B/corpus-names/forge"
printf '../victim/resolv.conf' >"$B/corpus-names/traversal"
printf '\xc2\x9b\xe2\x80\xa8\xed\xa0\x80\xf4\x90\x80\x80' >"$B/corpus-names/controls"

# Seeds for the CHECK target: real constraint texts, each with a row of values.
mkdir -p "$B/corpus-check"
cp tests/data/fuzz-check/* "$B/corpus-check/"

status=0
for target in ${FUZZ_TARGETS:-fuzz_ingest_row fuzz_name_codec fuzz_check_expr}; do
    corpus=$B/corpus
    [ "$target" = fuzz_name_codec ] && corpus=$B/corpus-names
    [ "$target" = fuzz_check_expr ] && corpus=$B/corpus-check
    args=(-max_len=${FUZZ_MAX_LEN:-2048} -artifact_prefix="$B/artifacts/$target-" -print_final_stats=1)
    if [ -n "${FUZZ_RUNS:-}" ]; then
        args+=(-runs="$FUZZ_RUNS")
    else
        args+=(-max_total_time="${FUZZ_SECONDS:-600}")
    fi
    log="$B/$target.log"
    if ASAN_OPTIONS=detect_leaks=1 "$B/$target" "${args[@]}" "$corpus" >"$log" 2>&1; then
        rc=0
    else
        rc=$?
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    crashes=$(find "$B/artifacts" -type f -name "$target-*" | wc -l)
    echo "fuzz $target: $runs executions, $crashes crashes (exit $rc); log in $log"
    [ "$crashes" = 0 ] || status=1
done
exit $status
