/*
 * replay.h - `sluice replay`: dead letters re-read from their raw_line under their file's header,
 * re-checked against the current contract, and moved into the table when they now pass.
 */
#ifndef SLUICE_REPLAY_H
#define SLUICE_REPLAY_H

#include "contract.h"
#include "validate.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct replay_options {
    const struct contract *contract;
    const char *table; /* the target as the catalog names it: the ledger's key */
    const char *column_map;
    bool strict_columns;
    size_t max_row_bytes;
    /* which dead letters: NULL = any */
    const char *codes;     /* comma-separated error codes */
    const char *file;      /* source_file, exactly */
    const char *since;     /* ingestion_time >= since */
    const char *until;     /* ingestion_time < until */
    const char *where_raw; /* raw_line LIKE this */
    bool dry_run;          /* every batch rolled back; nothing is inserted */
    long batch_rows;       /* dead letters per transaction */
};

/* Why a dead letter was not re-checked at all. */
enum replay_refusal {
    REPLAY_REFUSED_QUARANTINED, /* bad_header, bad_file: the file was refused whole */
    REPLAY_REFUSED_CUT,         /* row_too_long: raw_line holds only the row's start */
    REPLAY_REFUSED_NO_HEADER,   /* its file was loaded before the ledger kept headers */
    REPLAY_REFUSED_AMBIGUOUS,   /* files of that name were loaded with different headers */
    REPLAY_REFUSED_COUNT
};

struct replay_counts {
    uint64_t selected;
    uint64_t moved;                         /* into the table (dry run: would be) */
    uint64_t moved_from[REJECT_CODE_COUNT]; /* ... by the code they had */
    uint64_t moved_other;                   /* ... with a code this sluice does not know */
    uint64_t updated;                       /* ... replacing a stored row (update mode) */
    uint64_t skipped; /* left the dead letters without going in (--on-conflict skip, update) */
    uint64_t failing; /* still dead letters, re-checked */
    uint64_t failing_as[REJECT_CODE_COUNT]; /* ... by their new code */
    uint64_t refused[REPLAY_REFUSED_COUNT];
    uint64_t batches;
};

/* Replay every selected dead letter in error_id order, one transaction per batch of
 * o->batch_rows: the rows that now pass are inserted into the table and deleted from the
 * dead-letter table, the others get their new verdict, replay_count + 1 and last_replayed_at.
 * The selected rows are locked (FOR UPDATE SKIP LOCKED), so two replays never take the same
 * row. 0, or -1 after logging a database failure (the open batch rolls back). Stops between
 * batches when *stop is set. */
int replay_run(PGconn *conn, const struct replay_options *o, struct replay_counts *c,
               const atomic_int *stop);

/* The words for a refusal, for the summary. */
const char *replay_refusal_text(enum replay_refusal r);

#endif
