/*
 * spawn.c - running the PostgreSQL server programs for the embedded cluster.
 *
 * `sluice run` has threads, so after fork the child may only call async-signal-safe functions:
 * everything it needs (the program's full path, runuser's path, the argument vector, the
 * environment) is prepared before the fork, and the child only resets its signal state, redirects
 * its descriptors and calls execve. The environment the child gets is ours without the secrets
 * sluice may hold (the postmaster inherits it and lives on after us). What the program prints is
 * collected and handed to the logger line by line, so it reaches the same log as everything else.
 * It also finds the PostgreSQL server programs.
 */
#include "spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAWN_MAX_ARGS 32

extern char **environ;

/* Never handed to a child: the postmaster would keep them in its environment. */
static const char *const secret_env[] = {
    "DATABASE_URL=", "POSTGRES_PASSWORD=", "POSTGRES_PASSWORD_FILE=", "PGPASSWORD="};

char *spawn_find_in_path(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char *full = xasprintf("%.*s/%s", (int)n, n ? p : ".", name);
        if (access(full, X_OK) == 0)
            return full;
        free(full);
        p += n;
        if (*p == ':')
            p++;
    }
    return NULL;
}

/* Our environment without the secrets (a NULL-terminated array of borrowed strings). */
static char **clean_environment(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = xcalloc(n + 1, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool secret = false;
        for (size_t s = 0; s < sizeof(secret_env) / sizeof(secret_env[0]); s++)
            secret = secret || strncmp(environ[i], secret_env[s], strlen(secret_env[s])) == 0;
        if (!secret)
            env[k++] = environ[i];
    }
    env[k] = NULL;
    return env;
}

static void read_all(int fd, struct buf *out)
{
    for (;;) {
        char *dst = buf_reserve(out, 4096);
        ssize_t r = read(fd, dst, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        out->len += (size_t)r;
    }
    buf_putc(out, '\0');
    out->len--;
}

int spawn_run(char *const argv[], const char *as_user, struct buf *out)
{
    char *full[SPAWN_MAX_ARGS];
    size_t n = 0;
    char *program = NULL, *runuser = NULL;
    int rc = -1;
    int pipefd[2] = {-1, -1};
    char **env = NULL;
    if (!argv[0])
        return -1;
    program = spawn_find_in_path(argv[0]);
    if (!program) {
        log_error("spawn", "'%s' is not installed (not found in PATH)", argv[0]);
        return 127;
    }
    if (as_user) {
        runuser = spawn_find_in_path("runuser");
        if (!runuser) {
            log_error("spawn", "running '%s' as '%s' needs runuser, which is not in PATH", argv[0],
                      as_user);
            goto out;
        }
        full[n++] = runuser;
        full[n++] = "-u";
        full[n++] = (char *)as_user;
        full[n++] = "--";
    }
    full[n++] = program;
    for (size_t i = 1; argv[i]; i++) {
        if (n + 1 >= SPAWN_MAX_ARGS) {
            log_error("spawn", "too many arguments for '%s'", argv[0]);
            goto out;
        }
        full[n++] = argv[i];
    }
    full[n] = NULL;
    env = clean_environment();
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        log_error("spawn", "pipe: %m");
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("spawn", "fork: %m");
        goto out;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here on. An ignored SIGPIPE and a blocked signal
         * would outlive exec and reach the server: undo both. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &dfl, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0 && devnull != 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        if (chdir("/") == 0)
            execve(full[0], full, env);
        static const char msg[] = ": cannot be run\n";
        ssize_t ignored = write(2, full[0], strlen(full[0]));
        ignored += write(2, msg, sizeof(msg) - 1);
        (void)ignored;
        _exit(127);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    read_all(pipefd[0], out);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            log_error("spawn", "waitpid: %m");
            goto out;
        }
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status)
                           : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free(env);
    free(program);
    free(runuser);
    return rc;
}

void spawn_log_output(enum log_level level, const char *component, const char *what,
                      const struct buf *out)
{
    if (!out || !out->len)
        return;
    for (const char *line = out->data; line < out->data + out->len;) {
        size_t n = strcspn(line, "\n");
        if (n)
            log_at(level, component, "%s: %.*s", what, (int)n, line);
        line += n;
        if (*line == '\n')
            line++;
    }
}

static bool is_executable(const char *dir, const char *prog)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, prog);
    return n > 0 && (size_t)n < sizeof(path) && access(path, X_OK) == 0;
}

/* pg_config --bindir, else the newest /usr/lib/postgresql/<version>/bin, else PATH. Found once,
 * from the main thread (the embedded cluster is started and stopped outside the workers). */
static char bindir[PATH_MAX]; /* "" until found; "-" = search PATH */

static void find_bindir(void)
{
    if (bindir[0])
        return;
    struct buf out;
    buf_init(&out);
    char *argv[] = {"pg_config", "--bindir", NULL};
    char *pg_config = spawn_find_in_path("pg_config");
    bool have = pg_config != NULL;
    free(pg_config);
    if (have && spawn_run(argv, NULL, &out) == 0 && out.len) {
        out.data[strcspn(out.data, "\r\n")] = '\0';
        if (is_executable(out.data, "pg_ctl") && is_executable(out.data, "initdb") &&
            strlen(out.data) < sizeof(bindir)) {
            snprintf(bindir, sizeof(bindir), "%s", out.data);
            goto out;
        }
    }
    glob_t g;
    long best_version = -1;
    const char *prefix = "/usr/lib/postgresql/";
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            long v = strtol(g.gl_pathv[i] + strlen(prefix), NULL, 10);
            size_t dirlen = strlen(g.gl_pathv[i]) - strlen("/pg_ctl");
            if (v > best_version && dirlen < sizeof(bindir)) {
                best_version = v;
                snprintf(bindir, sizeof(bindir), "%.*s", (int)dirlen, g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    if (best_version < 0)
        snprintf(bindir, sizeof(bindir), "-");
out:
    log_debug("pg", "server programs in %s", strcmp(bindir, "-") ? bindir : "PATH");
    buf_release(&out);
}

char *spawn_pg_program(const char *prog)
{
    find_bindir();
    if (strcmp(bindir, "-") == 0)
        return xstrdup(prog);
    return xasprintf("%s/%s", bindir, prog);
}
