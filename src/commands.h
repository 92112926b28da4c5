/* commands.h - the subcommands, each in its own cmd_<name>.c; main.c dispatches to them. */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

/* Each takes argv with argv[0] = the subcommand's name and returns the process exit code:
 * 0 success, 1 failure, 2 bad usage. */
int cmd_generate(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_db(int argc, char **argv);

#endif
