/* testutil.h - the few assertions the unit tests share; a failed one prints where and why. */
#ifndef SLUICE_TESTUTIL_H
#define SLUICE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_LONG(a, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        test_checks++;                                                                             \
        if (a_ != b_) {                                                                            \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_MEM(p, n, s)                                                                      \
    do {                                                                                           \
        const char *p_ = (const char *)(p), *s_ = (s);                                             \
        size_t n_ = (n), sn_ = strlen(s_);                                                         \
        test_checks++;                                                                             \
        if (n_ != sn_ || memcmp(p_, s_, n_) != 0) {                                                \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s is \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, #p,    \
                    (int)n_, p_, s_);                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b) CHECK_EQ_MEM((a), strlen(a), (b))

/* Print the summary line and give the exit code; a binary that ran no check fails. */
#define TEST_DONE()                                                                                \
    (printf("%s: %d passed, %d failed\n", __FILE__, test_checks - test_failures, test_failures),   \
     (test_failures || test_checks == 0) ? 1 : 0)

#endif
