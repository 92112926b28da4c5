/*
 * cmd_status.c - `sluice status`: where the pipeline stands, read from the hot folder, the
 * ledger (ingest_files) and the dead letters of one target table (--table, --dlq-table;
 * user_activity and user_activity_errors by default). Other pipelines sharing the database are
 * not counted: only the ledger rows of this table, and its own dead-letter table.
 *
 * It needs no ingester running and sees the work of every ingester sharing the folder, because
 * it reads only what they all write: the folder and the database. It only reads: no schema is
 * applied, no lock taken, and each query runs under a short statement_timeout. A file in the hot
 * folder counts as pending unless the ledger has it finished (done or quarantined) under the same
 * name and size; rates count a file's rows at its last commit. Human table by default, --json for
 * scripts; --max-lag SECONDS exits 1 when the oldest pending file is older (or when the database
 * cannot be read), for cron and monitoring checks.
 */
#include "commands.h"

#include "clock.h"
#include "config.h"
#include "copy_sink.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "name_codec.h"
#include "table_name.h"
#include "validate.h"
#include "watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char cmd_status_help[] =
    "Show where the pipeline stands: files pending in the hot folder and in the ledger, the\n"
    "oldest pending file's age, the last commit, rows/s over the last minute and hour, dead\n"
    "letters by error code, quarantined files and files waiting to be archived. Reads only; needs\n"
    "no ingester running. Exit 1 with --max-lag when the oldest pending file is older.";

struct status {
    uint64_t folder_files, folder_bytes;
    double folder_oldest; /* Unix seconds, 0 = none */
    long loading, done, quarantined, archived, to_archive;
    double loading_oldest;         /* file_mtime of the oldest file being loaded, 0 = none */
    double last_commit;            /* Unix seconds, 0 = never */
    double rows_minute, rows_hour; /* rows committed in the last minute / hour */
    long dead_total;
    long dead[REJECT_CODE_COUNT];
    long dead_other; /* codes sluice does not know (rows from the original project) */
    bool no_schema;  /* no ingester has connected yet: nothing is loaded */
    char *table;     /* the target as the catalog names it (the ledger's key) */
    char *dlq;       /* the dead-letter table, as the catalog names it */
};

/* A query with at most one parameter; NULL after printing the error. Caller clears. */
static PGresult *query(PGconn *conn, const char *sql, const char *param)
{
    const char *p[] = {param};
    PGresult *res = PQexecParams(conn, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "sluice status: query failed: %s", PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

static double num(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}

/* The hot folder's candidate files that the ledger does not have finished. */
static int read_folder(PGconn *conn, const char *input_dir, struct status *st)
{
    DIR *d = opendir(input_dir);
    if (!d) {
        fprintf(stderr, "sluice status: cannot read hot folder '%s': %m\n", input_dir);
        return -1;
    }
    struct buf names, sizes, mtimes;
    buf_init(&names);
    buf_init(&sizes);
    buf_init(&mtimes);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        if (!watch_name_matches(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
            continue;
        char tmp[64];
        char *lname = name_encode(de->d_name, strlen(de->d_name)); /* as the ledger has it */
        pgarray_add(&names, lname);
        free(lname);
        pgarray_add_u64(&sizes, (uint64_t)sb.st_size);
        snprintf(tmp, sizeof(tmp), "%.6f",
                 clock_seconds(&sb.st_mtim));
        pgarray_add(&mtimes, tmp);
        if (st->no_schema) { /* nothing is loaded yet: every file is pending */
            double mt = clock_seconds(&sb.st_mtim);
            st->folder_files++;
            st->folder_bytes += (uint64_t)sb.st_size;
            if (st->folder_oldest == 0 || mt < st->folder_oldest)
                st->folder_oldest = mt;
        }
    }
    closedir(d);
    int rc = 0;
    if (names.len && !st->no_schema) {
        const char *p[] = {pgarray_end(&names), pgarray_end(&sizes), pgarray_end(&mtimes),
                           st->table};
        PGresult *res = PQexecParams(
            conn,
            "SELECT count(*), coalesce(sum(s), 0), min(m) FROM unnest($1::text[], $2::bigint[], "
            "$3::float8[]) AS t(n, s, m) WHERE NOT EXISTS (SELECT 1 FROM ingest_files f WHERE "
            "f.target_table = $4 AND f.file_name = t.n AND f.size_bytes = t.s "
            "AND f.status IN ('done', 'quarantined'))",
            4, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            st->folder_files = (uint64_t)num(res, 0, 0);
            st->folder_bytes = (uint64_t)num(res, 0, 1);
            st->folder_oldest = num(res, 0, 2);
        } else {
            fprintf(stderr, "sluice status: query failed: %s", PQerrorMessage(conn));
            rc = -1;
        }
        PQclear(res);
    }
    buf_release(&names);
    buf_release(&sizes);
    buf_release(&mtimes);
    return rc;
}

static int read_database(PGconn *conn, const struct config *c, struct status *st)
{
    char err[512];
    int found = table_name_resolve(conn, c->table, &st->table, err, sizeof(err));
    if (found < 0) {
        fprintf(stderr, "sluice status: %s\n", err);
        return -1;
    }
    char dlq_err[512];
    int dlq_found = table_name_resolve(conn, c->dlq_table, &st->dlq, dlq_err, sizeof(dlq_err));
    if (dlq_found < 0) {
        fprintf(stderr, "sluice status: %s\n", dlq_err);
        return -1;
    }
    PGresult *res = query(conn, "SELECT to_regclass('ingest_files') IS NULL", NULL);
    if (!res)
        return -1;
    st->no_schema = !found || !dlq_found || strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (st->no_schema) {
        fprintf(stderr, "sluice status: %s: nothing loaded into it yet\n",
                !found ? err : !dlq_found ? dlq_err : "no ledger in this database");
        return 0;
    }
    res = query(
        conn,
        "SELECT count(*) FILTER (WHERE status = 'loading'), "
        "count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'quarantined'), "
        "count(*) FILTER (WHERE archived_at IS NOT NULL), "
        "count(*) FILTER (WHERE status = 'done' AND archived_at IS NULL), "
        "extract(epoch FROM min(file_mtime) FILTER (WHERE status = 'loading')), "
        "extract(epoch FROM max(committed_at)), "
        "coalesce(sum(rows_loaded + rows_rejected + rows_skipped + rows_updated) FILTER "
        "(WHERE committed_at > now() - interval '1 minute'), 0), "
        "coalesce(sum(rows_loaded + rows_rejected + rows_skipped + rows_updated) FILTER "
        "(WHERE committed_at > now() - interval '1 hour'), 0) "
        "FROM ingest_files WHERE target_table = $1",
        st->table);
    if (!res)
        return -1;
    st->loading = (long)num(res, 0, 0);
    st->done = (long)num(res, 0, 1);
    st->quarantined = (long)num(res, 0, 2);
    st->archived = (long)num(res, 0, 3);
    st->to_archive = (long)num(res, 0, 4);
    st->loading_oldest = num(res, 0, 5);
    st->last_commit = num(res, 0, 6);
    st->rows_minute = num(res, 0, 7) / 60;
    st->rows_hour = num(res, 0, 8) / 3600;
    PQclear(res);
    char *dlq_q = table_name_quote(conn, st->dlq);
    char *sql = xasprintf("SELECT error_code, count(*) FROM %s GROUP BY 1", dlq_q ? dlq_q : "");
    res = dlq_q ? query(conn, sql, NULL) : NULL;
    free(sql);
    free(dlq_q);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long n = (long)num(res, i, 1);
        st->dead_total += n;
        int c = REJECT_NONE + 1;
        while (c < REJECT_CODE_COUNT &&
               (PQgetisnull(res, i, 0) ||
                strcmp(PQgetvalue(res, i, 0), reject_code_name((enum reject_code)c)) != 0))
            c++;
        if (c < REJECT_CODE_COUNT)
            st->dead[c] += n;
        else
            st->dead_other += n;
    }
    PQclear(res);
    return 0;
}

static double age(double then, double now)
{
    return then > 0 && now > then ? now - then : 0;
}

static void print_json(const struct status *st, const char *input_dir, double now, double lag,
                       double max_lag)
{
    struct buf b;
    buf_init(&b);
    buf_append(&b, "{\"input_dir\":", 13);
    json_put_string(&b, input_dir);
    buf_printf(&b, ",\"table\":");
    if (st->table)
        json_put_string(&b, st->table);
    else
        buf_printf(&b, "null");
    buf_printf(&b,
               ",\"hot_folder\":{\"files_pending\":%" PRIu64 ",\"bytes_pending\":%" PRIu64
               ",\"oldest_pending_age\":%.3f},\"ledger\":{\"loading\":%ld,"
               "\"oldest_loading_age\":%.3f,\"done\":%ld,\"quarantined\":%ld,\"archived\":%ld,"
               "\"waiting_to_archive\":%ld},\"oldest_pending_age\":%.3f,",
               st->folder_files, st->folder_bytes, age(st->folder_oldest, now), st->loading,
               age(st->loading_oldest, now), st->done, st->quarantined, st->archived,
               st->to_archive, lag);
    if (st->last_commit > 0)
        buf_printf(&b, "\"last_commit\":%.3f,\"last_commit_age\":%.3f,", st->last_commit,
                   age(st->last_commit, now));
    else
        buf_append(&b, "\"last_commit\":null,\"last_commit_age\":null,", 42);
    buf_printf(&b,
               "\"rows_per_second\":{\"last_minute\":%.3f,\"last_hour\":%.3f},"
               "\"dead_letters\":{\"total\":%ld,\"by_code\":{",
               st->rows_minute, st->rows_hour, st->dead_total);
    for (int c = REJECT_NONE + 1; c < REJECT_CODE_COUNT; c++)
        buf_printf(&b, "%s\"%s\":%ld", c > 1 ? "," : "", reject_code_name((enum reject_code)c),
                   st->dead[c]);
    buf_printf(&b, ",\"other\":%ld}}", st->dead_other);
    if (max_lag >= 0)
        buf_printf(&b, ",\"max_lag\":%.3f,\"lagging\":%s", max_lag,
                   lag > max_lag ? "true" : "false");
    buf_append(&b, "}\n", 2);
    fwrite(b.data, 1, b.len, stdout);
    buf_release(&b);
}

static void print_age(const char *label, double seconds)
{
    if (seconds <= 0)
        printf("  %-26s none\n", label);
    else if (seconds < 120)
        printf("  %-26s %.1f s\n", label, seconds);
    else if (seconds < 7200)
        printf("  %-26s %.1f min\n", label, seconds / 60);
    else
        printf("  %-26s %.1f h\n", label, seconds / 3600);
}

static void print_human(const struct status *st, const char *input_dir, double now, double lag)
{
    printf("hot folder %s\n", input_dir);
    printf("  %-26s %" PRIu64 " (%" PRIu64 " bytes)\n", "files pending", st->folder_files,
           st->folder_bytes);
    print_age("oldest pending", age(st->folder_oldest, now));
    printf("ledger (ingest_files) of %s\n", st->table ? st->table : "(no such table)");
    printf("  %-26s %ld\n", "files being loaded", st->loading);
    print_age("oldest being loaded", age(st->loading_oldest, now));
    printf("  %-26s %ld\n", "files done", st->done);
    printf("  %-26s %ld\n", "files quarantined", st->quarantined);
    printf("  %-26s %ld\n", "files waiting to archive", st->to_archive);
    printf("  %-26s %ld\n", "files archived", st->archived);
    printf("throughput\n");
    if (st->last_commit > 0) {
        time_t t = (time_t)st->last_commit;
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("  %-26s %s (%.1f s ago)\n", "last commit", when, age(st->last_commit, now));
    } else {
        printf("  %-26s never\n", "last commit");
    }
    printf("  %-26s %.1f\n", "rows/s, last minute", st->rows_minute);
    printf("  %-26s %.1f\n", "rows/s, last hour", st->rows_hour);
    printf("dead letters (%s)\n", st->dlq ? st->dlq : "no such table");
    printf("  %-26s %ld\n", "total", st->dead_total);
    for (int c = REJECT_NONE + 1; c < REJECT_CODE_COUNT; c++)
        if (st->dead[c])
            printf("  %-26s %ld\n", reject_code_name((enum reject_code)c), st->dead[c]);
    if (st->dead_other)
        printf("  %-26s %ld\n", "(other codes)", st->dead_other);
    print_age("oldest pending, overall", lag);
}

int cmd_status(struct cmd_context *ctx)
{
    const struct config *c = &ctx->cfg;
    char *conninfo = config_conninfo(c);
    const char *keys[] = {"dbname", "application_name", "connect_timeout", "options", NULL};
    const char *vals[] = {conninfo, "sluice-status", "5", "-c statement_timeout=30000", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    struct status st;
    memset(&st, 0, sizeof(st));
    int rc = 1;
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "sluice status: cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
        goto out;
    }
    if (read_database(conn, c, &st) < 0 || read_folder(conn, c->input_dir, &st) < 0)
        goto out;
    double now = clock_wall();
    double lag = age(st.folder_oldest, now);
    if (age(st.loading_oldest, now) > lag)
        lag = age(st.loading_oldest, now);
    if (c->json)
        print_json(&st, c->input_dir, now, lag, c->max_lag);
    else
        print_human(&st, c->input_dir, now, lag);
    rc = 0;
    if (c->max_lag >= 0 && lag > c->max_lag) {
        fprintf(stderr, "sluice status: oldest pending file is %.1f s old, over --max-lag %g\n",
                lag, c->max_lag);
        rc = 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sluice status: cannot write the output\n");
        rc = 1;
    }
out:
    free(st.table);
    free(st.dlq);
    PQfinish(conn);
    free(conninfo);
    return rc;
}
