/*
 * main.c - the sluice command: a table of subcommands and a dispatcher.
 *
 * Everything a subcommand does lives in its cmd_<name>.c; this file only finds it.
 */
#include "commands.h"
#include "fsutil.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"generate", cmd_generate, "write e-commerce event CSV files into the hot folder"},
    {"ingest", cmd_ingest, "load the hot folder into PostgreSQL, exactly once"},
    {"archive", cmd_archive, "move committed files out of the hot folder"},
    {"run", cmd_run, "generator, ingester and archiver together (the whole pipeline)"},
    {"db", cmd_db, "start, stop or check the embedded PostgreSQL cluster"},
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
    /* A hot folder may hold more small files than a default soft limit of descriptors: take what
     * the hard limit allows (best effort; the ingester treats EMFILE as back-pressure anyway). */
    fs_raise_nofile_limit(NULL);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "Try 'sluice --help'\n");
    return 2;
}
