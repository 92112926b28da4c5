/*
 * generator.h - the event producer: realistic e-commerce event CSV files, handed off atomically
 * (written and fsynced in temp_dir, renamed into input_dir, directory fsynced).
 */
#ifndef SLUICE_GENERATOR_H
#define SLUICE_GENERATOR_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct generator_options {
    const char *input_dir;
    const char *temp_dir;
    long files;    /* 0 = until *stop is set */
    long rows_min; /* rows per file, uniform in [rows_min, rows_max] */
    long rows_max;
    double interval;  /* seconds between files; 0 = as fast as possible */
    double rate;      /* events per second pacing; 0 = off (interval governs) */
    double bad_ratio; /* fraction of rows made invalid on purpose */
    uint64_t seed;
    bool seed_set;           /* false: seed from time and pid */
    const char *manifest;    /* JSON totals file, or NULL */
    const char *archive_dir; /* names already here are not reused; NULL = not checked */
};

struct generator_totals {
    long files;
    long rows;
    long valid;
    long invalid_by_class[16]; /* indexed by enum reject_code */
    long long valid_price_cents;
};

/* Write files until opts->files are written or *stop becomes non-zero (a file being written
 * then is finished, or discarded when it is large enough to be flushed in parts), then write the
 * manifest if one is asked for. Files are named events_<UTC stamp>_<run id>_<sequence>.csv; the
 * run id is derived from the seed when there is one (else from the time and pid), and a name
 * already present in input_dir or archive_dir is never reused. Returns 0, or -1 after logging an
 * error (an I/O failure). Totals are filled in either case. */
int generator_run(const struct generator_options *opts, const atomic_int *stop,
                  struct generator_totals *totals);

#endif
