/*
 * loader.h - one batch, one transaction: claim the files, stream their valid rows into the
 * target table and their dead letters into its dead-letter table, advance the ledger, commit.
 */
#ifndef SLUICE_LOADER_H
#define SLUICE_LOADER_H

#include "batch.h"
#include "copy_sink.h"
#include "table_def.h"

#include <libpq-fe.h>
#include <stdint.h>

/* What becomes of a row whose key is already loaded, or repeated in its batch (--on-conflict). */
enum loader_conflict {
    LOADER_CONFLICT_REJECT, /* a duplicate_key dead letter; the first one loaded stays */
    LOADER_CONFLICT_SKIP,   /* dropped and counted (rows_skipped); the first one loaded stays */
    LOADER_CONFLICT_UPDATE, /* replaces the stored row (rows_updated); the last one read wins */
};

/* "reject", "skip" or "update"; -1 for anything else. */
int loader_conflict_parse(const char *name);

struct loader_options {
    const struct table_def *table; /* the target's contract; outlives the loader */
    const char *dlq_sql_name;      /* the dead-letter table, quoted for SQL */
    struct pgtype_env env;
    const char *column_map;
    bool strict_columns;
    size_t max_row_bytes;
    double lock_timeout;
    enum loader_conflict on_conflict; /* skip and update need a table with a key */
    const char *update_if;            /* update mode's guard, an SQL expression, or NULL */
};

struct loader;

/* NULL after logging when the options do not fit the table (a bad --column-map). */
struct loader *loader_new(const struct loader_options *o);
void loader_free(struct loader *l);

/* Run the whole transaction for the planned batch on conn. SINK_OK: committed. Otherwise the
 * transaction is left to roll back (an open COPY already ended); SINK_DUPLICATE means a row
 * collided with one already loaded: call again, and the batch goes through staging;
 * SINK_REJECTED means the server refused a row's data: call loader_use_careful(), then again.
 * A file that fails on its own (a read error) poisons the batch (b->poisoned): call again, and
 * that file is quarantined while the others load. Files planned with quarantine_why are refused
 * whole, unread, with a bad_file dead letter. */
enum sink_result loader_run(struct loader *l, PGconn *conn, struct batch *b);

/* A row was refused by the server (SINK_REJECTED): redo in careful mode, where each group of
 * rows goes under a savepoint and the refused ones become db_rejected dead letters; the next
 * batches stay careful until CAREFUL_STICKY_BATCHES in a row have had no refusal. */
void loader_use_careful(struct loader *l);

/* True while batches go through the staging table (after a duplicate, for a while). */
bool loader_staging(const struct loader *l);
/* Start a batch: decides whether it goes through staging. */
void loader_begin_batch(struct loader *l);
/* A duplicate was found: redo through staging, and keep doing so for the next batches. */
void loader_use_staging(struct loader *l);

/* The upsert of update mode (heap string): insert the columns `cols` ("(a, b)", the key among
 * them) of every row of the FROM item `source` into table t, and where the key is there already
 * replace the stored row's other columns, only where `guard` holds when one is given. It returns
 * the key and whether the row was new (sluice_new). The caller counts with it; the start checks
 * EXPLAIN it to try a guard. */
char *loader_upsert_sql(const struct table_def *t, const char *cols, const char *source,
                        const char *guard);

#endif
