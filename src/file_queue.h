/*
 * file_queue.h - discovery: the names the watcher reports, filtered against what this worker
 * already knows, in a bounded FIFO of files to load.
 */
#ifndef SLUICE_FILE_QUEUE_H
#define SLUICE_FILE_QUEUE_H

#include "file_table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Most files queued at once per worker; the rest of a folder is found by the next listing. */
#define FILE_QUEUE_LIMIT 4096
/* Most finished files remembered (to skip them unread while they wait for the archiver). */
#define FILE_QUEUE_REMEMBER 65536

struct file_queue;

/* Watch dir (opened as dirfd by the caller) for this worker's part of the folder. NULL after
 * logging when the folder cannot be watched. */
struct file_queue *file_queue_new(const char *dir, int dirfd, double rescan_s, unsigned part,
                                  unsigned nparts);
void file_queue_free(struct file_queue *q);

/* Take new names from the watcher, waiting up to timeout_ms when nothing is queued. Returns
 * how many files were queued, or -1 when the folder cannot be read. */
int file_queue_poll(struct file_queue *q, int timeout_ms);
/* Make the next poll start a full listing; true while one is in progress or due. */
void file_queue_request_rescan(struct file_queue *q);
bool file_queue_listing(const struct file_queue *q);

size_t file_queue_len(const struct file_queue *q);
/* What is queued: files, their bytes and the oldest mtime (seconds since the epoch, 0 when
 * none), read with one fstatat per queued file. */
void file_queue_pending(const struct file_queue *q, uint64_t *files, uint64_t *bytes,
                        double *oldest_mtime);
struct file_entry *file_queue_pop(struct file_queue *q);
void file_queue_push_front(struct file_queue *q, struct file_entry *e);
void file_queue_push_back(struct file_queue *q, struct file_entry *e);

/* The entry is finished (done, quarantined or skipped) as the file st describes: it is not
 * queued again while the file keeps that identity. */
void file_queue_finish(struct file_entry *e, const struct stat *st);
/* The entry is finished with nothing to remember (gone, or moved away). */
void file_queue_forget(struct file_entry *e);
/* Leave the file for now and look at it again within `seconds` (a file still being written). */
void file_queue_look_again(struct file_queue *q, struct file_entry *e, double seconds);
/* Does the file st describe still have the identity the entry was finished with? */
bool file_queue_unchanged(const struct file_entry *e, const struct stat *st);

#endif
