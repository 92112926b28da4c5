/*
 * watch.h - discovery of candidate files in the hot folder: inotify for immediate pickup, a
 * periodic full rescan, and a rescan on IN_Q_OVERFLOW.
 *
 * Only names that end in ".csv" and do not start with "." are reported; nothing else in the folder
 * is ever touched. The watcher does not open or stat files: the ingester decides what an entry is.
 */
#ifndef SLUICE_WATCH_H
#define SLUICE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watch;

struct watch_names {
    char **names; /* heap strings, owned by the list */
    size_t count;
    size_t cap;
    bool full_scan; /* true when the list holds every matching name in the folder */
};

/* rescan_seconds: how often to list the whole folder (> 0). NULL after logging on failure. */
struct watch *watch_new(const char *input_dir, double rescan_seconds);
void watch_free(struct watch *w);

/* The first call lists the whole folder. Later calls wait up to timeout_ms for inotify events,
 * then return the names that appeared (or everything on a due rescan or after an overflow, which
 * is logged as a warning). Names are appended to out (duplicates removed within one call).
 * Returns the number appended, or -1 on error. A signal interrupting the wait returns 0. */
int watch_poll(struct watch *w, int timeout_ms, struct watch_names *out);
/* Force the next watch_poll() to do a full rescan. */
void watch_request_rescan(struct watch *w);

bool watch_name_matches(const char *name);
void watch_names_clear(struct watch_names *l);
void watch_names_release(struct watch_names *l);

#endif
