#!/usr/bin/env bash
# verify_units.sh - the systemd units in packaging/systemd pass `systemd-analyze verify` with no
# complaint at all, and a unit with a misspelled directive does not (so the check can fail).
#
# systemd-analyze verify needs no running systemd: it loads the unit files as PID 1 would and
# reports what it would ignore or refuse. It exits 0 for many complaints (an unknown key is
# "ignored"), so any line it prints about our units counts as a failure. ExecStart= must name an
# executable that exists, so the units are checked with the built binary in its place.
set -euo pipefail

src=${SLUICE_SRC:?SLUICE_SRC is the source tree}
bin=${SLUICE_BIN:?SLUICE_BIN is the built sluice}
command -v systemd-analyze >/dev/null ||
    { echo "units: systemd-analyze is not installed (scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# verify FILE... -> prints what systemd-analyze said about them; status 1 when it said anything.
verify() {
    local out rc=0
    out=$(cd "$work" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$@" 2>&1) || rc=$?
    # Only lines about our files: the host's own units are not ours to judge.
    out=$(printf '%s\n' "$out" | grep -F -e "sluice-" -e "broken-" || true)
    printf '%s' "$out"
    [ "$rc" = 0 ] && [ -z "$out" ]
}

units=()
for u in "$src"/packaging/systemd/*.service; do
    name=$(basename "$u")
    sed "s|^ExecStart=/usr/local/bin/sluice|ExecStart=$bin|" "$u" >"$work/$name"
    grep -q "^ExecStart=$bin " "$work/$name" ||
        { echo "units: $name: ExecStart= does not start /usr/local/bin/sluice" >&2; exit 1; }
    units+=("./$name")
done
[ "${#units[@]}" -eq 2 ] || { echo "units: expected 2 units, found ${#units[@]}" >&2; exit 1; }

if ! said=$(verify "${units[@]}"); then
    echo "units: systemd-analyze verify complains:" >&2
    echo "$said" >&2
    exit 1
fi
echo "units: ${units[*]} verified clean by $(systemd-analyze --version | head -1)"

# The hardening the units promise, each present exactly as stated.
for u in "${units[@]}"; do
    for want in "User=sluice" "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" \
        "Restart=on-failure" "StartLimitBurst=5" "ReadWritePaths=/var/lib/sluice" \
        "EnvironmentFile=/etc/sluice/sluice.env" "LoadCredential=pg-password:/etc/sluice/pg-password" \
        "Environment=POSTGRES_PASSWORD_FILE=%d/pg-password"; do
        grep -qx "$want" "$work/$u" || { echo "units: $u lacks '$want'" >&2; exit 1; }
    done
done

# The check can fail: a misspelled directive and a bad restart policy are both reported.
sed -e 's/^ProtectSystem=strict/ProtectSystm=strict/' -e 's/^Restart=on-failure/Restart=sometimes/' \
    "$work/sluice-ingest.service" >"$work/broken-ingest.service"
if said=$(verify ./broken-ingest.service); then
    echo "units: a broken unit passed systemd-analyze verify" >&2
    exit 1
fi
n=$(printf '%s\n' "$said" | grep -c -e "ProtectSystm" -e "sometimes" || true)
[ "$n" = 2 ] || { echo "units: expected 2 complaints about the broken unit, got: $said" >&2; exit 1; }
echo "units: a broken unit is caught ($n complaints)"
