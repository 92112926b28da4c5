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

#include "log.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
    bool rescan_due;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool watch_name_matches(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".csv") == 0;
}

struct watch *watch_new(const char *input_dir, double rescan_seconds)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log_error("watch", "inotify_init1 failed: %s", strerror(errno));
        return NULL;
    }
    if (inotify_add_watch(fd, input_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
        log_error("watch", "cannot watch '%s': %s", input_dir, strerror(errno));
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
    close(w->fd);
    free(w->dir);
    free(w);
}

void watch_request_rescan(struct watch *w)
{
    w->rescan_due = true;
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

static int list_folder(struct watch *w, struct watch_names *out)
{
    DIR *d = opendir(w->dir);
    if (!d) {
        log_error("watch", "cannot list '%s': %s", w->dir, strerror(errno));
        return -1;
    }
    size_t from = out->count;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL)
        if (watch_name_matches(de->d_name))
            names_add(out, de->d_name);
    int e = errno;
    closedir(d);
    if (e) {
        /* A partial listing must not pass for a full one (the caller forgets what it lacks). */
        log_error("watch", "cannot list '%s': %s", w->dir, strerror(e));
        for (size_t i = from; i < out->count; i++)
            free(out->names[i]);
        out->count = from;
        return -1;
    }
    out->full_scan = true;
    w->rescan_due = false;
    w->next_rescan = mono_now() + w->rescan_s;
    return 0;
}

/* Read every pending inotify event, until the queue is empty (EAGAIN).
 * 1 when the kernel queue overflowed, 0 otherwise, -1 on a read error. */
static int drain_events(struct watch *w, struct watch_names *out)
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
            log_error("watch", "reading inotify events failed: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            return overflow;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                overflow = 1;
            else if (ev->len && !(ev->mask & IN_ISDIR) && watch_name_matches(ev->name))
                names_add(out, ev->name);
            p += sizeof(*ev) + ev->len;
        }
    }
}

int watch_poll(struct watch *w, int timeout_ms, struct watch_names *out)
{
    size_t from = out->count;
    double now = mono_now();
    if (!w->rescan_due && now >= w->next_rescan)
        w->rescan_due = true;
    if (!w->rescan_due && timeout_ms != 0) {
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
            log_error("watch", "poll failed: %s", strerror(errno));
            return -1;
        }
    }
    if (!w->rescan_due && mono_now() >= w->next_rescan)
        w->rescan_due = true; /* the wait ended at the rescan time */
    int drained = drain_events(w, out);
    if (drained < 0)
        return -1;
    if (drained > 0) {
        log_warn("watch", "inotify queue overflowed; rescanning input folder '%s'", w->dir);
        w->rescan_due = true;
    }
    if (w->rescan_due) {
        /* A full listing replaces whatever the events gave in this call. */
        for (size_t i = from; i < out->count; i++)
            free(out->names[i]);
        out->count = from;
        if (list_folder(w, out) < 0)
            return -1;
    }
    names_unique(out, from);
    return (int)(out->count - from);
}
