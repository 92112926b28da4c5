/*
 * cmd_setup.c - the setup every command shares, run once from the flags of its row in main.c's
 * table: options, logging, signals, folders, database; then the command; then the teardown.
 *
 * Everything that can be checked before work starts is checked here, and a failure ends the
 * process at once with one clear line and exit 1: a missing hot folder (unless --create-dirs), a
 * folder sluice cannot write (found by creating and removing a probe file), a connection string
 * that does not parse, a database that refuses us for good, a role without the privileges the
 * command needs. Secrets are handled here too: a password seen in argv is overwritten there (with
 * a warning that it was visible until then), and core dumps are off while one is in memory.
 */
#include "commands.h"

#include "db.h"
#include "grants.h"
#include "fsutil.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "pgcluster.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LOCK_TIMEOUT_S 60.0 /* for commands without --lock-timeout */

static int setup_logging(const struct cmd_context *ctx)
{
    int level = log_level_parse(ctx->cfg.log_level);
    if (level < 0) {
        fprintf(stderr,
                "sluice %s: invalid value '%s' for --log-level: expected debug, info, warn or "
                "error\nTry 'sluice %s --help'\n",
                ctx->name, ctx->cfg.log_level, ctx->name);
        return 2;
    }
    log_min_level = (enum log_level)level;
    if (ctx->cfg.log_dir &&
        (fs_mkdir_p(ctx->cfg.log_dir) < 0 || log_open_dir(ctx->cfg.log_dir) < 0))
        return 1;
    return 0;
}

/* Core dumps would hold the password: none while it is in memory (the whole run). */
static void disable_core_dumps(void)
{
    struct rlimit none = {0, 0};
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
        log_warn("setup", "cannot disable core dumps: %m");
}

/* Create and remove a file in dir: the only sure test that sluice may write there. */
static int probe_writable(const char *what, const char *dir)
{
    /* An unnamed file first: nothing is left behind, even if the process dies right here (a
     * probe killed half-way must not litter the hot folder). A named one where the filesystem
     * has no O_TMPFILE. */
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        log_error("setup", "%s '%s' is not writable: %m", what, dir);
        return -1;
    }
    /* a unique name: processes in containers sharing the folder may have the same pid */
    char *probe = xasprintf("%s/.sluice-probe.XXXXXX", dir);
    fd = mkostemp(probe, O_CLOEXEC);
    int rc = 0;
    if (fd < 0) {
        log_error("setup", "%s '%s' is not writable: %m", what, dir);
        rc = -1;
    } else {
        close(fd);
        if (unlink(probe) < 0) {
            log_error("setup", "cannot remove the probe file '%s': %m", probe);
            rc = -1;
        }
    }
    free(probe);
    return rc;
}

/* A folder the command uses: made when missing (unless it must exist), then probed. */
static int check_dir(const char *what, const char *option, const char *dir, bool must_exist)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT) {
            log_error("setup", "cannot use %s '%s': %m", what, dir);
            return -1;
        }
        if (must_exist) {
            log_error("setup",
                      "%s '%s' does not exist hint=create it, correct %s, or pass --create-dirs",
                      what, dir, option);
            return -1;
        }
        if (fs_mkdir_p(dir) < 0)
            return -1;
    } else if (!S_ISDIR(st.st_mode)) {
        log_error("setup", "%s '%s' is not a folder", what, dir);
        return -1;
    }
    return probe_writable(what, dir);
}

static int setup_dirs(const struct cmd_context *ctx, unsigned dirs)
{
    const struct config *c = &ctx->cfg;
    const struct {
        unsigned flag;
        const char *what, *option, *path;
    } list[] = {
        {CMD_DIR_INPUT, "input folder", "--input-dir", c->input_dir},
        {CMD_DIR_ERROR, "error folder", "--error-dir", c->error_dir},
        {CMD_DIR_CHECKPOINT, "checkpoint folder", "--checkpoint-dir", c->checkpoint_dir},
        {CMD_DIR_ARCHIVE, "archive folder", "--archive-dir", c->archive_dir},
        {CMD_DIR_TEMP, "temp folder", "--temp-dir", c->temp_dir},
    };
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
        if (!(dirs & list[i].flag))
            continue;
        bool must_exist = list[i].flag == CMD_DIR_INPUT && !c->create_dirs;
        if (check_dir(list[i].what, list[i].option, list[i].path, must_exist) < 0)
            return -1;
    }
    return 0;
}

/* The connection string the command's connections use: the embedded cluster's (started when
 * needed) or the options'. 0, or -1 after logging. */
static int resolve_conninfo(struct cmd_context *ctx, bool embedded)
{
    const struct config *c = &ctx->cfg;
    if (embedded && !config_has_db(c)) {
        ctx->started_embedded = pgcluster_running(c) == 0;
        if (pgcluster_start(c, NULL) < 0) {
            ctx->started_embedded = false;
            return -1;
        }
        ctx->conninfo = pgcluster_conninfo(c, PGCLUSTER_ROLE_INGEST);
        if (!ctx->conninfo)
            return -1;
        log_info(ctx->name, "using the embedded PostgreSQL cluster in '%s'", c->pg_dir);
    } else {
        ctx->conninfo = config_conninfo(c);
    }
    return 0;
}

int cmd_connect(struct cmd_context *ctx, unsigned db_need, bool embedded)
{
    const struct config *c = &ctx->cfg;
    if (!ctx->conninfo && resolve_conninfo(ctx, embedded) < 0)
        return -1;
    char err[256];
    if (db_conninfo_check(ctx->conninfo, err, sizeof(err)) < 0) {
        log_error(ctx->name, "%s", err);
        return -1;
    }
    double max_wait = c->max_wait;
    if (c->seconds > 0 && (max_wait <= 0 || max_wait > c->seconds))
        max_wait = c->seconds; /* run --seconds N ends on time, whatever the database does */
    db_set_max_wait(max_wait);
    double lock_timeout = c->lock_timeout > 0 ? c->lock_timeout : DEFAULT_LOCK_TIMEOUT_S;
    ctx->conn = db_connect(ctx->conninfo, ctx->name, lock_timeout, &signals_stop);
    if (!ctx->conn)
        return db_gave_up() ? -1 : 1; /* 1: stopped by a signal before connecting */
    struct db_tables t = {0};
    if (c->table) {
        /* ingest, run and db setup load (or prepare) the table: its dead-letter table too */
        bool loads = !db_need || (db_need & GRANTS_INGEST);
        if (db_tables_prepare(ctx->conn, c->table, loads ? c->dlq_table : NULL, loads, &t) < 0)
            return -1;
        /* From here on every part of the command names the tables as the catalog does. */
        free(ctx->cfg.table);
        ctx->cfg.table = t.target;
        if (t.dlq) {
            free(ctx->cfg.dlq_table);
            ctx->cfg.dlq_table = t.dlq;
        }
    }
    struct grants_tables gt = {c->table, c->table && t.dlq ? c->dlq_table : NULL};
    if (db_need && grants_check(ctx->conn, db_need, ctx->name, &gt) < 0)
        return -1;
    return 0;
}

static int teardown(struct cmd_context *ctx, int rc)
{
    http_stop(ctx->http);
    ctx->http = NULL;
    PQfinish(ctx->conn);
    ctx->conn = NULL;
    if (ctx->started_embedded && pgcluster_stop(&ctx->cfg, false) < 0)
        rc = 1;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error(ctx->name, "cannot write to standard output: %m");
        rc = 1;
    }
    free(ctx->conninfo);
    ctx->conninfo = NULL;
    log_close();
    config_release(&ctx->cfg);
    return rc;
}

int cmd_main(const struct cmd_def *def, int argc, char **argv)
{
    struct cmd_context ctx = {.name = def->name};
    /* First of all: a stop request that arrives while we start up is honoured, not fatal. */
    if ((def->setup & CMD_SETUP_SIGNALS) && signals_install() < 0)
        return 1;
    int shift = 0;
    if (def->takes_action && argc >= 2 && argv[1][0] != '-') {
        ctx.action = argv[1];
        shift = 1;
    }
    int rc = config_parse(&ctx.cfg, def->options, def->name, def->help, argc - shift, argv + shift);
    if (rc) {
        config_release(&ctx.cfg);
        return rc == 1 ? 0 : rc;
    }
    int scrubbed = config_scrub_argv(argc, argv);
    if (config_has_password(&ctx.cfg))
        disable_core_dumps();
    if (def->setup & CMD_SETUP_LOGGING) {
        rc = setup_logging(&ctx);
        if (rc != 0)
            return teardown(&ctx, rc);
    }
    if (scrubbed)
        log_warn(def->name,
                 "a password was given on the command line: other users could read it in the "
                 "process list until now (it is overwritten there); use --pg-password-file, "
                 "POSTGRES_PASSWORD_FILE or PGPASSFILE");
    if (def->dirs && setup_dirs(&ctx, def->dirs) < 0)
        return teardown(&ctx, 1);
    if ((def->setup & CMD_SETUP_DB) &&
        resolve_conninfo(&ctx, def->setup & CMD_SETUP_EMBEDDED) < 0)
        return teardown(&ctx, 1);
    if (def->setup & CMD_SETUP_HTTP) {
        /* Up before the database: /healthz, /readyz and /metrics matter most while it is not. */
        struct http_options ho = {
            .listen = ctx.cfg.listen,
            .conninfo = ctx.conninfo,
            .input_dir = ctx.cfg.input_dir,
            .table = ctx.cfg.table,
            .dlq_table = ctx.cfg.dlq_table};
        if (http_start(&ho, &ctx.http) < 0)
            return teardown(&ctx, 1);
    }
    if (def->setup & CMD_SETUP_DB) {
        int c = cmd_connect(&ctx, def->db_need, def->setup & CMD_SETUP_EMBEDDED);
        if (c != 0)
            return teardown(&ctx, c < 0 ? 1 : 0);
    }
    rc = def->fn(&ctx);
    if (db_gave_up())
        rc = 1;
    return teardown(&ctx, rc);
}
