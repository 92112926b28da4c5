#!/usr/bin/env bash
# t_chaos_quick.sh - the chaos suite at quick sizes, inside `make test`: every fault point twice,
# 15 kill -9, 3 PostgreSQL crashes, pg_terminate_backend mid-COPY, a stall with a second
# ingester, a full archive disk, 20,000 files of inotify overflow, SIGTERM mid-load, 10 kills of
# the archiver, 15 kills of one of two ingesters sharing a folder, 15 kills (and 6 stops inside
# the bisection) of an ingester in careful mode, a 40 MB live COPY with --lock-timeout 2, 12
# kills while files with repeated keys load in update mode, 15 kills while large files load as
# segments taken by three workers. `make chaos` runs the same
# scenarios at the sizes of issue 3.
export OVERFLOW_FILES=${OVERFLOW_FILES:-20000}
exec bash "$(dirname "$0")/../chaos/run.sh"
