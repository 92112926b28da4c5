/*
 * db.h - the libpq connection: connect with capped exponential backoff, session settings, the
 * schema, and one classification of failures (OK / RETRY / FATAL) so callers can tell a dead
 * connection from bad data.
 */
#ifndef SLUICE_DB_H
#define SLUICE_DB_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

enum db_status {
    DB_OK = 0,
    DB_RETRY, /* the connection is gone or the server is restarting: reconnect and redo */
    DB_FATAL, /* the statement itself failed (bad data, constraint, permissions) */
};

/* Connect to conninfo, retrying with backoff (100 ms doubling to 5 s, logged) until connected or
 * *stop is set (then NULL). Sets synchronous_commit = on, the application_name, and
 * idle_in_transaction_session_timeout to lock_timeout_s; then applies sql/postgres_setup.sql
 * (compiled in) under an advisory lock so concurrent starters do not race.
 */
PGconn *db_connect(const char *conninfo, const char *component, double lock_timeout_s,
                   const atomic_int *stop);

/* Classify a result (NULL = no result). Logs a FATAL or RETRY once with SQLSTATE and message.
 * Does not clear res. */
enum db_status db_check(PGconn *conn, PGresult *res, ExecStatusType want, const char *what);

/* Run a command with no result rows; clears the result. */
enum db_status db_exec(PGconn *conn, const char *sql, const char *what);

/* True when the connection is usable. */
bool db_alive(PGconn *conn);

/* conninfo without its password, for logs (heap string). */
char *db_redact(const char *conninfo);

/* The SQLSTATE of a result, or "" */
const char *db_sqlstate(const PGresult *res);

#endif
