/*
 * cmd_run.c - `sluice run`: the whole pipeline in one supervised process.
 *
 * What docker-compose up was in the original: the generator, the ingester and the archiver, each
 * in its own thread, sharing one configuration and one log stream. Without --db (or DATABASE_URL,
 * POSTGRES_HOST) it uses the embedded PostgreSQL cluster in DATA_DIR/pg, starting it if needed
 * and stopping it again at exit if it started it.
 *
 * Shutdown: SIGTERM/SIGINT stop every part at its next safe point (the ingester finishes or rolls
 * back its batch). When --seconds runs out instead, the generator stops first, the ingester
 * drains what the generator wrote, and the archiver makes a last pass, so a timed run ends with
 * everything it produced loaded.
 */
#include "commands.h"

#include "archive.h"
#include "config.h"
#include "db.h"
#include "generator.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "pgcluster.h"
#include "signals.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char summary[] =
    "Run the generator, the ingester and the archiver together until SIGTERM/SIGINT (or for\n"
    "--seconds). Uses --db if given, else the embedded PostgreSQL cluster in DATA_DIR/pg.";

struct run_state {
    const struct config *cfg;
    const char *conninfo;
    volatile sig_atomic_t gen_stop;    /* generator: stop now */
    volatile sig_atomic_t ingest_done; /* the ingester has returned */
    volatile sig_atomic_t drain;       /* time is up: drain and return */
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
    cmd_ingest_options(rs->cfg, rs->conninfo, &o);
    o.drain = &rs->drain;
    rs->ingest_rc = ingest_run(&o, &signals_stop, &rs->ingest_stats);
    rs->ingest_done = 1;
    return NULL;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *archive_thread(void *arg)
{
    struct run_state *rs = arg;
    PGconn *conn = NULL;
    metrics_watchdog_begin("archive");
    for (;;) {
        metrics_watchdog_tick();
        bool last = rs->ingest_done; /* read before the pass: one more pass after the ingester */
        if (signals_stop)
            break;
        if (!db_alive(conn)) {
            PQfinish(conn);
            conn = db_connect(rs->conninfo, "archive", rs->cfg->lock_timeout, &signals_stop);
            if (!conn)
                break;
        }
        long moved = 0;
        double min_age = rs->drain ? 0 : rs->cfg->min_age;
        if (archive_pass(conn, rs->cfg->input_dir, rs->cfg->archive_dir, min_age, &moved) == DB_OK)
            rs->archived += moved;
        if (last)
            break;
        for (int i = 0; i < 10 && !signals_stop && !rs->ingest_done; i++)
            nap_ms(100);
    }
    PQfinish(conn);
    metrics_watchdog_end();
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_run(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, CMD_RUN, "run", summary, argc, argv);
    if (rc) {
        config_release(&cfg);
        return rc == 1 ? 0 : rc;
    }
    rc = cmd_setup_logging(&cfg, "run");
    if (rc) {
        config_release(&cfg);
        return rc;
    }
    signals_install();

    char *conninfo = NULL;
    bool started_embedded = false;
    if (config_has_db(&cfg)) {
        conninfo = config_conninfo(&cfg);
    } else {
        started_embedded = pgcluster_running(&cfg) == 0;
        if (pgcluster_start(&cfg, &conninfo) < 0) {
            config_release(&cfg);
            return 1;
        }
        log_info("run", "using the embedded PostgreSQL cluster in '%s'", cfg.pg_dir);
    }

    struct http *http = NULL;
    struct http_options ho = {
        .listen = cfg.listen, .conninfo = conninfo, .input_dir = cfg.input_dir};
    if (http_start(&ho, &http) < 0) {
        if (started_embedded)
            pgcluster_stop(&cfg, false);
        free(conninfo);
        config_release(&cfg);
        return 1;
    }

    struct run_state rs = {.cfg = &cfg, .conninfo = conninfo};
    pthread_t gen, ing, arc;
    double t0 = now_s();
    pthread_create(&ing, NULL, ingest_thread, &rs);
    pthread_create(&arc, NULL, archive_thread, &rs);
    pthread_create(&gen, NULL, generator_thread, &rs);

    while (!signals_stop && !rs.ingest_done && (cfg.seconds <= 0 || now_s() - t0 < cfg.seconds))
        nap_ms(50);
    rs.gen_stop = 1;
    pthread_join(gen, NULL);
    rs.drain = 1;
    pthread_join(ing, NULL);
    pthread_join(arc, NULL);

    double secs = now_s() - t0;
    log_info("run",
             "finished after %.1f s: generated %ld rows in %ld files; loaded %" PRIu64
             " rows, rejected %" PRIu64 ", %" PRIu64 " files done, %ld archived",
             secs, rs.gen_totals.rows, rs.gen_totals.files, rs.ingest_stats.rows_loaded,
             rs.ingest_stats.rows_rejected, rs.ingest_stats.files_done, rs.archived);
    rc = (rs.gen_rc == 0 && rs.ingest_rc == 0) ? 0 : 1;
    http_stop(http);
    if (started_embedded && pgcluster_stop(&cfg, false) < 0)
        rc = 1;
    free(conninfo);
    config_release(&cfg);
    log_close();
    return rc;
}
