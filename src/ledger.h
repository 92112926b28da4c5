/*
 * ledger.h - every statement on ingest_files, the per-file record of what is committed: the
 * ingester's claim, progress read and compare-and-set advance, the freeing of claims held by a
 * stalled ingester, and the archiver's paging and marking.
 *
 * Every function works within one target table: `table` is the table as the catalog names it,
 * "schema.table" unquoted (table_name_resolve() makes it; cfg->table holds it after the setup).
 * Pipelines loading other tables from the same database never see or block each other's files,
 * even under the same names.
 */
#ifndef SLUICE_LEDGER_H
#define SLUICE_LEDGER_H

#include "copy_sink.h"
#include "filehash.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* One file's ledger row as one batch sees it. The caller fills the identity; ledger_claim()
 * fills what the ledger says; the caller sets the new_* fields for ledger_advance(). */
struct ledger_file {
    const char *name;
    char hash[FILEHASH_HEX_LEN + 1];
    uint64_t size;
    struct timespec mtime;

    bool busy;             /* another session holds the claim */
    char status[16];       /* loading, done or quarantined */
    uint64_t offset, line; /* committed progress: resume here */
    bool redropped;        /* done and archived before; here again with the same content */
    char committed_at[40], archived_as[256];

    const char *new_status; /* NULL: this batch does not advance the file */
    uint64_t new_offset, new_line, loaded, rejected;
    uint64_t skipped, updated; /* --on-conflict skip and update (rows_skipped, rows_updated) */
    const char *header_line;   /* line 1 as text, read by this batch (recorded once), or NULL */
};

/* In one open transaction: take each file's advisory lock (held until the transaction ends),
 * register the claimed ones (a new row starts at offset 0) and read their progress. A done file
 * that was archived and is here again is re-opened for the archiver (archived_at cleared). */
enum sink_result ledger_claim(PGconn *conn, const char *table, struct ledger_file **files,
                              size_t n);

/* Compare-and-set: advance every file with new_status set, but only where the ledger still
 * says 'loading' at the offset this batch started from. SINK_FATAL when any row had moved. A
 * header_line is recorded where the ledger has none yet. */
enum sink_result ledger_advance(PGconn *conn, const char *table, struct ledger_file **files,
                                size_t n);

/* Samples of the sessions holding files this ingester wants, kept between calls. */
#define LEDGER_STALL_SLOTS 32
struct ledger_stalls {
    struct {
        int pid;
        long long bytes;   /* pg_stat_progress_copy.bytes_processed, -1 outside COPY */
        char xact[40];     /* the session's transaction start: a new one is a new sample */
        double since;      /* monotonic time the sample was first seen unchanged */
    } slot[LEDGER_STALL_SLOTS];
};

/* The busy files' holders: a session idle in its transaction, or inside a COPY whose
 * bytes_processed has not moved, for longer than lock_timeout_s (seen at least twice) is a
 * stalled ingester; end it, so its claims are freed and its batch rolls back. A holder that
 * makes progress is never ended, however long its COPY runs. */
enum sink_result ledger_free_stalled(PGconn *conn, const char *table, struct ledger_stalls *s,
                                     struct ledger_file **files, size_t n, double lock_timeout_s);

/* The archiver: one page of done, unarchived files after (after_name, after_hash) in name
 * order; columns file_name, content_hash, size_bytes. The caller clears the result. */
enum sink_result ledger_archive_page(PGconn *conn, const char *table, const char *after_name,
                                     const char *after_hash, int limit, PGresult **out);
/* Record that the file now lives in the archive as `as`. */
enum sink_result ledger_mark_archived(PGconn *conn, const char *table, const char *name,
                                      const char *hash, const char *as);

/* The advisory lock key of one file of one table: the claim every ingester of that table takes. */
int64_t ledger_lock_key(const char *table, const char *name, const char *hash);

#endif
