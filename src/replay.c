/*
 * replay.c - a second chance for dead letters: each selected one is re-read from its raw_line
 * under the header its file had (kept in the ledger), judged by the current contract exactly as
 * the ingester judges a row, and in one transaction per batch
 *
 *   SELECT ... FROM dlq ... ORDER BY error_id LIMIT n FOR UPDATE SKIP LOCKED
 *   COPY sluice_replay_stage FROM STDIN      the rows that now pass, encoded as the loader does
 *   DELETE FROM sluice_replay_stage USING t  keys already loaded (and, in C, keys repeated in the
 *                                            batch): duplicate_key again, or with --on-conflict
 *                                            skip, dropped; update mode instead drops the
 *                                            batch's earlier copies of a key
 *   INSERT INTO t SELECT ... FROM stage      (update: the loader's upsert, --update-if guard
 *                                            included); a row the server refuses is found row
 *                                            by row under savepoints and stays, db_rejected
 *   DELETE FROM dlq WHERE error_id = ANY     the rows that moved or were dropped
 *   UPDATE dlq SET error_code, ...           the rows that stay: new verdict, replay_count + 1
 *   COMMIT
 *
 * so a crash at any point leaves every row in exactly one of the two tables. Rows are taken in
 * error_id order with keyset paging (memory holds one batch). The selected rows are locked with
 * FOR UPDATE SKIP LOCKED: a second replay running at the same time skips them and can never move
 * a row twice; a row it skipped is left for a later run.
 *
 * Refused, untouched: dead letters of files refused whole (bad_header, bad_file: the file is to
 * be dropped in again), row_too_long ones (raw_line holds only the row's start), and those whose
 * file has no header in the ledger (loaded before it kept them) or several different ones.
 *
 * --dry-run runs the same checks, duplicates against the table included, inserts nothing and
 * rolls every batch back; rows the server itself would refuse (db_rejected) are not foreseen.
 */
#include "replay.h"

#include "copy_sink.h"
#include "copy_text.h"
#include "csv_reader.h"
#include "db.h"
#include "fault.h"
#include "idset.h"
#include "loader.h"
#include "log.h"
#include "mem.h"
#include "table_name.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE "sluice_replay_stage"

/* ROW_SKIPPED: leaves the dead letters without going in (--on-conflict skip, or update's
 * earlier copy of a key, or a copy the --update-if guard declined). */
enum row_fate { ROW_REFUSED, ROW_FAILING, ROW_MOVING, ROW_SKIPPED };

struct replay_row {
    char error_id[24];
    long long id;
    int old_code; /* enum reject_code, or -1 for a name this sluice does not know */
    enum row_fate fate;
    enum replay_refusal refusal; /* ROW_REFUSED: why */
    bool updated;                /* ROW_MOVING in update mode: it replaced a stored row */
    size_t layout;
    struct verdict v;
    bool has_key;
    size_t key_at, key_len; /* in replay.keys */
};

/* The rows of one header layout (the columns their files have): one COPY each. */
struct layout {
    char *cols; /* "(a, b, c)" */
    struct buf lines;
    uint64_t n;
};

struct replay {
    const struct replay_options *o;
    struct schema *schema;
    struct csv_reader *reader;
    struct buf bound; /* the header text bound now */
    bool bound_ok;
    struct verdict bound_v;
    size_t bound_layout;
    struct buf bytes, keys, key;
    struct idset *ids;
    struct replay_row *rows;
    size_t nrows, cap;
    struct layout *layouts;
    size_t nlayouts;
    char *stage_sql, *dup_sql, *superseded_sql, *upsert_join;
};

static const char *const refusal_text[REPLAY_REFUSED_COUNT] = {
    [REPLAY_REFUSED_QUARANTINED] = "of files refused whole (bad_header, bad_file): drop the fixed "
                                   "file in again instead",
    [REPLAY_REFUSED_CUT] = "row_too_long: raw_line holds only the start of the row; drop the "
                           "fixed file in again instead",
    [REPLAY_REFUSED_NO_HEADER] = "of files loaded before the ledger kept header lines: drop the "
                                 "file in again instead",
    [REPLAY_REFUSED_AMBIGUOUS] = "of file names loaded with different header lines: the header "
                                 "cannot be told",
};

const char *replay_refusal_text(enum replay_refusal r)
{
    return refusal_text[r];
}

static int code_index(const char *name)
{
    if (strcmp(name, "duplicate_event_id") == 0) /* the name before keys came from the table */
        return REJECT_DUPLICATE_KEY;
    for (int i = 1; i < REJECT_CODE_COUNT; i++)
        if (strcmp(name, reject_code_name((enum reject_code)i)) == 0)
            return i;
    return -1;
}

/* Run a statement; 0 (with *out when asked), or -1 after logging. */
static int run(PGconn *conn, const char *sql, int n, const char *const *p, ExecStatusType want,
               const char *what, PGresult **out)
{
    return sink_query(conn, sql, n, p, want, what, out) == SINK_OK ? 0 : -1;
}

/* Does this SQLSTATE say the server refused a row's data (a value, a constraint, a trigger, a
 * key already there)? */
static bool row_refused(const char *state)
{
    return db_sqlstate_row_refused(state) || strcmp(state, "23505") == 0;
}

static void make_sql(struct replay *r)
{
    const struct table_def *t = &r->o->contract->table;
    r->stage_sql = xasprintf("CREATE TEMP TABLE IF NOT EXISTS " STAGE " ON COMMIT DELETE ROWS AS "
                             "SELECT NULL::bigint AS sluice_error_id, t.* FROM %s t WITH NO DATA",
                             t->sql_name);
    if (t->nkey == 0)
        return;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "DELETE FROM " STAGE " s USING %s u WHERE ", t->sql_name);
    for (size_t k = 0; k < t->nkey; k++) {
        const char *name = t->cols[t->key[k]].name;
        buf_printf(&b, "%su.", k ? " AND " : "");
        sql_append_ident(&b, name);
        buf_printf(&b, " = s.");
        sql_append_ident(&b, name);
    }
    buf_printf(&b, " RETURNING s.sluice_error_id");
    buf_putc(&b, '\0');
    r->dup_sql = b.data;
    if (r->o->contract->on_conflict != LOADER_CONFLICT_UPDATE)
        return;
    /* update mode: the last copy of a key in the batch wins; the row that replaced a stored
     * one, and the one that went in new (or with a NULL in its key), told apart per row */
    struct buf e, j;
    buf_init(&e);
    buf_init(&j);
    buf_printf(&e, "DELETE FROM " STAGE " s USING " STAGE " s2 WHERE ");
    for (size_t k = 0; k < t->nkey; k++) {
        const char *name = t->cols[t->key[k]].name;
        buf_printf(&e, "s2.");
        sql_append_ident(&e, name);
        buf_printf(&e, " = s.");
        sql_append_ident(&e, name);
        buf_printf(&e, " AND ");
        buf_printf(&j, "%s", k ? " OR " : "CASE WHEN u.sluice_new OR ");
        buf_printf(&j, "s.");
        sql_append_ident(&j, name);
        buf_printf(&j, " IS NULL");
    }
    buf_printf(&e, "s2.sluice_error_id > s.sluice_error_id RETURNING s.sluice_error_id");
    buf_putc(&e, '\0');
    r->superseded_sql = e.data;
    buf_printf(&j, " THEN 'i' WHEN NOT u.sluice_new THEN 'u' ELSE 'd' END FROM " STAGE
                   " s LEFT JOIN u ON ");
    for (size_t k = 0; k < t->nkey; k++) {
        const char *name = t->cols[t->key[k]].name;
        buf_printf(&j, "%ss.", k ? " AND " : "");
        sql_append_ident(&j, name);
        buf_printf(&j, " = u.");
        sql_append_ident(&j, name);
    }
    buf_putc(&j, '\0');
    r->upsert_join = j.data;
}

/* ---- judging one dead letter ------------------------------------------------------------- */

/* The batch's row with this error_id (the rows are in error_id order). */
static struct replay_row *row_of(struct replay *r, const char *error_id)
{
    long long id = strtoll(error_id, NULL, 10);
    size_t lo = 0, hi = r->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nrows && r->rows[lo].id == id ? &r->rows[lo] : NULL;
}

static void fail(struct replay_row *row, enum reject_code code, long column, const char *msg)
{
    row->fate = ROW_FAILING;
    row->v.code = code;
    row->v.column = column;
    snprintf(row->v.message, sizeof(row->v.message), "%s", msg);
}

/* Read text (as the ledger or raw_line hold it) into r->reader as a whole input starting at
 * `line`. */
static void read_text(struct replay *r, const char *text, size_t len, uint64_t line)
{
    buf_reset(&r->bytes);
    copy_text_bytes_decode(&r->bytes, text, len);
    csv_reader_reset(r->reader, 0, line);
    if (r->bytes.len)
        csv_reader_feed(r->reader, r->bytes.data, r->bytes.len);
    csv_reader_finish(r->reader);
}

/* Bind the header text, unless it is the one bound already. */
static void bind_header(struct replay *r, const char *text)
{
    size_t len = strlen(text);
    if (r->bound.len == len + 1 && memcmp(r->bound.data, text, len) == 0)
        return;
    buf_reset(&r->bound);
    buf_append(&r->bound, text, len + 1);
    read_text(r, text, len, 1);
    struct csv_row row;
    r->bound_ok = false;
    if (csv_reader_next(r->reader, &row) != CSV_ROW) {
        r->bound_v = (struct verdict){.code = REJECT_BAD_HEADER, .column = -1};
        snprintf(r->bound_v.message, sizeof(r->bound_v.message), "the header line is empty");
        return;
    }
    if (schema_bind_header(r->schema, &row, &r->bound_v) < 0)
        return;
    r->bound_ok = true;
    const char *cols = schema_copy_columns(r->schema);
    for (size_t i = 0; i < r->nlayouts; i++)
        if (strcmp(r->layouts[i].cols, cols) == 0) {
            r->bound_layout = i;
            return;
        }
    r->layouts = xrealloc(r->layouts, (r->nlayouts + 1) * sizeof(*r->layouts));
    struct layout *l = &r->layouts[r->nlayouts];
    l->cols = xstrdup(cols);
    buf_init(&l->lines);
    l->n = 0;
    r->bound_layout = r->nlayouts++;
}

/* A key already loaded, or met earlier in the batch: a duplicate_key dead letter again, or with
 * --on-conflict skip, dropped. */
static void conflict(struct replay *r, struct replay_row *row)
{
    if (r->o->contract->on_conflict == LOADER_CONFLICT_SKIP) {
        row->fate = ROW_SKIPPED;
        return;
    }
    struct buf key;
    buf_init(&key);
    buf_append(&key, r->keys.data + row->key_at, row->key_len);
    schema_duplicate_verdict(r->schema, &key, &row->v);
    buf_release(&key);
    row->fate = ROW_FAILING;
}

/* Judge one dead letter: its fate, and for a row that passes, its COPY line in its layout. */
static void judge(struct replay *r, struct replay_row *row, const char *raw, uint64_t line,
                  const char *header)
{
    bind_header(r, header);
    if (!r->bound_ok) {
        row->fate = ROW_FAILING;
        row->v = r->bound_v;
        return;
    }
    struct layout *l = &r->layouts[r->bound_layout];
    read_text(r, raw, strlen(raw), line);
    struct csv_row csv;
    if (csv_reader_next(r->reader, &csv) != CSV_ROW) {
        fail(row, REJECT_WRONG_COLUMN_COUNT, -1, "raw_line holds no row");
        return;
    }
    size_t mark = l->lines.len;
    buf_printf(&l->lines, "%s\t", row->error_id);
    if (!schema_validate_row(r->schema, &csv, &l->lines, &row->v)) {
        l->lines.len = mark;
        row->fate = ROW_FAILING;
        return;
    }
    row->has_key = schema_row_key(r->schema, &l->lines, &r->key);
    if (csv_reader_next(r->reader, &csv) == CSV_ROW) {
        l->lines.len = mark;
        fail(row, REJECT_WRONG_COLUMN_COUNT, -1,
             "raw_line holds more than one row (a line end outside quotes)");
        return;
    }
    if (row->has_key) {
        row->key_at = r->keys.len;
        row->key_len = r->key.len;
        buf_append(&r->keys, r->key.data, r->key.len);
        /* an earlier dead letter of this batch has the key: it goes first (update mode: the
         * last one wins, in SQL) */
        if (r->o->contract->on_conflict != LOADER_CONFLICT_UPDATE &&
            !idset_insert(r->ids, r->key.data, r->key.len)) {
            l->lines.len = mark;
            conflict(r, row);
            return;
        }
    }
    row->fate = ROW_MOVING;
    row->layout = r->bound_layout;
    l->n++;
}

/* ---- the batch's statements -------------------------------------------------------------- */

/* The rows of layout li one by one, each under a savepoint: what the server refuses stays. */
static int insert_each(struct replay *r, PGconn *conn, size_t li, const char *insert_one,
                       ExecStatusType want)
{
    bool upsert = want == PGRES_TUPLES_OK;
    for (size_t i = 0; i < r->nrows; i++) {
        struct replay_row *row = &r->rows[i];
        if (row->fate != ROW_MOVING || row->layout != li)
            continue;
        if (run(conn, "SAVEPOINT sluice_replay_row", 0, NULL, PGRES_COMMAND_OK, "savepoint", NULL) <
            0)
            return -1;
        const char *p[] = {row->error_id};
        PGresult *res = PQexecParams(conn, insert_one, 1, NULL, p, NULL, NULL, 0);
        const char *state = db_sqlstate(res);
        if (PQresultStatus(res) == want) {
            if (upsert && PQntuples(res) == 0)
                row->fate = ROW_SKIPPED; /* the guard declined it */
            else if (upsert)
                row->updated = PQgetvalue(res, 0, PQnfields(res) - 1)[0] == 'f';
            PQclear(res);
            if (run(conn, "RELEASE SAVEPOINT sluice_replay_row", 0, NULL, PGRES_COMMAND_OK,
                    "release savepoint", NULL) < 0)
                return -1;
            continue;
        }
        if (!row_refused(state)) {
            db_check(conn, res, want, "insert a replayed row");
            PQclear(res);
            return -1;
        }
        if (strcmp(state, "23505") == 0) {
            conflict(r, row);
        } else {
            const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
            const char *col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
            row->fate = ROW_FAILING;
            row->v.code = REJECT_DB_REJECTED;
            row->v.column = col ? table_def_column(&r->o->contract->table, col) : -1;
            snprintf(row->v.message, sizeof(row->v.message), "%s: %s%s%s", state,
                     msg ? msg : "refused", detail ? ": " : "", detail ? detail : "");
        }
        PQclear(res);
        if (run(conn, "ROLLBACK TO SAVEPOINT sluice_replay_row", 0, NULL, PGRES_COMMAND_OK,
                "rollback to savepoint", NULL) < 0)
            return -1;
    }
    return 0;
}

/* Insert the staged rows of layout li (update mode: upsert them, each row's outcome read back);
 * when the server refuses a row, again one by one. */
static int insert_layout(struct replay *r, PGconn *conn, size_t li)
{
    const struct table_def *t = &r->o->contract->table;
    const char *cols = r->layouts[li].cols;
    int inner = (int)(strlen(cols) - 2); /* without the parentheses */
    char *all, *one;
    ExecStatusType want = PGRES_COMMAND_OK;
    if (r->o->contract->on_conflict == LOADER_CONFLICT_UPDATE) {
        const char *guard = r->o->contract->update_if;
        char *upsert = loader_upsert_sql(t, cols, STAGE, guard);
        all = xasprintf("WITH u AS (%s) SELECT s.sluice_error_id, %s", upsert, r->upsert_join);
        free(upsert);
        one = loader_upsert_sql(
            t, cols, "(SELECT * FROM " STAGE " WHERE sluice_error_id = $1::bigint) s", guard);
        want = PGRES_TUPLES_OK;
    } else {
        all = xasprintf("INSERT INTO %s %s SELECT %.*s FROM " STAGE, t->sql_name, cols, inner,
                        cols + 1);
        one = xasprintf("INSERT INTO %s %s SELECT %.*s FROM " STAGE
                        " WHERE sluice_error_id = $1::bigint",
                        t->sql_name, cols, inner, cols + 1);
    }
    int rc = run(conn, "SAVEPOINT sluice_replay", 0, NULL, PGRES_COMMAND_OK, "savepoint", NULL);
    PGresult *res = rc < 0 ? NULL : PQexec(conn, all);
    if (rc == 0 && PQresultStatus(res) == want) {
        for (int i = 0; want == PGRES_TUPLES_OK && i < PQntuples(res); i++) {
            struct replay_row *row = row_of(r, PQgetvalue(res, i, 0));
            char outcome = PQgetvalue(res, i, 1)[0];
            if (row && outcome == 'd')
                row->fate = ROW_SKIPPED; /* the guard declined it */
            else if (row)
                row->updated = outcome == 'u';
        }
        rc = run(conn, "RELEASE SAVEPOINT sluice_replay", 0, NULL, PGRES_COMMAND_OK,
                 "release savepoint", NULL);
    } else if (rc == 0 && row_refused(db_sqlstate(res))) {
        log_info("replay",
                 "the server refused a row of the batch (%s): the batch's rows go in one by one",
                 db_sqlstate(res));
        rc = run(conn, "ROLLBACK TO SAVEPOINT sluice_replay", 0, NULL, PGRES_COMMAND_OK,
                 "rollback to savepoint", NULL);
        if (rc == 0)
            rc = insert_each(r, conn, li, one, want);
    } else if (rc == 0) {
        db_check(conn, res, want, "insert replayed rows");
        rc = -1;
    }
    PQclear(res);
    free(all);
    free(one);
    return rc;
}

/* Stage layout li's rows, route keys already loaded back to the dead letters, insert the rest. */
static int move_layout(struct replay *r, PGconn *conn, size_t li)
{
    struct layout *l = &r->layouts[li];
    const char *cols = l->cols;
    int inner = (int)(strlen(cols) - 2); /* without the parentheses */
    char *sql = xasprintf("COPY " STAGE " (sluice_error_id, %.*s) FROM STDIN", inner, cols + 1);
    enum sink_result s = copy_sink_begin(conn, sql, "COPY replayed rows");
    free(sql);
    if (s == SINK_OK)
        s = copy_sink_end(conn, &l->lines, l->n, "COPY replayed rows");
    if (s != SINK_OK)
        return -1;
    bool update = r->o->contract->on_conflict == LOADER_CONFLICT_UPDATE;
    /* update: earlier copies of a key give way; otherwise: keys already loaded (a dry run in
     * update mode counts those as the rows that would replace a stored one) */
    const char *route = update ? r->superseded_sql : r->dup_sql;
    if (route) {
        PGresult *res;
        if (run(conn, route, 0, NULL, PGRES_TUPLES_OK, "find keys already loaded", &res) < 0)
            return -1;
        for (int i = 0; i < PQntuples(res); i++) {
            struct replay_row *row = row_of(r, PQgetvalue(res, i, 0));
            if (row && update)
                row->fate = ROW_SKIPPED;
            else if (row)
                conflict(r, row);
        }
        PQclear(res);
    }
    if (update && r->o->dry_run && r->dup_sql) {
        PGresult *res;
        if (run(conn, r->dup_sql, 0, NULL, PGRES_TUPLES_OK, "find keys already loaded", &res) < 0)
            return -1;
        for (int i = 0; i < PQntuples(res); i++) {
            struct replay_row *row = row_of(r, PQgetvalue(res, i, 0));
            if (row)
                row->updated = true;
        }
        PQclear(res);
    }
    int rc = 0;
    if (!r->o->dry_run)
        rc = insert_layout(r, conn, li);
    if (rc == 0)
        rc = run(conn, "TRUNCATE " STAGE, 0, NULL, PGRES_COMMAND_OK, "empty the staging table",
                 NULL);
    return rc;
}

/* Delete the moved rows from the dead letters; give the others their new verdict. */
static int settle(struct replay *r, PGconn *conn, uint64_t moving)
{
    struct buf ids, fids, codes, columns, messages;
    struct buf *all[] = {&ids, &fids, &codes, &columns, &messages};
    for (size_t i = 0; i < 5; i++)
        buf_init(all[i]);
    struct buf text;
    buf_init(&text);
    uint64_t failing = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        struct replay_row *row = &r->rows[i];
        if (row->fate == ROW_MOVING || row->fate == ROW_SKIPPED) {
            pgarray_add(&ids, row->error_id);
            continue;
        }
        if (row->fate != ROW_FAILING)
            continue;
        failing++;
        pgarray_add(&fids, row->error_id);
        pgarray_add(&codes, reject_code_name(row->v.code));
        const struct table_def *t = &r->o->contract->table;
        pgarray_add(&columns, row->v.column >= 0 && (size_t)row->v.column < t->ncols
                                  ? t->cols[row->v.column].name
                                  : "");
        buf_reset(&text);
        copy_text_bytes_encode(&text, row->v.message,
                               strnlen(row->v.message, sizeof(row->v.message)));
        buf_putc(&text, '\0');
        pgarray_add(&messages, text.data);
    }
    buf_release(&text);
    int rc = 0;
    char *sql = NULL;
    PGresult *res = NULL;
    const char *dlq = r->o->contract->dlq_sql_name;
    if (moving) {
        sql = xasprintf("DELETE FROM %s WHERE error_id = ANY ($1::bigint[])", dlq);
        const char *p[] = {pgarray_end(&ids)};
        rc = run(conn, sql, 1, p, PGRES_COMMAND_OK, "delete the moved dead letters", &res);
        if (rc == 0 && strtoull(PQcmdTuples(res), NULL, 10) != moving) {
            log_error("replay", "deleted %s dead letters, not the %" PRIu64 " that leave",
                      PQcmdTuples(res), moving);
            rc = -1;
        }
        PQclear(res);
        res = NULL;
        free(sql);
        sql = NULL;
    }
    if (rc == 0 && failing) {
        sql = xasprintf("UPDATE %s d SET error_code = t.c, error_column = nullif(t.col, ''), "
                        "error_message = t.m, replay_count = d.replay_count + 1, "
                        "last_replayed_at = now() FROM unnest($1::bigint[], $2::text[], "
                        "$3::text[], $4::text[]) AS t(id, c, col, m) WHERE d.error_id = t.id",
                        dlq);
        const char *p[] = {pgarray_end(&fids), pgarray_end(&codes), pgarray_end(&columns),
                           pgarray_end(&messages)};
        rc = run(conn, sql, 4, p, PGRES_COMMAND_OK, "update the dead letters that stay", &res);
        if (rc == 0 && strtoull(PQcmdTuples(res), NULL, 10) != failing) {
            log_error("replay", "updated %s dead letters, not the %" PRIu64 " that stay",
                      PQcmdTuples(res), failing);
            rc = -1;
        }
        PQclear(res);
        free(sql);
    }
    for (size_t i = 0; i < 5; i++)
        buf_release(all[i]);
    return rc;
}

/* ---- one batch ---------------------------------------------------------------------------- */

static void batch_reset(struct replay *r)
{
    r->nrows = 0;
    buf_reset(&r->keys);
    idset_clear(r->ids);
    for (size_t i = 0; i < r->nlayouts; i++) {
        buf_reset(&r->layouts[i].lines);
        r->layouts[i].n = 0;
    }
}

/* Select the next batch after *after and judge it. -1 after logging; *got = rows selected. */
static int select_batch(struct replay *r, PGconn *conn, char *after, size_t *got)
{
    const struct replay_options *o = r->o;
    char limit[24];
    snprintf(limit, sizeof(limit), "%ld", o->batch_rows);
    char *sql = xasprintf(
        "SELECT d.error_id, coalesce(d.error_code, ''), coalesce(d.raw_line, ''), "
        "coalesce(d.line_number, 2), h.n, h.header FROM %s d LEFT JOIN LATERAL ("
        "SELECT count(DISTINCT f.header_line) AS n, min(f.header_line) AS header "
        "FROM ingest_files f WHERE f.target_table = $1 AND f.file_name = d.source_file) h ON true "
        "WHERE d.error_id > $2::bigint "
        "AND ($3::text IS NULL OR d.error_code = ANY (string_to_array($3, ','))) "
        "AND ($4::text IS NULL OR d.source_file = $4) "
        "AND ($5::timestamptz IS NULL OR d.ingestion_time >= $5::timestamptz) "
        "AND ($6::timestamptz IS NULL OR d.ingestion_time < $6::timestamptz) "
        "AND ($7::text IS NULL OR d.raw_line LIKE $7) "
        "ORDER BY d.error_id LIMIT $8::int%s",
        o->contract->dlq_sql_name, o->dry_run ? "" : " FOR UPDATE OF d SKIP LOCKED");
    const char *p[] = {o->table, after, o->codes, o->file, o->since, o->until, o->where_raw, limit};
    PGresult *res = NULL;
    int rc = run(conn, sql, 8, p, PGRES_TUPLES_OK, "select dead letters", &res);
    free(sql);
    if (rc < 0)
        return -1;
    size_t n = (size_t)PQntuples(res);
    *got = n;
    if (n > r->cap) {
        r->rows = xrealloc(r->rows, n * sizeof(*r->rows));
        r->cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        struct replay_row *row = &r->rows[r->nrows++];
        memset(row, 0, sizeof(*row));
        snprintf(row->error_id, sizeof(row->error_id), "%s", PQgetvalue(res, (int)i, 0));
        row->id = strtoll(row->error_id, NULL, 10);
        const char *code = PQgetvalue(res, (int)i, 1);
        row->old_code = code_index(code);
        long nheaders = strtol(PQgetvalue(res, (int)i, 4), NULL, 10);
        row->fate = ROW_REFUSED;
        if (row->old_code == REJECT_BAD_HEADER || row->old_code == REJECT_BAD_FILE)
            row->refusal = REPLAY_REFUSED_QUARANTINED;
        else if (row->old_code == REJECT_ROW_TOO_LONG)
            row->refusal = REPLAY_REFUSED_CUT;
        else if (nheaders == 0)
            row->refusal = REPLAY_REFUSED_NO_HEADER;
        else if (nheaders > 1)
            row->refusal = REPLAY_REFUSED_AMBIGUOUS;
        else
            judge(r, row, PQgetvalue(res, (int)i, 2),
                  strtoull(PQgetvalue(res, (int)i, 3), NULL, 10), PQgetvalue(res, (int)i, 5));
    }
    if (n)
        snprintf(after, 24, "%s", r->rows[n - 1].error_id);
    PQclear(res);
    return 0;
}

static void count(const struct replay *r, struct replay_counts *c)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct replay_row *row = &r->rows[i];
        c->selected++;
        switch (row->fate) {
        case ROW_REFUSED:
            c->refused[row->refusal]++;
            break;
        case ROW_FAILING:
            c->failing++;
            c->failing_as[row->v.code]++;
            break;
        case ROW_SKIPPED:
            c->skipped++;
            break;
        case ROW_MOVING:
            c->moved++;
            c->updated += row->updated;
            if (row->old_code >= 0)
                c->moved_from[row->old_code]++;
            else
                c->moved_other++;
            break;
        }
    }
    c->batches++;
}

static int one_batch(struct replay *r, PGconn *conn, char *after, size_t *got,
                     struct replay_counts *c)
{
    batch_reset(r);
    if (run(conn, "BEGIN", 0, NULL, PGRES_COMMAND_OK, "BEGIN", NULL) < 0 ||
        run(conn, r->stage_sql, 0, NULL, PGRES_COMMAND_OK, "create the staging table", NULL) < 0 ||
        select_batch(r, conn, after, got) < 0)
        return -1;
    for (size_t li = 0; li < r->nlayouts; li++)
        if (r->layouts[li].n && move_layout(r, conn, li) < 0)
            return -1;
    uint64_t moving = 0, leaving = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        moving += r->rows[i].fate == ROW_MOVING;
        leaving += r->rows[i].fate == ROW_MOVING || r->rows[i].fate == ROW_SKIPPED;
    }
    if (r->o->dry_run) {
        if (run(conn, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, "ROLLBACK", NULL) < 0)
            return -1;
        count(r, c);
        return 0;
    }
    fault_point("replay-after-insert");
    if (settle(r, conn, leaving) < 0)
        return -1;
    fault_point("replay-before-commit");
    if (run(conn, "COMMIT", 0, NULL, PGRES_COMMAND_OK, "COMMIT", NULL) < 0)
        return -1;
    fault_point("replay-after-commit");
    count(r, c);
    if (*got)
        log_info("replay",
                 "batch %" PRIu64 ": %zu dead letters, %" PRIu64 " moved (up to error_id "
                 "%s)",
                 c->batches, *got, moving, after);
    return 0;
}

int replay_run(PGconn *conn, const struct replay_options *o, struct replay_counts *c,
               const atomic_int *stop)
{
    memset(c, 0, sizeof(*c));
    struct schema_options so = {
        .table = &o->contract->table,
        .env = o->contract->env,
        .column_map = o->column_map,
        .strict_columns = o->strict_columns,
    };
    char err[256];
    struct schema *schema = schema_new(&so, err, sizeof(err));
    if (!schema) {
        log_error("replay", "%s", err);
        return -1;
    }
    struct replay r = {.o = o, .schema = schema};
    r.reader = csv_reader_new(o->max_row_bytes);
    r.ids = idset_new();
    buf_init(&r.bound);
    buf_init(&r.bytes);
    buf_init(&r.keys);
    buf_init(&r.key);
    make_sql(&r);
    char after[24] = "0";
    int rc = 0;
    for (;;) {
        if (stop && atomic_load(stop)) {
            log_warn("replay", "stopped before error_id %s; run it again for the rest", after);
            break;
        }
        size_t got = 0;
        if (one_batch(&r, conn, after, &got, c) < 0) {
            PQclear(PQexec(conn, "ROLLBACK"));
            rc = -1;
            break;
        }
        if (got < (size_t)o->batch_rows)
            break;
    }
    schema_free(schema);
    csv_reader_free(r.reader);
    idset_free(r.ids);
    buf_release(&r.bound);
    buf_release(&r.bytes);
    buf_release(&r.keys);
    buf_release(&r.key);
    for (size_t i = 0; i < r.nlayouts; i++) {
        free(r.layouts[i].cols);
        buf_release(&r.layouts[i].lines);
    }
    free(r.layouts);
    free(r.rows);
    free(r.stage_sql);
    free(r.dup_sql);
    free(r.superseded_sql);
    free(r.upsert_join);
    return rc;
}
