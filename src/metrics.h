/*
 * metrics.h - the process's figures: one registry of atomic counters, gauges and histograms that
 * every thread updates with plain calls, rendered by one function in the Prometheus text format
 * (for GET /metrics and for CHECKPOINT_DIR/metrics.prom alike) and as JSON for the dashboard.
 *
 * The registry is process-wide on purpose: it is what a Prometheus client library is, and the
 * calls that feed it sit deep in loops that should not carry a context just to count. Every
 * update is a relaxed atomic operation; nothing here takes a lock on the loading path, blocks,
 * or touches the database.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include "mem.h"
#include "validate.h"

#include <stdbool.h>
#include <stdint.h>

enum metrics_file_status {
    METRICS_FILE_DONE,
    METRICS_FILE_QUARANTINED,
    METRICS_FILE_ARCHIVED,
    METRICS_FILE_IGNORED, /* not a regular file: moved to the error folder unread */
    METRICS_FILE_STATUS_COUNT
};

#define METRICS_MAX_PENDING_SLOTS 16

/* Set the start time (process_start_time_seconds). Call once, early; the counters start at 0. */
void metrics_init(void);

/* ---- a batch, as the loader sees it ------------------------------------------------------------
 * Dead letters are tallied per thread while a batch is built, and counted only when it commits,
 * so a batch that is rolled back and redone is never counted twice. */
void metrics_batch_begin(void); /* forget the tally of a previous attempt */
void metrics_batch_reject(enum reject_code code, uint64_t n); /* n dead letters in this batch */
/* --on-conflict: rows skipped and rows that replaced a stored one, in this batch; they count as
 * read at the commit, beside the loaded and rejected ones. */
void metrics_batch_conflicts(uint64_t skipped, uint64_t updated);
/* The batch committed: rows loaded, data rows read and input bytes consumed by it, its duration.
 * Adds the tallied dead letters and stamps the last commit time. */
void metrics_batch_commit(uint64_t rows_loaded, uint64_t rows_read, uint64_t bytes_read,
                          double seconds);
/* One file's rows are all committed; landed_unix is the file's mtime (commit latency). */
void metrics_observe_commit_latency(double landed_unix);
void metrics_add_files(enum metrics_file_status status, uint64_t n);

/* What loader `slot` (0 .. METRICS_MAX_PENDING_SLOTS-1) has waiting: files, bytes and the
 * oldest mtime (Unix seconds, 0 when none). The age is computed when rendered, so it keeps
 * growing while a loader is stuck waiting for the database. */
void metrics_set_pending(unsigned slot, uint64_t files, uint64_t bytes, double oldest_mtime);
/* Loader `slot` has stopped: its figures no longer count. */
void metrics_pending_release(unsigned slot);
/* Files that landed in the hot folder after the loaders last reported (the HTTP sampler counts
 * them while the loaders wait for the database). */
void metrics_set_pending_extra(uint64_t files, uint64_t bytes, double oldest_mtime);
/* Unix time of the least recent metrics_set_pending() among the slots in use (0 = none). */
double metrics_pending_updated_at(void);

/* ---- the database ------------------------------------------------------------------------------
 */
void metrics_set_db_up(bool up);
bool metrics_db_up(void);
void metrics_add_reconnect(void);
void metrics_add_retry(void);
/* An error worth showing to an operator: stamps sluice_last_error_timestamp_seconds and keeps
 * the (one-line, truncated) message for the dashboard. */
void metrics_note_error(const char *component, const char *message);

/* ---- liveness: one watchdog slot per long-lived thread ------------------------------------------
 * A thread calls metrics_watchdog_begin() when it starts, _tick() in its loop (and while it
 * waits), _end() when it returns. Unregistered threads' ticks are no-ops. */
void metrics_watchdog_begin(const char *name);
void metrics_watchdog_tick(void);
void metrics_watchdog_end(void);
/* True when every registered thread ticked within max_age seconds; otherwise false with the
 * stale thread's name in `who`. */
bool metrics_watchdog_ok(double max_age, char *who, size_t who_len);

/* ---- output ------------------------------------------------------------------------------------
 */
/* Everything in the Prometheus text exposition format (version 0.0.4). */
void metrics_render(struct buf *out);
/* The same figures as one JSON object (no history: the HTTP module adds it). */
void metrics_render_json(struct buf *out);
/* Write metrics_render() to dir/metrics.prom atomically (temp file + rename); failures are
 * logged at debug level: metrics must never disturb loading. */
void metrics_write(const char *dir);

/* A snapshot of the figures the history ring samples once a second. */
struct metrics_sample {
    double t; /* Unix time */
    uint64_t rows_read, rows_loaded, rows_rejected, bytes_read, files_pending, bytes_pending;
    double batch_p50, batch_p99, latency_p50, latency_p99; /* seconds; < 0 when no data */
    bool db_up;
};
/* Fill s now. Percentiles come from the histogram growth since `prev_buckets` (kept by the
 * caller across calls; METRICS_SAMPLE_STATE_LEN values, zero-initialised the first time). */
#define METRICS_SAMPLE_STATE_LEN 64
void metrics_sample(struct metrics_sample *s, uint64_t *prev_buckets);

/* Append s as a JSON string literal (quotes included). Control characters, quotes, backslash and
 * <, >, & are escaped; invalid UTF-8 bytes become U+FFFD. */
void json_put_string(struct buf *out, const char *s);

#endif
