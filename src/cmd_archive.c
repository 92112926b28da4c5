/* cmd_archive.c - placeholder until the subcommand lands. */
#include "commands.h"

#include <stdio.h>

int cmd_archive(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice archive: not implemented yet\n");
    return 1;
}
