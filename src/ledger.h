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

    /* One segment of a large file loaded by several workers (split.c), else all zero. */
    bool segment;
    uint64_t seg_offset, seg_line; /* where the segment starts */
    bool seg_wait;                 /* a segment before it may still be in flight: wait_key */
    int64_t seg_wait_key;          /* the claim key of the segment before it */
    bool seg_passed;               /* the ledger is past this segment already */
};

/* In one open transaction: take each file's advisory lock (held until the transaction ends),
 * register the claimed ones (a new row starts at offset 0) and read their progress. A done file
 * that was archived and is here again is re-opened for the archiver (archived_at cleared). */
enum sink_result ledger_claim(PGconn *conn, const char *table, struct ledger_file **files,
                              size_t n);

/* A segment's claim, in one open transaction: the file's claim key taken shared (so segments of
 * one split coexist, and an ingester claiming the whole file sees it busy) and the segment's own
 * key exclusive; the file must be registered already. Progress is read as in ledger_claim();
 * when the ledger is at or before the segment, f->offset and f->line become the segment's start,
 * so ledger_advance() moves the file from there; past it, f->seg_passed is set. */
enum sink_result ledger_claim_segment(PGconn *conn, const char *table, struct ledger_file *f);

/* A segment's turn: wait until the transaction holding the claim of the segment before it has
 * ended. The wait is a lock the server sees, so a cycle with a row lock is a deadlock it breaks. */
enum sink_result ledger_wait_turn(PGconn *conn, int64_t key);

/* Compare-and-set: advance every file with new_status set, but only where the ledger still
 * says 'loading' at the offset this batch started from. SINK_FATAL when any row had moved. A
 * header_line is recorded where the ledger has none yet. A segment found out of turn (the
 * segment before it has not committed) gives SINK_OUT_OF_TURN, logged at debug only. */
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
/* The claim key of the segment of that file starting at offset. */
int64_t ledger_segment_key(const char *table, const char *name, const char *hash, uint64_t offset);

#endif
