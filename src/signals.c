/*
 * signals.c - the process's stop flag.
 *
 * SIGTERM and SIGINT only set signals_stop; every loop in sluice checks it between units of work
 * (a batch, a file, a poll), so shutdown always happens at a point where state is consistent.
 * SIGPIPE is ignored: a dead database socket is reported by libpq as an error, not a signal.
 */
#include "signals.h"

#include <string.h>

atomic_int signals_stop;

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&signals_stop, 1);
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void signals_request_stop(void)
{
    atomic_store(&signals_stop, 1);
}
