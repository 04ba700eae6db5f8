/*
 * One-line-per-event logging: time, level, subsystem, message, to stderr.
 * The level is process-wide and set once from --log-level.
 */
#ifndef KEDGE_UTIL_LOG_H
#define KEDGE_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug|info|warn|error"; returns 0 or -EINVAL. */
int log_parse_level(const char *name, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Writes one line: "2026-11-23T20:04:20.123Z info  store: message". */
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(sub, ...) \
    do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, sub, __VA_ARGS__); } while (0)
#define log_info(sub, ...) log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)

#endif
