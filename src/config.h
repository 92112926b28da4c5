/*
 * config.h - every option of every subcommand, from one table: flag, environment fallback,
 * default, bounds and help text. Precedence: flag > environment > default.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* Which subcommands an option belongs to (a bit mask). */
enum config_cmd {
    CMD_GENERATE = 1 << 0,
    CMD_INGEST = 1 << 1,
    CMD_ARCHIVE = 1 << 2,
    CMD_RUN = 1 << 3,
    CMD_DB = 1 << 4,
    CMD_STATUS = 1 << 5,
};

struct config {
    /* database */
    char *db; /* --db / DATABASE_URL: conninfo or URI; NULL = build from POSTGRES_* */
    char *pg_host, *pg_port, *pg_dbname, *pg_user, *pg_password;

    /* folders */
    char *data_dir;
    char *input_dir, *temp_dir, *archive_dir, *checkpoint_dir, *error_dir, *log_dir, *pg_dir;
    char *log_level;
    char *listen; /* --listen ADDR:PORT for the HTTP endpoint; NULL/"off" = none */

    /* ingest */
    bool once;
    char *event_types;
    long max_row_bytes;
    long max_file_bytes; /* 0 = unlimited */
    long batch_bytes;
    double rescan_interval;
    double lock_timeout; /* idle_in_transaction_session_timeout, seconds */
    long workers;

    /* archive */
    double min_age; /* seconds */

    /* generate */
    long files;
    char *rows_per_file; /* "N" or "MIN-MAX" */
    long rows_min, rows_max;
    double interval;
    double rate;
    double bad_ratio;
    char *seed; /* NULL = random */
    char *manifest;

    /* run */
    double seconds; /* 0 = until stopped */

    /* db */
    bool fast; /* fsync=off for throwaway clusters */

    /* status */
    bool json;
    double max_lag; /* seconds; < 0 = no check */
};

/* Parse argv (argv[0] is the subcommand name) for the subcommand `cmd` with help text `usage`.
 * On --help prints the help page and returns 1; on a bad option prints one error line and
 * "Try 'sluice <cmd> --help'" and returns 2; on success returns 0 with derived folders filled.
 * Non-option arguments are refused. */
int config_parse(struct config *cfg, enum config_cmd cmd, const char *cmd_name, const char *summary,
                 int argc, char **argv);
void config_release(struct config *cfg);

/* The libpq conninfo the options describe (heap string; caller frees). Empty when nothing is
 * set, so libpq's own PG* variables apply. */
char *config_conninfo(const struct config *cfg);
/* True when the user named a database (--db, DATABASE_URL or POSTGRES_HOST). */
bool config_has_db(const struct config *cfg);

#endif
