/*
 * cmd_archive.c - `sluice archive`: move committed files out of the hot folder.
 *
 * A loop of archive passes (src/archive.c) about once a second until SIGTERM/SIGINT, or one pass
 * with --once, over the connection the setup checked. A lost connection is reconnected with
 * backoff (up to --max-wait); with --once a failed statement (DB_FATAL) exits 1, otherwise the
 * exit is 0.
 */
#include "commands.h"

#include "archive.h"
#include "clock.h"
#include "db.h"
#include "metrics.h"
#include "signals.h"

#include <stdio.h>
#include <time.h>

const char cmd_archive_help[] =
    "Move files the ledger (ingest_files) says are committed, and that are older than\n"
    "--min-age, from the hot folder to the archive folder; never a file that is not committed.\n"
    "Runs until SIGTERM/SIGINT, or one pass with --once.";

int cmd_archive(struct cmd_context *ctx)
{
    const struct config *cfg = &ctx->cfg;
    long total = 0;
    int rc = 0;
    metrics_watchdog_begin("archive");
    while (!signals_stop) {
        metrics_watchdog_tick();
        if (!db_alive(ctx->conn)) {
            /* Lost: reconnect with backoff; db_connect gives up only after --max-wait. */
            PQfinish(ctx->conn);
            ctx->conn = db_connect(ctx->conninfo, "archive", 60, &signals_stop);
            if (!ctx->conn)
                break;
        }
        long moved = 0;
        enum db_status st =
            archive_pass(ctx->conn, cfg->table, cfg->input_dir, cfg->archive_dir, cfg->min_age, &moved);
        total += moved;
        if (cfg->once && st != DB_RETRY) {
            rc = st == DB_OK ? 0 : 1;
            break;
        }
        clock_sleep(1.0, &signals_stop);
    }
    metrics_watchdog_end();
    if (cfg->once)
        printf("archived %ld files\n", total);
    return rc;
}
