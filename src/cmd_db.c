/*
 * cmd_db.c - `sluice db ACTION`: start, stop, kill, status or url of the embedded cluster.
 *
 * The action is the first argument; the options after it come from the shared table (config.c).
 * `start` and `url` print the conninfo on stdout and nothing else, so a script can write
 * SLUICE_DB=$(sluice db start). `status` answers with its exit code like pg_ctl: 0 running,
 * 3 not running. The work itself is in pgcluster.c.
 */
#include "commands.h"
#include "config.h"
#include "log.h"
#include "pgcluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DB_EXIT_NOT_RUNNING = 3 };

static const char summary[] =
    "Start, stop or check the embedded PostgreSQL cluster: a server whose data, log and unix\n"
    "socket all live in one folder (--pg-dir) and that listens on nothing else.\n"
    "\n"
    "ACTION, the first argument (sluice db ACTION [OPTION]...), is one of\n"
    "  start   create the cluster if needed, start it, create the database; print the conninfo\n"
    "  stop    stop the server (fast shutdown)\n"
    "  kill    stop the server abruptly (immediate shutdown, like a crash; for tests)\n"
    "  status  exit 0 when the server runs, 3 when it does not\n"
    "  url     print the conninfo";

static int db_print_conninfo(const struct config *cfg)
{
    char *conninfo = pgcluster_conninfo(cfg);
    if (!conninfo)
        return 1;
    printf("%s\n", conninfo);
    free(conninfo);
    return 0;
}

int cmd_db(int argc, char **argv)
{
    const char *action = NULL;
    int shift = 0;
    if (argc >= 2 && argv[1][0] != '-') {
        action = argv[1];
        shift = 1;
    }
    struct config cfg;
    int rc = config_parse(&cfg, CMD_DB, "db", summary, argc - shift, argv + shift);
    if (rc != 0) {
        rc = rc == 1 ? 0 : rc;
        goto out;
    }
    int level = log_level_parse(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "sluice db: invalid value '%s' for --log-level\n", cfg.log_level);
        fprintf(stderr, "Try 'sluice db --help'\n");
        rc = 2;
        goto out;
    }
    log_min_level = (enum log_level)level;
    if (cfg.log_dir && log_open_dir(cfg.log_dir) < 0) {
        rc = 1;
        goto out;
    }

    if (!action) {
        fprintf(stderr, "sluice db: missing action: start, stop, kill, status or url\n");
        fprintf(stderr, "Try 'sluice db --help'\n");
        rc = 2;
    } else if (strcmp(action, "start") == 0) {
        char *conninfo = NULL;
        rc = pgcluster_start(&cfg, &conninfo) < 0 ? 1 : 0;
        if (conninfo)
            printf("%s\n", conninfo);
        free(conninfo);
    } else if (strcmp(action, "stop") == 0 || strcmp(action, "kill") == 0) {
        rc = pgcluster_stop(&cfg, strcmp(action, "kill") == 0) < 0 ? 1 : 0;
    } else if (strcmp(action, "status") == 0) {
        int running = pgcluster_running(&cfg);
        if (running < 0)
            rc = 1;
        else {
            printf("%s\n", running ? "running" : "not running");
            rc = running ? 0 : DB_EXIT_NOT_RUNNING;
        }
    } else if (strcmp(action, "url") == 0) {
        rc = db_print_conninfo(&cfg);
    } else {
        fprintf(stderr, "sluice db: unknown action '%s': start, stop, kill, status or url\n",
                action);
        fprintf(stderr, "Try 'sluice db --help'\n");
        rc = 2;
    }
out:
    log_close();
    config_release(&cfg);
    return rc;
}
