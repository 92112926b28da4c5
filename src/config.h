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
    CMD_REPLAY = 1 << 6,
};

struct config {
    /* database */
    char *db; /* --db / DATABASE_URL: conninfo or URI; POSTGRES_* fill what it leaves unset */
    char *pg_host, *pg_port, *pg_dbname, *pg_user, *pg_password;
    char *pg_password_file; /* read into pg_password by config_parse */
    double max_wait;        /* seconds a transient outage may last; 0 = forever */
    char *ingest_role;      /* db setup / the embedded cluster: the least-privilege role */
    char *pg_listen;        /* the embedded cluster's TCP addresses; NULL = socket only */

    /* folders */
    char *data_dir;
    char *input_dir, *temp_dir, *archive_dir, *checkpoint_dir, *error_dir, *log_dir, *pg_dir;
    char *log_level;
    bool create_dirs; /* make missing folders instead of refusing to start */
    char *listen; /* --listen ADDR:PORT for the HTTP endpoint; NULL/"off" = none */

    /* ingest */
    bool once;
    char *event_types;
    char *table;       /* --table: the target table, [schema.]name */
    char *dlq_table;   /* --dlq-table: NULL = TABLE_errors */
    char *column_map;  /* --column-map csv=col,... */
    bool strict_columns;
    char *on_conflict; /* --on-conflict: reject, skip or update */
    char *update_if;   /* --update-if: the guard of update mode, one SQL expression; NULL = none */
    char *time_zone;   /* --time-zone: UTC or a fixed offset */
    long max_row_bytes;
    long max_file_bytes; /* 0 = unlimited */
    long producer_uid;   /* -1 = the hot folder's owner, checked as root */
    double settle_time;  /* seconds an unterminated last row must stay unchanged */
    long batch_bytes;
    double rescan_interval;
    double lock_timeout; /* idle_in_transaction_session_timeout, seconds */
    long workers;

    /* archive */
    double min_age;     /* seconds */
    bool drain_archive; /* run: archive everything loaded at shutdown, whatever its age */

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

    uint64_t given; /* bit i: options[i] came from a flag or the environment (config.c) */
    /* status */
    bool json;
    double max_lag; /* seconds; < 0 = no check */

    /* replay: which dead letters (NULL = any), and how */
    char *codes, *file, *since, *until, *where_raw;
    bool dry_run;
    long batch_rows;
};

/* Parse argv (argv[0] is the subcommand name) for the subcommand `cmd` with help text `usage`.
 * On --help prints the help page and returns 1; on a bad option prints one error line and
 * "Try 'sluice <cmd> --help'" and returns 2; on success returns 0 with derived folders filled.
 * Non-option arguments are refused. */
int config_parse(struct config *cfg, enum config_cmd cmd, const char *cmd_name, const char *summary,
                 int argc, char **argv);
void config_release(struct config *cfg);

/* The libpq conninfo the options describe (heap string; caller frees): --db with the POSTGRES_*
 * options given by flag or environment filling what it leaves unset, or those options alone.
 * Empty when nothing is set, so libpq's own PG* variables apply. A --db that does not parse is
 * returned as it is (db_conninfo_check reports it). */
char *config_conninfo(const struct config *cfg);
/* True when the option named `name` (without "--") was given by flag or environment. */
bool config_given(const struct config *cfg, const char *name);
/* Overwrite, in place, every password argv holds (the value of --pg-password, or a --db that
 * holds one), so /proc/PID/cmdline no longer shows it. Returns how many were overwritten. */
int config_scrub_argv(int argc, char **argv);
/* True when a password is held in memory (from any source). */
bool config_has_password(const struct config *cfg);
/* True when the user named a database (--db, DATABASE_URL or POSTGRES_HOST). */
bool config_has_db(const struct config *cfg);

#endif
