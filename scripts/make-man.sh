#!/usr/bin/env bash
# make-man.sh - write sluice(1) to stdout from the binary's own --help pages.
#
#   scripts/make-man.sh path/to/sluice > sluice.1
#
# The option table in src/config.c drives every --help page, so the man page is made from
# those pages and cannot drift from them: the top page gives the name, synopsis and commands,
# then each command's page (its description, its options with their environment names and
# defaults) becomes one section. help2man reads a single --help page, and sluice's options live
# in the per-command pages, hence this small formatter instead.
set -euo pipefail

bin=${1:?usage: make-man.sh SLUICE_BINARY}
version=$("$bin" --version | awk '{ print $2 }')
top=$("$bin" --help)
commands=$(printf '%s\n' "$top" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')

# roff-escape stdin: backslashes, hyphens, and a dot or quote that would start a request.
esc() {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# One --help page as man source: option lines become tagged paragraphs.
page() {
    esc | awk '
        /^Usage: / { next }
        /^$/ { print ".PP"; next }
        /^  [^ ]/ {
            line = substr($0, 3)
            split(line, part, /   +/)
            head = part[1]
            rest = substr(line, length(head) + 1)
            sub(/^ +/, "", rest)
            n = split(head, w, " ")
            tag = "\\fB" w[1] "\\fR"
            for (i = 2; i <= n; i++) tag = tag " \\fI" w[i] "\\fR"
            print ".TP"
            print tag
            if (rest != "") print rest
            next
        }
        /^ +[^ ]/ { sub(/^ +/, ""); print ".br"; print; next }
        { print }
    '
}

cat <<ROFF
.TH SLUICE 1 "" "sluice $version" "User Commands"
.SH NAME
sluice \\- $(printf '%s\n' "$top" | sed -n 2p | esc)
.SH SYNOPSIS
.B sluice
.I COMMAND
[\\fIOPTION\\fR]...
.SH COMMANDS
ROFF
printf '%s\n' "$top" | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on' | page
for cmd in $commands; do
    echo ".SH \"SLUICE $(echo "$cmd" | tr a-z A-Z)\""
    echo ".B sluice $cmd"
    "$bin" "$cmd" --help | sed -n 's/^Usage: sluice [a-z]* //p' | esc
    echo ".PP"
    "$bin" "$cmd" --help | page
done
cat <<'ROFF'
.SH FILES
.TP
.I share/sluice/postgres_setup.sql
the schema sluice applies at start; it can be run by hand with psql
.SH "SEE ALSO"
.BR psql (1),
.BR systemd.exec (5)
ROFF
