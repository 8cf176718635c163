#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/emulator/req.h"
#include "aws/emulator/route.h"
#include "common/uri.h"
#include "common/xmalloc.h"

static int
parse_query(struct req *r, const char *q)
{
	struct uri_query it;
	char *k, *v;
	int rc;

	uri_query_init(&it, q);
	for (;;) {
		rc = uri_query_next(&it, &k, &v);
		if (rc <= 0)
			return rc;
		if (r->nquery < REQ_QUERY_MAX) {
			r->query[r->nquery].key = k;
			r->query[r->nquery].value = v;
			r->nquery++;
		} else {
			free(k);
			free(v);
		}
	}
}

int
req_init(struct req *r, struct emu *emu, enum emu_op op, const struct emu_request *in,
    struct emu_reply *reply)
{
	memset(r, 0, sizeof(*r));
	r->emu = emu;
	r->op = op;
	r->in = in;
	r->reply = reply;
	r->now = in->now_ms;
	r->wall = in->wall_ms;
	buf_init(&r->verr, REQ_VERR_MAX);
	if (route_labels(op, in->path != NULL ? in->path : "", r->label, &r->nlabels) != 0 ||
	    parse_query(r, in->query) != 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "The request URI is not properly percent-encoded.");
		return -1;
	}
	return 0;
}

void
req_free(struct req *r)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		free(r->label[i]);
	for (i = 0; i < r->nquery; i++) {
		free(r->query[i].key);
		free(r->query[i].value);
	}
	json_decref(r->body);
	buf_free(&r->verr);
	r->nlabels = 0;
	r->nquery = 0;
	r->body = NULL;
}

const char *
req_query(const struct req *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, key) == 0)
			return r->query[i].value;
	return NULL;
}

const char *
req_header(const struct req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->in->nheaders; i++)
		if (r->in->headers[i].name != NULL && strcasecmp(r->in->headers[i].name, name) == 0)
			return r->in->headers[i].value;
	return NULL;
}

int
req_body(struct req *r)
{
	json_error_t jerr;

	if (r->in->body == NULL || r->in->body_len == 0) {
		r->body = json_object();
		return 0;
	}
	r->body = json_loadb(r->in->body, r->in->body_len, 0, &jerr);
	if (r->body == NULL) {
		req_error(r, 400, "InvalidRequestContentException",
		    "Could not parse request body into json: %s (line %d, column %d)", jerr.text,
		    jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(r->body)) {
		req_error(r, 400, "InvalidRequestContentException",
		    "Could not parse request body into json: the body is not a JSON object");
		return -1;
	}
	return 0;
}

void
req_type_error(struct req *r, const char *field, const char *expected)
{
	if (r->type_err[0] != '\0')
		return;
	snprintf(r->type_err, sizeof(r->type_err),
	    "Could not parse request body into json: Cannot deserialize value of %s as %s", field,
	    expected);
}

static const json_t *
member(struct req *r, const json_t *obj, const char *key, json_type type, const char *expected)
{
	const json_t *v;

	if (obj == NULL)
		return NULL;
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		req_type_error(r, key, expected);
		return NULL;
	}
	return v;
}

const char *
req_str(struct req *r, const json_t *obj, const char *key)
{
	const json_t *v = member(r, obj, key, JSON_STRING, "a string");

	return v != NULL ? json_string_value(v) : NULL;
}

bool
req_int(struct req *r, const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = member(r, obj, key, JSON_INTEGER, "an integer");

	if (v == NULL)
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

bool
req_bool(struct req *r, const json_t *obj, const char *key, bool *out)
{
	const json_t *v = member(r, obj, key, JSON_TRUE, "a boolean");

	if (v == NULL)
		return false;
	*out = json_is_true(v);
	return true;
}

bool
req_double(struct req *r, const json_t *obj, const char *key, double *out)
{
	const json_t *v;

	if (obj == NULL)
		return false;
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return false;
	if (!json_is_number(v)) {
		req_type_error(r, key, "a number");
		return false;
	}
	*out = json_number_value(v);
	return true;
}

const json_t *
req_obj(struct req *r, const json_t *obj, const char *key)
{
	return member(r, obj, key, JSON_OBJECT, "an object");
}

const json_t *
req_arr(struct req *r, const json_t *obj, const char *key)
{
	return member(r, obj, key, JSON_ARRAY, "a list");
}

void
req_violation(struct req *r, const char *field, const char *value, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (r->nverr > 0)
		rc = buf_puts(&r->verr, "; ");
	else
		rc = 0;
	if (value != NULL)
		rc |= buf_printf(&r->verr,
		    "Value '%.256s' at '%s' failed to satisfy constraint: ", value, field);
	else
		rc |= buf_printf(
		    &r->verr, "Value null at '%s' failed to satisfy constraint: ", field);
	va_start(ap, fmt);
	rc |= buf_vprintf(&r->verr, fmt, ap);
	va_end(ap);
	(void)rc; /* a message past REQ_VERR_MAX is cut; the count stays right */
	r->nverr++;
}

void
req_check_null(struct req *r, const char *field, bool present)
{
	if (!present)
		req_violation(r, field, NULL, "Member must not be null");
}

/* Length in characters (code points), as Lambda counts them. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
req_check_length(struct req *r, const char *field, const char *v, size_t min, size_t max)
{
	size_t n;

	if (v == NULL)
		return;
	n = chars(v);
	if (n < min)
		req_violation(
		    r, field, v, "Member must have length greater than or equal to %zu", min);
	if (n > max)
		req_violation(
		    r, field, v, "Member must have length less than or equal to %zu", max);
}

void
req_check_range(struct req *r, const char *field, int64_t v, int64_t min, int64_t max)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	if (v < min)
		req_violation(r, field, tmp, "Member must have value greater than or equal to %lld",
		    (long long)min);
	if (v > max)
		req_violation(r, field, tmp, "Member must have value less than or equal to %lld",
		    (long long)max);
}

void
req_check_pattern(struct req *r, const char *field, const char *v, bool ok, const char *pattern)
{
	if (v != NULL && !ok)
		req_violation(
		    r, field, v, "Member must satisfy regular expression pattern: %s", pattern);
}

bool
req_check_enum(struct req *r, const char *field, const char *v, const char *const *allowed)
{
	struct buf set = BUF_INIT(1024);
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(v, allowed[i]) == 0)
			return true;
	for (i = 0; allowed[i] != NULL; i++)
		(void)buf_printf(&set, "%s%s", i > 0 ? ", " : "", allowed[i]);
	req_violation(r, field, v, "Member must satisfy enum value set: [%s]", buf_cstr(&set));
	buf_free(&set);
	return false;
}

bool
req_failed(struct req *r)
{
	if (r->type_err[0] != '\0') {
		req_error(r, 400, "InvalidRequestContentException", "%s", r->type_err);
		return true;
	}
	if (r->nverr == 0)
		return false;
	req_error(r, 400, "ValidationException", "%d validation error%s detected: %s", r->nverr,
	    r->nverr > 1 ? "s" : "", buf_cstr(&r->verr));
	return true;
}

void
req_error(struct req *r, int status, const char *type, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	emu_reply_error(r->reply, status, type, "%s", msg);
	free(msg);
}

void
req_json_begin(struct req *r, int status, struct jsonw *w)
{
	r->reply->status = status;
	r->reply->error_type[0] = '\0';
	buf_reset(&r->reply->body);
	buf_reset(&r->reply->headers);
	(void)buf_puts(&r->reply->headers, "Content-Type: application/json\r\n");
	jsonw_init(w, &r->reply->body);
}

void
req_json_end(struct req *r, struct jsonw *w)
{
	if (jsonw_failed(w))
		req_error(r, 500, "ServiceException", "The response is larger than %d bytes.",
		    EMU_REPLY_BODY_MAX);
}

void
req_empty(struct req *r, int status)
{
	r->reply->status = status;
	r->reply->error_type[0] = '\0';
	buf_reset(&r->reply->body);
	buf_reset(&r->reply->headers);
}
