/*
 * log.c - the one logger for every part of sluice.
 *
 * A line is "2026-11-24T06:51:01.123Z INFO  ingest: message": UTC time with milliseconds, level,
 * component, message. Each line is formatted into one buffer and written with a single write(2),
 * so lines from the generator, ingester and archiver threads of `sluice run` never interleave.
 * Lines go to stderr and, when log_open_dir() was called, to LOG_DIR/sluice.log as well.
 *
 * One line is one event, whatever the message holds: file names and values come from producers,
 * and a name with a newline or a terminal escape in it must not be able to forge a line or
 * rewrite the operator's screen. So every formatted message passes through log_escape() before
 * it is written. The log file is opened O_NOFOLLOW and checked to be our own regular file with
 * one link, so a symlink or hard link planted in the log folder cannot make us append elsewhere.
 */
#include "log.h"

#include "fsutil.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
    struct stat st;
    const char *why = NULL;
    char ebuf[128];
    if (fd < 0)
        why = errno == ELOOP ? "it is a symbolic link" : strerror_r(errno, ebuf, sizeof(ebuf));
    else if (fstat(fd, &st) < 0)
        why = strerror_r(errno, ebuf, sizeof(ebuf));
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_nlink != 1)
        why = "it has other hard links";
    else if (st.st_uid != geteuid())
        why = "owned by another user";
    if (why) {
        log_error("log", "cannot use log file '%s': %s", path, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_APPEND);
    log_file_fd = fd;
    return 0;
}

void log_close(void)
{
    if (log_file_fd >= 0)
        close(log_file_fd);
    log_file_fd = -1;
}

static const char hex_digits[] = "0123456789abcdef";

size_t log_escape(char *dst, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k = utf8_seq_len(p + i, n - i);
        char esc[16];
        size_t elen = 0;
        if (c == '\n' || c == '\r') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : 'r';
            elen = 2;
        } else if (k == 0 || (c < 0x20 && c != '\t') || c == 0x7f || (k == 2 && c == 0xc2 && p[i + 1] < 0xa0) ||
                   (k == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] | 1) == 0xa9)) {
            /* not UTF-8, a C0 control or DEL, a C1 control, U+2028/U+2029: each byte as \xNN */
            size_t m = k ? k : 1;
            for (size_t j = 0; j < m; j++) {
                esc[elen++] = '\\';
                esc[elen++] = 'x';
                esc[elen++] = hex_digits[p[i + j] >> 4];
                esc[elen++] = hex_digits[p[i + j] & 15];
            }
            k = m;
        }
        if (elen) {
            if (o + elen >= cap)
                break;
            memcpy(dst + o, esc, elen);
            o += elen;
            i += k ? k : 1;
            continue;
        }
        if (o + k >= cap)
            break;
        memcpy(dst + o, p + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
    return o;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    int saved_errno = errno;
    char msg[2048], line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], component);
    if (n < 0 || (size_t)n >= sizeof(line) / 2)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    errno = saved_errno; /* for %m */
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t mlen = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
    size_t len = (size_t)n + log_escape(line + n, sizeof(line) - (size_t)n - 1, msg, mlen);
    line[len++] = '\n';
    (void)fs_write_all(STDERR_FILENO, line, len); /* nowhere to report a failed log write */
    if (log_file_fd >= 0)
        (void)fs_write_all(log_file_fd, line, len);
    errno = saved_errno;
}
