/*
 * clock.c - time: one monotonic clock for intervals, one wall clock for dates (and for the
 * deadlines of condition waits), and one sleep that a stop request cuts short within 100 ms
 * (another thread may set the flag without a signal), so no loop in sluice needs its own.
 */
#include "clock.h"

#include <time.h>

double clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return clock_seconds(&ts);
}

double clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return clock_seconds(&ts);
}

struct timespec clock_wall_after(double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(seconds * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    return ts;
}

bool clock_sleep_until(double deadline, const atomic_int *stop)
{
    for (;;) {
        if (stop && atomic_load(stop))
            return false;
        double now = clock_now();
        if (now >= deadline)
            return true;
        double until = deadline - now > 0.1 ? now + 0.1 : deadline;
        struct timespec ts;
        ts.tv_sec = (time_t)until;
        ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_nsec = 999999999L;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

bool clock_sleep(double seconds, const atomic_int *stop)
{
    return clock_sleep_until(clock_now() + seconds, stop);
}
