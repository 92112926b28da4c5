/*
 * watch.c - discovery of new files in the hot folder.
 *
 * inotify reports names as they are renamed in (IN_MOVED_TO, the generator's atomic hand-off)
 * or closed after writing (IN_CLOSE_WRITE, a writer that writes in place), so a file is picked
 * up within a poll. IN_CREATE is left out on purpose: it names a file the moment it is created,
 * before its writer has written it, and the ingester would hash and load a half file; a name
 * that appears by other means (a hard link, a symlink) is found by the next rescan.
 *
 * inotify alone is not enough: its queue can overflow (IN_Q_OVERFLOW, logged), and files present
 * before the watch began are not reported. So the first poll, every poll after an overflow, and
 * one poll every rescan interval list the whole folder; a listing that fails half-way is an
 * error, never passed off as complete. The watcher only reads names: it never opens, stats or
 * moves anything, and it reports only names that end in ".csv" and do not start with "." (so
 * "x.csv.tmp", "notes.txt" and ".x.csv" are never touched).
 */
#include "watch.h"

#include "clock.h"
#include "keyed_hash.h"
#include "log.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

struct watch {
    char *dir;
    int fd;
    double rescan_s;
    double next_rescan;
    bool rescan_due; /* start a listing as soon as none is in progress */
    DIR *listing;    /* the listing in progress, read a page per poll */
    unsigned part, nparts;
};

bool watch_name_matches(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".csv") == 0;
}

struct watch *watch_new(const char *input_dir, double rescan_seconds)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log_error("watch", "inotify_init1 failed: %m");
        return NULL;
    }
    if (inotify_add_watch(fd, input_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
        log_error("watch", "cannot watch '%s': %m", input_dir);
        close(fd);
        return NULL;
    }
    struct watch *w = xcalloc(1, sizeof(*w));
    w->dir = xstrdup(input_dir);
    w->fd = fd;
    w->rescan_s = rescan_seconds > 0 ? rescan_seconds : 10;
    w->rescan_due = true;
    return w;
}

void watch_free(struct watch *w)
{
    if (!w)
        return;
    if (w->listing)
        closedir(w->listing);
    close(w->fd);
    free(w->dir);
    free(w);
}

void watch_request_rescan(struct watch *w)
{
    w->rescan_due = true;
}

void watch_rescan_within(struct watch *w, double seconds)
{
    double at = clock_now() + seconds;
    if (w->next_rescan > at)
        w->next_rescan = at;
}

bool watch_listing(const struct watch *w)
{
    return w->listing != NULL || w->rescan_due;
}

void watch_set_partition(struct watch *w, unsigned part, unsigned nparts)
{
    w->part = part;
    w->nparts = nparts;
}

unsigned watch_name_part(const char *name, unsigned nparts)
{
    /* Keyed (crafted names cannot all land on one worker) and stable for the life of the
     * process, so a name always goes to the same worker. */
    return nparts > 1 ? (unsigned)(keyed_hash64(name, strlen(name)) % nparts) : 0;
}

/* A name this watcher reports: a candidate file, in this watcher's part of the folder. */
static bool wanted(const struct watch *w, const char *name)
{
    return watch_name_matches(name) &&
           (w->nparts <= 1 || watch_name_part(name, w->nparts) == w->part);
}

/* How many more names this call may append. */
static size_t room(const struct watch_names *out, size_t from)
{
    if (!out->limit)
        return SIZE_MAX;
    size_t used = out->count - from;
    return used >= out->limit ? 0 : out->limit - used;
}

static void names_add(struct watch_names *l, const char *name)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->names = xrealloc(l->names, l->cap * sizeof(*l->names));
    }
    l->names[l->count++] = xstrdup(name);
}

void watch_names_clear(struct watch_names *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    l->count = 0;
    l->full_scan = false;
}

void watch_names_release(struct watch_names *l)
{
    watch_names_clear(l);
    free(l->names);
    l->names = NULL;
    l->cap = 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the names appended since `from` and drop repeats. */
static void names_unique(struct watch_names *l, size_t from)
{
    size_t n = l->count - from;
    if (n < 2)
        return;
    qsort(l->names + from, n, sizeof(*l->names), cmp_names);
    size_t w = from + 1;
    for (size_t i = from + 1; i < l->count; i++) {
        if (strcmp(l->names[i], l->names[w - 1]) == 0)
            free(l->names[i]);
        else
            l->names[w++] = l->names[i];
    }
    l->count = w;
}

/* Read the listing in progress (starting one if due) until it ends or the call's room is used
 * up; the rest is read by the next calls. */
static int list_page(struct watch *w, struct watch_names *out, size_t from)
{
    if (!w->listing) {
        if (!w->rescan_due)
            return 0;
        w->listing = opendir(w->dir);
        if (!w->listing) {
            log_error("watch", "cannot list '%s': %m", w->dir);
            return -1;
        }
        w->rescan_due = false;
        out->listing_began = true;
    }
    while (room(out, from) > 0) {
        errno = 0;
        struct dirent *de = readdir(w->listing);
        if (de) {
            if (wanted(w, de->d_name))
                names_add(out, de->d_name);
            continue;
        }
        int e = errno;
        closedir(w->listing);
        w->listing = NULL;
        if (e) {
            /* A partial listing must not pass for a full one (the caller forgets what it
             * lacks): the names read so far stay, the listing is started again. */
            errno = e;
            log_error("watch", "cannot list '%s': %m", w->dir);
            w->rescan_due = true;
            return -1;
        }
        out->full_scan = true;
        w->next_rescan = clock_now() + w->rescan_s;
        break;
    }
    return 0;
}

/* Read every pending inotify event, until the queue is empty (EAGAIN).
 * 1 when the kernel queue overflowed, 0 otherwise, -1 on a read error. */
static int drain_events(struct watch *w, struct watch_names *out, size_t from)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    int overflow = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return overflow;
            if (errno == EINTR)
                continue;
            log_error("watch", "reading inotify events failed: %m");
            return -1;
        }
        if (n == 0)
            return overflow;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                overflow = 1;
            else if (ev->len && !(ev->mask & IN_ISDIR) && wanted(w, ev->name)) {
                if (room(out, from) > 0)
                    names_add(out, ev->name);
                else
                    w->rescan_due = true; /* no room: the next listing finds it */
            }
            p += sizeof(*ev) + ev->len;
        }
    }
}

int watch_poll(struct watch *w, int timeout_ms, struct watch_names *out)
{
    size_t from = out->count;
    out->full_scan = out->listing_began = false;
    double now = clock_now();
    if (!w->listing && !w->rescan_due && now >= w->next_rescan)
        w->rescan_due = true; /* (a listing in progress is the rescan) */
    if (!watch_listing(w) && timeout_ms != 0) {
        /* Never sleep past the next rescan; round up so we do not wake just before it. */
        double left_ms = ceil((w->next_rescan - now) * 1000);
        if (left_ms > INT_MAX)
            left_ms = INT_MAX;
        if (timeout_ms < 0 || timeout_ms > left_ms)
            timeout_ms = (int)left_ms;
        struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) < 0) {
            if (errno == EINTR)
                return 0; /* a signal: let the caller look at its stop flag */
            log_error("watch", "poll failed: %m");
            return -1;
        }
    }
    if (!w->listing && !w->rescan_due && clock_now() >= w->next_rescan)
        w->rescan_due = true; /* the wait ended at the rescan time */
    int drained = drain_events(w, out, from);
    if (drained < 0)
        return -1;
    if (drained > 0) {
        log_warn("watch", "inotify queue overflowed; rescanning input folder '%s'", w->dir);
        w->rescan_due = true;
    }
    int rc = list_page(w, out, from);
    names_unique(out, from);
    return rc < 0 ? -1 : (int)(out->count - from);
}
