/*
 * batch.h - the batch planner: which files go into one transaction, where a file is cut, and
 * what becomes of each file once the transaction has committed. No I/O and no database here,
 * so every rule is unit-tested on its own.
 */
#ifndef SLUICE_BATCH_H
#define SLUICE_BATCH_H

#include "file_table.h"
#include "ledger.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define BATCH_MAX_FILES 2000
#define BATCH_REJECT_CAP_BYTES ((size_t)8 * 1024 * 1024) /* dead-letter bytes that close a batch */

enum batch_action {
    BATCH_LOAD,       /* claimed, being loaded */
    BATCH_QUARANTINE, /* claimed; the file is unusable and goes to the error folder */
    BATCH_SKIP_DONE,  /* the ledger says it is finished already */
    BATCH_SKIP_BUSY,  /* another ingester holds it */
    BATCH_DEFER,      /* claimed, but the batch filled up before its turn */
};

struct batch_file {
    struct file_entry *e;
    int fd;
    struct stat st;
    struct ledger_file lf; /* identity, and progress as the ledger has it */
    enum batch_action action;
    uint64_t end_offset, end_line; /* progress after this batch */
    uint64_t sent;                 /* valid rows sent to COPY */
    uint64_t rejected;             /* dead letters written */
    uint64_t duplicates;           /* valid rows that turned out to be duplicates (staging) */
    uint64_t skipped;              /* --on-conflict skip: repeats dropped before COPY (not sent) */
    uint64_t dropped;              /* sent, then not written: skipped, collapsed or declined */
    uint64_t updated;              /* sent, and replaced a stored row (--on-conflict update) */
    bool at_eof;
    uint64_t seg_end; /* a segment of a split file (lf.segment): it ends here, else 0 */
    size_t header_at; /* the loader: 1 + where this attempt put the header line, or 0 */
    char *quarantine_why; /* heap: the file is refused whole, with this reason, else NULL */
};

struct batch {
    struct batch_file *files;
    size_t n, cap;
    struct ledger_file **lf; /* &files[i].lf, for the ledger calls */
    uint64_t planned_bytes;  /* size of the files planned in */
    uint64_t in_bytes;       /* input bytes taken by the files loaded so far */
    uint64_t limit_bytes;    /* --batch-bytes */
    size_t max_files;        /* BATCH_MAX_FILES, or fewer when descriptors are scarce */
    bool poisoned; /* a file failed on its own during the attempt: redo without it */
};

void batch_init(struct batch *b, uint64_t limit_bytes, size_t max_files);
void batch_release(struct batch *b);

/* May another file be planned in? (Files are planned whole, by size, up to the limit.) */
bool batch_wants_more(const struct batch *b);
/* A fresh slot for the next file (fd -1); batch_plan_keep() keeps it, else it is reused. */
struct batch_file *batch_slot(struct batch *b);
void batch_plan_keep(struct batch *b);

/* The file cannot be loaded, for a reason of its own (a read error, an unreadable header on
 * resume): it is quarantined with that reason when the batch is redone, and its neighbours load. */
void batch_poison(struct batch *b, struct batch_file *bf, const char *why);

/* Before each attempt of the transaction: counters back to zero, progress to the ledger's. */
void batch_start_attempt(struct batch *b);

/* Is the batch full at this row boundary of bf? A file is cut only when it alone fills a batch
 * (a large file, committed in chunks) or the batch has grown to twice its limit; the dead
 * letters' bytes close it too. A segment (split.c) is cut at its end, or by the dead letters. */
bool batch_full(const struct batch *b, const struct batch_file *bf, size_t reject_bytes);
/* bf stopped before its end: the files planned after it wait for the next batch. */
void batch_defer_rest(struct batch *b, const struct batch_file *bf);

/* Fill each file's ledger advance from this attempt's results. */
void batch_to_ledger(struct batch *b);

/* What happens to a file after COMMIT. */
enum batch_fate {
    BATCH_FATE_NONE,       /* nothing: it is finished and stays where it is */
    BATCH_FATE_AGAIN_NOW,  /* more to load (next chunk), or deferred: front of the queue */
    BATCH_FATE_AGAIN_LATER, /* busy elsewhere: back of the queue */
    BATCH_FATE_TO_ERRORS,  /* quarantined: move it to the error folder */
};
enum batch_fate batch_fate(const struct batch_file *bf);

/* Rows loaded (inserted) and rejected (duplicates counted as rejected) by the batch; rows skipped
 * or updated (--on-conflict) are in neither. */
void batch_counts(const struct batch *b, uint64_t *loaded, uint64_t *rejected);

void batch_close_files(struct batch *b);

#endif
