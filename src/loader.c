/*
 * loader.c - one batch's transaction, from the claim to the COMMIT.
 *
 *   BEGIN
 *   claim each file (ledger): advisory lock, register, read progress; done and quarantined
 *     files are skipped, a file being loaded resumes at committed_offset
 *   COPY user_activity FROM STDIN         valid rows, validated and encoded in C
 *   COPY user_activity_errors FROM STDIN  rejected rows with code, column, file, line, raw text
 *   UPDATE ingest_files                   compare-and-set on the offset the batch started at
 *   COMMIT
 *
 * So a crash at any instant leaves all or nothing of a batch. An event_id repeated within the
 * batch is caught here in C (a hash set), and the later copy is a duplicate_key dead
 * letter. One already loaded makes COPY fail on the primary key (SINK_DUPLICATE): the caller
 * rolls back and calls again, and this time the rows go through a temporary staging table
 * where duplicates are routed to the dead letters in SQL; the next batches stay on that path
 * (duplicates come in runs) until one has none.
 *
 * A row the server refuses for its data (a CHECK or a foreign key sluice does not check, a
 * trigger that raises: SINK_REJECTED) fails the COPY too: the caller rolls back and calls again
 * in careful mode, where the valid rows go in groups under savepoints and the refused ones are
 * bisected out to db_rejected dead letters (row_bisect.c), in the same transaction. Careful
 * batches stay careful until CAREFUL_STICKY_BATCHES in a row have met no refusal.
 *
 * Memory is bounded: the reader holds at most one row plus one read chunk, COPY data is sent
 * every COPY_FLUSH_BYTES, and the batch closes early when its dead letters reach
 * BATCH_REJECT_CAP_BYTES. A COPY that cannot be finished is ended explicitly with a reason.
 * Files are only read here, never moved.
 */
#include "loader.h"

#include "csv_reader.h"
#include "fault.h"
#include "idset.h"
#include "ledger.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "row_bisect.h"
#include "validate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK_BYTES ((size_t)256 * 1024)
#define COPY_FLUSH_BYTES ((size_t)1024 * 1024)
#define STAGING_STICKY_BATCHES 16
#define CAREFUL_STICKY_BATCHES 16

struct loader {
    struct loader_options o;
    struct schema *schema;
    struct csv_reader *reader;
    char *chunk;
    struct buf copy, rej;
    struct idset *batch_ids; /* event_ids sent in this batch */
    bool staging;
    unsigned staging_batches; /* after a duplicate, the next batches go straight to staging */
    struct ledger_stalls stalls; /* samples of the sessions holding files we want */
    struct row_bisect *bisect;   /* careful mode: groups of rows under savepoints */
    struct csv_reader *reparse;  /* careful mode: a refused row's fields, read again */
    struct batch *b;             /* the batch being run, for the refusals */
    bool careful;
    unsigned careful_batches; /* careful batches left before the direct path is tried again */
    uint64_t refused;         /* rows refused by the server in this attempt */
};

static const char *const copy_main_sql =
    "COPY user_activity (event_id, event_time, event_type, product_id, price, user_id, "
    "session_id) FROM STDIN";
static const char *const copy_stage_sql =
    "COPY sluice_stage (file_idx, line, event_id, event_time, event_type, product_id, price, "
    "user_id, session_id, raw_line) FROM STDIN";

static void refused_row(void *ctx, const struct row_bisect_refusal *r);

struct loader *loader_new(const struct loader_options *o)
{
    struct schema *schema = schema_new(o->event_types);
    if (!schema) {
        log_error("ingest", "bad --event-types list '%s'", o->event_types);
        return NULL;
    }
    struct loader *l = xcalloc(1, sizeof(*l));
    l->o = *o;
    l->schema = schema;
    l->reader = csv_reader_new(o->max_row_bytes);
    l->chunk = xmalloc(READ_CHUNK_BYTES);
    buf_init(&l->copy);
    buf_init(&l->rej);
    l->batch_ids = idset_new();
    l->reparse = csv_reader_new(o->max_row_bytes);
    l->bisect = row_bisect_new(copy_main_sql, "COPY user_activity", refused_row, l);
    return l;
}

void loader_free(struct loader *l)
{
    if (!l)
        return;
    schema_free(l->schema);
    csv_reader_free(l->reader);
    free(l->chunk);
    buf_release(&l->copy);
    buf_release(&l->rej);
    idset_free(l->batch_ids);
    row_bisect_free(l->bisect);
    csv_reader_free(l->reparse);
    free(l);
}

bool loader_staging(const struct loader *l)
{
    return l->staging;
}

void loader_begin_batch(struct loader *l)
{
    l->careful = l->careful_batches > 0;
    if (l->careful_batches)
        l->careful_batches--;
    l->staging = !l->careful && l->staging_batches > 0; /* careful mode meets duplicates too */
    if (l->staging_batches)
        l->staging_batches--;
}

void loader_use_careful(struct loader *l)
{
    l->careful = true;
    l->staging = false;
    l->careful_batches = CAREFUL_STICKY_BATCHES;
}

void loader_use_staging(struct loader *l)
{
    l->staging = true;
    l->staging_batches = STAGING_STICKY_BATCHES;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* Write a dead letter for a file-level problem (reported at line 1) and quarantine the file. */
static void reject_file(struct loader *l, struct batch_file *bf, const struct csv_row *row,
                        const struct verdict *v)
{
    struct csv_row empty;
    if (!row) {
        memset(&empty, 0, sizeof(empty));
        empty.line = 1;
        empty.raw = "";
        row = &empty;
    }
    schema_encode_reject(l->schema, row, v, bf->lf.name, &l->rej);
    metrics_batch_reject(v->code, 1);
    bf->rejected++;
    bf->action = BATCH_QUARANTINE;
    bf->end_offset = (uint64_t)bf->st.st_size;
    bf->at_eof = true;
}

/* Feed the reader the next chunk of bf from *off. -1 after logging a read error. */
static int feed(struct loader *l, struct batch_file *bf, uint64_t *off)
{
    ssize_t got = pread(bf->fd, l->chunk, READ_CHUNK_BYTES, (off_t)*off);
    if (got < 0) {
        char why[256];
        snprintf(why, sizeof(why), "read error: %s", strerror_r(errno, (char[128]){0}, 128));
        log_error("ingest", "'%s': %s; the file is quarantined", bf->lf.name, why);
        return -1;
    }
    if (got == 0)
        csv_reader_finish(l->reader);
    else
        csv_reader_feed(l->reader, l->chunk, (size_t)got);
    *off += (uint64_t)got;
    return 0;
}

/* Read the header line from the start of the file. -1 on a read error. */
static int read_header(struct loader *l, struct batch_file *bf, struct csv_row *row, bool *found)
{
    csv_reader_reset(l->reader, 0, 1);
    uint64_t off = 0;
    *found = false;
    for (;;) {
        enum csv_next n = csv_reader_next(l->reader, row);
        if (n == CSV_ROW) {
            *found = true;
            return 0;
        }
        if (n == CSV_END)
            return 0;
        if (feed(l, bf, &off) < 0)
            return -1;
    }
}

/* The dead letter of a row whose key (as COPY text) is loaded already. */
static void duplicate_verdict(const char *key, size_t len, struct verdict *v)
{
    v->code = REJECT_DUPLICATE_KEY;
    v->column = COL_EVENT_ID;
    snprintf(v->message, sizeof(v->message), "event_id: '%.*s' is already loaded",
             (int)(len > 100 ? 100 : len), key);
}

/* Is the event_id of the COPY line that starts at copy.data[mark] new in this batch? If not,
 * fill v: the later copy is a duplicate_key dead letter, and the first one stays. */
static bool first_in_batch(struct loader *l, size_t mark, struct verdict *v)
{
    const char *line = l->copy.data + mark;
    const char *end = l->copy.data + l->copy.len;
    if (l->staging) /* skip the file_idx and line columns */
        for (int tabs = 0; tabs < 2 && line < end; line++)
            if (*line == '\t')
                tabs++;
    const char *tab = memchr(line, '\t', (size_t)(end - line));
    size_t len = tab ? (size_t)(tab - line) : 0;
    if (idset_insert(l->batch_ids, line, len))
        return true;
    duplicate_verdict(line, len, v);
    return false;
}

/* One data row: into COPY when valid, into the dead letters otherwise. */
static void take_row(struct loader *l, size_t file_idx, struct batch_file *bf,
                     const struct csv_row *row)
{
    struct verdict v;
    size_t mark = l->copy.len;
    if (l->staging)
        buf_printf(&l->copy, "%zu\t%" PRIu64 "\t", file_idx, row->line);
    bool valid = schema_validate_row(l->schema, row, &l->copy, &v);
    if (valid && !first_in_batch(l, mark, &v))
        valid = false;
    if (valid) {
        if (l->staging) {
            l->copy.len--; /* the newline: the raw line follows */
            buf_putc(&l->copy, '\t');
            copy_text_escape(&l->copy, row->raw, row->raw_len);
            buf_putc(&l->copy, '\n');
        } else if (l->careful) {
            row_bisect_add(l->bisect, l->copy.data + mark, l->copy.len - mark, row, file_idx);
            l->copy.len = mark;
        }
        bf->sent++;
    } else {
        l->copy.len = mark;
        schema_encode_reject(l->schema, row, &v, bf->lf.name, &l->rej);
        metrics_batch_reject(v.code, 1);
        bf->rejected++;
    }
}

/* Careful mode: the fields of a refused row, read again from its raw text (the header of its
 * file is still the bound one: groups are flushed before the next file is read). */
static void reparse(struct loader *l, const struct row_bisect_refusal *r, struct csv_row *row)
{
    csv_reader_reset(l->reparse, r->offset, r->line);
    csv_reader_feed(l->reparse, r->raw, r->raw_len);
    csv_reader_finish(l->reparse);
    if (csv_reader_next(l->reparse, row) == CSV_ROW)
        return;
    memset(row, 0, sizeof(*row));
    row->line = r->line;
    row->raw = r->raw;
    row->raw_len = r->raw_len;
}

/* Careful mode: a row the server refused alone becomes a dead letter (db_rejected, or
 * duplicate_key for a key loaded already), and no longer counts as sent. */
static void refused_row(void *ctx, const struct row_bisect_refusal *r)
{
    struct loader *l = ctx;
    struct batch_file *bf = &l->b->files[r->file_idx];
    struct verdict v = {.code = REJECT_DB_REJECTED, .column = -1};
    if (r->duplicate) {
        const char *tab = memchr(r->copy_line, '\t', r->copy_len);
        duplicate_verdict(r->copy_line, tab ? (size_t)(tab - r->copy_line) : 0, &v);
    } else {
        for (int c = 0; r->column && c < COL_COUNT; c++)
            if (strcmp(schema_column_name((enum schema_column)c), r->column) == 0)
                v.column = c;
        snprintf(v.message, sizeof(v.message), "%s", r->message);
    }
    struct csv_row row;
    reparse(l, r, &row);
    schema_encode_reject(l->schema, &row, &v, bf->lf.name, &l->rej);
    metrics_batch_reject(v.code, 1);
    bf->sent--;
    bf->rejected++;
    l->refused++;
}

/* Send what the rows so far make: a full group in careful mode, else COPY data past the mark. */
static enum sink_result send_rows(struct loader *l, PGconn *conn)
{
    if (l->careful)
        return row_bisect_full(l->bisect) ? row_bisect_flush(l->bisect, conn) : SINK_OK;
    return l->copy.len >= COPY_FLUSH_BYTES ? copy_sink_send(conn, &l->copy) : SINK_OK;
}

/* Stream one claimed file into the open COPY, from its committed offset until its end or until
 * the batch is full. */
static enum sink_result load_file(struct loader *l, PGconn *conn, struct batch *b, size_t idx)
{
    struct batch_file *bf = &b->files[idx];
    struct csv_row row;
    struct verdict v;
    bool header_bound = false;

    if (bf->lf.offset > 0) {
        bool found;
        int rc = read_header(l, bf, &row, &found);
        if (rc == 0 && (!found || schema_bind_header(l->schema, &row, &v) < 0)) {
            log_error("ingest", "'%s': header unreadable on resume; the file is quarantined",
                      bf->lf.name);
            rc = -1;
        }
        if (rc < 0) {
            batch_poison(b, bf, "the file could not be read to its end");
            return SINK_FATAL;
        }
        header_bound = true;
    }
    csv_reader_reset(l->reader, bf->lf.offset, bf->lf.line);
    uint64_t off = bf->lf.offset;
    for (;;) {
        enum csv_next n;
        while ((n = csv_reader_next(l->reader, &row)) == CSV_ROW) {
            if (!header_bound) {
                if (schema_bind_header(l->schema, &row, &v) < 0) {
                    reject_file(l, bf, &row, &v);
                    return SINK_OK;
                }
                header_bound = true;
            } else {
                take_row(l, idx, bf, &row);
            }
            bf->end_offset = row.end_offset;
            bf->end_line = row.next_line;
            enum sink_result r = send_rows(l, conn);
            if (r != SINK_OK)
                return r;
            if (batch_full(b, bf, l->rej.len))
                return SINK_OK;
        }
        if (n == CSV_END) {
            bf->at_eof = true;
            bf->end_offset = (uint64_t)bf->st.st_size;
            return SINK_OK;
        }
        if (feed(l, bf, &off) < 0) {
            batch_poison(b, bf, "the file could not be read to its end");
            return SINK_FATAL;
        }
    }
}

/* ---- the transaction ---------------------------------------------------------------------- */

/* Staging mode: route duplicates to the dead letters, insert the rest, count per file. */
static enum sink_result stage_resolve(struct loader *l, PGconn *conn, struct batch *b,
                                      uint64_t sent)
{
    struct buf names;
    buf_init(&names);
    for (size_t i = 0; i < b->n; i++)
        pgarray_add(&names, b->files[i].lf.name);
    const char *p[] = {pgarray_end(&names)};
    PGresult *res = NULL;
    enum sink_result r = sink_query(
        conn,
        "WITH r AS (SELECT ctid AS c, event_id, row_number() OVER (PARTITION BY event_id "
        "ORDER BY file_idx, line) AS rn FROM sluice_stage), "
        "x AS (SELECT c FROM r WHERE rn > 1 OR EXISTS (SELECT 1 FROM user_activity u "
        "WHERE u.event_id = r.event_id)), "
        "d AS (DELETE FROM sluice_stage s USING x WHERE s.ctid = x.c RETURNING s.*), "
        "e AS (INSERT INTO user_activity_errors (" REJECT_COPY_COLUMNS ") SELECT event_id, "
        "event_time::text, event_type, product_id::text, price::text, user_id::text, session_id, "
        "'duplicate_key', 'event_id', 'event_id: ''' || event_id || ''' is already loaded', "
        "($1::text[])[file_idx + 1], line, raw_line FROM d) "
        "SELECT file_idx, count(*) FROM d GROUP BY file_idx",
        1, p, PGRES_TUPLES_OK, "route duplicates", &res);
    buf_release(&names);
    if (r != SINK_OK)
        return r;
    uint64_t dups = 0;
    if (PQntuples(res) == 0)
        l->staging_batches = 0; /* no duplicates here: back to the direct path */
    for (int i = 0; i < PQntuples(res); i++) {
        size_t idx = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        uint64_t n = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        if (idx < b->n)
            b->files[idx].duplicates = n;
        dups += n;
    }
    PQclear(res);
    res = NULL;
    r = sink_query(conn,
                   "INSERT INTO user_activity SELECT event_id, event_time, event_type, "
                   "product_id, price, user_id, session_id FROM sluice_stage",
                   0, NULL, PGRES_COMMAND_OK, "insert staged rows", &res);
    if (r != SINK_OK)
        return r;
    uint64_t inserted = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (inserted + dups != sent) {
        log_error("ingest", "staging: %" PRIu64 " inserted + %" PRIu64 " duplicates != %" PRIu64
                            " sent", inserted, dups, sent);
        return SINK_FATAL;
    }
    return SINK_OK;
}

/* After the claim: what each file needs in this batch. */
static void decide(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        bf->end_offset = bf->lf.offset;
        bf->end_line = bf->lf.line;
        if (bf->lf.busy)
            bf->action = BATCH_SKIP_BUSY;
        else if (strcmp(bf->lf.status, "loading") != 0)
            bf->action = BATCH_SKIP_DONE;
        else if (bf->quarantine_why)
            bf->action = BATCH_QUARANTINE;
        else
            bf->action = BATCH_LOAD;
    }
}

/* Careful mode: each file's valid rows through row_bisect, its groups loaded before the next
 * file is read. No COPY is left open on any answer. */
static enum sink_result careful_rows(struct loader *l, PGconn *conn, struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        if (bf->action != BATCH_LOAD)
            continue;
        enum sink_result r = load_file(l, conn, b, i);
        if (r == SINK_OK)
            r = row_bisect_flush(l->bisect, conn);
        if (r != SINK_OK)
            return r;
        b->in_bytes += bf->end_offset - bf->lf.offset;
        if (!bf->at_eof) {
            batch_defer_rest(b, bf);
            break;
        }
    }
    return SINK_OK;
}

/* The dead letter of a file refused whole (before reading, or after it failed to read). */
static void reject_unread(struct loader *l, struct batch_file *bf)
{
    struct verdict v = {.code = REJECT_BAD_FILE, .column = -1};
    snprintf(v.message, sizeof(v.message), "%s",
             bf->quarantine_why ? bf->quarantine_why : "refused");
    reject_file(l, bf, NULL, &v);
}

static enum sink_result copy_rows(struct loader *l, PGconn *conn, struct batch *b)
{
    if (l->careful)
        return careful_rows(l, conn, b);
    if (l->staging) {
        enum sink_result r =
            sink_exec(conn,
                      "CREATE TEMP TABLE IF NOT EXISTS sluice_stage (file_idx int, line bigint, "
                      "event_id text, event_time timestamp, event_type text, product_id int, "
                      "price numeric(10,2), user_id int, session_id text, raw_line text) "
                      "ON COMMIT DELETE ROWS",
                      "create staging table");
        if (r != SINK_OK)
            return r;
    }
    enum sink_result r =
        copy_sink_begin(conn, l->staging ? copy_stage_sql : copy_main_sql, "COPY user_activity");
    if (r != SINK_OK)
        return r;
    uint64_t sent = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        if (bf->action != BATCH_LOAD)
            continue;
        r = load_file(l, conn, b, i);
        if (r != SINK_OK) {
            copy_sink_abort(conn, "sluice could not read its input; the batch is redone");
            return r;
        }
        sent += bf->sent;
        b->in_bytes += bf->end_offset - bf->lf.offset;
        if (!bf->at_eof) {
            batch_defer_rest(b, bf); /* batch full: the rest waits for the next batch */
            break;
        }
    }
    r = copy_sink_end(conn, &l->copy, sent, "COPY user_activity");
    if (r == SINK_OK && l->staging)
        r = stage_resolve(l, conn, b, sent);
    return r;
}

static enum sink_result copy_dead_letters(struct loader *l, PGconn *conn, struct batch *b)
{
    uint64_t nrej = 0;
    for (size_t i = 0; i < b->n; i++)
        nrej += b->files[i].rejected;
    enum sink_result r = copy_sink_begin(
        conn, "COPY user_activity_errors (" REJECT_COPY_COLUMNS ") FROM STDIN",
        "COPY user_activity_errors");
    if (r != SINK_OK)
        return r;
    fault_point("mid-deadletter");
    return copy_sink_end(conn, &l->rej, nrej, "COPY user_activity_errors");
}

static enum sink_result run(struct loader *l, PGconn *conn, struct batch *b)
{
    buf_reset(&l->copy);
    buf_reset(&l->rej);
    idset_clear(l->batch_ids);
    row_bisect_clear(l->bisect);
    l->b = b;
    l->refused = 0;
    batch_start_attempt(b);
    metrics_batch_begin();

    enum sink_result r = sink_exec(conn, "BEGIN", "BEGIN");
    /* Deferred constraints are checked row by row too, not all at COMMIT. */
    if (r == SINK_OK && l->careful)
        r = sink_exec(conn, "SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS");
    if (r == SINK_OK)
        r = ledger_claim(conn, b->lf, b->n);
    if (r != SINK_OK)
        return r;
    fault_point("claimed");
    decide(b);
    for (size_t i = 0; i < b->n; i++)
        if (b->files[i].action == BATCH_SKIP_BUSY) {
            if ((r = ledger_free_stalled(conn, &l->stalls, b->lf, b->n, l->o.lock_timeout)) !=
                SINK_OK)
                return r;
            break;
        }

    bool any_load = false;
    for (size_t i = 0; i < b->n; i++)
        any_load |= b->files[i].action == BATCH_LOAD;
    if (any_load && (r = copy_rows(l, conn, b)) != SINK_OK)
        return r;
    for (size_t i = 0; i < b->n; i++)
        if (b->files[i].action == BATCH_QUARANTINE && b->files[i].rejected == 0)
            reject_unread(l, &b->files[i]);
    if (l->rej.len && (r = copy_dead_letters(l, conn, b)) != SINK_OK)
        return r;
    batch_to_ledger(b);
    if ((r = ledger_advance(conn, b->lf, b->n)) != SINK_OK)
        return r;
    fault_point("before-commit");
    if ((r = sink_exec(conn, "COMMIT", "COMMIT")) != SINK_OK)
        return r;
    fault_point("after-commit");
    return SINK_OK;
}

enum sink_result loader_run(struct loader *l, PGconn *conn, struct batch *b)
{
    enum sink_result r = run(l, conn, b);
    if (r == SINK_OK && l->refused) {
        l->careful_batches = CAREFUL_STICKY_BATCHES; /* refusals come in runs, like duplicates */
        log_info("ingest", "careful mode: %" PRIu64 " row%s refused by the server went to the "
                 "dead letters", l->refused, l->refused == 1 ? "" : "s");
    }
    if (l->careful && (r == SINK_REJECTED || r == SINK_DUPLICATE)) {
        /* Careful mode finds refused rows among the ones it loads; this refusal came from
         * another statement (dead letters, ledger, COMMIT), so redoing cannot route it. */
        log_error("ingest", "a statement other than the rows' COPY was refused (see above); "
                  "the batch is retried");
        r = SINK_FATAL;
    }
    return r;
}
