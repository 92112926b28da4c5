/*
 * cmd_archive.c - `sluice archive`: move committed files out of the hot folder.
 *
 * A loop of archive passes (src/archive.c) about once a second until SIGTERM/SIGINT, or one pass
 * with --once. A lost connection is reconnected with backoff, never a reason to exit; with
 * --once a failed statement (DB_FATAL) exits 1, otherwise the exit is 0.
 */
#include "commands.h"

#include "archive.h"
#include "config.h"
#include "http.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char summary[] =
    "Move files the ledger (ingest_files) says are committed, and that are older than\n"
    "--min-age, from the hot folder to the archive folder; never a file that is not committed.\n"
    "Runs until SIGTERM/SIGINT, or one pass with --once.";

int cmd_archive(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, CMD_ARCHIVE, "archive", summary, argc, argv);
    if (rc) {
        config_release(&cfg);
        return rc == 1 ? 0 : rc;
    }
    rc = cmd_setup_logging(&cfg, "archive");
    if (rc) {
        config_release(&cfg);
        return rc;
    }
    signals_install();
    char *conninfo = config_conninfo(&cfg);
    double lock_timeout = cfg.lock_timeout > 0 ? cfg.lock_timeout : 60;
    PGconn *conn = NULL;
    long total = 0;
    struct http *http = NULL;
    struct http_options ho = {
        .listen = cfg.listen, .conninfo = conninfo, .input_dir = cfg.input_dir};
    rc = http_start(&ho, &http) < 0 ? 1 : 0;
    metrics_watchdog_begin("archive");
    while (!signals_stop && rc == 0) {
        metrics_watchdog_tick();
        if (!db_alive(conn)) {
            /* Lost or never had: reconnect with backoff, never exit on a lost connection. */
            PQfinish(conn);
            conn = db_connect(conninfo, "archive", lock_timeout, &signals_stop);
            if (!conn)
                break;
        }
        long moved = 0;
        enum db_status st = archive_pass(conn, cfg.input_dir, cfg.archive_dir, cfg.min_age, &moved);
        total += moved;
        if (cfg.once && st != DB_RETRY) {
            rc = st == DB_OK ? 0 : 1;
            break;
        }
        for (int i = 0; i < 10 && !signals_stop; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (cfg.once)
        printf("archived %ld files\n", total);
    metrics_watchdog_end();
    http_stop(http);
    PQfinish(conn);
    free(conninfo);
    config_release(&cfg);
    log_close();
    return rc;
}
