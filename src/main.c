/*
 * main.c - the sluice command: a table of subcommands and a dispatcher.
 *
 * Each row names a command, the options it takes and the common setup it needs as flags (as
 * git's cmd_struct does); cmd_setup.c runs that setup, so every cmd_<name>.c holds only its own
 * job. This file only finds the command.
 */
#include "commands.h"
#include "grants.h"

#include "metrics.h"

#include <stdio.h>
#include <string.h>

#define SETUP_SERVICE (CMD_SETUP_LOGGING | CMD_SETUP_SIGNALS | CMD_SETUP_DB | CMD_SETUP_HTTP)

static const struct cmd_def commands[] = {
    {"generate", cmd_generate, CMD_GENERATE, CMD_SETUP_LOGGING | CMD_SETUP_SIGNALS, 0, 0, false,
     "write e-commerce event CSV files into the hot folder", cmd_generate_help},
    {"ingest", cmd_ingest, CMD_INGEST, SETUP_SERVICE,
     CMD_DIR_INPUT | CMD_DIR_ERROR | CMD_DIR_CHECKPOINT, GRANTS_INGEST, false,
     "load the hot folder into PostgreSQL, exactly once", cmd_ingest_help},
    {"archive", cmd_archive, CMD_ARCHIVE, SETUP_SERVICE, CMD_DIR_INPUT | CMD_DIR_ARCHIVE,
     GRANTS_ARCHIVE, false, "move committed files out of the hot folder", cmd_archive_help},
    {"run", cmd_run, CMD_RUN, SETUP_SERVICE | CMD_SETUP_EMBEDDED,
     CMD_DIR_INPUT | CMD_DIR_ERROR | CMD_DIR_CHECKPOINT | CMD_DIR_ARCHIVE | CMD_DIR_TEMP,
     GRANTS_INGEST | GRANTS_ARCHIVE, false,
     "generator, ingester and archiver together (the whole pipeline)", cmd_run_help},
    {"db", cmd_db, CMD_DB, CMD_SETUP_LOGGING, 0, 0, true,
     "start, stop, check or set up the embedded PostgreSQL cluster and the schema", cmd_db_help},
    {"status", cmd_status, CMD_STATUS, CMD_SETUP_LOGGING, 0, 0, false,
     "where the pipeline stands: pending, lag, rates, dead letters", cmd_status_help},
    {"replay", cmd_replay, CMD_REPLAY, CMD_SETUP_LOGGING | CMD_SETUP_SIGNALS | CMD_SETUP_DB, 0,
     GRANTS_REPLAY, false, "re-check dead letters against the current rules; move those that pass",
     cmd_replay_help},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: sluice COMMAND [OPTION]...\n"
                 "Turn CSV event files landing in a folder into rows in PostgreSQL.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'sluice COMMAND --help' describes a command's options.\n"
                 "'sluice --version' prints the version.\n");
}

int main(int argc, char **argv)
{
    metrics_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return cmd_main(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "Try 'sluice --help'\n");
    return 2;
}
