#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/stsxml.h"
#include "common/buf.h"
#include "common/xmalloc.h"

#define PATH_MAX_LEN (STSXML_DEPTH_MAX * (STSXML_NAME_MAX + 1))

struct reader {
	const char *s;
	size_t len;
	size_t i;
	struct err *err;
	/* The open elements: full names for matching end tags, local names for paths. */
	size_t depth;
	size_t name_off[STSXML_DEPTH_MAX]; /* where each element's name starts in names */
	size_t path_off[STSXML_DEPTH_MAX]; /* path length before each element was pushed */
	struct buf names;                  /* qualified names, NUL-separated */
	struct buf path;                   /* local names joined with '/' */
	bool root_seen;
	/* The field whose element is open, and at which depth its text is direct content. */
	long active;
	size_t active_depth;
	struct buf text;
	struct stsxml_field *fields;
	char **values;
	size_t nfields;
};

/* Extracted values may be secrets (SecretAccessKey, SessionToken): wipe before freeing. */
static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static int
fail(struct reader *r, int code, const char *what)
{
	return err_set(r->err, code, "sts response: %s at byte %zu", what, r->i);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
	       c >= 0x80;
}

static bool
name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool
starts(const struct reader *r, const char *lit)
{
	size_t n = strlen(lit);

	return r->len - r->i >= n && memcmp(r->s + r->i, lit, n) == 0;
}

/* Find lit at or after the position; returns its offset or -1. */
static long
find(const struct reader *r, const char *lit)
{
	size_t n = strlen(lit), k;

	for (k = r->i; k + n <= r->len; k++) {
		if (memcmp(r->s + k, lit, n) == 0)
			return (long)k;
	}
	return -1;
}

static void
skip_ws(struct reader *r)
{
	while (r->i < r->len && is_ws(r->s[r->i]))
		r->i++;
}

static int
read_name(struct reader *r, const char **name, size_t *n)
{
	size_t start = r->i;

	if (r->i >= r->len || !name_start((unsigned char)r->s[r->i]))
		return fail(r, ERR_INVALID, "expected a name");
	while (r->i < r->len && name_char((unsigned char)r->s[r->i]))
		r->i++;
	*name = r->s + start;
	*n = r->i - start;
	if (*n > STSXML_NAME_MAX)
		return fail(r, ERR_TOOBIG, "name too long");
	return 0;
}

static int
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

static bool
xml_char(unsigned long cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/* Decode the entity at r->i ('&') into out (NULL: check only). */
static int
read_entity(struct reader *r, struct buf *out)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	unsigned long cp = 0;
	size_t k, digits = 0;
	bool hex;
	int d;

	r->i++;
	for (k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
		if (starts(r, named[k].name)) {
			r->i += strlen(named[k].name);
			if (out != NULL && buf_putc(out, named[k].c) != 0)
				return fail(r, ERR_TOOBIG, "value too long");
			return 0;
		}
	}
	if (r->i >= r->len || r->s[r->i] != '#')
		return fail(r, ERR_INVALID, "unknown entity");
	r->i++;
	hex = r->i < r->len && r->s[r->i] == 'x';
	if (hex)
		r->i++;
	for (; r->i < r->len && r->s[r->i] != ';'; r->i++) {
		char c = r->s[r->i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return fail(r, ERR_INVALID, "bad character reference");
		cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		if (++digits > 8 || cp > 0x10ffff)
			return fail(r, ERR_INVALID, "bad character reference");
	}
	if (r->i >= r->len || digits == 0 || !xml_char(cp))
		return fail(r, ERR_INVALID, "bad character reference");
	r->i++;
	if (out != NULL && put_utf8(out, cp) != 0)
		return fail(r, ERR_TOOBIG, "value too long");
	return 0;
}

static bool
collecting(const struct reader *r)
{
	return r->active >= 0 && r->depth == r->active_depth;
}

static int
append_text(struct reader *r, const char *p, size_t n)
{
	if (!collecting(r))
		return 0;
	if (buf_append(&r->text, p, n) != 0)
		return fail(r, ERR_TOOBIG, "value too long");
	return 0;
}

static int
read_text(struct reader *r)
{
	size_t start;
	unsigned char c;

	while (r->i < r->len && r->s[r->i] != '<') {
		start = r->i;
		while (r->i < r->len && r->s[r->i] != '<' && r->s[r->i] != '&') {
			c = (unsigned char)r->s[r->i];
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return fail(r, ERR_INVALID, "control character");
			if (r->depth == 0 && !is_ws((char)c))
				return fail(r, ERR_INVALID, "text outside the root element");
			r->i++;
		}
		if (append_text(r, r->s + start, r->i - start) != 0)
			return -1;
		if (r->i < r->len && r->s[r->i] == '&') {
			if (r->depth == 0)
				return fail(r, ERR_INVALID, "text outside the root element");
			if (read_entity(r, collecting(r) ? &r->text : NULL) != 0)
				return -1;
		}
	}
	return 0;
}

static int
read_attributes(struct reader *r)
{
	const char *name;
	size_t n;
	char q;

	for (;;) {
		size_t before = r->i;

		skip_ws(r);
		if (r->i >= r->len)
			return fail(r, ERR_INVALID, "truncated tag");
		if (r->s[r->i] == '>' || r->s[r->i] == '/')
			return 0;
		if (r->i == before)
			return fail(r, ERR_INVALID, "expected white space before an attribute");
		if (read_name(r, &name, &n) != 0)
			return -1;
		skip_ws(r);
		if (r->i >= r->len || r->s[r->i] != '=')
			return fail(r, ERR_INVALID, "expected '=' after an attribute name");
		r->i++;
		skip_ws(r);
		if (r->i >= r->len || (r->s[r->i] != '"' && r->s[r->i] != '\''))
			return fail(r, ERR_INVALID, "expected a quoted attribute value");
		q = r->s[r->i++];
		while (r->i < r->len && r->s[r->i] != q) {
			if (r->s[r->i] == '<')
				return fail(r, ERR_INVALID, "'<' in an attribute value");
			if (r->s[r->i] == '&') {
				if (read_entity(r, NULL) != 0)
					return -1;
				continue;
			}
			if ((unsigned char)r->s[r->i] < 0x20 && !is_ws(r->s[r->i]))
				return fail(r, ERR_INVALID, "control character");
			r->i++;
		}
		if (r->i >= r->len)
			return fail(r, ERR_INVALID, "truncated attribute value");
		r->i++;
	}
}

static int
push(struct reader *r, const char *name, size_t n)
{
	const char *local = name, *colon;
	size_t ln = n, k;

	if (r->depth == 0 && r->root_seen)
		return fail(r, ERR_INVALID, "more than one root element");
	if (r->depth == STSXML_DEPTH_MAX)
		return fail(r, ERR_INVALID, "elements nested too deep");
	colon = memchr(name, ':', n);
	if (colon != NULL) {
		local = colon + 1;
		ln = n - (size_t)(local - name);
	}
	r->root_seen = true;
	r->name_off[r->depth] = r->names.len;
	r->path_off[r->depth] = r->path.len;
	if (buf_append(&r->names, name, n) != 0 || buf_putc(&r->names, '\0') != 0 ||
	    (r->depth > 0 && buf_putc(&r->path, '/') != 0) || buf_append(&r->path, local, ln) != 0)
		return fail(r, ERR_TOOBIG, "names too long");
	r->depth++;
	if (r->active >= 0)
		return 0; /* inside a wanted element: its children are not wanted paths */
	for (k = 0; k < r->nfields; k++) {
		if (strcmp(r->fields[k].path, buf_cstr(&r->path)) != 0)
			continue;
		if (r->values[k] != NULL)
			return fail(r, ERR_INVALID, "element appears twice");
		r->active = (long)k;
		r->active_depth = r->depth;
		buf_reset(&r->text);
		break;
	}
	return 0;
}

static int
pop(struct reader *r, const char *name, size_t n)
{
	const char *open;

	if (r->depth == 0)
		return fail(r, ERR_INVALID, "end tag without a start tag");
	open = r->names.data + r->name_off[r->depth - 1];
	if (strlen(open) != n || memcmp(open, name, n) != 0)
		return fail(r, ERR_INVALID, "end tag does not match its start tag");
	if (r->active >= 0 && r->depth == r->active_depth) {
		r->values[r->active] =
		    xstrndup(r->text.data != NULL ? r->text.data : "", r->text.len);
		r->active = -1;
	}
	r->depth--;
	r->names.len = r->name_off[r->depth];
	r->path.len = r->path_off[r->depth];
	if (r->path.data != NULL)
		r->path.data[r->path.len] = '\0';
	return 0;
}

static int
read_markup(struct reader *r)
{
	const char *name;
	size_t n;
	long end;

	if (starts(r, "<!--")) {
		r->i += 4;
		end = find(r, "-->");
		if (end < 0)
			return fail(r, ERR_INVALID, "unterminated comment");
		r->i = (size_t)end + 3;
		return 0;
	}
	if (starts(r, "<![CDATA[")) {
		if (r->depth == 0)
			return fail(r, ERR_INVALID, "CDATA outside the root element");
		r->i += 9;
		end = find(r, "]]>");
		if (end < 0)
			return fail(r, ERR_INVALID, "unterminated CDATA section");
		if (append_text(r, r->s + r->i, (size_t)end - r->i) != 0)
			return -1;
		r->i = (size_t)end + 3;
		return 0;
	}
	if (starts(r, "<!"))
		return fail(r, ERR_INVALID, "DOCTYPE and other declarations are refused");
	if (starts(r, "<?")) {
		r->i += 2;
		end = find(r, "?>");
		if (end < 0)
			return fail(r, ERR_INVALID, "unterminated processing instruction");
		r->i = (size_t)end + 2;
		return 0;
	}
	if (starts(r, "</")) {
		r->i += 2;
		if (read_name(r, &name, &n) != 0)
			return -1;
		skip_ws(r);
		if (r->i >= r->len || r->s[r->i] != '>')
			return fail(r, ERR_INVALID, "expected '>'");
		r->i++;
		return pop(r, name, n);
	}
	r->i++;
	if (read_name(r, &name, &n) != 0 || read_attributes(r) != 0)
		return -1;
	if (push(r, name, n) != 0)
		return -1;
	if (r->s[r->i] == '/') {
		r->i++;
		if (r->i >= r->len || r->s[r->i] != '>')
			return fail(r, ERR_INVALID, "expected '>' after '/'");
		r->i++;
		/* The name was just pushed, so it matches. */
		return pop(r, r->names.data + r->name_off[r->depth - 1],
		    strlen(r->names.data + r->name_off[r->depth - 1]));
	}
	r->i++;
	return 0;
}

int
stsxml_extract(
    const char *xml, size_t len, struct stsxml_field *fields, size_t nfields, struct err *err)
{
	struct reader r;
	size_t k;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.s = xml;
	r.len = len;
	r.err = err;
	r.active = -1;
	r.fields = fields;
	r.nfields = nfields;
	buf_init(&r.names, PATH_MAX_LEN);
	buf_init(&r.path, PATH_MAX_LEN);
	buf_init(&r.text, STSXML_VALUE_MAX);
	r.values = xcalloc(nfields > 0 ? nfields : 1, sizeof(*r.values));
	for (k = 0; k < nfields; k++)
		fields[k].value = NULL;
	if (len > STSXML_INPUT_MAX) {
		rc = err_set(
		    err, ERR_TOOBIG, "sts response: larger than %d bytes", STSXML_INPUT_MAX);
		goto out;
	}
	if (memchr(xml, '\0', len) != NULL) {
		rc = err_set(err, ERR_INVALID, "sts response: NUL byte");
		goto out;
	}
	if (starts(&r, "\xef\xbb\xbf"))
		r.i += 3;
	while (r.i < r.len) {
		if (r.s[r.i] == '<')
			rc = read_markup(&r);
		else
			rc = read_text(&r);
		if (rc != 0) {
			rc = err != NULL && err->code != 0 ? err->code : ERR_INVALID;
			goto out;
		}
	}
	if (!r.root_seen || r.depth != 0) {
		rc = fail(&r, ERR_INVALID, r.root_seen ? "truncated document" : "no root element");
		goto out;
	}
	for (k = 0; k < nfields; k++) {
		fields[k].value = r.values[k];
		r.values[k] = NULL;
	}
	rc = 0;
out:
	for (k = 0; k < nfields; k++)
		wipe_free(r.values[k]);
	free(r.values);
	buf_free(&r.names);
	buf_free(&r.path);
	if (r.text.data != NULL)
		explicit_bzero(r.text.data, r.text.cap);
	buf_free(&r.text);
	return rc;
}

void
stsxml_fields_free(struct stsxml_field *fields, size_t nfields)
{
	size_t k;

	for (k = 0; k < nfields; k++) {
		wipe_free(fields[k].value);
		fields[k].value = NULL;
	}
}

int
stsxml_parse_credentials(const char *xml, size_t len, const char *action,
    struct stsxml_credentials *out, struct err *err)
{
	static const char *const names[] = {
	    "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"};
	char *paths[5];
	struct stsxml_field f[5];
	size_t k;
	int rc;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < 4; k++)
		paths[k] =
		    xasprintf("%sResponse/%sResult/Credentials/%s", action, action, names[k]);
	paths[4] = xasprintf("%sResponse/ResponseMetadata/RequestId", action);
	for (k = 0; k < 5; k++)
		f[k] = (struct stsxml_field){paths[k], NULL};
	rc = stsxml_extract(xml, len, f, 5, err);
	if (rc == 0) {
		for (k = 0; k < 4; k++) {
			if (f[k].value == NULL || f[k].value[0] == '\0') {
				rc = err_set(err, ERR_INVALID,
				    "sts response: %sResult/Credentials/%s is missing", action,
				    names[k]);
				break;
			}
		}
	}
	if (rc == 0) {
		out->access_key_id = f[0].value;
		out->secret_access_key = f[1].value;
		out->session_token = f[2].value;
		out->expiration = f[3].value;
		out->request_id = f[4].value;
	} else {
		stsxml_fields_free(f, 5);
	}
	for (k = 0; k < 5; k++)
		free(paths[k]);
	return rc;
}

void
stsxml_credentials_free(struct stsxml_credentials *c)
{
	if (c == NULL)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c->expiration);
	free(c->request_id);
	memset(c, 0, sizeof(*c));
}

int
stsxml_parse_error(const char *xml, size_t len, struct stsxml_error *out, struct err *err)
{
	struct stsxml_field f[] = {
	    {"ErrorResponse/Error/Type", NULL},
	    {"ErrorResponse/Error/Code", NULL},
	    {"ErrorResponse/Error/Message", NULL},
	    {"ErrorResponse/RequestId", NULL},
	};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = stsxml_extract(xml, len, f, 4, err);
	if (rc != 0)
		return rc;
	out->type = f[0].value;
	out->code = f[1].value;
	out->message = f[2].value;
	out->request_id = f[3].value;
	return 0;
}

void
stsxml_error_free(struct stsxml_error *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->code);
	free(e->message);
	free(e->request_id);
	memset(e, 0, sizeof(*e));
}
