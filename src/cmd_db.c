/* cmd_db.c - placeholder until the subcommand lands. */
#include "commands.h"

#include <stdio.h>

int cmd_db(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice db: not implemented yet\n");
    return 1;
}
