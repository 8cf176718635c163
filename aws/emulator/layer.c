#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/conf.h"
#include "aws/emulator/layer.h"
#include "aws/emulator/model.h"
#include "aws/emulator/page.h"
#include "aws/emulator/render.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

#define NOT_FOUND "The resource you requested does not exist."

static bool
layer_name_ok(const char *s)
{
	struct arn_layer a;

	return arn_name_ok(s, false) || arn_parse_layer(s, false, &a) == 0;
}

/*
 * Check a LayerName (a name or a layer ARN) and put the bare name into out. Violations are
 * collected; an ARN of another account or region is answered with 404 at once, since this
 * emulator holds only its own layers. Returns 0, 1 (violation collected), or -1 (answered).
 */
static int
parse_layer_name(struct req *r, const char *s, char out[ARN_PART_MAX])
{
	struct arn_layer a;

	out[0] = '\0';
	req_check_null(r, "layerName", s != NULL);
	if (s == NULL)
		return 1;
	req_check_length(r, "layerName", s, 1, ARN_LAYER_MAX);
	if (strlen(s) > ARN_LAYER_MAX || !layer_name_ok(s)) {
		req_check_pattern(r, "layerName", s, false, ARN_LAYER_NAME_PATTERN);
		return 1;
	}
	if (arn_parse_layer(s, false, &a) == 0) {
		if (strcmp(a.account, r->emu->account) != 0 ||
		    strcmp(a.region, r->emu->region) != 0)
			return 2;
		snprintf(out, ARN_PART_MAX, "%s", a.name);
		return 0;
	}
	snprintf(out, ARN_PART_MAX, "%s", s);
	return 0;
}

static const json_t *
string_enum_list(
    struct req *r, const json_t *arr, const char *field, const char *const *set, size_t max)
{
	const json_t *item;
	size_t i;
	char tmp[32];

	if (arr == NULL)
		return NULL;
	if (json_array_size(arr) > max) {
		snprintf(tmp, sizeof(tmp), "[%zu items]", json_array_size(arr));
		req_violation(
		    r, field, tmp, "Member must have length less than or equal to %zu", max);
	}
	json_array_foreach(arr, i, item)
	{
		if (!json_is_string(item)) {
			req_type_error(r, field, "a list of strings");
			continue;
		}
		(void)req_check_enum(r, field, json_string_value(item), set);
	}
	return arr;
}

static void
respond_layer(
    struct req *r, int status, const struct model_layer *layer, const struct model_layer_ver *lv)
{
	struct jsonw w;

	req_json_begin(r, status, &w);
	render_layer_version(&w, r->emu, layer, lv, true);
	req_json_end(r, &w);
}

void
layer_publish(struct req *r)
{
	char name[ARN_PART_MAX];
	const json_t *content, *runtimes, *archs;
	const char *description, *license, *zip, *bucket, *key, *version;
	unsigned char *data = NULL;
	size_t len = 0;
	struct model_layer *layer;
	struct model_layer_ver *lv;
	char uuid[MODEL_REVISION_LEN];
	int rc;

	if (req_body(r) != 0)
		return;
	rc = parse_layer_name(r, r->label[0], name);
	content = req_obj(r, r->body, "Content");
	req_check_null(r, "content", content != NULL);
	zip = req_str(r, content, "ZipFile");
	bucket = req_str(r, content, "S3Bucket");
	req_check_length(r, "content.s3Bucket", bucket, 3, 63);
	key = req_str(r, content, "S3Key");
	req_check_length(r, "content.s3Key", key, 1, 1024);
	version = req_str(r, content, "S3ObjectVersion");
	req_check_length(r, "content.s3ObjectVersion", version, 1, 1024);
	if (zip != NULL && crypto_base64_decode(zip, strlen(zip), &data, &len) != 0)
		req_type_error(r, "ZipFile", "base64-encoded bytes");
	description = req_str(r, r->body, "Description");
	req_check_length(r, "description", description, 0, 256);
	license = req_str(r, r->body, "LicenseInfo");
	req_check_length(r, "licenseInfo", license, 0, 512);
	runtimes = string_enum_list(
	    r, req_arr(r, r->body, "CompatibleRuntimes"), "compatibleRuntimes", conf_runtimes, 15);
	archs = string_enum_list(r, req_arr(r, r->body, "CompatibleArchitectures"),
	    "compatibleArchitectures", conf_architectures, 2);
	if (req_failed(r))
		goto out;
	if (rc == 2) {
		req_error(r, 403, "AccessDeniedException",
		    "User is not authorized to publish a layer in another account or region: %s",
		    r->label[0]);
		goto out;
	}
	if (data != NULL && (bucket != NULL || key != NULL)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please do not provide other LayerVersionContentInput parameters when "
		    "providing a "
		    "ZipFile.");
		goto out;
	}
	if (data == NULL && (bucket == NULL || key == NULL)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please provide a ZipFile, or an S3Bucket and S3Key, for the layer content.");
		goto out;
	}
	if (data != NULL && conf_check_zip(r, data, len) != 0)
		goto out;

	layer = model_layer_find(r->emu, name);
	if (layer == NULL) {
		layer = xcalloc(1, sizeof(*layer));
		layer->name = xstrdup(name);
		model_layer_add(r->emu, layer);
	}
	lv = xcalloc(1, sizeof(*lv));
	lv->version = ++layer->last_version;
	lv->description = xstrdup(description != NULL ? description : "");
	lv->license = license != NULL ? xstrdup(license) : NULL;
	lv->runtimes = runtimes != NULL ? json_deep_copy(runtimes) : NULL;
	lv->archs = archs != NULL ? json_deep_copy(archs) : NULL;
	if (data != NULL) {
		lv->code_sha256 = conf_zip_sha256(data, len);
		lv->code_size = (int64_t)len;
	} else {
		conf_s3_digest(bucket, key, version, &lv->code_sha256, &lv->code_size);
	}
	crypto_uuid(uuid);
	lv->code_path = xasprintf("layer-%s-%" PRIu64 "-%s", name, lv->version, uuid);
	lv->created = r->wall;
	vec_push(&layer->vers, lv);
	respond_layer(r, 201, layer, lv);
out:
	free(data);
}

static void
answer_version(struct req *r, const char *name, uint64_t version)
{
	struct model_layer *layer = model_layer_find(r->emu, name);
	struct model_layer_ver *lv = NULL;

	if (layer != NULL && version > 0)
		lv = model_layer_ver_find(layer, version);
	if (lv == NULL) {
		req_error(r, 404, "ResourceNotFoundException", NOT_FOUND);
		return;
	}
	respond_layer(r, 200, layer, lv);
}

void
layer_get(struct req *r)
{
	char name[ARN_PART_MAX];
	const char *vs = r->nlabels > 1 ? r->label[1] : "";
	long long v;
	char *end;
	uint64_t version = 0;
	int rc;

	rc = parse_layer_name(r, r->label[0], name);
	errno = 0;
	v = strtoll(vs, &end, 10);
	if (*vs == '\0' || *end != '\0' || errno != 0)
		req_type_error(r, "VersionNumber", "a long");
	if (req_failed(r))
		return;
	if (v < 1) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Layer Version Cannot be less than 1");
		return;
	}
	if (rc == 2) {
		req_error(r, 404, "ResourceNotFoundException", NOT_FOUND);
		return;
	}
	version = (uint64_t)v;
	answer_version(r, name, version);
}

void
layer_get_by_arn(struct req *r)
{
	const char *arn = req_query(r, "Arn");
	struct arn_layer a;
	bool ok;

	req_check_null(r, "arn", arn != NULL);
	req_check_length(r, "arn", arn, 1, ARN_LAYER_MAX);
	ok = arn != NULL && arn_parse_layer(arn, true, &a) == 0;
	req_check_pattern(r, "arn", arn, ok, ARN_LAYER_VERSION_PATTERN);
	if (req_failed(r))
		return;
	if (strcmp(a.account, r->emu->account) != 0 || strcmp(a.region, r->emu->region) != 0) {
		req_error(r, 404, "ResourceNotFoundException", NOT_FOUND);
		return;
	}
	answer_version(r, a.name, a.version);
}

static bool
json_list_has(const json_t *list, const char *s)
{
	const json_t *item;
	size_t i;

	json_array_foreach(list, i,
	    item) if (json_is_string(item) && strcmp(json_string_value(item), s) == 0) return true;
	return false;
}

/* ListLayerVersions: newest first; a layer that does not exist lists nothing. */
void
layer_list_versions(struct req *r)
{
	char name[ARN_PART_MAX], vname[24];
	const char *runtime, *arch;
	struct model_layer *layer;
	struct model_layer_ver *lv;
	char *key = NULL, *marker = NULL;
	size_t size, count = 0, i;
	uint64_t before = UINT64_MAX;
	bool more = false;
	struct jsonw w;
	int rc;

	rc = parse_layer_name(r, r->label[0], name);
	runtime = req_query(r, "CompatibleRuntime");
	if (runtime != NULL)
		(void)req_check_enum(r, "compatibleRuntime", runtime, conf_runtimes);
	arch = req_query(r, "CompatibleArchitecture");
	if (arch != NULL)
		(void)req_check_enum(r, "compatibleArchitecture", arch, conf_architectures);
	size = page_size(r, 50);
	if (req_failed(r) || page_start(r, "layer-versions", &key) != 0)
		return;
	if (key != NULL && !arn_version_number(key, &before)) {
		req_error(r, 400, "InvalidParameterValueException", "Invalid marker: %s",
		    req_query(r, "Marker"));
		free(key);
		return;
	}
	layer = rc == 0 ? model_layer_find(r->emu, name) : NULL;
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "LayerVersions");
	jsonw_array_open(&w);
	for (i = layer != NULL ? layer->vers.n : 0; i > 0; i--) {
		lv = layer->vers.v[i - 1];
		if (lv->version >= before)
			continue;
		if ((runtime != NULL && !json_list_has(lv->runtimes, runtime)) ||
		    (arch != NULL && !json_list_has(lv->archs, arch)))
			continue;
		if (count == size) {
			more = true;
			break;
		}
		render_layer_version(&w, r->emu, layer, lv, false);
		model_version_name(lv->version, vname);
		count++;
	}
	jsonw_array_close(&w);
	if (more) {
		marker = page_marker("layer-versions", vname);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}
