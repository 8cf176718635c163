#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/url.h"
#include "common/xmalloc.h"

static char *
lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

static bool
host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* The port's digits between p and end: 1-65535, at most five digits. -1 when malformed. */
static long
parse_port(const char *p, const char *end)
{
	long port = 0;

	if (p == end || end - p > 5)
		return -1;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535 ? port : -1;
}

/*
 * The URL as messages show it: user information carries credentials, so everything before
 * the authority's last '@' is replaced, even in a URL refused for some other reason.
 */
static char *
shown(const char *s)
{
	const char *auth, *end, *at = NULL, *p;

	auth = strstr(s, "://");
	auth = auth != NULL ? auth + 3 : s;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at == NULL)
		return xstrdup(s);
	return xasprintf("%.*s***%s", (int)(auth - s), s, at);
}

/* Refuse s: "URL \"<s as shown>\"<what>". */
static int
refuse(struct err *err, const char *s, const char *what)
{
	char *v = shown(s);

	err_set(err, ERR_INVALID, "URL \"%.200s\"%s", v, what);
	free(v);
	return ERR_INVALID;
}

void
url_clear(struct url *u)
{
	if (u == NULL)
		return;
	free(u->scheme);
	free(u->host);
	free(u->authority);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

int
url_parse(struct url *out, const char *s, struct err *err)
{
	const char *p, *auth, *auth_end, *host, *host_end, *port_s = NULL, *q;
	struct in6_addr a6;
	size_t n, i;
	long port;
	bool v6 = false, https;
	char *tmp;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return err_set(err, ERR_INVALID, "URL is missing");
	n = strlen(s);
	if (n == 0)
		return err_set(err, ERR_INVALID, "URL is empty");
	if (n > URL_MAX)
		return err_set(err, ERR_INVALID, "URL is longer than %d bytes", URL_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return refuse(err, s, " has white space or a non-ASCII byte");
	}
	p = strstr(s, "://");
	if (p == NULL)
		return refuse(err, s, " has no scheme");
	if (!((p - s == 4 && strncasecmp(s, "http", 4) == 0) ||
	        (p - s == 5 && strncasecmp(s, "https", 5) == 0)))
		return refuse(err, s, ": the scheme must be http or https");
	https = p - s == 5;
	auth = p + 3;
	if (strchr(auth, '#') != NULL)
		return refuse(err, s, " must not have a fragment");
	auth_end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
		return refuse(err, s, " must not carry user information");
	host = auth;
	if (*host == '[') {
		v6 = true;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (host_end == NULL)
			return refuse(err, s, ": unterminated IPv6 address");
		tmp = xstrndup(host + 1, (size_t)(host_end - host - 1));
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			free(tmp);
			return refuse(err, s, ": bad IPv6 address");
		}
		free(tmp);
		host++;
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return refuse(err, s, ": bad authority");
			port_s = host_end + 2;
		}
	} else {
		host_end = memchr(host, ':', (size_t)(auth_end - host));
		if (host_end != NULL)
			port_s = host_end + 1;
		else
			host_end = auth_end;
		for (p = host; p < host_end; p++) {
			if (!host_char(*p))
				return refuse(err, s, ": bad character in the host");
		}
	}
	if (host_end == host)
		return refuse(err, s, " has no host");
	port = port_s != NULL ? parse_port(port_s, auth_end) : (https ? 443 : 80);
	if (port < 0)
		return refuse(err, s, ": bad port");
	out->scheme = xstrdup(https ? "https" : "http");
	out->host = lower_dup(host, (size_t)(host_end - host));
	out->port = (int)port;
	if (port == (https ? 443 : 80))
		out->authority = xasprintf(v6 ? "[%s]" : "%s", out->host);
	else
		out->authority = xasprintf(v6 ? "[%s]:%ld" : "%s:%ld", out->host, port);
	q = strchr(auth_end, '?');
	if (q != NULL) {
		out->path = xstrndup(auth_end, (size_t)(q - auth_end));
		out->query = xstrdup(q + 1);
	} else {
		out->path = xstrdup(auth_end);
	}
	return 0;
}
