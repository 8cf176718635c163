/*
 * Fuzz target "webhook": webhook deliveries (controller/webhook.h): the body cap, the
 * signature and token checks (constant-time compares over fuzzed lengths and contents), the
 * event headers, the JSON or form payloads, ref matching, and the fetch limiter.
 *
 * Input: byte 0 is the configuration: bits 0-1 the provider (github, gitlab, generic,
 * generic with the header X-Hook-Signature), bit 2 signs the delivery with the right secret
 * (otherwise only the input's own headers authenticate it: nearly always a 401), bit 3
 * tracks the ref of an "X-Fuzz-Ref" header instead of the default branch, bits 4-5 the body
 * cap (default, 64 bytes, 1 KiB, 4 KiB). Then header lines "Name: value" up to an empty
 * line (at most HTTPD_HEADERS_MAX), then the raw body. Byte 1 onwards also drive the
 * limiter as a sequence of events (see drive_limiter()).
 */
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/httpd.h"
#include "common/xmalloc.h"
#include "controller/webhook.h"
#include "tests/fuzz/fuzz.h"

#define SECRET "fuzz-webhook-secret"
#define CUSTOM_HEADER "X-Hook-Signature"

static const size_t body_caps[] = {0, 64, 1024, 4096};

/* Parse "Name: value" lines into h (names and values allocated); returns the body offset. */
static size_t
parse_headers(const uint8_t *data, size_t size, struct httpd_header *h, size_t *n)
{
	const uint8_t *p = data, *end = data + size, *nl, *colon, *v;

	*n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl == p) {
			p = nl + 1;
			break;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon != NULL && *n < HTTPD_HEADERS_MAX) {
			v = colon + 1;
			while (v < nl && *v == ' ')
				v++;
			h[*n].name = fuzz_strndup(p, (size_t)(colon - p));
			h[*n].value = fuzz_strndup(v, (size_t)(nl - v));
			(*n)++;
		}
		p = nl < end ? nl + 1 : end;
	}
	return (size_t)(p - data);
}

/* Put the right signature (or token) first, so a duplicate from the input is a repeat. */
static void
sign(struct httpd_header *h, size_t *n, enum webhook_provider provider, const char *header,
    const char *body, size_t len)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	if (*n == HTTPD_HEADERS_MAX)
		(*n)--;
	free((char *)(uintptr_t)h[*n].name);
	free((char *)(uintptr_t)h[*n].value);
	memmove(h + 1, h, *n * sizeof(*h));
	(*n)++;
	if (provider == WEBHOOK_GITLAB) {
		h[0].name = xstrdup("X-Gitlab-Token");
		h[0].value = xstrdup(SECRET);
		return;
	}
	crypto_hmac_sha256(SECRET, strlen(SECRET), body, len, mac);
	crypto_hex(mac, sizeof(mac), hex);
	h[0].name = xstrdup(provider == WEBHOOK_GITHUB ? "X-Hub-Signature-256" : header);
	h[0].value = xasprintf("sha256=%s", hex);
}

/*
 * The limiter's protocol, driven by the input: each byte is an event at a time that
 * advances by its upper bits (in tenths of a second): trigger, a fetch ending (only while
 * one runs, as the daemon does), or the timer firing (only when one was armed).
 */
static void
drive_limiter(const uint8_t *data, size_t size)
{
	struct webhook_limiter *l;
	double now = 1000.0, wait = -1;
	bool fetching = false;
	size_t i;

	l = webhook_limiter_new(1 + data[0] % 60, 1 + data[0] % 5, now);
	for (i = 1; i < size && i < 256; i++) {
		now += (double)(data[i] >> 2) / 10.0;
		switch (data[i] & 3) {
		case 0:
			if (!fetching && webhook_limiter_trigger(l, now))
				fetching = true;
			else if (fetching)
				(void)webhook_limiter_trigger(l, now);
			break;
		case 1:
			if (fetching)
				fetching = webhook_limiter_done(l, now);
			break;
		default:
			if (!fetching && wait >= 0)
				fetching = webhook_limiter_poll(l, now);
			break;
		}
		wait = webhook_limiter_wait(l, now);
		if (webhook_limiter_tokens(l, now) < -1e-6)
			abort();
		if (fetching != (webhook_limiter_state(l) == WEBHOOK_LIMITER_FETCHING ||
		                    webhook_limiter_state(l) == WEBHOOK_LIMITER_FETCHING_AGAIN))
			abort();
	}
	webhook_limiter_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_config cfg = WEBHOOK_CONFIG_INIT;
	struct httpd_header headers[HTTPD_HEADERS_MAX];
	struct httpd_request req;
	struct webhook_delivery d;
	enum webhook_result r;
	size_t n, off, i;
	char *body;
	uint8_t flags;

	fuzz_quiet_logs();
	if (size == 0)
		return 0;
	flags = data[0];
	drive_limiter(data, size);
	memset(headers, 0, sizeof(headers));
	memset(&req, 0, sizeof(req));
	off = 1 + parse_headers(data + 1, size - 1, headers, &n);
	body = fuzz_strndup(data + off, size - off);
	cfg.provider = (flags & 3) == 3 ? WEBHOOK_GENERIC : (enum webhook_provider)(flags & 3);
	cfg.header = (flags & 3) == 3 ? CUSTOM_HEADER : NULL;
	cfg.secret = SECRET;
	cfg.max_body = body_caps[(flags >> 4) & 3];
	if ((flags & 4) != 0)
		sign(headers, &n, cfg.provider,
		    cfg.header != NULL ? cfg.header : WEBHOOK_GENERIC_HEADER, body, size - off);
	req.method = "POST";
	req.target = req.path = "/hooks/fuzz";
	req.headers = headers;
	req.nheaders = n;
	req.body = body;
	req.body_len = size - off;
	req.peer = "127.0.0.1:1";
	if ((flags & 8) != 0)
		cfg.ref = httpd_header(&req, "X-Fuzz-Ref");
	r = webhook_check(&cfg, &req, &d);
	if (r != d.result || d.reason == NULL || strlen(d.ref) > WEBHOOK_REF_MAX ||
	    strlen(d.commit) > WEBHOOK_COMMIT_MAX)
		abort();
	(void)webhook_result_status(r);
	if (d.ref[0] != '\0')
		(void)webhook_ref_matches(cfg.ref != NULL ? cfg.ref : "main", d.ref);
	for (i = 0; i < n; i++) {
		free((char *)(uintptr_t)headers[i].name);
		free((char *)(uintptr_t)headers[i].value);
	}
	free(body);
	return 0;
}
