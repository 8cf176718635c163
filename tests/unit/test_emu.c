/*
 * The emulator's Lambda model, driven through emu_route()/emu_handle() with requests shaped
 * like botocore's and a clock the test controls: routing, every operation, the state
 * machine windows, RevisionId preconditions, versioning, aliases, layers, invoke, tags,
 * pagination, validation, error shapes, persistence, and bad input that must not crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/emulator/emu.h"
#include "common/crypto.h"
#include "common/uri.h"
#include "common/xmalloc.h"
#include "tests/lib/tmpdir.h"

#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define ARN_PREFIX "arn:aws:lambda:us-east-1:123456789012:function:"
#define ROLE "arn:aws:iam::123456789012:role/lambda-exec"
#define ROLE2 "arn:aws:iam::123456789012:role/lambda-exec-2"
#define IMAGE "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
#define CREATE_MS 100
#define UPDATE_MS 200
#define F "/2015-03-31/functions/"
#define PENDING_MSG                                                                         \
	"The operation cannot be performed at this time. The function is currently in the " \
	"following state: Pending"
#define STALE_MSG                                                                   \
	"The Revision Id provided does not match the latest Revision Id. Call the " \
	"GetFunction/GetAlias API to retrieve the latest Revision Id"

struct h {
	struct emu *emu;
	uint64_t now;
	uint64_t wall;
	struct emu_reply reply;
	json_t *json;
	int status;
};

static int
setup(void **state)
{
	struct h *h = xcalloc(1, sizeof(*h));
	struct emu_opts o = EMU_OPTS_INIT;

	o.create_delay_ms = CREATE_MS;
	o.update_delay_ms = UPDATE_MS;
	assert_int_equal(emu_new(&h->emu, &o), 0);
	h->now = 5000000;
	h->wall = 1700000000123ULL;
	emu_reply_init(&h->reply);
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	struct h *h = *state;

	json_decref(h->json);
	emu_reply_free(&h->reply);
	emu_free(h->emu);
	free(h);
	return 0;
}

/* One request: target is the raw path with an optional "?query". Returns the status. */
static int
send_raw(struct h *h, const char *method, const char *target, const char *body, size_t len,
    const struct httpd_header *hdrs, size_t nh)
{
	char *path = xstrdup(target), *query = strchr(path, '?');
	struct emu_request in;
	enum emu_op op;

	if (query != NULL)
		*query++ = '\0';
	memset(&in, 0, sizeof(in));
	in.method = method;
	in.path = path;
	in.query = query;
	in.headers = hdrs;
	in.nheaders = nh;
	in.body = body;
	in.body_len = len;
	in.now_ms = h->now;
	in.wall_ms = h->wall;
	in.request_id = "11111111-2222-3333-4444-555555555555";
	op = emu_route(method, path, query);
	emu_handle(h->emu, op, &in, &h->reply);
	json_decref(h->json);
	h->json = h->reply.body.len > 0
	              ? json_loadb(h->reply.body.data, h->reply.body.len, JSON_DECODE_ANY, NULL)
	              : NULL;
	h->status = h->reply.status;
	free(path);
	return h->status;
}

/* A request whose JSON body is formatted (NULL for none). */
static int PRINTFLIKE(4, 5)
    call(struct h *h, const char *method, const char *target, const char *fmt, ...)
{
	va_list ap;
	char *body = NULL;
	int status;

	if (fmt != NULL) {
		va_start(ap, fmt);
		body = xvasprintf(fmt, ap);
		va_end(ap);
	}
	status = send_raw(h, method, target, body, body != NULL ? strlen(body) : 0, NULL, 0);
	free(body);
	return status;
}

/* The value at a dotted path ("Configuration.State", "Versions.0.Version"), or NULL. */
static json_t *
jget(struct h *h, const char *path)
{
	char part[256];
	const char *p = path, *dot;
	json_t *v = h->json;
	size_t n;

	while (v != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(part, NULL, 10));
		else
			v = json_object_get(v, part);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

static const char *
js(struct h *h, const char *path)
{
	json_t *v = jget(h, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long
ji(struct h *h, const char *path)
{
	json_t *v = jget(h, path);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static size_t
jlen(struct h *h, const char *path)
{
	json_t *v = jget(h, path);

	assert_true(json_is_array(v) || json_is_object(v));
	return json_is_array(v) ? json_array_size(v) : json_object_size(v);
}

/* The reply header named name, or NULL (into a static buffer per call site is fine). */
static char *
header(struct h *h, const char *name)
{
	static char value[8192];
	const char *p = buf_cstr(&h->reply.headers), *eol;
	size_t n = strlen(name);

	while (*p != '\0') {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			snprintf(value, sizeof(value), "%.*s", (int)(eol - p - n - 2), p + n + 2);
			return value;
		}
		p = eol + 2;
	}
	return NULL;
}

static void
expect_error(struct h *h, int status, const char *type, const char *message)
{
	const char *msg;

	assert_int_equal(h->status, status);
	assert_string_equal(h->reply.error_type, type);
	msg = js(h, "message") != NULL ? js(h, "message") : js(h, "Message");
	assert_non_null(msg);
	if (message != NULL)
		assert_string_equal(msg, message);
}

static char *
zip_bytes(const char *text, size_t *n)
{
	char *p = xasprintf("PK\x03\x04%s", text);

	*n = strlen(p);
	return p;
}

static char *
zip_b64(const char *text)
{
	size_t n;
	char *raw = zip_bytes(text, &n), *b64 = crypto_base64_encode(raw, n);

	free(raw);
	return b64;
}

static char *
zip_sha(const char *text)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	size_t n;
	char *raw = zip_bytes(text, &n);

	crypto_sha256(raw, n, md);
	free(raw);
	return crypto_base64_encode(md, sizeof(md));
}

static void
create_zip(struct h *h, const char *name, const char *text)
{
	char *b64 = zip_b64(text);

	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"%s\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    name, b64);
	free(b64);
	assert_int_equal(h->status, 201);
}

static void
ready_zip(struct h *h, const char *name, const char *text)
{
	create_zip(h, name, text);
	h->now += CREATE_MS;
}

static void
create_image(struct h *h, const char *name, const char *tag)
{
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"%s\",\"Role\":\"" ROLE "\",\"PackageType\":\"Image\","
	    "\"Code\":{\"ImageUri\":\"" IMAGE ":%s\"}}",
	    name, tag);
	assert_int_equal(h->status, 201);
}

static void
update_description(struct h *h, const char *name, const char *description)
{
	char *target = xasprintf(F "%s/configuration", name);

	call(h, "PUT", target, "{\"Description\":\"%s\"}", description);
	assert_int_equal(h->status, 200);
	h->now += UPDATE_MS;
	free(target);
}

static char *
revision_of(struct h *h, const char *target)
{
	call(h, "GET", target, NULL);
	assert_int_equal(h->status, 200);
	return xstrdup(js(h, "Configuration.RevisionId") != NULL ? js(h, "Configuration.RevisionId")
	                                                         : js(h, "RevisionId"));
}

static void
publish(struct h *h, const char *name, const char *expect_version)
{
	char *target = xasprintf(F "%s/versions", name);

	call(h, "POST", target, "{}");
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "Version"), expect_version);
	free(target);
}

/* Routing. */

static void
test_emu__route(void **state)
{
	(void)state;
	assert_int_equal(emu_route("GET", "/2015-03-31/functions/", NULL), EMU_OP_ListFunctions);
	assert_int_equal(emu_route("GET", "/2015-03-31/functions", NULL), EMU_OP_ListFunctions);
	assert_int_equal(emu_route("POST", "/2015-03-31/functions", NULL), EMU_OP_CreateFunction);
	assert_int_equal(emu_route("GET", F "fn", NULL), EMU_OP_GetFunction);
	assert_int_equal(emu_route("DELETE", F "fn", "Qualifier=1"), EMU_OP_DeleteFunction);
	assert_int_equal(
	    emu_route("GET", F "fn/configuration", NULL), EMU_OP_GetFunctionConfiguration);
	assert_int_equal(
	    emu_route("PUT", F "fn/configuration", NULL), EMU_OP_UpdateFunctionConfiguration);
	assert_int_equal(emu_route("PUT", F "fn/code", NULL), EMU_OP_UpdateFunctionCode);
	assert_int_equal(emu_route("GET", F "fn/versions", NULL), EMU_OP_ListVersionsByFunction);
	assert_int_equal(emu_route("POST", F "fn/versions", NULL), EMU_OP_PublishVersion);
	assert_int_equal(emu_route("POST", F "fn/aliases", NULL), EMU_OP_CreateAlias);
	assert_int_equal(emu_route("GET", F "fn/aliases", NULL), EMU_OP_ListAliases);
	assert_int_equal(emu_route("GET", F "fn/aliases/live", NULL), EMU_OP_GetAlias);
	assert_int_equal(emu_route("PUT", F "fn/aliases/live", NULL), EMU_OP_UpdateAlias);
	assert_int_equal(emu_route("DELETE", F "fn/aliases/live", NULL), EMU_OP_DeleteAlias);
	assert_int_equal(emu_route("POST", F "fn/invocations", NULL), EMU_OP_Invoke);
	assert_int_equal(
	    emu_route("POST", "/2018-10-31/layers/l/versions", NULL), EMU_OP_PublishLayerVersion);
	assert_int_equal(
	    emu_route("GET", "/2018-10-31/layers/l/versions", NULL), EMU_OP_ListLayerVersions);
	assert_int_equal(
	    emu_route("GET", "/2018-10-31/layers/l/versions/3", NULL), EMU_OP_GetLayerVersion);
	assert_int_equal(
	    emu_route("GET", "/2018-10-31/layers",
	        "find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Alayer%3Ax%3A1"),
	    EMU_OP_GetLayerVersionByArn);
	assert_int_equal(emu_route("GET", "/2018-10-31/layers", "Arn=x&find=LayerVersion"),
	    EMU_OP_GetLayerVersionByArn);
	assert_int_equal(emu_route("GET", "/2018-10-31/layers", NULL), EMU_OP_NONE);
	assert_int_equal(emu_route("POST", "/2017-03-31/tags/arn%3Aaws", NULL), EMU_OP_TagResource);
	assert_int_equal(emu_route("GET", "/2017-03-31/tags/arn%3Aaws", NULL), EMU_OP_ListTags);
	assert_int_equal(
	    emu_route("DELETE", "/2017-03-31/tags/arn%3Aaws", "tagKeys=a"), EMU_OP_UntagResource);
	assert_int_equal(emu_route("POST", "/2015-03-31/event-source-mappings/", NULL),
	    EMU_OP_CreateEventSourceMapping);
	assert_int_equal(emu_route("GET", "/2015-03-31/event-source-mappings", NULL),
	    EMU_OP_ListEventSourceMappings);
	assert_int_equal(
	    emu_route("PUT", "/2019-09-30/functions/fn/provisioned-concurrency", "Qualifier=live"),
	    EMU_OP_PutProvisionedConcurrencyConfig);
	assert_int_equal(
	    emu_route("GET", "/2019-09-30/functions/fn/provisioned-concurrency", "List=ALL"),
	    EMU_OP_ListProvisionedConcurrencyConfigs);
	assert_int_equal(
	    emu_route("GET", "/2019-09-30/functions/fn/provisioned-concurrency", "Qualifier=live"),
	    EMU_OP_NONE);
	assert_int_equal(emu_route("PATCH", F "fn", NULL), EMU_OP_NONE);
	assert_int_equal(emu_route("GET", "/2015-03-31/functions/fn/nothing", NULL), EMU_OP_NONE);
	assert_int_equal(emu_route("GET", "relative", NULL), EMU_OP_NONE);
	assert_int_equal(emu_route(NULL, NULL, NULL), EMU_OP_NONE);
	assert_string_equal(emu_op_name(EMU_OP_PublishVersion), "PublishVersion");
	assert_null(emu_op_name(EMU_OP_NONE));
	assert_int_equal(emu_op_bucket(EMU_OP_GetFunction), EMU_BUCKET_GETFUNCTION);
	assert_int_equal(emu_op_bucket(EMU_OP_Invoke), EMU_BUCKET_NONE);
	assert_int_equal(emu_op_bucket(EMU_OP_ListAliases), EMU_BUCKET_SHARED);
}

static void
test_emu__unknown_operation(void **state)
{
	struct h *h = *state;

	call(h, "GET", "/nope", NULL);
	expect_error(h, 404, "UnknownOperationException", NULL);
	/* An op that the request does not route to is refused, not run against its labels. */
	send_raw(h, "GET", "/2015-03-31/functions/", NULL, 0, NULL, 0);
	assert_int_equal(h->status, 200);
	{
		struct emu_request in = {
		    "GET", "/2015-03-31/functions/", NULL, NULL, 0, NULL, 0, h->now, h->wall, "r"};

		emu_handle(h->emu, EMU_OP_GetAlias, &in, &h->reply);
		assert_int_equal(h->reply.status, 404);
		emu_handle(h->emu, EMU_OP__COUNT, &in, &h->reply);
		assert_int_equal(h->reply.status, 404);
	}
}

/* Create, shapes and the state machine. */

static void
test_emu__create_zip_shape(void **state)
{
	struct h *h = *state;
	char *sha = zip_sha("hello");

	create_zip(h, "fn", "hello");
	assert_string_equal(js(h, "FunctionName"), "fn");
	assert_string_equal(js(h, "FunctionArn"), ARN_PREFIX "fn");
	assert_string_equal(js(h, "CodeSha256"), sha);
	assert_int_equal(ji(h, "CodeSize"), 9);
	assert_string_equal(js(h, "Runtime"), "python3.9");
	assert_string_equal(js(h, "Handler"), "index.handler");
	assert_string_equal(js(h, "Role"), ROLE);
	assert_int_equal(ji(h, "Timeout"), 3);
	assert_int_equal(ji(h, "MemorySize"), 128);
	assert_string_equal(js(h, "Description"), "");
	assert_string_equal(js(h, "Version"), "$LATEST");
	assert_string_equal(js(h, "PackageType"), "Zip");
	assert_string_equal(js(h, "TracingConfig.Mode"), "PassThrough");
	assert_string_equal(js(h, "Architectures.0"), "x86_64");
	assert_int_equal(ji(h, "EphemeralStorage.Size"), 512);
	assert_string_equal(js(h, "SnapStart.ApplyOn"), "None");
	assert_string_equal(js(h, "SnapStart.OptimizationStatus"), "Off");
	assert_string_equal(js(h, "LastModified"), "2023-11-14T22:13:20.123+0000");
	assert_int_equal(strlen(js(h, "RevisionId")), 36);
	assert_string_equal(js(h, "State"), "Pending");
	assert_string_equal(js(h, "StateReason"), "The function is being created.");
	assert_string_equal(js(h, "StateReasonCode"), "Creating");
	assert_null(jget(h, "LastUpdateStatus"));
	assert_null(jget(h, "Environment"));
	assert_string_equal(header(h, "Content-Type"), "application/json");
	call(h, "GET", F "fn", NULL);
	assert_string_equal(js(h, "Code.RepositoryType"), "S3");
	assert_true(strncmp(js(h, "Code.Location"), "https://", 8) == 0);
	assert_null(jget(h, "Tags"));
	assert_null(jget(h, "Concurrency"));
	free(sha);
}

static void
test_emu__create_image_shape(void **state)
{
	struct h *h = *state;
	unsigned char md[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1], resolved[256];
	const char *uri = IMAGE ":v1";

	create_image(h, "img", "v1");
	crypto_sha256(uri, strlen(uri), md);
	crypto_hex(md, sizeof(md), hex);
	assert_string_equal(js(h, "PackageType"), "Image");
	assert_string_equal(js(h, "CodeSha256"), hex);
	assert_int_equal(ji(h, "CodeSize"), 0);
	assert_null(jget(h, "Runtime"));
	assert_null(jget(h, "Handler"));
	call(h, "GET", F "img", NULL);
	assert_string_equal(js(h, "Code.RepositoryType"), "ECR");
	assert_string_equal(js(h, "Code.ImageUri"), uri);
	snprintf(resolved, sizeof(resolved), IMAGE "@sha256:%s", hex);
	assert_string_equal(js(h, "Code.ResolvedImageUri"), resolved);
	/* A digest-pinned URI keeps its digest. */
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"pinned\",\"Role\":\"" ROLE "\",\"PackageType\":\"Image\","
	    "\"Code\":{\"ImageUri\":\"" IMAGE "@sha256:%064d\"}}",
	    7);
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "CodeSha256"),
	    "0000000000000000000000000000000000000000000000000000000000000007");
	/* Image functions take no Runtime; a non-ECR URI is not an image Lambda can use. */
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"x\",\"Role\":\"" ROLE "\",\"PackageType\":\"Image\","
	    "\"Runtime\":\"python3.9\",\"Code\":{\"ImageUri\":\"" IMAGE ":v1\"}}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"x\",\"Role\":\"" ROLE "\",\"PackageType\":\"Image\","
	    "\"Code\":{\"ImageUri\":\"docker.io/library/app:v1\"}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Source image docker.io/library/app:v1 is not valid. Provide a valid source image.");
}

static void
test_emu__pending_becomes_active_lazily(void **state)
{
	struct h *h = *state;
	char *rev1, *rev2;

	create_zip(h, "fn", "a");
	rev1 = xstrdup(js(h, "RevisionId"));
	h->now += CREATE_MS - 1;
	call(h, "GET", F "fn/configuration", NULL);
	assert_string_equal(js(h, "State"), "Pending");
	assert_string_equal(js(h, "RevisionId"), rev1);
	h->now += 1;
	call(h, "GET", F "fn/configuration", NULL);
	assert_string_equal(js(h, "State"), "Active");
	assert_null(jget(h, "StateReason"));
	assert_null(jget(h, "StateReasonCode"));
	assert_string_equal(js(h, "LastUpdateStatus"), "Successful");
	assert_null(jget(h, "LastUpdateStatusReason"));
	rev2 = xstrdup(js(h, "RevisionId"));
	assert_string_not_equal(rev1, rev2); /* re-minted at Pending -> Active */
	call(h, "GET", F "fn", NULL);
	assert_string_equal(js(h, "Configuration.RevisionId"), rev2);
	free(rev1);
	free(rev2);
}

static void
test_emu__pending_refuses_updates_publish_invoke(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("b");

	create_zip(h, "fn", "a");
	call(h, "PUT", F "fn/configuration", "{\"MemorySize\":256}");
	expect_error(h, 409, "ResourceConflictException", PENDING_MSG);
	call(h, "PUT", F "fn/code", "{\"ZipFile\":\"%s\"}", b64);
	expect_error(h, 409, "ResourceConflictException", PENDING_MSG);
	call(h, "POST", F "fn/versions", "{}");
	expect_error(h, 409, "ResourceConflictException", PENDING_MSG);
	call(h, "POST", F "fn/invocations", "{}");
	expect_error(h, 409, "ResourceConflictException", PENDING_MSG);
	/* Reading, tagging and aliasing $LATEST are fine while Pending. */
	call(h, "GET", F "fn", NULL);
	assert_int_equal(h->status, 200);
	call(h, "POST", F "fn/aliases", "{\"Name\":\"live\",\"FunctionVersion\":\"$LATEST\"}");
	assert_int_equal(h->status, 201);
	h->now += CREATE_MS;
	call(h, "PUT", F "fn/configuration", "{\"MemorySize\":256}");
	assert_int_equal(h->status, 200);
	free(b64);
}

static void
test_emu__update_in_progress_window(void **state)
{
	struct h *h = *state;
	char *rev_req, *rev_done, *msg;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"d1\",\"Timeout\":30}");
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "LastUpdateStatus"), "InProgress");
	assert_string_equal(js(h, "LastUpdateStatusReason"), "The function is being created.");
	assert_string_equal(js(h, "LastUpdateStatusReasonCode"), "Creating");
	assert_string_equal(js(h, "State"), "Active");
	assert_int_equal(ji(h, "Timeout"), 30);
	rev_req = xstrdup(js(h, "RevisionId"));
	msg = xasprintf("The operation cannot be performed at this time. An update is in progress "
	                "for resource: %sfn",
	    ARN_PREFIX);
	h->now += UPDATE_MS - 1;
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"d2\"}");
	expect_error(h, 409, "ResourceConflictException", msg);
	call(h, "PUT", F "fn/code", "{\"S3Bucket\":\"bucket\",\"S3Key\":\"k.zip\"}");
	expect_error(h, 409, "ResourceConflictException", msg);
	call(h, "POST", F "fn/versions", "{}");
	expect_error(h, 409, "ResourceConflictException", msg);
	call(h, "POST", F "fn/invocations", "{}");
	expect_error(h, 409, "ResourceConflictException", msg);
	call(h, "POST", F "fn/invocations?Qualifier=%24LATEST", "{}");
	expect_error(h, 409, "ResourceConflictException", msg);
	/* A published version keeps serving during the update. */
	call(h, "POST", F "fn/invocations?Qualifier=1", "{}");
	assert_int_equal(h->status, 200);
	call(h, "GET", F "fn/configuration", NULL);
	assert_string_equal(js(h, "LastUpdateStatus"), "InProgress");
	assert_string_equal(js(h, "RevisionId"), rev_req);
	h->now += 1;
	call(h, "GET", F "fn/configuration", NULL);
	assert_string_equal(js(h, "LastUpdateStatus"), "Successful");
	assert_null(jget(h, "LastUpdateStatusReason"));
	rev_done = xstrdup(js(h, "RevisionId"));
	assert_string_not_equal(rev_req, rev_done); /* re-minted at InProgress -> Successful */
	/* The id returned by the update is stale now. */
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"d3\",\"RevisionId\":\"%s\"}",
	    rev_req);
	expect_error(h, 412, "PreconditionFailedException", STALE_MSG);
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"d3\",\"RevisionId\":\"%s\"}",
	    rev_done);
	assert_int_equal(h->status, 200);
	free(rev_req);
	free(rev_done);
	free(msg);
}

static void
test_emu__stale_revision_412(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("b");
	const char *stale = "00000000-0000-4000-8000-000000000000";

	ready_zip(h, "fn", "a");
	call(h, "PUT", F "fn/code", "{\"ZipFile\":\"%s\",\"RevisionId\":\"%s\"}", b64, stale);
	expect_error(h, 412, "PreconditionFailedException", STALE_MSG);
	call(h, "PUT", F "fn/configuration", "{\"RevisionId\":\"%s\"}", stale);
	expect_error(h, 412, "PreconditionFailedException", STALE_MSG);
	call(h, "POST", F "fn/versions", "{\"RevisionId\":\"%s\"}", stale);
	expect_error(h, 412, "PreconditionFailedException", STALE_MSG);
	assert_non_null(js(h, "message")); /* lower-case key for PreconditionFailed */
	assert_string_equal(js(h, "Type"), "User");
	free(b64);
}

static void
test_emu__publish_check_order(void **state)
{
	struct h *h = *state;
	char *rev, *sha = zip_sha("a"), *msg;

	ready_zip(h, "fn", "a");
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"x\"}");
	rev = xstrdup(js(h, "RevisionId"));
	/* Inside the update window: a stale RevisionId is 412 before anything else... */
	call(h, "POST", F "fn/versions",
	    "{\"RevisionId\":\"00000000-0000-4000-8000-000000000000\",\"CodeSha256\":\"bad\"}");
	expect_error(h, 412, "PreconditionFailedException", NULL);
	/* ... then a wrong CodeSha256 is 400 ... */
	call(h, "POST", F "fn/versions", "{\"RevisionId\":\"%s\",\"CodeSha256\":\"bad\"}", rev);
	msg = xasprintf("CodeSHA256 (bad) is different from current CodeSHA256 in $LATEST (%s). "
	                "Please try again with the CodeSHA256 in $LATEST.",
	    sha);
	expect_error(h, 400, "InvalidParameterValueException", msg);
	/* ... and only then the update in progress is 409. */
	call(h, "POST", F "fn/versions", "{\"RevisionId\":\"%s\",\"CodeSha256\":\"%s\"}", rev, sha);
	expect_error(h, 409, "ResourceConflictException", NULL);
	h->now += UPDATE_MS;
	free(rev);
	rev = revision_of(h, F "fn");
	call(h, "POST", F "fn/versions", "{\"RevisionId\":\"%s\",\"CodeSha256\":\"%s\"}", rev, sha);
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "Version"), "1");
	assert_string_equal(js(h, "FunctionArn"), ARN_PREFIX "fn:1");
	free(rev);
	free(sha);
	free(msg);
}

static void
test_emu__publish_dirty_flag_and_numbers(void **state)
{
	struct h *h = *state;
	char *rev_latest, *rev_v1;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	rev_v1 = xstrdup(js(h, "RevisionId"));
	/* Nothing changed: the same version comes back, nothing new is listed. */
	call(h, "POST", F "fn/versions", "{\"Description\":\"ignored\"}");
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "Version"), "1");
	assert_string_equal(js(h, "RevisionId"), rev_v1);
	assert_string_equal(js(h, "Description"), "");
	call(h, "GET", F "fn/versions", NULL);
	assert_int_equal(jlen(h, "Versions"), 2);
	/* Any update counts as a change, even one that changes nothing. */
	call(h, "GET", F "fn/configuration", NULL);
	update_description(h, "fn", "");
	publish(h, "fn", "2");
	/* Numbers are never reused, even after deleting the newest version. */
	call(h, "DELETE", F "fn?Qualifier=2", NULL);
	assert_int_equal(h->status, 204);
	call(h, "POST", F "fn/versions", "{}");
	assert_string_equal(js(h, "Version"), "3"); /* the version it would return is gone */
	update_description(h, "fn", "x");
	publish(h, "fn", "4");
	call(h, "GET", F "fn/versions", NULL);
	assert_int_equal(jlen(h, "Versions"), 4);
	assert_string_equal(js(h, "Versions.0.Version"), "$LATEST");
	assert_string_equal(js(h, "Versions.0.FunctionArn"), ARN_PREFIX "fn:$LATEST");
	assert_string_equal(js(h, "Versions.1.Version"), "1");
	assert_string_equal(js(h, "Versions.2.Version"), "3");
	assert_string_equal(js(h, "Versions.3.Version"), "4");
	/* Publishing moves $LATEST's RevisionId as well. */
	rev_latest = revision_of(h, F "fn");
	update_description(h, "fn", "y");
	call(h, "POST", F "fn/versions", "{\"RevisionId\":\"%s\"}", rev_latest);
	expect_error(h, 412, "PreconditionFailedException", NULL);
	free(rev_latest);
	free(rev_v1);
}

static void
test_emu__versions_are_frozen(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("v2"), *sha1 = zip_sha("v1"), *sha2 = zip_sha("v2"), *rev;

	ready_zip(h, "fn", "v1");
	call(h, "POST", F "fn/versions", "{\"Description\":\"release one\"}");
	assert_string_equal(js(h, "Description"), "release one");
	assert_string_equal(js(h, "State"), "Active");
	assert_string_equal(js(h, "LastUpdateStatus"), "Successful");
	rev = xstrdup(js(h, "RevisionId"));
	call(h, "PUT", F "fn/code", "{\"ZipFile\":\"%s\"}", b64);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "CodeSha256"), sha2);
	h->now += UPDATE_MS;
	update_description(h, "fn", "latest");
	call(h, "GET", F "fn?Qualifier=1", NULL);
	assert_string_equal(js(h, "Configuration.CodeSha256"), sha1);
	assert_string_equal(js(h, "Configuration.Description"), "release one");
	assert_string_equal(js(h, "Configuration.Version"), "1");
	assert_string_equal(js(h, "Configuration.FunctionArn"), ARN_PREFIX "fn:1");
	assert_string_equal(js(h, "Configuration.RevisionId"), rev);
	call(h, "GET", F "fn", NULL);
	assert_string_equal(js(h, "Configuration.CodeSha256"), sha2);
	assert_string_equal(js(h, "Configuration.Description"), "latest");
	/* UpdateFunctionCode with Publish returns the new version. */
	free(b64);
	b64 = zip_b64("v3");
	call(h, "PUT", F "fn/code", "{\"ZipFile\":\"%s\",\"Publish\":true}", b64);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "Version"), "2");
	assert_string_equal(js(h, "State"), "Pending"); /* ready when the update is */
	assert_null(jget(h, "LastUpdateStatus"));
	h->now += UPDATE_MS;
	call(h, "GET", F "fn/configuration?Qualifier=2", NULL);
	assert_string_equal(js(h, "State"), "Active");
	assert_string_equal(js(h, "LastUpdateStatus"), "Successful");
	free(b64);
	free(sha1);
	free(sha2);
	free(rev);
}

/* FunctionName forms and validation. */

static void
test_emu__function_name_forms(void **state)
{
	struct h *h = *state;

	ready_zip(h, "my-fn", "a");
	publish(h, "my-fn", "1");
	call(h, "GET", F "my-fn", NULL);
	assert_string_equal(js(h, "Configuration.FunctionArn"), ARN_PREFIX "my-fn");
	call(h, "GET", F "my-fn%3A1", NULL);
	assert_string_equal(js(h, "Configuration.Version"), "1");
	call(h, "GET", F "my-fn:$LATEST", NULL); /* a raw ':' and '$' work as well */
	assert_string_equal(js(h, "Configuration.FunctionArn"), ARN_PREFIX "my-fn:$LATEST");
	call(h, "GET", F "123456789012%3Afunction%3Amy-fn", NULL);
	assert_int_equal(h->status, 200);
	call(h, "GET", F "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn", NULL);
	assert_int_equal(h->status, 200);
	call(h, "GET",
	    F "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn%3A1/configuration",
	    NULL);
	assert_string_equal(js(h, "Version"), "1");
	/* The qualifier in the name must agree with the Qualifier parameter. */
	call(h, "GET", F "my-fn%3A1?Qualifier=1", NULL);
	assert_int_equal(h->status, 200);
	call(h, "GET", F "my-fn%3A1?Qualifier=%24LATEST", NULL);
	expect_error(h, 400, "InvalidParameterValueException",
	    "The derived qualifier from the function name does not match the specified qualifier.");
	call(h, "GET", F "arn%3Aaws%3Alambda%3Aus-west-2%3A123456789012%3Afunction%3Amy-fn", NULL);
	expect_error(h, 404, "ResourceNotFoundException",
	    "Functions from 'us-west-2' are not reachable in this region ('us-east-1')");
	call(h, "GET", F "999999999999%3Afunction%3Amy-fn", NULL);
	expect_error(h, 403, "AccessDeniedException", NULL);
	call(h, "GET", F "my%20fn", NULL);
	expect_error(h, 400, "ValidationException",
	    "1 validation error detected: Value 'my fn' at 'functionName' failed to satisfy "
	    "constraint: Member must satisfy regular expression pattern: "
	    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
	    "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
	assert_null(jget(h, "Type")); /* the front end's shape: message only */
	call(h, "GET", F "my-fn?Qualifier=a%2Fb", NULL);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "GET", F "my-fn%ZZ", NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "GET", F "my-fn%00x", NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
}

static void
test_emu__not_found_messages(void **state)
{
	struct h *h = *state;

	call(h, "GET", F "nope", NULL);
	expect_error(h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "nope");
	assert_non_null(js(h, "Message")); /* upper-case key for ResourceNotFound */
	assert_string_equal(js(h, "Type"), "User");
	call(h, "GET", F "nope?Qualifier=7", NULL);
	expect_error(
	    h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "nope:7");
	ready_zip(h, "fn", "a");
	call(h, "GET", F "fn/configuration?Qualifier=99", NULL);
	expect_error(
	    h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "fn:99");
	call(h, "GET", F "fn?Qualifier=ghost", NULL);
	expect_error(
	    h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "fn:ghost");
	call(h, "GET", F "fn/aliases/ghost", NULL);
	expect_error(
	    h, 404, "ResourceNotFoundException", "Cannot find alias arn: " ARN_PREFIX "fn:ghost");
	call(h, "PUT", F "nope/configuration", "{}");
	expect_error(h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "nope");
	call(h, "GET", F "nope/versions", NULL);
	expect_error(h, 404, "ResourceNotFoundException", NULL);
}

static void
test_emu__create_validation(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("a");

	call(h, "POST", "/2015-03-31/functions", "{\"FunctionName\":");
	expect_error(h, 400, "InvalidRequestContentException", NULL);
	assert_true(strncmp(js(h, "message"), "Could not parse request body into json", 38) == 0);
	call(h, "POST", "/2015-03-31/functions", "[1,2]");
	expect_error(h, 400, "InvalidRequestContentException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"MemorySize\":\"big\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 400, "InvalidRequestContentException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"MemorySize\":99999,\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 400, "ValidationException",
	    "1 validation error detected: Value '99999' at 'memorySize' failed to satisfy "
	    "constraint: Member must have value less than or equal to 10240");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Timeout\":901,\"MemorySize\":64,\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 400, "ValidationException",
	    "2 validation errors detected: Value '901' at 'timeout' failed to satisfy "
	    "constraint: Member must have value less than or equal to 900; Value '64' at "
	    "'memorySize' failed to satisfy constraint: Member must have value greater than or "
	    "equal to 128");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"lambda-role\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 400, "ValidationException",
	    "1 validation error detected: Value 'lambda-role' at 'role' failed to satisfy "
	    "constraint: Member must satisfy regular expression pattern: "
	    "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"%065d\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    0, b64);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"cobol85\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Role\":\"" ROLE "\",\"Code\":{\"ZipFile\":\"%s\"}}", b64);
	expect_error(h, 400, "InvalidParameterValueException",
	    "Runtime and Handler are mandatory parameters for functions created with deployment "
	    "packages.");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"bm90IGEgemlw\"}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Could not unzip uploaded file. Please check your file, then try to upload again.");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\",\"S3Bucket\":\"bkt\",\"S3Key\":\"k\"}}",
	    b64);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"},"
	    "\"Environment\":{\"Variables\":{\"AWS_REGION\":\"x\"}}}",
	    b64);
	expect_error(h, 400, "InvalidParameterValueException",
	    "Lambda was unable to configure your environment variables because the environment "
	    "variables you have provided contains reserved keys that are currently not supported "
	    "for modification. Reserved keys used in this request: AWS_REGION");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"},"
	    "\"Environment\":{\"Variables\":{\"1BAD\":\"x\"}}}",
	    b64);
	expect_error(h, 400, "ValidationException", NULL);
	/* Unknown members are ignored, like AWS does. */
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"},\"FutureThing\":{\"x\":1},"
	    "\"Environment\":{\"Variables\":{\"A_B\":\"1\"}},\"Description\":\"d\","
	    "\"Timeout\":900,\"MemorySize\":10240,\"Architectures\":[\"arm64\"],"
	    "\"EphemeralStorage\":{\"Size\":1024},\"TracingConfig\":{\"Mode\":\"Active\"}}",
	    b64);
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "Environment.Variables.A_B"), "1");
	assert_string_equal(js(h, "Architectures.0"), "arm64");
	assert_int_equal(ji(h, "EphemeralStorage.Size"), 1024);
	assert_string_equal(js(h, "TracingConfig.Mode"), "Active");
	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"}}",
	    b64);
	expect_error(h, 409, "ResourceConflictException", "Function already exist: fn");
	free(b64);
}

static void
test_emu__update_configuration_partial(void **state)
{
	struct h *h = *state;

	ready_zip(h, "fn", "a");
	call(h, "PUT", F "fn/configuration",
	    "{\"Environment\":{\"Variables\":{\"AA\":\"1\",\"BB\":\"2\"}},\"MemorySize\":512,"
	    "\"Role\":\"" ROLE2 "\",\"Handler\":\"main.go\"}");
	assert_int_equal(h->status, 200);
	h->now += UPDATE_MS;
	call(h, "PUT", F "fn/configuration", "{\"Environment\":{\"Variables\":{\"CC\":\"3\"}}}");
	assert_int_equal(h->status, 200);
	assert_int_equal(jlen(h, "Environment.Variables"), 1);
	assert_string_equal(js(h, "Environment.Variables.CC"), "3");
	assert_int_equal(ji(h, "MemorySize"), 512); /* untouched */
	assert_string_equal(js(h, "Role"), ROLE2);
	assert_string_equal(js(h, "Handler"), "main.go");
	h->now += UPDATE_MS;
	call(h, "PUT", F "fn/configuration", "{\"Environment\":{\"Variables\":{}}}");
	assert_null(jget(h, "Environment"));
	h->now += UPDATE_MS;
	call(h, "PUT", F "fn/configuration", "{\"Description\":\"%0257d\"}", 0);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "PUT", F "fn/configuration", "{\"Handler\":\"has space\"}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "PUT", F "fn/configuration", "{\"ImageConfig\":{\"Command\":[\"x\"]}}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "PUT", F "fn:1/configuration", "{}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
}

static void
test_emu__update_code_sources(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("two"), *sha2 = zip_sha("two"), *sha1 = zip_sha("one"), *rev;
	const char *s3sha;

	ready_zip(h, "fn", "one");
	create_image(h, "img", "v1");
	h->now += CREATE_MS;
	call(h, "PUT", F "fn/code", "{\"ImageUri\":\"" IMAGE ":v2\"}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Please don't provide ImageUri when updating a function with packageType Zip.");
	call(h, "PUT", F "img/code", "{\"ZipFile\":\"%s\"}", b64);
	expect_error(h, 400, "InvalidParameterValueException",
	    "Please provide ImageUri when updating a function with packageType Image.");
	call(h, "PUT", F "fn/code", "{}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	/* DryRun validates and shows the result without changing anything. */
	rev = revision_of(h, F "fn");
	call(h, "PUT", F "fn/code", "{\"ZipFile\":\"%s\",\"DryRun\":true}", b64);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "CodeSha256"), sha2);
	call(h, "GET", F "fn", NULL);
	assert_string_equal(js(h, "Configuration.CodeSha256"), sha1);
	assert_string_equal(js(h, "Configuration.RevisionId"), rev);
	assert_string_equal(js(h, "Configuration.LastUpdateStatus"), "Successful");
	/* S3 sources get a stable derived CodeSha256 that changes with the object version. */
	call(h, "PUT", F "fn/code", "{\"S3Bucket\":\"bkt\",\"S3Key\":\"a.zip\"}");
	assert_int_equal(h->status, 200);
	s3sha = js(h, "CodeSha256");
	assert_non_null(s3sha);
	assert_string_not_equal(s3sha, sha1);
	h->now += UPDATE_MS;
	call(h, "PUT", F "fn/code",
	    "{\"S3Bucket\":\"bkt\",\"S3Key\":\"a.zip\",\"S3ObjectVersion\":\"v2\"}");
	assert_int_equal(h->status, 200);
	h->now += UPDATE_MS;
	call(h, "PUT", F "img/code", "{\"ImageUri\":\"" IMAGE ":v2\"}");
	assert_int_equal(h->status, 200);
	call(h, "PUT", F "fn/code", "{\"S3Bucket\":\"bad.\",\"S3Key\":\"a.zip\"}");
	expect_error(h, 400, "ValidationException", NULL);
	free(b64);
	free(sha1);
	free(sha2);
	free(rev);
}

/* Aliases. */

static void
test_emu__alias_rules(void **state)
{
	struct h *h = *state;
	char *rev;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	update_description(h, "fn", "2");
	publish(h, "fn", "2");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"live\",\"FunctionVersion\":\"1\"}");
	assert_int_equal(h->status, 201);
	assert_string_equal(js(h, "AliasArn"), ARN_PREFIX "fn:live");
	assert_string_equal(js(h, "FunctionVersion"), "1");
	assert_string_equal(js(h, "Description"), "");
	assert_null(jget(h, "RoutingConfig"));
	rev = xstrdup(js(h, "RevisionId"));
	call(h, "POST", F "fn/aliases", "{\"Name\":\"live\",\"FunctionVersion\":\"2\"}");
	expect_error(
	    h, 409, "ResourceConflictException", "Alias already exists: " ARN_PREFIX "fn:live");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"123\",\"FunctionVersion\":\"1\"}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "POST", F "fn/aliases", "{\"Name\":\"x\",\"FunctionVersion\":\"9\"}");
	expect_error(h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "fn:9");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"x\",\"FunctionVersion\":\"abc\"}");
	expect_error(h, 400, "ValidationException", NULL);
	/* Routing: one additional published version, weights 0..1, never $LATEST. */
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"2\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.1,\"3\":0.2}}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Number of items in AdditionalVersionWeights cannot be greater than 1");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"$LATEST\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.1}}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "$LATEST is not supported for an alias pointing to more than 1 version");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.1}}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Invalid function version 1. Function version 1 is already included in routing "
	    "configuration.");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"2\":1.5}}}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"$LATEST\":0.5}}}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"7\":0.5}}}");
	expect_error(h, 404, "ResourceNotFoundException", "Function not found: " ARN_PREFIX "fn:7");
	/* UpdateAlias: RevisionId precondition, own RevisionId, {} clears the routing. */
	call(h, "PUT", F "fn/aliases/live",
	    "{\"FunctionVersion\":\"2\",\"RevisionId\":\"00000000-0000-4000-8000-000000000000\"}");
	expect_error(h, 412, "PreconditionFailedException", STALE_MSG);
	call(h, "PUT", F "fn/aliases/live",
	    "{\"FunctionVersion\":\"2\",\"RevisionId\":\"%s\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.25}}}",
	    rev);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "FunctionVersion"), "2");
	assert_true(json_real_value(jget(h, "RoutingConfig.AdditionalVersionWeights.1")) == 0.25);
	assert_string_not_equal(js(h, "RevisionId"), rev);
	/* Moving the primary onto the weighted version is refused while routing stays. */
	call(h, "PUT", F "fn/aliases/live", "{\"FunctionVersion\":\"1\"}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "PUT", F "fn/aliases/live", "{\"Description\":\"kept\"}");
	assert_int_equal(h->status, 200);
	assert_non_null(jget(h, "RoutingConfig"));
	call(
	    h, "PUT", F "fn/aliases/live", "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{}}}");
	assert_int_equal(h->status, 200);
	assert_null(jget(h, "RoutingConfig"));
	assert_string_equal(js(h, "Description"), "kept");
	call(h, "GET", F "fn/aliases/live", NULL);
	assert_string_equal(js(h, "Name"), "live");
	call(h, "PUT", F "fn/aliases/ghost", "{}");
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	call(h, "DELETE", F "fn/aliases/ghost", NULL);
	assert_int_equal(h->status, 204);
	call(h, "DELETE", F "fn/aliases/live", NULL);
	assert_int_equal(h->status, 204);
	call(h, "GET", F "fn/aliases/live", NULL);
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	free(rev);
}

static void
test_emu__alias_routing_role_must_match(void **state)
{
	struct h *h = *state;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	call(h, "PUT", F "fn/configuration", "{\"Role\":\"" ROLE2 "\"}");
	h->now += UPDATE_MS;
	publish(h, "fn", "2");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"x\",\"FunctionVersion\":\"2\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.5}}}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
}

static void
test_emu__alias_qualifier_resolves(void **state)
{
	struct h *h = *state;

	ready_zip(h, "fn", "a");
	update_description(h, "fn", "one");
	publish(h, "fn", "1");
	update_description(h, "fn", "latest");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"live\",\"FunctionVersion\":\"1\"}");
	call(h, "GET", F "fn?Qualifier=live", NULL);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "Configuration.Version"), "1");
	assert_string_equal(js(h, "Configuration.Description"), "one");
	assert_string_equal(js(h, "Configuration.FunctionArn"), ARN_PREFIX "fn:live");
	call(h, "GET", F "fn%3Alive/configuration", NULL);
	assert_string_equal(js(h, "Version"), "1");
	call(h, "POST", F "fn/invocations?Qualifier=live", "{}");
	assert_string_equal(header(h, "X-Amz-Executed-Version"), "1");
}

static void
test_emu__list_aliases_filter_and_pages(void **state)
{
	struct h *h = *state;
	char name[16], *marker;
	int i;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "a%02d", i);
		call(h, "POST", F "fn/aliases", "{\"Name\":\"%s\",\"FunctionVersion\":\"%s\"}",
		    name, i % 3 == 0 ? "1" : "$LATEST");
		assert_int_equal(h->status, 201);
	}
	call(h, "GET", F "fn/aliases?FunctionVersion=1", NULL);
	assert_int_equal(jlen(h, "Aliases"), 20);
	assert_null(jget(h, "NextMarker"));
	call(h, "GET", F "fn/aliases", NULL);
	assert_int_equal(jlen(h, "Aliases"), 50);
	assert_string_equal(js(h, "Aliases.49.Name"), "a49");
	marker = xstrdup(js(h, "NextMarker"));
	{
		struct buf t = BUF_INIT(1024);

		(void)buf_puts(&t, F "fn/aliases?Marker=");
		(void)uri_encode(&t, marker, strlen(marker), false);
		call(h, "GET", buf_cstr(&t), NULL);
		buf_free(&t);
	}
	assert_int_equal(jlen(h, "Aliases"), 10);
	assert_string_equal(js(h, "Aliases.0.Name"), "a50");
	assert_null(jget(h, "NextMarker"));
	free(marker);
}

/* Invoke. */

static void
test_emu__invoke(void **state)
{
	struct h *h = *state;
	struct err err = ERR_INIT;
	struct httpd_header hdr[2];
	unsigned char *log = NULL;
	size_t n;
	char *sha = zip_sha("a"), *big;

	ready_zip(h, "fn", "a");
	send_raw(h, "POST", F "fn/invocations", NULL, 0, NULL, 0);
	assert_int_equal(h->status, 200);
	assert_string_equal(buf_cstr(&h->reply.body), "{\"statusCode\":200}");
	assert_string_equal(header(h, "X-Amz-Executed-Version"), "$LATEST");
	assert_null(header(h, "X-Amz-Function-Error"));
	/* Configured results, by CodeSha256 or image URI; function errors keep status 200. */
	assert_int_equal(
	    emu_set_invoke(h->emu, sha, "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}",
	        "Unhandled", &err),
	    0);
	call(h, "POST", F "fn/invocations", "{\"k\":1}");
	assert_int_equal(h->status, 200);
	assert_string_equal(header(h, "X-Amz-Function-Error"), "Unhandled");
	assert_string_equal(js(h, "errorMessage"), "boom");
	assert_int_equal(emu_set_invoke(h->emu, "k", "not json", NULL, &err), -1);
	assert_int_equal(emu_set_invoke(h->emu, "", "{}", NULL, &err), -1);
	assert_int_equal(emu_set_invoke(h->emu, "k", "{}", "bad\r\nheader", &err), -1);
	create_image(h, "img", "v9");
	h->now += CREATE_MS;
	assert_int_equal(emu_set_invoke(h->emu, IMAGE ":v9", "[1,2,3]", NULL, &err), 0);
	call(h, "POST", F "img/invocations", "{}");
	assert_string_equal(buf_cstr(&h->reply.body), "[1,2,3]");
	/* Event, DryRun, Tail. */
	hdr[0] = (struct httpd_header){"X-Amz-Invocation-Type", "Event"};
	send_raw(h, "POST", F "fn/invocations", "{}", 2, hdr, 1);
	assert_int_equal(h->status, 202);
	assert_int_equal(h->reply.body.len, 0);
	hdr[0] = (struct httpd_header){"x-amz-invocation-type", "DryRun"};
	send_raw(h, "POST", F "fn/invocations", "{}", 2, hdr, 1);
	assert_int_equal(h->status, 204);
	hdr[0] = (struct httpd_header){"X-Amz-Invocation-Type", "Bogus"};
	send_raw(h, "POST", F "fn/invocations", "{}", 2, hdr, 1);
	expect_error(h, 400, "ValidationException", NULL);
	hdr[0] = (struct httpd_header){"X-Amz-Invocation-Type", "RequestResponse"};
	hdr[1] = (struct httpd_header){"X-Amz-Log-Type", "Tail"};
	send_raw(h, "POST", F "img/invocations", "{}", 2, hdr, 2);
	assert_int_equal(h->status, 200);
	assert_int_equal(crypto_base64_decode(header(h, "X-Amz-Log-Result"),
	                     strlen(header(h, "X-Amz-Log-Result")), &log, &n),
	    0);
	assert_true(n <= 4096);
	assert_true(
	    strncmp((char *)log, "START RequestId: 11111111-2222-3333-4444-555555555555", 53) == 0);
	assert_non_null(strstr((char *)log, "REPORT RequestId:"));
	free(log);
	/* Payloads: JSON only, at most 6 MB. */
	call(h, "POST", F "fn/invocations", "{not json");
	expect_error(h, 400, "InvalidRequestContentException", NULL);
	assert_true(strncmp(js(h, "message"), "Could not parse request body into json", 38) == 0);
	big = xmalloc(6 * 1024 * 1024 + 2);
	memset(big, ' ', 6 * 1024 * 1024 + 1);
	big[0] = '1';
	send_raw(h, "POST", F "fn/invocations", big, 6 * 1024 * 1024 + 1, NULL, 0);
	expect_error(h, 413, "RequestTooLargeException", NULL);
	free(big);
	call(h, "POST", F "ghost/invocations", "{}");
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	free(sha);
}

static void
test_emu__invoke_weighted_routing(void **state)
{
	struct h *h = *state;
	int i, ones = 0, twos = 0;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	update_description(h, "fn", "x");
	publish(h, "fn", "2");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"live\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"2\":0.3}}}");
	assert_int_equal(h->status, 201);
	for (i = 0; i < 1000; i++) {
		call(h, "POST", F "fn/invocations?Qualifier=live", "{}");
		assert_int_equal(h->status, 200);
		if (strcmp(header(h, "X-Amz-Executed-Version"), "1") == 0)
			ones++;
		else if (strcmp(header(h, "X-Amz-Executed-Version"), "2") == 0)
			twos++;
	}
	assert_int_equal(ones + twos, 1000);
	assert_in_range(twos, 240, 360); /* weight 0.3 from a deterministic generator */
	call(h, "PUT", F "fn/aliases/live",
	    "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.0}}}");
	for (i = 0; i < 50; i++) {
		call(h, "POST", F "fn/invocations?Qualifier=live", "{}");
		assert_string_equal(header(h, "X-Amz-Executed-Version"), "1");
	}
	call(h, "PUT", F "fn/aliases/live",
	    "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":1.0}}}");
	for (i = 0; i < 50; i++) {
		call(h, "POST", F "fn/invocations?Qualifier=live", "{}");
		assert_string_equal(header(h, "X-Amz-Executed-Version"), "2");
	}
}

/* Deletes. */

static void
test_emu__delete_version_rules(void **state)
{
	struct h *h = *state;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	update_description(h, "fn", "b");
	publish(h, "fn", "2");
	update_description(h, "fn", "c");
	publish(h, "fn", "3");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"live\",\"FunctionVersion\":\"2\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.1}}}");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"beta\",\"FunctionVersion\":\"2\"}");
	call(h, "DELETE", F "fn?Qualifier=2", NULL);
	expect_error(h, 409, "ResourceConflictException",
	    "Unable to delete version because the following aliases reference it: [beta, live]");
	call(h, "DELETE", F "fn?Qualifier=1", NULL); /* referenced by weight only */
	expect_error(h, 409, "ResourceConflictException",
	    "Unable to delete version because the following aliases reference it: [live]");
	call(h, "DELETE", F "fn?Qualifier=%24LATEST", NULL);
	expect_error(h, 400, "InvalidParameterValueException",
	    "$LATEST version cannot be deleted without deleting the function.");
	call(h, "DELETE", F "fn?Qualifier=42", NULL);
	assert_int_equal(h->status, 204);
	call(h, "DELETE", F "fn?Qualifier=live", NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	/* An event source mapping on a qualified ARN, and provisioned concurrency, pin too. */
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"" ARN_PREFIX "fn:3\","
	    "\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:q\"}");
	assert_int_equal(h->status, 202);
	call(h, "DELETE", F "fn?Qualifier=3", NULL);
	expect_error(h, 409, "ResourceConflictException", NULL);
	update_description(h, "fn", "d");
	publish(h, "fn", "4");
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=4",
	    "{\"ProvisionedConcurrentExecutions\":2}");
	assert_int_equal(h->status, 202);
	call(h, "DELETE", F "fn?Qualifier=4", NULL);
	expect_error(h, 409, "ResourceConflictException", NULL);
	/* Deleting the function takes versions, aliases and configs; mappings stay. */
	call(h, "DELETE", F "fn", NULL);
	assert_int_equal(h->status, 204);
	call(h, "GET", F "fn", NULL);
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	call(h, "GET", "/2015-03-31/event-source-mappings/?FunctionName=fn", NULL);
	assert_int_equal(jlen(h, "EventSourceMappings"), 1);
	call(h, "DELETE", F "fn", NULL);
	expect_error(h, 404, "ResourceNotFoundException", NULL);
}

/* Pagination. */

static void
test_emu__list_functions_pages(void **state)
{
	struct h *h = *state;
	char name[64], *marker = NULL, *target;
	struct buf t = BUF_INIT(1024);
	int i, pages = 0, total = 0;

	for (i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "fn-%03d", i);
		create_zip(h, name, name);
	}
	h->now += CREATE_MS;
	do {
		buf_reset(&t);
		(void)buf_puts(&t, "/2015-03-31/functions/");
		if (marker != NULL) {
			(void)buf_puts(&t, "?Marker=");
			(void)uri_encode(&t, marker, strlen(marker), false);
		}
		call(h, "GET", buf_cstr(&t), NULL);
		assert_int_equal(h->status, 200);
		total += (int)jlen(h, "Functions");
		assert_true(jlen(h, "Functions") <= 50);
		for (i = 0; i < (int)jlen(h, "Functions"); i++) {
			snprintf(name, sizeof(name), "Functions.%d.State", i);
			assert_null(jget(h, name)); /* the six status fields are not listed */
			snprintf(name, sizeof(name), "Functions.%d.LastUpdateStatus", i);
			assert_null(jget(h, name));
		}
		free(marker);
		marker = js(h, "NextMarker") != NULL ? xstrdup(js(h, "NextMarker")) : NULL;
		pages++;
	} while (marker != NULL);
	assert_int_equal(total, 120);
	assert_int_equal(pages, 3);
	call(h, "GET", "/2015-03-31/functions?MaxItems=7", NULL);
	assert_int_equal(jlen(h, "Functions"), 7);
	assert_string_equal(js(h, "Functions.0.FunctionName"), "fn-000");
	assert_non_null(js(h, "NextMarker"));
	call(h, "GET", "/2015-03-31/functions/?MaxItems=0", NULL);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "GET", "/2015-03-31/functions/?Marker=garbage", NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "GET", "/2015-03-31/functions/?FunctionVersion=SOME", NULL);
	expect_error(h, 400, "ValidationException", NULL);
	/* FunctionVersion=ALL lists published versions too. */
	publish(h, "fn-000", "1");
	call(h, "GET", "/2015-03-31/functions/?FunctionVersion=ALL&MaxItems=3", NULL);
	assert_int_equal(jlen(h, "Functions"), 3);
	assert_string_equal(js(h, "Functions.0.FunctionArn"), ARN_PREFIX "fn-000:$LATEST");
	assert_string_equal(js(h, "Functions.1.FunctionArn"), ARN_PREFIX "fn-000:1");
	assert_string_equal(js(h, "Functions.2.FunctionName"), "fn-001");
	target = xasprintf(
	    "/2015-03-31/functions/?FunctionVersion=ALL&MaxItems=1&Marker=%s", js(h, "NextMarker"));
	buf_reset(&t);
	(void)buf_puts(&t, "/2015-03-31/functions/?FunctionVersion=ALL&MaxItems=1&Marker=");
	(void)uri_encode(&t, js(h, "NextMarker"), strlen(js(h, "NextMarker")), false);
	call(h, "GET", buf_cstr(&t), NULL);
	assert_string_equal(js(h, "Functions.0.FunctionArn"), ARN_PREFIX "fn-002:$LATEST");
	free(target);
	buf_free(&t);
}

static void
test_emu__list_versions_pages(void **state)
{
	struct h *h = *state;
	char desc[16], *marker;
	struct buf t = BUF_INIT(1024);
	int i;

	ready_zip(h, "fn", "a");
	for (i = 1; i <= 55; i++) {
		snprintf(desc, sizeof(desc), "v%d", i);
		update_description(h, "fn", desc);
		snprintf(desc, sizeof(desc), "%d", i);
		publish(h, "fn", desc);
	}
	call(h, "GET", F "fn/versions", NULL);
	assert_int_equal(jlen(h, "Versions"), 50);
	assert_string_equal(js(h, "Versions.0.Version"), "$LATEST");
	assert_string_equal(js(h, "Versions.49.Version"), "49");
	assert_null(jget(h, "Versions.0.State"));
	marker = xstrdup(js(h, "NextMarker"));
	(void)buf_puts(&t, F "fn/versions?Marker=");
	(void)uri_encode(&t, marker, strlen(marker), false);
	call(h, "GET", buf_cstr(&t), NULL);
	assert_int_equal(jlen(h, "Versions"), 6);
	assert_string_equal(js(h, "Versions.0.Version"), "50");
	assert_string_equal(js(h, "Versions.5.Version"), "55");
	assert_null(jget(h, "NextMarker"));
	call(h, "GET", F "fn/versions?MaxItems=1", NULL);
	assert_int_equal(jlen(h, "Versions"), 1);
	free(marker);
	buf_free(&t);
}

/* Layers. */

static void
test_emu__layers(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("layer"), *sha = zip_sha("layer");
	int i;

	for (i = 1; i <= 3; i++) {
		call(h, "POST", "/2018-10-31/layers/deps/versions",
		    "{\"Content\":{\"ZipFile\":\"%s\"},\"Description\":\"d%d\","
		    "\"CompatibleRuntimes\":[\"python3.9\"],\"LicenseInfo\":\"MIT\"}",
		    b64, i);
		assert_int_equal(h->status, 201);
		assert_int_equal(ji(h, "Version"), i);
	}
	assert_string_equal(js(h, "LayerArn"), "arn:aws:lambda:us-east-1:123456789012:layer:deps");
	assert_string_equal(
	    js(h, "LayerVersionArn"), "arn:aws:lambda:us-east-1:123456789012:layer:deps:3");
	assert_string_equal(js(h, "Content.CodeSha256"), sha);
	assert_int_equal(ji(h, "Content.CodeSize"), 9);
	call(h, "GET", "/2018-10-31/layers/deps/versions/2", NULL);
	assert_string_equal(js(h, "Description"), "d2");
	call(h, "GET",
	    "/2018-10-31/layers/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Alayer%3Adeps/"
	    "versions/1",
	    NULL);
	assert_string_equal(js(h, "Description"), "d1");
	call(h, "GET", "/2018-10-31/layers/deps/versions/9", NULL);
	expect_error(
	    h, 404, "ResourceNotFoundException", "The resource you requested does not exist.");
	call(h, "GET", "/2018-10-31/layers/deps/versions/0", NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "GET",
	    "/2018-10-31/layers?find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A"
	    "123456789012%3Alayer%3Adeps%3A3",
	    NULL);
	assert_int_equal(h->status, 200);
	assert_int_equal(ji(h, "Version"), 3);
	call(h, "GET", "/2018-10-31/layers?find=LayerVersion&Arn=nope", NULL);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "GET", "/2018-10-31/layers/deps/versions", NULL);
	assert_int_equal(jlen(h, "LayerVersions"), 3);
	assert_int_equal(ji(h, "LayerVersions.0.Version"), 3); /* newest first */
	assert_null(jget(h, "LayerVersions.0.Content"));
	call(h, "GET", "/2018-10-31/layers/deps/versions?CompatibleRuntime=nodejs18.x", NULL);
	assert_int_equal(jlen(h, "LayerVersions"), 0);
	call(h, "GET", "/2018-10-31/layers/none/versions", NULL);
	assert_int_equal(jlen(h, "LayerVersions"), 0);
	/* Function layers: this account's must exist; other accounts' are taken as given. */
	ready_zip(h, "fn", "a");
	call(h, "PUT", F "fn/configuration",
	    "{\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:deps:2\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:shared:7\"]}");
	assert_int_equal(h->status, 200);
	assert_int_equal(jlen(h, "Layers"), 2);
	assert_int_equal(ji(h, "Layers.0.CodeSize"), 9);
	h->now += UPDATE_MS;
	call(h, "PUT", F "fn/configuration",
	    "{\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:deps:8\"]}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Layer version arn:aws:lambda:us-east-1:123456789012:layer:deps:8 does not exist.");
	call(h, "PUT", F "fn/configuration",
	    "{\"Layers\":[\"arn:aws:lambda:us-east-1:123456789012:layer:deps:1\","
	    "\"arn:aws:lambda:us-east-1:123456789012:layer:deps:2\"]}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "PUT", F "fn/configuration",
	    "{\"Layers\":[\"arn:aws:lambda:us-east-1:1:layer:a:1\","
	    "\"arn:aws:lambda:us-east-1:1:layer:b:1\"]}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "PUT", F "fn/configuration",
	    "{\"Layers\":[\"arn:aws:lambda:us-east-1:999999999999:layer:a:1\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:b:1\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:c:1\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:d:1\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:e:1\","
	    "\"arn:aws:lambda:us-east-1:999999999999:layer:f:1\"]}");
	expect_error(
	    h, 400, "InvalidParameterValueException", "Cannot reference more than 5 layers.");
	call(h, "PUT", F "fn/configuration", "{\"Layers\":[]}");
	assert_int_equal(h->status, 200);
	assert_null(jget(h, "Layers"));
	free(b64);
	free(sha);
}

/* Tags. */

static void
test_emu__tags(void **state)
{
	struct h *h = *state;
	char *b64 = zip_b64("a"), *rev;
	const char *tags = "/2017-03-31/tags/"
	                   "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn";

	call(h, "POST", "/2015-03-31/functions",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"%s\"},\"Tags\":{\"team\":\"a\"}}",
	    b64);
	assert_int_equal(h->status, 201);
	h->now += CREATE_MS;
	call(h, "GET", F "fn", NULL);
	assert_string_equal(js(h, "Tags.team"), "a");
	rev = xstrdup(js(h, "Configuration.RevisionId"));
	call(h, "POST", tags, "{\"Tags\":{\"managed-by\":\"tether\",\"team\":\"b\"}}");
	assert_int_equal(h->status, 204);
	assert_int_equal(h->reply.body.len, 0);
	call(h, "GET", tags, NULL);
	assert_string_equal(js(h, "Tags.managed-by"), "tether");
	assert_string_equal(js(h, "Tags.team"), "b");
	call(h, "GET", F "fn", NULL);
	assert_string_not_equal(js(h, "Configuration.RevisionId"), rev);
	call(h, "DELETE",
	    "/2017-03-31/tags/"
	    "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn"
	    "?tagKeys=team&tagKeys=nothing",
	    NULL);
	assert_int_equal(h->status, 204);
	call(h, "GET", tags, NULL);
	assert_int_equal(jlen(h, "Tags"), 1);
	call(h, "DELETE", tags, NULL);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "GET", "/2017-03-31/tags/fn", NULL);
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "GET",
	    "/2017-03-31/tags/"
	    "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn%3A1",
	    NULL);
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "GET",
	    "/2017-03-31/tags/"
	    "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aghost",
	    NULL);
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	call(h, "POST", tags, "{\"Tags\":{}}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "POST", tags, "{\"Tags\":{\"aws:x\":\"y\"}}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	free(b64);
	free(rev);
}

/* Event source mappings and provisioned concurrency. */

static void
test_emu__esm_and_pc(void **state)
{
	struct h *h = *state;

	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	call(h, "POST", F "fn/aliases", "{\"Name\":\"live\",\"FunctionVersion\":\"1\"}");
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"fn:live\",\"EventSourceArn\":"
	    "\"arn:aws:kinesis:us-east-1:123456789012:stream/s\",\"StartingPosition\":\"LATEST\"}");
	assert_int_equal(h->status, 202);
	assert_string_equal(js(h, "FunctionArn"), ARN_PREFIX "fn:live");
	assert_string_equal(js(h, "State"), "Creating");
	assert_int_equal(ji(h, "BatchSize"), 100);
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"fn:live\",\"EventSourceArn\":"
	    "\"arn:aws:kinesis:us-east-1:123456789012:stream/s\",\"StartingPosition\":\"LATEST\"}");
	expect_error(h, 409, "ResourceConflictException", NULL);
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"fn\",\"EventSourceArn\":"
	    "\"arn:aws:kinesis:us-east-1:123456789012:stream/s\"}");
	expect_error(h, 400, "InvalidParameterValueException", NULL);
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"fn:9\",\"EventSourceArn\":"
	    "\"arn:aws:sqs:us-east-1:123456789012:q\"}");
	expect_error(h, 404, "ResourceNotFoundException", NULL);
	call(h, "POST", "/2015-03-31/event-source-mappings",
	    "{\"FunctionName\":\"fn\",\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:q\","
	    "\"BatchSize\":5}");
	assert_int_equal(h->status, 202);
	h->now += CREATE_MS;
	call(h, "GET", "/2015-03-31/event-source-mappings/?FunctionName=fn%3Alive", NULL);
	assert_int_equal(jlen(h, "EventSourceMappings"), 1);
	assert_string_equal(js(h, "EventSourceMappings.0.State"), "Enabled");
	call(h, "GET", "/2015-03-31/event-source-mappings/?FunctionName=fn", NULL);
	assert_int_equal(jlen(h, "EventSourceMappings"), 2);
	call(h, "GET", "/2015-03-31/event-source-mappings/?MaxItems=1", NULL);
	assert_int_equal(jlen(h, "EventSourceMappings"), 1);
	assert_non_null(js(h, "NextMarker"));
	/* Provisioned concurrency. */
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=%24LATEST",
	    "{\"ProvisionedConcurrentExecutions\":1}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=live",
	    "{\"ProvisionedConcurrentExecutions\":0}");
	expect_error(h, 400, "ValidationException", NULL);
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=ghost",
	    "{\"ProvisionedConcurrentExecutions\":1}");
	expect_error(
	    h, 404, "ResourceNotFoundException", "Cannot find alias arn: " ARN_PREFIX "fn:ghost");
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=live",
	    "{\"ProvisionedConcurrentExecutions\":3}");
	assert_int_equal(h->status, 202);
	assert_string_equal(js(h, "Status"), "IN_PROGRESS");
	assert_int_equal(ji(h, "RequestedProvisionedConcurrentExecutions"), 3);
	call(h, "PUT", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=1",
	    "{\"ProvisionedConcurrentExecutions\":3}");
	expect_error(h, 409, "ResourceConflictException",
	    "Version is pointed by a Provisioned Concurrency alias");
	update_description(h, "fn", "b");
	publish(h, "fn", "2");
	call(h, "PUT", F "fn/aliases/live",
	    "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.5}}}");
	expect_error(h, 400, "InvalidParameterValueException",
	    "Alias with weights can not be used with Provisioned Concurrency");
	h->now += CREATE_MS;
	call(h, "GET", "/2019-09-30/functions/fn/provisioned-concurrency?List=ALL", NULL);
	assert_int_equal(jlen(h, "ProvisionedConcurrencyConfigs"), 1);
	assert_string_equal(
	    js(h, "ProvisionedConcurrencyConfigs.0.FunctionArn"), ARN_PREFIX "fn:live");
	assert_string_equal(js(h, "ProvisionedConcurrencyConfigs.0.Status"), "READY");
	assert_int_equal(
	    ji(h, "ProvisionedConcurrencyConfigs.0.AllocatedProvisionedConcurrentExecutions"), 3);
	/* Deleting the alias drops its configuration. */
	call(h, "DELETE", F "fn/aliases/live", NULL);
	call(h, "GET", "/2019-09-30/functions/fn/provisioned-concurrency?List=ALL", NULL);
	assert_int_equal(jlen(h, "ProvisionedConcurrencyConfigs"), 0);
}

/* Error shapes. */

static void
test_emu__error_shapes(void **state)
{
	struct h *h = *state;

	(void)state;
	emu_reply_error(&h->reply, 409, "ResourceConflictException", "x %d", 1);
	assert_int_equal(h->reply.status, 409);
	assert_string_equal(h->reply.error_type, "ResourceConflictException");
	assert_string_equal(buf_cstr(&h->reply.body), "{\"Type\":\"User\",\"message\":\"x 1\"}");
	assert_non_null(strstr(buf_cstr(&h->reply.headers), "Content-Type: application/json\r\n"));
	emu_reply_error(&h->reply, 404, "ResourceNotFoundException", "nf");
	assert_string_equal(buf_cstr(&h->reply.body), "{\"Type\":\"User\",\"Message\":\"nf\"}");
	emu_reply_error(&h->reply, 500, "ServiceException", "boom");
	assert_string_equal(
	    buf_cstr(&h->reply.body), "{\"Type\":\"Service\",\"Message\":\"boom\"}");
	emu_reply_error(&h->reply, 429, "TooManyRequestsException", "Rate exceeded");
	assert_string_equal(
	    buf_cstr(&h->reply.body), "{\"Type\":\"User\",\"message\":\"Rate exceeded\"}");
	emu_reply_error(&h->reply, 400, "ValidationException", "v \"q\" \x01 \xff");
	assert_string_equal(
	    buf_cstr(&h->reply.body), "{\"message\":\"v \\\"q\\\" \\u0001 \xef\xbf\xbd\"}");
}

/* Persistence. */

static void
test_emu__save_load_round_trip(void **state)
{
	struct h *h = *state;
	struct err err = ERR_INIT;
	char dir[256], *path, *rev_latest, *rev_alias, *bad_path;
	char *b64 = zip_b64("layer");
	FILE *f;

	assert_int_equal(tmpdir_make(dir, sizeof(dir), "test_emu"), 0);
	path = xasprintf("%s/model.json", dir);
	bad_path = xasprintf("%s/bad.json", dir);
	ready_zip(h, "fn", "a");
	publish(h, "fn", "1");
	update_description(h, "fn", "b");
	publish(h, "fn", "2");
	call(h, "POST", F "fn/aliases",
	    "{\"Name\":\"live\",\"FunctionVersion\":\"2\",\"RoutingConfig\":{"
	    "\"AdditionalVersionWeights\":{\"1\":0.2}}}");
	rev_alias = xstrdup(js(h, "RevisionId"));
	call(h, "POST", "/2018-10-31/layers/deps/versions", "{\"Content\":{\"ZipFile\":\"%s\"}}",
	    b64);
	call(h, "POST", "/2015-03-31/event-source-mappings/",
	    "{\"FunctionName\":\"fn:1\",\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:"
	    "q\"}");
	assert_int_equal(emu_set_invoke(h->emu, IMAGE ":v1", "{\"ok\":true}", NULL, &err), 0);
	create_image(h, "img", "v1");
	call(h, "POST",
	    "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn",
	    "{\"Tags\":{\"k\":\"v\"}}");
	rev_latest = revision_of(h, F "fn");
	assert_int_equal(emu_save(h->emu, path, h->now, &err), 0);
	assert_int_equal(access(path, R_OK), 0);

	emu_reset(h->emu);
	call(h, "GET", F "fn", NULL);
	assert_int_equal(h->status, 404);
	h->now = 10; /* a restarted process: the monotonic clock starts over */
	assert_int_equal(emu_load(h->emu, path, h->now, &err), 0);
	call(h, "GET", F "fn", NULL);
	assert_int_equal(h->status, 200);
	assert_string_equal(js(h, "Configuration.RevisionId"), rev_latest);
	assert_string_equal(js(h, "Tags.k"), "v");
	call(h, "GET", F "fn/aliases/live", NULL);
	assert_string_equal(js(h, "RevisionId"), rev_alias);
	assert_true(json_real_value(jget(h, "RoutingConfig.AdditionalVersionWeights.1")) == 0.2);
	call(h, "GET", F "img/configuration", NULL);
	assert_string_equal(js(h, "State"), "Active"); /* the open window was completed */
	call(h, "POST", F "img/invocations", "{}");
	assert_string_equal(buf_cstr(&h->reply.body), "{\"ok\":true}");
	call(h, "GET", "/2018-10-31/layers/deps/versions/1", NULL);
	assert_int_equal(h->status, 200);
	call(h, "DELETE", F "fn?Qualifier=1", NULL);
	assert_int_equal(h->status, 409); /* still pinned by alias and mapping */
	/* Counters continue: clean $LATEST returns 2, the next change publishes 3. */
	publish(h, "fn", "2");
	update_description(h, "fn", "c");
	publish(h, "fn", "3");

	/* A broken file leaves the model empty and says why. */
	f = fopen(bad_path, "w");
	assert_non_null(f);
	fputs("{\"format\":\"tether-emulator-model/1\",\"prng\":\"1\",\"esm_seq\":0,"
	      "\"functions\":[{\"name\":\"x\",\"config\":{}}],\"layers\":[],"
	      "\"event_source_mappings\":[],\"invoke_results\":[]}",
	    f);
	fclose(f);
	assert_int_equal(emu_load(h->emu, bad_path, h->now, &err), -1);
	assert_true(strlen(err.message) > 0);
	call(h, "GET", F "fn", NULL);
	assert_int_equal(h->status, 404);
	call(h, "GET", F "x", NULL);
	assert_int_equal(h->status, 404);
	assert_int_equal(emu_load(h->emu, "/nonexistent/model.json", h->now, &err), -1);

	assert_int_equal(tmpdir_remove(dir), 0);
	free(path);
	free(bad_path);
	free(rev_latest);
	free(rev_alias);
	free(b64);
}

/* Bad input must never crash the model (ASan watches this one). */

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_emu__garbage_does_not_crash(void **state)
{
	struct h *h = *state;
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
	static const char *const paths[] = {F "fn", F "fn/configuration", F "fn/code",
	    F "fn/versions", F "fn/aliases", F "fn/aliases/a", F "fn/invocations",
	    "/2015-03-31/functions", "/2018-10-31/layers/l/versions",
	    "/2018-10-31/layers/l/versions/1",
	    "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn",
	    "/2015-03-31/event-source-mappings/",
	    "/2019-09-30/functions/fn/provisioned-concurrency"};
	static const char *const bodies[] = {"", "{}", "null", "[]", "{\"FunctionName\":null}",
	    "{\"Code\":[],\"Role\":1,\"Layers\":{\"a\":1},\"Environment\":{\"Variables\":[1]}}",
	    "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"1\":\"x\",\"\":-1}}}",
	    "{\"Content\":{\"ZipFile\":\"@@@\"},\"Tags\":{\"a\":[]}}", "{\"Name\":\"\"}",
	    "{\"FunctionName\":\"fn\",\"Runtime\":\"python3.9\",\"Role\":\"" ROLE "\","
	    "\"Handler\":\"h\",\"Code\":{\"ZipFile\":\"UEsDBA==\"}}",
	    "{\"FunctionVersion\":\"1\",\"Name\":\"a\"}", "{\"ProvisionedConcurrentExecutions\":1}",
	    "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:123456789012:q\",\"FunctionName\":\"fn\"}",
	    "\"\\u0000\"", "{\"Description\":\"\\ud800\"}"};
	char target[512], body[256];
	uint64_t s = 42;
	size_t i, j, n;

	for (i = 0; i < 20000; i++) {
		snprintf(target, sizeof(target), "%s", paths[next(&s) % nitems(paths)]);
		if (next(&s) % 4 == 0) {
			/* Flip bytes of the path, the query, or add junk escapes. */
			n = strlen(target);
			for (j = 0; j < 3; j++)
				target[next(&s) % n] = (char)(next(&s) % 255 + 1);
		}
		if (next(&s) % 3 == 0) {
			n = strlen(target);
			snprintf(target + n, sizeof(target) - n,
			    "?Qualifier=%s&Marker=%%%02x&MaxItems=%d", next(&s) % 2 ? "1" : "live",
			    (unsigned)(next(&s) % 256), (int)(next(&s) % 100) - 10);
		}
		if (next(&s) % 5 == 0) {
			n = next(&s) % sizeof(body);
			for (j = 0; j < n; j++)
				body[j] = (char)(next(&s) % 256);
			send_raw(h, methods[next(&s) % 4], target, body, n, NULL, 0);
		} else {
			const char *b = bodies[next(&s) % nitems(bodies)];

			send_raw(h, methods[next(&s) % 4], target, b, strlen(b), NULL, 0);
		}
		assert_true(h->status >= 200 && h->status < 600);
		if (i % 1000 == 0)
			h->now += 1000;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_emu__route),
	    cmocka_unit_test_setup_teardown(test_emu__unknown_operation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__create_zip_shape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__create_image_shape, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__pending_becomes_active_lazily, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__pending_refuses_updates_publish_invoke, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__update_in_progress_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__stale_revision_412, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__publish_check_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__publish_dirty_flag_and_numbers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__versions_are_frozen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__function_name_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__not_found_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__create_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__update_configuration_partial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__update_code_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__alias_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__alias_routing_role_must_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__alias_qualifier_resolves, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_emu__list_aliases_filter_and_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__invoke, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__invoke_weighted_routing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__delete_version_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__list_functions_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__list_versions_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__tags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__esm_and_pc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__error_shapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__save_load_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emu__garbage_does_not_crash, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
