#!/usr/bin/env bash
# install-deps.sh - install what building and testing sluice needs, with apt-get, when missing.
#
# Each requirement is a Debian package, optionally followed by alternatives that satisfy it too
# (postgresql-15 instead of the postgresql metapackage, say). A machine that has everything is
# left alone and nothing is printed; otherwise the missing packages are installed in one go
# (apt-get update first), with sudo when not root.
set -euo pipefail

requirements=(
    "gcc"
    "make"
    "libc6-dev"
    "cmake"
    "pkg-config"
    "libpq-dev"
    "libxxhash-dev"
    "postgresql postgresql-[0-9]*"               # the server: initdb, pg_ctl, postgres
    "postgresql-client postgresql-client-[0-9]*" # psql
    "util-linux"                                 # runuser, to run the server as postgres
    "valgrind"
    "clang"                                      # libFuzzer harnesses
    "time"                                       # /usr/bin/time -v in the benchmarks
    "libmicrohttpd-dev"                          # the HTTP endpoint (src/http.c)
    "prometheus"                                 # promtool check metrics, in t_metrics
    "chromium"                                   # the dashboard test, headless
    "curl"                                       # scraping the endpoint in the tests
    "spin"                                       # the protocol model, tests/model
    "systemd"                                    # systemd-analyze verify of packaging/systemd
)

# `install-deps.sh compose`: also what `make compose-test` needs (a Docker engine, compose v1,
# debootstrap for the base image).
# `install-deps.sh bench`: also pgloader, the other loader `make bench` compares against.
if [ "${1:-}" = compose ]; then
    requirements+=("docker.io" "docker-compose" "debootstrap" "coreutils")
elif [ "${1:-}" = bench ]; then
    requirements+=("pgloader")
fi

installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for req in "${requirements[@]}"; do
    read -r -a names <<<"$req"
    ok=0
    for name in "${names[@]}"; do
        if installed "$name"; then
            ok=1
            break
        fi
    done
    [ "$ok" = 1 ] || missing+=("${names[0]}")
done

[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}, and there is no apt-get to install them with" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0)
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
