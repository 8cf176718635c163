/*
 * Hashes, MACs, encodings and constant-time comparison, on top of OpenSSL's libcrypto.
 */
#ifndef TETHER_COMMON_CRYPTO_H
#define TETHER_COMMON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64

void crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of the SHA-256, NUL-terminated. */
void crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[CRYPTO_SHA256_LEN]);
/* n bytes from the 2n hex digits at s (either case; no NUL needed). Returns 0, or -1 at
 * the first character that is not a hex digit (out is then partly written). */
int crypto_unhex(const char *s, size_t n, unsigned char *out);
/* Lower-case hex of n bytes into out, which holds 2n+1 bytes. */
void crypto_hex(const unsigned char *p, size_t n, char *out);
/* Compare n bytes in time that depends only on n. */
bool crypto_equal(const void *a, const void *b, size_t n);
/*
 * Compare two strings in time that depends only on their lengths (for signatures and
 * tokens, whose lengths are public).
 */
bool crypto_streq(const char *a, const char *b);
/* Standard base64 with padding; the result is allocated and NUL-terminated. */
char *crypto_base64_encode(const void *p, size_t n);
/*
 * Strict standard base64 (padding required, no whitespace). Returns 0 and an allocated
 * buffer, or -1 on malformed input.
 */
int crypto_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);
/* Cryptographically random bytes; aborts if the generator fails. */
void crypto_random(void *p, size_t n);
/* A random RFC 4122 version 4 UUID, lower-case, into out[37]. */
void crypto_uuid(char out[37]);
/*
 * Format 16 random bytes (from any generator) as a lower-case RFC 4122 version 4 UUID into
 * out[37]: the version and variant bits are set in the text, bytes is left unchanged.
 */
void crypto_uuid_format(const unsigned char bytes[16], char out[37]);

#endif
