/*
 * cmd_run.c - `sluice run`: the whole pipeline in one supervised process.
 *
 * What docker-compose up was in the original: the generator, the ingester and the archiver, each
 * in its own thread, sharing one configuration and one log stream. The setup (cmd_setup.c) has
 * made the folders and checked the database; without --db (or DATABASE_URL, POSTGRES_HOST) that
 * is the embedded PostgreSQL cluster in DATA_DIR/pg, started if needed (and stopped again at exit
 * if the setup started it), used through its least-privilege ingest role.
 *
 * Shutdown: SIGTERM/SIGINT stop every part at its next safe point (the ingester finishes or rolls
 * back its batch). When --seconds runs out instead, the generator stops first, the ingester
 * drains what the generator wrote, and the archiver makes a last pass (keeping --min-age unless
 * --drain-archive), so a timed run ends with everything it produced loaded. The drain is given
 * DRAIN_GRACE_S at most: if the database is away, the run still ends on time and what is left is
 * loaded by the next start.
 */
#include "commands.h"

#include "archive.h"
#include "clock.h"
#include "contract.h"
#include "db.h"
#include "generator.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "signals.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DRAIN_GRACE_S 10.0

const char cmd_run_help[] =
    "Run the generator, the ingester and the archiver together until SIGTERM/SIGINT (or for\n"
    "--seconds). Uses --db if given, else the embedded PostgreSQL cluster in DATA_DIR/pg;\n"
    "creates missing folders (--create-dirs is implied).";

struct run_state {
    const struct config *cfg;
    const char *conninfo;
    PGconn *archive_conn; /* the setup's checked connection, handed to the archiver */
    struct contract contract; /* read with that connection before the threads start */
    atomic_int gen_stop;    /* generator: stop now */
    atomic_int drain;       /* time is up: drain and return */
    atomic_int ingest_done; /* the ingester has returned */
    struct generator_totals gen_totals;
    struct ingest_stats ingest_stats;
    long archived;
    int gen_rc, ingest_rc;
};

static void *generator_thread(void *arg)
{
    struct run_state *rs = arg;
    const struct config *cfg = rs->cfg;
    struct generator_options go = {
        .input_dir = cfg->input_dir,
        .temp_dir = cfg->temp_dir,
        .files = 0,
        .rows_min = cfg->rows_min,
        .rows_max = cfg->rows_max,
        .interval = cfg->interval,
        .rate = cfg->rate,
        .bad_ratio = cfg->bad_ratio,
        .seed = cfg->seed ? strtoull(cfg->seed, NULL, 10) : 0,
        .seed_set = cfg->seed != NULL,
        .manifest = NULL,
    };
    rs->gen_rc = generator_run(&go, &rs->gen_stop, &rs->gen_totals);
    return NULL;
}

static void *ingest_thread(void *arg)
{
    struct run_state *rs = arg;
    struct ingest_options o;
    cmd_ingest_options(rs->cfg, rs->conninfo, &rs->contract, &o);
    o.drain = &rs->drain;
    rs->ingest_rc = ingest_run(&o, &signals_stop, &rs->ingest_stats);
    atomic_store(&rs->ingest_done, 1);
    return NULL;
}

static void *archive_thread(void *arg)
{
    struct run_state *rs = arg;
    PGconn *conn = rs->archive_conn;
    metrics_watchdog_begin("archive");
    for (;;) {
        metrics_watchdog_tick();
        /* read before the pass: one more pass after the ingester returned */
        bool last = atomic_load(&rs->ingest_done);
        if (signals_stop)
            break;
        if (!db_alive(conn)) {
            PQfinish(conn);
            conn = db_connect(rs->conninfo, "archive", rs->cfg->lock_timeout, &signals_stop);
            if (!conn)
                break;
        }
        long moved = 0;
        double min_age = rs->drain && rs->cfg->drain_archive ? 0 : rs->cfg->min_age;
        if (archive_pass(conn, rs->cfg->table, rs->cfg->input_dir, rs->cfg->archive_dir, min_age,
                         &moved) == DB_OK)
            rs->archived += moved;
        if (last)
            break;
        for (int i = 0; i < 10 && !signals_stop && !atomic_load(&rs->ingest_done); i++)
            clock_sleep(0.1, &signals_stop);
    }
    metrics_watchdog_end();
    PQfinish(conn);
    return NULL;
}


int cmd_run(struct cmd_context *ctx)
{
    const struct config *cfg = &ctx->cfg;
    struct run_state rs = {.cfg = cfg, .conninfo = ctx->conninfo, .archive_conn = ctx->conn};
    ctx->conn = NULL;
    if (contract_load(&rs.contract, rs.archive_conn, cfg) < 0) {
        PQfinish(rs.archive_conn);
        contract_release(&rs.contract);
        return 1;
    }
    atomic_init(&rs.ingest_done, 0);
    struct {
        pthread_t id;
        void *(*fn)(void *);
        const char *name;
        bool started;
    } threads[] = {
        {0, ingest_thread, "ingester", false},
        {0, archive_thread, "archiver", false},
        {0, generator_thread, "generator", false},
    };
    enum { ING, ARC, GEN, NTHREADS };
    double t0 = clock_now();
    int rc = 0;
    for (int i = 0; i < NTHREADS; i++) {
        int err = pthread_create(&threads[i].id, NULL, threads[i].fn, &rs);
        if (err != 0) {
            char why[128];
            log_error("run", "cannot start the %s thread: %s", threads[i].name,
                      strerror_r(err, why, sizeof(why)));
            signals_request_stop();
            rc = 1;
            break;
        }
        threads[i].started = true;
    }
    if (!threads[ARC].started)
        PQfinish(rs.archive_conn);

    while (!signals_stop && !atomic_load(&rs.ingest_done) &&
           (cfg->seconds <= 0 || clock_now() - t0 < cfg->seconds))
        clock_sleep(0.05, &signals_stop);
    rs.gen_stop = 1;
    if (threads[GEN].started)
        pthread_join(threads[GEN].id, NULL);
    rs.drain = 1;
    double drain_until = clock_now() + DRAIN_GRACE_S;
    while (!signals_stop && threads[ING].started && !atomic_load(&rs.ingest_done) &&
           clock_now() < drain_until)
        clock_sleep(0.05, &signals_stop);
    if (!signals_stop && threads[ING].started && !atomic_load(&rs.ingest_done)) {
        log_warn("run",
                 "the ingester has not drained the folder %.0f s after the end: stopping it; "
                 "the next start loads what is left",
                 DRAIN_GRACE_S);
        signals_request_stop();
    }
    if (threads[ING].started)
        pthread_join(threads[ING].id, NULL);
    if (threads[ARC].started)
        pthread_join(threads[ARC].id, NULL);

    double secs = clock_now() - t0;
    log_info("run",
             "finished after %.1f s: generated %ld rows in %ld files; loaded %" PRIu64
             " rows, rejected %" PRIu64 ", %" PRIu64 " files done, %ld archived",
             secs, rs.gen_totals.rows, rs.gen_totals.files, rs.ingest_stats.rows_loaded,
             rs.ingest_stats.rows_rejected, rs.ingest_stats.files_done, rs.archived);
    if (rs.gen_rc != 0 || rs.ingest_rc != 0)
        rc = 1;
    contract_release(&rs.contract);
    return rc;
}
