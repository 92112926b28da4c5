/* clock.h - the one monotonic clock and the one stop-aware sleep. */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC (for intervals and deadlines, never for dates). */
double clock_now(void);

/* Seconds since the epoch on the wall clock (for dates and file ages, never for intervals). */
double clock_wall(void);
/* A timespec (an mtime, say) as seconds. */
static inline double clock_seconds(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* Sleep until the clock_now() deadline, waking at least every 100 ms to look at *stop (may be
 * NULL). Returns false when *stop was set before the time was up. */
bool clock_sleep_until(double deadline, const atomic_int *stop);
/* Sleep for `seconds`, waking at least every 100 ms to look at *stop (may be NULL). Returns
 * false when *stop was set before the time was up. */
bool clock_sleep(double seconds, const atomic_int *stop);
/* The wall-clock instant `seconds` from now, as pthread_cond_timedwait() takes it. */
struct timespec clock_wall_after(double seconds);

#endif
