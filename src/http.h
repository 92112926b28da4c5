/*
 * http.h - the HTTP endpoint: /metrics, /healthz, /readyz, /api/status and the dashboard at /.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>

/* `sluice run` listens here unless told otherwise; when the port is taken, the next free one. */
#define HTTP_DEFAULT_LISTEN "127.0.0.1:9464"

struct http_options {
    const char *listen;    /* "ADDR:PORT" ("[ADDR]:PORT" for IPv6); NULL, "" or "off": no server */
    const char *conninfo;  /* for the sampler's own connection (readiness, dashboard tables) */
    const char *input_dir; /* the hot folder: readiness, files landing while loaders wait */
    const char *table;     /* the pipeline's target and dead-letter tables, as given (NULL: */
    const char *dlq_table; /* the seed's user_activity and user_activity_errors) */
};

struct http;

/* Start the server and its sampler thread. Returns 0 with *out NULL when listen is off, 0 with
 * *out set when listening (the URL is logged), -1 after logging when it cannot listen. */
int http_start(const struct http_options *o, struct http **out);
/* Stop both threads and free everything; NULL is fine. */
void http_stop(struct http *h);
/* "http://ADDR:PORT/" as bound (heap string owned by h). */
const char *http_url(const struct http *h);

#endif
