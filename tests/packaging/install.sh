#!/usr/bin/env bash
# install.sh - `cmake --install` with a prefix and DESTDIR (what `make install` runs) puts the
# binary, the schema, the man page and the units where they belong, with the units' ExecStart=
# naming the installed binary, and the man page lists every option of every --help page.
set -euo pipefail

build=${SLUICE_BUILD:?SLUICE_BUILD is the build tree}
bin=${SLUICE_BIN:?SLUICE_BIN is the built sluice}
src=${SLUICE_SRC:?SLUICE_SRC is the source tree}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "install: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" --prefix /opt/sluice >/dev/null
root=$stage/opt/sluice
for f in bin/sluice share/sluice/postgres_setup.sql share/sluice/sluice.env.example \
    share/man/man1/sluice.1 lib/systemd/system/sluice-ingest.service \
    lib/systemd/system/sluice-archive.service lib/sysusers.d/sluice.conf; do
    [ -f "$root/$f" ] || fail "$f was not installed"
done
[ -x "$root/bin/sluice" ] || fail "bin/sluice is not executable"
"$root/bin/sluice" --version | grep -qx "sluice [0-9.]*" || fail "the installed binary does not run"
cmp -s "$root/share/sluice/postgres_setup.sql" "$src/sql/postgres_setup.sql" || fail "schema differs"
grep -qx "ExecStart=/opt/sluice/bin/sluice ingest" "$root/lib/systemd/system/sluice-ingest.service" ||
    fail "sluice-ingest.service does not start the installed binary"
grep -qx "ExecStart=/opt/sluice/bin/sluice archive" "$root/lib/systemd/system/sluice-archive.service" ||
    fail "sluice-archive.service does not start the installed binary"
[ -z "$(find "$stage" -mindepth 1 -maxdepth 1 ! -name opt)" ] || fail "wrote outside the prefix"

# Every option of every command's --help is in the man page, under that command's section.
man=$root/share/man/man1/sluice.1
n=0
for cmd in $("$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'); do
    section=$(awk -v s=".SH \"SLUICE ${cmd^^}\"" '$0 == s { on = 1; next } on && /^\.SH/ { exit } on' "$man")
    [ -n "$section" ] || fail "no section for '$cmd' in the man page"
    for opt in $("$bin" "$cmd" --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p'); do
        grep -qF "\\fB${opt//-/\\-}\\fR" <<<"$section" || fail "'$cmd $opt' is not in the man page"
        n=$((n + 1))
    done
done
[ "$n" -gt 40 ] || fail "only $n options found: the --help format changed?"
if command -v man >/dev/null; then
    warn=$(man --warnings -l "$man" 2>&1 >/dev/null) || true
    [ -z "$warn" ] || fail "man page warnings: $warn"
fi
echo "install: 7 files under DESTDIR/opt/sluice; the man page has all $n options"
