/*
 * row_bisect.h - careful mode: load rows in groups under savepoints and find, by bisection, exactly
 * the rows the server refuses, so that every other row loads in the same transaction.
 */
#ifndef SLUICE_ROW_BISECT_H
#define SLUICE_ROW_BISECT_H

#include "copy_sink.h"
#include "csv_reader.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One row the server refused on its own. Every pointer is valid only during the callback. */
struct row_bisect_refusal {
    size_t file_idx;       /* as given to row_bisect_add() */
    uint64_t line, offset; /* the row's first line and byte in its file */
    const char *raw;       /* the row as in the input, without its line terminator */
    size_t raw_len;
    const char *copy_line; /* the COPY text line that was refused, newline included */
    size_t copy_len;
    const char *key; /* its key as given to row_bisect_add(), or NULL */
    size_t key_len;
    bool duplicate;       /* 23505: its key is loaded already (a duplicate_key dead letter) */
    const char *sqlstate; /* the server's SQLSTATE */
    const char *column;   /* the server's PG_DIAG_COLUMN_NAME, or NULL when it names none */
    const char *constraint; /* the server's PG_DIAG_CONSTRAINT_NAME, or NULL */
    const char *message;  /* "SQLSTATE: message[: detail]", one line */
};

typedef void row_bisect_refused_fn(void *ctx, const struct row_bisect_refusal *r);

struct row_bisect;

/* Each refused row is handed to refused(ctx, ...), which makes it a dead letter. */
struct row_bisect *row_bisect_new(row_bisect_refused_fn *refused, void *ctx);
void row_bisect_free(struct row_bisect *rb);

/* Hold one row: its COPY text line (newline included), its key (any bytes the refusal callback
 * wants back for a duplicate; NULL for none) and where it came from. */
void row_bisect_add(struct row_bisect *rb, const char *copy_line, size_t copy_len, const char *key,
                    size_t key_len, const struct csv_row *row, size_t file_idx);
/* True when the held rows make a full group: time for row_bisect_flush(). */
bool row_bisect_full(const struct row_bisect *rb);
/* Load every held row inside the caller's open transaction (no COPY may be open) with copy_sql,
 * the COPY ... FROM STDIN their lines are written for (`what` names it in logs): a group that
 * the server takes is kept, one it refuses for a row's data is rolled back to its savepoint and
 * halved until the refused rows stand alone; each of those goes to the callback, the others are
 * loaded. The held rows are dropped whatever the answer. SINK_OK, or the first failure that is
 * not a row's (SINK_RETRY, SINK_FATAL): then the transaction must be rolled back. */
enum sink_result row_bisect_flush(struct row_bisect *rb, PGconn *conn, const char *copy_sql,
                                  const char *what);
/* Drop the held rows (a new attempt of the batch). */
void row_bisect_clear(struct row_bisect *rb);

#endif
