/*
 * common/url: the one URL parser. What a client connects to (scheme, host, port), what the
 * Host header and SigV4 carry (authority: default ports dropped, IPv6 bracketed, lower
 * case), the raw path and query exactly as they go on the wire, and every refusal: other
 * schemes, user information, fragments, bad hosts and ports, white space, non-ASCII bytes,
 * over-long input, NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/url.h"
#include "common/xmalloc.h"

static void
ok(const char *s, const char *scheme, const char *host, int port, const char *authority,
    const char *path, const char *query)
{
	struct url u;
	struct err err = ERR_INIT;

	if (url_parse(&u, s, &err) != 0)
		fail_msg("%s: %s", s, err.message);
	assert_string_equal(u.scheme, scheme);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.authority, authority);
	assert_string_equal(u.path, path);
	if (query == NULL)
		assert_null(u.query);
	else
		assert_string_equal(u.query, query);
	url_clear(&u);
	assert_null(u.scheme);
	assert_null(u.path);
}

/* Refused with ERR_INVALID, a message that names the URL, and nothing allocated. */
static void
bad(const char *s, const char *message_part)
{
	struct url u;
	struct err err = ERR_INIT;

	if (url_parse(&u, s, &err) == 0)
		fail_msg("accepted %s", s);
	assert_int_equal(err.code, ERR_INVALID);
	assert_int_equal(strncmp(err.message, "URL", 3), 0);
	if (strstr(err.message, message_part) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", s != NULL ? s : "NULL", err.message,
		    message_part);
	assert_null(u.scheme);
	assert_null(u.host);
	assert_null(u.authority);
	assert_null(u.path);
	assert_null(u.query);
}

static void
test_url__parts(void **state)
{
	(void)state;
	ok("https://lambda.us-east-1.amazonaws.com", "https", "lambda.us-east-1.amazonaws.com", 443,
	    "lambda.us-east-1.amazonaws.com", "", NULL);
	ok("HTTPS://LAMBDA.Example.COM:8443/A/b", "https", "lambda.example.com", 8443,
	    "lambda.example.com:8443", "/A/b", NULL);
	ok("http://127.0.0.1:9001/", "http", "127.0.0.1", 9001, "127.0.0.1:9001", "/", NULL);
	/* Default ports leave the authority; the other scheme's default does not. */
	ok("http://localhost:80", "http", "localhost", 80, "localhost", "", NULL);
	ok("https://h:443/x", "https", "h", 443, "h", "/x", NULL);
	ok("https://h:80", "https", "h", 80, "h:80", "", NULL);
	ok("http://h:443", "http", "h", 443, "h:443", "", NULL);
	ok("http://h:08080", "http", "h", 8080, "h:8080", "", NULL);
	/* IPv6: the host without brackets, the authority with them. */
	ok("http://[::1]:9001/p", "http", "::1", 9001, "[::1]:9001", "/p", NULL);
	ok("http://[FD00:EC2::254]", "http", "fd00:ec2::254", 80, "[fd00:ec2::254]", "", NULL);
	ok("https://[::1]:443", "https", "::1", 443, "[::1]", "", NULL);
	/* Path and query stay exactly as on the wire: encodings, case, slashes, order. */
	ok("https://h/2015-03-31/functions/arn%3Aaws%3Alambda/x//y/?Qualifier=%24LATEST&b=1&a=",
	    "https", "h", 443, "h", "/2015-03-31/functions/arn%3Aaws%3Alambda/x//y/",
	    "Qualifier=%24LATEST&b=1&a=");
	ok("http://h?q=1", "http", "h", 80, "h", "", "q=1");
	ok("http://h/p?", "http", "h", 80, "h", "/p", "");
	ok("http://h/a?b?c=/d", "http", "h", 80, "h", "/a", "b?c=/d");
	ok("http://under_score-x.example/", "http", "under_score-x.example", 80,
	    "under_score-x.example", "/", NULL);
}

static void
test_url__refusals(void **state)
{
	char *long_url;

	(void)state;
	bad(NULL, "missing");
	bad("", "empty");
	bad("lambda.us-east-1.amazonaws.com", "no scheme");
	bad("ftp://h/", "scheme must be http or https");
	bad("httpx://h/", "scheme must be http or https");
	bad("ws://h/", "scheme must be http or https");
	bad("https://", "no host");
	bad("https:///path", "no host");
	bad("https://:8080/", "no host");
	bad("https://user:pw@h/", "user information");
	bad("https://user@h", "user information");
	bad("https://h/#frag", "fragment");
	bad("https://h/p?q=1#frag", "fragment");
	bad("https://h#", "fragment");
	bad("https://h /", "white space");
	bad("https://h/\n", "white space");
	bad("https://h/\t", "white space");
	bad("https://h/\x7f", "non-ASCII");
	bad("https://h\xc3\xa9/", "non-ASCII");
	bad("https://h:0/", "bad port");
	bad("https://h:65536/", "bad port");
	bad("https://h:/", "bad port");
	bad("https://h:8x/", "bad port");
	bad("https://h:123456/", "bad port");
	bad("https://h:-1/", "bad port");
	bad("https://[::1/", "unterminated IPv6");
	bad("https://[zz::1]/", "bad IPv6");
	bad("https://[]/", "bad IPv6");
	bad("https://[::1]x/", "bad authority");
	bad("https://[::1]:/", "bad port");
	bad("https://h!x/", "bad character in the host");
	bad("https://h%41/", "bad character in the host");
	long_url = xcalloc(1, URL_MAX + 16);
	memcpy(long_url, "https://h/", 10);
	memset(long_url + 10, 'a', URL_MAX - 10);
	ok(long_url, "https", "h", 443, "h", long_url + 9, NULL);
	long_url[URL_MAX] = 'a';
	bad(long_url, "longer than");
	free(long_url);
}

/*
 * User information is refused because it carries credentials: a message about the URL, which
 * ends up on stderr and in logs, must not repeat them, whatever else is wrong with it.
 */
static void
test_url__messages_hide_user_information(void **state)
{
	static const char *const urls[] = {
	    "https://AKIDEXAMPLE:s3cr3tPassw0rd@h/",
	    "https://s3cr3tPassw0rd@h",
	    "https://user:s3cr3tPassw0rd@h:99999/",
	    "https://user:s3cr3t Passw0rd@h/",
	    "https://user:s3cr3tPassw0rd@h/#frag",
	    "https://user:s3cr3tPassw0rd@[zz::1]/",
	    "https://a@b:s3cr3tPassw0rd@h/",
	    "ftp://user:s3cr3tPassw0rd@h/",
	};
	struct url u;
	struct err err = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		err_clear(&err);
		assert_int_equal(url_parse(&u, urls[i], &err), ERR_INVALID);
		assert_int_equal(strncmp(err.message, "URL", 3), 0);
		if (strstr(err.message, "s3cr3t") != NULL)
			fail_msg("%s: the message repeats the password: %s", urls[i], err.message);
		/* The rest still says which URL it was. */
		assert_non_null(strstr(err.message, "h"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url__parts),
	    cmocka_unit_test(test_url__refusals),
	    cmocka_unit_test(test_url__messages_hide_user_information),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
