#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/arn.h"
#include "aws/emulator/conf.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

#define ENV_MAX 4096 /* bytes of the Variables map, as JSON */
#define HANDLER_MAX 128
#define DESCRIPTION_MAX 256
#define TIMEOUT_MAX 900
#define MEMORY_MIN 128
#define MEMORY_MAX 10240
#define EPHEMERAL_MIN 512
#define EPHEMERAL_MAX 10240
#define SUBNETS_MAX 16
#define SECURITY_GROUPS_MAX 5
#define IMAGE_LIST_MAX 1500
#define WORKDIR_MAX 1000
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

const char *const conf_runtimes[] = {"nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10",
    "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x", "nodejs20.x",
    "nodejs22.x", "java8", "java8.al2", "java11", "java17", "java21", "python2.7", "python3.6",
    "python3.7", "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8",
    "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "provided",
    "provided.al2", "provided.al2023", NULL};
const char *const conf_architectures[] = {"x86_64", "arm64", NULL};
static const char *const tracing_modes[] = {"Active", "PassThrough", NULL};
static const char *const snap_applies[] = {"PublishedVersions", "None", NULL};

/* Reserved environment variables (Lambda developer guide, "Defined runtime variables"). */
static const char *const reserved_env[] = {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION",
    "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", NULL};

#define ARN_ANY_PATTERN "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
#define ENV_KEY_PATTERN "[a-zA-Z]([a-zA-Z0-9_])+"
#define S3_BUCKET_PATTERN "^[0-9A-Za-z\\.\\-_]*(?<!\\.)$"
#define FS_ARN_PATTERN                                                                            \
	"arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:" \
	"access-point/fsap-[a-f0-9]{17}"
#define MOUNT_PATTERN "^/mnt/[a-zA-Z0-9-_.]+$"

static bool
in_set(const char *s, const char *const *set)
{
	size_t i;

	for (i = 0; set[i] != NULL; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static bool
no_space(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
			return false;
	return true;
}

/* (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|() */
static bool
any_arn_ok(const char *s)
{
	const char *p, *colon;
	char part[ARN_PART_MAX];
	size_t n;

	if (*s == '\0')
		return true;
	if (strncmp(s, "arn:", 4) != 0)
		return false;
	p = s + 4;
	colon = strchr(p, ':');
	if (colon == NULL || (size_t)(colon - p) >= sizeof(part))
		return false;
	memcpy(part, p, (size_t)(colon - p));
	part[colon - p] = '\0';
	if (!arn_partition_ok(part))
		return false;
	p = colon + 1;
	colon = strchr(p, ':');
	if (colon == NULL || colon == p)
		return false;
	for (n = 0; p + n < colon; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '-' ||
		        p[n] == '.'))
			return false;
	return true;
}

static bool
env_key_ok(const char *k)
{
	const char *p;

	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z')) || k[1] == '\0')
		return false;
	for (p = k + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

static bool
hex_lower(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
fs_arn_ok(const char *s)
{
	const char *ap;
	size_t n = strlen(s);

	if (strncmp(s, "arn:aws", 7) != 0 || strstr(s, ":elasticfilesystem:") == NULL)
		return false;
	ap = strstr(s, ":access-point/fsap-");
	if (ap == NULL)
		return false;
	ap += strlen(":access-point/fsap-");
	return (size_t)(s + n - ap) == 17 && hex_lower(ap, 17);
}

static bool
mount_ok(const char *s)
{
	const char *p;

	if (strncmp(s, "/mnt/", 5) != 0 || s[5] == '\0')
		return false;
	for (p = s + 5; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

/* A list of strings; a non-string item is a type error. Returns a new array. */
static json_t *
string_list(struct req *r, const json_t *arr, const char *field, size_t max)
{
	json_t *out = json_array(), *item;
	size_t i;
	char tmp[32];

	json_array_foreach(arr, i, item)
	{
		if (!json_is_string(item)) {
			req_type_error(r, field, "a list of strings");
			continue;
		}
		json_array_append(out, item);
	}
	if (json_array_size(out) > max) {
		snprintf(tmp, sizeof(tmp), "[%zu items]", json_array_size(out));
		req_violation(
		    r, field, tmp, "Member must have length less than or equal to %zu", max);
	}
	return out;
}

static void
parse_env(struct req *r, const json_t *env, struct conf *c)
{
	const json_t *vars, *v;
	const char *k;

	c->has_env = true;
	c->env = json_object();
	vars = req_obj(r, env, "Variables");
	if (vars == NULL)
		return;
	json_object_foreach((json_t *)vars, k, v)
	{
		if (!json_is_string(v)) {
			req_type_error(r, "Environment.Variables", "a map of strings");
			continue;
		}
		if (!env_key_ok(k) ||
		    strlen(k) != json_object_iter_key_len(json_object_key_to_iter(k)))
			req_violation(r, "environment.variables", "********",
			    "Map keys must satisfy constraint: [Member must satisfy regular "
			    "expression "
			    "pattern: " ENV_KEY_PATTERN "]");
		json_object_set(c->env, k, (json_t *)v);
	}
}

static void
parse_vpc(struct req *r, const json_t *vpc, struct conf *c)
{
	const json_t *subnets, *groups;
	json_t *s = NULL, *g = NULL;
	unsigned char md[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1], vpc_id[32];

	subnets = req_arr(r, vpc, "SubnetIds");
	groups = req_arr(r, vpc, "SecurityGroupIds");
	s = subnets != NULL ? string_list(r, subnets, "vpcConfig.subnetIds", SUBNETS_MAX)
	                    : json_array();
	g = groups != NULL
	        ? string_list(r, groups, "vpcConfig.securityGroupIds", SECURITY_GROUPS_MAX)
	        : json_array();
	vpc_id[0] = '\0';
	if (json_array_size(s) > 0) {
		/* A stable VpcId per first subnet: the emulator has no EC2 to ask. */
		crypto_sha256(json_string_value(json_array_get(s, 0)),
		    strlen(json_string_value(json_array_get(s, 0))), md);
		crypto_hex(md, 9, hex);
		snprintf(vpc_id, sizeof(vpc_id), "vpc-%.17s", hex);
	}
	c->has_vpc = true;
	c->vpc =
	    json_pack("{s:o, s:o, s:s}", "SubnetIds", s, "SecurityGroupIds", g, "VpcId", vpc_id);
}

static void
parse_layers(struct req *r, const json_t *layers, struct conf *c)
{
	struct arn_layer la;
	const json_t *item;
	size_t i;

	c->has_layers = true;
	c->layers = xcalloc(json_array_size(layers) + 1, sizeof(*c->layers));
	json_array_foreach(layers, i, item)
	{
		if (!json_is_string(item)) {
			req_type_error(r, "Layers", "a list of strings");
			continue;
		}
		req_check_length(r, "layers", json_string_value(item), 1, ARN_LAYER_MAX);
		req_check_pattern(r, "layers", json_string_value(item),
		    arn_parse_layer(json_string_value(item), true, &la) == 0,
		    ARN_LAYER_VERSION_PATTERN);
		c->layers[c->nlayers].arn = xstrdup(json_string_value(item));
		c->nlayers++;
	}
}

static void
parse_fs(struct req *r, const json_t *fs, struct conf *c)
{
	const json_t *item;
	const char *arn, *mount;
	size_t i;
	char tmp[32];

	c->has_fs = true;
	c->fs = json_array();
	if (json_array_size(fs) > 1) {
		snprintf(tmp, sizeof(tmp), "[%zu items]", json_array_size(fs));
		req_violation(
		    r, "fileSystemConfigs", tmp, "Member must have length less than or equal to 1");
	}
	json_array_foreach(fs, i, item)
	{
		if (!json_is_object(item)) {
			req_type_error(r, "FileSystemConfigs", "a list of objects");
			continue;
		}
		arn = req_str(r, item, "Arn");
		mount = req_str(r, item, "LocalMountPath");
		req_check_null(r, "fileSystemConfigs.member.arn", arn != NULL);
		req_check_null(r, "fileSystemConfigs.member.localMountPath", mount != NULL);
		req_check_length(r, "fileSystemConfigs.member.arn", arn, 0, 200);
		req_check_pattern(r, "fileSystemConfigs.member.arn", arn,
		    arn == NULL || fs_arn_ok(arn), FS_ARN_PATTERN);
		req_check_length(r, "fileSystemConfigs.member.localMountPath", mount, 0, 160);
		req_check_pattern(r, "fileSystemConfigs.member.localMountPath", mount,
		    mount == NULL || mount_ok(mount), MOUNT_PATTERN);
		if (arn != NULL && mount != NULL)
			json_array_append_new(
			    c->fs, json_pack("{s:s, s:s}", "Arn", arn, "LocalMountPath", mount));
	}
}

static void
parse_image_config(struct req *r, const json_t *ic, struct conf *c)
{
	const json_t *ep, *cmd;
	const char *wd;

	c->has_image_config = true;
	c->image_config = json_object();
	ep = req_arr(r, ic, "EntryPoint");
	cmd = req_arr(r, ic, "Command");
	wd = req_str(r, ic, "WorkingDirectory");
	if (ep != NULL)
		json_object_set_new(c->image_config, "EntryPoint",
		    string_list(r, ep, "imageConfig.entryPoint", IMAGE_LIST_MAX));
	if (cmd != NULL)
		json_object_set_new(c->image_config, "Command",
		    string_list(r, cmd, "imageConfig.command", IMAGE_LIST_MAX));
	if (wd != NULL) {
		req_check_length(r, "imageConfig.workingDirectory", wd, 0, WORKDIR_MAX);
		json_object_set_new(c->image_config, "WorkingDirectory", json_string(wd));
	}
}

void
conf_parse_architectures(struct req *r, const json_t *obj, const char **arch)
{
	const json_t *archs = req_arr(r, obj, "Architectures");
	const json_t *item;
	size_t i;
	char tmp[64];

	*arch = NULL;
	if (archs == NULL)
		return;
	if (json_array_size(archs) != 1) {
		snprintf(tmp, sizeof(tmp), "[%zu items]", json_array_size(archs));
		req_violation(r, "architectures", tmp,
		    json_array_size(archs) == 0
		        ? "Member must have length greater than or equal to 1"
		        : "Member must have length less than or equal to 1");
	}
	json_array_foreach(archs, i, item)
	{
		if (!json_is_string(item)) {
			req_type_error(r, "Architectures", "a list of strings");
			continue;
		}
		if (req_check_enum(r, "architectures", json_string_value(item), conf_architectures))
			*arch = json_string_value(item);
	}
}

void
conf_parse(struct req *r, const json_t *obj, struct conf *c)
{
	const json_t *o;

	memset(c, 0, sizeof(*c));
	c->role = req_str(r, obj, "Role");
	req_check_pattern(
	    r, "role", c->role, c->role == NULL || arn_role_ok(c->role), ARN_ROLE_PATTERN);
	c->handler = req_str(r, obj, "Handler");
	req_check_length(r, "handler", c->handler, 0, HANDLER_MAX);
	req_check_pattern(
	    r, "handler", c->handler, c->handler == NULL || no_space(c->handler), "[^\\s]+");
	c->description = req_str(r, obj, "Description");
	req_check_length(r, "description", c->description, 0, DESCRIPTION_MAX);
	c->runtime = req_str(r, obj, "Runtime");
	c->has_timeout = req_int(r, obj, "Timeout", &c->timeout);
	if (c->has_timeout)
		req_check_range(r, "timeout", c->timeout, 1, TIMEOUT_MAX);
	c->has_memory = req_int(r, obj, "MemorySize", &c->memory);
	if (c->has_memory)
		req_check_range(r, "memorySize", c->memory, MEMORY_MIN, MEMORY_MAX);
	c->kms_key_arn = req_str(r, obj, "KMSKeyArn");
	req_check_pattern(r, "kMSKeyArn", c->kms_key_arn,
	    c->kms_key_arn == NULL || any_arn_ok(c->kms_key_arn), ARN_ANY_PATTERN);
	o = req_obj(r, obj, "DeadLetterConfig");
	if (o != NULL) {
		c->has_dlq = true;
		c->dlq_target = req_str(r, o, "TargetArn");
		req_check_pattern(r, "deadLetterConfig.targetArn", c->dlq_target,
		    c->dlq_target == NULL || any_arn_ok(c->dlq_target), ARN_ANY_PATTERN);
	}
	o = req_obj(r, obj, "Environment");
	if (o != NULL)
		parse_env(r, o, c);
	o = req_obj(r, obj, "VpcConfig");
	if (o != NULL)
		parse_vpc(r, o, c);
	o = req_obj(r, obj, "TracingConfig");
	if (o != NULL) {
		c->tracing = req_str(r, o, "Mode");
		if (c->tracing != NULL &&
		    !req_check_enum(r, "tracingConfig.mode", c->tracing, tracing_modes))
			c->tracing = NULL;
	}
	o = req_arr(r, obj, "Layers");
	if (o != NULL)
		parse_layers(r, o, c);
	o = req_arr(r, obj, "FileSystemConfigs");
	if (o != NULL)
		parse_fs(r, o, c);
	o = req_obj(r, obj, "ImageConfig");
	if (o != NULL)
		parse_image_config(r, o, c);
	o = req_obj(r, obj, "EphemeralStorage");
	if (o != NULL) {
		c->has_ephemeral = req_int(r, o, "Size", &c->ephemeral);
		req_check_null(r, "ephemeralStorage.size", c->has_ephemeral);
		if (c->has_ephemeral)
			req_check_range(
			    r, "ephemeralStorage.size", c->ephemeral, EPHEMERAL_MIN, EPHEMERAL_MAX);
	}
	o = req_obj(r, obj, "SnapStart");
	if (o != NULL) {
		c->snap_apply = req_str(r, o, "ApplyOn");
		if (c->snap_apply != NULL &&
		    !req_check_enum(r, "snapStart.applyOn", c->snap_apply, snap_applies))
			c->snap_apply = NULL;
	}
}

static int
check_env(struct req *r, const json_t *env)
{
	struct buf keys = BUF_INIT(ENV_MAX * 2);
	const json_t *v;
	const char *k;
	char *dump;
	size_t n = 0;
	int rc = 0;

	json_object_foreach((json_t *)env, k, v)
	{
		if (in_set(k, reserved_env))
			(void)buf_printf(&keys, "%s%s", n++ > 0 ? ", " : "", k);
	}
	if (n > 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Lambda was unable to configure your environment variables because the "
		    "environment variables you have provided contains reserved keys that are "
		    "currently not supported for modification. Reserved keys used in this request: "
		    "%s",
		    buf_cstr(&keys));
		rc = -1;
		goto out;
	}
	dump = json_dumps(env, JSON_COMPACT);
	if (dump != NULL && strlen(dump) > ENV_MAX) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Lambda was unable to configure your environment variables because the "
		    "environment variables you have provided exceeded the 4KB limit. String "
		    "measured: %s",
		    dump);
		rc = -1;
	}
	free(dump);
out:
	buf_free(&keys);
	return rc;
}

static int
check_layers(struct req *r, struct conf *c)
{
	struct arn_layer a, b;
	struct model_layer *layer;
	struct model_layer_ver *lv;
	size_t i, j;

	if (c->nlayers > MODEL_LAYERS_MAX) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Cannot reference more than %d layers.", MODEL_LAYERS_MAX);
		return -1;
	}
	for (i = 0; i < c->nlayers; i++) {
		if (arn_parse_layer(c->layers[i].arn, true, &a) != 0)
			continue; /* already a ValidationException */
		for (j = 0; j < i; j++) {
			if (arn_parse_layer(c->layers[j].arn, true, &b) == 0 &&
			    strcmp(a.name, b.name) == 0 && strcmp(a.account, b.account) == 0 &&
			    strcmp(a.region, b.region) == 0) {
				req_error(r, 400, "InvalidParameterValueException",
				    "Two different versions of the same layer are not allowed to "
				    "be "
				    "referenced in the same function. %s and %s are versions of "
				    "the "
				    "same layer.",
				    c->layers[j].arn, c->layers[i].arn);
				return -1;
			}
		}
		if (strcmp(a.account, r->emu->account) != 0)
			continue; /* another account's layer: the emulator cannot see it */
		if (strcmp(a.region, r->emu->region) != 0) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Layers are not in the same region as the function. Layers are "
			    "expected "
			    "to be in region %s.",
			    r->emu->region);
			return -1;
		}
		layer = model_layer_find(r->emu, a.name);
		lv = layer != NULL && a.version > 0 ? model_layer_ver_find(layer, a.version) : NULL;
		if (lv == NULL) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Layer version %s does not exist.", c->layers[i].arn);
			return -1;
		}
		c->layers[i].code_size = lv->code_size;
	}
	return 0;
}

int
conf_check(struct req *r, struct conf *c, enum model_pkg pkg)
{
	struct buf set = BUF_INIT(2048);
	size_t i;

	if (c->runtime != NULL && !in_set(c->runtime, conf_runtimes)) {
		for (i = 0; conf_runtimes[i] != NULL; i++)
			(void)buf_printf(&set, "%s%s", i > 0 ? ", " : "", conf_runtimes[i]);
		req_error(r, 400, "InvalidParameterValueException",
		    "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum "
		    "value set: [%s] or be a valid ARN",
		    c->runtime, buf_cstr(&set));
		buf_free(&set);
		return -1;
	}
	if (pkg == MODEL_PKG_IMAGE && (c->runtime != NULL || c->handler != NULL)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Runtime and Handler are not supported for functions with package type Image.");
		return -1;
	}
	if (pkg == MODEL_PKG_IMAGE && c->nlayers > 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Layers are not supported for functions with package type Image.");
		return -1;
	}
	if (pkg == MODEL_PKG_ZIP && c->has_image_config) {
		req_error(r, 400, "InvalidParameterValueException",
		    "ImageConfig is not supported for functions with package type Zip.");
		return -1;
	}
	if (c->has_env && check_env(r, c->env) != 0)
		return -1;
	if (c->has_layers && check_layers(r, c) != 0)
		return -1;
	return 0;
}

void
conf_apply(const struct conf *c, struct model_cfg *cfg)
{
	size_t i;

	if (c->role != NULL)
		model_set_str(&cfg->role, c->role);
	if (c->handler != NULL)
		model_set_str(&cfg->handler, c->handler);
	if (c->description != NULL)
		model_set_str(&cfg->description, c->description);
	if (c->runtime != NULL)
		model_set_str(&cfg->runtime, c->runtime);
	if (c->has_timeout)
		cfg->timeout = c->timeout;
	if (c->has_memory)
		cfg->memory = c->memory;
	if (c->kms_key_arn != NULL)
		model_set_str(&cfg->kms_key_arn, c->kms_key_arn[0] != '\0' ? c->kms_key_arn : NULL);
	if (c->has_dlq)
		model_set_str(&cfg->dlq_target,
		    c->dlq_target != NULL && c->dlq_target[0] != '\0' ? c->dlq_target : NULL);
	if (c->has_env)
		model_set_json(&cfg->env, c->env);
	if (c->has_vpc)
		model_set_json(&cfg->vpc, c->vpc);
	if (c->tracing != NULL)
		model_set_str(&cfg->tracing, c->tracing);
	if (c->has_layers) {
		for (i = 0; i < cfg->nlayers; i++)
			free(cfg->layers[i].arn);
		free(cfg->layers);
		cfg->layers = NULL;
		cfg->nlayers = c->nlayers;
		if (c->nlayers > 0) {
			cfg->layers = xcalloc(c->nlayers, sizeof(*cfg->layers));
			for (i = 0; i < c->nlayers; i++) {
				cfg->layers[i].arn = xstrdup(c->layers[i].arn);
				cfg->layers[i].code_size = c->layers[i].code_size;
			}
		}
	}
	if (c->has_fs)
		model_set_json(&cfg->fs_configs, json_array_size(c->fs) > 0 ? c->fs : NULL);
	if (c->has_image_config)
		model_set_json(&cfg->image_config, c->image_config);
	if (c->has_ephemeral)
		cfg->ephemeral = c->ephemeral;
	if (c->snap_apply != NULL)
		model_set_str(&cfg->snap_apply, c->snap_apply);
}

void
conf_free(struct conf *c)
{
	size_t i;

	json_decref(c->env);
	json_decref(c->vpc);
	json_decref(c->fs);
	json_decref(c->image_config);
	for (i = 0; i < c->nlayers; i++)
		free(c->layers[i].arn);
	free(c->layers);
	memset(c, 0, sizeof(*c));
}

/* Code. */

static bool
s3_bucket_ok(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return false;
	return n == 0 || s[n - 1] != '.';
}

void
conf_code_parse(struct req *r, const json_t *obj, struct conf_code *code)
{
	const char *zip;

	memset(code, 0, sizeof(*code));
	zip = req_str(r, obj, "ZipFile");
	if (zip != NULL) {
		if (crypto_base64_decode(zip, strlen(zip), &code->zip, &code->zip_len) != 0)
			req_type_error(r, "ZipFile", "base64-encoded bytes");
		else
			code->has_zip = true;
	}
	code->s3_bucket = req_str(r, obj, "S3Bucket");
	req_check_length(r, "s3Bucket", code->s3_bucket, 3, 63);
	req_check_pattern(r, "s3Bucket", code->s3_bucket,
	    code->s3_bucket == NULL || s3_bucket_ok(code->s3_bucket), S3_BUCKET_PATTERN);
	code->s3_key = req_str(r, obj, "S3Key");
	req_check_length(r, "s3Key", code->s3_key, 1, 1024);
	code->s3_version = req_str(r, obj, "S3ObjectVersion");
	req_check_length(r, "s3ObjectVersion", code->s3_version, 1, 1024);
	code->image_uri = req_str(r, obj, "ImageUri");
}

int
conf_check_zip(struct req *r, const unsigned char *p, size_t n)
{
	if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return 0;
	if (n == 0 || (n >= 4 && memcmp(p, "PK\x05\x06", 4) == 0)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Uploaded file must be a non-empty zip");
		return -1;
	}
	req_error(r, 400, "InvalidParameterValueException",
	    "Could not unzip uploaded file. Please check your file, then try to upload again.");
	return -1;
}

static bool
digits_n(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * An ECR image: ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPO[:TAG][@sha256:HEX64].
 * Sets *digest to the pinned digest when the URI has one.
 */
static bool
ecr_uri_ok(const char *uri, const char **digest)
{
	const char *slash, *host_end, *p, *at, *tag;
	size_t n;

	*digest = NULL;
	slash = strchr(uri, '/');
	if (slash == NULL || slash - uri < 12 + 9 || !digits_n(uri, 12) ||
	    strncmp(uri + 12, ".dkr.ecr.", 9) != 0)
		return false;
	host_end = slash;
	n = (size_t)(host_end - uri);
	if (!(n > 14 && strncmp(host_end - 14, ".amazonaws.com", 14) == 0) &&
	    !(n > 17 && strncmp(host_end - 17, ".amazonaws.com.cn", 17) == 0))
		return false;
	at = strchr(slash, '@');
	if (at != NULL) {
		if (strncmp(at, "@sha256:", 8) != 0 || strlen(at + 8) != 64 ||
		    !hex_lower(at + 8, 64))
			return false;
		*digest = at + 8;
	}
	/* The repository: [a-z0-9._/-]+, then an optional :tag before any digest. */
	tag = NULL;
	for (p = slash + 1; *p != '\0' && p != at; p++) {
		if (*p == ':') {
			tag = p + 1;
			break;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		        *p == '_' || *p == '/' || *p == '-'))
			return false;
	}
	if (p == slash + 1)
		return false;
	if (tag != NULL) {
		n = at != NULL ? (size_t)(at - tag) : strlen(tag);
		if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
			return false;
		for (p = tag; p < tag + n; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			        (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
				return false;
	}
	return true;
}

int
conf_code_check(struct req *r, const struct conf_code *code, enum model_pkg pkg, bool create)
{
	const char *verb = create ? "creating" : "updating";
	const char *digest;
	bool s3 = code->s3_bucket != NULL || code->s3_key != NULL || code->s3_version != NULL;

	if (pkg == MODEL_PKG_IMAGE) {
		if (code->image_uri == NULL || code->has_zip || s3) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Please provide ImageUri when %s a function with packageType Image.",
			    verb);
			return -1;
		}
		if (!ecr_uri_ok(code->image_uri, &digest)) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Source image %s is not valid. Provide a valid source image.",
			    code->image_uri);
			return -1;
		}
		return 0;
	}
	if (code->image_uri != NULL) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please don't provide ImageUri when %s a function with packageType Zip.", verb);
		return -1;
	}
	if (code->has_zip && s3) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please do not provide other FunctionCode parameters when providing a "
		    "ZipFile.");
		return -1;
	}
	if (!code->has_zip && !s3) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please provide a source for function code.");
		return -1;
	}
	if (s3 && (code->s3_bucket == NULL || code->s3_key == NULL)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Please provide both S3Bucket and S3Key for the function code.");
		return -1;
	}
	if (code->has_zip)
		return conf_check_zip(r, code->zip, code->zip_len);
	return 0;
}

char *
conf_zip_sha256(const unsigned char *p, size_t n)
{
	unsigned char md[CRYPTO_SHA256_LEN];

	crypto_sha256(p, n, md);
	return crypto_base64_encode(md, sizeof(md));
}

void
conf_s3_digest(
    const char *bucket, const char *key, const char *version, char **sha256, int64_t *size)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	char *id;

	id = xasprintf("s3://%s/%s%s%s", bucket, key, version != NULL ? "?versionId=" : "",
	    version != NULL ? version : "");
	crypto_sha256(id, strlen(id), md);
	*sha256 = crypto_base64_encode(md, sizeof(md));
	/* Synthetic but stable: a package somewhere between 1 KiB and 65 KiB. */
	*size = 1024 + ((int64_t)md[0] << 8 | md[1]);
	free(id);
}

static char *
code_path(const char *name)
{
	char uuid[MODEL_REVISION_LEN];

	crypto_uuid(uuid);
	return xasprintf("%s-%s", name, uuid);
}

void
conf_code_apply(
    struct req *r, const struct conf_code *code, const char *fn_name, struct model_cfg *cfg)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	const char *digest = NULL, *at;
	size_t repo_len;

	(void)r;
	free(cfg->code_sha256);
	free(cfg->image_uri);
	free(cfg->resolved_image_uri);
	free(cfg->code_path);
	cfg->code_sha256 = cfg->image_uri = cfg->resolved_image_uri = cfg->code_path = NULL;
	if (code->image_uri != NULL) {
		(void)ecr_uri_ok(code->image_uri, &digest);
		if (digest == NULL) {
			/* Lambda reports the manifest digest; without a registry, hash the URI. */
			crypto_sha256(code->image_uri, strlen(code->image_uri), md);
			crypto_hex(md, sizeof(md), hex);
			digest = hex;
		}
		/* ResolvedImageUri is the repository (no tag) pinned to the digest. */
		at = strchr(code->image_uri, '@');
		repo_len = at != NULL ? (size_t)(at - code->image_uri) : strlen(code->image_uri);
		at = memchr(strchr(code->image_uri, '/'), ':',
		    repo_len - (size_t)(strchr(code->image_uri, '/') - code->image_uri));
		if (at != NULL)
			repo_len = (size_t)(at - code->image_uri);
		cfg->code_sha256 = xstrdup(digest);
		cfg->code_size = 0;
		cfg->image_uri = xstrdup(code->image_uri);
		cfg->resolved_image_uri =
		    xasprintf("%.*s@sha256:%s", (int)repo_len, code->image_uri, digest);
		return;
	}
	if (code->has_zip) {
		cfg->code_sha256 = conf_zip_sha256(code->zip, code->zip_len);
		cfg->code_size = (int64_t)code->zip_len;
	} else {
		conf_s3_digest(code->s3_bucket, code->s3_key, code->s3_version, &cfg->code_sha256,
		    &cfg->code_size);
	}
	cfg->code_path = code_path(fn_name);
}

void
conf_code_free(struct conf_code *code)
{
	free(code->zip);
	memset(code, 0, sizeof(*code));
}

int
conf_check_tags(struct req *r, const json_t *tags, size_t total)
{
	const json_t *v;
	const char *k;

	json_object_foreach((json_t *)tags, k, v)
	{
		if (!json_is_string(v)) {
			req_type_error(r, "Tags", "a map of strings");
			continue;
		}
		req_check_length(r, "tags.key", k, 1, TAG_KEY_MAX);
		req_check_length(r, "tags.value", json_string_value(v), 0, TAG_VALUE_MAX);
	}
	if (req_failed(r))
		return -1;
	json_object_foreach((json_t *)tags, k, v)
	{
		if (strncmp(k, "aws:", 4) == 0) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Tag keys prefixed with 'aws:' are reserved: %s", k);
			return -1;
		}
	}
	if (total > MODEL_TAGS_MAX) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Number of tags exceeds function tag limit.");
		return -1;
	}
	return 0;
}
