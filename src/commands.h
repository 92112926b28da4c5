/*
 * commands.h - the subcommands and the setup they share.
 *
 * main.c holds the table: each command names the options it takes and, as flags, the common
 * setup it needs (logging, signals, its folders, a checked database connection). cmd_setup.c
 * runs that setup once, calls the command with a context holding what it made, and tears it
 * down; each cmd_<name>.c holds only its own job.
 */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

#include "config.h"

#include <libpq-fe.h>
#include <stdbool.h>

/* The common setup, as flags of a command (options are always parsed first). */
enum cmd_setup {
    CMD_SETUP_LOGGING = 1 << 0,  /* --log-level; --log-dir made and opened */
    CMD_SETUP_SIGNALS = 1 << 1,  /* SIGTERM/SIGINT set signals_stop; SIGPIPE ignored */
    CMD_SETUP_DB = 1 << 2,       /* a connection: conninfo checked, schema current, grants held */
    CMD_SETUP_EMBEDDED = 1 << 3, /* with CMD_SETUP_DB and no --db: the embedded cluster */
    CMD_SETUP_HTTP = 1 << 4,     /* with CMD_SETUP_DB: --listen served before connecting */
};

/* The folders a command uses, checked before it starts (cmd_setup.c). */
enum cmd_dir {
    CMD_DIR_INPUT = 1 << 0, /* must exist unless --create-dirs; must be writable */
    CMD_DIR_ERROR = 1 << 1, /* the others are made when missing and must be writable */
    CMD_DIR_CHECKPOINT = 1 << 2,
    CMD_DIR_ARCHIVE = 1 << 3,
    CMD_DIR_TEMP = 1 << 4,
};

/* What the setup made, handed to the command. */
struct cmd_context {
    const char *name;
    const char *action; /* `db`: its first argument (start, stop, ...), or NULL */
    struct config cfg;
    char *conninfo;        /* CMD_SETUP_DB: what every connection of the command uses */
    PGconn *conn;          /* CMD_SETUP_DB: checked; the command may keep it (NULL it then) */
    bool started_embedded; /* the setup started the embedded cluster: teardown stops it */
    struct http *http;     /* CMD_SETUP_HTTP: the endpoint, when --listen is on */
};

struct cmd_def {
    const char *name;
    int (*fn)(struct cmd_context *ctx); /* the exit code: 0 success, 1 failure, 2 bad usage */
    enum config_cmd options;            /* which rows of the option table apply */
    unsigned setup;                     /* enum cmd_setup */
    unsigned dirs;                      /* enum cmd_dir */
    unsigned db_need;                   /* enum grants_need, for the privilege check */
    bool takes_action;                  /* the first argument is an action (db) */
    const char *summary;                /* one line, for 'sluice --help' */
    const char *help;                   /* the paragraph of 'sluice CMD --help' */
};

/* Set up what def asks for, run it, tear down; returns the process exit code. */
int cmd_main(const struct cmd_def *def, int argc, char **argv);

/* Connect as CMD_SETUP_DB does (for commands that need a database for some actions only).
 * 0, or -1 after logging. */
int cmd_connect(struct cmd_context *ctx, unsigned db_need, bool embedded);

/* The commands, each in its own cmd_<name>.c, with its help paragraph. */
int cmd_generate(struct cmd_context *ctx);
int cmd_ingest(struct cmd_context *ctx);
int cmd_archive(struct cmd_context *ctx);
int cmd_run(struct cmd_context *ctx);
int cmd_db(struct cmd_context *ctx);
int cmd_status(struct cmd_context *ctx);
extern const char cmd_generate_help[], cmd_ingest_help[], cmd_archive_help[], cmd_run_help[],
    cmd_db_help[], cmd_status_help[];

/* The ingester's options from the configuration (cmd_ingest.c; `run` uses it too). */
struct ingest_options;
struct contract;
void cmd_ingest_options(const struct config *cfg, const char *conninfo,
                        const struct contract *contract, struct ingest_options *o);

#endif
