/* test_fault.c - SLUICE_FAULT=point:N: the process leaves with status 77 on exactly the N-th
 * pass of that point (N defaults to 1), says so on stderr, and ignores every other point; a list
 * arms several points; unset, nothing happens. Each case runs in a forked child, because the
 * variable is read once per process. */
#include "fault.h"
#include "testutil.h"

#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct outcome {
    int status;  /* exit status, or -1 when killed */
    long passes; /* passes of `point` the child completed before it stopped */
    char stderr_text[256];
};

/* In a child with SLUICE_FAULT=env (NULL: unset): pass `other` 5 times, then `point` up to
 * `tries` times, reporting each completed pass on a pipe. */
static struct outcome run_child(const char *env, const char *point, const char *other, int tries)
{
    struct outcome o = {-1, 0, ""};
    int passes[2], err[2];
    if (pipe(passes) < 0 || pipe(err) < 0)
        exit(2);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(passes[0]);
        close(err[0]);
        dup2(err[1], STDERR_FILENO);
        if (env)
            setenv("SLUICE_FAULT", env, 1);
        else
            unsetenv("SLUICE_FAULT");
        for (int i = 0; i < 5; i++)
            fault_point(other);
        for (int i = 0; i < tries; i++) {
            fault_point(point);
            if (write(passes[1], "x", 1) != 1)
                _exit(3);
        }
        _exit(0);
    }
    close(passes[1]);
    close(err[1]);
    char buf[64];
    ssize_t n;
    while ((n = read(passes[0], buf, sizeof(buf))) > 0)
        o.passes += n;
    size_t len = 0;
    while (len < sizeof(o.stderr_text) - 1 &&
           (n = read(err[0], o.stderr_text + len, sizeof(o.stderr_text) - 1 - len)) > 0)
        len += (size_t)n;
    o.stderr_text[len] = '\0';
    close(passes[0]);
    close(err[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status))
        o.status = WEXITSTATUS(status);
    return o;
}

static void test_nth_pass(void)
{
    struct outcome o = run_child("before-commit:3", "before-commit", "claimed", 10);
    CHECK_EQ_LONG(o.status, 77);
    CHECK_EQ_LONG(o.passes, 2);
    CHECK_EQ_STR(o.stderr_text, "sluice: fault point 'before-commit' reached (pass 3), exiting\n");
}

static void test_default_is_first_pass(void)
{
    struct outcome o = run_child("mid-copy", "mid-copy", "claimed", 10);
    CHECK_EQ_LONG(o.status, 77);
    CHECK_EQ_LONG(o.passes, 0);
    CHECK_EQ_STR(o.stderr_text, "sluice: fault point 'mid-copy' reached (pass 1), exiting\n");
}

static void test_list_arms_each_point(void)
{
    /* The other point ("claimed:5") is passed 5 times first: it fires before ours. */
    struct outcome o = run_child("after-commit:2,claimed:5", "after-commit", "claimed", 10);
    CHECK_EQ_LONG(o.status, 77);
    CHECK_EQ_LONG(o.passes, 0);
    CHECK_EQ_STR(o.stderr_text, "sluice: fault point 'claimed' reached (pass 5), exiting\n");
    o = run_child("claimed:6,after-commit:2", "after-commit", "claimed", 10);
    CHECK_EQ_LONG(o.status, 77);
    CHECK_EQ_LONG(o.passes, 1);
    CHECK_EQ_STR(o.stderr_text, "sluice: fault point 'after-commit' reached (pass 2), exiting\n");
}

static void test_other_points_and_unset(void)
{
    struct outcome o = run_child("mid-copy:1", "mid-cop", "mid-copy-x", 10); /* exact names only */
    CHECK_EQ_LONG(o.status, 0);
    CHECK_EQ_LONG(o.passes, 10);
    CHECK_EQ_STR(o.stderr_text, "");
    o = run_child("claimed:11", "claimed", "mid-copy", 10); /* armed beyond the passes made */
    CHECK_EQ_LONG(o.status, 0);
    CHECK_EQ_LONG(o.passes, 10);
    o = run_child(NULL, "claimed", "mid-copy", 10);
    CHECK_EQ_LONG(o.status, 0);
    CHECK_EQ_LONG(o.passes, 10);
    CHECK_EQ_STR(o.stderr_text, "");
}

int main(void)
{
    test_nth_pass();
    test_default_is_first_pass();
    test_list_arms_each_point();
    test_other_points_and_unset();
    return TEST_DONE();
}
