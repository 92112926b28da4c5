/*
 * pgcluster.c - the embedded PostgreSQL cluster behind `sluice db` and `sluice run`.
 *
 * One folder holds everything: the data directory made by initdb, the server log (server.log)
 * and the server's unix socket. The server listens on nothing else (listen_addresses = '') unless
 * --pg-listen asks for TCP, and then only with scram-sha-256. On the socket, authentication is
 * peer: only the OS user who ran `sluice db start` (and the server's own user) get in, mapped in
 * sluice_ident.conf to the cluster's three roles: the bootstrap superuser (for sluice's own
 * administration), the owner role (--pg-user, default myuser: owns the database and the schema,
 * not a superuser) and the ingest role (--ingest-role, default sluice_ingest: only the GRANTs
 * grants.c lists). Nothing trusts a connection for merely arriving.
 *
 * Our settings live in sluice.conf, sluice_hba.conf and sluice_ident.conf, rewritten at every
 * start, and postgresql.conf includes sluice.conf, so a later start with other options takes
 * effect without touching anything the user edited.
 *
 * The folder belongs to the postgres OS user when we run as root, so that user controls what
 * names in it point to. As root we therefore never follow a name in it: files are made with
 * O_CREAT|O_EXCL|O_NOFOLLOW relative to the folder's descriptor under a temporary name and renamed
 * into place (a rename replaces a planted symlink, never what it points to); only what was just
 * created is chowned; postgresql.conf is read only when it is a plain file of that user with one
 * link. The server programs run as that user through runuser (spawn.c), with an environment that
 * holds none of sluice's secrets.
 *
 * Starting is idempotent: a running cluster is left alone and only the database, the roles, the
 * schema and the grants are made sure of.
 */
#include "pgcluster.h"

#include "pgroles.h"
#include "config.h"
#include "db.h"
#include "fsutil.h"
#include "log.h"
#include "mem.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PG_COMPONENT "pg"
#define PG_DEFAULT_OWNER "myuser" /* the original project's POSTGRES_USER */
#define PG_DEFAULT_INGEST "sluice_ingest"
#define PG_DEFAULT_PORT "5432"
#define PG_SOCKET_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define PG_START_TIMEOUT "60"  /* seconds pg_ctl waits for start or stop */
#define PG_SETTINGS_FILE "sluice.conf"
#define PG_HBA_FILE "sluice_hba.conf"
#define PG_IDENT_FILE "sluice_ident.conf"
#define PG_IDENT_MAP "sluice"
#define PG_INCLUDE_LINE "include_if_exists = '" PG_SETTINGS_FILE "'"
#define PG_CONF_MAX (1 << 20) /* a postgresql.conf larger than this is not one we made */

struct cluster {
    char *dir; /* absolute */
    int dirfd; /* the folder, opened without following a symlink; -1 when it does not exist */
    const char *port;
    const char *owner, *ingest, *dbname, *listen;
    char superuser[64]; /* the bootstrap superuser: postgres as root, else our OS user */
    char os_user[64];   /* who runs sluice: mapped to the roles */
    bool fast;
    bool as_root; /* run server programs as the postgres OS user */
    uid_t pg_uid;
    gid_t pg_gid;
};

/* ---- running programs ---------------------------------------------------------------------- */

static int cluster_run(const struct cluster *c, char *const argv[], struct buf *out)
{
    return spawn_run(argv, c->as_root ? "postgres" : NULL, out);
}

static void report_failure(const char *what, int rc, const struct buf *out)
{
    log_error(PG_COMPONENT, "%s failed (exit status %d)%s", what, rc,
              out && out->len ? "; it said:" : "");
    spawn_log_output(LOG_LEVEL_ERROR, PG_COMPONENT, what, out);
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
            log_error(PG_COMPONENT, "cannot stat '%s': %m", path);
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

/* Names that go into a conninfo, a postgresql.conf string or a map file must be plain. */
static int cluster_check_names(const struct cluster *c)
{
    if (strpbrk(c->dir, "'\"\\\n")) {
        log_error(PG_COMPONENT, "cluster folder '%s' has a quote, backslash or newline in its name",
                  c->dir);
        return -1;
    }
    const char *names[] = {c->owner, c->ingest, c->dbname, c->os_user, c->listen ? c->listen : ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strpbrk(names[i], "'\"\\\n\r\t #")) {
            log_error(PG_COMPONENT, "'%s' has a quote, space, '#' or backslash in it", names[i]);
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

static int user_name(uid_t uid, char *name, size_t len, uid_t *uid_out, gid_t *gid_out,
                     const char *lookup)
{
    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    int err = lookup ? getpwnam_r(lookup, &pw, pwbuf, sizeof(pwbuf), &found)
                     : getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &found);
    if (err != 0 || !found)
        return -1;
    if (name)
        snprintf(name, len, "%s", pw.pw_name);
    if (uid_out)
        *uid_out = pw.pw_uid;
    if (gid_out)
        *gid_out = pw.pw_gid;
    return 0;
}

/* As root, the folder goes to the postgres OS user: when we just made it, or when it is ours
 * (the operator named it). Anyone else's folder, or a symlink, is refused. */
static int cluster_hand_over(struct cluster *c, bool created)
{
    struct stat st;
    if (fstat(c->dirfd, &st) < 0) {
        log_error(PG_COMPONENT, "cannot stat '%s': %m", c->dir);
        return -1;
    }
    if (st.st_uid == c->pg_uid && st.st_gid == c->pg_gid)
        return 0;
    if (!created && st.st_uid != geteuid() && st.st_uid != c->pg_uid) {
        log_error(PG_COMPONENT,
                  "cluster folder '%s' belongs to uid %ld, neither us nor postgres: refusing to "
                  "hand it over",
                  c->dir, (long)st.st_uid);
        return -1;
    }
    if (fchown(c->dirfd, c->pg_uid, c->pg_gid) < 0) {
        log_error(PG_COMPONENT, "cannot hand '%s' to the postgres OS user: %m", c->dir);
        return -1;
    }
    return 0;
}

/* Fill c from cfg. With `create`, make the folder and, as root, hand it to the postgres user. */
static int cluster_init(struct cluster *c, const struct config *cfg, bool create)
{
    memset(c, 0, sizeof(*c));
    c->dirfd = -1;
    c->port = cfg->pg_port && *cfg->pg_port ? cfg->pg_port : PG_DEFAULT_PORT;
    c->owner = cfg->pg_user && *cfg->pg_user ? cfg->pg_user : PG_DEFAULT_OWNER;
    c->ingest = cfg->ingest_role && *cfg->ingest_role ? cfg->ingest_role : PG_DEFAULT_INGEST;
    c->dbname = cfg->pg_dbname && *cfg->pg_dbname ? cfg->pg_dbname : "ecommerce_db";
    c->listen = cfg->pg_listen && *cfg->pg_listen ? cfg->pg_listen : NULL;
    c->fast = cfg->fast;
    c->as_root = geteuid() == 0;
    if (user_name(geteuid(), c->os_user, sizeof(c->os_user), NULL, NULL, NULL) < 0)
        snprintf(c->os_user, sizeof(c->os_user), "uid%ld", (long)geteuid());
    snprintf(c->superuser, sizeof(c->superuser), "%s", c->as_root ? "postgres" : c->os_user);
    const char *dir = cfg->pg_dir && *cfg->pg_dir ? cfg->pg_dir : "data/pg";

    if (!port_valid(c->port)) {
        log_error(PG_COMPONENT, "invalid port '%s': expected 1 to 65535", c->port);
        return -1;
    }
    /* Checked before the folder is made, and again once it exists and symlinks are resolved. */
    c->dir = absolute_path(dir);
    if (cluster_check_names(c) < 0)
        goto fail;
    bool created = false;
    if (create) {
        created = access(dir, F_OK) != 0;
        if (fs_mkdir_p(dir) < 0)
            goto fail;
        free(c->dir);
        c->dir = absolute_path(dir);
        if (cluster_check_names(c) < 0)
            goto fail;
    }
    c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c->dirfd < 0 && (create || errno != ENOENT)) {
        log_error(PG_COMPONENT, "cannot open cluster folder '%s': %m", c->dir);
        goto fail;
    }
    if (!c->as_root || !create)
        return 0; /* stop, status and url need no more than runuser */
    if (user_name(0, NULL, 0, &c->pg_uid, &c->pg_gid, "postgres") < 0) {
        log_error(PG_COMPONENT, "running as root needs the 'postgres' OS user to run the server, "
                                "and there is none");
        goto fail;
    }
    if (cluster_check_parents(c) < 0 || cluster_hand_over(c, created) < 0)
        goto fail;
    return 0;
fail:
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->dirfd = -1;
    free(c->dir);
    c->dir = NULL;
    return -1;
}

static void cluster_release(struct cluster *c)
{
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->dirfd = -1;
    free(c->dir);
    c->dir = NULL;
}

/* Open name in the folder for reading: never through a symlink, only a regular file with one
 * link (and, as root, owned by the postgres user). Returns the fd, or -1 (errno ENOENT when it
 * is not there; else after logging). */
static int cluster_open_plain(const struct cluster *c, const char *name)
{
    if (c->dirfd < 0) {
        errno = ENOENT;
        return -1;
    }
    int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            log_error(PG_COMPONENT, "cannot open '%s/%s' (a symlink is refused): %m", c->dir, name);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        (c->as_root && c->pg_uid && st.st_uid != c->pg_uid)) {
        log_error(PG_COMPONENT, "refusing '%s/%s': not a plain file of the server's user", c->dir,
                  name);
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* The postmaster's pid when it is alive (and its port in port_out, when asked), 0 when not,
 * -1 after logging. */
static long cluster_pid(const struct cluster *c, char *port_out, size_t port_len)
{
    int fd = cluster_open_plain(c, "postmaster.pid");
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
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

static char *cluster_conninfo(const struct cluster *c, const char *port, const char *dbname,
                              const char *user)
{
    struct buf b;
    buf_init(&b);
    conn_append(&b, "host", c->dir);
    conn_append(&b, "port", port);
    conn_append(&b, "dbname", dbname);
    conn_append(&b, "user", user);
    buf_putc(&b, '\0');
    return b.data;
}

/* ---- initdb, settings, start --------------------------------------------------------------- */

static bool cluster_exists(const struct cluster *c)
{
    struct stat st;
    return c->dirfd >= 0 && fstatat(c->dirfd, "PG_VERSION", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int cluster_initdb(struct cluster *c)
{
    char *initdb = spawn_pg_program("initdb");
    char *user_opt = xasprintf("--username=%s", c->superuser);
    /* --no-sync: a --fast cluster is throwaway, so initdb need not wait for the disk either */
    char *nosync = c->fast ? "--no-sync" : NULL;
    char *argv[] = {initdb,
                    "-D",
                    c->dir,
                    user_opt,
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    nosync,
                    NULL};
    struct buf out;
    buf_init(&out);
    log_info(PG_COMPONENT, "creating a cluster in %s", c->dir);
    int rc = cluster_run(c, argv, &out);
    if (rc != 0)
        report_failure("initdb", rc, &out);
    else
        spawn_log_output(LOG_LEVEL_DEBUG, PG_COMPONENT, "initdb", &out);
    buf_release(&out);
    free(user_opt);
    free(initdb);
    return rc == 0 ? 0 : -1;
}

/* Replace name in the folder by text (mode 0600, the server's user's as root): written under a
 * fresh temporary name made with O_EXCL|O_NOFOLLOW, fsynced, renamed over name. A planted
 * symlink at either name is replaced or refused, never followed. 0, or -1 after logging. */
static int write_file(const struct cluster *c, const char *name, const char *text, size_t len)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    if (unlinkat(c->dirfd, tmp, 0) < 0 && errno != ENOENT) {
        log_error(PG_COMPONENT, "cannot remove '%s/%s': %m", c->dir, tmp);
        return -1;
    }
    int fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error(PG_COMPONENT, "cannot create '%s/%s': %m", c->dir, tmp);
        return -1;
    }
    int rc = -1;
    if (c->as_root && fchown(fd, c->pg_uid, c->pg_gid) < 0) { /* we just created it */
        log_error(PG_COMPONENT, "cannot hand '%s/%s' to the postgres OS user: %m", c->dir, tmp);
        goto out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            log_error(PG_COMPONENT, "cannot write '%s/%s': %m", c->dir, tmp);
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0) {
        log_error(PG_COMPONENT, "cannot fsync '%s/%s': %m", c->dir, tmp);
        goto out;
    }
    if (renameat(c->dirfd, tmp, c->dirfd, name) < 0) {
        log_error(PG_COMPONENT, "cannot rename '%s/%s' to '%s': %m", c->dir, tmp, name);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    if (rc < 0)
        unlinkat(c->dirfd, tmp, 0);
    return rc;
}

/* postgresql.conf must include sluice.conf: add the line (by rewriting the file) when missing. */
static int cluster_include_settings(const struct cluster *c)
{
    int fd = cluster_open_plain(c, "postgresql.conf");
    if (fd < 0) {
        if (errno == ENOENT)
            log_error(PG_COMPONENT, "'%s/postgresql.conf' is missing", c->dir);
        return -1;
    }
    struct buf conf;
    buf_init(&conf);
    for (;;) {
        char *dst = buf_reserve(&conf, 65536);
        ssize_t r = read(fd, dst, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || conf.len + (size_t)r > PG_CONF_MAX) {
            if (r != 0)
                log_error(PG_COMPONENT, "cannot read '%s/postgresql.conf'", c->dir);
            break;
        }
        conf.len += (size_t)r;
    }
    close(fd);
    buf_putc(&conf, '\0');
    conf.len--;
    int rc = 0;
    bool included = false;
    for (const char *p = conf.data; p && !included; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        included = strncmp(p, PG_INCLUDE_LINE, strlen(PG_INCLUDE_LINE)) == 0;
    if (!included) {
        buf_printf(&conf, "\n# sluice's settings, rewritten at every 'sluice db start'\n%s\n",
                   PG_INCLUDE_LINE);
        rc = write_file(c, "postgresql.conf", conf.data, conf.len);
    }
    buf_release(&conf);
    return rc;
}

/* Our settings, the access rules and the user map, rewritten at every start. */
static int cluster_configure(const struct cluster *c)
{
    if (cluster_include_settings(c) < 0)
        return -1;
    /* The folder name is double-quoted inside the list value, so spaces and commas survive. */
    char *settings =
        xasprintf("# Written by 'sluice db start' at every start: edit postgresql.conf "
                  "instead.\n"
                  "listen_addresses = '%s'\n"
                  "unix_socket_directories = '\"%s\"'\n"
                  "port = %s\n"
                  "hba_file = '%s/" PG_HBA_FILE "'\n"
                  "ident_file = '%s/" PG_IDENT_FILE "'\n"
                  "password_encryption = 'scram-sha-256'\n"
                  "fsync = %s\n"
                  "full_page_writes = %s\n"
                  "synchronous_commit = on\n",
                  c->listen ? c->listen : "", c->dir, c->port, c->dir, c->dir,
                  c->fast ? "off" : "on", c->fast ? "off" : "on");
    char *hba =
        xasprintf("# Written by 'sluice db start': peer on the socket, mapped in " PG_IDENT_FILE
                  "; scram-sha-256 on TCP (--pg-listen); nothing is trusted.\n"
                  "local all all peer map=" PG_IDENT_MAP "\n%s",
                  c->listen ? "host all all all scram-sha-256\n" : "");
    char *ident = xasprintf(
        "# Written by 'sluice db start': OS user -> roles it may log in as.\n" PG_IDENT_MAP
        " %s %s\n" PG_IDENT_MAP " %s %s\n" PG_IDENT_MAP " %s %s\n" PG_IDENT_MAP " %s %s\n",
        c->os_user, c->superuser, c->os_user, c->owner, c->os_user, c->ingest,
        c->as_root ? "postgres" : c->os_user, c->superuser);
    int rc = write_file(c, PG_HBA_FILE, hba, strlen(hba)) < 0 ||
                     write_file(c, PG_IDENT_FILE, ident, strlen(ident)) < 0 ||
                     write_file(c, PG_SETTINGS_FILE, settings, strlen(settings)) < 0
                 ? -1
                 : 0;
    free(settings);
    free(hba);
    free(ident);
    return rc;
}

static int cluster_pg_ctl_start(struct cluster *c)
{
    char *pg_ctl = spawn_pg_program("pg_ctl");
    char *logfile = xasprintf("%s/server.log", c->dir);
    char *argv[] = {pg_ctl, "start", "-w", "-s",    "-t", PG_START_TIMEOUT,
                    "-D",   c->dir,  "-l", logfile, NULL};
    struct buf out;
    buf_init(&out);
    int rc = cluster_run(c, argv, &out);
    if (rc != 0) {
        report_failure("pg_ctl start", rc, &out);
        log_error(PG_COMPONENT, "the server's own log is %s", logfile);
    } else {
        log_info(PG_COMPONENT, "server started: socket %s/.s.PGSQL.%s%s%s%s", c->dir, c->port,
                 c->listen ? ", TCP " : "", c->listen ? c->listen : "",
                 c->fast ? " (fsync off)" : "");
    }
    buf_release(&out);
    free(logfile);
    free(pg_ctl);
    return rc == 0 ? 0 : -1;
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
    char *admin = cluster_conninfo(&c, port, "postgres", c.superuser);
    char *owner = cluster_conninfo(&c, port, c.dbname, c.owner);
    struct pgroles_spec spec = {admin,   owner,    c.superuser,   c.owner,
                                c.ingest, c.dbname, cfg->table, cfg->dlq_table};
    int made = pgroles_ensure(&spec);
    free(admin);
    free(owner);
    if (made < 0)
        goto out;
    if (conninfo_out)
        *conninfo_out = cluster_conninfo(&c, port, c.dbname, c.owner);
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
    pg_ctl = spawn_pg_program("pg_ctl");
    char *mode = immediate ? "immediate" : "fast";
    char *argv[] = {pg_ctl, "stop", "-w", "-s", "-t", PG_START_TIMEOUT,
                    "-D",   c.dir,  "-m", mode, NULL};
    int status = cluster_run(&c, argv, &out);
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
    struct cluster c;
    if (cluster_init(&c, cfg, false) < 0)
        return NULL;
    char port[8];
    snprintf(port, sizeof(port), "%s", c.port);
    char *conninfo = cluster_pid(&c, port, sizeof(port)) < 0
                         ? NULL
                         : cluster_conninfo(&c, port, c.dbname,
                                            role == PGCLUSTER_ROLE_OWNER ? c.owner : c.ingest);
    cluster_release(&c);
    return conninfo;
}
