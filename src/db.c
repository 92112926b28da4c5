/*
 * db.c - the libpq connection every part of sluice uses.
 *
 * db_connect() never gives up on its own: an unreachable server is retried with capped
 * exponential backoff (logged once per attempt) until it answers or the process is asked to
 * stop. Every session it returns has synchronous_commit on (a COMMIT that returns is durable,
 * whatever the server default) and idle_in_transaction_session_timeout set, so the claims of a
 * stalled ingester are freed by the server (one stalled in the middle of a COPY is not idle to
 * the server: the ingester that finds its files busy ends that session, see ingest.c). The schema
 * (sql/postgres_setup.sql, compiled in) is applied at every connect under an advisory lock, which
 * makes it safe for several starters.
 *
 * db_check() is the one place that turns a PGresult into OK / RETRY / FATAL: connection-class
 * failures (a closed socket, SQLSTATE classes 08, 57P, 53, 40) mean "reconnect and redo the
 * batch"; anything else is a statement failure the caller must handle.
 */
#include "db.h"

#include "log.h"
#include "mem.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char schema_sql[];

/* The comment sql/postgres_setup.sql puts on ingest_files; bump both together. */
#define SCHEMA_MARKER "sluice schema 1"
#define SCHEMA_LOCK_KEY 7262301 /* any constant: serialises schema setup across starters */

const char *db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* libpq messages end with a newline and may hold several lines; log them as one. */
static void one_line(char *dst, size_t n, const char *msg)
{
    size_t j = 0;
    for (size_t i = 0; msg && msg[i] && j + 1 < n; i++)
        dst[j++] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
    while (j > 0 && dst[j - 1] == ' ')
        j--;
    dst[j] = '\0';
}

bool db_alive(PGconn *conn)
{
    return conn && PQstatus(conn) == CONNECTION_OK;
}

enum db_status db_check(PGconn *conn, PGresult *res, ExecStatusType want, const char *what)
{
    if (res && PQresultStatus(res) == want)
        return DB_OK;
    char msg[1024];
    one_line(msg, sizeof(msg), res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    if (!*msg)
        one_line(msg, sizeof(msg), PQerrorMessage(conn));
    const char *state = db_sqlstate(res);
    bool lost = PQstatus(conn) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
                strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0 ||
                strncmp(state, "40", 2) == 0 || strcmp(state, "25P03") == 0 ||
                (!*state && (!res || PQresultStatus(res) == PGRES_FATAL_ERROR) &&
                 PQstatus(conn) != CONNECTION_OK);
    if (lost) {
        log_warn("db", "%s: connection problem (%s): %s", what, *state ? state : "no sqlstate",
                 msg);
        metrics_set_db_up(false);
        metrics_note_error(what, msg);
        return DB_RETRY;
    }
    /* A unique violation is expected data, handled by the caller (duplicate_event_id). */
    if (strcmp(state, "23505") != 0)
        metrics_note_error(what, msg);
    log_at(strcmp(state, "23505") == 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR, "db",
           "%s failed (%s): %s", what, *state ? state : "no sqlstate", msg);
    return DB_FATAL;
}

enum db_status db_exec(PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType want =
        res && PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    enum db_status st = db_check(conn, res, want, what);
    PQclear(res);
    return st;
}

char *db_redact(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        PQfreemem(err);
        return xstrdup("(unparsable conninfo)");
    }
    struct buf b;
    buf_init(&b);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        bool secret = strcmp(o->keyword, "password") == 0;
        buf_printf(&b, "%s%s=%s", b.len ? " " : "", o->keyword, secret ? "********" : o->val);
    }
    PQconninfoFree(opts);
    buf_putc(&b, '\0');
    if (b.len == 1) {
        buf_release(&b);
        return xstrdup("(libpq defaults)");
    }
    return b.data;
}

/* Sleep up to ms, waking early when *stop is set. */
static void nap(long ms, volatile sig_atomic_t *stop)
{
    while (ms > 0 && !(stop && *stop)) {
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        metrics_watchdog_tick(); /* waiting for the server is alive, not stuck */
        ms -= step;
    }
}

static enum db_status setup_session(PGconn *conn, double lock_timeout_s)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = %ld; "
             "SET client_min_messages = warning",
             (long)(lock_timeout_s * 1000));
    enum db_status st = db_exec(conn, sql, "session settings");
    if (st != DB_OK)
        return st;
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", SCHEMA_LOCK_KEY);
    st = db_exec(conn, sql, "schema lock");
    if (st != DB_OK)
        return st;
    PGresult *res = PQexec(conn, "SELECT obj_description(to_regclass('ingest_files'), 'pg_class')");
    st = db_check(conn, res, PGRES_TUPLES_OK, "schema version");
    bool current = st == DB_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
                   strcmp(PQgetvalue(res, 0, 0), SCHEMA_MARKER) == 0;
    PQclear(res);
    if (st == DB_OK && !current)
        st = db_exec(conn, schema_sql, "schema setup (sql/postgres_setup.sql)");
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", SCHEMA_LOCK_KEY);
    if (st == DB_OK)
        st = db_exec(conn, sql, "schema unlock");
    return st;
}

PGconn *db_connect(const char *conninfo, const char *component, double lock_timeout_s,
                   volatile sig_atomic_t *stop)
{
    char appname[64];
    snprintf(appname, sizeof(appname), "sluice-%s", component);
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {conninfo, appname, "10", NULL};
    long backoff_ms = 100;
    char *shown = db_redact(conninfo);
    for (unsigned attempt = 1; !(stop && *stop); attempt++) {
        PGconn *conn = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(conn) == CONNECTION_OK) {
            enum db_status st = setup_session(conn, lock_timeout_s);
            if (st == DB_OK) {
                log_info(component, "connected to PostgreSQL (%s)", shown);
                metrics_set_db_up(true);
                free(shown);
                return conn;
            }
        } else {
            char msg[512];
            one_line(msg, sizeof(msg), PQerrorMessage(conn));
            log_warn(component,
                     "cannot connect to PostgreSQL (%s), attempt %u, retrying in %ld ms: %s", shown,
                     attempt, backoff_ms, msg);
            metrics_set_db_up(false);
            metrics_note_error(component, msg);
        }
        PQfinish(conn);
        nap(backoff_ms, stop);
        backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
    }
    free(shown);
    return NULL;
}
