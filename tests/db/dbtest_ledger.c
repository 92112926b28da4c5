/* dbtest_ledger.c - the ledger against a real PostgreSQL (run by tests/integration/t_ledger.sh,
 * which starts a throwaway cluster and passes its conninfo in SLUICE_DB): claims and busy files,
 * the compare-and-set advance, re-dropped files, the archiver's paging and marking, and the
 * stalled-claim check that ends a stuck session but never a live COPY. */
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

static long long count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static void test_claim_advance_and_busy(PGconn *a, PGconn *b)
{
    struct ledger_file f1, f2;
    file_init(&f1, "one.csv", "h1");
    file_init(&f2, "two.csv", "h2");
    struct ledger_file *files[] = {&f1, &f2};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, files, 2), SINK_OK);
    CHECK(!f1.busy && !f2.busy);
    CHECK_EQ_STR(f1.status, "loading");
    CHECK_EQ_LONG(f1.offset, 0);
    CHECK_EQ_LONG(f1.line, 1);

    /* the other session sees both busy while a holds them */
    struct ledger_file g1;
    file_init(&g1, "one.csv", "h1");
    struct ledger_file *gf[] = {&g1};
    CHECK_EQ_LONG(sink_exec(b, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(b, gf, 1), SINK_OK);
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
    CHECK_EQ_LONG(ledger_advance(a, files, 2), SINK_OK);
    CHECK_EQ_LONG(sink_exec(a, "COMMIT", "COMMIT"), SINK_OK);
    CHECK_EQ_LONG(count(a, "SELECT committed_offset * 1000 + rows_loaded * 10 + rows_rejected "
                           "FROM ingest_files WHERE file_name = 'one.csv'"),
                  60031);

    /* a claim after the commit resumes where the ledger says */
    CHECK_EQ_LONG(sink_exec(b, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(b, gf, 1), SINK_OK);
    CHECK(!g1.busy);
    CHECK_EQ_LONG(g1.offset, 60);
    CHECK_EQ_LONG(g1.line, 5);
    /* compare-and-set: an advance from a stale offset moves nothing and fails */
    g1.offset = 0;
    g1.new_status = "done";
    g1.new_offset = 100;
    CHECK_EQ_LONG(ledger_advance(b, gf, 1), SINK_FATAL);
    PQclear(PQexec(b, "ROLLBACK"));
    CHECK_EQ_LONG(count(a, "SELECT committed_offset FROM ingest_files WHERE file_name = 'one.csv'"),
                  60);
}

static void test_archive_and_redrop(PGconn *a)
{
    PGresult *page = NULL;
    CHECK_EQ_LONG(ledger_archive_page(a, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1); /* two.csv is done; one.csv is still loading */
    CHECK_EQ_STR(PQgetvalue(page, 0, 0), "two.csv");
    PQclear(page);
    CHECK_EQ_LONG(ledger_mark_archived(a, "two.csv", "h2", "two.csv"), SINK_OK);
    CHECK_EQ_LONG(ledger_archive_page(a, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 0);
    PQclear(page);

    /* the same content under the same name again: re-opened for the archiver */
    struct ledger_file f;
    file_init(&f, "two.csv", "h2");
    struct ledger_file *files[] = {&f};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, files, 1), SINK_OK);
    CHECK(f.redropped);
    CHECK_EQ_STR(f.status, "done");
    CHECK_EQ_STR(f.archived_as, "two.csv");
    CHECK(f.committed_at[0] != '\0');
    CHECK_EQ_LONG(sink_exec(a, "COMMIT", "COMMIT"), SINK_OK);
    CHECK_EQ_LONG(ledger_archive_page(a, "", "", 10, &page), SINK_OK);
    CHECK_EQ_LONG(PQntuples(page), 1);
    PQclear(page);
}

/* Session a holds a claim inside a COPY; b wants the file. */
static void hold_in_copy(PGconn *a, const char *name)
{
    struct ledger_file f;
    file_init(&f, name, "h3");
    struct ledger_file *files[] = {&f};
    CHECK_EQ_LONG(sink_exec(a, "BEGIN", "BEGIN"), SINK_OK);
    CHECK_EQ_LONG(ledger_claim(a, files, 1), SINK_OK);
    CHECK_EQ_LONG(sink_exec(a, "CREATE TEMP TABLE IF NOT EXISTS t (x text)", "temp"), SINK_OK);
    CHECK_EQ_LONG(copy_sink_begin(a, "COPY t FROM STDIN", "COPY"), SINK_OK);
}

/* b looks at the busy file every 100 ms for `seconds`, a sending a row every `every` seconds
 * (0: never). Returns true when a's session is still there at the end. */
static bool watch_holder(PGconn *a, PGconn *b, const char *name, double seconds, double every)
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
        CHECK_EQ_LONG(ledger_claim(b, files, 1), SINK_OK);
        if (f.busy)
            CHECK_EQ_LONG(ledger_free_stalled(b, &stalls, files, 1, 1.0), SINK_OK);
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
    hold_in_copy(a, "live.csv");
    CHECK(watch_holder(a, b, "live.csv", 3.0, 0.3));
    copy_sink_abort(a, "test done");
    PQclear(PQexec(a, "ROLLBACK"));
    CHECK_EQ_LONG(PQstatus(a), CONNECTION_OK);
    PQfinish(a);

    /* a COPY that does not move for over 1 s is ended, and its claim freed */
    a = connect_db();
    hold_in_copy(a, "stuck.csv");
    CHECK(!watch_holder(a, b, "stuck.csv", 3.0, 0));
    struct ledger_file f;
    file_init(&f, "stuck.csv", "h3");
    struct ledger_file *files[] = {&f};
    PQclear(PQexec(b, "BEGIN"));
    CHECK_EQ_LONG(ledger_claim(b, files, 1), SINK_OK);
    CHECK(!f.busy);
    PQclear(PQexec(b, "ROLLBACK"));
    PQfinish(a);
    PQfinish(b);
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
    test_claim_advance_and_busy(a, b);
    test_archive_and_redrop(a);
    PQfinish(a);
    PQfinish(b);
    test_stalled_claims();
    return TEST_DONE();
}
