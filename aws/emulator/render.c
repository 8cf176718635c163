#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/render.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

#define CREATING_REASON "The function is being created."
#define LOCATION_MAX 1024

/* 64 hex digits that depend on s: a stand-in for a signature, cheap enough for every GET. */
static void
fake_signature(const char *s, char out[65])
{
	unsigned char b[32];
	uint64_t h;
	const char *p;
	int i, j;

	for (i = 0; i < 4; i++) {
		h = 0xcbf29ce484222325ULL ^ (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
		for (p = s; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
		for (j = 0; j < 8; j++)
			b[i * 8 + j] = (unsigned char)(h >> (56 - 8 * j));
	}
	crypto_hex(b, sizeof(b), out);
}

/*
 * Lambda's LastModified, "2020-04-10T19:06:32.563+0000", without gmtime and printf: it is
 * written for every configuration in every answer (civil_from_days, H. Hinnant).
 */
static void
lambda_time(uint64_t ms, char out[29])
{
	uint64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
	int64_t z = (int64_t)days + 719468, era = z / 146097;
	uint64_t doe = (uint64_t)(z - era * 146097);
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + (uint64_t)era * 400 + (m <= 2);
	unsigned v[7] = {(unsigned)(y % 10000), (unsigned)m, (unsigned)d, (unsigned)(rem / 3600),
	    (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned)(ms % 1000)};

	memcpy(out, "0000-00-00T00:00:00.000+0000", 29);
	out[0] = (char)('0' + v[0] / 1000);
	out[1] = (char)('0' + v[0] / 100 % 10);
	out[2] = (char)('0' + v[0] / 10 % 10);
	out[3] = (char)('0' + v[0] % 10);
	out[5] = (char)('0' + v[1] / 10);
	out[6] = (char)('0' + v[1] % 10);
	out[8] = (char)('0' + v[2] / 10);
	out[9] = (char)('0' + v[2] % 10);
	out[11] = (char)('0' + v[3] / 10);
	out[12] = (char)('0' + v[3] % 10);
	out[14] = (char)('0' + v[4] / 10);
	out[15] = (char)('0' + v[4] % 10);
	out[17] = (char)('0' + v[5] / 10);
	out[18] = (char)('0' + v[5] % 10);
	out[20] = (char)('0' + v[6] / 100);
	out[21] = (char)('0' + v[6] / 10 % 10);
	out[22] = (char)('0' + v[6] % 10);
}

/* Append n bytes of s at *at in dst (size cap), keeping room for the NUL. */
static void
cat(char *dst, size_t cap, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - 1 - *at)
		n = cap - 1 - *at;
	memcpy(dst + *at, s, n);
	*at += n;
	dst[*at] = '\0';
}

/* The location URL into out (size cap). */
static void
location(const struct emu *emu, const char *path, char *out, size_t cap)
{
	char sig[65];
	size_t at = 0;

	/* Shaped like Lambda's presigned S3 URL (valid 10 minutes); nothing serves it. */
	fake_signature(path, sig);
	out[0] = '\0';
	cat(out, cap, &at, "https://awslambda-");
	cat(out, cap, &at, emu->region);
	cat(out, cap, &at, "-tasks.s3.");
	cat(out, cap, &at, emu->region);
	cat(out, cap, &at, ".amazonaws.com/snapshots/");
	cat(out, cap, &at, emu->account);
	cat(out, cap, &at, "/");
	cat(out, cap, &at, path);
	cat(out, cap, &at, "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host");
	cat(out, cap, &at, "&X-Amz-Expires=600&X-Amz-Credential=EMULATOR%2F");
	cat(out, cap, &at, emu->region);
	cat(out, cap, &at, "%2Fs3%2Faws4_request&X-Amz-Signature=");
	cat(out, cap, &at, sig);
}

static void
status_fields(struct jsonw *w, const struct render_config *rc)
{
	enum model_state state = rc->ver != NULL ? rc->ver->state : rc->fn->state;
	const struct model_reason *failure = rc->ver != NULL ? &rc->ver->failure : &rc->fn->failure;

	jsonw_kstr(w, "State", model_state_names[state]);
	if (state == MODEL_STATE_PENDING) {
		jsonw_kstr(w, "StateReason", CREATING_REASON);
		jsonw_kstr(w, "StateReasonCode", "Creating");
	} else if (state == MODEL_STATE_FAILED) {
		jsonw_kstr(w, "StateReason", failure->reason);
		jsonw_kstr(w, "StateReasonCode", failure->code);
	}
	/*
	 * A published version is never updated: once it is Active its last (and only) update,
	 * the publish, is Successful (botocore's examples-1.json, PublishVersion). A version
	 * that failed to deploy failed that update too.
	 */
	if (rc->ver != NULL) {
		if (state == MODEL_STATE_ACTIVE) {
			jsonw_kstr(w, "LastUpdateStatus", "Successful");
		} else if (state == MODEL_STATE_FAILED) {
			jsonw_kstr(w, "LastUpdateStatus", "Failed");
			jsonw_kstr(w, "LastUpdateStatusReason", failure->reason);
			jsonw_kstr(w, "LastUpdateStatusReasonCode", failure->code);
		}
		return;
	}
	if (rc->fn->update == MODEL_UPDATE_NONE)
		return;
	jsonw_kstr(w, "LastUpdateStatus", model_update_names[rc->fn->update]);
	if (rc->fn->update == MODEL_UPDATE_INPROGRESS) {
		jsonw_kstr(w, "LastUpdateStatusReason", CREATING_REASON);
		jsonw_kstr(w, "LastUpdateStatusReasonCode", "Creating");
	} else if (rc->fn->update == MODEL_UPDATE_FAILED) {
		jsonw_kstr(w, "LastUpdateStatusReason", failure->reason);
		jsonw_kstr(w, "LastUpdateStatusReasonCode", failure->code);
	}
}

void
render_config(struct jsonw *w, const struct emu *emu, const struct render_config *rc)
{
	const struct model_cfg *cfg = rc->ver != NULL ? &rc->ver->cfg : &rc->fn->cfg;
	char version[24], modified[29], arn[512];
	size_t i, at = 0;

	if (rc->ver != NULL)
		model_version_name(rc->ver->number, version);
	else
		memcpy(version, "$LATEST", 8);
	lambda_time(cfg->last_modified, modified);
	cat(arn, sizeof(arn), &at, "arn:");
	cat(arn, sizeof(arn), &at, emu->partition);
	cat(arn, sizeof(arn), &at, ":lambda:");
	cat(arn, sizeof(arn), &at, emu->region);
	cat(arn, sizeof(arn), &at, ":");
	cat(arn, sizeof(arn), &at, emu->account);
	cat(arn, sizeof(arn), &at, ":function:");
	cat(arn, sizeof(arn), &at, rc->fn->name);
	if (rc->arn_qualifier != NULL) {
		cat(arn, sizeof(arn), &at, ":");
		cat(arn, sizeof(arn), &at, rc->arn_qualifier);
	}

	jsonw_object_open(w);
	jsonw_kstr(w, "FunctionName", rc->fn->name);
	jsonw_kstr(w, "FunctionArn", arn);
	jsonw_kstr_opt(w, "Runtime", cfg->runtime);
	jsonw_kstr(w, "Role", cfg->role);
	jsonw_kstr_opt(w, "Handler", cfg->handler);
	jsonw_kint(w, "CodeSize", cfg->code_size);
	jsonw_kstr(w, "Description", cfg->description);
	jsonw_kint(w, "Timeout", cfg->timeout);
	jsonw_kint(w, "MemorySize", cfg->memory);
	jsonw_kstr(w, "LastModified", modified);
	jsonw_kstr(w, "CodeSha256", cfg->code_sha256);
	jsonw_kstr(w, "Version", version);
	if (cfg->vpc != NULL)
		jsonw_kjson(w, "VpcConfig", cfg->vpc);
	if (cfg->dlq_target != NULL) {
		jsonw_key(w, "DeadLetterConfig");
		jsonw_object_open(w);
		jsonw_kstr(w, "TargetArn", cfg->dlq_target);
		jsonw_object_close(w);
	}
	if (cfg->env != NULL && json_object_size(cfg->env) > 0) {
		jsonw_key(w, "Environment");
		jsonw_object_open(w);
		jsonw_kjson(w, "Variables", cfg->env);
		jsonw_object_close(w);
	}
	jsonw_kstr_opt(w, "KMSKeyArn", cfg->kms_key_arn);
	jsonw_key(w, "TracingConfig");
	jsonw_object_open(w);
	jsonw_kstr(w, "Mode", cfg->tracing);
	jsonw_object_close(w);
	jsonw_kstr(w, "RevisionId", cfg->revision);
	if (cfg->nlayers > 0) {
		jsonw_key(w, "Layers");
		jsonw_array_open(w);
		for (i = 0; i < cfg->nlayers; i++) {
			jsonw_object_open(w);
			jsonw_kstr(w, "Arn", cfg->layers[i].arn);
			jsonw_kint(w, "CodeSize", cfg->layers[i].code_size);
			jsonw_object_close(w);
		}
		jsonw_array_close(w);
	}
	if (rc->status)
		status_fields(w, rc);
	if (cfg->fs_configs != NULL)
		jsonw_kjson(w, "FileSystemConfigs", cfg->fs_configs);
	jsonw_kstr(w, "PackageType", cfg->pkg == MODEL_PKG_IMAGE ? "Image" : "Zip");
	if (cfg->image_config != NULL && cfg->pkg == MODEL_PKG_IMAGE) {
		jsonw_key(w, "ImageConfigResponse");
		jsonw_object_open(w);
		jsonw_kjson(w, "ImageConfig", cfg->image_config);
		jsonw_object_close(w);
	}
	jsonw_key(w, "Architectures");
	jsonw_array_open(w);
	jsonw_string(w, cfg->arch);
	jsonw_array_close(w);
	jsonw_key(w, "EphemeralStorage");
	jsonw_object_open(w);
	jsonw_kint(w, "Size", cfg->ephemeral);
	jsonw_object_close(w);
	jsonw_key(w, "SnapStart");
	jsonw_object_open(w);
	jsonw_kstr(w, "ApplyOn", cfg->snap_apply);
	jsonw_kstr(w, "OptimizationStatus",
	    rc->ver != NULL && strcmp(cfg->snap_apply, "PublishedVersions") == 0 ? "On" : "Off");
	jsonw_object_close(w);
	jsonw_object_close(w);
}

void
render_code(struct jsonw *w, const struct emu *emu, const struct model_cfg *cfg)
{
	char url[LOCATION_MAX];

	jsonw_object_open(w);
	if (cfg->pkg == MODEL_PKG_IMAGE) {
		jsonw_kstr(w, "RepositoryType", "ECR");
		jsonw_kstr(w, "ImageUri", cfg->image_uri);
		jsonw_kstr(w, "ResolvedImageUri", cfg->resolved_image_uri);
	} else {
		location(emu, cfg->code_path != NULL ? cfg->code_path : "", url, sizeof(url));
		jsonw_kstr(w, "RepositoryType", "S3");
		jsonw_kstr(w, "Location", url);
	}
	jsonw_object_close(w);
}

void
render_alias(
    struct jsonw *w, const struct emu *emu, const struct model_fn *fn, const struct model_alias *a)
{
	char *arn = model_fn_arn(emu, fn->name, a->name);
	char version[24];

	model_version_name(a->version, version);
	jsonw_object_open(w);
	jsonw_kstr(w, "AliasArn", arn);
	jsonw_kstr(w, "Name", a->name);
	jsonw_kstr(w, "FunctionVersion", version);
	jsonw_kstr(w, "Description", a->description);
	if (a->routing) {
		model_version_name(a->extra, version);
		jsonw_key(w, "RoutingConfig");
		jsonw_object_open(w);
		jsonw_key(w, "AdditionalVersionWeights");
		jsonw_object_open(w);
		jsonw_key(w, version);
		jsonw_double(w, a->extra_weight);
		jsonw_object_close(w);
		jsonw_object_close(w);
	}
	jsonw_kstr(w, "RevisionId", a->revision);
	jsonw_object_close(w);
	free(arn);
}

void
render_layer_version(struct jsonw *w, const struct emu *emu, const struct model_layer *layer,
    const struct model_layer_ver *lv, bool full)
{
	char *arn = model_layer_arn(emu, layer->name, 0);
	char *varn = model_layer_arn(emu, layer->name, lv->version);
	char url[LOCATION_MAX];
	char created[29];

	lambda_time(lv->created, created);
	jsonw_object_open(w);
	if (full) {
		location(emu, lv->code_path, url, sizeof(url));
		jsonw_key(w, "Content");
		jsonw_object_open(w);
		jsonw_kstr(w, "Location", url);
		jsonw_kstr(w, "CodeSha256", lv->code_sha256);
		jsonw_kint(w, "CodeSize", lv->code_size);
		jsonw_object_close(w);
		jsonw_kstr(w, "LayerArn", arn);
	}
	jsonw_kstr(w, "LayerVersionArn", varn);
	jsonw_kstr(w, "Description", lv->description);
	jsonw_kstr(w, "CreatedDate", created);
	jsonw_kint(w, "Version", (int64_t)lv->version);
	if (lv->runtimes != NULL)
		jsonw_kjson(w, "CompatibleRuntimes", lv->runtimes);
	jsonw_kstr_opt(w, "LicenseInfo", lv->license);
	if (lv->archs != NULL)
		jsonw_kjson(w, "CompatibleArchitectures", lv->archs);
	jsonw_object_close(w);
	free(arn);
	free(varn);
}
