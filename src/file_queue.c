/*
 * file_queue.c - discovery into a bounded queue.
 *
 * The watcher reports names; this module keeps what one worker knows about them (file_table)
 * and the FIFO of files waiting to be loaded. Memory does not grow with the size of the folder:
 * the queue holds at most FILE_QUEUE_LIMIT files, the watcher is asked for no more names than
 * fit (a listing pages through the folder over several polls), and finished files are
 * remembered only up to FILE_QUEUE_REMEMBER entries. What is not remembered costs a re-check
 * (hash and ledger lookup) when seen again, never a wrong load: the ledger is the authority.
 *
 * A finished file is remembered with its identity (device, inode, size, mtime), so a rescan
 * skips it with one fstatat; a file whose identity changed is queued again.
 */
#include "file_queue.h"

#include "clock.h"

#include "mem.h"
#include "watch.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct file_queue {
    struct watch *watch;
    struct file_table *files;
    int dirfd;
    struct file_entry **q; /* FIFO: q[head .. head+len) */
    size_t head, len, cap;
    unsigned gen; /* the listing in progress */
    struct watch_names names;
};

struct file_queue *file_queue_new(const char *dir, int dirfd, double rescan_s, unsigned part,
                                  unsigned nparts)
{
    struct watch *w = watch_new(dir, rescan_s);
    if (!w)
        return NULL;
    watch_set_partition(w, part, nparts);
    struct file_queue *q = xcalloc(1, sizeof(*q));
    q->watch = w;
    q->files = file_table_new();
    q->dirfd = dirfd;
    return q;
}

void file_queue_free(struct file_queue *q)
{
    if (!q)
        return;
    watch_names_release(&q->names);
    watch_free(q->watch);
    file_table_free(q->files);
    free(q->q);
    free(q);
}

static void make_room(struct file_queue *q, size_t need)
{
    if (q->head > 0 && q->head + q->len + need > q->cap) {
        memmove(q->q, q->q + q->head, q->len * sizeof(*q->q));
        q->head = 0;
    }
    if (q->len + need > q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        while (q->len + need > q->cap)
            q->cap *= 2;
        q->q = xrealloc(q->q, q->cap * sizeof(*q->q));
    }
}

void file_queue_push_back(struct file_queue *q, struct file_entry *e)
{
    make_room(q, 1);
    q->q[q->head + q->len++] = e;
    e->queued = true;
}

void file_queue_push_front(struct file_queue *q, struct file_entry *e)
{
    if (q->head == 0) {
        make_room(q, 1);
        memmove(q->q + 1, q->q, q->len * sizeof(*q->q));
        q->head = 1;
    }
    q->q[--q->head] = e;
    q->len++;
    e->queued = true;
}

struct file_entry *file_queue_pop(struct file_queue *q)
{
    if (!q->len)
        return NULL;
    struct file_entry *e = q->q[q->head++];
    q->len--;
    e->queued = false;
    return e;
}

size_t file_queue_len(const struct file_queue *q)
{
    return q->len;
}

void file_queue_pending(const struct file_queue *q, uint64_t *files, uint64_t *bytes,
                        double *oldest_mtime)
{
    *files = q->len;
    *bytes = 0;
    *oldest_mtime = 0;
    for (size_t i = 0; i < q->len; i++) {
        struct stat st;
        if (fstatat(q->dirfd, q->q[q->head + i]->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        *bytes += (uint64_t)st.st_size;
        double mt = clock_seconds(&st.st_mtim);
        if (*oldest_mtime == 0 || mt < *oldest_mtime)
            *oldest_mtime = mt;
    }
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

bool file_queue_unchanged(const struct file_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime_ns == mtime_ns(st);
}

void file_queue_finish(struct file_entry *e, const struct stat *st)
{
    e->finished = true;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime_ns = mtime_ns(st);
}

void file_queue_forget(struct file_entry *e)
{
    e->finished = true; /* forgotten at the next listing that lacks it */
    e->dev = 0;
}

void file_queue_look_again(struct file_queue *q, struct file_entry *e, double seconds)
{
    file_queue_forget(e); /* the next listing queues it again */
    watch_rescan_within(q->watch, seconds);
}

void file_queue_request_rescan(struct file_queue *q)
{
    watch_request_rescan(q->watch);
}

bool file_queue_listing(const struct file_queue *q)
{
    return watch_listing(q->watch);
}

int file_queue_poll(struct file_queue *q, int timeout_ms)
{
    if (file_table_count(q->files) > FILE_QUEUE_REMEMBER)
        file_table_forget_finished(q->files);
    size_t room = q->len < FILE_QUEUE_LIMIT ? FILE_QUEUE_LIMIT - q->len : 0;
    if (!room)
        return 0; /* full: the watcher keeps its place, events make a listing due */
    q->names.limit = room;
    if (watch_poll(q->watch, q->len ? 0 : timeout_ms, &q->names) < 0) {
        watch_names_clear(&q->names);
        return -1;
    }
    if (q->names.listing_began)
        q->gen++;
    int added = 0;
    for (size_t i = 0; i < q->names.count; i++) {
        struct file_entry *e = file_table_get(q->files, q->names.names[i], true);
        e->seen = q->gen;
        if (e->queued)
            continue;
        if (e->finished) {
            /* A finished file that has not changed is not read again. */
            struct stat st;
            if (fstatat(q->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(st.st_mode) && file_queue_unchanged(e, &st))
                continue;
            e->finished = false;
        }
        file_queue_push_back(q, e);
        added++;
    }
    if (q->names.full_scan)
        file_table_prune(q->files, q->gen);
    watch_names_clear(&q->names);
    return added;
}
