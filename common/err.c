#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->http_status = 0;
	e->type[0] = '\0';
	e->message[0] = '\0';
	e->request_id[0] = '\0';
}

static void
copy_line(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
	dst[i] = '\0';
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	char line[ERR_MESSAGE_MAX];

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	copy_line(e->message, sizeof(e->message), line);
	return code;
}

void
err_set_type(struct err *e, const char *type)
{
	size_t n;

	if (e == NULL)
		return;
	n = strcspn(type, ":");
	if (n >= sizeof(e->type))
		n = sizeof(e->type) - 1;
	memcpy(e->type, type, n);
	e->type[n] = '\0';
}

void
err_set_request_id(struct err *e, const char *request_id)
{
	if (e == NULL)
		return;
	copy_line(e->request_id, sizeof(e->request_id), request_id);
}

void
err_copy(struct err *dst, const struct err *src)
{
	if (dst == NULL)
		return;
	if (src == NULL) {
		err_clear(dst);
		return;
	}
	memcpy(dst, src, sizeof(*dst));
}

const char *
err_code_name(int code)
{
	switch (code) {
	case ERR_OK:
		return "ok";
	case ERR_NOTFOUND:
		return "not_found";
	case ERR_CONFLICT:
		return "conflict";
	case ERR_PRECONDITION:
		return "precondition_failed";
	case ERR_THROTTLED:
		return "throttled";
	case ERR_TRANSIENT:
		return "transient";
	case ERR_INVALID:
		return "invalid";
	case ERR_AUTH:
		return "auth";
	case ERR_TOOBIG:
		return "too_big";
	case ERR_CANCELED:
		return "canceled";
	default:
		return "error";
	}
}
