/*
 * split.c - the board of large files being loaded as segments by several workers.
 *
 * A split is a file cut, as it is read, into segments of about seg_bytes that end at row
 * boundaries: the cut is found by reading the file with the same CSV reader the loader uses,
 * from the previous cut (a quote keeps its meaning across the cut, and line numbers stay exact).
 * Segments are handed out in file order; each is loaded and committed in its own transaction by
 * whichever worker took it, and moves the ledger's committed offset from its start to its end by
 * compare-and-set after the transaction of the segment before it has ended (ledger_wait_turn).
 * So the ledger only ever holds a prefix of the file, as with one worker.
 *
 * What the board promises: a segment is held by at most one worker; the first segment not yet
 * committed is never held back, so a split always moves or ends; a segment that came out of turn
 * waits until the one before it has committed; anything unexpected (the ledger moved by someone
 * else, the file busy elsewhere, a stop) abandons the split, and the owner hands the file back
 * to the ordinary path, which resumes from the ledger. Nothing here talks to the database.
 */
#include "split.h"

#include "csv_reader.h"
#include "ledger.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CUT_READ_BYTES ((size_t)256 * 1024)

enum seg_state { SEG_TODO, SEG_RUNNING, SEG_DONE };

struct seg {
    uint64_t off, line, end;
    enum seg_state state;
    bool blocked; /* came out of turn: waits for the segment before it to commit */
};

struct split {
    struct split *next;
    char *name, hash[FILEHASH_HEX_LEN + 1];
    int fd;
    struct stat st;
    uint64_t size, seg_bytes;
    uint64_t plan_off, plan_line; /* the rest not yet cut into segments starts here */
    struct seg *segs;
    size_t n, cap;
    unsigned running;
    bool abandoned;
};

void split_board_init(struct split_board *b, const char *table, size_t max_row_bytes,
                      unsigned workers)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->table = table;
    b->max_row_bytes = max_row_bytes;
    b->workers = workers ? workers : 1;
}

void split_board_destroy(struct split_board *b)
{
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

struct split *split_offer(struct split_board *b, const char *name, const char *hash, int fd,
                          const struct stat *st, uint64_t offset, uint64_t line,
                          uint64_t seg_bytes)
{
    struct split *sp = xcalloc(1, sizeof(*sp));
    sp->name = xstrdup(name);
    snprintf(sp->hash, sizeof(sp->hash), "%s", hash);
    sp->fd = fd;
    sp->st = *st;
    sp->size = (uint64_t)st->st_size;
    sp->seg_bytes = seg_bytes ? seg_bytes : 1;
    sp->plan_off = offset;
    sp->plan_line = line;
    pthread_mutex_lock(&b->mu);
    sp->next = b->head;
    b->head = sp;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return sp;
}

/* The end of the segment starting at the rest of sp: the first row end at least `want` bytes
 * on, or the end of the file (also when what would be left is under a quarter of that). `want`
 * is seg_bytes, but shrinks towards the end of the file (down to an eighth of it), so the last
 * segments are spread over the workers instead of leaving one loading while the others wait. */
static int find_cut(const struct split_board *b, struct split *sp, uint64_t *cut,
                    uint64_t *cut_line)
{
    struct csv_reader *r = csv_reader_new(b->max_row_bytes);
    char *chunk = xmalloc(CUT_READ_BYTES);
    csv_reader_reset(r, sp->plan_off, sp->plan_line);
    uint64_t pos = sp->plan_off;
    int rc = 0;
    uint64_t rest = sp->size - sp->plan_off, want = sp->seg_bytes;
    if (rest < want * b->workers)
        want = rest / b->workers > want / 8 ? rest / b->workers : want / 8;
    if (!want)
        want = 1;
    *cut = UINT64_MAX;
    for (;;) {
        struct csv_row row;
        enum csv_next n;
        while ((n = csv_reader_next(r, &row)) == CSV_ROW)
            if (row.end_offset - sp->plan_off >= want) {
                *cut = row.end_offset;
                *cut_line = row.next_line;
                break;
            }
        if (n == CSV_ROW || n == CSV_END)
            break;
        ssize_t got = pread(sp->fd, chunk, CUT_READ_BYTES, (off_t)pos);
        if (got < 0) {
            log_warn("split", "cannot read '%s': %s", sp->name,
                     strerror_r(errno, (char[128]){0}, 128));
            rc = -1;
            break;
        }
        if (got == 0)
            csv_reader_finish(r);
        else
            csv_reader_feed(r, chunk, (size_t)got);
        pos += (uint64_t)got;
    }
    free(chunk);
    csv_reader_free(r);
    if (*cut != UINT64_MAX && sp->size - *cut < want / 4)
        *cut = UINT64_MAX;
    return rc;
}

/* The segment of sp a worker may take now, or -1: the first one not committed nor held, when
 * it is not waiting for its turn; a new one cut from the rest when all are committed or held. */
static long takeable(const struct split_board *b, struct split *sp, bool plan)
{
    if (sp->abandoned)
        return -1;
    for (size_t k = 0; k < sp->n; k++)
        if (sp->segs[k].state == SEG_TODO)
            return sp->segs[k].blocked ? -1 : (long)k;
    if (sp->plan_off >= sp->size)
        return -1;
    if (!plan)
        return (long)sp->n;
    uint64_t cut, cut_line = 0;
    if (find_cut(b, sp, &cut, &cut_line) < 0) {
        sp->abandoned = true; /* the ordinary path meets the read error and quarantines */
        return -1;
    }
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        sp->segs = xrealloc(sp->segs, sp->cap * sizeof(*sp->segs));
    }
    sp->segs[sp->n] = (struct seg){.off = sp->plan_off, .line = sp->plan_line, .end = cut};
    sp->plan_off = cut == UINT64_MAX ? sp->size : cut;
    sp->plan_line = cut_line;
    return (long)sp->n++;
}

bool split_take(struct split_board *b, struct split *only, struct split_job *job)
{
    pthread_mutex_lock(&b->mu);
    long k = -1;
    struct split *sp = only ? only : b->head;
    for (; sp; sp = only ? NULL : sp->next)
        if ((k = takeable(b, sp, true)) >= 0)
            break;
    if (k >= 0) {
        struct seg *s = &sp->segs[k];
        s->state = SEG_RUNNING;
        sp->running++;
        *job = (struct split_job){.sp = sp, .seg = (size_t)k, .name = sp->name, .hash = sp->hash,
                                  .fd = sp->fd, .st = sp->st, .off = s->off, .line = s->line,
                                  .end = s->end};
        if (k > 0 && sp->segs[k - 1].state != SEG_DONE) {
            job->wait = true;
            job->wait_key = ledger_segment_key(b->table, sp->name, sp->hash, sp->segs[k - 1].off);
        }
    }
    pthread_mutex_unlock(&b->mu);
    return k >= 0;
}

void split_done(struct split_board *b, const struct split_job *job, enum split_outcome o,
                uint64_t reached, uint64_t reached_line)
{
    pthread_mutex_lock(&b->mu);
    struct split *sp = job->sp;
    struct seg *s = &sp->segs[job->seg];
    bool ahead_done = job->seg == 0 || sp->segs[job->seg - 1].state == SEG_DONE;
    sp->running--;
    s->state = SEG_TODO;
    s->blocked = false;
    if (o == SPLIT_COMMITTED && reached >= s->end) {
        s->state = SEG_DONE;
        if (job->seg + 1 < sp->n)
            sp->segs[job->seg + 1].blocked = false;
    } else if (o == SPLIT_COMMITTED) {
        s->off = reached; /* stopped early (its dead letters filled the batch): the rest next */
        s->line = reached_line;
    } else if (o == SPLIT_AGAIN && !ahead_done) {
        s->blocked = true;
    } else {
        /* abandoned, or out of turn with nothing ahead of it: the ledger moved elsewhere */
        sp->abandoned = true;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

bool split_wait(struct split_board *b, struct split *sp)
{
    pthread_mutex_lock(&b->mu);
    while (sp->running > 0 && takeable(b, sp, false) < 0)
        pthread_cond_wait(&b->cv, &b->mu);
    bool over = sp->running == 0 && takeable(b, sp, false) < 0;
    pthread_mutex_unlock(&b->mu);
    return over;
}

void split_abandon(struct split_board *b, struct split *sp)
{
    pthread_mutex_lock(&b->mu);
    sp->abandoned = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

bool split_close(struct split_board *b, struct split *sp)
{
    pthread_mutex_lock(&b->mu);
    while (sp->running > 0)
        pthread_cond_wait(&b->cv, &b->mu);
    for (struct split **p = &b->head; *p; p = &(*p)->next)
        if (*p == sp) {
            *p = sp->next;
            break;
        }
    pthread_mutex_unlock(&b->mu);
    bool whole = !sp->abandoned && sp->plan_off >= sp->size;
    for (size_t k = 0; k < sp->n && whole; k++)
        whole = sp->segs[k].state == SEG_DONE;
    free(sp->segs);
    free(sp->name);
    free(sp);
    return whole;
}
