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
			return err_set(err, ERR_INVALID,
			    "URL \"%.200s\" has white space or a non-ASCII byte", s);
	}
	p = strstr(s, "://");
	if (p == NULL)
		return err_set(err, ERR_INVALID, "URL \"%.200s\" has no scheme", s);
	if (!((p - s == 4 && strncasecmp(s, "http", 4) == 0) ||
	        (p - s == 5 && strncasecmp(s, "https", 5) == 0)))
		return err_set(
		    err, ERR_INVALID, "URL \"%.200s\": the scheme must be http or https", s);
	https = p - s == 5;
	auth = p + 3;
	if (strchr(auth, '#') != NULL)
		return err_set(err, ERR_INVALID, "URL \"%.200s\" must not have a fragment", s);
	auth_end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
		return err_set(
		    err, ERR_INVALID, "URL \"%.200s\" must not carry user information", s);
	host = auth;
	if (*host == '[') {
		v6 = true;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (host_end == NULL)
			return err_set(
			    err, ERR_INVALID, "URL \"%.200s\": unterminated IPv6 address", s);
		tmp = xstrndup(host + 1, (size_t)(host_end - host - 1));
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			free(tmp);
			return err_set(err, ERR_INVALID, "URL \"%.200s\": bad IPv6 address", s);
		}
		free(tmp);
		host++;
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return err_set(
				    err, ERR_INVALID, "URL \"%.200s\": bad authority", s);
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
				return err_set(err, ERR_INVALID,
				    "URL \"%.200s\": bad character in the host", s);
		}
	}
	if (host_end == host)
		return err_set(err, ERR_INVALID, "URL \"%.200s\" has no host", s);
	port = port_s != NULL ? parse_port(port_s, auth_end) : (https ? 443 : 80);
	if (port < 0)
		return err_set(err, ERR_INVALID, "URL \"%.200s\": bad port", s);
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
