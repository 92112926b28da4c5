/*
 * retry_limit.h - at most one attempt (and so one log line) per key per interval, for file-level
 * operations that failed and would otherwise be retried in a tight loop.
 */
#ifndef SLUICE_RETRY_LIMIT_H
#define SLUICE_RETRY_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

#define RETRY_LIMIT_INTERVAL_S 60.0

struct retry_limit;

/* A limiter allowing one attempt per key every interval_s seconds after a failure. */
struct retry_limit *retry_limit_new(double interval_s);
void retry_limit_free(struct retry_limit *r);
/* May the operation on key be tried now (time `now`, seconds on any monotonic clock)? True
 * when it never failed, or its last failure is interval_s old. */
bool retry_limit_due(struct retry_limit *r, const char *key, double now);
/* The operation on key failed at `now`: the next attempt is due interval_s later. Returns how
 * many failures were recorded for key since it was last tried successfully (1 the first time),
 * so a caller can say "failing for N attempts". */
unsigned retry_limit_failed(struct retry_limit *r, const char *key, double now);
/* The operation on key succeeded (or the key is gone): forget it. */
void retry_limit_clear(struct retry_limit *r, const char *key);
/* Keys being held back now. */
size_t retry_limit_count(const struct retry_limit *r);

#endif
