/*
 * Reads one JSON request per line on stdin and prints the Authorization header that
 * sigv4_sign_url() computes for it, one per line ("ERROR: message" when signing fails).
 * Input: {"method", "url", "headers": [[name, value], ...] (signed besides host, x-amz-date
 * and the token), "body_b64", "time" (epoch seconds), "region", "service", "access_key",
 * "secret_key", "token" (null when absent)}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/sigv4.h"
#include "common/crypto.h"

#define LINE_MAX_BYTES (16 * 1024 * 1024)

static int
sign_line(const char *line, struct buf *out)
{
	struct sigv4_header hdrs[SIGV4_EXTRA_HEADERS_MAX + 1];
	struct sigv4_credentials creds;
	struct sigv4_sign_opts o;
	struct sigv4_signed sig;
	struct err err = ERR_INIT;
	json_error_t jerr;
	json_t *req, *h;
	unsigned char *body = NULL;
	size_t bodylen = 0, i;
	const char *b64, *auth = NULL;
	int rc = -1;

	req = json_loads(line, 0, &jerr);
	if (req == NULL) {
		buf_printf(out, "ERROR: bad input line: %s", jerr.text);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.method = json_string_value(json_object_get(req, "method"));
	o.url = json_string_value(json_object_get(req, "url"));
	o.region = json_string_value(json_object_get(req, "region"));
	o.service = json_string_value(json_object_get(req, "service"));
	o.now = (time_t)json_integer_value(json_object_get(req, "time"));
	creds.access_key_id = json_string_value(json_object_get(req, "access_key"));
	creds.secret_access_key = json_string_value(json_object_get(req, "secret_key"));
	creds.session_token = json_string_value(json_object_get(req, "token"));
	o.creds = &creds;
	b64 = json_string_value(json_object_get(req, "body_b64"));
	if (o.method == NULL || o.url == NULL || o.region == NULL || o.service == NULL ||
	    creds.access_key_id == NULL || creds.secret_access_key == NULL || b64 == NULL ||
	    crypto_base64_decode(b64, strlen(b64), &body, &bodylen) != 0) {
		buf_puts(out, "ERROR: incomplete request");
		goto out;
	}
	o.body = body;
	o.len = bodylen;
	json_array_foreach(json_object_get(req, "headers"), i, h)
	{
		if (i >= SIGV4_EXTRA_HEADERS_MAX + 1)
			break;
		hdrs[i].name = json_string_value(json_array_get(h, 0));
		hdrs[i].value = json_string_value(json_array_get(h, 1));
		o.nheaders = i + 1;
	}
	o.headers = hdrs;
	if (sigv4_sign_url(&o, &sig, &err) != 0) {
		buf_printf(out, "ERROR: %s", err.message);
		goto out;
	}
	for (i = 0; i < sig.nlines; i++) {
		if (strncmp(sig.lines[i], "Authorization: ", 15) == 0)
			auth = sig.lines[i] + 15;
	}
	buf_puts(out, auth != NULL ? auth : "ERROR: no Authorization line");
	rc = auth != NULL ? 0 : -1;
	sigv4_signed_free(&sig);
out:
	free(body);
	json_decref(req);
	return rc;
}

int
main(void)
{
	struct buf out = BUF_INIT(64 * 1024);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int failures = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (n > LINE_MAX_BYTES) {
			fprintf(stderr, "sigv4_sign: input line over %d bytes\n", LINE_MAX_BYTES);
			free(line);
			return 2;
		}
		buf_reset(&out);
		if (sign_line(line, &out) != 0)
			failures++;
		printf("%s\n", buf_cstr(&out));
	}
	free(line);
	buf_free(&out);
	return failures > 0 ? 1 : 0;
}
