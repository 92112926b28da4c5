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
    size_t limit;       /* set by the caller: most names one poll may append (0 = no limit) */
    bool listing_began; /* this poll started a full listing of the folder */
    bool full_scan;     /* this poll ended one: every name of it was reported since it began */
};

/* rescan_seconds: how often to list the whole folder (> 0). NULL after logging on failure. */
struct watch *watch_new(const char *input_dir, double rescan_seconds);
void watch_free(struct watch *w);

/* The first call starts a full listing of the folder. Later calls wait up to timeout_ms for
 * inotify events (not at all while a listing is in progress) and return the names that
 * appeared; a listing is due every rescan interval and after an overflow (logged as a warning).
 * At most out->limit names are appended per call: a listing goes on where it stopped at the
 * next call, and events that find no room are dropped and make another listing due, so memory
 * never grows with the size of the folder. Duplicates are removed within one call. Returns the
 * number appended, or -1 on error. A signal interrupting the wait returns 0. */
int watch_poll(struct watch *w, int timeout_ms, struct watch_names *out);
/* Force the next watch_poll() to start a full listing (after the one in progress, if any). */
void watch_request_rescan(struct watch *w);
/* Make a listing due within `seconds` at the latest (a file to look at again then). */
void watch_rescan_within(struct watch *w, double seconds);
/* True while a listing is in progress or due. */
bool watch_listing(const struct watch *w);
/* Report only names whose watch_name_part() is `part` (workers split a folder by name). */
void watch_set_partition(struct watch *w, unsigned part, unsigned nparts);
unsigned watch_name_part(const char *name, unsigned nparts);

bool watch_name_matches(const char *name);
void watch_names_clear(struct watch_names *l);
void watch_names_release(struct watch_names *l);

#endif
