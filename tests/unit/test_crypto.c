#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/crypto.h"
#include "common/timeutil.h"
#include "common/uri.h"

static void
test_crypto__sha256_and_hmac(void **state)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	unsigned char mac[CRYPTO_SHA256_LEN];

	(void)state;
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(
	    hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2. */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	crypto_hex(mac, sizeof(mac), hex);
	assert_string_equal(
	    hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
test_crypto__base64_round_trip(void **state)
{
	static const char *const vec[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="},
	    {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
	unsigned char *dec;
	size_t i, n;
	char *enc;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		enc = crypto_base64_encode(vec[i][0], strlen(vec[i][0]));
		assert_string_equal(enc, vec[i][1]);
		free(enc);
		assert_int_equal(crypto_base64_decode(vec[i][1], strlen(vec[i][1]), &dec, &n), 0);
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(dec, vec[i][0], n);
		free(dec);
	}
}

static void
test_crypto__base64_rejects_malformed(void **state)
{
	static const char *const bad[] = {"Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
	    "Z=g=", "=Zm9", "Zm9v====", "Zm-v"};
	unsigned char *dec;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(crypto_base64_decode(bad[i], strlen(bad[i]), &dec, &n), -1);
		assert_null(dec);
	}
}

static void
test_crypto__constant_time_compare_and_uuid(void **state)
{
	char u1[37], u2[37];

	(void)state;
	assert_true(crypto_streq("secret", "secret"));
	assert_false(crypto_streq("secret", "secreT"));
	assert_false(crypto_streq("secret", "secret2"));
	assert_false(crypto_streq("", "x"));
	crypto_uuid(u1);
	crypto_uuid(u2);
	assert_int_equal(strlen(u1), 36);
	assert_int_equal(u1[14], '4');
	assert_true(strchr("89ab", u1[19]) != NULL);
	assert_string_not_equal(u1, u2);
}

static void
test_crypto__uuid_format(void **state)
{
	static const unsigned char zero[16],
	    ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff, 0xff, 0xff};
	unsigned char b[16], copy[16];
	char u[37];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(0x10 * i + i); /* 00 11 22 ... ff */
	memcpy(copy, b, sizeof(b));
	memset(u, 'x', sizeof(u));
	crypto_uuid_format(b, u);
	/* The version nibble becomes 4 and the variant bits 10; the bytes are not changed. */
	assert_string_equal(u, "00112233-4455-4677-8899-aabbccddeeff");
	assert_memory_equal(b, copy, sizeof(b));
	crypto_uuid_format(zero, u);
	assert_string_equal(u, "00000000-0000-4000-8000-000000000000");
	crypto_uuid_format(ones, u);
	assert_string_equal(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

static void
test_crypto__uri_encode_decode(void **state)
{
	struct buf b = BUF_INIT(1024);
	char *dec;
	size_t n;

	(void)state;
	assert_int_equal(uri_encode(&b, "my-fn:$LATEST", 13, false), 0);
	assert_string_equal(buf_cstr(&b), "my-fn%3A%24LATEST");
	buf_reset(&b);
	assert_int_equal(uri_encode(&b, "a b/c~d+\xc3\xa9", 10, true), 0);
	assert_string_equal(buf_cstr(&b), "a%20b/c~d%2B%C3%A9");
	assert_int_equal(uri_decode("a%20b%2Fc+%c3%A9", 16, &dec, &n), 0);
	assert_string_equal(dec, "a b/c+\xc3\xa9");
	assert_int_equal(n, 8);
	free(dec);
	assert_int_equal(uri_decode("%", 1, &dec, &n), -1);
	assert_int_equal(uri_decode("%4", 2, &dec, &n), -1);
	assert_int_equal(uri_decode("%zz", 3, &dec, &n), -1);
	assert_int_equal(uri_decode("a%00b", 5, &dec, &n), -1);
	buf_free(&b);
}

/* Walk query with uri_query_next, writing "key=value;" per parameter and "!;" per bad one. */
static void
check_query(const char *query, const char *want)
{
	struct buf out = BUF_INIT(1024);
	struct uri_query it;
	char *k, *v;
	int rc;

	uri_query_init(&it, query);
	for (;;) {
		rc = uri_query_next(&it, &k, &v);
		if (rc == 0)
			break;
		if (rc < 0) {
			assert_null(k);
			assert_null(v);
			assert_int_equal(buf_puts(&out, "!;"), 0);
			continue;
		}
		assert_int_equal(buf_printf(&out, "%s=%s;", k, v), 0);
		free(k);
		free(v);
	}
	/* The end stays the end. */
	assert_int_equal(uri_query_next(&it, &k, &v), 0);
	assert_null(k);
	assert_null(v);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void
test_crypto__uri_query(void **state)
{
	(void)state;
	check_query(NULL, "");
	check_query("", "");
	check_query("&&", "");
	check_query("a=1", "a=1;");
	check_query("a=1&b=2&a=3", "a=1;b=2;a=3;");
	check_query("&a=1&&b=&c&", "a=1;b=;c=;");
	check_query("=v&k=", "=v;k=;");
	check_query("x=a=b", "x=a=b;");
	check_query("Marker=a%2Fb%3D%26c&n=a+b%20c", "Marker=a/b=&c;n=a+b c;");
	/* A malformed key or value is reported and consumed; the next parameter still reads. */
	check_query("a=%zz&b=2&%4=x&c=%00&d=%C3%A9", "!;b=2;!;!;d=\xc3\xa9;");
}

static void
test_crypto__timestamps(void **state)
{
	char s[40];
	time_t t;

	(void)state;
	assert_int_equal(timeutil_parse_amzdate("20150830T123600Z", &t), 0);
	assert_int_equal(t, 1440938160);
	timeutil_amzdate(t, s);
	assert_string_equal(s, "20150830T123600Z");
	assert_int_equal(timeutil_parse_amzdate("20150830T123600", &t), -1);
	assert_int_equal(timeutil_parse_amzdate("20151330T123600Z", &t), -1);

	assert_int_equal(timeutil_parse_iso8601("2025-01-01T12:00:00Z", &t), 0);
	assert_int_equal(t, 1735732800);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T12:00:00.123Z", &t), 0);
	assert_int_equal(t, 1735732800);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T14:00:00+02:00", &t), 0);
	assert_int_equal(t, 1735732800);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T07:00:00-0500", &t), 0);
	assert_int_equal(t, 1735732800);
	assert_int_equal(timeutil_parse_iso8601("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(timeutil_parse_iso8601("2000-02-29T00:00:00Z", &t), 0);
	assert_int_equal(timeutil_parse_iso8601("2025-02-29T00:00:00Z", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2100-02-29T00:00:00Z", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2025-04-31T00:00:00Z", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T23:59:60Z", &t), -1);
	assert_int_equal(timeutil_parse_amzdate("20250229T000000Z", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T12:00:00", &t), -1);
	assert_int_equal(timeutil_parse_iso8601("2025-01-01T12:00:00Zjunk", &t), -1);
	timeutil_iso8601(1735732800, s);
	assert_string_equal(s, "2025-01-01T12:00:00Z");
	timeutil_lambda(1586545592563ULL, s);
	assert_string_equal(s, "2020-04-10T19:06:32.563+0000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto__sha256_and_hmac),
	    cmocka_unit_test(test_crypto__base64_round_trip),
	    cmocka_unit_test(test_crypto__base64_rejects_malformed),
	    cmocka_unit_test(test_crypto__constant_time_compare_and_uuid),
	    cmocka_unit_test(test_crypto__uuid_format),
	    cmocka_unit_test(test_crypto__uri_encode_decode),
	    cmocka_unit_test(test_crypto__uri_query),
	    cmocka_unit_test(test_crypto__timestamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
