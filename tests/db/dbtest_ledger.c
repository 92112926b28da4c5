/* dbtest_ledger.c - the ledger against a real PostgreSQL (run by tests/integration/t_ledger.sh,
 * which starts a throwaway cluster and passes its conninfo in SLUICE_DB): claims and busy files,
 * the compare-and-set advance, re-dropped files, the archiver's paging and marking, and the
 * stalled-claim check that ends a stuck session but never a live COPY. Then a second target
 * table in the same database with the same file names: neither pipeline sees, blocks, advances,
 * archives or ends the other's. */
#include "clock.h"
#include "db.h"
#include "ledger.h"
#include "log.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *conninfo;

static PGconn *connect_db(void)
{
    PGconn *c = db_connect(conninfo, "test", 60, NULL);
    if (!c) {
        fprintf(stderr, "cannot connect to %s\n", conninfo);
        exit(2);
    }
    return c;
}

static void file_init(struct ledger_file *f, const char *name, const char *hash)
{
    memset(f, 0, sizeof(*f));
    f->name = name;
    snprintf(f->hash, sizeof(f->hash), "%s", hash);
    f->size = 100;
    f->mtime.tv_sec = 1700000000;
}

/* Two pipelines in one database. */
#define T1 "public.user_activity"
#define T2 "sales.orders"

static long long count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

/* A number from the ledger row of (table, file). */
static long long row_value(PGconn *c, const char *expr, const char *table, const char *file)
{
    const char *p[] = {table, file};
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM ingest_files WHERE target_table = $1 AND file_name = $2", expr);
    PGresult *r = PQexecParams(c, sql, 2, NULL, p, NULL, NULL, 0);
    long long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                      ? atoll(PQgetvalue(r, 0, 0))
                      : -1;
    PQclear(r);
    return n;
}

static void test_claim_advance_and_busy(PGconn *a, PGconn *b, const char *table)
{
    struct ledger_file f1, f2;
    file_init(&f1, "one.csv", "h1");
    file_init(&f2, "two.csv", "h2");
    struct ledger_file *files[] = {&f1, &f2};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, table, files, 2), SINK_OK);
    CHECK(!f1.busy && !f2.busy);
    CHECK_EQ_STR(f1.status, "loading");
    CHECK_EQ_LONG(f1.offset, 0);
    CHECK_EQ_LONG(f1.line, 1);

    /* the other session sees both busy while a holds them */
    struct ledger_file g1;
    file_init(&g1, "one.csv", "h1");
    struct ledger_file *gf[] = {&g1};
    CHECK_EQ_LONG(sink_exec(b, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(b, table, gf, 1), SINK_OK);
    CHECK(g1.busy);
    CHECK_EQ_LONG(sink_exec(b, "ROLLBACK", "ROLLBACK"), SINK_OK);

    f1.new_status = "loading";
    f1.new_offset = 60;
    f1.new_line = 5;
    f1.loaded = 3;
    f1.rejected = 1;
    f2.new_status = "done";
    f2.new_offset = 100;
    f2.new_line = 9;
    f2.loaded = 8;
    CHECK_EQ_LONG(ledger_advance(a, table, files, 2), SINK_OK);
    CHECK_EQ_LONG(sink_exec(a, "COMMIT", "COMMIT"), SINK_OK);
    CHECK_EQ_LONG(
        row_value(a, "committed_offset * 1000 + rows_loaded * 10 + rows_rejected", table, "one.csv"),
        60031);

    /* a claim after the commit resumes where the ledger says */
    CHECK_EQ_LONG(sink_exec(b, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(b, table, gf, 1), SINK_OK);
    CHECK(!g1.busy);
    CHECK_EQ_LONG(g1.offset, 60);
    CHECK_EQ_LONG(g1.line, 5);
    /* compare-and-set: an advance from a stale offset moves nothing and fails */
    g1.offset = 0;
    g1.new_status = "done";
    g1.new_offset = 100;
    CHECK_EQ_LONG(ledger_advance(b, table, gf, 1), SINK_FATAL);
    PQclear(PQexec(b, "ROLLBACK"));
    CHECK_EQ_LONG(row_value(a, "committed_offset", table, "one.csv"), 60);
}

static void test_archive_and_redrop(PGconn *a, const char *table)
{
    PGresult *page = NULL;
    CHECK_EQ_LONG(ledger_archive_page(a, table, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1); /* two.csv is done; one.csv is still loading */
    CHECK_EQ_STR(PQgetvalue(page, 0, 0), "two.csv");
    PQclear(page);
    CHECK_EQ_LONG(ledger_mark_archived(a, table, "two.csv", "h2", "two.csv"), SINK_OK);
    CHECK_EQ_LONG(ledger_archive_page(a, table, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 0);
    PQclear(page);

    /* the same content under the same name again: re-opened for the archiver */
    struct ledger_file f;
    file_init(&f, "two.csv", "h2");
    struct ledger_file *files[] = {&f};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, table, files, 1), SINK_OK);
    CHECK(f.redropped);
    CHECK_EQ_STR(f.status, "done");
    CHECK_EQ_STR(f.archived_as, "two.csv");
    CHECK(f.committed_at[0] != '\0');
    CHECK_EQ_LONG(sink_exec(a, "COMMIT", "COMMIT"), SINK_OK);
    CHECK_EQ_LONG(ledger_archive_page(a, table, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1);
    PQclear(page);
}

/* Session a holds a claim inside a COPY; b wants the file. */
static void hold_in_copy(PGconn *a, const char *table, const char *name)
{
    struct ledger_file f;
    file_init(&f, name, "h3");
    struct ledger_file *files[] = {&f};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, table, files, 1), SINK_OK);
    CHECK_EQ_LONG(sink_exec(a, "CREATE TEMP TABLE IF NOT EXISTS t (x text)", "temp"), SINK_OK);
    CHECK_EQ_LONG(copy_sink_begin(a, "COPY t FROM STDIN", "COPY"), SINK_OK);
}

/* b looks at the busy file every 100 ms for `seconds`, a sending a row every `every` seconds
 * (0: never). Returns true when a's session is still there at the end. */
static bool watch_holder(PGconn *a, PGconn *b, const char *table, const char *name,
                         double seconds, double every)
{
    struct ledger_stalls stalls;
    memset(&stalls, 0, sizeof(stalls));
    struct ledger_file f;
    file_init(&f, name, "h3");
    struct ledger_file *files[] = {&f};
    double t0 = clock_now(), last_send = t0;
    struct buf row;
    buf_init(&row);
    while (clock_now() - t0 < seconds) {
        if (every > 0 && clock_now() - last_send >= every) {
            buf_append(&row, "x\n", 2);
            PQputCopyData(a, row.data, (int)row.len);
            PQflush(a);
            buf_reset(&row);
            last_send = clock_now();
        }
        PQclear(PQexec(b, "BEGIN"));
        CHECK_EQ_LONG(ledger_claim(b, table, files, 1), SINK_OK);
        if (f.busy)
            CHECK_EQ_LONG(ledger_free_stalled(b, table, &stalls, files, 1, 1.0), SINK_OK);
        PQclear(PQexec(b, "ROLLBACK"));
        clock_sleep(0.1, NULL);
    }
    buf_release(&row);
    PGresult *r = PQexec(a, "");
    (void)r;
    PQclear(r);
    int pid = PQbackendPID(a);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
    return count(b, sql) == 1;
}

static void test_stalled_claims(void)
{
    /* a live COPY that keeps sending (every 0.3 s) is never ended, with lock-timeout 1 s */
    PGconn *a = connect_db(), *b = connect_db();
    hold_in_copy(a, T1, "live.csv");
    CHECK(watch_holder(a, b, T1, "live.csv", 3.0, 0.3));
    copy_sink_abort(a, "test done");
    PQclear(PQexec(a, "ROLLBACK"));
    CHECK_EQ_LONG(PQstatus(a), CONNECTION_OK);
    PQfinish(a);

    /* a COPY that does not move for over 1 s is ended, and its claim freed */
    a = connect_db();
    hold_in_copy(a, T1, "stuck.csv");
    CHECK(!watch_holder(a, b, T1, "stuck.csv", 3.0, 0));
    struct ledger_file f;
    file_init(&f, "stuck.csv", "h3");
    struct ledger_file *files[] = {&f};
    PQclear(PQexec(b, "BEGIN"));
    CHECK_EQ_LONG(ledger_claim(b, T1, files, 1), SINK_OK);
    CHECK(!f.busy);
    PQclear(PQexec(b, "ROLLBACK"));
    PQfinish(a);

    /* T1's pipeline with stuck.csv held still in its COPY is none of T2's business: T2 claims
     * its own stuck.csv freely, and its stalled-claim check (run as if the file were busy, with
     * a short timeout) ends nobody */
    a = connect_db();
    hold_in_copy(a, T1, "stuck.csv");
    struct ledger_stalls stalls;
    memset(&stalls, 0, sizeof(stalls));
    struct ledger_file g;
    file_init(&g, "stuck.csv", "h3");
    struct ledger_file *gf[] = {&g};
    double t0 = clock_now();
    while (clock_now() - t0 < 1.5) {
        PQclear(PQexec(b, "BEGIN"));
        CHECK_EQ_LONG(ledger_claim(b, T2, gf, 1), SINK_OK);
        CHECK(!g.busy);
        g.busy = true;
        CHECK_EQ_LONG(ledger_free_stalled(b, T2, &stalls, gf, 1, 0.2), SINK_OK);
        PQclear(PQexec(b, "ROLLBACK"));
        clock_sleep(0.1, NULL);
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d",
             PQbackendPID(a));
    CHECK_EQ_LONG(count(b, sql), 1);
    copy_sink_abort(a, "test done");
    PQclear(PQexec(a, "ROLLBACK"));
    PQfinish(a);
    PQfinish(b);
}

/* T2 uses the same names and hashes as T1, in the same database. */
static void test_two_tables(PGconn *a, PGconn *b)
{
    /* T1 holds one.csv; T2's one.csv (same name, same content) is not busy, and starts at 0 */
    struct ledger_file f1, g1;
    file_init(&f1, "one.csv", "h1");
    file_init(&g1, "one.csv", "h1");
    struct ledger_file *ff[] = {&f1}, *gf[] = {&g1};
    CHECK(ledger_lock_key(T1, "one.csv", "h1") != ledger_lock_key(T2, "one.csv", "h1"));
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, T1, ff, 1), SINK_OK);
    CHECK(!f1.busy);
    CHECK_EQ_LONG(f1.offset, 60);
    CHECK_EQ_LONG(sink_exec(b, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(b, T2, gf, 1), SINK_OK);
    CHECK(!g1.busy);
    CHECK_EQ_STR(g1.status, "loading");
    CHECK_EQ_LONG(g1.offset, 0);
    CHECK_EQ_LONG(g1.line, 1);
    /* T2 finishes its one.csv; T1's row stays where it was */
    g1.new_status = "done";
    g1.new_offset = 100;
    g1.new_line = 11;
    g1.loaded = 10;
    CHECK_EQ_LONG(ledger_advance(b, T2, gf, 1), SINK_OK);
    CHECK_EQ_LONG(sink_exec(b, "COMMIT", "COMMIT"), SINK_OK);
    CHECK_EQ_LONG(sink_exec(a, "ROLLBACK", "ROLLBACK"), SINK_OK);
    CHECK_EQ_LONG(row_value(a, "committed_offset", T1, "one.csv"), 60);
    CHECK_EQ_LONG(row_value(a, "rows_loaded", T1, "one.csv"), 3);
    CHECK_EQ_LONG(row_value(a, "committed_offset", T2, "one.csv"), 100);
    CHECK_EQ_LONG(row_value(a, "rows_loaded", T2, "one.csv"), 10);
    CHECK_EQ_LONG(count(a, "SELECT count(*) FROM ingest_files WHERE file_name = 'one.csv'"), 2);
    /* a stale advance on T1 fails; T2's finished row is not what it compares with */
    f1.new_status = "done";
    f1.new_offset = 100;
    f1.offset = 100;
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_advance(a, T1, ff, 1), SINK_FATAL);
    PQclear(PQexec(a, "ROLLBACK"));

    /* each archiver pages its own table: T2 sees one.csv, T1 its re-dropped two.csv only */
    PGresult *page = NULL;
    CHECK_EQ_LONG(ledger_archive_page(a, T2, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1);
    CHECK_EQ_STR(PQgetvalue(page, 0, 0), "one.csv");
    PQclear(page);
    CHECK_EQ_LONG(ledger_archive_page(a, T1, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1);
    CHECK_EQ_STR(PQgetvalue(page, 0, 0), "two.csv");
    PQclear(page);
    /* marking T2's one.csv archived leaves T1's row alone */
    CHECK_EQ_LONG(ledger_mark_archived(a, T2, "one.csv", "h1", "one.csv"), SINK_OK);
    CHECK_EQ_LONG(row_value(a, "(archived_at IS NOT NULL)::int", T2, "one.csv"), 1);
    CHECK_EQ_LONG(row_value(a, "(archived_at IS NOT NULL)::int", T1, "one.csv"), 0);
    CHECK_EQ_LONG(ledger_archive_page(a, T2, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 0);
    PQclear(page);
    CHECK_EQ_LONG(ledger_archive_page(a, T1, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1);
    PQclear(page);
}

int main(void)
{
    conninfo = getenv("SLUICE_DB");
    if (!conninfo) {
        fprintf(stderr, "set SLUICE_DB (tests/integration/t_ledger.sh does)\n");
        return 2;
    }
    log_min_level = LOG_LEVEL_ERROR; /* the expected failures log */
    PGconn *a = connect_db(), *b = connect_db();
    test_claim_advance_and_busy(a, b, T1);
    test_archive_and_redrop(a, T1);
    test_two_tables(a, b);
    PQfinish(a);
    PQfinish(b);
    test_stalled_claims();
    return TEST_DONE();
}
