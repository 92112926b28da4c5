/*
 * http.c - the HTTP endpoint on libmicrohttpd: /metrics, /healthz, /readyz, /api/status and the
 * dashboard page at /.
 *
 * Two threads of its own, so loading never waits on HTTP and HTTP never waits on the database:
 *  - the server thread (libmicrohttpd's internal epoll loop) answers every request from memory:
 *    the metrics registry's atomics and what the sampler last cached. It holds at most
 *    HTTP_MAX_CONNECTIONS connections (fewer when the descriptor limit is low, so it can never
 *    starve the loaders of file descriptors), each with at most HTTP_CONN_MEMORY bytes, and drops
 *    a connection idle for HTTP_IDLE_TIMEOUT seconds: a slowloris, a garbage request line or
 *    ten thousand connections cost bounded memory and no loader time.
 *  - the sampler thread, once a second: appends one sample to the history ring (15 minutes),
 *    checks readiness on its own PostgreSQL connection (reachable, schema current, hot folder
 *    usable) with a short statement_timeout, refreshes the dashboard's last dead letters and
 *    last files with bounded queries, and counts files landing while the loaders are stuck.
 * It binds where it is told; the default is loopback.
 */
#include "http.h"

#include "clock.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "table_name.h"
#include "metrics.h"
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_CONNECTIONS 256
#define HTTP_CONN_MEMORY (16 * 1024)
#define HTTP_IDLE_TIMEOUT 10
#define HISTORY_SAMPLES 900 /* one a second: 15 minutes */
#define PERCENTILE_WINDOW 5 /* seconds of batches behind each p50/p99 sample */
#define RECENT_ROWS 20
#define WATCHDOG_MAX_AGE 120.0
#define PORT_SEARCH 20
#define SAMPLER_QUERY_TIMEOUT_MS 2000

extern const char dashboard_html[];

struct http {
    struct http_options o;
    struct MHD_Daemon *daemon;
    char *url;
    pthread_t sampler;
    bool sampler_started;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t wake;
    bool stopping;
    struct metrics_sample ring[HISTORY_SAMPLES];
    size_t ring_head, ring_len;
    bool ready;
    char ready_reason[256];
    struct buf recent; /* JSON object, "{}" until the first refresh */
};

/* ---- the sampler ---------------------------------------------------------------------------- */

static void one_line(char *dst, size_t n, const char *msg)
{
    size_t j = 0;
    for (size_t i = 0; msg && msg[i] && j + 1 < n; i++)
        dst[j++] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
    while (j > 0 && dst[j - 1] == ' ')
        j--;
    dst[j] = '\0';
}

/* PQexec with a deadline on our side too: a server that stops answering (SIGSTOP, a hung host)
 * would leave a plain PQexec waiting forever, and the sampler with it. On timeout the connection
 * is marked for reconnecting (PQreset at the next probe) and NULL is returned. */
static PGresult *exec_bounded(PGconn *conn, const char *sql)
{
    if (!PQsendQuery(conn, sql))
        return NULL;
    double t0 = clock_now();
    for (;;) {
        if (!PQconsumeInput(conn))
            break;
        if (!PQisBusy(conn)) {
            PGresult *res = PQgetResult(conn), *extra;
            while ((extra = PQgetResult(conn)) != NULL)
                PQclear(extra);
            return res;
        }
        if ((clock_now() - t0) * 1000 >= SAMPLER_QUERY_TIMEOUT_MS)
            break;
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        poll(&pfd, 1, 100);
    }
    /* gave up: this connection is in an unknown state, drop it */
    return NULL;
}

static PGconn *sampler_connect(const char *conninfo)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", "options", NULL};
    const char *vals[] = {conninfo, "sluice-http", "2", "-c statement_timeout=1000", NULL};
    return PQconnectdbParams(keys, vals, 1);
}

/* Check the database: reachable and schema current. On failure, why (one line) into `why`. */
static bool probe_db(PGconn **conn, const char *conninfo, char *why, size_t why_len)
{
    if (!*conn || PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = sampler_connect(conninfo);
        if (PQstatus(*conn) != CONNECTION_OK) {
            char msg[200];
            one_line(msg, sizeof(msg), PQerrorMessage(*conn));
            snprintf(why, why_len, "database unreachable: %s", msg);
            return false;
        }
    }
    PGresult *res =
        exec_bounded(*conn, "SELECT obj_description(to_regclass('ingest_files'), 'pg_class')");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!res) {
        snprintf(why, why_len, "database unreachable: no answer within %d ms",
                 SAMPLER_QUERY_TIMEOUT_MS);
        PQfinish(*conn);
        *conn = NULL;
        return false;
    }
    if (!ok) {
        char msg[200];
        one_line(msg, sizeof(msg), PQerrorMessage(*conn));
        snprintf(why, why_len, "database unreachable: %s", msg);
    } else if (PQgetisnull(res, 0, 0) || !db_schema_marker_current(PQgetvalue(res, 0, 0))) {
        snprintf(why, why_len, "database schema is not current (no 'sluice schema %ld' marker)",
                 db_schema_version());
        PQclear(res);
        return true; /* reachable, not ready */
    }
    PQclear(res);
    return ok;
}

static void json_field(struct buf *b, const PGresult *res, int row, int col, bool number)
{
    if (PQgetisnull(res, row, col))
        buf_append(b, "null", 4);
    else if (number)
        buf_printf(b, "%s", PQgetvalue(res, row, col));
    else
        json_put_string(b, PQgetvalue(res, row, col));
}

/* One query's rows as a JSON array of objects; names[i] is column i's key, numeric[i] says
 * whether it goes out unquoted. false when the query failed. */
static bool rows_json(PGconn *conn, const char *sql, const char *const *names, const bool *numeric,
                      int ncols, struct buf *b)
{
    PGresult *res = exec_bounded(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != ncols) {
        PQclear(res);
        return false;
    }
    buf_putc(b, '[');
    for (int r = 0; r < PQntuples(res); r++) {
        buf_append(b, r ? ",{" : "{", r ? 2 : 1);
        for (int c = 0; c < ncols; c++) {
            buf_printf(b, "%s\"%s\":", c ? "," : "", names[c]);
            json_field(b, res, r, c, numeric[c]);
        }
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    PQclear(res);
    return true;
}

/* The dashboard's tables, read with bounded queries on the sampler's own connection. */
static void refresh_recent(struct http *h, PGconn *conn, bool db_ok, const char *why)
{
    static const char *const dl_names[] = {"id",     "file",    "line", "code",
                                           "column", "message", "raw",  "time"};
    static const bool dl_num[] = {true, false, true, false, false, false, false, false};
    static const char *const f_names[] = {"file",          "status",  "rows_loaded",
                                          "rows_rejected", "latency", "committed_at"};
    static const bool f_num[] = {false, false, true, true, true, false};
    struct buf b;
    buf_init(&b);
    bool ok = false;
    if (db_ok) {
        buf_append(&b, "{\"db\":\"ok\",\"dead_letters\":", 26);
        /* the tables of this pipeline: its dead-letter table, its files in the ledger */
        char *dlq = table_name_quote(conn, h->o.dlq_table ? h->o.dlq_table : "user_activity_errors");
        char *target = table_name_quote(conn, h->o.table ? h->o.table : "user_activity");
        char *target_lit = target ? PQescapeLiteral(conn, target, strlen(target)) : NULL;
        char *dl_sql = dlq ? xasprintf("SELECT error_id, source_file, line_number, error_code, "
                                       "error_column, left(error_message, 300), "
                                       "left(raw_line, 300), "
                                       "to_char(ingestion_time, 'YYYY-MM-DD HH24:MI:SS') "
                                       "FROM %s ORDER BY error_id DESC LIMIT 20",
                                       dlq)
                           : NULL;
        char *f_sql =
            target_lit
                ? xasprintf("SELECT file_name, status, rows_loaded, rows_rejected, "
                            "round(extract(epoch FROM committed_at - file_mtime)::numeric, 3), "
                            "to_char(committed_at, 'YYYY-MM-DD HH24:MI:SS') "
                            "FROM ingest_files WHERE committed_at IS NOT NULL AND target_table = "
                            "(SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN "
                            "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = "
                            "to_regclass(%s)) ORDER BY committed_at DESC LIMIT 20",
                            target_lit)
                : NULL;
        ok = dl_sql && f_sql && rows_json(conn, dl_sql, dl_names, dl_num, 8, &b);
        buf_append(&b, ",\"files\":", 9);
        ok = ok && rows_json(conn, f_sql, f_names, f_num, 6, &b);
        free(dl_sql);
        free(f_sql);
        free(dlq);
        free(target);
        PQfreemem(target_lit);
        buf_putc(&b, '}');
    }
    if (!ok) {
        char msg[200];
        one_line(msg, sizeof(msg), db_ok ? PQerrorMessage(conn) : why);
        buf_reset(&b);
        buf_append(&b, "{\"db\":", 6);
        json_put_string(&b, msg);
        buf_putc(&b, '}');
    }
    pthread_mutex_lock(&h->mu);
    if (ok || strncmp(h->recent.data, "{\"db\":\"ok\"", 10) != 0 || !db_ok) {
        /* keep the last tables when only this refresh failed; say "down" when it is down */
        struct buf old = h->recent;
        h->recent = b;
        b = old;
    }
    pthread_mutex_unlock(&h->mu);
    buf_release(&b);
}

/* Files that landed in the hot folder since the loaders last reported their queues: while they
 * wait for the database they cannot see them, and that is when the figure matters. */
static void count_new_arrivals(const char *input_dir)
{
    double since = metrics_pending_updated_at();
    double now = clock_wall();
    if (since == 0 || now - since < 3) {
        metrics_set_pending_extra(0, 0, 0);
        return;
    }
    DIR *d = opendir(input_dir);
    if (!d)
        return;
    uint64_t files = 0, bytes = 0;
    double oldest = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!watch_name_matches(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        double mt = clock_seconds(&st.st_mtim);
        if (mt <= since)
            continue;
        files++;
        bytes += (uint64_t)st.st_size;
        if (oldest == 0 || mt < oldest)
            oldest = mt;
    }
    closedir(d);
    metrics_set_pending_extra(files, bytes, oldest);
}

static void *sampler_run(void *arg)
{
    struct http *h = arg;
    PGconn *conn = NULL;
    uint64_t windows[PERCENTILE_WINDOW][METRICS_SAMPLE_STATE_LEN];
    memset(windows, 0, sizeof(windows));
    unsigned tick = 0;
    bool was_up = true;
    metrics_watchdog_begin("http-sampler");
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        pthread_mutex_unlock(&h->mu);
        metrics_watchdog_tick();

        char why[256] = "";
        bool reachable = h->o.conninfo ? probe_db(&conn, h->o.conninfo, why, sizeof(why)) : false;
        if (!h->o.conninfo)
            snprintf(why, sizeof(why), "no database configured");
        if (h->o.conninfo) {
            metrics_set_db_up(reachable);
            if (was_up && !reachable)
                metrics_note_error("http", why);
            was_up = reachable;
        }
        bool ready = reachable && !*why;
        if (ready && h->o.input_dir && access(h->o.input_dir, R_OK | W_OK | X_OK) != 0) {
            snprintf(why, sizeof(why), "hot folder '%s' is not usable: %m", h->o.input_dir);
            ready = false;
        }
        if (tick % 2 == 0)
            refresh_recent(h, conn, reachable, why);
        if (h->o.input_dir)
            count_new_arrivals(h->o.input_dir);

        struct metrics_sample s;
        metrics_sample(&s, windows[tick % PERCENTILE_WINDOW]);
        tick++;

        pthread_mutex_lock(&h->mu);
        h->ready = ready;
        snprintf(h->ready_reason, sizeof(h->ready_reason), "%s", ready ? "ready" : why);
        h->ring[(h->ring_head + h->ring_len) % HISTORY_SAMPLES] = s;
        if (h->ring_len < HISTORY_SAMPLES)
            h->ring_len++;
        else
            h->ring_head = (h->ring_head + 1) % HISTORY_SAMPLES;
        struct timespec until = clock_wall_after(1.0);
        while (!h->stopping && pthread_cond_timedwait(&h->wake, &h->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&h->mu);
    PQfinish(conn);
    metrics_watchdog_end();
    return NULL;
}

/* ---- requests ------------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct buf *body)
{
    size_t len = body->len;
    void *data = body->data ? body->data : xstrdup("");
    body->data = NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* the page runs only its own inline script, talks only to us, and loads nothing */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; "
                            "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct buf b;
    buf_init(&b);
    buf_append(&b, text, strlen(text));
    return reply(c, status, "text/plain; charset=utf-8", &b);
}

static void history_json(struct http *h, double since, struct buf *b)
{
    static const char *const names[] = {
        "t",          "rows_read",     "rows_loaded",   "rows_rejected",
        "bytes_read", "files_pending", "bytes_pending", "batch_p50",
        "batch_p99",  "latency_p50",   "latency_p99",   "db_up"};
    enum { NCOL = sizeof(names) / sizeof(names[0]) };
    buf_append(b, "{", 1);
    for (int col = 0; col < NCOL; col++) {
        buf_printf(b, "%s\"%s\":[", col ? "," : "", names[col]);
        bool first = true;
        for (size_t i = 0; i < h->ring_len; i++) {
            const struct metrics_sample *s = &h->ring[(h->ring_head + i) % HISTORY_SAMPLES];
            if (s->t < since + 1e-5) /* since is a t we printed, rounded to 6 places */
                continue;
            if (!first)
                buf_putc(b, ',');
            first = false;
            double v[NCOL] = {s->t,
                              (double)s->rows_read,
                              (double)s->rows_loaded,
                              (double)s->rows_rejected,
                              (double)s->bytes_read,
                              (double)s->files_pending,
                              (double)s->bytes_pending,
                              s->batch_p50,
                              s->batch_p99,
                              s->latency_p50,
                              s->latency_p99,
                              s->db_up ? 1 : 0};
            if (col >= 7 && col <= 10 && v[col] < 0)
                buf_append(b, "null", 4);
            else
                buf_printf(b, col == 0 ? "%.6f" : "%.6g", v[col]);
        }
        buf_putc(b, ']');
    }
    buf_putc(b, '}');
}

static enum MHD_Result api_status(struct http *h, struct MHD_Connection *c)
{
    const char *since_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    double since = since_s ? strtod(since_s, NULL) : 0;
    char who[64] = "";
    bool healthy = metrics_watchdog_ok(WATCHDOG_MAX_AGE, who, sizeof(who));
    struct buf b;
    buf_init(&b);
    buf_append(&b, "{\"metrics\":", 11);
    metrics_render_json(&b);
    buf_printf(&b, ",\"healthy\":%s", healthy ? "true" : "false");
    pthread_mutex_lock(&h->mu);
    buf_printf(&b, ",\"ready\":%s,\"ready_reason\":", h->ready ? "true" : "false");
    json_put_string(&b, h->ready_reason);
    buf_append(&b, ",\"recent\":", 10);
    buf_append(&b, h->recent.data, h->recent.len);
    buf_append(&b, ",\"history\":", 11);
    history_json(h, since, &b);
    pthread_mutex_unlock(&h->mu);
    buf_putc(&b, '}');
    return reply(c, 200, "application/json", &b);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct http *h = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, 405, "only GET\n");
    struct buf b;
    buf_init(&b);
    if (strcmp(url, "/metrics") == 0) {
        metrics_render(&b);
        return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    }
    if (strcmp(url, "/healthz") == 0) {
        char who[64] = "";
        if (metrics_watchdog_ok(WATCHDOG_MAX_AGE, who, sizeof(who)))
            return reply_text(c, 200, "ok\n");
        buf_append(&b, "{\"healthy\":false,\"reason\":", 26);
        char why[160];
        snprintf(why, sizeof(why), "thread '%s' has not ticked for over %.0f s", who,
                 WATCHDOG_MAX_AGE);
        json_put_string(&b, why);
        buf_append(&b, "}\n", 2);
        return reply(c, 503, "application/json", &b);
    }
    if (strcmp(url, "/readyz") == 0) {
        pthread_mutex_lock(&h->mu);
        bool ready = h->ready;
        buf_printf(&b, "{\"ready\":%s,\"reason\":", ready ? "true" : "false");
        json_put_string(&b, h->ready_reason);
        pthread_mutex_unlock(&h->mu);
        buf_append(&b, "}\n", 2);
        return reply(c, ready ? 200 : 503, "application/json", &b);
    }
    if (strcmp(url, "/api/status") == 0)
        return api_status(h, c);
    if (strcmp(url, "/") == 0) {
        buf_append(&b, dashboard_html, strlen(dashboard_html));
        return reply(c, 200, "text/html; charset=utf-8", &b);
    }
    return reply_text(c, 404, "not found\n");
}

/* libmicrohttpd's complaints (garbage requests, dropped connections) at debug level only. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (log_min_level > LOG_LEVEL_DEBUG)
        return;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    one_line(line, sizeof(line), line);
    log_debug("http", "%s", line);
}

/* ---- start and stop ------------------------------------------------------------------------- */

static int parse_listen(const char *listen, char *host, size_t host_len, unsigned *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -1;
    const char *h0 = listen, *h1 = colon;
    if (*h0 == '[' && h1[-1] == ']') {
        h0++;
        h1--;
    }
    if ((size_t)(h1 - h0) >= host_len || h1 <= h0)
        return -1;
    memcpy(host, h0, (size_t)(h1 - h0));
    host[h1 - h0] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
        return -1;
    *port = (unsigned)p;
    return 0;
}

/* How many connections to accept at once: HTTP_MAX_CONNECTIONS, or a quarter of the descriptor
 * limit if that is less, so HTTP can never take the descriptors the loaders need. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    unsigned n = HTTP_MAX_CONNECTIONS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < n)
        n = rl.rlim_cur / 4 > 4 ? (unsigned)(rl.rlim_cur / 4) : 4;
    return n;
}

static struct MHD_Daemon *start_daemon(struct http *h, const struct addrinfo *ai)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 64u, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_END);
}

int http_start(const struct http_options *o, struct http **out)
{
    *out = NULL;
    if (!o->listen || !*o->listen || strcmp(o->listen, "off") == 0)
        return 0;
    char host[256];
    unsigned port;
    if (parse_listen(o->listen, host, sizeof(host), &port) < 0) {
        log_error("http", "bad --listen '%s': expected ADDR:PORT (e.g. 127.0.0.1:9464)", o->listen);
        return -1;
    }
    struct http *h = xcalloc(1, sizeof(*h));
    h->o = *o;
    /* the table names are the setup's, which replaces them once it has the catalog's spelling */
    h->o.table = o->table ? xstrdup(o->table) : NULL;
    h->o.dlq_table = o->dlq_table ? xstrdup(o->dlq_table) : NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->wake, NULL);
    buf_init(&h->recent);
    buf_append(&h->recent, "{\"db\":\"not checked yet\"}", 24);
    snprintf(h->ready_reason, sizeof(h->ready_reason), "not checked yet");
    bool search = strcmp(o->listen, HTTP_DEFAULT_LISTEN) == 0;
    for (unsigned i = 0; i < (search ? PORT_SEARCH : 1) && !h->daemon; i++) {
        char ports[16];
        snprintf(ports, sizeof(ports), "%u", port + i);
        struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *ai;
        int rc = getaddrinfo(host, ports, &hints, &ai);
        if (rc != 0) {
            log_error("http", "cannot listen on '%s': %s", o->listen, gai_strerror(rc));
            http_stop(h);
            return -1;
        }
        h->daemon = start_daemon(h, ai);
        freeaddrinfo(ai);
    }
    if (!h->daemon) {
        log_error("http", "cannot listen on '%s'%s (in use, or not an address of this host)",
                  o->listen, search ? " nor on the next ports" : "");
        http_stop(h);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    bool v6 = strchr(host, ':') != NULL;
    h->url = xasprintf("http://%s%s%s:%u/", v6 ? "[" : "", host, v6 ? "]" : "",
                       info ? info->port : port);
    if (pthread_create(&h->sampler, NULL, sampler_run, h) != 0) {
        log_error("http", "cannot start the sampler thread");
        http_stop(h);
        return -1;
    }
    h->sampler_started = true;
    log_info("http", "dashboard at %s (metrics at %smetrics)", h->url, h->url);
    *out = h;
    return 0;
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    if (h->sampler_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->sampler, NULL);
    }
    buf_release(&h->recent);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->mu);
    free(h->url);
    free((char *)h->o.table);
    free((char *)h->o.dlq_table);
    free(h);
}

const char *http_url(const struct http *h)
{
    return h->url;
}
