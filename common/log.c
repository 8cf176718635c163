#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "common/log.h"

#define LOG_LINE_MAX 4096

static struct {
	enum log_level level;
	bool json;
	int fd;
} log_conf = {LOG_LEVEL_INFO, false, STDERR_FILENO};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_init(enum log_level level, bool json, int fd)
{
	log_conf.level = level;
	log_conf.json = json;
	log_conf.fd = fd;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_conf.level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < nitems(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_vmsg(enum log_level level, const char *subsystem, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], stamp[96];
	struct buf line = BUF_INIT(6 * LOG_LINE_MAX + 256); /* worst case: every byte escaped */
	struct jsonw w;
	struct timeval tv;
	struct tm tm;
	ssize_t n;
	size_t off;
	int saved = errno;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000);
	if (log_conf.json) {
		jsonw_init(&w, &line);
		jsonw_object_open(&w);
		jsonw_kstr(&w, "time", stamp);
		jsonw_kstr(&w, "level", level_names[level]);
		jsonw_kstr(&w, "subsystem", subsystem);
		jsonw_kstr(&w, "msg", msg);
		jsonw_object_close(&w);
		buf_putc(&line, '\n');
	} else {
		buf_printf(&line, "%s %s %s: ", stamp, level_names[level], subsystem);
		/* A message must stay on one line whatever it quotes. */
		for (off = 0; msg[off] != '\0'; off++)
			buf_putc(&line, msg[off] == '\n' || msg[off] == '\r' ? ' ' : msg[off]);
		buf_putc(&line, '\n');
	}
	/* One write per line so concurrent writers (tests, workers) never interleave lines. */
	for (off = 0; off < line.len; off += (size_t)n) {
		n = write(log_conf.fd, line.data + off, line.len - off);
		if (n <= 0 && errno != EINTR)
			break;
		if (n < 0)
			n = 0;
	}
	buf_free(&line);
	errno = saved;
}

void
log_msg(enum log_level level, const char *subsystem, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, subsystem, fmt, ap);
	va_end(ap);
}
