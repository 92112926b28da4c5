/* cmd_generate.c - placeholder until the subcommand lands. */
#include "commands.h"

#include <stdio.h>

int cmd_generate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice generate: not implemented yet\n");
    return 1;
}
