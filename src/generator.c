/* generator.c - placeholder until the generator lands. */
#include "generator.h"

#include "log.h"

#include <string.h>

int generator_run(const struct generator_options *opts, volatile sig_atomic_t *stop,
                  struct generator_totals *totals)
{
    (void)opts;
    (void)stop;
    memset(totals, 0, sizeof(*totals));
    log_error("generate", "not implemented yet");
    return -1;
}
