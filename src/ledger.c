/*
 * ledger.c - the only code that reads or writes ingest_files.
 *
 * Every statement is scoped to one target table (the ledger's key is table, name, content hash),
 * so pipelines loading different tables share one database without seeing each other's files.
 *
 * A batch claims its files in its own transaction: pg_try_advisory_xact_lock on a key made of
 * table, name and content hash (so the claim dies with the transaction or the session, never leaks),
 * then the row is registered if new and its progress read. Progress moves only by
 * ledger_advance(), a compare-and-set on (status 'loading', committed_offset) inside the same
 * transaction as the rows it accounts for: two writers can never both advance a file, and a
 * crash leaves the ledger and the tables agreeing. All per-file statements are batched through
 * unnest() of array parameters, so a batch of 2,000 files costs a handful of round trips.
 *
 * Freeing the claims of a stalled ingester: the server ends an idle transaction by itself
 * (idle_in_transaction_session_timeout), but a session waiting for COPY data is not idle and
 * no timeout fires. So an ingester that finds files busy samples their holders: one whose COPY
 * progress (pg_stat_progress_copy.bytes_processed) has not moved for --lock-timeout across two
 * or more samples, or that sits idle in its transaction that long, is ended. A long but live
 * COPY keeps moving and is never ended.
 */
#include "ledger.h"

#include "clock.h"
#include "log.h"
#include "mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int64_t ledger_lock_key(const char *table, const char *name, const char *hash)
{
    XXH64_hash_t seed = XXH3_64bits(table, strlen(table));
    seed = XXH3_64bits_withSeed(hash, strlen(hash), seed);
    return (int64_t)XXH3_64bits_withSeed(name, strlen(name), seed);
}

int64_t ledger_segment_key(const char *table, const char *name, const char *hash, uint64_t offset)
{
    uint64_t file = (uint64_t)ledger_lock_key(table, name, hash);
    return (int64_t)XXH3_64bits_withSeed(&offset, sizeof(offset), file);
}

/* The files' advisory lock keys as an array literal in keys; only the busy ones with busy_only. */
static const char *lock_keys(struct buf *keys, const char *table, struct ledger_file **files,
                             size_t n, bool busy_only)
{
    for (size_t i = 0; i < n; i++) {
        if (busy_only && !files[i]->busy)
            continue;
        char key[32];
        snprintf(key, sizeof(key), "%" PRId64,
                 ledger_lock_key(table, files[i]->name, files[i]->hash));
        pgarray_add(keys, key);
    }
    return pgarray_end(keys);
}

enum sink_result ledger_claim(PGconn *conn, const char *table, struct ledger_file **files,
                              size_t n)
{
    struct buf keys, names, hashes, sizes, mtimes, again_n, again_h;
    struct buf *all[] = {&keys, &names, &hashes, &sizes, &mtimes, &again_n, &again_h};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        buf_init(all[i]);
    PGresult *res = NULL;
    enum sink_result r;

    const char *p1[] = {lock_keys(&keys, table, files, n, false)};
    r = sink_query(conn,
                   "SELECT pg_try_advisory_xact_lock(k) FROM unnest($1::bigint[]) "
                   "WITH ORDINALITY AS t(k, i) ORDER BY i",
                   1, p1, PGRES_TUPLES_OK, "claim files", &res);
    if (r != SINK_OK)
        goto out;
    size_t nclaimed = 0;
    for (size_t i = 0; i < n; i++) {
        struct ledger_file *f = files[i];
        f->busy = strcmp(PQgetvalue(res, (int)i, 0), "t") != 0;
        f->redropped = false;
        if (f->busy)
            continue;
        nclaimed++;
        pgarray_add(&names, f->name);
        pgarray_add(&hashes, f->hash);
        pgarray_add_u64(&sizes, f->size);
        char mt[48];
        snprintf(mt, sizeof(mt), "%lld.%09ld", (long long)f->mtime.tv_sec, f->mtime.tv_nsec);
        pgarray_add(&mtimes, mt);
    }
    PQclear(res);
    res = NULL;
    if (!nclaimed)
        goto out;

    const char *p2[] = {pgarray_end(&names), pgarray_end(&hashes), pgarray_end(&sizes),
                        pgarray_end(&mtimes), table};
    r = sink_query(conn,
                   "INSERT INTO ingest_files (target_table, file_name, content_hash, size_bytes, "
                   "file_mtime) SELECT $5, n, h, s, to_timestamp(m) FROM unnest($1::text[], "
                   "$2::text[], $3::bigint[], $4::float8[]) AS t(n, h, s, m) "
                   "ON CONFLICT DO NOTHING",
                   5, p2, PGRES_COMMAND_OK, "register files", NULL);
    if (r != SINK_OK)
        goto out;
    const char *p_read[] = {p2[0], p2[1], table};
    r = sink_query(conn,
                   "SELECT f.status, f.committed_offset, f.committed_line, "
                   "f.archived_at IS NOT NULL, coalesce(f.committed_at::text, ''), "
                   "coalesce(f.archived_as, '') FROM unnest($1::text[], $2::text[]) "
                   "WITH ORDINALITY AS t(n, h, i) JOIN ingest_files f ON f.target_table = $3 "
                   "AND f.file_name = t.n AND f.content_hash = t.h ORDER BY t.i",
                   3, p_read, PGRES_TUPLES_OK, "read ledger", &res);
    if (r != SINK_OK)
        goto out;
    if ((size_t)PQntuples(res) != nclaimed) {
        log_error("ledger", "ledger returned %d rows for %zu claimed files", PQntuples(res),
                  nclaimed);
        r = SINK_FATAL;
        goto out;
    }
    int row = 0;
    size_t nagain = 0;
    for (size_t i = 0; i < n; i++) {
        struct ledger_file *f = files[i];
        if (f->busy)
            continue;
        snprintf(f->status, sizeof(f->status), "%s", PQgetvalue(res, row, 0));
        f->offset = strtoull(PQgetvalue(res, row, 1), NULL, 10);
        f->line = strtoull(PQgetvalue(res, row, 2), NULL, 10);
        f->redropped = strcmp(f->status, "done") == 0 && PQgetvalue(res, row, 3)[0] == 't';
        snprintf(f->committed_at, sizeof(f->committed_at), "%s", PQgetvalue(res, row, 4));
        snprintf(f->archived_as, sizeof(f->archived_as), "%s", PQgetvalue(res, row, 5));
        f->new_status = NULL;
        row++;
        if (f->redropped) {
            pgarray_add(&again_n, f->name);
            pgarray_add(&again_h, f->hash);
            nagain++;
        }
    }
    if (nagain) {
        /* The same content dropped again after it was archived: hand it to the archiver. */
        const char *p3[] = {pgarray_end(&again_n), pgarray_end(&again_h), table};
        r = sink_query(conn,
                       "UPDATE ingest_files f SET archived_at = NULL FROM unnest($1::text[], "
                       "$2::text[]) AS t(n, h) WHERE f.target_table = $3 AND f.file_name = t.n "
                       "AND f.content_hash = t.h",
                       3, p3, PGRES_COMMAND_OK, "re-open re-dropped files", NULL);
        if (r != SINK_OK)
            goto out;
    }
    r = SINK_OK;
out:
    PQclear(res);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        buf_release(all[i]);
    return r;
}

enum sink_result ledger_claim_segment(PGconn *conn, const char *table, struct ledger_file *f)
{
    char file_key[32], seg_key[32];
    snprintf(file_key, sizeof(file_key), "%" PRId64, ledger_lock_key(table, f->name, f->hash));
    snprintf(seg_key, sizeof(seg_key), "%" PRId64,
             ledger_segment_key(table, f->name, f->hash, f->seg_offset));
    const char *p1[] = {file_key, seg_key};
    PGresult *res = NULL;
    enum sink_result r = sink_query(conn,
                                    "SELECT pg_try_advisory_xact_lock_shared($1::bigint) AND "
                                    "pg_try_advisory_xact_lock($2::bigint)",
                                    2, p1, PGRES_TUPLES_OK, "claim segment", &res);
    if (r != SINK_OK)
        return r;
    f->busy = strcmp(PQgetvalue(res, 0, 0), "t") != 0;
    f->redropped = f->seg_passed = false;
    f->new_status = NULL;
    PQclear(res);
    if (f->busy)
        return SINK_OK;
    const char *p2[] = {table, f->name, f->hash};
    r = sink_query(conn,
                   "SELECT status, committed_offset, committed_line FROM ingest_files "
                   "WHERE target_table = $1 AND file_name = $2 AND content_hash = $3",
                   3, p2, PGRES_TUPLES_OK, "read ledger", &res);
    if (r != SINK_OK)
        return r;
    if (PQntuples(res) != 1) {
        PQclear(res);
        log_error("ledger", "segment of an unregistered file '%s'", f->name);
        return SINK_FATAL;
    }
    snprintf(f->status, sizeof(f->status), "%s", PQgetvalue(res, 0, 0));
    uint64_t at = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    f->committed_at[0] = f->archived_as[0] = '\0';
    f->seg_passed = at > f->seg_offset;
    f->offset = f->seg_offset;
    f->line = f->seg_line;
    return SINK_OK;
}

enum sink_result ledger_wait_turn(PGconn *conn, int64_t key)
{
    char k[32];
    snprintf(k, sizeof(k), "%" PRId64, key);
    const char *p[] = {k};
    return sink_query(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, p, PGRES_TUPLES_OK,
                      "wait for the segment ahead", NULL);
}

enum sink_result ledger_advance(PGconn *conn, const char *table, struct ledger_file **files,
                                size_t n)
{
    struct buf names, hashes, status, offs, lines, loaded, rejected, old, skipped, updated, headers;
    struct buf *all[] = {&names, &hashes, &status,  &offs,    &lines,   &loaded,
                         &rejected, &old, &skipped, &updated, &headers};
    enum { NCOLS = sizeof(all) / sizeof(all[0]) };
    for (size_t i = 0; i < NCOLS; i++)
        buf_init(all[i]);
    size_t moving = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ledger_file *f = files[i];
        if (!f->new_status)
            continue;
        moving++;
        pgarray_add(&names, f->name);
        pgarray_add(&hashes, f->hash);
        pgarray_add(&status, f->new_status);
        pgarray_add_u64(&offs, f->new_offset);
        pgarray_add_u64(&lines, f->new_line);
        pgarray_add_u64(&loaded, f->loaded);
        pgarray_add_u64(&rejected, f->rejected);
        pgarray_add_u64(&old, f->offset);
        pgarray_add_u64(&skipped, f->skipped);
        pgarray_add_u64(&updated, f->updated);
        pgarray_add(&headers, f->header_line ? f->header_line : "");
    }
    enum sink_result r = SINK_OK;
    if (moving) {
        const char *p[NCOLS + 1];
        for (size_t i = 0; i < NCOLS; i++)
            p[i] = pgarray_end(all[i]);
        p[NCOLS] = table;
        PGresult *res = NULL;
        r = sink_query(
            conn,
            "UPDATE ingest_files f SET status = t.st, committed_offset = t.off, "
            "committed_line = t.line, rows_loaded = f.rows_loaded + t.ld, "
            "rows_rejected = f.rows_rejected + t.rj, rows_skipped = f.rows_skipped + t.sk, "
            "rows_updated = f.rows_updated + t.up, committed_at = clock_timestamp(), "
            "header_line = coalesce(f.header_line, nullif(t.hdr, '')) "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
            "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) "
            "AS t(n, h, st, off, line, ld, rj, old, sk, up, hdr) "
            "WHERE f.target_table = $12 AND f.file_name = t.n AND f.content_hash = t.h "
            "AND f.committed_offset = t.old AND f.status = 'loading'",
            NCOLS + 1, p, PGRES_COMMAND_OK, "update ledger", &res);
        if (r == SINK_OK && moving == 1 && files[0]->segment &&
            strtoull(PQcmdTuples(res), NULL, 10) == 0) {
            log_debug("ledger", "segment of '%s' at %" PRIu64 " is out of turn", files[0]->name,
                      files[0]->seg_offset);
            r = SINK_OUT_OF_TURN;
        } else if (r == SINK_OK && strtoull(PQcmdTuples(res), NULL, 10) != moving) {
            log_error("ledger", "ledger moved under this batch (%s of %zu rows updated)",
                      PQcmdTuples(res), moving);
            r = SINK_FATAL;
        }
        PQclear(res);
    }
    for (size_t i = 0; i < NCOLS; i++)
        buf_release(all[i]);
    return r;
}

/* The slot that remembers pid's current transaction, or a free (or the oldest) one. */
static int stall_slot(struct ledger_stalls *s, int pid, const char *xact, bool *known)
{
    int oldest = 0;
    for (int i = 0; i < LEDGER_STALL_SLOTS; i++) {
        if (s->slot[i].pid == pid && strcmp(s->slot[i].xact, xact) == 0) {
            *known = true;
            return i;
        }
        if (s->slot[i].since < s->slot[oldest].since)
            oldest = i;
    }
    *known = false;
    return oldest;
}

enum sink_result ledger_free_stalled(PGconn *conn, const char *table, struct ledger_stalls *s,
                                     struct ledger_file **files, size_t n, double lock_timeout_s)
{
    struct buf keys;
    buf_init(&keys);
    const char *p[] = {lock_keys(&keys, table, files, n, true)};
    PGresult *res = NULL;
    enum sink_result r = sink_query(
        conn,
        "SELECT DISTINCT a.pid, coalesce(c.bytes_processed, -1), a.xact_start::text, "
        "extract(epoch FROM now() - a.state_change) FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "LEFT JOIN pg_stat_progress_copy c ON c.pid = a.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY($1::bigint[]) "
        "AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL "
        "AND (a.state = 'idle in transaction' OR a.wait_event = 'ClientRead')",
        1, p, PGRES_TUPLES_OK, "look at busy files' holders", &res);
    buf_release(&keys);
    if (r != SINK_OK)
        return r;
    double now = clock_now();
    for (int i = 0; i < PQntuples(res) && r == SINK_OK; i++) {
        int pid = atoi(PQgetvalue(res, i, 0));
        long long bytes = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        const char *xact = PQgetvalue(res, i, 2);
        double idle_s = strtod(PQgetvalue(res, i, 3), NULL);
        bool known;
        int k = stall_slot(s, pid, xact, &known);
        if (!known || s->slot[k].bytes != bytes) {
            /* first sample, or it moved since the last one: start timing from now */
            s->slot[k].pid = pid;
            s->slot[k].bytes = bytes;
            snprintf(s->slot[k].xact, sizeof(s->slot[k].xact), "%s", xact);
            s->slot[k].since = now;
            continue;
        }
        /* Outside COPY the server's own idle timer says how long it has done nothing; inside,
         * the time since its progress was last seen to move. */
        double still = bytes < 0 ? idle_s : now - s->slot[k].since;
        if (still < lock_timeout_s)
            continue;
        /* End it only if it is still the same transaction with the same progress. */
        char pid_s[16], bytes_s[32];
        snprintf(pid_s, sizeof(pid_s), "%d", pid);
        snprintf(bytes_s, sizeof(bytes_s), "%lld", bytes);
        const char *tp[] = {pid_s, xact, bytes_s};
        PGresult *t = NULL;
        r = sink_query(conn,
                       "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a "
                       "LEFT JOIN pg_stat_progress_copy c ON c.pid = a.pid "
                       "WHERE a.pid = $1::int AND a.xact_start::text = $2 "
                       "AND coalesce(c.bytes_processed, -1) = $3::bigint",
                       3, tp, PGRES_TUPLES_OK, "end a stalled session", &t);
        if (r == SINK_OK) {
            if (PQntuples(t) > 0 && PQgetvalue(t, 0, 0)[0] == 't')
                log_warn("ledger",
                         "ended PostgreSQL session %d: it held files without progress for "
                         "%.1f s (a stalled ingester); its batch is rolled back",
                         pid, still);
            PQclear(t);
        }
        s->slot[k].pid = 0;
    }
    PQclear(res);
    return r;
}

enum sink_result ledger_archive_page(PGconn *conn, const char *table, const char *after_name,
                                     const char *after_hash, int limit, PGresult **out)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[] = {after_name, after_hash, lim, table};
    return sink_query(conn,
                      "SELECT file_name, content_hash, size_bytes FROM ingest_files "
                      "WHERE target_table = $4 AND status = 'done' AND archived_at IS NULL "
                      "AND (file_name, content_hash) > ($1, $2) "
                      "ORDER BY file_name, content_hash LIMIT $3::int",
                      4, p, PGRES_TUPLES_OK, "list files to archive", out);
}

enum sink_result ledger_mark_archived(PGconn *conn, const char *table, const char *name,
                                      const char *hash, const char *as)
{
    const char *p[] = {name, hash, as, table};
    return sink_query(conn,
                      "UPDATE ingest_files SET archived_at = now(), archived_as = $3 "
                      "WHERE target_table = $4 AND file_name = $1 AND content_hash = $2",
                      4, p, PGRES_COMMAND_OK, "mark archived", NULL);
}
