/*
 * split.h - one large file loaded by several workers at once, as a chain of segments.
 *
 * The worker that owns the file offers it on the board; every worker then takes segments of it
 * in file order, each loaded and committed as its own batch (one transaction, as any batch).
 * The ledger stays a single committed offset per file: a segment advances it from its start to
 * its end by compare-and-set, after waiting for the transaction of the segment before it, so
 * progress is always a prefix of the file and a crash anywhere resumes exactly.
 */
#ifndef SLUICE_SPLIT_H
#define SLUICE_SPLIT_H

#include "filehash.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct split;

/* The splits being loaded, shared by the workers of one ingest run. */
struct split_board {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct split *head;
    const char *table;    /* the target table, as the ledger names it */
    size_t max_row_bytes; /* for the reader that finds the cuts */
    unsigned workers;     /* who may take segments */
};

void split_board_init(struct split_board *b, const char *table, size_t max_row_bytes,
                      unsigned workers);
void split_board_destroy(struct split_board *b);

/* One segment taken by a worker: load [off, end) of the file, starting at line `line`. */
struct split_job {
    struct split *sp;
    size_t seg;
    const char *name; /* the ledger's name of the file (owned by the split) */
    const char *hash;
    int fd;           /* the split's descriptor: read with pread only */
    struct stat st;
    uint64_t off, line, end; /* end is UINT64_MAX for the last segment: read to the end */
    bool wait;               /* a segment before it may be in flight: wait for wait_key */
    int64_t wait_key;
};

/* How a segment ended. */
enum split_outcome {
    SPLIT_COMMITTED, /* committed up to *end* (a segment may stop early: see split_done) */
    SPLIT_AGAIN,     /* rolled back because the segment before it had not committed */
    SPLIT_ABANDON,   /* the split cannot go on (the file moved on, is busy elsewhere, stop) */
};

/* Offer a file for splitting: its ledger name and hash, its open descriptor (still owned by
 * the caller, who keeps it open until split_close), its stat, where the ledger has it, and the
 * segment size. */
struct split *split_offer(struct split_board *b, const char *name, const char *hash, int fd,
                          const struct stat *st, uint64_t offset, uint64_t line,
                          uint64_t seg_bytes);

/* Take the next segment to load: of split `only` when given, else of any split. Finding a new
 * cut reads the file (under the board's lock). False when there is nothing to take now. */
bool split_take(struct split_board *b, struct split *only, struct split_job *job);

/* Hand a segment back. SPLIT_COMMITTED: committed from job->off up to reached (reached_line),
 * and at_end when that was the end of the file. */
void split_done(struct split_board *b, const struct split_job *job, enum split_outcome o,
                uint64_t reached, uint64_t reached_line);

/* Owner: wait until no segment of sp is being loaded and none can be taken (finished or
 * abandoned, or waiting for a segment another worker holds: then returns to let the owner take
 * it). Returns true when the split is over. */
bool split_wait(struct split_board *b, struct split *sp);

/* Owner: nothing more of sp is handed out (a stop); segments being loaded end as they do. */
void split_abandon(struct split_board *b, struct split *sp);

/* Owner: take sp off the board (no segment of it may be running) and free it. Returns whether
 * it was loaded to its end (false: abandoned; the file goes back to the ordinary path). */
bool split_close(struct split_board *b, struct split *sp);

#endif
