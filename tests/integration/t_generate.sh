#!/usr/bin/env bash
# t_generate.sh - `sluice generate` end to end, no database: the files land whole in the hot
# folder (nothing left in the temp folder), the manifest's totals add up and match the files,
# the same seed gives the same bytes, --help and bad usage behave, and SIGTERM on an endless run
# still exits 0 with a manifest.
source "$(dirname "$0")/lib.sh"

G=$WORK/gen

# --- five files, 5% bad -----------------------------------------------------------------------
capture "$SLUICE_BIN" generate --input-dir "$G/input" --temp-dir "$G/temp" --files 5 \
    --rows-per-file 200 --bad-ratio 0.05 --seed 3 --interval 0 --manifest "$G/manifest.json"
expect_eq "generate exits 0" "$RC" 0
expect_match "and logs a summary" "$ERR" "wrote 5 files, 1000 rows"
expect_eq "5 files in the hot folder" "$(find "$G/input" -type f -name 'events_*.csv' | wc -l)" 5
expect_eq "the temp folder is empty" "$(find "$G/temp" -mindepth 1 | wc -l)" 0
names_ok=$(find "$G/input" -type f | sed 's|.*/||' |
    grep -cE '^events_[0-9]{8}T[0-9]{6}_[0-9a-f]{8}_[0-9]{6}\.csv$')
expect_eq "file names follow events_<stamp>_<run id>_<seq>.csv" "$names_ok" 5
# Every file ends with its last row's newline (the ingester waits --settle-time for one that does
# not), whatever its last row is: 200 files at 20% bad rows, so every class ends some file.
capture "$SLUICE_BIN" generate --input-dir "$G/ends" --temp-dir "$G/temp" --files 200 \
    --rows-per-file 5 --bad-ratio 0.2 --seed 5 --interval 0 --log-level warn
ends=$(for f in "$G/ends"/*.csv; do tail -c 1 "$f" | od -An -tx1; done | sort | uniq -c | awk '{ print $2 "=" $1 }')
expect_eq "every generated file ends with a newline" "$ends" "0a=200"

header_ok=0
for f in "$G"/input/*.csv; do
    [ "$(head -n 1 "$f")" = "event_id,event_time,event_type,product_id,price,user_id,session_id" ] &&
        header_ok=$((header_ok + 1))
done
expect_eq "every file starts with the header" "$header_ok" 5

# Data rows: lines minus headers. An unterminated quote (the last row of a file) may hold a
# newline-free tail, so a line count is exact here.
lines=$(cat "$G"/input/*.csv | wc -l)
expect_eq "1000 data rows" "$((lines - 5))" 1000

M=$(tr -d '\n' <"$G/manifest.json")
jnum() { grep -o "\"$1\": *[0-9]*" <<<"$M" | grep -o '[0-9]*$'; }
expect_eq "manifest: files" "$(jnum files)" 5
expect_eq "manifest: rows" "$(jnum rows)" 1000
valid=$(jnum valid)
invalid=$(jnum invalid)
expect_eq "manifest: valid + invalid = rows" "$((valid + invalid))" 1000
class_sum=$(grep -o '"invalid_by_class": *{[^}]*}' <<<"$M" | grep -o ': *[0-9]*' | tr -d ': ' |
    awk '{ s += $1 } END { print s + 0 }')
expect_eq "manifest: the classes add up to invalid" "$class_sum" "$invalid"
check "manifest: about 5% invalid" test "$invalid" -ge 20 -a "$invalid" -le 90
for c in missing_field bad_value rule_violation wrong_column_count bad_encoding \
    unterminated_quote row_too_long duplicate_key; do
    expect_match "manifest names class $c" "$M" "\"$c\": "
done

# The valid rows, recomputed from the files: a well-formed row whose event_id is new. (With
# --seed 3 there is no unterminated quote or overlong row, so every line is one row.)
expect_eq "this seed has no unterminated_quote row" "$(jnum unterminated_quote)" 0
expect_eq "this seed has no row_too_long row" "$(jnum row_too_long)" 0
read -r v_files cents_files < <(LC_ALL=C awk -F, '
    function hex(s) { return s ~ /^[0-9a-f]+$/ }
    function uuid4(s) {
        return length(s) == 36 && substr(s, 9, 1) "" substr(s, 14, 1) substr(s, 19, 1) \
            substr(s, 24, 1) == "----" && substr(s, 15, 1) == "4" && index("89ab", substr(s, 20, 1)) &&
            hex(substr(s, 1, 8) substr(s, 10, 4) substr(s, 15, 4) substr(s, 20, 4) substr(s, 25))
    }
    function id(s) { return s ~ /^[1-9][0-9]*$/ && length(s) <= 10 && s + 0 <= 2147483647 }
    function stamp(s) {
        return s ~ /^20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$/ &&
            substr(s, 6, 2) + 0 >= 1 && substr(s, 6, 2) + 0 <= 12 && substr(s, 9, 2) + 0 >= 1 &&
            substr(s, 12, 2) + 0 <= 23 && s !~ /-02-3[01]/ && s !~ /-(04|06|09|11)-31/
    }
    FNR == 1 { next }
    NF == 7 && uuid4($1) && stamp($2) && ($3 == "view" || $3 == "purchase") && id($4) &&
        $5 ~ /^[0-9]+[.][0-9][0-9]$/ && $5 + 0 > 0 && id($6) && uuid4($7) {
        if (seen[$1]++) next
        n++
        split($5, p, ".")
        cents += p[1] * 100 + p[2]
    }
    END { printf "%d %d\n", n, cents }' "$G"/input/*.csv)
expect_eq "valid rows in the files = manifest valid" "$v_files" "$valid"
psum=$(grep -o '"valid_price_sum": *"[0-9.]*"' <<<"$M" | grep -o '[0-9.]*"$' | tr -d '"')
expect_eq "valid prices in the files = manifest valid_price_sum" \
    "$(printf '%d.%02d' $((cents_files / 100)) $((cents_files % 100)))" "$psum"

# --- determinism ----------------------------------------------------------------------------
"$SLUICE_BIN" generate --input-dir "$WORK/again/input" --temp-dir "$WORK/again/temp" --files 5 \
    --rows-per-file 200 --bad-ratio 0.05 --seed 3 --interval 0 --log-level warn
check "the same seed gives byte-identical files" \
    cmp <(cat "$G"/input/*.csv) <(cat "$WORK"/again/input/*.csv)
"$SLUICE_BIN" generate --input-dir "$WORK/other/input" --temp-dir "$WORK/other/temp" --files 5 \
    --rows-per-file 200 --bad-ratio 0.05 --seed 4 --interval 0 --log-level warn
check "another seed gives other files" \
    bash -c "! cmp -s <(cat '$G'/input/*.csv) <(cat '$WORK'/other/input/*.csv)"

# A second run with the same seed into the same folder adds files, never overwrites.
"$SLUICE_BIN" generate --input-dir "$G/input" --temp-dir "$G/temp" --files 5 \
    --rows-per-file 200 --seed 3 --interval 0 --log-level warn
expect_eq "a second run into the same folder adds 5 files" \
    "$(find "$G/input" -type f -name 'events_*.csv' | wc -l)" 10

# --- usage ----------------------------------------------------------------------------------
capture "$SLUICE_BIN" generate --help
expect_eq "--help exits 0" "$RC" 0
expect_match "--help shows the usage" "$OUT" "Usage: sluice generate"
expect_match "--help lists --bad-ratio" "$OUT" "--bad-ratio"
capture "$SLUICE_BIN" generate --no-such-option
expect_eq "an unknown option exits 2" "$RC" 2
expect_match "and points at --help" "$ERR" "Try 'sluice generate --help'"
for bad in abc -1 " 7" 18446744073709551616; do
    capture "$SLUICE_BIN" generate --input-dir "$WORK/never" --seed "$bad" --files 1
    expect_eq "--seed '$bad' exits 2" "$RC" 2
    expect_match "--seed '$bad' points at --help" "$ERR" "Try 'sluice generate --help'"
done
check "a refused run creates no folder" test ! -e "$WORK/never"
capture "$SLUICE_BIN" generate --rows-per-file 0
expect_eq "--rows-per-file 0 exits 2" "$RC" 2

# --- until stopped --------------------------------------------------------------------------
"$SLUICE_BIN" generate --input-dir "$WORK/endless/input" --temp-dir "$WORK/endless/temp" \
    --files 0 --rows-per-file 10 --interval 0.05 --manifest "$WORK/endless.json" \
    --log-level warn &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
expect_eq "SIGTERM on --files 0 exits 0" "$?" 0
n=$(find "$WORK/endless/input" -type f | wc -l)
check "it wrote files before the stop" test "$n" -ge 2
expect_eq "the manifest counts the files written" \
    "$(grep -o '"files": *[0-9]*' "$WORK/endless.json" | grep -o '[0-9]*$')" "$n"
expect_eq "the manifest counts their rows" \
    "$(grep -o '"rows": *[0-9]*' "$WORK/endless.json" | grep -o '[0-9]*$')" "$((n * 10))"
expect_eq "no temporary file is left" "$(find "$WORK/endless/temp" -mindepth 1 | wc -l)" 0

finish
