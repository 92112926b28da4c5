/* test_retry_limit.c - a failed file-level operation is due again only after the interval, per
 * key; success forgets the key; expired keys are dropped as the table grows, so a flood of
 * failing names is bounded by what failed within one interval. */
#include "retry_limit.h"
#include "testutil.h"

static void test_once_per_interval(void)
{
    struct retry_limit *r = retry_limit_new(60);
    CHECK(retry_limit_due(r, "a.csv", 1000));
    CHECK_EQ_LONG(retry_limit_failed(r, "a.csv", 1000), 1);
    CHECK(!retry_limit_due(r, "a.csv", 1000));
    CHECK(!retry_limit_due(r, "a.csv", 1059.9));
    CHECK(retry_limit_due(r, "b.csv", 1000)); /* per key */
    CHECK(retry_limit_due(r, "a.csv", 1060));
    CHECK_EQ_LONG(retry_limit_failed(r, "a.csv", 1060), 2);
    CHECK(!retry_limit_due(r, "a.csv", 1100));
    retry_limit_clear(r, "a.csv");
    CHECK(retry_limit_due(r, "a.csv", 1100));
    CHECK_EQ_LONG(retry_limit_count(r), 0);
    retry_limit_clear(r, "never-seen.csv");

    /* A loop that tries whenever due makes one attempt a minute, not one per pass. */
    int attempts = 0;
    for (int pass = 0; pass < 180000; pass++) { /* a pass every millisecond for 3 minutes */
        double now = 2000 + pass / 1000.0;
        if (retry_limit_due(r, "stuck.csv", now)) {
            attempts++;
            retry_limit_failed(r, "stuck.csv", now);
        }
    }
    CHECK_EQ_LONG(attempts, 3);
    retry_limit_free(r);
}

static void test_bounded(void)
{
    struct retry_limit *r = retry_limit_new(60);
    char key[32];
    for (int i = 0; i < 10000; i++) { /* 10000 names failing, one every 0.1 s */
        snprintf(key, sizeof(key), "f%d.csv", i);
        retry_limit_failed(r, key, i / 10.0);
    }
    /* only what failed in the last minute is held: 600 keys, give or take the last pruning */
    CHECK(retry_limit_count(r) <= 1300);
    CHECK(retry_limit_count(r) >= 600);
    CHECK(!retry_limit_due(r, "f9999.csv", 1000));
    CHECK(retry_limit_due(r, "f0.csv", 1000));
    retry_limit_free(r);
}

int main(void)
{
    test_once_per_interval();
    test_bounded();
    return TEST_DONE();
}
