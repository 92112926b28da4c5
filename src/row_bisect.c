/*
 * row_bisect.c - careful mode: the fallback that makes loading total.
 *
 * A row can pass every check sluice makes in C and still be refused by the server: a CHECK
 * sluice cannot compile, a trigger that raises, a foreign key, a type it does not check. On the
 * direct path one such row fails the batch's whole COPY. The loader then redoes the batch in
 * careful mode, and the valid rows come here instead of into one COPY:
 *
 *   SAVEPOINT sluice_rows; COPY <group>          the group loads: kept (its savepoint is
 *                                                released by the next group's first statement)
 *   ... the server refuses it for a row's data (db_sqlstate_row_refused, or 23505):
 *   ROLLBACK TO sluice_rows; RELEASE; each half the same way, down to single rows
 *
 * What it promises: every row handed in is, once row_bisect_flush() returns SINK_OK, either
 * loaded (in a COPY the server took, inside the caller's transaction) or handed to the refusal
 * callback with the server's SQLSTATE, message, detail and column, alone: a row is only ever
 * refused by a COPY of that row alone. Nothing is committed here, so rows, dead letters and the
 * ledger still commit or vanish together. Any failure that is not a row's (the connection, the
 * server, a row count that does not match) is returned at once and the transaction is lost.
 * A half that is known to hold the refused row (its parent failed and its sibling loaded) is
 * split at once without trying it whole. Memory holds one group at most (COPY lines, raw rows,
 * file and line): at most GROUP_MAX_ROWS rows or GROUP_MAX_BYTES, whichever comes first (and at
 * least one row); the recursion is as deep as log2 of the group.
 *
 * Cost: a group that loads costs two round trips (the COPY's start, with the savepoints, and its
 * end) and a subtransaction; a group with one refused row costs about 1.5 log2(group) more small
 * COPYs and sends its rows about 2.5 times. So the group size follows
 * the refusal rate of the recent rows: 4096 rows while none are refused, about 256 at 1 in 1,000,
 * 32 at 1 in 20 or more (the square root rule of resize()). README has the measured figures.
 */
#include "row_bisect.h"

#include "db.h"
#include "fault.h"
#include "log.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

#define GROUP_MIN_ROWS 32
#define GROUP_MAX_ROWS 4096
#define GROUP_MAX_BYTES ((size_t)2 * 1024 * 1024)
/* Statements cost about STATEMENT_ROWS rows each; the best group for a refusal rate p is then
 * about sqrt(2.7 * STATEMENT_ROWS / p) rows (savepoint overhead against re-sent rows). */
#define STATEMENT_ROWS 15.0
#define RATE_WINDOW_ROWS 100000.0 /* the rate is measured over about this many recent rows */

struct held_row {
    size_t file_idx;
    uint64_t line, offset;
    size_t copy_off, copy_len; /* in lines */
    size_t raw_off, raw_len;   /* in raws */
    size_t key_off, key_len;   /* in keys; key_off SIZE_MAX: none */
};

struct row_bisect {
    const char *what; /* of the flush under way */
    row_bisect_refused_fn *refused;
    void *ctx;
    struct held_row *rows;
    size_t n, cap;
    struct buf lines, raws, keys;
    struct buf msg;
    struct buf start_sql, next_sql; /* SAVEPOINT + COPY; the same after releasing the last one */
    bool release;                   /* a savepoint of a group that loaded is still open */
    uint64_t nrefused;              /* rows refused since row_bisect_new() */
    size_t group_rows;              /* the current group size */
    double recent_rows, recent_refused; /* decayed counts, for the refusal rate */
};

/* The group size for the refusal rate seen lately: large while rows load, smaller as refusals
 * get frequent (each costs about 1.5 log2(group) small COPYs and re-sends its group about 2.5
 * times). */
static size_t resize(const struct row_bisect *rb)
{
    double p = rb->recent_refused / rb->recent_rows;
    size_t g = GROUP_MIN_ROWS;
    while (g < GROUP_MAX_ROWS && (double)g * (double)g * p < 2.7 * STATEMENT_ROWS)
        g *= 2;
    return g;
}

struct row_bisect *row_bisect_new(row_bisect_refused_fn *refused, void *ctx)
{
    struct row_bisect *rb = xcalloc(1, sizeof(*rb));
    rb->refused = refused;
    rb->ctx = ctx;
    buf_init(&rb->lines);
    buf_init(&rb->raws);
    buf_init(&rb->keys);
    buf_init(&rb->msg);
    buf_init(&rb->start_sql);
    buf_init(&rb->next_sql);
    rb->recent_rows = 1000; /* a prior of 1 refusal in 1,000 rows until rows are seen */
    rb->recent_refused = 1;
    rb->group_rows = resize(rb);
    return rb;
}

void row_bisect_free(struct row_bisect *rb)
{
    if (!rb)
        return;
    free(rb->rows);
    buf_release(&rb->start_sql);
    buf_release(&rb->next_sql);
    buf_release(&rb->lines);
    buf_release(&rb->raws);
    buf_release(&rb->keys);
    buf_release(&rb->msg);
    free(rb);
}

void row_bisect_add(struct row_bisect *rb, const char *copy_line, size_t copy_len, const char *key,
                    size_t key_len, const struct csv_row *row, size_t file_idx)
{
    if (rb->n == rb->cap) {
        rb->cap = rb->cap ? rb->cap * 2 : 64;
        rb->rows = xrealloc(rb->rows, rb->cap * sizeof(*rb->rows));
    }
    struct held_row *h = &rb->rows[rb->n++];
    h->file_idx = file_idx;
    h->line = row->line;
    h->offset = row->offset;
    h->copy_off = rb->lines.len;
    h->copy_len = copy_len;
    h->raw_off = rb->raws.len;
    h->raw_len = row->raw_len;
    h->key_off = key ? rb->keys.len : SIZE_MAX;
    h->key_len = key ? key_len : 0;
    if (key)
        buf_append(&rb->keys, key, key_len);
    buf_append(&rb->lines, copy_line, copy_len);
    buf_append(&rb->raws, row->raw, row->raw_len);
}

bool row_bisect_full(const struct row_bisect *rb)
{
    return rb->n >= rb->group_rows ||
           rb->lines.len + rb->raws.len + rb->keys.len >= GROUP_MAX_BYTES;
}

static void drop_rows(struct row_bisect *rb)
{
    rb->n = 0;
    buf_reset(&rb->lines);
    buf_reset(&rb->raws);
    buf_reset(&rb->keys);
}

void row_bisect_clear(struct row_bisect *rb)
{
    drop_rows(rb);
    rb->release = false; /* a new transaction: no savepoint of ours is open */
}

/* Back to the state before the group's SAVEPOINT, the savepoint itself gone. One round trip
 * (the simple protocol runs both statements). */
static enum sink_result undo(PGconn *conn)
{
    PGresult *res =
        PQexec(conn, "ROLLBACK TO SAVEPOINT sluice_rows; RELEASE SAVEPOINT sluice_rows");
    enum db_status st = db_check(conn, res, PGRES_COMMAND_OK, "undo a refused group");
    PQclear(res);
    return st == DB_OK ? SINK_OK : st == DB_RETRY ? SINK_RETRY : SINK_FATAL;
}

/* Append text on one line (line breaks and tabs become spaces). */
static void put_one_line(struct buf *b, const char *text)
{
    for (const char *p = text; *p; p++)
        buf_putc(b, (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p);
}

/* Row i, refused alone with res: to the callback. */
static void report(struct row_bisect *rb, size_t i, const PGresult *res)
{
    const struct held_row *h = &rb->rows[i];
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    state = state ? state : "";
    buf_reset(&rb->msg);
    buf_printf(&rb->msg, "%s: ", state);
    put_one_line(&rb->msg, primary ? primary : "refused by the server");
    if (detail && *detail) {
        buf_append(&rb->msg, ": ", 2);
        put_one_line(&rb->msg, detail);
    }
    buf_putc(&rb->msg, '\0');
    struct row_bisect_refusal r = {
        .file_idx = h->file_idx,
        .line = h->line,
        .offset = h->offset,
        .raw = rb->raws.data + h->raw_off,
        .raw_len = h->raw_len,
        .copy_line = rb->lines.data + h->copy_off,
        .copy_len = h->copy_len,
        .key = h->key_off == SIZE_MAX ? NULL : rb->keys.data + h->key_off,
        .key_len = h->key_len,
        .duplicate = strcmp(state, "23505") == 0,
        .constraint = constraint,
        .sqlstate = state,
        .column = column && *column ? column : NULL,
        .message = rb->msg.data,
    };
    rb->nrefused++;
    log_debug("ingest", "line %llu refused by the server: %s", (unsigned long long)h->line,
              rb->msg.data);
    rb->refused(rb->ctx, &r);
    fault_point("mid-bisect");
}

static enum sink_result load_range(struct row_bisect *rb, PGconn *conn, size_t lo, size_t hi,
                                   bool known_bad);

/* Rows [lo, hi) hold a refused row: each half on its own. */
static enum sink_result split(struct row_bisect *rb, PGconn *conn, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    uint64_t before = rb->nrefused;
    enum sink_result r = load_range(rb, conn, lo, mid, false);
    if (r != SINK_OK)
        return r;
    /* The left half loaded whole: the refused row is on the right, no need to try it whole. */
    return load_range(rb, conn, mid, hi, rb->nrefused == before);
}

/* Load rows [lo, hi) under a savepoint, finding the refused ones. */
static enum sink_result load_range(struct row_bisect *rb, PGconn *conn, size_t lo, size_t hi,
                                   bool known_bad)
{
    if (known_bad && hi - lo > 1)
        return split(rb, conn, lo, hi);
    /* One round trip: the simple protocol runs the savepoint statements, then starts the COPY. */
    PGresult *res = PQexec(conn, rb->release ? rb->next_sql.data : rb->start_sql.data);
    enum db_status st = db_check(conn, res, PGRES_COPY_IN, rb->what);
    PQclear(res);
    if (st != DB_OK)
        return st == DB_RETRY ? SINK_RETRY : SINK_FATAL;
    rb->release = false;
    enum sink_result r;
    const struct held_row *first = &rb->rows[lo], *last = &rb->rows[hi - 1];
    /* A view of the group's lines: copy_sink only reads it (and empties the view). */
    struct buf view = {
        .data = rb->lines.data + first->copy_off,
        .len = last->copy_off + last->copy_len - first->copy_off,
    };
    view.cap = view.len;
    PGresult *refusal = NULL;
    r = copy_sink_end_keep(conn, &view, hi - lo, rb->what, &refusal);
    if (r == SINK_OK) {
        rb->release = true;
        return SINK_OK;
    }
    if (!refusal)
        return r;
    r = undo(conn);
    if (r == SINK_OK) {
        if (hi - lo == 1)
            report(rb, lo, refusal);
        else
            r = split(rb, conn, lo, hi);
    }
    PQclear(refusal);
    return r;
}

enum sink_result row_bisect_flush(struct row_bisect *rb, PGconn *conn, const char *copy_sql,
                                  const char *what)
{
    rb->what = what;
    buf_reset(&rb->start_sql);
    buf_printf(&rb->start_sql, "SAVEPOINT sluice_rows; %s", copy_sql);
    buf_reset(&rb->next_sql);
    buf_printf(&rb->next_sql, "RELEASE SAVEPOINT sluice_rows; SAVEPOINT sluice_rows; %s", copy_sql);
    uint64_t before = rb->nrefused;
    enum sink_result r = rb->n ? load_range(rb, conn, 0, rb->n, false) : SINK_OK;
    rb->recent_rows += (double)rb->n;
    rb->recent_refused += (double)(rb->nrefused - before);
    if (rb->recent_rows > RATE_WINDOW_ROWS) {
        rb->recent_rows /= 2;
        rb->recent_refused /= 2;
    }
    rb->group_rows = resize(rb);
    drop_rows(rb);
    return r;
}
