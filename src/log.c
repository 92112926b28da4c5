/*
 * log.c - the one logger for every part of sluice.
 *
 * A line is "2026-11-24T06:51:01.123Z INFO  ingest: message": UTC time with milliseconds, level,
 * component, message. Each line is formatted into one buffer and written with a single write(2),
 * so lines from the generator, ingester and archiver threads of `sluice run` never interleave.
 * Lines go to stderr and, when log_open_dir() was called, to LOG_DIR/sluice.log as well.
 */
#include "log.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum log_level log_min_level = LOG_LEVEL_INFO;
static int log_file_fd = -1;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return LOG_LEVEL_WARN;
    return -1;
}

int log_open_dir(const char *log_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/sluice.log", log_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("log", "cannot open log file '%s': %m", path);
        return -1;
    }
    log_file_fd = fd;
    return 0;
}

void log_close(void)
{
    if (log_file_fd >= 0)
        close(log_file_fd);
    log_file_fd = -1;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    int saved_errno = errno;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], component);
    va_list ap;
    va_start(ap, fmt);
    errno = saved_errno; /* for %m */
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    (void)fs_write_all(STDERR_FILENO, line, len); /* nowhere to report a failed log write */
    if (log_file_fd >= 0)
        (void)fs_write_all(log_file_fd, line, len);
    errno = saved_errno;
}
