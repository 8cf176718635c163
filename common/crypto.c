#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/crypto.h"
#include "common/xmalloc.h"

void
crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != CRYPTO_SHA256_LEN)
		abort();
}

void
crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char md[CRYPTO_SHA256_LEN];

	crypto_sha256(p, n, md);
	crypto_hex(md, sizeof(md), out);
}

void
crypto_hmac_sha256(
    const void *key, size_t keylen, const void *msg, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len) == NULL ||
	    len != CRYPTO_SHA256_LEN)
		abort();
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
crypto_unhex(const char *s, size_t n, unsigned char *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = hex_value(s[2 * i]);
		lo = hi < 0 ? -1 : hex_value(s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
crypto_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

bool
crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool
crypto_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
crypto_base64_encode(const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t i, o = 0;
	char *out;
	unsigned v;

	out = xmalloc(4 * ((n + 2) / 3) + 1);
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
crypto_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t i, o = 0, pad = 0;
	int v[4], j;

	*out = NULL;
	*outlen = 0;
	if (n % 4 != 0)
		return -1;
	if (n > 0 && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	buf = xmalloc(n / 4 * 3 + 1);
	for (i = 0; i < n; i += 4) {
		for (j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && (size_t)j >= 4 - pad)
				v[j] = 0;
			else if ((v[j] = b64val((unsigned char)s[i + j])) < 0)
				goto bad;
		}
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		buf[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	/* Reject non-canonical encodings whose padding hides set bits. */
	if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0))
		goto bad;
	*out = buf;
	*outlen = o - pad;
	return 0;
bad:
	free(buf);
	return -1;
}

void
crypto_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		fprintf(stderr, "fatal: RAND_bytes failed\n");
		abort();
	}
}

void
crypto_uuid_format(const unsigned char bytes[16], char out[37])
{
	unsigned char b[16];

	memcpy(b, bytes, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	/* 8-4-4-4-12: each crypto_hex() ends with a NUL where the next '-' goes. */
	crypto_hex(b, 4, out);
	out[8] = '-';
	crypto_hex(b + 4, 2, out + 9);
	out[13] = '-';
	crypto_hex(b + 6, 2, out + 14);
	out[18] = '-';
	crypto_hex(b + 8, 2, out + 19);
	out[23] = '-';
	crypto_hex(b + 10, 6, out + 24);
}

void
crypto_uuid(char out[37])
{
	unsigned char r[16];

	crypto_random(r, sizeof(r));
	crypto_uuid_format(r, out);
}
