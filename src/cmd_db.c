/*
 * cmd_db.c - `sluice db ACTION`: the embedded cluster (start, stop, kill, status, url) and the
 * schema (setup).
 *
 * The action is the first argument; the options after it come from the shared table (config.c).
 * `start` and `url` print the conninfo on stdout and nothing else, so a script can write
 * SLUICE_DB=$(sluice db start). `status` answers with its exit code like pg_ctl: 0 running,
 * 3 not running. `setup` creates or upgrades the schema as the connecting (owner) role and prints
 * the GRANTs an ingest role needs. The cluster work itself is in pgcluster.c.
 */
#include "commands.h"

#include "db.h"
#include "grants.h"
#include "log.h"
#include "pgcluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DB_EXIT_NOT_RUNNING = 3 };

const char cmd_db_help[] =
    "Start, stop or check the embedded PostgreSQL cluster: a server whose data, log and unix\n"
    "socket all live in one folder (--pg-dir), that listens on nothing else unless --pg-listen\n"
    "asks for TCP, and that lets in only local OS users it maps to its roles (peer).\n"
    "\n"
    "ACTION, the first argument (sluice db ACTION [OPTION]...), is one of\n"
    "  start       create the cluster if needed, start it, create the database, the owner role\n"
    "              (--pg-user), the schema and the ingest role (--ingest-role) with its\n"
    "              GRANTs; print the owner's conninfo\n"
    "  stop        stop the server (fast shutdown)\n"
    "  kill        stop the server abruptly (immediate shutdown, like a crash; for tests)\n"
    "  status      exit 0 when the server runs, 3 when it does not\n"
    "  url         print the owner's conninfo\n"
    "  ingest-url  print the ingest role's conninfo (what ingest, archive and run need)\n"
    "  setup       create or upgrade the schema in --db (default: the embedded cluster) as\n"
    "              the role connecting, then print the GRANTs --ingest-role needs";

static int db_print_conninfo(const struct config *cfg, enum pgcluster_role role)
{
    char *conninfo = pgcluster_conninfo(cfg, role);
    if (!conninfo)
        return 1;
    printf("%s\n", conninfo);
    free(conninfo);
    return 0;
}

/* `db setup`: the schema as the owner role, then the GRANTs for the ingest role on stdout. */
static int db_setup(struct cmd_context *ctx)
{
    struct config *cfg = &ctx->cfg;
    if (!config_has_db(cfg)) {
        /* the embedded cluster, as its owner */
        char *conninfo = pgcluster_conninfo(cfg, PGCLUSTER_ROLE_OWNER);
        if (!conninfo)
            return 1;
        free(cfg->db);
        cfg->db = conninfo;
    }
    int c = cmd_connect(ctx, 0, false); /* db_connect makes the schema current */
    if (c != 0)
        return c < 0 ? 1 : 0;
    struct grants_tables gt = {cfg->table, cfg->dlq_table};
    char *grants = grants_sql(ctx->conn, cfg->ingest_role, &gt);
    if (!grants)
        return 1;
    log_info("setup", "the schema is current; the GRANTs role %s needs follow on stdout",
             cfg->ingest_role);
    fputs(grants, stdout);
    free(grants);
    return 0;
}

int cmd_db(struct cmd_context *ctx)
{
    const struct config *cfg = &ctx->cfg;
    const char *action = ctx->action;
    if (!action) {
        fprintf(stderr, "sluice db: missing action: start, stop, kill, status, url, ingest-url "
                        "or setup\n");
        fprintf(stderr, "Try 'sluice db --help'\n");
        return 2;
    }
    if (strcmp(action, "start") == 0) {
        char *conninfo = NULL;
        int rc = pgcluster_start(cfg, &conninfo) < 0 ? 1 : 0;
        if (conninfo)
            printf("%s\n", conninfo);
        free(conninfo);
        return rc;
    }
    if (strcmp(action, "stop") == 0 || strcmp(action, "kill") == 0)
        return pgcluster_stop(cfg, strcmp(action, "kill") == 0) < 0 ? 1 : 0;
    if (strcmp(action, "status") == 0) {
        int running = pgcluster_running(cfg);
        if (running < 0)
            return 1;
        printf("%s\n", running ? "running" : "not running");
        return running ? 0 : DB_EXIT_NOT_RUNNING;
    }
    if (strcmp(action, "url") == 0)
        return db_print_conninfo(cfg, PGCLUSTER_ROLE_OWNER);
    if (strcmp(action, "ingest-url") == 0)
        return db_print_conninfo(cfg, PGCLUSTER_ROLE_INGEST);
    if (strcmp(action, "setup") == 0)
        return db_setup(ctx);
    fprintf(stderr,
            "sluice db: unknown action '%s': start, stop, kill, status, url, ingest-url or "
            "setup\n",
            action);
    fprintf(stderr, "Try 'sluice db --help'\n");
    return 2;
}
