/*
 * db.h - the libpq connection: connect with capped exponential backoff, tell an outage that may
 * pass from a failure that retrying cannot fix, session settings, the schema and the grants, and
 * one classification of statement failures (OK / RETRY / FATAL) so callers can tell a dead
 * connection from bad data. The privileges are grants.h's.
 */
#ifndef SLUICE_DB_H
#define SLUICE_DB_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum db_status {
    DB_OK = 0,
    DB_RETRY, /* the connection is gone or the server is restarting: reconnect and redo */
    DB_FATAL, /* the statement itself failed (bad data, constraint, permissions) */
};

/* How long a transient outage may last before db_connect gives up (0 = forever). Set once at
 * start, before any thread connects. */
void db_set_max_wait(double seconds);

/* True once db_connect met a failure that retrying cannot fix (authentication, a missing
 * database or role, SSL, bad conninfo, missing privileges, a schema newer than this binary) or an
 * outage longer than the max wait. The process should exit 1. */
bool db_gave_up(void);

/* Check a conninfo before any connection: it must parse (key=value pairs or a postgresql:// URI;
 * an empty string means libpq's defaults) and its port must be a number. 0, or -1 with a
 * one-line reason in err that never quotes the conninfo (it may hold a password). */
int db_conninfo_check(const char *conninfo, char *err, size_t errlen);

/* Connect to conninfo, retrying transient failures with backoff (100 ms doubling to 5 s, logged)
 * until connected, *stop is set, or the max wait has passed. Sets synchronous_commit = on, the
 * application_name, and idle_in_transaction_session_timeout to lock_timeout_s; then makes sure
 * the schema is current: nothing when its marker is, sql/postgres_setup.sql (compiled in) under
 * an advisory lock when it is missing or older. A permanent failure, or giving up on an outage,
 * is logged once as one line, makes db_gave_up() true and asks the whole process to stop
 * (signals_request_stop: every loop winds down); NULL is returned then and when *stop is set. */
PGconn *db_connect(const char *conninfo, const char *component, double lock_timeout_s,
                   const atomic_int *stop);

/* Classify a result (NULL = no result). Logs a FATAL or RETRY once with SQLSTATE, message and
 * libpq's detail= and hint= on the same line. Does not clear res. */
enum db_status db_check(PGconn *conn, PGresult *res, ExecStatusType want, const char *what);

/* Run a command with no result rows; clears the result. */
enum db_status db_exec(PGconn *conn, const char *sql, const char *what);

/* True when the connection is usable. */
bool db_alive(PGconn *conn);

/* conninfo without its password, for logs (heap string). An unparsable one is never shown. */
char *db_redact(const char *conninfo);

/* Does this SQLSTATE say the server refused one row's data (a CHECK, a foreign key, a trigger
 * that raises, a value its input function rejects)? 23505 is not included: it has its own path. */
bool db_sqlstate_row_refused(const char *sqlstate);

/* The SQLSTATE of a result, or "" */
const char *db_sqlstate(const PGresult *res);

/* The ledger's version this binary writes in its marker ("sluice schema N"), and whether a marker
 * read from the database (NULL: none) names it. */
long db_schema_version(void);
bool db_schema_marker_current(const char *marker);

/* The advisory lock that serialises schema changes across starters (any constant). */
#define DB_SCHEMA_LOCK_KEY 7262301

/* The seed pipeline's target: --table's default, whose tables sql/postgres_setup.sql makes. */
#define DB_SEED_TABLE "user_activity"

/* Make the seed pipeline's tables (user_activity, user_activity_errors) current: nothing when
 * their marker is, else the seed part of sql/postgres_setup.sql under the schema lock, which
 * upgrades a database the original project made in place (its rows kept, an index or rule it
 * has under another name recognised) and says what it changed (logged at info). 0, or -1 after
 * logging. */
int db_seed_ensure(PGconn *conn);

/* The tables one pipeline uses, as the catalog names them ("schema.table", unquoted). */
struct db_tables {
    char *target; /* the ledger's key for this pipeline's files */
    char *dlq;    /* NULL when not asked for */
};

/* At start: the seed tables made current when table is the default; the target table must
 * exist (else one ERROR line: create it first); with with_dlq, its dead-letter table dlq_table
 * made or completed (dlq_table.c). 0 with out filled (db_tables_release), or -1 after logging. */
int db_tables_prepare(PGconn *conn, const char *table, const char *dlq_table, bool with_dlq,
                      struct db_tables *out);
void db_tables_release(struct db_tables *t);

#endif
