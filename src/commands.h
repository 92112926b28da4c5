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
int cmd_status(int argc, char **argv);

/* Shared by the commands that log and ingest (defined in cmd_ingest.c). */
struct config;
struct ingest_options;
int cmd_setup_logging(const struct config *cfg, const char *cmd_name);
void cmd_ingest_options(const struct config *cfg, const char *conninfo, struct ingest_options *o);

#endif
