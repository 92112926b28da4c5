/*
 * config.c - option parsing driven by one table.
 *
 * Each row of `options` names a flag, its environment fallback (the original project's names where
 * it had one), its default, its type and bounds, the subcommands it belongs to, and its help line.
 * The same table drives getopt_long, the environment fallback and the --help page, so an option
 * cannot exist in one of them and not the others. Values are checked here; a bad one is reported
 * once, with "Try 'sluice <cmd> --help'", and the caller exits 2.
 */
#include "config.h"

#include "http.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum opt_type { OPT_STR, OPT_LONG, OPT_DOUBLE, OPT_BOOL, OPT_ROWS, OPT_SEED };

struct option_spec {
    const char *name;
    const char *metavar;
    const char *env;
    const char *def;
    enum opt_type type;
    size_t offset;
    unsigned cmds;
    double min, max;
    double env_scale; /* the env value is multiplied by this (ARCHIVE_AGE_MINUTES -> seconds) */
    const char *help;
};

#define ALL (CMD_GENERATE | CMD_INGEST | CMD_ARCHIVE | CMD_RUN | CMD_DB | CMD_STATUS)
#define DBCMDS (CMD_INGEST | CMD_ARCHIVE | CMD_RUN | CMD_DB | CMD_STATUS)
#define F(field) offsetof(struct config, field)

static const struct option_spec options[] = {
    {"db", "CONNINFO", "DATABASE_URL", NULL, OPT_STR, F(db), DBCMDS, 0, 0, 0,
     "PostgreSQL conninfo (key=value or postgresql:// URI)"},
    {"pg-host", "HOST", "POSTGRES_HOST", NULL, OPT_STR, F(pg_host), DBCMDS, 0, 0, 0,
     "database host; the --pg-* options fill what --db leaves unset"},
    {"pg-port", "PORT", "POSTGRES_PORT", NULL, OPT_STR, F(pg_port), DBCMDS, 0, 0, 0,
     "database port"},
    {"pg-db", "NAME", "POSTGRES_DB", "ecommerce_db", OPT_STR, F(pg_dbname), DBCMDS, 0, 0, 0,
     "database name"},
    {"pg-user", "USER", "POSTGRES_USER", NULL, OPT_STR, F(pg_user), DBCMDS, 0, 0, 0,
     "database user"},
    {"pg-password", "PASSWORD", "POSTGRES_PASSWORD", NULL, OPT_STR, F(pg_password), DBCMDS, 0, 0, 0,
     "database password (other users see flags: prefer a file)"},
    {"pg-password-file", "FILE", "POSTGRES_PASSWORD_FILE", NULL, OPT_STR, F(pg_password_file),
     DBCMDS, 0, 0, 0, "read the password from FILE (first line); PGPASSFILE works too"},
    {"max-wait", "SECONDS", "DB_MAX_WAIT", NULL, OPT_DOUBLE, F(max_wait),
     CMD_INGEST | CMD_ARCHIVE | CMD_RUN | CMD_DB, 0, 1e9, 0,
     "exit 1 when PostgreSQL stays away this long (0 = never; --once: 300)"},
    {"ingest-role", "NAME", "SLUICE_INGEST_ROLE", "sluice_ingest", OPT_STR, F(ingest_role),
     CMD_DB | CMD_RUN, 0, 0, 0,
     "least-privilege role (db start makes it, db setup prints its GRANTs)"},
    {"pg-listen", "ADDRESSES", "PG_LISTEN", NULL, OPT_STR, F(pg_listen), CMD_DB, 0, 0, 0,
     "db start: also listen on these TCP addresses (scram-sha-256)"},
    {"data-dir", "DIR", "DATA_DIR", "data", OPT_STR, F(data_dir), ALL, 0, 0, 0,
     "base folder: DIR/input, temp, archive, checkpoints, error, pg"},
    {"input-dir", "DIR", "INPUT_DIR", NULL, OPT_STR, F(input_dir), ALL & ~CMD_DB, 0, 0, 0,
     "hot folder (default DATA_DIR/input)"},
    {"temp-dir", "DIR", "TEMP_DIR", NULL, OPT_STR, F(temp_dir), CMD_GENERATE | CMD_RUN, 0, 0, 0,
     "generator's staging folder (default DATA_DIR/temp)"},
    {"archive-dir", "DIR", "ARCHIVE_DIR", NULL, OPT_STR, F(archive_dir), CMD_ARCHIVE | CMD_RUN, 0,
     0, 0, "where committed files go (default DATA_DIR/archive)"},
    {"checkpoint-dir", "DIR", "CHECKPOINT_DIR", NULL, OPT_STR, F(checkpoint_dir),
     CMD_INGEST | CMD_RUN, 0, 0, 0, "local state: lock file (default DATA_DIR/checkpoints)"},
    {"error-dir", "DIR", "ERROR_DIR", NULL, OPT_STR, F(error_dir), CMD_INGEST | CMD_RUN, 0, 0, 0,
     "quarantined files (default DATA_DIR/error)"},
    {"pg-dir", "DIR", "PG_DIR", NULL, OPT_STR, F(pg_dir), CMD_RUN | CMD_DB, 0, 0, 0,
     "embedded PostgreSQL cluster (default DATA_DIR/pg)"},
    {"log-dir", "DIR", "LOG_DIR", NULL, OPT_STR, F(log_dir), ALL, 0, 0, 0,
     "also append logs to DIR/sluice.log"},
    {"log-level", "LEVEL", "LOG_LEVEL", "info", OPT_STR, F(log_level), ALL, 0, 0, 0,
     "debug, info, warn or error"},
    {"create-dirs", NULL, NULL, NULL, OPT_BOOL, F(create_dirs), CMD_INGEST | CMD_ARCHIVE | CMD_RUN,
     0, 0, 0, "make a missing --input-dir (else it is an error); run implies it"},
    {"listen", "ADDR:PORT", "SLUICE_LISTEN", NULL, OPT_STR, F(listen), CMD_INGEST | CMD_ARCHIVE, 0,
     0, 0, "serve /metrics, /healthz, /readyz and the dashboard here (default off)"},
    {"listen", "ADDR:PORT", "SLUICE_LISTEN", HTTP_DEFAULT_LISTEN, OPT_STR, F(listen), CMD_RUN, 0, 0,
     0, "serve /metrics, /healthz, /readyz and the dashboard here ('off' for none)"},
    {"once", NULL, NULL, NULL, OPT_BOOL, F(once), CMD_INGEST | CMD_ARCHIVE, 0, 0, 0,
     "process what is there (and what arrives meanwhile), then exit"},
    {"event-types", "LIST", "EVENT_TYPES", "view,purchase", OPT_STR, F(event_types),
     CMD_INGEST | CMD_RUN, 0, 0, 0, "allowed event_type values, comma-separated"},
    {"table", "NAME", "TARGET_TABLE", "user_activity", OPT_STR, F(table),
     CMD_INGEST | CMD_ARCHIVE | CMD_RUN | CMD_DB | CMD_STATUS, 0, 0, 0,
     "target table ([schema.]name); its definition is the contract"},
    {"dlq-table", "NAME", "DLQ_TABLE", NULL, OPT_STR, F(dlq_table),
     CMD_INGEST | CMD_RUN | CMD_DB | CMD_STATUS, 0, 0, 0,
     "dead-letter table, made if missing (default TABLE_errors)"},
    {"column-map", "CSV=COL,...", "COLUMN_MAP", NULL, OPT_STR, F(column_map), CMD_INGEST | CMD_RUN,
     0, 0, 0, "header names that differ from the table's column names"},
    {"strict-columns", NULL, NULL, NULL, OPT_BOOL, F(strict_columns),
     CMD_INGEST | CMD_RUN, 0, 0, 0, "a header column the table lacks is a bad_header (default: ignored)"},
    {"time-zone", "ZONE", "TIME_ZONE", "UTC", OPT_STR, F(time_zone), CMD_INGEST | CMD_RUN, 0, 0, 0,
     "zone of times written without an offset: UTC or +HH:MM"},
    {"max-row-bytes", "N", "MAX_ROW_BYTES", "1048576", OPT_LONG, F(max_row_bytes),
     CMD_INGEST | CMD_RUN, 64, 128 << 20, 0,
     "longest accepted row (at most 128 MiB); longer ones are dead letters"},
    {"max-file-bytes", "N", "MAX_FILE_BYTES", "0", OPT_LONG, F(max_file_bytes),
     CMD_INGEST | CMD_RUN, 0, 9e18, 0, "larger files are quarantined (0 = unlimited)"},
    {"producer-uid", "UID", "PRODUCER_UID", "-1", OPT_LONG, F(producer_uid), CMD_INGEST | CMD_RUN,
     -1, 4294967294.0, 0, "read only files owned by UID (-1: as root, the hot folder's owner)"},
    {"settle-time", "SECONDS", "SETTLE_TIME", "2", OPT_DOUBLE, F(settle_time), CMD_INGEST | CMD_RUN,
     0, 86400, 0, "an unended last row is read once the file is this long unchanged"},
    {"batch-bytes", "N", "BATCH_BYTES", "16777216", OPT_LONG, F(batch_bytes), CMD_INGEST | CMD_RUN,
     1024, 1 << 30, 0, "input bytes per transaction at most"},
    {"workers", "N", "INGEST_WORKERS", "2", OPT_LONG, F(workers), CMD_INGEST | CMD_RUN, 1, 16, 0,
     "parallel loaders, each with its own connection and COPY stream"},
    {"rescan-interval", "SECONDS", "RESCAN_INTERVAL", "10", OPT_DOUBLE, F(rescan_interval),
     CMD_INGEST | CMD_RUN, 0.01, 86400, 0, "full listing of the hot folder this often"},
    {"lock-timeout", "SECONDS", "LOCK_TIMEOUT", "60", OPT_DOUBLE, F(lock_timeout),
     CMD_INGEST | CMD_RUN, 1, 86400, 0,
     "a stalled transaction's claims are freed by the server after this"},
    {"min-age", "SECONDS", "ARCHIVE_AGE_MINUTES", "60", OPT_DOUBLE, F(min_age),
     CMD_ARCHIVE | CMD_RUN, 0, 1e9, 60, "archive committed files older than this"},
    {"drain-archive", NULL, NULL, NULL, OPT_BOOL, F(drain_archive), CMD_RUN, 0, 0, 0,
     "at the end archive every loaded file, ignoring --min-age"},
    {"files", "N", NULL, "0", OPT_LONG, F(files), CMD_GENERATE, 0, 1e12, 0,
     "number of files (0 = until stopped)"},
    {"rows-per-file", "N|MIN-MAX", NULL, "50-100", OPT_ROWS, F(rows_per_file),
     CMD_GENERATE | CMD_RUN, 0, 1e9, 0, "rows in each file"},
    {"interval", "SECONDS", NULL, "5", OPT_DOUBLE, F(interval), CMD_GENERATE | CMD_RUN, 0, 86400, 0,
     "pause between files (0 = as fast as possible)"},
    {"rate", "EVENTS_PER_SEC", NULL, "0", OPT_DOUBLE, F(rate), CMD_GENERATE | CMD_RUN, 0, 1e9, 0,
     "pace by events per second instead of --interval (0 = off)"},
    {"bad-ratio", "F", NULL, "0", OPT_DOUBLE, F(bad_ratio), CMD_GENERATE | CMD_RUN, 0, 1, 0,
     "fraction of rows made invalid on purpose"},
    {"seed", "N", NULL, NULL, OPT_SEED, F(seed), CMD_GENERATE | CMD_RUN, 0, 0, 0,
     "same seed, same files"},
    {"manifest", "FILE", NULL, NULL, OPT_STR, F(manifest), CMD_GENERATE, 0, 0, 0,
     "write JSON totals here"},
    {"seconds", "N", "DEMO_SECONDS", "0", OPT_DOUBLE, F(seconds), CMD_RUN, 0, 1e9, 0,
     "stop after N seconds (0 = until SIGTERM/SIGINT)"},
    {"json", NULL, NULL, NULL, OPT_BOOL, F(json), CMD_STATUS, 0, 0, 0, "print JSON for scripts"},
    {"max-lag", "SECONDS", NULL, "-1", OPT_DOUBLE, F(max_lag), CMD_STATUS, -1, 1e9, 0,
     "exit 1 when the oldest pending file is older than this (-1 = no check)"},
    {"fast", NULL, NULL, NULL, OPT_BOOL, F(fast), CMD_DB, 0, 0, 0,
     "fsync=off: a throwaway cluster for tests"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void *field_ptr(struct config *cfg, const struct option_spec *o)
{
    return (char *)cfg + o->offset;
}

static int bad_value(const char *cmd_name, const struct option_spec *o, const char *from,
                     const char *value, const char *why)
{
    fprintf(stderr, "sluice %s: invalid value '%s' for %s%s: %s\n", cmd_name, value,
            from ? from : "--", from ? "" : o->name, why);
    fprintf(stderr, "Try 'sluice %s --help'\n", cmd_name);
    return 2;
}

static int parse_rows(const char *s, long *lo, long *hi)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    long b = a;
    if (errno || end == s)
        return -1;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (errno || end == p)
            return -1;
    }
    if (*end || a < 1 || b < a || b > 1000000000L)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

/* 0 when v is within the option's bounds, else the error (fmt prints the two bounds). */
static int check_range(const char *cmd_name, const struct option_spec *o, const char *from,
                       const char *value, double v, const char *fmt)
{
    if (v >= o->min && v <= o->max)
        return 0;
    char why[96];
    snprintf(why, sizeof(why), fmt, o->min, o->max);
    return bad_value(cmd_name, o, from, value, why);
}

/* Set one option from text. `from` is the env name, or NULL for a flag. */
static int set_value(struct config *cfg, const char *cmd_name, const struct option_spec *o,
                     const char *value, const char *from)
{
    void *p = field_ptr(cfg, o);
    char *end;
    double scale = from && o->env_scale != 0 ? o->env_scale : 1;
    switch (o->type) {
    case OPT_STR:
        free(*(char **)p);
        *(char **)p = xstrdup(value);
        return 0;
    case OPT_BOOL:
        *(bool *)p = true;
        return 0;
    case OPT_LONG: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return bad_value(cmd_name, o, from, value, "not an integer");
        if (check_range(cmd_name, o, from, value, (double)v, "must be between %.0f and %.0f"))
            return 2;
        *(long *)p = (long)v;
        return 0;
    }
    case OPT_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return bad_value(cmd_name, o, from, value, "not a number");
        v *= scale;
        if (check_range(cmd_name, o, from, value, v, "must be between %g and %g"))
            return 2;
        *(double *)p = v;
        return 0;
    }
    case OPT_SEED: {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        (void)v;
        if (errno || value[0] < '0' || value[0] > '9' || *end)
            return bad_value(cmd_name, o, from, value, "expected an unsigned 64-bit integer");
        free(*(char **)p);
        *(char **)p = xstrdup(value);
        return 0;
    }
    case OPT_ROWS:
        if (parse_rows(value, &cfg->rows_min, &cfg->rows_max) < 0)
            return bad_value(cmd_name, o, from, value, "expected N or MIN-MAX, 1 or more");
        free(*(char **)p);
        *(char **)p = xstrdup(value);
        return 0;
    }
    return 0;
}

static void print_help(enum config_cmd cmd, const char *cmd_name, const char *summary)
{
    printf("Usage: sluice %s [OPTION]...\n%s\n\nOptions:\n", cmd_name, summary);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option_spec *o = &options[i];
        if (!(o->cmds & cmd))
            continue;
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        printf("  %-26s %s\n", left, o->help);
        if ((o->def && o->type != OPT_BOOL) || o->env) {
            printf("  %-26s", "");
            if (o->def && o->type != OPT_BOOL)
                printf(" default %s", o->def);
            if (o->env)
                printf("%s env %s%s", o->def && o->type != OPT_BOOL ? ";" : "", o->env,
                       o->env_scale == 60 ? " (in minutes)" : "");
            printf("\n");
        }
    }
    printf("  %-26s %s\n", "--help", "show this help and exit");
    printf("\nPrecedence: flag, then environment, then default. libpq's PG* variables apply to\n"
           "whatever the connection settings leave unset.\n");
}

static char *join_dir(const char *base, const char *leaf)
{
    return xasprintf("%s/%s", base, leaf);
}

static void derive_dirs(struct config *cfg)
{
    struct {
        char **field;
        const char *leaf;
    } dirs[] = {
        {&cfg->input_dir, "input"},     {&cfg->temp_dir, "temp"},
        {&cfg->archive_dir, "archive"}, {&cfg->checkpoint_dir, "checkpoints"},
        {&cfg->error_dir, "error"},     {&cfg->pg_dir, "pg"},
    };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (!*dirs[i].field)
            *dirs[i].field = join_dir(cfg->data_dir, dirs[i].leaf);
}

/* The password file's first line, without its line end, into cfg->pg_password. 0, or 2 after
 * reporting. The file is opened without following a symlink planted in its place only when it
 * is the last component; it must be a regular file. */
static int read_password_file(struct config *cfg, const char *cmd_name)
{
    const char *path = cfg->pg_password_file;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "sluice %s: cannot read password file '%s': %s\n", cmd_name, path,
                fd < 0 ? "cannot open it" : "not a regular file");
        if (fd >= 0)
            close(fd);
        return 2;
    }
    char line[1024];
    ssize_t n;
    do
        n = read(fd, line, sizeof(line) - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0) {
        fprintf(stderr, "sluice %s: cannot read password file '%s'\n", cmd_name, path);
        return 2;
    }
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) {
        fprintf(stderr, "sluice %s: password file '%s' is empty\n", cmd_name, path);
        return 2;
    }
    free(cfg->pg_password);
    cfg->pg_password = xstrdup(line);
    memset(line, 0, sizeof(line));
    return 0;
}

/* Defaults that depend on other options. 0, or 2 after reporting. */
static int derive_settings(struct config *cfg, enum config_cmd cmd, const char *cmd_name)
{
    if (!config_given(cfg, "max-wait"))
        cfg->max_wait = cfg->once ? 300 : 0; /* a batch job never hangs forever */
    if (cmd == CMD_RUN)
        cfg->create_dirs = true; /* run makes its whole data folder */
    if (cfg->table && !*cfg->table) {
        fprintf(stderr, "sluice %s: --table must not be empty\nTry 'sluice %s --help'\n", cmd_name,
                cmd_name);
        return 2;
    }
    if (cfg->table && !cfg->dlq_table)
        cfg->dlq_table = xasprintf("%s_errors", cfg->table);
    if (cfg->pg_password_file)   /* the Docker secrets convention: the file wins */
        return read_password_file(cfg, cmd_name);
    return 0;
}

int config_parse(struct config *cfg, enum config_cmd cmd, const char *cmd_name, const char *summary,
                 int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    struct option longopts[NOPTIONS + 2];
    const struct option_spec *by_index[NOPTIONS];
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(options[i].cmds & cmd))
            continue;
        by_index[n] = &options[i];
        longopts[n] = (struct option){options[i].name,
                                      options[i].type == OPT_BOOL ? no_argument : required_argument,
                                      NULL, (int)n + 1000};
        n++;
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    size_t nspec = n - 1;

    /* Defaults first, then the environment, then flags. */
    for (size_t i = 0; i < nspec; i++) {
        const struct option_spec *o = by_index[i];
        if (o->def && o->type != OPT_BOOL && set_value(cfg, cmd_name, o, o->def, NULL))
            return 2;
    }
    for (size_t i = 0; i < nspec; i++) {
        const struct option_spec *o = by_index[i];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (v && *v) {
            int rc = set_value(cfg, cmd_name, o, v, o->env);
            if (rc)
                return rc;
            cfg->given |= UINT64_C(1) << (o - options);
        }
    }

    optind = 1;
    opterr = 0;
    int c, idx;
    while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
        if (c == 'h') {
            print_help(cmd, cmd_name, summary);
            return 1;
        }
        if (c >= 1000 && (size_t)(c - 1000) < nspec) {
            int rc = set_value(cfg, cmd_name, by_index[c - 1000], optarg ? optarg : "", NULL);
            if (rc)
                return rc;
            cfg->given |= UINT64_C(1) << (by_index[c - 1000] - options);
            continue;
        }
        if (c == ':')
            fprintf(stderr, "sluice %s: option '%s' requires a value\n", cmd_name,
                    argv[optind - 1]);
        else
            fprintf(stderr, "sluice %s: unknown option '%s'\n", cmd_name, argv[optind - 1]);
        fprintf(stderr, "Try 'sluice %s --help'\n", cmd_name);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "sluice %s: unexpected argument '%s'\n", cmd_name, argv[optind]);
        fprintf(stderr, "Try 'sluice %s --help'\n", cmd_name);
        return 2;
    }
    derive_dirs(cfg);
    return derive_settings(cfg, cmd, cmd_name);
}

void config_release(struct config *cfg)
{
    if (cfg->pg_password)
        memset(cfg->pg_password, 0, strlen(cfg->pg_password));
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option_spec *o = &options[i];
        if (o->type == OPT_STR || o->type == OPT_ROWS || o->type == OPT_SEED) {
            char **p = field_ptr(cfg, o);
            free(*p);
            *p = NULL;
        }
    }
    /* derived folders are allocated even when their option does not apply to the command */
    free(cfg->temp_dir);
    free(cfg->archive_dir);
    free(cfg->checkpoint_dir);
    free(cfg->error_dir);
    free(cfg->pg_dir);
    free(cfg->input_dir);
    cfg->temp_dir = cfg->archive_dir = cfg->checkpoint_dir = cfg->error_dir = cfg->pg_dir = NULL;
    cfg->input_dir = NULL;
}

bool config_given(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return (cfg->given >> i) & 1;
    return false;
}

/* The password a conninfo holds, or NULL (heap string; caller frees). An unparsable conninfo
 * counts as holding one: it cannot be told apart. */
static char *conninfo_password(const char *conninfo, bool *unparsable)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    *unparsable = !opts;
    char *pw = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            pw = xstrdup(o->val);
    PQconninfoFree(opts);
    return pw;
}

static void scrub(char *s)
{
    memset(s, '*', strlen(s));
}

int config_scrub_argv(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *name = a + 2;
        char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        /* getopt_long takes unambiguous prefixes: "--pg-passw" is --pg-password */
        bool password = len >= strlen("pg-pa") && strncmp(name, "pg-password", len) == 0 &&
                        len <= strlen("pg-password");
        bool db = len == 2 && strncmp(name, "db", 2) == 0;
        if (!password && !db)
            continue;
        char *value = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        if (!value || !*value)
            continue;
        if (db) {
            bool unparsable;
            char *pw = conninfo_password(value, &unparsable);
            /* an unparsable one may hide a password: "password=" or a URI's "user:pw@" */
            bool holds = pw || (unparsable && (strstr(value, "password") || strchr(value, '@')));
            if (pw)
                memset(pw, 0, strlen(pw));
            free(pw);
            if (!holds)
                continue;
        }
        scrub(value);
        n++;
        if (!eq)
            i++;
    }
    return n;
}

bool config_has_password(const struct config *cfg)
{
    if (cfg->pg_password && *cfg->pg_password)
        return true;
    if (!cfg->db || !*cfg->db)
        return false;
    bool unparsable;
    char *pw = conninfo_password(cfg->db, &unparsable);
    bool has = pw != NULL;
    if (pw)
        memset(pw, 0, strlen(pw));
    free(pw);
    return has || (unparsable && (strstr(cfg->db, "password") || strchr(cfg->db, '@')));
}

bool config_has_db(const struct config *cfg)
{
    return (cfg->db && *cfg->db) || (cfg->pg_host && *cfg->pg_host);
}

/* Quote a conninfo value: single quotes, with \ and ' escaped. */
static void append_kv(char **out, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    size_t n = strlen(value);
    char *q = xmalloc(2 * n + 3);
    char *w = q;
    *w++ = '\'';
    for (size_t i = 0; i < n; i++) {
        if (value[i] == '\'' || value[i] == '\\')
            *w++ = '\\';
        *w++ = value[i];
    }
    *w++ = '\'';
    *w = '\0';
    char *s = xasprintf("%s%s%s=%s", *out, **out ? " " : "", key, q);
    free(q);
    free(*out);
    *out = s;
}

char *config_conninfo(const struct config *cfg)
{
    struct {
        const char *key, *option, *value;
    } fields[] = {
        {"host", "pg-host", cfg->pg_host},
        {"port", "pg-port", cfg->pg_port},
        {"dbname", "pg-db", cfg->pg_dbname},
        {"user", "pg-user", cfg->pg_user},
        {"password", "pg-password", cfg->pg_password},
    };
    size_t nfields = sizeof(fields) / sizeof(fields[0]);
    char *s = xstrdup("");
    if (!cfg->db || !*cfg->db) {
        for (size_t i = 0; i < nfields; i++)
            append_kv(&s, fields[i].key, fields[i].value);
        return s;
    }
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg->db, &err);
    PQfreemem(err);
    if (!opts) {
        free(s);
        return xstrdup(cfg->db);
    }
    /* --db first, as key=value; then the POSTGRES_* the user gave (not defaults) for what it
     * leaves unset, so POSTGRES_PASSWORD completes a --db without a password. */
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = o->val;
        for (size_t i = 0; i < nfields && (!v || !*v); i++)
            if (strcmp(o->keyword, fields[i].key) == 0 &&
                (config_given(cfg, fields[i].option) ||
                 (fields[i].value && strcmp(fields[i].key, "password") == 0)))
                v = fields[i].value;
        append_kv(&s, o->keyword, v);
    }
    PQconninfoFree(opts);
    return s;
}
