/*
 * pgcluster.c - the embedded PostgreSQL cluster behind `sluice db` and `sluice run`.
 *
 * One folder holds everything: the data directory made by initdb, the server log (server.log)
 * and the server's unix socket. The server listens on nothing else (listen_addresses = ''), so
 * two clusters on one machine never collide on TCP, and the conninfo is simply
 * "host=<folder> port=<port> dbname=<db> user=<user>". Our settings live in sluice.conf, which
 * is rewritten at every start and included from postgresql.conf, so a later start with other
 * options (--fast, --pg-port) takes effect without touching anything the user edited.
 *
 * The server programs (initdb, pg_ctl) are found through pg_config --bindir, then the newest
 * /usr/lib/postgresql/<version>/bin, then PATH, and run with fork/execvp. PostgreSQL refuses to
 * run as root, so as root they run as the postgres OS user through runuser, and the folder is
 * handed to that user; a parent folder that user cannot enter is reported by name.
 *
 * Starting is idempotent: a running cluster is left alone and only the database is made sure of.
 * This module does not manage remote servers, roles or passwords: trust on the socket is the only
 * authentication, which is the point of a folder only its owner can enter.
 */
#include "pgcluster.h"

#include "config.h"
#include "db.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_COMPONENT "pg"
#define PG_DEFAULT_USER "myuser" /* the original project's POSTGRES_USER */
#define PG_DEFAULT_PORT "5432"
#define PG_SOCKET_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define PG_START_TIMEOUT "60"  /* seconds pg_ctl waits for start or stop */
#define PG_SETTINGS_FILE "sluice.conf"
#define PG_INCLUDE_LINE "include_if_exists = '" PG_SETTINGS_FILE "'"

struct cluster {
    char *dir; /* absolute */
    const char *port;
    const char *user;
    const char *dbname;
    bool fast;
    bool as_root; /* run server programs as the postgres OS user */
    uid_t pg_uid;
    gid_t pg_gid;
    char bindir[PATH_MAX]; /* "" until found; "-" = search PATH */
};

/* ---- running programs ---------------------------------------------------------------------- */

/* Run argv (through `runuser -u postgres --` when we are root) with stdin from /dev/null and the
 * working directory "/" (the postgres user may not be able to enter ours). Its stdout and stderr
 * go into `out` when given, else to ours. Returns its exit status, 128 + signal when killed,
 * 127 when it could not be started, or -1 after logging. */
static int run_program(const struct cluster *c, char *const argv[], struct buf *out)
{
    char *full[32];
    size_t n = 0;
    if (!argv[0])
        return -1;
    if (c->as_root) {
        full[n++] = "runuser";
        full[n++] = "-u";
        full[n++] = "postgres";
        full[n++] = "--";
    }
    for (size_t i = 0; argv[i]; i++) {
        if (n + 1 >= sizeof(full) / sizeof(full[0])) {
            log_error(PG_COMPONENT, "too many arguments for '%s'", argv[0]);
            return -1;
        }
        full[n++] = argv[i];
    }
    full[n] = NULL;

    int pipefd[2] = {-1, -1};
    if (out && pipe2(pipefd, O_CLOEXEC) < 0) {
        log_error(PG_COMPONENT, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error(PG_COMPONENT, "fork: %s", strerror(errno));
        if (out) {
            close(pipefd[0]);
            close(pipefd[1]);
        }
        return -1;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here on: `sluice run` may have threads. An ignored
         * SIGPIPE and a blocked signal would outlive exec and reach the server: undo both. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0 && devnull != 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        if (out) {
            dup2(pipefd[1], 1);
            dup2(pipefd[1], 2);
        }
        if (chdir("/") == 0)
            execvp(full[0], full);
        static const char msg[] = ": cannot be run\n";
        ssize_t ignored = write(2, full[0], strlen(full[0]));
        ignored += write(2, msg, sizeof(msg) - 1);
        (void)ignored;
        _exit(127);
    }
    if (out) {
        close(pipefd[1]);
        for (;;) {
            char *dst = buf_reserve(out, 4096);
            ssize_t r = read(pipefd[0], dst, 4096);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            out->len += (size_t)r;
        }
        close(pipefd[0]);
        buf_putc(out, '\0');
        out->len--;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            log_error(PG_COMPONENT, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Report a failed program once, with what it printed. */
static void report_failure(const char *what, int rc, const struct buf *out)
{
    log_error(PG_COMPONENT, "%s failed (exit status %d)%s", what, rc,
              out && out->len ? "; it said:" : "");
    if (out && out->len) {
        fputs(out->data, stderr);
        if (out->data[out->len - 1] != '\n')
            fputc('\n', stderr);
    }
}

static bool is_executable(const char *dir, const char *prog)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, prog);
    return n > 0 && (size_t)n < sizeof(path) && access(path, X_OK) == 0;
}

/* pg_config --bindir, else the newest /usr/lib/postgresql/<version>/bin, else PATH. */
static void cluster_find_bindir(struct cluster *c)
{
    if (c->bindir[0])
        return;
    struct buf out;
    buf_init(&out);
    struct cluster self = *c;
    self.as_root = false; /* pg_config is harmless as root */
    char *argv[] = {"pg_config", "--bindir", NULL};
    if (run_program(&self, argv, &out) == 0 && out.len) {
        out.data[strcspn(out.data, "\r\n")] = '\0';
        if (is_executable(out.data, "pg_ctl") && is_executable(out.data, "initdb") &&
            strlen(out.data) < sizeof(c->bindir)) {
            snprintf(c->bindir, sizeof(c->bindir), "%s", out.data);
            goto out;
        }
    }

    glob_t g;
    long best_version = -1;
    const char *prefix = "/usr/lib/postgresql/";
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *p = g.gl_pathv[i] + strlen(prefix);
            long v = strtol(p, NULL, 10);
            size_t dirlen = strlen(g.gl_pathv[i]) - strlen("/pg_ctl");
            if (v > best_version && dirlen < sizeof(c->bindir)) {
                best_version = v;
                snprintf(c->bindir, sizeof(c->bindir), "%.*s", (int)dirlen, g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    if (best_version < 0)
        snprintf(c->bindir, sizeof(c->bindir), "-");
out:
    log_debug(PG_COMPONENT, "server programs in %s", strcmp(c->bindir, "-") ? c->bindir : "PATH");
    buf_release(&out);
}

/* The path to run a server program by (heap string; caller frees). */
static char *cluster_program(struct cluster *c, const char *prog)
{
    cluster_find_bindir(c);
    if (strcmp(c->bindir, "-") == 0)
        return xstrdup(prog);
    return xasprintf("%s/%s", c->bindir, prog);
}

/* ---- the folder ------------------------------------------------------------------------------ */

/* An absolute spelling of path, which may not exist yet (heap string; caller frees). */
static char *absolute_path(const char *path)
{
    char *real = realpath(path, NULL);
    if (real)
        return real;
    if (path[0] == '/')
        return xstrdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return xstrdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return xasprintf("%s/%s", cwd, path);
}

static bool port_valid(const char *port)
{
    size_t n = strlen(port);
    if (n == 0 || n > 5 || strspn(port, "0123456789") != n)
        return false;
    long v = strtol(port, NULL, 10);
    return v >= 1 && v <= 65535;
}

/* Every folder above dir must be enterable by the postgres OS user, or the server cannot reach
 * its own data directory. Supplementary groups are not considered. */
static int cluster_check_parents(const struct cluster *c)
{
    char *path = xstrdup(c->dir);
    int rc = -1;
    for (;;) {
        char *slash = strrchr(path, '/');
        if (!slash)
            break;
        if (slash == path)
            slash[1] = '\0';
        else
            slash[0] = '\0';
        struct stat st;
        if (stat(path, &st) < 0) {
            log_error(PG_COMPONENT, "cannot stat '%s': %s", path, strerror(errno));
            goto out;
        }
        bool ok = (st.st_mode & S_IXOTH) || (st.st_uid == c->pg_uid && (st.st_mode & S_IXUSR)) ||
                  (st.st_gid == c->pg_gid && (st.st_mode & S_IXGRP));
        if (!ok) {
            log_error(PG_COMPONENT,
                      "the postgres OS user cannot enter '%s' (mode %04o), a parent of the cluster "
                      "folder '%s': run 'chmod o+x %s' or choose a --pg-dir elsewhere",
                      path, (unsigned)(st.st_mode & 07777), c->dir, path);
            goto out;
        }
        if (strcmp(path, "/") == 0)
            break;
    }
    rc = 0;
out:
    free(path);
    return rc;
}

/* The folder name must fit a unix socket path and a postgresql.conf string. */
static int cluster_check_name(const struct cluster *c)
{
    if (strpbrk(c->dir, "'\"\\\n")) {
        log_error(PG_COMPONENT, "cluster folder '%s' has a quote, backslash or newline in its name",
                  c->dir);
        return -1;
    }
    size_t socket_len = strlen(c->dir) + strlen("/.s.PGSQL.") + strlen(c->port);
    if (socket_len > PG_SOCKET_PATH_MAX) {
        log_error(PG_COMPONENT,
                  "socket path '%s/.s.PGSQL.%s' is %zu bytes, more than the %d a unix socket "
                  "allows: choose a shorter --pg-dir",
                  c->dir, c->port, socket_len, PG_SOCKET_PATH_MAX);
        return -1;
    }
    return 0;
}

/* Fill c from cfg. With `create`, make the folder and, as root, hand it to the postgres user. */
static int cluster_init(struct cluster *c, const struct config *cfg, bool create)
{
    memset(c, 0, sizeof(*c));
    c->port = cfg->pg_port && *cfg->pg_port ? cfg->pg_port : PG_DEFAULT_PORT;
    c->user = cfg->pg_user && *cfg->pg_user ? cfg->pg_user : PG_DEFAULT_USER;
    c->dbname = cfg->pg_dbname && *cfg->pg_dbname ? cfg->pg_dbname : "ecommerce_db";
    c->fast = cfg->fast;
    c->as_root = geteuid() == 0;
    const char *dir = cfg->pg_dir && *cfg->pg_dir ? cfg->pg_dir : "data/pg";

    if (!port_valid(c->port)) {
        log_error(PG_COMPONENT, "invalid port '%s': expected 1 to 65535", c->port);
        return -1;
    }
    /* Checked before the folder is made, and again once it exists and symlinks are resolved. */
    c->dir = absolute_path(dir);
    if (cluster_check_name(c) < 0)
        goto fail;
    if (create) {
        if (fs_mkdir_p(dir) < 0)
            goto fail;
        free(c->dir);
        c->dir = absolute_path(dir);
        if (cluster_check_name(c) < 0)
            goto fail;
    }
    if (!c->as_root || !create)
        return 0; /* stop, status and url need no more than runuser */

    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    if (getpwnam_r("postgres", &pw, pwbuf, sizeof(pwbuf), &found) != 0 || !found) {
        log_error(PG_COMPONENT, "running as root needs the 'postgres' OS user to run the server, "
                                "and there is none");
        goto fail;
    }
    c->pg_uid = pw.pw_uid;
    c->pg_gid = pw.pw_gid;
    if (cluster_check_parents(c) < 0)
        goto fail;
    struct stat st;
    if (stat(c->dir, &st) < 0) {
        log_error(PG_COMPONENT, "cannot stat '%s': %s", c->dir, strerror(errno));
        goto fail;
    }
    if ((st.st_uid != c->pg_uid || st.st_gid != c->pg_gid) &&
        chown(c->dir, c->pg_uid, c->pg_gid) < 0) {
        log_error(PG_COMPONENT, "cannot hand '%s' to the postgres OS user: %s", c->dir,
                  strerror(errno));
        goto fail;
    }
    return 0;
fail:
    free(c->dir);
    c->dir = NULL;
    return -1;
}

static void cluster_release(struct cluster *c)
{
    free(c->dir);
    c->dir = NULL;
}

/* The postmaster's pid when it is alive (and its port in port_out, when asked), 0 when not,
 * -1 after logging. */
static long cluster_pid(const struct cluster *c, char *port_out, size_t port_len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/postmaster.pid", c->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        log_error(PG_COMPONENT, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    char line[PATH_MAX + 16];
    long pid = 0;
    for (int i = 1; i <= 4 && fgets(line, sizeof(line), f); i++) {
        if (i == 1)
            pid = strtol(line, NULL, 10);
        else if (i == 4 && port_out) {
            line[strcspn(line, "\r\n")] = '\0';
            size_t n = strlen(line);
            if (port_valid(line) && n < port_len)
                memcpy(port_out, line, n + 1);
        }
    }
    fclose(f);
    if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
        return 0; /* a stale file: the server start clears it */
    return pid;
}

static void conn_append(struct buf *b, const char *key, const char *value)
{
    if (b->len)
        buf_putc(b, ' ');
    buf_printf(b, "%s=", key);
    if (*value && !strpbrk(value, " \t\n'\\")) {
        buf_append(b, value, strlen(value));
        return;
    }
    buf_putc(b, '\'');
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *p);
    }
    buf_putc(b, '\'');
}

static char *cluster_conninfo(const struct cluster *c, const char *port)
{
    struct buf b;
    buf_init(&b);
    conn_append(&b, "host", c->dir);
    conn_append(&b, "port", port);
    conn_append(&b, "dbname", c->dbname);
    conn_append(&b, "user", c->user);
    buf_putc(&b, '\0');
    return b.data;
}

/* ---- initdb, settings, start --------------------------------------------------------------- */

static bool cluster_exists(const struct cluster *c)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/PG_VERSION", c->dir);
    return access(path, F_OK) == 0;
}

static int cluster_initdb(struct cluster *c)
{
    char *initdb = cluster_program(c, "initdb");
    char *user_opt = xasprintf("--username=%s", c->user);
    /* --no-sync: a --fast cluster is throwaway, so initdb need not wait for the disk either */
    char *nosync = c->fast ? "--no-sync" : NULL;
    char *argv[] = {initdb,       "-D",   c->dir, user_opt, "--auth=trust", "--encoding=UTF8",
                    "--locale=C", nosync, NULL};
    struct buf out;
    buf_init(&out);
    log_info(PG_COMPONENT, "creating a cluster in %s", c->dir);
    int rc = run_program(c, argv, &out);
    if (rc != 0)
        report_failure("initdb", rc, &out);
    buf_release(&out);
    free(user_opt);
    free(initdb);
    return rc == 0 ? 0 : -1;
}

/* Write the whole file at path (mode 0600, owned by the postgres user as root), via a rename. */
static int write_file(const struct cluster *c, const char *path, const char *text, bool append)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    const char *target = append ? path : tmp;
    int rc = -1;
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0) {
        log_error(PG_COMPONENT, "cannot write '%s': %s", target, strerror(errno));
        return -1;
    }
    if (c->as_root && fchown(fd, c->pg_uid, c->pg_gid) < 0) {
        log_error(PG_COMPONENT, "cannot hand '%s' to the postgres OS user: %s", target,
                  strerror(errno));
        goto out;
    }
    size_t n = strlen(text);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            log_error(PG_COMPONENT, "cannot write '%s': %s", target, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0) {
        log_error(PG_COMPONENT, "cannot fsync '%s': %s", target, strerror(errno));
        goto out;
    }
    if (!append && rename(tmp, path) < 0) {
        log_error(PG_COMPONENT, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Our settings in sluice.conf, rewritten at every start, and the include that reads them. */
static int cluster_configure(const struct cluster *c)
{
    char conf[PATH_MAX];
    snprintf(conf, sizeof(conf), "%s/postgresql.conf", c->dir);
    FILE *f = fopen(conf, "r");
    if (!f) {
        log_error(PG_COMPONENT, "cannot read '%s': %s", conf, strerror(errno));
        return -1;
    }
    bool included = false;
    char line[1024];
    while (!included && fgets(line, sizeof(line), f))
        included = strncmp(line, PG_INCLUDE_LINE, strlen(PG_INCLUDE_LINE)) == 0;
    fclose(f);
    if (!included &&
        write_file(c, conf,
                   "\n# sluice's settings, rewritten at every 'sluice db start'\n" PG_INCLUDE_LINE
                   "\n",
                   true) < 0)
        return -1;

    /* The folder name is double-quoted inside the list value, so spaces and commas survive. */
    char *settings =
        xasprintf("# Written by 'sluice db start' at every start: edit postgresql.conf "
                  "instead.\n"
                  "listen_addresses = ''\n"
                  "unix_socket_directories = '\"%s\"'\n"
                  "port = %s\n"
                  "fsync = %s\n"
                  "full_page_writes = %s\n"
                  "synchronous_commit = on\n",
                  c->dir, c->port, c->fast ? "off" : "on", c->fast ? "off" : "on");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", c->dir, PG_SETTINGS_FILE);
    int rc = write_file(c, path, settings, false);
    free(settings);
    return rc;
}

static int cluster_pg_ctl_start(struct cluster *c)
{
    char *pg_ctl = cluster_program(c, "pg_ctl");
    char *logfile = xasprintf("%s/server.log", c->dir);
    char *argv[] = {pg_ctl, "start", "-w", "-s",    "-t", PG_START_TIMEOUT,
                    "-D",   c->dir,  "-l", logfile, NULL};
    struct buf out;
    buf_init(&out);
    int rc = run_program(c, argv, &out);
    if (rc != 0) {
        report_failure("pg_ctl start", rc, &out);
        log_error(PG_COMPONENT, "the server's own log is %s", logfile);
    } else {
        log_info(PG_COMPONENT, "server started: socket %s/.s.PGSQL.%s%s", c->dir, c->port,
                 c->fast ? " (fsync off)" : "");
    }
    buf_release(&out);
    free(logfile);
    free(pg_ctl);
    return rc == 0 ? 0 : -1;
}

/* One line of a libpq error message, without its trailing newline. */
static int msg_len(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    return (int)n;
}

static int cluster_ensure_database(const struct cluster *c, const char *port)
{
    const char *keys[] = {"host", "port", "dbname", "user", "connect_timeout", NULL};
    const char *values[] = {c->dir, port, "postgres", c->user, "10", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 0);
    PGresult *res = NULL;
    char *ident = NULL;
    char *sql = NULL;
    int rc = -1;
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(conn);
        log_error(PG_COMPONENT, "cannot connect to the cluster in %s as '%s': %.*s", c->dir,
                  c->user, msg_len(msg), msg);
        goto out;
    }
    const char *params[] = {c->dbname};
    res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params, NULL,
                       NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *msg = PQerrorMessage(conn);
        log_error(PG_COMPONENT, "cannot list databases: %.*s", msg_len(msg), msg);
        goto out;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        ident = PQescapeIdentifier(conn, c->dbname, strlen(c->dbname));
        if (!ident) {
            const char *msg = PQerrorMessage(conn);
            log_error(PG_COMPONENT, "bad database name '%s': %.*s", c->dbname, msg_len(msg), msg);
            res = NULL;
            goto out;
        }
        sql = xasprintf("CREATE DATABASE %s", ident);
        res = PQexec(conn, sql);
        /* 42P04: another starter created it meanwhile, which is just as good */
        if (PQresultStatus(res) != PGRES_COMMAND_OK && strcmp(db_sqlstate(res), "42P04") != 0) {
            const char *msg = PQerrorMessage(conn);
            log_error(PG_COMPONENT, "cannot create database '%s': %.*s", c->dbname, msg_len(msg),
                      msg);
            goto out;
        }
        log_info(PG_COMPONENT, "created database %s", c->dbname);
    }
    rc = 0;
out:
    free(sql);
    PQfreemem(ident);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* ---- the interface ------------------------------------------------------------------------- */

int pgcluster_start(const struct config *cfg, char **conninfo_out)
{
    struct cluster c;
    if (cluster_init(&c, cfg, true) < 0)
        return -1;
    int rc = -1;
    char port[8];
    snprintf(port, sizeof(port), "%s", c.port);
    long pid = cluster_pid(&c, port, sizeof(port));
    if (pid < 0)
        goto out;
    if (pid > 0) {
        log_info(PG_COMPONENT, "already running (pid %ld)", pid);
        if (strcmp(port, c.port) != 0)
            log_warn(PG_COMPONENT, "the running cluster listens on port %s, not %s", port, c.port);
    } else {
        if (!cluster_exists(&c) && cluster_initdb(&c) < 0)
            goto out;
        if (cluster_configure(&c) < 0 || cluster_pg_ctl_start(&c) < 0)
            goto out;
    }
    if (cluster_ensure_database(&c, port) < 0)
        goto out;
    if (conninfo_out)
        *conninfo_out = cluster_conninfo(&c, port);
    rc = 0;
out:
    cluster_release(&c);
    return rc;
}

int pgcluster_stop(const struct config *cfg, bool immediate)
{
    struct cluster c;
    if (cluster_init(&c, cfg, false) < 0)
        return -1;
    int rc = -1;
    char *pg_ctl = NULL;
    struct buf out;
    buf_init(&out);
    long pid = cluster_pid(&c, NULL, 0);
    if (pid < 0)
        goto out;
    if (pid == 0) {
        log_info(PG_COMPONENT, "not running: %s", c.dir);
        rc = 0;
        goto out;
    }
    pg_ctl = cluster_program(&c, "pg_ctl");
    char *mode = immediate ? "immediate" : "fast";
    char *argv[] = {pg_ctl, "stop", "-w", "-s", "-t", PG_START_TIMEOUT,
                    "-D",   c.dir,  "-m", mode, NULL};
    int status = run_program(&c, argv, &out);
    if (status != 0) {
        report_failure("pg_ctl stop", status, &out);
        goto out;
    }
    log_info(PG_COMPONENT, "server stopped (%s)", immediate ? "immediate" : "fast");
    rc = 0;
out:
    buf_release(&out);
    free(pg_ctl);
    cluster_release(&c);
    return rc;
}

int pgcluster_running(const struct config *cfg)
{
    struct cluster c;
    if (cluster_init(&c, cfg, false) < 0)
        return -1;
    long pid = cluster_pid(&c, NULL, 0);
    cluster_release(&c);
    return pid < 0 ? -1 : pid > 0;
}

char *pgcluster_conninfo(const struct config *cfg, enum pgcluster_role role)
{
    (void)role;
    struct cluster c;
    if (cluster_init(&c, cfg, false) < 0)
        return NULL;
    char port[8];
    snprintf(port, sizeof(port), "%s", c.port);
    char *conninfo = cluster_pid(&c, port, sizeof(port)) < 0 ? NULL : cluster_conninfo(&c, port);
    cluster_release(&c);
    return conninfo;
}
