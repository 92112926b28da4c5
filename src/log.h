/* log.h - the one logger: time, level, component, message; one line per event. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

extern enum log_level log_min_level;

/* Optional: also append every line to LOG_DIR/sluice.log. Returns -1 if the file can't be opened.
 */
int log_open_dir(const char *log_dir);
void log_close(void);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);

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
