#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/profile.h"
#include "common/buf.h"
#include "common/fdio.h"
#include "common/utf8.h"
#include "common/xmalloc.h"

/* A continued value can never be longer than the file that holds it. */
#define VALUE_MAX PROFILE_FILE_MAX

struct profile_kv {
	char *key;
	char *value;
};

struct profile_entry {
	char *key;
	struct buf value; /* the lines joined with '\n' */
	int line;
	struct profile_kv *nested; /* set when the value starts on the next line */
	size_t nnested;
	bool is_nested;
};

struct profile_section {
	char *name;
	int line;
	struct profile_entry *entries;
	size_t nentries;
	const struct profile_section *defaults; /* [DEFAULT] of the same file, or NULL */
};

struct profile_file {
	char *path;
	bool exists;
	struct profile_section **sections;
	size_t nsections;
	struct profile_section *defaults; /* [DEFAULT], NULL when the file has none */
};

struct profile_files {
	struct profile_file *config;
	struct profile_file *credentials;
};

/* What Python's str.strip() and \s remove in an ASCII file. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static void
strip(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

static void
section_free(struct profile_section *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nentries; i++) {
		free(s->entries[i].key);
		buf_free(&s->entries[i].value);
		for (j = 0; j < s->entries[i].nnested; j++) {
			free(s->entries[i].nested[j].key);
			free(s->entries[i].nested[j].value);
		}
		free(s->entries[i].nested);
	}
	free(s->entries);
	free(s->name);
	free(s);
}

void
profile_file_free(struct profile_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nsections; i++)
		section_free(f->sections[i]);
	free(f->sections);
	section_free(f->defaults);
	free(f->path);
	free(f);
}

static struct profile_file *
file_new(const char *path)
{
	struct profile_file *f;

	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path != NULL ? path : "");
	return f;
}

static struct profile_section *
section_new(const char *name, size_t n, int line)
{
	struct profile_section *s;

	s = xcalloc(1, sizeof(*s));
	s->name = xstrndup(name, n);
	s->line = line;
	return s;
}

static struct profile_entry *
section_find(const struct profile_section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nentries; i++) {
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	}
	return NULL;
}

static struct profile_section *
file_find(const struct profile_file *f, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < f->nsections; i++) {
		if (strlen(f->sections[i]->name) == n && memcmp(f->sections[i]->name, name, n) == 0)
			return f->sections[i];
	}
	return NULL;
}

/* Reject bytes that are not UTF-8 (Python refuses to decode them) and NULs. */
static int
check_utf8(const char *path, const char *text, size_t len, struct err *err)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, k;
	int line = 1;

	while (i < len) {
		if (p[i] == '\n')
			line++;
		if (p[i] == 0)
			return err_set(err, ERR_INVALID, "%s:%d: NUL byte", path, line);
		if ((k = utf8_len(p + i, len - i)) == 0)
			return err_set(err, ERR_INVALID, "%s:%d: invalid UTF-8", path, line);
		i += k;
	}
	return 0;
}

/* botocore's _parse_nested: every non-blank line of the block is "key = value". */
static int
parse_nested(const char *path, struct profile_entry *e, struct err *err)
{
	const char *p = e->value.data, *end = e->value.data + e->value.len, *nl, *line, *eq;
	const char *k, *v;
	size_t n, kn, vn, i;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line = p;
		n = (size_t)(nl - p);
		p = nl < end ? nl + 1 : end;
		strip(&line, &n);
		if (n == 0)
			continue;
		eq = memchr(line, '=', n);
		if (eq == NULL)
			return err_set(err, ERR_INVALID,
			    "%s:%d: the nested value of \"%s\" has a line without '='", path,
			    e->line, e->key);
		k = line;
		kn = (size_t)(eq - line);
		v = eq + 1;
		vn = n - kn - 1;
		strip(&k, &kn);
		strip(&v, &vn);
		/* A key given twice keeps the last value, as a Python dict does. */
		for (i = 0; i < e->nnested; i++) {
			if (strlen(e->nested[i].key) == kn && memcmp(e->nested[i].key, k, kn) == 0)
				break;
		}
		if (i == e->nnested) {
			e->nested = xreallocarray(e->nested, e->nnested + 1, sizeof(*e->nested));
			e->nested[i].key = xstrndup(k, kn);
			e->nested[i].value = NULL;
			e->nnested++;
		}
		free(e->nested[i].value);
		e->nested[i].value = xstrndup(v, vn);
	}
	e->is_nested = true;
	return 0;
}

/* Whether some section inherits a [DEFAULT] key (does not set it itself). */
static bool
inherited(const struct profile_file *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->nsections; i++) {
		if (section_find(f->sections[i], key) == NULL)
			return true;
	}
	return false;
}

/*
 * Join the continuation lines as configparser does (trailing blank lines go away) and
 * parse nested blocks. botocore only reads [DEFAULT] through the sections that inherit
 * from it, so a [DEFAULT] block nobody inherits is never checked.
 */
static int
finish_values(struct profile_file *f, struct err *err)
{
	struct profile_section *s;
	struct profile_entry *e;
	size_t i, j;

	for (i = 0; i <= f->nsections; i++) {
		s = i < f->nsections ? f->sections[i] : f->defaults;
		if (s == NULL)
			continue;
		for (j = 0; j < s->nentries; j++) {
			e = &s->entries[j];
			while (e->value.len > 0 && (is_space(e->value.data[e->value.len - 1]) ||
			                               e->value.data[e->value.len - 1] == '\n')) {
				e->value.len--;
				e->value.data[e->value.len] = '\0';
			}
			if (e->value.len == 0 || e->value.data[0] != '\n')
				continue;
			if (s == f->defaults && !inherited(f, e->key))
				continue;
			if (parse_nested(f->path, e, err) != 0)
				return -1;
		}
	}
	return 0;
}

struct parser {
	struct profile_file *f;
	struct profile_section *cur; /* NULL before the first header */
	struct profile_entry *opt;   /* the option that continuation lines extend */
	size_t indent_level;
	int line;
	int nerrors;
	struct err first;
};

static void
parse_error(struct parser *ps, const char *what)
{
	if (ps->nerrors++ == 0)
		err_set(&ps->first, ERR_INVALID, "%s:%d: %s", ps->f->path, ps->line, what);
}

static void
parse_header(struct parser *ps, const char *name, size_t n)
{
	struct profile_section *s;

	ps->opt = NULL;
	if (n == 7 && memcmp(name, "DEFAULT", 7) == 0) {
		if (ps->f->defaults == NULL)
			ps->f->defaults = section_new(name, n, ps->line);
		ps->cur = ps->f->defaults;
		return;
	}
	if (file_find(ps->f, name, n) != NULL) {
		parse_error(ps, "section appears twice in this file");
		/*
		 * Keep going, to report later errors, into a section no header can name (the
		 * file is rejected anyway).
		 */
		name = "\n";
		n = 1;
	}
	s = section_new(name, n, ps->line);
	ps->f->sections =
	    xreallocarray(ps->f->sections, ps->f->nsections + 1, sizeof(*ps->f->sections));
	ps->f->sections[ps->f->nsections++] = s;
	ps->cur = s;
}

static void
parse_option(struct parser *ps, const char *v, size_t n)
{
	struct profile_section *s = ps->cur;
	struct profile_entry *e;
	const char *key, *val;
	size_t i, kn, vn;
	char *lower;

	for (i = 0; i < n && v[i] != '=' && v[i] != ':'; i++)
		;
	if (i == n) {
		parse_error(ps, "expected \"key = value\" or a [section] header");
		ps->opt = NULL;
		return;
	}
	key = v;
	kn = i;
	val = v + i + 1;
	vn = n - i - 1;
	strip(&key, &kn);
	strip(&val, &vn);
	if (kn == 0) {
		parse_error(ps, "a key is missing before the '=' or ':'");
		ps->opt = NULL;
		return;
	}
	lower = xstrndup(key, kn);
	for (i = 0; i < kn; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	if (section_find(s, lower) != NULL) {
		parse_error(ps, "key appears twice in this section");
		free(lower);
		ps->opt = NULL;
		return;
	}
	s->entries = xreallocarray(s->entries, s->nentries + 1, sizeof(*s->entries));
	e = &s->entries[s->nentries++];
	memset(e, 0, sizeof(*e));
	e->key = lower;
	e->line = ps->line;
	buf_init(&e->value, VALUE_MAX);
	/* The value is a copy of part of the file, which is within VALUE_MAX. */
	(void)buf_append(&e->value, val, vn);
	ps->opt = e;
}

static void
parse_line(struct parser *ps, const char *line, size_t n)
{
	const char *v = line;
	size_t vn = n, indent, close;

	strip(&v, &vn);
	if (vn > 0 && (v[0] == '#' || v[0] == ';'))
		return; /* a whole-line comment ends nothing and adds nothing */
	if (vn == 0) {
		/* A blank line belongs to the value being continued, if any. */
		if (ps->opt != NULL)
			(void)buf_putc(&ps->opt->value, '\n');
		return;
	}
	indent = (size_t)(v - line);
	if (ps->cur != NULL && ps->opt != NULL && indent > ps->indent_level) {
		(void)buf_putc(&ps->opt->value, '\n');
		(void)buf_append(&ps->opt->value, v, vn);
		return;
	}
	ps->indent_level = indent;
	if (v[0] == '[') {
		/* "\[(?P<header>.+)\]" with match(): the last ']' closes a non-empty name. */
		for (close = vn; close > 1 && v[close - 1] != ']'; close--)
			;
		if (close > 2) {
			parse_header(ps, v + 1, close - 2);
			return;
		}
	}
	if (ps->cur == NULL) {
		parse_error(ps, "the file must start with a [section] header");
		return;
	}
	parse_option(ps, v, vn);
}

int
profile_file_parse(
    struct profile_file **out, const char *path, const char *text, size_t len, struct err *err)
{
	struct parser ps;
	const char *p, *end, *eol;
	int rc = -1;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.f = file_new(path);
	ps.f->exists = true;
	err_clear(&ps.first);
	if (len > PROFILE_FILE_MAX) {
		rc = err_set(
		    err, ERR_TOOBIG, "%s: larger than %d bytes", ps.f->path, PROFILE_FILE_MAX);
		goto out;
	}
	rc = check_utf8(ps.f->path, text, len, err);
	if (rc != 0)
		goto out;
	rc = -1;
	p = text;
	end = text + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a byte-order mark is not part of the first line */
	while (p < end) {
		for (eol = p; eol < end && *eol != '\n' && *eol != '\r'; eol++)
			;
		ps.line++;
		parse_line(&ps, p, (size_t)(eol - p));
		/* Universal newlines: "\n", "\r\n" and a lone "\r" all end a line. */
		if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n')
			eol++;
		p = eol < end ? eol + 1 : end;
		if (ps.nerrors > 0 && ps.cur == NULL)
			break; /* configparser stops at a missing header */
	}
	if (ps.nerrors > 0) {
		err_copy(err, &ps.first);
		if (ps.nerrors > 1 && err != NULL) {
			char more[64];
			size_t used = strlen(err->message);

			snprintf(more, sizeof(more), " (and %d more errors)", ps.nerrors - 1);
			if (used + strlen(more) < sizeof(err->message))
				memcpy(err->message + used, more, strlen(more) + 1);
		}
		rc = ERR_INVALID;
		goto out;
	}
	if (finish_values(ps.f, err) != 0) {
		rc = ERR_INVALID;
		goto out;
	}
	for (size_t i = 0; i < ps.f->nsections; i++)
		ps.f->sections[i]->defaults = ps.f->defaults;
	*out = ps.f;
	ps.f = NULL;
	rc = 0;
out:
	profile_file_free(ps.f);
	return rc;
}

int
profile_file_read(struct profile_file **out, const char *path, struct err *err)
{
	struct buf text = BUF_INIT(PROFILE_FILE_MAX);
	struct stat st;
	int fd = -1, rc = -1;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		*out = file_new(path);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*out = file_new(path);
			return 0;
		}
		return err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		/* botocore only reads regular files; anything else counts as absent. */
		*out = file_new(path);
		rc = 0;
		goto out;
	}
	rc = fdio_read_all(fd, &text);
	if (rc == ERR_TOOBIG) {
		rc = err_set(err, ERR_TOOBIG, "%s: larger than %d bytes", path, PROFILE_FILE_MAX);
		goto out;
	}
	if (rc != 0) {
		rc = err_set(err, ERR_FAIL, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = profile_file_parse(out, path, text.data != NULL ? text.data : "", text.len, err);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&text);
	return rc;
}

bool
profile_file_exists(const struct profile_file *f)
{
	return f != NULL && f->exists;
}

const char *
profile_file_path(const struct profile_file *f)
{
	return f->path;
}

const struct profile_section *
profile_file_section(const struct profile_file *f, const char *name)
{
	if (f == NULL)
		return NULL;
	return file_find(f, name, strlen(name));
}

/*
 * Python's shlex.split() for a section header, enough for "profile name", "profile 'a b'"
 * and "profile \"a b\"": returns the number of words (up to 3 are reported), or -1 for an
 * unbalanced quote. Words are allocated into words[].
 */
static int
split_words(const char *s, char *words[3])
{
	struct buf w = BUF_INIT(PROFILE_FILE_MAX);
	int nw = 0, rc = -1;
	bool in_word = false;
	char q;

	while (*s != '\0') {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' ||
		    *s == '\f') {
			if (in_word) {
				if (nw < 3)
					words[nw] = buf_detach(&w, NULL);
				buf_reset(&w);
				nw++;
				in_word = false;
			}
			s++;
			continue;
		}
		in_word = true;
		if (*s == '\'' || *s == '"') {
			q = *s++;
			while (*s != '\0' && *s != q) {
				if (q == '"' && *s == '\\' &&
				    (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`'))
					s++;
				(void)buf_putc(&w, *s++);
			}
			if (*s == '\0')
				goto out;
			s++;
			if (w.data == NULL)
				(void)buf_puts(&w, ""); /* '' is an empty word */
			continue;
		}
		if (*s == '\\') {
			s++;
			if (*s == '\0')
				goto out;
		}
		(void)buf_putc(&w, *s++);
	}
	if (in_word) {
		if (nw < 3)
			words[nw] = buf_detach(&w, NULL);
		nw++;
	}
	rc = nw;
out:
	buf_free(&w);
	if (rc < 0) {
		for (nw = 0; nw < 3; nw++) {
			free(words[nw]);
			words[nw] = NULL;
		}
	}
	return rc;
}

/* Whether a section header is "<kind> <name>" as build_profile_map() reads it. */
static bool
header_names(const char *header, const char *kind, const char *name)
{
	char *words[3] = {NULL, NULL, NULL};
	bool match = false;
	int n, i;

	if (strncmp(header, kind, strlen(kind)) != 0)
		return false;
	n = split_words(header, words);
	if (n == 2 && strcmp(words[1], name) == 0)
		match = true;
	for (i = 0; i < 3; i++)
		free(words[i]);
	return match;
}

const struct profile_section *
profile_file_profile(const struct profile_file *f, const char *name, bool config)
{
	const struct profile_section *found = NULL;
	size_t i;

	if (f == NULL)
		return NULL;
	if (!config)
		return profile_file_section(f, name);
	for (i = 0; i < f->nsections; i++) {
		if (strcmp(name, "default") == 0 && strcmp(f->sections[i]->name, "default") == 0)
			found = f->sections[i];
		else if (header_names(f->sections[i]->name, "profile", name))
			found = f->sections[i];
	}
	return found;
}

const struct profile_section *
profile_file_named(const struct profile_file *f, const char *kind, const char *name)
{
	const struct profile_section *found = NULL;
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < f->nsections; i++) {
		if (header_names(f->sections[i]->name, kind, name))
			found = f->sections[i];
	}
	return found;
}

static const struct profile_entry *
entry_get(const struct profile_section *s, const char *key)
{
	const struct profile_entry *e;

	if (s == NULL)
		return NULL;
	e = section_find(s, key);
	if (e == NULL && s->defaults != NULL)
		e = section_find(s->defaults, key);
	return e;
}

const char *
profile_section_get(const struct profile_section *s, const char *key)
{
	const struct profile_entry *e = entry_get(s, key);

	if (e == NULL || e->is_nested)
		return NULL;
	return buf_cstr(&e->value);
}

const char *
profile_section_get_nested(const struct profile_section *s, const char *key, const char *subkey)
{
	const struct profile_entry *e = entry_get(s, key);
	size_t i;

	if (e == NULL || !e->is_nested)
		return NULL;
	for (i = 0; i < e->nnested; i++) {
		if (strcmp(e->nested[i].key, subkey) == 0)
			return e->nested[i].value;
	}
	return NULL;
}

int
profile_section_line(const struct profile_section *s)
{
	return s->line;
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *
profile_name_select(const char *explicit_name)
{
	const char *v;

	if (explicit_name != NULL && *explicit_name != '\0')
		return explicit_name;
	v = env_nonempty("AWS_PROFILE");
	if (v == NULL)
		v = env_nonempty("AWS_DEFAULT_PROFILE");
	return v != NULL ? v : "default";
}

static bool
is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Append the value of the variable named by n bytes of name, or raw when it is unset. */
static void
put_var(struct buf *b, const char *name, size_t n, const char *raw, size_t rawlen)
{
	char *var = xstrndup(name, n);
	const char *val = getenv(var);

	free(var);
	if (val != NULL)
		(void)buf_puts(b, val);
	else
		(void)buf_append(b, raw, rawlen);
}

char *
profile_expand_path(const char *path)
{
	struct buf b = BUF_INIT(64 * 1024);
	const char *p = path, *name, *home;
	char *expanded, *result;
	size_t n;

	while (*p != '\0') {
		if (*p == '$' && p[1] == '{' && strchr(p + 2, '}') != NULL) {
			name = p + 2;
			n = (size_t)(strchr(name, '}') - name);
			put_var(&b, name, n, p, n + 3);
			p = name + n + 1;
			continue;
		}
		if (*p == '$' && is_word(p[1])) {
			name = p + 1;
			for (n = 0; is_word(name[n]); n++)
				;
			put_var(&b, name, n, p, n + 1);
			p = name + n;
			continue;
		}
		(void)buf_putc(&b, *p++);
	}
	expanded = buf_detach(&b, NULL);
	home = getenv("HOME");
	if (expanded[0] == '~' && (expanded[1] == '\0' || expanded[1] == '/') && home != NULL) {
		result = xasprintf("%s%s", home, expanded + 1);
		free(expanded);
		return result;
	}
	return expanded;
}

int
profile_files_open(struct profile_files **out, const char *config_path,
    const char *credentials_path, struct err *err)
{
	struct profile_files *pf;
	int rc;

	*out = NULL;
	pf = xcalloc(1, sizeof(*pf));
	rc = profile_file_read(&pf->config, config_path, err);
	if (rc == 0)
		rc = profile_file_read(&pf->credentials, credentials_path, err);
	if (rc != 0) {
		profile_files_free(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

int
profile_files_load(struct profile_files **out, struct err *err)
{
	const char *config, *creds;
	char *cpath, *kpath;
	int rc;

	config = env_nonempty("AWS_CONFIG_FILE");
	creds = env_nonempty("AWS_SHARED_CREDENTIALS_FILE");
	cpath = profile_expand_path(config != NULL ? config : "~/.aws/config");
	kpath = profile_expand_path(creds != NULL ? creds : "~/.aws/credentials");
	rc = profile_files_open(out, cpath, kpath, err);
	free(cpath);
	free(kpath);
	return rc;
}

void
profile_files_free(struct profile_files *pf)
{
	if (pf == NULL)
		return;
	profile_file_free(pf->config);
	profile_file_free(pf->credentials);
	free(pf);
}

const struct profile_file *
profile_files_config(const struct profile_files *pf)
{
	return pf->config;
}

const struct profile_file *
profile_files_credentials(const struct profile_files *pf)
{
	return pf->credentials;
}

bool
profile_files_has(const struct profile_files *pf, const char *profile)
{
	return profile_file_profile(pf->config, profile, true) != NULL ||
	       profile_file_profile(pf->credentials, profile, false) != NULL;
}

/* Whether a section (or its [DEFAULT]) has the key, nested or not. */
static bool
section_has(const struct profile_section *s, const char *key)
{
	return entry_get(s, key) != NULL;
}

const char *
profile_files_get(const struct profile_files *pf, const char *profile, const char *key)
{
	const struct profile_section *s;

	s = profile_file_profile(pf->credentials, profile, false);
	if (section_has(s, key))
		return profile_section_get(s, key);
	s = profile_file_profile(pf->config, profile, true);
	return profile_section_get(s, key);
}

const char *
profile_files_service_get(
    const struct profile_files *pf, const char *profile, const char *service, const char *key)
{
	const struct profile_section *s;
	const char *services;

	services = profile_files_get(pf, profile, "services");
	if (services == NULL)
		return NULL;
	s = profile_file_named(pf->config, "services", services);
	return profile_section_get_nested(s, service, key);
}

int
profile_files_check(
    const struct profile_files *pf, const char *profile, bool named, struct err *err)
{
	if (!named || profile_files_has(pf, profile))
		return 0;
	return err_set(err, ERR_INVALID, "profile \"%s\" not found in %s or %s", profile,
	    pf->config->path, pf->credentials->path);
}
