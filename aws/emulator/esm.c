#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/esm.h"
#include "aws/emulator/model.h"
#include "aws/emulator/page.h"
#include "common/xmalloc.h"

#define SOURCE_ARN_PATTERN                                                                         \
	"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*" \
	")"

static const char *const positions[] = {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", NULL};

/* The service of an event source ARN ("sqs", "kinesis", ...) into out; false if malformed. */
static bool
source_service(const char *arn, char out[64])
{
	const char *p, *colon;
	char region[64];
	size_t i;

	if (strncmp(arn, "arn:aws", 7) != 0)
		return false;
	p = strchr(arn + 4, ':');
	if (p == NULL)
		return false;
	p++;
	colon = strchr(p, ':');
	if (colon == NULL || colon == p || colon - p >= 64)
		return false;
	for (i = 0; p + i < colon; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		        (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return false;
	memcpy(out, p, (size_t)(colon - p));
	out[colon - p] = '\0';
	/* region: empty or a region; account: empty or 12 digits */
	p = colon + 1;
	colon = strchr(p, ':');
	if (colon == NULL)
		return false;
	if (colon != p) {
		if (colon - p >= 64)
			return false;
		memcpy(region, p, (size_t)(colon - p));
		region[colon - p] = '\0';
		if (!arn_region_ok(region))
			return false;
	}
	p = colon + 1;
	colon = strchr(p, ':');
	if (colon == NULL)
		return false;
	if (colon != p) {
		if (colon - p != 12)
			return false;
		for (i = 0; i < 12; i++)
			if (p[i] < '0' || p[i] > '9')
				return false;
	}
	return true;
}

struct range {
	const char *key;
	const char *field;
	int64_t min;
	int64_t max;
};

static const struct range ranges[] = {
    {"BatchSize", "batchSize", 1, 10000},
    {"MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300},
    {"ParallelizationFactor", "parallelizationFactor", 1, 10},
    {"MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800},
    {"MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000},
    {"TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900},
};

/* Members copied into the mapping as given. */
static const char *const passthrough[] = {"FilterCriteria", "Topics", "Queues",
    "SourceAccessConfigurations", "SelfManagedEventSource", "FunctionResponseTypes",
    "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "DestinationConfig",
    NULL};

static void
render_esm(struct jsonw *w, const struct model_esm *esm, uint64_t now)
{
	const char *state = now < esm->active_at ? "Creating"
	                    : esm->enabled       ? "Enabled"
	                                         : "Disabled";
	json_t *out = json_copy(esm->config);

	json_object_set_new(out, "State", json_string(state));
	jsonw_json(w, out);
	json_decref(out);
}

void
esm_create(struct req *r)
{
	struct model_name n;
	struct model_target t;
	struct model_esm *esm, *other;
	const char *fname, *source, *position;
	char service[64] = "";
	bool enabled = true, stream, b;
	int64_t v;
	double ts;
	char *fn_arn = NULL;
	const json_t *m;
	const char *other_arn;
	json_t *cfg;
	struct jsonw w;
	size_t i;

	if (req_body(r) != 0)
		return;
	fname = req_str(r, r->body, "FunctionName");
	(void)model_parse_name(r, fname, NULL, MODEL_NAME_PLAIN, &n);
	source = req_str(r, r->body, "EventSourceArn");
	req_check_pattern(r, "eventSourceArn", source,
	    source == NULL || source_service(source, service), SOURCE_ARN_PATTERN);
	(void)req_bool(r, r->body, "Enabled", &enabled);
	for (i = 0; i < nitems(ranges); i++)
		if (req_int(r, r->body, ranges[i].key, &v))
			req_check_range(r, ranges[i].field, v, ranges[i].min, ranges[i].max);
	position = req_str(r, r->body, "StartingPosition");
	if (position != NULL)
		(void)req_check_enum(r, "startingPosition", position, positions);
	(void)req_bool(r, r->body, "BisectBatchOnFunctionError", &b);
	(void)req_double(r, r->body, "StartingPositionTimestamp", &ts);
	if (req_failed(r) || model_check_name(r, &n) != 0)
		return;
	if (source == NULL && req_obj(r, r->body, "SelfManagedEventSource") == NULL) {
		req_error(r, 400, "InvalidParameterValueException", "Unrecognized event source.");
		return;
	}
	stream = strcmp(service, "kinesis") == 0 || strcmp(service, "dynamodb") == 0 ||
	         strcmp(service, "kafka") == 0 || source == NULL;
	if (stream && position == NULL) {
		req_error(r, 400, "InvalidParameterValueException",
		    "1 validation error detected: Value null at 'startingPosition' failed to "
		    "satisfy "
		    "constraint: Member must not be null.");
		return;
	}
	if (model_resolve(r, n.parts.name, n.qualifier, &t) != 0)
		return;
	fn_arn = model_fn_arn(r->emu, n.parts.name, n.qualifier);
	for (i = 0; source != NULL && i < r->emu->esms.n; i++) {
		other = r->emu->esms.v[i];
		other_arn = json_string_value(json_object_get(other->config, "FunctionArn"));
		if (other->source_arn == NULL || strcmp(other->source_arn, source) != 0 ||
		    other_arn == NULL || strcmp(other_arn, fn_arn) != 0)
			continue;
		if (strcmp(service, "sqs") == 0)
			req_error(r, 409, "ResourceConflictException",
			    "An event source mapping with SQS arn (\" %s \") and function (\" %s "
			    "\") "
			    "already exists. Please update or delete the existing mapping with "
			    "UUID %s",
			    source, n.parts.name, other->uuid);
		else
			req_error(r, 409, "ResourceConflictException",
			    "The event source arn (\" %s \") and function (\" %s \") provided "
			    "mapping "
			    "already exists. Please update or delete the existing mapping with "
			    "UUID %s",
			    source, n.parts.name, other->uuid);
		free(fn_arn);
		return;
	}

	esm = xcalloc(1, sizeof(*esm));
	model_revision(esm->uuid);
	esm->seq = ++r->emu->esm_seq;
	esm->fn_name = xstrdup(n.parts.name);
	esm->qualifier = n.qualifier != NULL ? xstrdup(n.qualifier) : NULL;
	esm->source_arn = source != NULL ? xstrdup(source) : NULL;
	esm->enabled = enabled;
	esm->active_at = r->now + r->emu->create_delay_ms;
	cfg = json_object();
	json_object_set_new(cfg, "UUID", json_string(esm->uuid));
	if (!req_int(r, r->body, "BatchSize", &v))
		v = strcmp(service, "sqs") == 0 ? 10 : 100;
	json_object_set_new(cfg, "BatchSize", json_integer(v));
	if (!req_int(r, r->body, "MaximumBatchingWindowInSeconds", &v))
		v = 0;
	json_object_set_new(cfg, "MaximumBatchingWindowInSeconds", json_integer(v));
	if (source != NULL)
		json_object_set_new(cfg, "EventSourceArn", json_string(source));
	json_object_set_new(cfg, "FunctionArn", json_string(fn_arn));
	json_object_set_new(cfg, "LastModified", json_real((double)r->wall / 1000.0));
	json_object_set_new(cfg, "StateTransitionReason", json_string("USER_INITIATED"));
	if (stream) {
		json_object_set_new(cfg, "StartingPosition", json_string(position));
		if (req_double(r, r->body, "StartingPositionTimestamp", &ts))
			json_object_set_new(cfg, "StartingPositionTimestamp", json_real(ts));
		if (!req_int(r, r->body, "ParallelizationFactor", &v))
			v = 1;
		json_object_set_new(cfg, "ParallelizationFactor", json_integer(v));
		if (!req_int(r, r->body, "MaximumRecordAgeInSeconds", &v))
			v = -1;
		json_object_set_new(cfg, "MaximumRecordAgeInSeconds", json_integer(v));
		b = false;
		(void)req_bool(r, r->body, "BisectBatchOnFunctionError", &b);
		json_object_set_new(cfg, "BisectBatchOnFunctionError", json_boolean(b));
		if (!req_int(r, r->body, "MaximumRetryAttempts", &v))
			v = -1;
		json_object_set_new(cfg, "MaximumRetryAttempts", json_integer(v));
		if (!req_int(r, r->body, "TumblingWindowInSeconds", &v))
			v = 0;
		json_object_set_new(cfg, "TumblingWindowInSeconds", json_integer(v));
		json_object_set_new(
		    cfg, "LastProcessingResult", json_string("No records processed"));
		json_object_set_new(cfg, "DestinationConfig", json_pack("{s:{}}", "OnFailure"));
	}
	json_object_set_new(cfg, "FunctionResponseTypes", json_array());
	for (i = 0; passthrough[i] != NULL; i++) {
		m = json_object_get(r->body, passthrough[i]);
		if (m != NULL && !json_is_null(m))
			json_object_set_new(cfg, passthrough[i], json_deep_copy(m));
	}
	esm->config = cfg;
	vec_push(&r->emu->esms, esm);
	req_json_begin(r, 202, &w);
	render_esm(&w, esm, r->now);
	req_json_end(r, &w);
	free(fn_arn);
}

void
esm_list(struct req *r)
{
	struct model_name n;
	const struct model_esm *esm;
	const char *fname, *source;
	char *key = NULL, *marker = NULL, last[32];
	char service[64];
	size_t size, count = 0, i;
	uint64_t after = 0;
	bool more = false, filter_fn;
	struct jsonw w;

	fname = req_query(r, "FunctionName");
	filter_fn = fname != NULL;
	if (filter_fn)
		(void)model_parse_name(r, fname, NULL, MODEL_NAME_PLAIN, &n);
	source = req_query(r, "EventSourceArn");
	req_check_pattern(r, "eventSourceArn", source,
	    source == NULL || source_service(source, service), SOURCE_ARN_PATTERN);
	size = page_size(r, 10000);
	if (req_failed(r) || (filter_fn && model_check_name(r, &n) != 0))
		return;
	if (page_start(r, "event-source-mappings", &key) != 0)
		return;
	if (key != NULL && !arn_version_number(key, &after)) {
		req_error(r, 400, "InvalidParameterValueException", "Invalid marker: %s",
		    req_query(r, "Marker"));
		free(key);
		return;
	}
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "EventSourceMappings");
	jsonw_array_open(&w);
	for (i = 0; i < r->emu->esms.n; i++) {
		esm = r->emu->esms.v[i];
		if (esm->seq <= after)
			continue;
		if (source != NULL &&
		    (esm->source_arn == NULL || strcmp(esm->source_arn, source) != 0))
			continue;
		/* A qualified name matches that qualifier only; a bare name every mapping of the
		 * function. */
		if (filter_fn &&
		    (strcmp(esm->fn_name, n.parts.name) != 0 ||
		        (n.qualifier != NULL &&
		            (esm->qualifier == NULL || strcmp(esm->qualifier, n.qualifier) != 0))))
			continue;
		if (count == size) {
			more = true;
			break;
		}
		render_esm(&w, esm, r->now);
		snprintf(last, sizeof(last), "%" PRIu64, esm->seq);
		count++;
	}
	jsonw_array_close(&w);
	if (more) {
		marker = page_marker("event-source-mappings", last);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}
