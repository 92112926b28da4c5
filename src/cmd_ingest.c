/*
 * cmd_ingest.c - `sluice ingest`: options, then the engine in ingest.c.
 */
#include "commands.h"

#include "config.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "signals.h"

#include <stdio.h>
#include <stdlib.h>

static const char summary[] =
    "Load CSV event files from the hot folder into PostgreSQL, exactly once: valid rows into\n"
    "user_activity, rejected rows into user_activity_errors, one ledger row per file in\n"
    "ingest_files, all committed together. Runs until SIGTERM/SIGINT, or with --once until the\n"
    "folder is drained.";

/* Shared with `sluice run`: apply the logging options. 0, or 2 on a bad level. */
int cmd_setup_logging(const struct config *cfg, const char *cmd_name)
{
    int level = log_level_parse(cfg->log_level);
    if (level < 0) {
        fprintf(stderr,
                "sluice %s: invalid value '%s' for --log-level: expected debug, info, "
                "warn or error\nTry 'sluice %s --help'\n",
                cmd_name, cfg->log_level, cmd_name);
        return 2;
    }
    log_min_level = (enum log_level)level;
    if (cfg->log_dir && log_open_dir(cfg->log_dir) < 0)
        return 1;
    return 0;
}

void cmd_ingest_options(const struct config *cfg, const char *conninfo, struct ingest_options *o)
{
    *o = (struct ingest_options){
        .conninfo = conninfo,
        .input_dir = cfg->input_dir,
        .error_dir = cfg->error_dir,
        .checkpoint_dir = cfg->checkpoint_dir,
        .event_types = cfg->event_types,
        .max_row_bytes = (size_t)cfg->max_row_bytes,
        .max_file_bytes = (uint64_t)cfg->max_file_bytes,
        .batch_bytes = (size_t)cfg->batch_bytes,
        .rescan_interval = cfg->rescan_interval,
        .lock_timeout = cfg->lock_timeout,
        .once = cfg->once,
        .workers = (unsigned)cfg->workers,
    };
}

int cmd_ingest(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, CMD_INGEST, "ingest", summary, argc, argv);
    if (rc) {
        config_release(&cfg);
        return rc == 1 ? 0 : rc;
    }
    rc = cmd_setup_logging(&cfg, "ingest");
    if (rc) {
        config_release(&cfg);
        return rc;
    }
    signals_install();
    char *conninfo = config_conninfo(&cfg);
    struct ingest_options o;
    cmd_ingest_options(&cfg, conninfo, &o);
    struct http *http = NULL;
    struct http_options ho = {
        .listen = cfg.listen, .conninfo = conninfo, .input_dir = cfg.input_dir};
    struct ingest_stats stats;
    rc = http_start(&ho, &http) == 0 && ingest_run(&o, &signals_stop, &stats) == 0 ? 0 : 1;
    http_stop(http);
    free(conninfo);
    config_release(&cfg);
    log_close();
    return rc;
}
