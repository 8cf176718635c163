/*
 * Fuzz target "lambda_decode": every decoder of aws/lambda_decode.h (each JSON shape the
 * Lambda client reads, and the AWS error decoder), and the STS XML reader the credential
 * chain uses for AssumeRole* answers (aws/stsxml.h): everything tether parses from the
 * network on the AWS side.
 *
 * Input: the first byte picks the decoder (modulo the count below); the rest is the body.
 * For the error decoder, two more bytes give the HTTP status (big-endian, modulo 600), then
 * a line is the x-amzn-ErrorType header (an empty line: absent), a line the request id,
 * and the rest the body. For the STS credentials reader, the lowest bit of the first byte
 * past the count picks the action. The body is an exact-size copy, so a decoder reading
 * one byte past it is caught.
 */
#include <stdlib.h>
#include <string.h>

#include "aws/lambda_decode.h"
#include "aws/stsxml.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

enum decoder {
	DEC_FUNCTION,
	DEC_GET_FUNCTION,
	DEC_FUNCTIONS_PAGE,
	DEC_VERSIONS_PAGE,
	DEC_ALIAS,
	DEC_ALIAS_PAGE,
	DEC_LAYER_VERSION,
	DEC_LAYER_VERSION_PAGE,
	DEC_ESM_PAGE,
	DEC_PC_PAGE,
	DEC_TAGS,
	DEC_ERROR,
	DEC_STS_CREDENTIALS,
	DEC_STS_ERROR,
	DEC_COUNT,
};

/* A decoder that fails must leave its output empty: check the fields a caller would. */
static void
check_function_empty(const struct lambda_function *f)
{
	if (f->name != NULL || f->arn != NULL)
		abort();
}

/* The next line of [*p, end) as a NUL-terminated copy (NULL when empty), moving *p past it. */
static char *
take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl != NULL ? nl : end;
	char *s = stop > *p ? fuzz_strndup(*p, (size_t)(stop - *p)) : NULL;

	*p = nl != NULL ? nl + 1 : end;
	return s;
}

static void
decode_error(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct err e = ERR_INIT;
	char *type, *request_id, *body;
	long status = 0;
	int rc;

	if (size >= 2) {
		status = ((long)data[0] << 8 | data[1]) % 600;
		p += 2;
	}
	type = take_line(&p, end);
	request_id = take_line(&p, end);
	body = fuzz_copy(p, (size_t)(end - p));
	rc = lambda_decode_error(status, type, request_id, body, (size_t)(end - p), &e);
	if (rc >= 0 || rc != e.code)
		abort();
	(void)lambda_error_is_throttle(type != NULL ? type : "");
	free(type);
	free(request_id);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lambda_function fn;
	struct lambda_function_page fpage;
	struct lambda_alias alias;
	struct lambda_alias_page apage;
	struct lambda_layer_version lv;
	struct lambda_layer_version_page lpage;
	struct lambda_esm_page epage;
	struct lambda_pc_page ppage;
	struct lambda_tags tags;
	struct stsxml_credentials creds;
	struct stsxml_error sts_err;
	struct err e = ERR_INIT;
	enum decoder which;
	char *body;
	size_t len;
	int rc;

	if (size == 0)
		return 0;
	which = (enum decoder)(data[0] % DEC_COUNT);
	if (which == DEC_ERROR) {
		decode_error(data + 1, size - 1);
		return 0;
	}
	len = size - 1;
	body = fuzz_copy(data + 1, len);
	switch (which) {
	case DEC_FUNCTION:
	case DEC_GET_FUNCTION:
		rc = which == DEC_FUNCTION ? lambda_decode_function(body, len, &fn, &e)
		                           : lambda_decode_get_function(body, len, &fn, &e);
		if (rc != 0)
			check_function_empty(&fn);
		lambda_function_clear(&fn);
		break;
	case DEC_FUNCTIONS_PAGE:
	case DEC_VERSIONS_PAGE:
		rc = lambda_decode_function_page(
		    body, len, which == DEC_FUNCTIONS_PAGE ? "Functions" : "Versions", &fpage, &e);
		if (rc != 0 && (fpage.n != 0 || fpage.next_marker != NULL))
			abort();
		lambda_function_page_clear(&fpage);
		break;
	case DEC_ALIAS:
		(void)lambda_decode_alias(body, len, &alias, &e);
		lambda_alias_clear(&alias);
		break;
	case DEC_ALIAS_PAGE:
		(void)lambda_decode_alias_page(body, len, &apage, &e);
		lambda_alias_page_clear(&apage);
		break;
	case DEC_LAYER_VERSION:
		(void)lambda_decode_layer_version(body, len, &lv, &e);
		lambda_layer_version_clear(&lv);
		break;
	case DEC_LAYER_VERSION_PAGE:
		(void)lambda_decode_layer_version_page(body, len, &lpage, &e);
		lambda_layer_version_page_clear(&lpage);
		break;
	case DEC_ESM_PAGE:
		(void)lambda_decode_esm_page(body, len, &epage, &e);
		lambda_esm_page_clear(&epage);
		break;
	case DEC_PC_PAGE:
		(void)lambda_decode_pc_page(body, len, &ppage, &e);
		lambda_pc_page_clear(&ppage);
		break;
	case DEC_TAGS:
		(void)lambda_decode_tags(body, len, &tags, &e);
		lambda_tags_clear(&tags);
		break;
	case DEC_STS_CREDENTIALS:
		memset(&creds, 0, sizeof(creds));
		rc = stsxml_parse_credentials(body, len,
		    (data[0] / DEC_COUNT) % 2 == 0 ? "AssumeRoleWithWebIdentity" : "AssumeRole",
		    &creds, &e);
		if (rc == 0 && (creds.access_key_id == NULL || creds.secret_access_key == NULL ||
		                   creds.session_token == NULL || creds.expiration == NULL))
			abort();
		stsxml_credentials_free(&creds);
		break;
	case DEC_STS_ERROR:
		memset(&sts_err, 0, sizeof(sts_err));
		(void)stsxml_parse_error(body, len, &sts_err, &e);
		stsxml_error_free(&sts_err);
		break;
	case DEC_ERROR:
	case DEC_COUNT:
	default:
		break;
	}
	free(body);
	return 0;
}
