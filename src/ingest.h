/*
 * ingest.h - the streaming engine: hot folder -> validated rows -> PostgreSQL, exactly once.
 */
#ifndef SLUICE_INGEST_H
#define SLUICE_INGEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
struct contract;

struct ingest_options {
    const char *conninfo;
    const char *input_dir;
    const char *error_dir;
    const char *checkpoint_dir;
    const struct contract *contract; /* the target table's rules (contract.h) */
    const char *column_map;          /* --column-map */
    bool strict_columns;
    size_t max_row_bytes;
    uint64_t max_file_bytes; /* 0 = unlimited */
    size_t batch_bytes;
    double rescan_interval;
    double lock_timeout;
    double settle_time; /* an unterminated last row waits until the file is this old */
    long producer_uid;  /* -1: files must belong to the hot folder's owner (checked as root) */
    bool once;
    unsigned workers; /* parallel loaders, each with its own connection (files split by name) */
    /* Optional: once this becomes non-zero, behave as with once (drain, then return). */
    const atomic_int *drain;
};

struct ingest_stats {
    uint64_t batches;
    uint64_t files_done;
    uint64_t files_quarantined;
    uint64_t rows_loaded;
    uint64_t rows_rejected;
    uint64_t rows_skipped; /* --on-conflict: dropped repeats, rows the guard declined */
    uint64_t rows_updated; /* --on-conflict update: rows that replaced a stored one */
};

/* Run until the folder is drained (once) or *stop is set. Returns 0 on a clean finish, -1 when
 * the engine could not start (folders, lock, bad event types); database outages are waited out,
 * never returned. */
int ingest_run(const struct ingest_options *opts, const atomic_int *stop,
               struct ingest_stats *stats);

#endif
