/*
 * fault.c - named crash points for the chaos tests (SLUICE_FAULT=point:N[,point:N...]).
 *
 * The environment is read once. A pass through a point that is not armed costs one load and one
 * branch; an armed point counts its passes and on the N-th one the process leaves with status 77
 * at once (exit_group): no atexit handlers, no flushing, no COMMIT or ROLLBACK, like a kill -9 at
 * that line, also under the sanitizers.
 */
#include "fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAULT_MAX 8

struct fault {
    char name[48];
    long at;
    atomic_long passes;
};

static struct fault faults[FAULT_MAX];
static int nfaults;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void parse(void)
{
    const char *env = getenv("SLUICE_FAULT");
    if (!env || !*env)
        return;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", env);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && nfaults < FAULT_MAX;
         tok = strtok_r(NULL, ",", &save)) {
        struct fault *f = &faults[nfaults];
        char *colon = strchr(tok, ':');
        f->at = 1;
        if (colon) {
            *colon = '\0';
            f->at = atol(colon + 1);
            if (f->at < 1)
                f->at = 1;
        }
        snprintf(f->name, sizeof(f->name), "%s", tok);
        atomic_init(&f->passes, 0);
        nfaults++;
    }
}

void fault_init(void)
{
    pthread_once(&once, parse);
}

/* Leave now, every thread at once: exit_group itself, not _exit(), whose sanitizer interceptors
 * run their own finalisation while the other threads go on committing. */
static void crash(void)
{
    syscall(SYS_exit_group, 77);
    _exit(77);
}

void fault_point(const char *name)
{
    fault_init();
    for (int i = 0; i < nfaults; i++) {
        struct fault *f = &faults[i];
        if (strcmp(f->name, name) != 0)
            continue;
        long pass = atomic_fetch_add(&f->passes, 1) + 1;
        if (pass == f->at) {
            char msg[160];
            int n = snprintf(msg, sizeof(msg),
                             "sluice: fault point '%s' reached (pass %ld), exiting\n", name, pass);
            if (write(STDERR_FILENO, msg, (size_t)n) < 0)
                crash();
            crash();
        }
    }
}
