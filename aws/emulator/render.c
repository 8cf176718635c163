#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/render.h"
#include "common/xmalloc.h"

#define CREATING_REASON "The function is being created."
#define LOCATION_MAX 1024

/* 64 hex digits that depend on s: a stand-in for a signature, cheap enough for every GET. */
static void
fake_signature(const char *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h;
	const char *p;
	int i, j;

	for (i = 0; i < 4; i++) {
		h = 0xcbf29ce484222325ULL ^ (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
		for (p = s; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
		for (j = 0; j < 16; j++)
			out[i * 16 + j] = hex[(h >> (60 - 4 * j)) & 15];
	}
	out[64] = '\0';
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
status_fields(struct jw *w, const struct render_config *rc)
{
	enum model_state state = rc->ver != NULL ? rc->ver->state : rc->fn->state;

	jw_kstr(w, "State", model_state_names[state]);
	if (state == MODEL_STATE_PENDING) {
		jw_kstr(w, "StateReason", CREATING_REASON);
		jw_kstr(w, "StateReasonCode", "Creating");
	}
	/*
	 * A published version is never updated: once it is Active its last (and only) update,
	 * the publish, is Successful (botocore's examples-1.json, PublishVersion).
	 */
	if (rc->ver != NULL) {
		if (state == MODEL_STATE_ACTIVE)
			jw_kstr(w, "LastUpdateStatus", "Successful");
		return;
	}
	if (rc->fn->update == MODEL_UPDATE_NONE)
		return;
	jw_kstr(w, "LastUpdateStatus", model_update_names[rc->fn->update]);
	if (rc->fn->update == MODEL_UPDATE_INPROGRESS) {
		jw_kstr(w, "LastUpdateStatusReason", CREATING_REASON);
		jw_kstr(w, "LastUpdateStatusReasonCode", "Creating");
	}
}

void
render_config(struct jw *w, const struct emu *emu, const struct render_config *rc)
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

	jw_object_open(w);
	jw_kstr(w, "FunctionName", rc->fn->name);
	jw_kstr(w, "FunctionArn", arn);
	jw_kstr_opt(w, "Runtime", cfg->runtime);
	jw_kstr(w, "Role", cfg->role);
	jw_kstr_opt(w, "Handler", cfg->handler);
	jw_kint(w, "CodeSize", cfg->code_size);
	jw_kstr(w, "Description", cfg->description);
	jw_kint(w, "Timeout", cfg->timeout);
	jw_kint(w, "MemorySize", cfg->memory);
	jw_kstr(w, "LastModified", modified);
	jw_kstr(w, "CodeSha256", cfg->code_sha256);
	jw_kstr(w, "Version", version);
	if (cfg->vpc != NULL)
		jw_kjson(w, "VpcConfig", cfg->vpc);
	if (cfg->dlq_target != NULL) {
		jw_key(w, "DeadLetterConfig");
		jw_object_open(w);
		jw_kstr(w, "TargetArn", cfg->dlq_target);
		jw_object_close(w);
	}
	if (cfg->env != NULL && json_object_size(cfg->env) > 0) {
		jw_key(w, "Environment");
		jw_object_open(w);
		jw_kjson(w, "Variables", cfg->env);
		jw_object_close(w);
	}
	jw_kstr_opt(w, "KMSKeyArn", cfg->kms_key_arn);
	jw_key(w, "TracingConfig");
	jw_object_open(w);
	jw_kstr(w, "Mode", cfg->tracing);
	jw_object_close(w);
	jw_kstr(w, "RevisionId", cfg->revision);
	if (cfg->nlayers > 0) {
		jw_key(w, "Layers");
		jw_array_open(w);
		for (i = 0; i < cfg->nlayers; i++) {
			jw_object_open(w);
			jw_kstr(w, "Arn", cfg->layers[i].arn);
			jw_kint(w, "CodeSize", cfg->layers[i].code_size);
			jw_object_close(w);
		}
		jw_array_close(w);
	}
	if (rc->status)
		status_fields(w, rc);
	if (cfg->fs_configs != NULL)
		jw_kjson(w, "FileSystemConfigs", cfg->fs_configs);
	jw_kstr(w, "PackageType", cfg->pkg == MODEL_PKG_IMAGE ? "Image" : "Zip");
	if (cfg->image_config != NULL && cfg->pkg == MODEL_PKG_IMAGE) {
		jw_key(w, "ImageConfigResponse");
		jw_object_open(w);
		jw_kjson(w, "ImageConfig", cfg->image_config);
		jw_object_close(w);
	}
	jw_key(w, "Architectures");
	jw_array_open(w);
	jw_string(w, cfg->arch);
	jw_array_close(w);
	jw_key(w, "EphemeralStorage");
	jw_object_open(w);
	jw_kint(w, "Size", cfg->ephemeral);
	jw_object_close(w);
	jw_key(w, "SnapStart");
	jw_object_open(w);
	jw_kstr(w, "ApplyOn", cfg->snap_apply);
	jw_kstr(w, "OptimizationStatus",
	    rc->ver != NULL && strcmp(cfg->snap_apply, "PublishedVersions") == 0 ? "On" : "Off");
	jw_object_close(w);
	jw_object_close(w);
}

void
render_code(struct jw *w, const struct emu *emu, const struct model_cfg *cfg)
{
	char url[LOCATION_MAX];

	jw_object_open(w);
	if (cfg->pkg == MODEL_PKG_IMAGE) {
		jw_kstr(w, "RepositoryType", "ECR");
		jw_kstr(w, "ImageUri", cfg->image_uri);
		jw_kstr(w, "ResolvedImageUri", cfg->resolved_image_uri);
	} else {
		location(emu, cfg->code_path != NULL ? cfg->code_path : "", url, sizeof(url));
		jw_kstr(w, "RepositoryType", "S3");
		jw_kstr(w, "Location", url);
	}
	jw_object_close(w);
}

void
render_alias(
    struct jw *w, const struct emu *emu, const struct model_fn *fn, const struct model_alias *a)
{
	char *arn = model_fn_arn(emu, fn->name, a->name);
	char version[24];

	model_version_name(a->version, version);
	jw_object_open(w);
	jw_kstr(w, "AliasArn", arn);
	jw_kstr(w, "Name", a->name);
	jw_kstr(w, "FunctionVersion", version);
	jw_kstr(w, "Description", a->description);
	if (a->routing) {
		model_version_name(a->extra, version);
		jw_key(w, "RoutingConfig");
		jw_object_open(w);
		jw_key(w, "AdditionalVersionWeights");
		jw_object_open(w);
		jw_key(w, version);
		jw_double(w, a->extra_weight);
		jw_object_close(w);
		jw_object_close(w);
	}
	jw_kstr(w, "RevisionId", a->revision);
	jw_object_close(w);
	free(arn);
}

void
render_layer_version(struct jw *w, const struct emu *emu, const struct model_layer *layer,
    const struct model_layer_ver *lv, bool full)
{
	char *arn = model_layer_arn(emu, layer->name, 0);
	char *varn = model_layer_arn(emu, layer->name, lv->version);
	char url[LOCATION_MAX];
	char created[29];

	lambda_time(lv->created, created);
	jw_object_open(w);
	if (full) {
		location(emu, lv->code_path, url, sizeof(url));
		jw_key(w, "Content");
		jw_object_open(w);
		jw_kstr(w, "Location", url);
		jw_kstr(w, "CodeSha256", lv->code_sha256);
		jw_kint(w, "CodeSize", lv->code_size);
		jw_object_close(w);
		jw_kstr(w, "LayerArn", arn);
	}
	jw_kstr(w, "LayerVersionArn", varn);
	jw_kstr(w, "Description", lv->description);
	jw_kstr(w, "CreatedDate", created);
	jw_kint(w, "Version", (int64_t)lv->version);
	if (lv->runtimes != NULL)
		jw_kjson(w, "CompatibleRuntimes", lv->runtimes);
	jw_kstr_opt(w, "LicenseInfo", lv->license);
	if (lv->archs != NULL)
		jw_kjson(w, "CompatibleArchitectures", lv->archs);
	jw_object_close(w);
	free(arn);
	free(varn);
}
