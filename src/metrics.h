/*
 * metrics.h - the ingester's counters as a Prometheus text file (CHECKPOINT_DIR/metrics.prom),
 * for node_exporter's textfile collector or a plain `cat`.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdint.h>

struct metrics {
    uint64_t batches;
    uint64_t files_done;
    uint64_t files_quarantined;
    uint64_t rows_loaded;
    uint64_t rows_rejected;
    uint64_t reconnects;
    uint64_t queue_files;
    double last_batch_seconds;
    double last_commit_unixtime;
};

/* Write the file atomically (temp file + rename). Errors are logged once per call at debug
 * level: metrics must never disturb loading. */
void metrics_write(const char *dir, const struct metrics *m);

#endif
