/*
 * signals.c - the process's stop flag.
 *
 * SIGTERM and SIGINT only set signals_stop; every loop in sluice checks it between units of work
 * (a batch, a file, a poll), so shutdown always happens at a point where state is consistent.
 * SIGPIPE is ignored: a dead database socket is reported by libpq as an error, not a signal.
 */
#include "signals.h"

#include "log.h"

#include <string.h>

atomic_int signals_stop;

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&signals_stop, 1);
}

int signals_install(void)
{
    struct sigaction stop, ignore;
    memset(&stop, 0, sizeof(stop));
    stop.sa_handler = on_stop; /* no SA_RESTART: blocking waits return EINTR */
    sigemptyset(&stop.sa_mask);
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGTERM, &stop, NULL) < 0 || sigaction(SIGINT, &stop, NULL) < 0 ||
        sigaction(SIGPIPE, &ignore, NULL) < 0) {
        log_error("signals", "cannot install signal handlers: %m");
        return -1;
    }
    return 0;
}

void signals_request_stop(void)
{
    atomic_store(&signals_stop, 1);
}
