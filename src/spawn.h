/*
 * spawn.h - run a server program (initdb, pg_ctl, pg_config) and collect what it prints.
 */
#ifndef SLUICE_SPAWN_H
#define SLUICE_SPAWN_H

#include "log.h"
#include "mem.h"

/* Run argv (argv[0] a path, or a name searched in PATH before the fork), as the OS user as_user
 * through runuser when as_user is not NULL, with stdin from /dev/null, the working directory "/"
 * and an environment without sluice's secrets (DATABASE_URL, POSTGRES_PASSWORD(_FILE),
 * PGPASSWORD). Its stdout and stderr go into out. Returns its exit status, 128 + signal when
 * killed, 127 when it could not be started, or -1 after logging. */
int spawn_run(char *const argv[], const char *as_user, struct buf *out);

/* Log what a program printed, one log line per line of output, as "<what>: <line>". */
void spawn_log_output(enum log_level level, const char *component, const char *what,
                      const struct buf *out);

/* The full path of an executable found in PATH (heap string; caller frees), or NULL. */
char *spawn_find_in_path(const char *name);

/* The path to run a PostgreSQL server program by (initdb, pg_ctl): from pg_config --bindir, else
 * the newest /usr/lib/postgresql/<version>/bin, else the bare name for PATH. Heap string; the
 * caller frees it. */
char *spawn_pg_program(const char *prog);

#endif
