/* log.h - the one logger: time, level, component, message; one line per event. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

extern enum log_level log_min_level;

/* Optional: also append every line to LOG_DIR/sluice.log, opened without following a symlink,
 * created 0640, refused unless it is a regular file of ours with one link. Returns -1 (after
 * logging to stderr) if the file can't be opened. */
int log_open_dir(const char *log_dir);
void log_close(void);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);

/* Write s[0..n) to dst (room for cap >= 1 bytes) so it cannot end or forge a log line: \n and
 * \r as those two characters, every other control character but tab (C0, DEL, C1,
 * U+2028/U+2029) and every byte that is not strict UTF-8 as \xNN. Stops before what does not fit; always
 * NUL-terminates; returns the length written. log_write applies it to every message. */
size_t log_escape(char *dst, size_t cap, const char *s, size_t n);

void log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The level is checked before the arguments are evaluated. */
#define log_at(level, comp, ...)                                                                   \
    do {                                                                                           \
        if ((level) >= log_min_level)                                                              \
            log_write((level), (comp), __VA_ARGS__);                                               \
    } while (0)
#define log_debug(comp, ...) log_at(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_at(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_at(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_at(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif
