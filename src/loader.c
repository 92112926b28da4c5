/*
 * loader.c - one batch's transaction, from the claim to the COMMIT.
 *
 *   BEGIN
 *   claim each file (ledger): advisory lock, register, read progress; done and quarantined
 *     files are skipped, a file being loaded resumes at committed_offset
 *   COPY target (cols) FROM STDIN         valid rows, validated and encoded in C; one COPY per
 *                                         header layout (the columns the files have)
 *   COPY target_errors FROM STDIN         rejected rows with code, column, file, line, raw text
 *   UPDATE ingest_files                   compare-and-set on the offset the batch started at
 *   COMMIT
 *
 * So a crash at any instant leaves all or nothing of a batch. A key repeated within a file is
 * caught here in C (a hash set of the file's keys, small enough to stay in the core's cache), and
 * the later copy is a duplicate_key dead letter. One already loaded, or sent earlier in the batch
 * from another file, makes COPY fail on the key (SINK_DUPLICATE): the caller
 * rolls back and calls again, and this time the rows go through a temporary staging table
 * where duplicates are routed to the dead letters in SQL; the next batches stay on that path
 * (duplicates come in runs) until one has none.
 *
 * --on-conflict changes only what becomes of those rows. skip: a repeat within a file is
 * dropped in C, and the staging query drops the rows already loaded instead of dead-lettering
 * them; both are counted as rows_skipped. update: every batch goes through staging, where the
 * earlier copies of a key repeated in the batch are dropped (rows_skipped: the last one read
 * wins) and the rest are upserted; a row that replaced a stored one is counted as rows_updated,
 * one the --update-if guard declined as rows_skipped. So for every file, in every mode,
 * rows_loaded + rows_rejected + rows_skipped + rows_updated = the data rows read.
 *
 * A row the server refuses for its data (a CHECK sluice cannot compile, a foreign key, a trigger
 * that raises: SINK_REJECTED) fails the COPY too: the caller rolls back and calls again in
 * careful mode, where the valid rows go in groups under savepoints and the refused ones are
 * bisected out to db_rejected dead letters (row_bisect.c), in the same transaction. Careful
 * batches stay careful until CAREFUL_STICKY_BATCHES in a row have met no refusal. There a key
 * already loaded is refused like any other row: skip mode counts it as skipped, update mode
 * stages the refused copies of the group and upserts them after it (collapsed as above), so the
 * modes mean the same on both paths.
 *
 * On the direct path the valid rows are held in runs of SORT_RUN_BYTES, each sorted by a prefix
 * of its key (row_sort.c) and sent in COPY_FLUSH_BYTES pieces while the COPY stays open, so the
 * server inserts in key order and works on one run while the next is read. The order is a hint
 * to the server only: which rows are sent, dead-lettered or counted is decided as they are read.
 *
 * Memory is bounded: the reader holds at most one row plus one read chunk, the direct path one
 * run (SORT_RUN_BYTES plus a row, and 16 bytes per row to sort it) and the other paths COPY data
 * up to COPY_FLUSH_BYTES, and the batch closes early when its dead letters reach
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
#include "row_sort.h"
#include "table_name.h"
#include "validate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK_BYTES ((size_t)256 * 1024)
#define COPY_FLUSH_BYTES ((size_t)128 * 1024) /* small: the server works while rows are read */
/* The direct path holds this much COPY data, sorts it by key and sends it: the key's B-tree is
 * then walked in order while the next run is read. Measured on 1,000,000 generated rows, 2
 * workers: 2 MiB gains little, 4 and 8 MiB more, 16 MiB most but its peak RSS (65 MB clean, 77 MB
 * with 5% dead letters) is over the 64 MB bound; 8 MiB stays under it (44 and 58-61 MB). */
#define SORT_RUN_BYTES ((size_t)8 * 1024 * 1024)
#define STAGING_STICKY_BATCHES 16
#define CAREFUL_STICKY_BATCHES 16

struct loader {
    struct loader_options o;
    struct schema *schema;
    struct csv_reader *reader;
    char *chunk;
    struct buf copy, rej, key;
    struct buf headers;      /* the header lines read in this attempt, for the ledger */
    struct idset *file_ids;  /* keys of the file being read, sent in this batch */
    bool have_key;           /* l->key holds the key of the row just accepted */
    struct row_sort *run;    /* direct path: the rows held in l->copy, by key prefix */
    struct buf sorted;       /* a piece of the sorted run, being sent */
    struct buf open_cols;    /* the column list of the open COPY (empty when none is open) */
    bool copy_open;
    uint64_t open_rows;      /* rows sent in it */
    char *stage_create_sql, *stage_route_sql; /* made once from the table's definition */
    char *stage_keys, *stage_tail; /* the staged insert's ORDER BY and its end, or NULL */
    bool staging;
    unsigned staging_batches; /* after a duplicate, the next batches go straight to staging */
    struct ledger_stalls stalls; /* samples of the sessions holding files we want */
    struct row_bisect *bisect;   /* careful mode: groups of rows under savepoints */
    struct csv_reader *reparse;  /* careful mode: a refused row's fields, read again */
    struct batch *b;             /* the batch being run, for the refusals */
    bool careful;
    unsigned careful_batches; /* careful batches left before the direct path is tried again */
    uint64_t refused;         /* rows refused by the server in this attempt */
    struct buf careful_upserts; /* careful + update mode: refused repeats, as staging COPY text */
    uint64_t careful_pending;   /* rows in it */
};

/* The staging statements, from the table's definition: a temporary table shaped like the target
 * (same column types, no constraints) plus where each row came from, and the query that moves
 * the rows whose key is repeated or already loaded to the dead letters. */
static void make_stage_sql(struct loader *l)
{
    const struct table_def *t = l->o.table;
    l->stage_create_sql =
        xasprintf("CREATE TEMP TABLE IF NOT EXISTS sluice_stage ON COMMIT DELETE ROWS AS SELECT "
                  "NULL::int AS sluice_file_idx, NULL::bigint AS sluice_line, NULL::text AS "
                  "sluice_raw_line, t.* FROM %s t WITH NO DATA",
                  t->sql_name);
    if (t->nkey == 0)
        return;
    struct buf b, keys, match, text;
    buf_init(&b);
    buf_init(&keys);
    buf_init(&match);
    buf_init(&text);
    for (size_t k = 0; k < t->nkey; k++) {
        const char *name = t->cols[t->key[k]].name;
        if (k) {
            buf_append(&keys, ", ", 2);
            buf_append(&match, " AND ", 5);
        }
        sql_append_ident(&keys, name);
        buf_append(&match, "u.", 2);
        sql_append_ident(&match, name);
        buf_append(&match, " = r.", 5);
        sql_append_ident(&match, name);
    }
    buf_putc(&keys, '\0');
    buf_putc(&match, '\0');
    /* reject and skip: insert in key order (two workers staging the same keys take them in
     * one order, so they wait for each other instead of deadlocking), passing over a key another
     * transaction committed meanwhile, and take the inserted rows out of staging (a row with a
     * NULL in its key is always inserted): what stays lost a race, and is routed again. A
     * DEFERRABLE key cannot arbitrate ON CONFLICT: a plain insert then. */
    bool arbiter = t->key_immediate && l->o.on_conflict != LOADER_CONFLICT_UPDATE;
    struct buf tail;
    buf_init(&tail);
    buf_printf(&tail, " ON CONFLICT (%s) DO NOTHING RETURNING %s), d AS (DELETE FROM sluice_stage "
                      "u WHERE ",
               keys.data, keys.data);
    for (size_t k = 0; k < t->nkey; k++) {
        buf_append(&tail, "u.", 2);
        sql_append_ident(&tail, t->cols[t->key[k]].name);
        buf_append(&tail, " IS NULL OR ", 12);
    }
    buf_printf(&tail, "EXISTS (SELECT 1 FROM i r WHERE %s) RETURNING u.sluice_file_idx) "
                      "SELECT count(*) FROM d",
               match.data);
    buf_putc(&tail, '\0');
    l->stage_tail = arbiter ? tail.data : NULL;
    l->stage_keys = arbiter ? xstrdup(keys.data) : NULL;
    if (!arbiter)
        buf_release(&tail);
    if (l->o.on_conflict != LOADER_CONFLICT_REJECT) {
        /* skip: the repeats and the keys already loaded go; update: the earlier copies of a
         * repeated key go (the upsert replaces the stored rows). A key with a NULL never
         * repeats. */
        bool skip = l->o.on_conflict == LOADER_CONFLICT_SKIP;
        buf_printf(&b,
                   "WITH r AS (SELECT ctid AS c, %s, row_number() OVER (PARTITION BY %s ORDER BY "
                   "sluice_file_idx %s, sluice_line %s) AS rn FROM sluice_stage WHERE ",
                   keys.data, keys.data, skip ? "" : "DESC", skip ? "" : "DESC");
        for (size_t k = 0; k < t->nkey; k++) {
            buf_append(&b, k ? " AND " : "", k ? 5 : 0);
            sql_append_ident(&b, t->cols[t->key[k]].name);
            buf_append(&b, " IS NOT NULL", 12);
        }
        buf_printf(&b, "), x AS (SELECT c FROM r WHERE rn > 1");
        if (skip)
            buf_printf(&b, " OR EXISTS (SELECT 1 FROM %s u WHERE %s)", t->sql_name, match.data);
        buf_printf(&b, "), d AS (DELETE FROM sluice_stage s USING x WHERE s.ctid = x.c RETURNING "
                       "s.sluice_file_idx) SELECT sluice_file_idx, count(*) FROM d GROUP BY "
                       "sluice_file_idx");
        buf_putc(&b, '\0');
        l->stage_route_sql = b.data;
        buf_release(&keys);
        buf_release(&match);
        buf_release(&text);
        return;
    }
    buf_printf(&b,
               "WITH r AS (SELECT ctid AS c, %s, row_number() OVER (PARTITION BY %s ORDER BY "
               "sluice_file_idx, sluice_line) AS rn FROM sluice_stage), "
               "x AS (SELECT c FROM r WHERE rn > 1 OR EXISTS (SELECT 1 FROM %s u WHERE %s)), "
               "d AS (DELETE FROM sluice_stage s USING x WHERE s.ctid = x.c RETURNING s.*), "
               "e AS (INSERT INTO %s %s SELECT ",
               keys.data, keys.data, t->sql_name, match.data, l->o.dlq_sql_name,
               schema_reject_columns(l->schema));
    for (size_t c = 0; c < t->ncols; c++) {
        sql_append_ident(&b, t->cols[c].name);
        buf_append(&b, "::text, ", 8);
    }
    buf_append(&b, "'duplicate_key', ", 17);
    buf_append(&text, t->cols[t->key[0]].name, strlen(t->cols[t->key[0]].name) + 1);
    sql_append_literal(&b, text.data);
    buf_append(&b, ", ", 2);
    /* the message, as schema_duplicate_verdict words it */
    buf_reset(&text);
    if (t->nkey == 1) {
        buf_printf(&text, "%s: '", t->cols[t->key[0]].name);
    } else {
        buf_append(&text, "key (", 5);
        for (size_t k = 0; k < t->nkey; k++)
            buf_printf(&text, "%s%s", k ? ", " : "", t->cols[t->key[k]].name);
        buf_append(&text, ") = (", 5);
    }
    buf_putc(&text, '\0');
    sql_append_literal(&b, text.data);
    buf_append(&b, " || concat_ws(', '", 18);
    for (size_t k = 0; k < t->nkey; k++) {
        buf_append(&b, ", ", 2);
        sql_append_ident(&b, t->cols[t->key[k]].name);
        buf_append(&b, "::text", 6);
    }
    buf_printf(&b, ") || %s", t->nkey == 1 ? "''' is already loaded'" : "') is already loaded'");
    buf_printf(&b, ", ($1::text[])[sluice_file_idx + 1], sluice_line, sluice_raw_line FROM d) "
                   "SELECT sluice_file_idx, count(*) FROM d GROUP BY sluice_file_idx");
    buf_putc(&b, '\0');
    l->stage_route_sql = b.data;
    buf_release(&keys);
    buf_release(&match);
    buf_release(&text);
}

int loader_conflict_parse(const char *name)
{
    static const char *const names[] = {"reject", "skip", "update"};
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Is the quoted identifier at q (as sql_append_ident wrote it, n bytes) the name of a key column? */
static bool ident_is_key(const struct table_def *t, const char *q, size_t n)
{
    struct buf name;
    buf_init(&name);
    for (size_t i = 1; i + 1 < n; i++) {
        buf_putc(&name, q[i]);
        if (q[i] == '"')
            i++; /* a doubled quote stands for one */
    }
    buf_putc(&name, '\0');
    bool key = false;
    for (size_t k = 0; k < t->nkey && !key; k++)
        key = strcmp(t->cols[t->key[k]].name, name.data) == 0;
    buf_release(&name);
    return key;
}

char *loader_upsert_sql(const struct table_def *t, const char *cols, const char *source,
                        const char *guard)
{
    struct buf b;
    buf_init(&b);
    size_t inner = strlen(cols) - 2; /* without the parentheses */
    struct buf keys;
    buf_init(&keys);
    for (size_t k = 0; k < t->nkey; k++) {
        buf_append(&keys, ", ", k ? 2 : 0);
        sql_append_ident(&keys, t->cols[t->key[k]].name);
    }
    buf_putc(&keys, '\0');
    /* in key order: two sessions upserting the same keys take their locks in the same order,
     * so they wait for each other instead of deadlocking */
    buf_printf(&b, "INSERT INTO %s %s SELECT %.*s FROM %s ORDER BY %s ON CONFLICT (%s) "
                   "DO UPDATE SET ", t->sql_name, cols, (int)inner, cols + 1, source, keys.data,
               keys.data);
    buf_release(&keys);
    size_t set = 0;
    for (const char *p = cols + 1; *p == '"';) {
        const char *q = p + 1;
        while (*q && !(q[0] == '"' && q[1] != '"'))
            q += q[0] == '"' ? 2 : 1;
        size_t n = (size_t)(q + 1 - p);
        if (!ident_is_key(t, p, n)) {
            buf_printf(&b, "%s%.*s = EXCLUDED.%.*s", set ? ", " : "", (int)n, p, (int)n, p);
            set++;
        }
        p = q + 1;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (set == 0) { /* the file has only the key: a repeat replaces nothing but still counts */
        sql_append_ident(&b, t->cols[t->key[0]].name);
        buf_append(&b, " = EXCLUDED.", 12);
        sql_append_ident(&b, t->cols[t->key[0]].name);
    }
    if (guard)
        buf_printf(&b, " WHERE (%s)", guard);
    buf_append(&b, " RETURNING ", 11);
    for (size_t k = 0; k < t->nkey; k++) {
        sql_append_ident(&b, t->cols[t->key[k]].name);
        buf_append(&b, ", ", 2);
    }
    buf_printf(&b, "xmax = 0 AS sluice_new");
    buf_putc(&b, '\0');
    return b.data;
}

/* Update mode: upsert the staged rows and count, per file, the rows inserted, the rows that
 * replaced a stored one and the rows the guard declined (a row with a NULL in its key cannot
 * meet a stored one: it is inserted). Heap string. */
static char *stage_upsert_sql(const struct loader *l, const char *cols)
{
    const struct table_def *t = l->o.table;
    char *upsert = loader_upsert_sql(t, cols, "sluice_stage", l->o.update_if);
    struct buf b, join, knull;
    buf_init(&b);
    buf_init(&join);
    buf_init(&knull);
    for (size_t k = 0; k < t->nkey; k++) {
        const char *name = t->cols[t->key[k]].name;
        buf_append(&join, " AND ", k ? 5 : 0);
        buf_append(&join, "s.", 2);
        sql_append_ident(&join, name);
        buf_append(&join, " = u.", 5);
        sql_append_ident(&join, name);
        buf_append(&knull, " OR ", k ? 4 : 0);
        buf_append(&knull, "s.", 2);
        sql_append_ident(&knull, name);
        buf_append(&knull, " IS NULL", 8);
    }
    buf_putc(&join, '\0');
    buf_putc(&knull, '\0');
    buf_printf(&b,
               "WITH u AS (%s) SELECT s.sluice_file_idx, "
               "count(*) FILTER (WHERE u.sluice_new OR %s), "
               "count(*) FILTER (WHERE NOT u.sluice_new), "
               "count(*) FILTER (WHERE u.sluice_new IS NULL AND NOT (%s)) "
               "FROM sluice_stage s LEFT JOIN u ON %s GROUP BY s.sluice_file_idx",
               upsert, knull.data, knull.data, join.data);
    buf_putc(&b, '\0');
    free(upsert);
    buf_release(&join);
    buf_release(&knull);
    return b.data;
}

static void refused_row(void *ctx, const struct row_bisect_refusal *r);

struct loader *loader_new(const struct loader_options *o)
{
    struct schema_options so = {
        .table = o->table,
        .env = o->env,
        .column_map = o->column_map,
        .strict_columns = o->strict_columns,
    };
    char err[256];
    struct schema *schema = schema_new(&so, err, sizeof(err));
    if (!schema) {
        log_error("ingest", "%s", err);
        return NULL;
    }
    struct loader *l = xcalloc(1, sizeof(*l));
    l->o = *o;
    l->schema = schema;
    l->reader = csv_reader_new(o->max_row_bytes);
    l->chunk = xmalloc(READ_CHUNK_BYTES);
    buf_init(&l->copy);
    buf_init(&l->rej);
    buf_init(&l->key);
    buf_init(&l->headers);
    buf_init(&l->open_cols);
    l->file_ids = idset_new();
    l->run = row_sort_new();
    buf_init(&l->sorted);
    buf_init(&l->careful_upserts);
    make_stage_sql(l);
    l->reparse = csv_reader_new(o->max_row_bytes);
    l->bisect = row_bisect_new(refused_row, l);
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
    buf_release(&l->key);
    buf_release(&l->headers);
    buf_release(&l->open_cols);
    idset_free(l->file_ids);
    row_sort_free(l->run);
    buf_release(&l->sorted);
    buf_release(&l->careful_upserts);
    free(l->stage_create_sql);
    free(l->stage_route_sql);
    free(l->stage_keys);
    free(l->stage_tail);
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
    /* careful mode meets duplicates too; update mode: COPY alone cannot replace a row, so every
     * other batch is staged */
    l->staging = !l->careful &&
                 (l->staging_batches > 0 || l->o.on_conflict == LOADER_CONFLICT_UPDATE);
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

/* Is the key of the row just accepted new in its file (in this batch)? If not, fill v: the later
 * copy is a duplicate_key dead letter (or, in skip mode, dropped), and the first one stays. A
 * repeat across files of the batch is left to the server, as one of a key loaded before. In
 * update mode every copy goes on: the staging query keeps the last. */
static bool first_in_batch(struct loader *l, struct verdict *v)
{
    l->have_key = false;
    if (l->o.on_conflict == LOADER_CONFLICT_UPDATE ||
        !schema_row_key(l->schema, &l->copy, &l->key))
        return true; /* no key, or a NULL in it: nothing to repeat */
    l->have_key = true;
    if (idset_insert(l->file_ids, l->key.data, l->key.len))
        return true;
    schema_duplicate_verdict(l->schema, &l->key, v);
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
    if (valid && !first_in_batch(l, &v)) {
        if (l->o.on_conflict == LOADER_CONFLICT_SKIP) { /* a retry's copy: dropped, counted */
            l->copy.len = mark;
            bf->skipped++;
            metrics_batch_conflicts(1, 0);
            return;
        }
        valid = false;
    }
    if (valid) {
        if (l->staging) {
            l->copy.len--; /* the newline: the raw line follows */
            buf_putc(&l->copy, '\t');
            copy_text_escape(&l->copy, row->raw, row->raw_len);
            buf_putc(&l->copy, '\n');
        } else if (l->careful) {
            bool keyed = schema_row_key(l->schema, &l->copy, &l->key);
            row_bisect_add(l->bisect, l->copy.data + mark, l->copy.len - mark,
                           keyed ? l->key.data : NULL, keyed ? l->key.len : 0, row, file_idx);
            l->copy.len = mark;
        } else {
            /* direct: held in the run; a row without a key sorts first */
            const struct table_def *t = l->o.table;
            uint64_t prefix = l->have_key ? row_sort_prefix(t->cols[t->key[0]].type.kind,
                                                            l->key.data, l->key.len)
                                          : 0;
            row_sort_add(l->run, prefix, mark, l->copy.len - mark);
        }
        bf->sent++;
        l->open_rows++;
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
 * duplicate_key, worded as staging words it, for a key loaded already), and no longer counts as
 * sent. */
static void refused_row(void *ctx, const struct row_bisect_refusal *r)
{
    struct loader *l = ctx;
    struct batch_file *bf = &l->b->files[r->file_idx];
    struct verdict v = {.code = REJECT_DB_REJECTED, .column = -1};
    /* a repeat of the key sluice knows; another unique constraint is a plain refusal */
    const char *key_index = l->o.table->key_index;
    bool on_key = r->duplicate && r->key &&
                  (!r->constraint || !key_index || strcmp(r->constraint, key_index) == 0);
    if (on_key && l->o.on_conflict == LOADER_CONFLICT_SKIP) {
        bf->sent--; /* its key is loaded: dropped, as staging drops it */
        bf->skipped++;
        metrics_batch_conflicts(1, 0);
        return;
    }
    if (on_key && l->o.on_conflict == LOADER_CONFLICT_UPDATE) {
        /* upserted after its group (careful_flush), in staging's COPY format */
        buf_printf(&l->careful_upserts, "%zu\t%" PRIu64 "\t", r->file_idx, r->line);
        buf_append(&l->careful_upserts, r->copy_line, r->copy_len - 1);
        buf_putc(&l->careful_upserts, '\t');
        copy_text_escape(&l->careful_upserts, r->raw, r->raw_len);
        buf_putc(&l->careful_upserts, '\n');
        l->careful_pending++;
        return;
    }
    if (on_key) {
        struct buf key = {.data = (char *)r->key, .len = r->key_len, .cap = r->key_len};
        schema_duplicate_verdict(l->schema, &key, &v);
    } else {
        if (r->duplicate) /* a unique constraint other than the key sluice knows */
            v.code = REJECT_DUPLICATE_KEY;
        v.column = r->column ? table_def_column(l->o.table, r->column) : -1;
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

static enum sink_result stage_resolve(struct loader *l, PGconn *conn, struct batch *b,
                                      uint64_t sent);

/* Careful + update mode: the copies the group's COPY refused because their key is loaded go
 * through staging and its upsert, in the order read. */
static enum sink_result careful_upsert(struct loader *l, PGconn *conn)
{
    uint64_t n = l->careful_pending;
    l->careful_pending = 0;
    enum sink_result r = sink_exec(conn, l->stage_create_sql, "create staging table");
    if (r != SINK_OK)
        return r;
    const char *cols = schema_copy_columns(l->schema);
    buf_reset(&l->open_cols);
    buf_append(&l->open_cols, cols, strlen(cols) + 1);
    char *sql = xasprintf("COPY sluice_stage (sluice_file_idx, sluice_line, %.*s, "
                          "sluice_raw_line) FROM STDIN",
                          (int)(strlen(cols) - 2), cols + 1);
    r = copy_sink_begin(conn, sql, "COPY rows to upsert");
    free(sql);
    if (r == SINK_OK)
        r = copy_sink_end(conn, &l->careful_upserts, n, "COPY rows to upsert");
    buf_reset(&l->careful_upserts);
    return r == SINK_OK ? stage_resolve(l, conn, l->b, n) : r;
}

/* Careful mode: load the rows held so far, with the COPY of the bound header's columns. */
static enum sink_result careful_flush(struct loader *l, PGconn *conn)
{
    char *sql = xasprintf("COPY %s %s FROM STDIN", l->o.table->sql_name,
                          schema_copy_columns(l->schema));
    enum sink_result r = row_bisect_flush(l->bisect, conn, sql, "COPY rows");
    free(sql);
    if (r == SINK_OK && l->careful_pending)
        r = careful_upsert(l, conn);
    return r;
}

/* Direct path: send the run held in l->copy in key order, COPY_FLUSH_BYTES at a time, and
 * start the next. */
static enum sink_result run_send(struct loader *l, PGconn *conn)
{
    const struct row_sort_entry *e = row_sort_sort(l->run);
    size_t n = row_sort_count(l->run);
    enum sink_result r = SINK_OK;
    buf_reset(&l->sorted);
    for (size_t i = 0; i < n && r == SINK_OK; i++) {
        buf_append(&l->sorted, l->copy.data + e[i].off, e[i].len);
        if (l->sorted.len >= COPY_FLUSH_BYTES || i + 1 == n)
            r = copy_sink_send(conn, &l->sorted);
    }
    row_sort_clear(l->run);
    buf_reset(&l->copy);
    return r;
}

/* Send what the rows so far make: a full group in careful mode, COPY data past the mark when
 * staging, else a full run. */
static enum sink_result send_rows(struct loader *l, PGconn *conn)
{
    if (l->careful)
        return row_bisect_full(l->bisect) ? careful_flush(l, conn) : SINK_OK;
    if (l->staging)
        return l->copy.len >= COPY_FLUSH_BYTES ? copy_sink_send(conn, &l->copy) : SINK_OK;
    return l->copy.len >= SORT_RUN_BYTES ? run_send(l, conn) : SINK_OK;
}

/* ---- COPY streams ------------------------------------------------------------------------- */

/* Update mode: upsert what is staged, counting per file. SINK_OK with *written set to the rows
 * inserted, updated or declined. */
static enum sink_result stage_upsert(struct loader *l, PGconn *conn, struct batch *b,
                                     uint64_t *written)
{
    PGresult *res = NULL;
    char *sql = stage_upsert_sql(l, l->open_cols.data);
    enum sink_result r =
        sink_query(conn, sql, 0, NULL, PGRES_TUPLES_OK, "upsert staged rows", &res);
    free(sql);
    if (r != SINK_OK)
        return r;
    uint64_t updated = 0, declined = 0;
    *written = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        size_t idx = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        uint64_t ins = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        uint64_t upd = strtoull(PQgetvalue(res, i, 2), NULL, 10);
        uint64_t dec = strtoull(PQgetvalue(res, i, 3), NULL, 10);
        if (idx < b->n) {
            b->files[idx].updated += upd;
            b->files[idx].dropped += dec;
        }
        updated += upd;
        declined += dec;
        *written += ins + upd + dec;
    }
    PQclear(res);
    metrics_batch_conflicts(declined, updated);
    return SINK_OK;
}

/* Staging mode: route the staged rows whose key repeats in the batch or is loaded already to
 * the dead letters (skip mode: drop them; update mode: drop the earlier copies of a repeated
 * key), counting per file; *dups: how many. */
static enum sink_result stage_route(struct loader *l, PGconn *conn, struct batch *b,
                                    uint64_t *dups)
{
    PGresult *res = NULL;
    bool reject = l->o.on_conflict == LOADER_CONFLICT_REJECT;
    struct buf names;
    buf_init(&names);
    for (size_t i = 0; i < b->n; i++)
        pgarray_add(&names, b->files[i].lf.name);
    const char *p[] = {pgarray_end(&names)};
    enum sink_result r = sink_query(conn, l->stage_route_sql, reject ? 1 : 0, p, PGRES_TUPLES_OK,
                                    reject ? "route duplicates" : "drop repeated keys", &res);
    buf_release(&names);
    if (r != SINK_OK)
        return r;
    *dups = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        size_t idx = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        uint64_t n = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        if (idx < b->n) {
            if (reject)
                b->files[idx].duplicates += n;
            else
                b->files[idx].dropped += n;
        }
        *dups += n;
    }
    PQclear(res);
    if (!reject)
        metrics_batch_conflicts(*dups, 0);
    return SINK_OK;
}

/* Staging mode: route the duplicates (stage_route), insert (update mode: upsert) the rest, and
 * empty the staging table for the next layout. Every row sent is accounted for once. */
static enum sink_result stage_resolve(struct loader *l, PGconn *conn, struct batch *b,
                                      uint64_t sent)
{
    PGresult *res = NULL;
    enum sink_result r;
    uint64_t dups = 0, more = 0, inserted;
    if (l->stage_route_sql) {
        if ((r = stage_route(l, conn, b, &dups)) != SINK_OK)
            return r;
        if (dups == 0)
            l->staging_batches = 0; /* no duplicates here: back to the direct path */
    }
    if (l->o.on_conflict == LOADER_CONFLICT_UPDATE) {
        uint64_t written;
        if ((r = stage_upsert(l, conn, b, &written)) != SINK_OK)
            return r;
        if (written + dups != sent) {
            log_error("ingest", "staging: %" PRIu64 " upserted + %" PRIu64 " collapsed != %" PRIu64
                                " sent", written, dups, sent);
            return SINK_FATAL;
        }
        return sink_exec(conn, "TRUNCATE sluice_stage", "empty the staging table");
    }
    const char *cols = l->open_cols.data;
    bool keyed = l->stage_tail != NULL;
    char *sql = keyed ? xasprintf("WITH i AS (INSERT INTO %s %s SELECT %.*s FROM sluice_stage "
                                  "ORDER BY %s%s",
                                  l->o.table->sql_name, cols, (int)(strlen(cols) - 2), cols + 1,
                                  l->stage_keys, l->stage_tail)
                      : xasprintf("INSERT INTO %s %s SELECT %.*s FROM sluice_stage",
                                  l->o.table->sql_name, cols, (int)(strlen(cols) - 2), cols + 1);
    r = sink_query(conn, sql, 0, NULL, keyed ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
                   "insert staged rows", &res);
    free(sql);
    if (r != SINK_OK)
        return r;
    inserted = strtoull(keyed ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (inserted + dups < sent && l->stage_route_sql &&
        (r = stage_route(l, conn, b, &more)) != SINK_OK) /* keys committed meanwhile */
        return r;
    if (inserted + dups + more != sent) {
        log_error("ingest", "staging: %" PRIu64 " inserted + %" PRIu64 " duplicates != %" PRIu64
                            " sent", inserted, dups + more, sent);
        return SINK_FATAL;
    }
    return sink_exec(conn, "TRUNCATE sluice_stage", "empty the staging table");
}

/* End the open COPY, if any, and resolve what it staged. */
static enum sink_result copy_close(struct loader *l, PGconn *conn, struct batch *b)
{
    if (!l->copy_open)
        return SINK_OK;
    l->copy_open = false;
    enum sink_result r = l->staging ? SINK_OK : run_send(l, conn);
    if (r != SINK_OK) {
        copy_sink_abort(conn, "sluice could not send the data");
        return r;
    }
    r = copy_sink_end(conn, &l->copy, l->open_rows, "COPY rows");
    if (r == SINK_OK && l->staging)
        r = stage_resolve(l, conn, b, l->open_rows);
    return r;
}

/* Make the open COPY the one for the columns the bound header has: files with the same columns
 * share one COPY, and a file with other columns starts the next. */
static enum sink_result copy_for_layout(struct loader *l, PGconn *conn, struct batch *b)
{
    if (l->careful)
        return SINK_OK; /* careful mode opens one COPY per group */
    const char *cols = schema_copy_columns(l->schema);
    if (l->copy_open && strcmp(l->open_cols.data, cols) == 0)
        return SINK_OK;
    enum sink_result r = copy_close(l, conn, b);
    if (r != SINK_OK)
        return r;
    buf_reset(&l->open_cols);
    buf_append(&l->open_cols, cols, strlen(cols) + 1);
    char *sql = l->staging
                    ? xasprintf("COPY sluice_stage (sluice_file_idx, sluice_line, %.*s, "
                                "sluice_raw_line) FROM STDIN",
                                (int)(strlen(cols) - 2), cols + 1)
                    : xasprintf("COPY %s %s FROM STDIN", l->o.table->sql_name, cols);
    r = copy_sink_begin(conn, sql, "COPY rows");
    free(sql);
    if (r != SINK_OK)
        return r;
    l->copy_open = true;
    l->open_rows = 0;
    return SINK_OK;
}

/* The file's header line, as text (like a raw_line), for its ledger row: `sluice replay` reads a
 * dead letter under it. */
static void keep_header(struct loader *l, struct batch_file *bf, const struct csv_row *row)
{
    bf->header_at = l->headers.len + 1;
    copy_text_bytes_encode(&l->headers, row->raw, row->raw_len);
    buf_putc(&l->headers, '\0');
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
        enum sink_result r = copy_for_layout(l, conn, b);
        if (r != SINK_OK)
            return r;
    }
    csv_reader_reset(l->reader, bf->lf.offset, bf->lf.line);
    idset_clear(l->file_ids);
    uint64_t off = bf->lf.offset;
    for (;;) {
        enum csv_next n;
        while ((n = csv_reader_next(l->reader, &row)) == CSV_ROW) {
            if (!header_bound) {
                keep_header(l, bf, &row);
                if (schema_bind_header(l->schema, &row, &v) < 0) {
                    reject_file(l, bf, &row, &v);
                    return SINK_OK;
                }
                header_bound = true;
                enum sink_result r = copy_for_layout(l, conn, b);
                if (r != SINK_OK)
                    return r;
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

/* After the claim: what each file needs in this batch. */
static void decide(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        bf->end_offset = bf->lf.offset;
        bf->end_line = bf->lf.line;
        if (bf->lf.busy)
            bf->action = BATCH_SKIP_BUSY;
        else if (strcmp(bf->lf.status, "loading") != 0 || bf->lf.seg_passed)
            bf->action = BATCH_SKIP_DONE;
        else if (bf->quarantine_why)
            bf->action = BATCH_QUARANTINE;
        else
            bf->action = BATCH_LOAD;
    }
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
    enum sink_result r;
    if (l->staging && (r = sink_exec(conn, l->stage_create_sql, "create staging table")) != SINK_OK)
        return r;
    l->copy_open = false;
    for (size_t i = 0; i < b->n; i++) {
        struct batch_file *bf = &b->files[i];
        if (bf->action != BATCH_LOAD)
            continue;
        r = load_file(l, conn, b, i);
        if (r == SINK_OK && l->careful)
            r = careful_flush(l, conn); /* before the next file binds its header */
        if (r != SINK_OK) {
            if (l->copy_open)
                copy_sink_abort(conn, "sluice could not read its input; the batch is redone");
            l->copy_open = false;
            return r;
        }
        b->in_bytes += bf->end_offset - bf->lf.offset;
        if (!bf->at_eof) {
            batch_defer_rest(b, bf); /* batch full: the rest waits for the next batch */
            break;
        }
    }
    return copy_close(l, conn, b);
}

static enum sink_result copy_dead_letters(struct loader *l, PGconn *conn, struct batch *b)
{
    uint64_t nrej = 0;
    for (size_t i = 0; i < b->n; i++)
        nrej += b->files[i].rejected;
    char *sql = xasprintf("COPY %s %s FROM STDIN", l->o.dlq_sql_name,
                          schema_reject_columns(l->schema));
    enum sink_result r = copy_sink_begin(conn, sql, "COPY dead letters");
    free(sql);
    if (r != SINK_OK)
        return r;
    fault_point("mid-deadletter");
    return copy_sink_end(conn, &l->rej, nrej, "COPY dead letters");
}

static enum sink_result run(struct loader *l, PGconn *conn, struct batch *b)
{
    buf_reset(&l->copy);
    buf_reset(&l->rej);
    buf_reset(&l->headers);
    row_sort_clear(l->run);
    row_bisect_clear(l->bisect);
    buf_reset(&l->careful_upserts);
    l->careful_pending = 0;
    l->b = b;
    l->refused = 0;
    batch_start_attempt(b);
    metrics_batch_begin();

    enum sink_result r = sink_exec(conn, "BEGIN", "BEGIN");
    /* Deferred constraints are checked row by row too, not all at COMMIT. */
    if (r == SINK_OK && l->careful)
        r = sink_exec(conn, "SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS");
    bool segment = b->n == 1 && b->lf[0]->segment;
    if (r == SINK_OK)
        r = segment ? ledger_claim_segment(conn, l->o.table->name, b->lf[0])
                    : ledger_claim(conn, l->o.table->name, b->lf, b->n);
    if (r != SINK_OK)
        return r;
    fault_point("claimed");
    decide(b);
    for (size_t i = 0; i < b->n && !segment; i++)
        if (b->files[i].action == BATCH_SKIP_BUSY) {
            if ((r = ledger_free_stalled(conn, l->o.table->name, &l->stalls, b->lf, b->n,
                                         l->o.lock_timeout)) != SINK_OK)
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
    for (size_t i = 0; i < b->n; i++)
        if (b->files[i].header_at)
            b->files[i].lf.header_line = l->headers.data + b->files[i].header_at - 1;
    if (segment && b->lf[0]->seg_wait && b->files[0].action == BATCH_LOAD) {
        fault_point("segment-turn");
        if ((r = ledger_wait_turn(conn, b->lf[0]->seg_wait_key)) != SINK_OK)
            return r;
    }
    if ((r = ledger_advance(conn, l->o.table->name, b->lf, b->n)) != SINK_OK)
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
    if (!l->careful && l->staging && r == SINK_DUPLICATE) {
        /* Staging routes repeats of the key; a unique violation left is another unique
         * constraint's: careful mode finds those rows one by one. */
        log_info("ingest", "a unique constraint other than the key refused a staged row; "
                 "redoing the batch in careful mode");
        r = SINK_REJECTED;
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
