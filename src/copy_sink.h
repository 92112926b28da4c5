/*
 * copy_sink.h - the engine's statements and COPY streams on one libpq connection, each answered
 * OK / RETRY / DUPLICATE / FATAL so the caller can tell a lost connection from bad data.
 */
#ifndef SLUICE_COPY_SINK_H
#define SLUICE_COPY_SINK_H

#include "mem.h"

#include <libpq-fe.h>
#include <stdint.h>

enum sink_result {
    SINK_OK = 0,
    SINK_RETRY,     /* the connection is gone or the server restarts: reconnect, redo */
    SINK_DUPLICATE, /* a unique violation (23505): the caller resolves the duplicates */
    SINK_REJECTED,  /* the server refused a row's data (db_sqlstate_row_refused): the caller
                     * finds the row (row_bisect) */
    SINK_FATAL,     /* the statement failed for another reason (logged) */
    SINK_OUT_OF_TURN, /* a segment's ledger advance came before the segment ahead of it */
};

/* Run a statement with text parameters. On SINK_OK with out != NULL, *out is the result and the
 * caller clears it; on any other answer nothing is left to clear. */
enum sink_result sink_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                            ExecStatusType want, const char *what, PGresult **out);
/* A statement without parameters or result rows. */
enum sink_result sink_exec(PGconn *conn, const char *sql, const char *what);

/* PostgreSQL array literals for unnest()-style batched statements: add elements, then end. */
void pgarray_add(struct buf *b, const char *s);
void pgarray_add_u64(struct buf *b, uint64_t v);
const char *pgarray_end(struct buf *b); /* the literal, NUL-terminated, inside b */

/* Start COPY ... FROM STDIN. */
enum sink_result copy_sink_begin(PGconn *conn, const char *sql, const char *what);
/* Send what data holds (any size: sent in pieces that fit one CopyData message), then empty it. */
enum sink_result copy_sink_send(PGconn *conn, struct buf *data);
/* Send the rest of data, end the COPY and check that the server stored exactly `expect` rows. */
enum sink_result copy_sink_end(PGconn *conn, struct buf *data, uint64_t expect, const char *what);
/* copy_sink_end(), but a refusal of the data (SINK_DUPLICATE or SINK_REJECTED) is not logged:
 * its result is handed over in *refused, for the caller to read and PQclear. Any other answer
 * leaves *refused untouched. */
enum sink_result copy_sink_end_keep(PGconn *conn, struct buf *data, uint64_t expect,
                                    const char *what, PGresult **refused);
/* End a COPY that cannot be finished (a read error, a stop): the server fails it with `reason`,
 * and every result is drained, so the connection is ready for ROLLBACK. Safe on a dead one. */
void copy_sink_abort(PGconn *conn, const char *reason);

#endif
