/* signals.h - SIGTERM/SIGINT set a flag; nothing else happens in a handler. */
#ifndef SLUICE_SIGNALS_H
#define SLUICE_SIGNALS_H

#include <signal.h>
#include <stdatomic.h>

/* Non-zero once SIGTERM or SIGINT arrived (or signals_request_stop() was called). Atomic: the
 * handler sets it and every thread reads it (a lock-free atomic is safe in a handler). */
extern atomic_int signals_stop;

/* Install the handlers (without SA_RESTART, so blocking waits return EINTR) and ignore SIGPIPE. */
int signals_install(void); /* 0, or -1 after logging */
void signals_request_stop(void);

#endif
