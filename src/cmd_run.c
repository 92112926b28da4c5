/* cmd_run.c - placeholder until the subcommand lands. */
#include "commands.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice run: not implemented yet\n");
    return 1;
}
