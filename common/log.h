/*
 * Logging: one line per event, "subsystem: object: what happened key=value ...", as text or
 * JSON lines. Never log credentials, tokens, webhook secrets or whole request bodies.
 *
 * The log destination is the one piece of process-wide state outside main(): it is set once
 * by log_init() before the loop starts and only read afterwards (OpenBSD's log.c).
 */
#ifndef TETHER_COMMON_LOG_H
#define TETHER_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "common/compat.h"

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Where and how to log; the default before log_init() is text, info, stderr. */
void log_init(enum log_level level, bool json, int fd);
bool log_enabled(enum log_level level);
/* Parse "error", "warn", "info" or "debug". Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *subsystem, const char *fmt, ...) PRINTFLIKE(3, 4);
void log_vmsg(enum log_level level, const char *subsystem, const char *fmt, va_list ap)
    PRINTFLIKE(3, 0);

#define log_error(sub, ...) log_msg(LOG_LEVEL_ERROR, (sub), __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LOG_LEVEL_WARN, (sub), __VA_ARGS__)
#define log_info(sub, ...) log_msg(LOG_LEVEL_INFO, (sub), __VA_ARGS__)
#define log_debug(sub, ...)                                           \
	do {                                                          \
		if (log_enabled(LOG_LEVEL_DEBUG))                     \
			log_msg(LOG_LEVEL_DEBUG, (sub), __VA_ARGS__); \
	} while (0)

#endif
