/*
 * db.c - the libpq connection every part of sluice uses.
 *
 * db_connect() tells two kinds of failure apart. A *transient* one (no server yet, connection
 * refused or reset, admin shutdown, crash recovery, out of connections, serialization or deadlock:
 * SQLSTATE classes 08, 40, 53, 57P, 58, or no answer from a server at all) is retried with capped
 * exponential backoff, logged once per attempt, until the server answers, the process is asked to
 * stop, or the outage has lasted longer than the max wait. A *permanent* one (authentication, a
 * missing database or role, SSL refused or a certificate that does not verify, a conninfo that
 * does not parse, missing privileges, a schema newer than this binary) is logged as one line and
 * ends the caller's work: retrying cannot fix it. The class comes from the SQLSTATE the server
 * sent and from how far the connection got (libpq's connection status), never from message text:
 * connections are polled by hand with verbose errors, which carry the server's SQLSTATE.
 *
 * Every session it returns has synchronous_commit on (a COMMIT that returns is durable, whatever
 * the server default) and idle_in_transaction_session_timeout set, so the claims of a stalled
 * ingester are freed by the server. The schema (sql/postgres_setup.sql, compiled in) has two parts,
 * each with its marker: the ledger, shared by every pipeline of the database (applied by
 * db_connect), and the seed pipeline's tables, user_activity and its dead letters (applied by
 * db_seed_ensure, when --table is the default). A part is run only when its marker is missing or
 * older, under an advisory lock so several starters do not race; a current part costs one query
 * and needs no privilege beyond reading the catalog. What a run changes in an existing database
 * (the script says it as NOTICEs) is logged at info, one line a change.
 *
 * db_check() is the one place that turns a PGresult into OK / RETRY / FATAL; its log line keeps
 * the server's primary message, SQLSTATE, detail= and hint= apart. db_sqlstate_row_refused()
 * names the SQLSTATEs by which the server refuses one row's data (the loader's fallback routes
 * such rows to the dead letters, row_bisect.c); a unique violation (23505) is apart from them.
 */
#include "db.h"

#include "clock.h"
#include "dlq_table.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "signals.h"
#include "table_name.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char schema_sql[];

#define SCHEMA_MARKER_PREFIX "sluice schema "
#define SCHEMA_COMMENT_SQL "COMMENT ON TABLE ingest_files IS '" SCHEMA_MARKER_PREFIX
#define SEED_MARKER_PREFIX "sluice seed "
#define SEED_COMMENT_SQL "COMMENT ON TABLE user_activity_errors IS '" SEED_MARKER_PREFIX
#define LEDGER_PART_START "-- sluice: the ledger."
#define CONNECT_TIMEOUT_S 10.0  /* one attempt, from socket to ready */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

static double max_wait_s;       /* written once before threads start */
static atomic_int gave_up_flag; /* set by whichever thread meets a permanent failure */

void db_set_max_wait(double seconds)
{
    max_wait_s = seconds > 0 ? seconds : 0;
}

bool db_gave_up(void)
{
    return atomic_load(&gave_up_flag) != 0;
}

/* Retrying cannot help: stop the process (every loop watches signals_stop) and exit 1. */
static void give_up(void)
{
    atomic_store(&gave_up_flag, 1);
    signals_request_stop();
}

const char *db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* Append text as one line: newlines and tabs become spaces, trailing blanks are dropped. */
static void append_one_line(struct buf *b, const char *text)
{
    size_t start = b->len;
    for (const char *p = text; p && *p; p++)
        buf_putc(b, (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p);
    while (b->len > start && b->data[b->len - 1] == ' ')
        b->len--;
}

static void append_field(struct buf *b, const char *key, const char *text)
{
    if (!text || !*text)
        return;
    buf_printf(b, " %s=", key);
    append_one_line(b, text);
}

/* Failures that pass: the connection or the server's state, not the request. */
static bool sqlstate_transient(const char *s)
{
    return strncmp(s, "08", 2) == 0 || strncmp(s, "40", 2) == 0 || strncmp(s, "53", 2) == 0 ||
           strncmp(s, "57P", 3) == 0 || strncmp(s, "58", 2) == 0 || strcmp(s, "25P03") == 0;
}

bool db_sqlstate_row_refused(const char *s)
{
    /* Classes where the server judged a value or a row: 21 cardinality (a trigger's subquery),
     * 22 data exception, 23 integrity (not 23505), 27 triggered data change, 2F SQL routine,
     * 38 external routine, 39 routine invocation (trigger protocol), 44 WITH CHECK OPTION,
     * P0 PL/pgSQL (RAISE, ASSERT), 09 triggered action, and 54000 (an index row or value
     * beyond a size limit). Not: 08/40/53/57/58 (transient, above), 42 (privileges, names),
     * 25, 55, 0A, XX: the statement or the server, never one row. */
    static const char *const classes[] = {"09", "21", "22", "23", "27",
                                          "2F", "38", "39", "44", "P0"};
    if (strlen(s) != 5 || strcmp(s, "23505") == 0)
        return false;
    if (strcmp(s, "54000") == 0)
        return true;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strncmp(s, classes[i], 2) == 0)
            return true;
    return false;
}

bool db_alive(PGconn *conn)
{
    return conn && PQstatus(conn) == CONNECTION_OK;
}

/* "message (SQLSTATE) detail=... hint=..." of a failed result, or of the connection when the
 * result has no message. */
static void format_result_error(struct buf *b, PGconn *conn, const PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary)
        append_one_line(b, primary);
    else
        append_one_line(b, conn ? PQerrorMessage(conn) : "no connection");
    const char *state = db_sqlstate(res);
    buf_printf(b, " (%s)", *state ? state : "no sqlstate");
    if (res) {
        append_field(b, "detail", PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        append_field(b, "hint", PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
    }
    buf_putc(b, '\0');
    b->len--;
}

enum db_status db_check(PGconn *conn, PGresult *res, ExecStatusType want, const char *what)
{
    if (res && PQresultStatus(res) == want)
        return DB_OK;
    const char *state = db_sqlstate(res);
    bool lost = PQstatus(conn) != CONNECTION_OK || sqlstate_transient(state);
    struct buf msg;
    buf_init(&msg);
    format_result_error(&msg, conn, res);
    if (lost) {
        log_warn("db", "%s: connection problem: %s", what, msg.data);
        metrics_set_db_up(false);
        metrics_note_error(what, msg.data);
        buf_release(&msg);
        return DB_RETRY;
    }
    /* A unique violation is expected data, handled by the caller (duplicate_key); so is a row
     * the server refuses (the fallback makes it a db_rejected dead letter): said, not alarmed. */
    bool dup = strcmp(state, "23505") == 0, refused = db_sqlstate_row_refused(state);
    if (!dup && !refused)
        metrics_note_error(what, msg.data);
    enum log_level level = dup ? LOG_LEVEL_DEBUG : refused ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR;
    log_at(level, "db", "%s failed: %s", what, msg.data);
    buf_release(&msg);
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

/* ---- conninfo ------------------------------------------------------------------------------ */

static bool is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

static bool ports_valid(const char *ports)
{
    /* a list for several hosts: "5432,5433"; an empty element means the default */
    for (const char *p = ports; *p;) {
        size_t n = strcspn(p, ",");
        size_t digits = strspn(p, "0123456789");
        if (digits != n || n > 5)
            return false;
        if (n && (strtol(p, NULL, 10) < 1 || strtol(p, NULL, 10) > 65535))
            return false;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

int db_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
    if (!conninfo || !*conninfo)
        return 0;
    if (!is_uri(conninfo) && !strchr(conninfo, '=')) {
        snprintf(err, errlen,
                 "the connection string (--db or DATABASE_URL) is neither key=value pairs nor a "
                 "postgresql:// URI; it is not shown, as it may hold a password");
        return -1;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr); /* its text may quote the password */
    if (!opts) {
        snprintf(err, errlen,
                 "cannot parse the connection string (--db or DATABASE_URL): check its quoting "
                 "and key names; it is not shown, as it may hold a password");
        return -1;
    }
    int rc = 0;
    static const char *const sslmodes[] = {"disable", "allow",     "prefer",
                                           "require", "verify-ca", "verify-full"};
    for (PQconninfoOption *o = opts; o->keyword && rc == 0; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "port") == 0 && !ports_valid(o->val)) {
            snprintf(err, errlen,
                     "invalid port '%.16s' in the connection string: expected 1 to 65535", o->val);
            rc = -1;
        } else if (strcmp(o->keyword, "sslmode") == 0) {
            bool known = false;
            for (size_t i = 0; i < sizeof(sslmodes) / sizeof(sslmodes[0]); i++)
                known = known || strcmp(o->val, sslmodes[i]) == 0;
            if (!known) {
                snprintf(err, errlen,
                         "invalid sslmode '%.16s' in the connection string: expected disable, "
                         "allow, prefer, require, verify-ca or verify-full",
                         o->val);
                rc = -1;
            }
        }
    }
    PQconninfoFree(opts);
    return rc;
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

/* ---- one connection attempt ---------------------------------------------------------------- */

struct failure {
    struct buf msg; /* one line: message (SQLSTATE) detail= hint= */
    bool permanent;
};

/* Split libpq's verbose connection error into the failure line: the SQLSTATE the server sent
 * (after "SEVERITY:  "), the message, and DETAIL/HINT lines as detail=/hint=. LOCATION lines
 * (source positions in the server) are dropped. Returns the SQLSTATE in state ("" when none). */
static void parse_connect_error(const char *text, struct buf *msg, char state[6])
{
    struct buf detail, hint;
    buf_init(&detail);
    buf_init(&hint);
    state[0] = '\0';
    for (const char *line = text; line && *line;) {
        size_t n = strcspn(line, "\n");
        char *one = xmalloc(n + 1);
        memcpy(one, line, n);
        one[n] = '\0';
        line += n;
        if (*line == '\n')
            line++;
        if (strncmp(one, "DETAIL:  ", 9) == 0) {
            append_one_line(&detail, one + 9);
        } else if (strncmp(one, "HINT:  ", 7) == 0) {
            append_one_line(&hint, one + 7);
        } else if (strncmp(one, "LOCATION:  ", 11) != 0 && *one) {
            /* "...failed: FATAL:  28P01: password authentication failed ..." */
            char *p = one;
            for (char *q = strstr(p, ":  "); q; q = strstr(q + 1, ":  ")) {
                char *code = q + 3;
                if (strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5 && code[5] == ':' &&
                    code[6] == ' ') {
                    memcpy(state, code, 5);
                    state[5] = '\0';
                    memmove(code, code + 7, strlen(code + 7) + 1);
                    break;
                }
            }
            if (msg->len)
                buf_putc(msg, ' ');
            append_one_line(msg, p);
        }
        free(one);
    }
    buf_printf(msg, " (%s)", *state ? state : "no sqlstate");
    if (detail.len) {
        buf_putc(&detail, '\0');
        append_field(msg, "detail", detail.data);
    }
    if (hint.len) {
        buf_putc(&hint, '\0');
        append_field(msg, "hint", hint.data);
    }
    buf_putc(msg, '\0');
    msg->len--;
    buf_release(&detail);
    buf_release(&hint);
}

/* A connection phase in which the server has answered and SSL/GSS is being negotiated: a failure
 * there is the negotiation's (SSL refused, certificate not trusted, wrong host name). */
static bool phase_is_encryption(ConnStatusType s)
{
    return s == CONNECTION_SSL_STARTUP || s == CONNECTION_GSS_STARTUP;
}

/* Start a connection and poll it until it is ready, fails, times out or *stop is set. On failure
 * f says why and whether it is permanent; the PGconn is returned either way (caller finishes). */
static PGconn *attempt_connect(const char *conninfo, const char *appname, const atomic_int *stop,
                               struct failure *f)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {conninfo, appname, NULL};
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn) {
        log_error("db", "out of memory");
        abort();
    }
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE); /* puts the server's SQLSTATE in the message */
    ConnStatusType phase = PQstatus(conn);
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    double deadline = clock_now() + CONNECT_TIMEOUT_S;
    bool timed_out = false;
    while (phase != CONNECTION_BAD && ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
        if (stop && *stop)
            break;
        if (clock_now() > deadline) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {PQsocket(conn), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        ps = PQconnectPoll(conn);
        if (PQstatus(conn) != CONNECTION_BAD)
            phase = PQstatus(conn);
    }
    if (PQstatus(conn) == CONNECTION_OK)
        return conn;

    char state[6];
    if (timed_out) {
        buf_printf(&f->msg, "no answer within %.0f s", CONNECT_TIMEOUT_S);
        state[0] = '\0';
    } else {
        parse_connect_error(PQerrorMessage(conn), &f->msg, state);
    }
    if (*state)
        f->permanent = !sqlstate_transient(state);
    else if (timed_out)
        f->permanent = false;
    else
        f->permanent = phase_is_encryption(phase) || PQconnectionNeedsPassword(conn);
    return conn;
}

/* ---- session and schema -------------------------------------------------------------------- */

/* The version a marker names ("sluice schema 3" -> 3), 0 when there is none. */
static long marker_version(const char *text, const char *prefix)
{
    if (!text || strncmp(text, prefix, strlen(prefix)) != 0)
        return 0;
    return strtol(text + strlen(prefix), NULL, 10);
}

/* The version this binary's sql/postgres_setup.sql writes into a marker. */
static long version_built_in(const char *comment_sql)
{
    const char *p = strstr(schema_sql, comment_sql);
    return p ? strtol(p + strlen(comment_sql), NULL, 10) : 0;
}

long db_schema_version(void)
{
    return version_built_in(SCHEMA_COMMENT_SQL);
}

bool db_schema_marker_current(const char *marker)
{
    return marker_version(marker, SCHEMA_MARKER_PREFIX) == db_schema_version();
}

/* The ledger part of the script: from its heading to the end. */
static const char *ledger_sql(void)
{
    const char *p = strstr(schema_sql, LEDGER_PART_START);
    return p ? p : schema_sql;
}

/* A NOTICE the script raised (SQLSTATE 00000: its own, not the server's "already exists,
 * skipping") is a change it made: logged at info. */
static void log_script_notice(void *arg, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (state && strcmp(state, "00000") == 0 && msg)
        log_info((const char *)arg, "%s", msg);
}

/* Run a part of the script with its notices logged (component names the log lines). */
static PGresult *exec_script(PGconn *conn, const char *sql, const char *component)
{
    PQnoticeReceiver old = PQsetNoticeReceiver(conn, log_script_notice, (void *)component);
    PQclear(PQexec(conn, "SET client_min_messages = notice"));
    PGresult *res = PQexec(conn, sql);
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    PQsetNoticeReceiver(conn, old, NULL);
    return res;
}

/* Record a failed result into f; the class comes from the SQLSTATE and the connection. */
static void fail_result(struct failure *f, PGconn *conn, const PGresult *res, const char *what,
                        const char *hint)
{
    buf_printf(&f->msg, "%s: ", what);
    format_result_error(&f->msg, conn, res);
    if (hint)
        buf_printf(&f->msg, " hint=%s", hint);
    f->permanent = PQstatus(conn) == CONNECTION_OK && !sqlstate_transient(db_sqlstate(res));
}

/* Run sql; 0, or -1 with f filled. */
static int session_exec(PGconn *conn, const char *sql, const char *what, const char *hint,
                        struct failure *f)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail_result(f, conn, res, what, hint);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* The schema's version in the database (0 = none or unmarked), or -1 with f filled. */
static long schema_version_current(PGconn *conn, struct failure *f)
{
    PGresult *res = PQexec(conn, "SELECT obj_description(to_regclass('ingest_files'), 'pg_class')");
    long v = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_result(f, conn, res, "reading the schema version", NULL);
    else
        v = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                ? marker_version(PQgetvalue(res, 0, 0), SCHEMA_MARKER_PREFIX)
                : 0;
    PQclear(res);
    return v;
}

/* Run a part of the script; 0, or -1 with f filled. */
static int session_script(PGconn *conn, const char *sql, const char *what, const char *hint,
                          struct failure *f)
{
    PGresult *res = exec_script(conn, sql, "db");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fail_result(f, conn, res, what, hint);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static int setup_session(PGconn *conn, double lock_timeout_s, struct failure *f)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = %ld; "
             "SET client_min_messages = warning",
             (long)(lock_timeout_s * 1000));
    if (session_exec(conn, sql, "session settings", NULL, f) < 0)
        return -1;
    long want = version_built_in(SCHEMA_COMMENT_SQL);
    long have = schema_version_current(conn, f);
    if (have < 0)
        return -1;
    if (have == want)
        return 0; /* current: no DDL, no lock */
    if (have > want) {
        buf_printf(&f->msg,
                   "the schema in this database is version %ld, newer than this sluice "
                   "(version %ld) hint=upgrade sluice, or use a database of its version",
                   have, want);
        f->permanent = true;
        return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", DB_SCHEMA_LOCK_KEY);
    if (session_exec(conn, sql, "schema lock", NULL, f) < 0)
        return -1;
    have = schema_version_current(conn, f); /* another starter may have done it meanwhile */
    if (have < 0)
        return -1;
    if (have != want) {
        log_info("db", "creating or upgrading the ledger (schema version %ld to %ld)", have, want);
        const char *hint = "the schema is missing or older than this sluice and this role may "
                           "not create it: run 'sluice db setup' as the owner role (or have the "
                           "DBA run sql/postgres_setup.sql), or GRANT CREATE ON SCHEMA public to "
                           "this role";
        if (session_script(conn, ledger_sql(), "schema setup (sql/postgres_setup.sql)", hint, f) <
            0)
            return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", DB_SCHEMA_LOCK_KEY);
    return session_exec(conn, sql, "schema unlock", NULL, f);
}

PGconn *db_connect(const char *conninfo, const char *component, double lock_timeout_s,
                   const atomic_int *stop)
{
    char err[256];
    if (db_conninfo_check(conninfo, err, sizeof(err)) < 0) {
        log_error(component, "%s", err);
        give_up();
        return NULL;
    }
    if (db_gave_up()) { /* another thread met a permanent failure: do not repeat it */
        give_up();
        return NULL;
    }
    char appname[64];
    snprintf(appname, sizeof(appname), "sluice-%s", component);
    char *shown = db_redact(conninfo);
    long backoff_ms = BACKOFF_FIRST_MS;
    double t0 = clock_now();
    PGconn *result = NULL;
    struct failure f;
    buf_init(&f.msg);
    for (unsigned attempt = 1; !(stop && *stop); attempt++) {
        buf_reset(&f.msg);
        f.permanent = false;
        PGconn *conn = attempt_connect(conninfo, appname, stop, &f);
        const char *doing = "cannot connect to";
        if (PQstatus(conn) == CONNECTION_OK) {
            if (setup_session(conn, lock_timeout_s, &f) == 0) {
                log_info(component, "connected to PostgreSQL (%s)", shown);
                metrics_set_db_up(true);
                result = conn;
                break;
            }
            doing = "cannot use";
        }
        PQfinish(conn);
        metrics_set_db_up(false);
        metrics_note_error(component, f.msg.data);
        if (stop && *stop)
            break;
        if (f.permanent) {
            log_error(component, "%s PostgreSQL (%s): %s", doing, shown, f.msg.data);
            give_up();
            break;
        }
        double waited = clock_now() - t0;
        if (max_wait_s > 0 && waited >= max_wait_s) {
            log_error(component,
                      "giving up after %.1f s without PostgreSQL (%s), --max-wait %g: %s", waited,
                      shown, max_wait_s, f.msg.data);
            give_up();
            break;
        }
        long wait_ms = backoff_ms;
        if (max_wait_s > 0 && (max_wait_s - waited) * 1000 < (double)wait_ms)
            wait_ms = (long)((max_wait_s - waited) * 1000) + 1;
        log_warn(component, "%s PostgreSQL (%s), attempt %u, retrying in %ld ms: %s", doing, shown,
                 attempt, wait_ms, f.msg.data);
        metrics_watchdog_tick(); /* waiting for the server is alive, not stuck */
        clock_sleep((double)(wait_ms) / 1000, stop);
        metrics_watchdog_tick();
        backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
    }
    buf_release(&f.msg);
    free(shown);
    return result;
}

/* ---- the seed pipeline's tables ------------------------------------------------------------ */

/* The seed part's version in the database: 0 when user_activity is missing or the marker on
 * user_activity_errors is; -1 after logging. */
static long seed_version_current(PGconn *conn)
{
    PGresult *res = PQexec(
        conn, "SELECT to_regclass(format('%I.%I', current_schema(), 'user_activity')) IS NOT NULL, "
              "obj_description(to_regclass(format('%I.%I', current_schema(), "
              "'user_activity_errors')), 'pg_class')");
    long v = -1;
    if (db_check(conn, res, PGRES_TUPLES_OK, "reading the seed tables' version") == DB_OK)
        v = PQgetvalue(res, 0, 0)[0] == 't' && !PQgetisnull(res, 0, 1)
                ? marker_version(PQgetvalue(res, 0, 1), SEED_MARKER_PREFIX)
                : 0;
    PQclear(res);
    return v;
}

int db_seed_ensure(PGconn *conn)
{
    long want = version_built_in(SEED_COMMENT_SQL);
    long have = seed_version_current(conn);
    if (have < 0)
        return -1;
    if (have >= want)
        return 0; /* current (or made by a newer sluice, which keeps it compatible) */
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)", DB_SCHEMA_LOCK_KEY);
    if (db_exec(conn, sql, "schema lock") != DB_OK)
        return -1;
    int rc = 0;
    have = seed_version_current(conn); /* another starter may have done it meanwhile */
    if (have < 0) {
        rc = -1;
    } else if (have < want) {
        log_info("setup", "creating or upgrading the seed tables user_activity and "
                          "user_activity_errors (version %ld to %ld)",
                 have, want);
        const char *end = strstr(schema_sql, LEDGER_PART_START);
        size_t n = end ? (size_t)(end - schema_sql) : strlen(schema_sql);
        char *seed = xmalloc(n + 1);
        memcpy(seed, schema_sql, n);
        seed[n] = '\0';
        PGresult *res = exec_script(conn, seed, "setup");
        free(seed);
        /* one line on failure; the usual cause is a role that may not create or alter them */
        if (db_check(conn, res, PGRES_COMMAND_OK,
                     "making the seed tables current (sql/postgres_setup.sql; as the owner role: "
                     "'sluice db setup')") != DB_OK)
            rc = -1;
        PQclear(res);
    }
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", DB_SCHEMA_LOCK_KEY);
    if (db_exec(conn, sql, "schema unlock") != DB_OK)
        rc = -1;
    return rc;
}

/* ---- the tables one pipeline uses ---------------------------------------------------------- */

int db_tables_prepare(PGconn *conn, const char *table, const char *dlq_table, bool with_dlq,
                      struct db_tables *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(table, DB_SEED_TABLE) == 0 && db_seed_ensure(conn) < 0)
        return -1;
    char err[512];
    int found = table_name_resolve(conn, table, &out->target, err, sizeof(err));
    if (found <= 0) {
        if (found == 0)
            log_error("setup",
                      "%s: create it first (sluice makes only the seed table %s itself; for any "
                      "other it makes the dead-letter table and the ledger)",
                      err, DB_SEED_TABLE);
        else
            log_error("setup", "%s", err);
        return -1;
    }
    if (with_dlq && dlq_table && dlq_table_ensure(conn, out->target, dlq_table, &out->dlq) < 0) {
        db_tables_release(out);
        return -1;
    }
    return 0;
}

void db_tables_release(struct db_tables *t)
{
    free(t->target);
    free(t->dlq);
    t->target = t->dlq = NULL;
}
