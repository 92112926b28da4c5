/* cmd_ingest.c - placeholder until the subcommand lands. */
#include "commands.h"

#include <stdio.h>

int cmd_ingest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice ingest: not implemented yet\n");
    return 1;
}
