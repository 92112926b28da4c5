/*
 * batch.c - the batch planner and the bookkeeping of one batch's files.
 *
 * Files are planned whole, in queue order, until their sizes reach --batch-bytes or
 * BATCH_MAX_FILES; while loading, a file is cut at a row boundary only when it alone fills a
 * batch or the batch has doubled (cutting a small file would only cost a round trip, and would
 * turn a duplicate within the file into one across batches). After COMMIT each file's fate is
 * read off its action: finished, again now (next chunk, deferred), again later (busy), or to
 * the error folder. Everything here is plain arithmetic on the batch, tested without a
 * database.
 */
#include "batch.h"

#include "mem.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void batch_init(struct batch *b, uint64_t limit_bytes, size_t max_files)
{
    memset(b, 0, sizeof(*b));
    b->limit_bytes = limit_bytes;
    b->max_files = max_files && max_files < BATCH_MAX_FILES ? max_files : BATCH_MAX_FILES;
}

void batch_release(struct batch *b)
{
    batch_close_files(b);
    free(b->files);
    free(b->lf);
    memset(b, 0, sizeof(*b));
}

bool batch_wants_more(const struct batch *b)
{
    return b->n < b->max_files && b->planned_bytes < b->limit_bytes;
}

struct batch_file *batch_slot(struct batch *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->files = xrealloc(b->files, b->cap * sizeof(*b->files));
        b->lf = xrealloc(b->lf, b->cap * sizeof(*b->lf));
    }
    struct batch_file *bf = &b->files[b->n];
    memset(bf, 0, sizeof(*bf));
    bf->fd = -1;
    return bf;
}

void batch_plan_keep(struct batch *b)
{
    struct batch_file *bf = &b->files[b->n];
    b->planned_bytes += (uint64_t)bf->st.st_size;
    b->n++;
}

void batch_poison(struct batch *b, struct batch_file *bf, const char *why)
{
    free(bf->quarantine_why);
    bf->quarantine_why = xstrdup(why);
    b->poisoned = true;
}

void batch_start_attempt(struct batch *b)
{
    b->in_bytes = 0;
    b->poisoned = false;
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        b->lf[i] = &bf->lf; /* files may have moved when the array grew */
        bf->sent = bf->rejected = bf->duplicates = 0;
        bf->skipped = bf->dropped = bf->updated = 0;
        bf->at_eof = false;
        bf->header_at = 0;
        bf->lf.header_line = NULL;
        bf->action = BATCH_LOAD;
        bf->end_offset = bf->end_line = 0;
    }
}

bool batch_full(const struct batch *b, const struct batch_file *bf, size_t reject_bytes)
{
    uint64_t in_file = bf->end_offset - bf->lf.offset;
    if (bf->seg_end)
        return bf->end_offset >= bf->seg_end || reject_bytes >= BATCH_REJECT_CAP_BYTES;
    return in_file >= b->limit_bytes || b->in_bytes + in_file >= 2 * b->limit_bytes ||
           reject_bytes >= BATCH_REJECT_CAP_BYTES;
}

void batch_defer_rest(struct batch *b, const struct batch_file *bf)
{
    for (size_t j = (size_t)(bf - b->files) + 1; j < b->n; j++)
        if (b->files[j].action == BATCH_LOAD)
            b->files[j].action = BATCH_DEFER;
}

void batch_to_ledger(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        struct ledger_file *lf = &bf->lf;
        lf->new_status = NULL;
        if (bf->action != BATCH_LOAD && bf->action != BATCH_QUARANTINE)
            continue;
        lf->new_status = bf->action == BATCH_QUARANTINE ? "quarantined"
                         : bf->at_eof                   ? "done"
                                                        : "loading";
        lf->new_offset = bf->end_offset;
        lf->new_line = bf->end_line;
        lf->loaded = bf->sent - bf->duplicates - bf->dropped - bf->updated;
        lf->rejected = bf->rejected + bf->duplicates;
        lf->skipped = bf->skipped + bf->dropped;
        lf->updated = bf->updated;
    }
}

enum batch_fate batch_fate(const struct batch_file *bf)
{
    switch (bf->action) {
    case BATCH_SKIP_BUSY:
        return BATCH_FATE_AGAIN_LATER;
    case BATCH_DEFER:
        return BATCH_FATE_AGAIN_NOW;
    case BATCH_SKIP_DONE:
        return strcmp(bf->lf.status, "quarantined") == 0 ? BATCH_FATE_TO_ERRORS : BATCH_FATE_NONE;
    case BATCH_QUARANTINE:
        return BATCH_FATE_TO_ERRORS;
    case BATCH_LOAD:
        return bf->at_eof ? BATCH_FATE_NONE : BATCH_FATE_AGAIN_NOW;
    }
    return BATCH_FATE_NONE;
}

void batch_counts(const struct batch *b, uint64_t *loaded, uint64_t *rejected)
{
    *loaded = *rejected = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct batch_file *bf = &b->files[i];
        *loaded += bf->sent - bf->duplicates - bf->dropped - bf->updated;
        *rejected += b->files[i].rejected + b->files[i].duplicates;
    }
}

void batch_close_files(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        if (bf->fd >= 0)
            close(bf->fd);
        bf->fd = -1;
        free(bf->quarantine_why);
        bf->quarantine_why = NULL;
        free((char *)bf->lf.name);
        bf->lf.name = NULL;
    }
    b->n = 0;
    b->planned_bytes = 0;
}
