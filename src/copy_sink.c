/*
 * copy_sink.c - statements and COPY streams for the ingest engine, done the way psql does them.
 *
 * A COPY is begun (PGRES_COPY_IN checked), fed in pieces of at most COPY_PIECE_BYTES per
 * PQputCopyData call, ended with PQputCopyEnd, and its results drained until PQgetResult
 * returns NULL; the row count the server reports must equal what was sent, or the batch fails.
 * A COPY that cannot be finished is ended explicitly with a reason (PQputCopyEnd(conn, msg)),
 * never left for the next statement to trip over. Every answer is classified through
 * db_check(): lost connection -> SINK_RETRY, unique violation -> SINK_DUPLICATE (expected data,
 * the engine resolves it), a row's data refused by the server (db_sqlstate_row_refused) ->
 * SINK_REJECTED (the engine finds the row), anything else -> SINK_FATAL. A caller that finds
 * refused rows itself takes the server's error result back instead of a log line
 * (copy_sink_end_keep). Nothing here decides what to retry.
 */
#include "copy_sink.h"

#include "db.h"
#include "fault.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One CopyData message at most; keeps every size handed to libpq far below INT_MAX. */
#define COPY_PIECE_BYTES ((size_t)64 * 1024 * 1024)

static enum sink_result classify(PGconn *conn, const PGresult *res, ExecStatusType want,
                                 const char *what)
{
    enum db_status st = db_check(conn, (PGresult *)res, want, what);
    if (st == DB_OK)
        return SINK_OK;
    if (st == DB_RETRY)
        return SINK_RETRY;
    const char *state = db_sqlstate(res);
    if (strcmp(state, "23505") == 0)
        return SINK_DUPLICATE;
    return db_sqlstate_row_refused(state) ? SINK_REJECTED : SINK_FATAL;
}

/* A failed result the caller of copy_sink_end_keep() takes back, unlogged: a row's refusal. */
static bool refusal(const PGresult *res)
{
    if (!res || PQresultStatus(res) != PGRES_FATAL_ERROR)
        return false;
    const char *state = db_sqlstate(res);
    return strcmp(state, "23505") == 0 || db_sqlstate_row_refused(state);
}

enum sink_result sink_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                            ExecStatusType want, const char *what, PGresult **out)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    enum sink_result r = classify(conn, res, want, what);
    if (r == SINK_OK && out)
        *out = res;
    else
        PQclear(res);
    return r;
}

enum sink_result sink_exec(PGconn *conn, const char *sql, const char *what)
{
    return sink_query(conn, sql, 0, NULL, PGRES_COMMAND_OK, what, NULL);
}

void pgarray_add(struct buf *b, const char *s)
{
    buf_putc(b, b->len == 0 ? '{' : ',');
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

void pgarray_add_u64(struct buf *b, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    pgarray_add(b, tmp);
}

const char *pgarray_end(struct buf *b)
{
    if (b->len == 0)
        buf_putc(b, '{');
    buf_putc(b, '}');
    buf_putc(b, '\0');
    return b->data;
}

enum sink_result copy_sink_begin(PGconn *conn, const char *sql, const char *what)
{
    return sink_query(conn, sql, 0, NULL, PGRES_COPY_IN, what, NULL);
}

enum sink_result copy_sink_send(PGconn *conn, struct buf *data)
{
    for (size_t off = 0; off < data->len;) {
        size_t n = data->len - off < COPY_PIECE_BYTES ? data->len - off : COPY_PIECE_BYTES;
        if (PQputCopyData(conn, data->data + off, (int)n) != 1) {
            db_check(conn, NULL, PGRES_COPY_IN, "COPY data");
            return SINK_RETRY;
        }
        off += n;
    }
    if (data->len)
        fault_point("mid-copy");
    buf_reset(data);
    return SINK_OK;
}

enum sink_result copy_sink_end(PGconn *conn, struct buf *data, uint64_t expect, const char *what)
{
    return copy_sink_end_keep(conn, data, expect, what, NULL);
}

enum sink_result copy_sink_end_keep(PGconn *conn, struct buf *data, uint64_t expect,
                                    const char *what, PGresult **refused)
{
    enum sink_result r = copy_sink_send(conn, data);
    if (r != SINK_OK) {
        copy_sink_abort(conn, "sluice could not send the data");
        return r;
    }
    if (PQputCopyEnd(conn, NULL) != 1) {
        db_check(conn, NULL, PGRES_COMMAND_OK, what);
        return SINK_RETRY;
    }
    PGresult *res;
    bool first = true;
    while ((res = PQgetResult(conn)) != NULL) {
        if (first && refused && refusal(res)) {
            r = strcmp(db_sqlstate(res), "23505") == 0 ? SINK_DUPLICATE : SINK_REJECTED;
            *refused = res;
            first = false;
            continue; /* the caller clears it */
        }
        if (first) {
            r = classify(conn, res, PGRES_COMMAND_OK, what);
            if (r == SINK_OK && strtoull(PQcmdTuples(res), NULL, 10) != expect) {
                log_error("copy", "%s: server stored %s rows, %llu were sent", what,
                          PQcmdTuples(res), (unsigned long long)expect);
                r = SINK_FATAL;
            }
            first = false;
        }
        PQclear(res);
    }
    if (first) { /* no result at all: the connection went away */
        db_check(conn, NULL, PGRES_COMMAND_OK, what);
        r = SINK_RETRY;
    }
    return r;
}

void copy_sink_abort(PGconn *conn, const char *reason)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQputCopyEnd(conn, reason) != 1)
        return;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
}
