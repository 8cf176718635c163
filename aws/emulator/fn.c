#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/conf.h"
#include "aws/emulator/fn.h"
#include "aws/emulator/page.h"
#include "aws/emulator/render.h"
#include "common/xmalloc.h"

#define STATE_MESSAGE                                                                   \
	"The operation cannot be performed at this time. The function is currently in " \
	"the following state: %s"
#define STALE_MESSAGE                                                               \
	"The Revision Id provided does not match the latest Revision Id. Call the " \
	"GetFunction/GetAlias API to retrieve the latest Revision Id"

static const char *const package_types[] = {"Zip", "Image", NULL};
static const char *const function_versions[] = {"ALL", NULL};

bool
fn_busy(struct req *r, const struct model_fn *fn)
{
	char *arn;

	if (fn->state != MODEL_STATE_ACTIVE) {
		req_error(r, 409, "ResourceConflictException", STATE_MESSAGE,
		    model_state_names[fn->state]);
		return true;
	}
	if (fn->update == MODEL_UPDATE_INPROGRESS) {
		arn = model_fn_arn(r->emu, fn->name, NULL);
		req_error(r, 409, "ResourceConflictException",
		    "The operation cannot be performed at this time. An update is in progress for "
		    "resource: %s",
		    arn);
		free(arn);
		return true;
	}
	return false;
}

bool
fn_stale(struct req *r, const char *revision, const char *current)
{
	if (revision == NULL || revision[0] == '\0' || strcmp(revision, current) == 0)
		return false;
	req_error(r, 412, "PreconditionFailedException", STALE_MESSAGE);
	return true;
}

int
fn_unqualified(struct req *r, const struct model_name *n, bool latest_ok)
{
	if (n->qualifier == NULL || (latest_ok && strcmp(n->qualifier, "$LATEST") == 0))
		return 0;
	req_error(r, 400, "InvalidParameterValueException",
	    "%s is not supported for a qualified function name (%s): use the unqualified "
	    "function name or ARN.",
	    emu_op_name(r->op), n->qualifier);
	return -1;
}

struct model_fn *
fn_target(struct req *r, const struct model_name *n, bool latest_ok)
{
	if (model_check_name(r, n) != 0 || fn_unqualified(r, n, latest_ok) != 0)
		return NULL;
	return model_fn_lookup(r, n->parts.name, NULL);
}

/* Answer with one FunctionConfiguration. */
static void
respond_config(struct req *r, int status, const struct model_fn *fn, const struct model_ver *ver,
    const char *arn_qualifier)
{
	struct render_config rc = {fn, ver, arn_qualifier, true};
	struct jsonw w;

	req_json_begin(r, status, &w);
	render_config(&w, r->emu, &rc);
	req_json_end(r, &w);
}

static void
respond_version(struct req *r, int status, const struct model_fn *fn, const struct model_ver *ver)
{
	char name[24];

	model_version_name(ver->number, name);
	respond_config(r, status, fn, ver, name);
}

/* Set a window's verdict from the update-failure rule for cfg's code (none: success). */
static void
judge(struct req *r, struct model_reason *verdict, const struct model_cfg *cfg)
{
	const struct model_failure *f = model_failure_for(r->emu, cfg);

	model_reason_set(verdict, f != NULL ? &f->why : NULL);
}

/*
 * Publish $LATEST as the next version. It is Pending until active_at when that is later
 * than now (published together with a create or an update), else Active at once, or Failed
 * at once when an update-failure rule matches its code.
 */
static struct model_ver *
publish_version(struct req *r, struct model_fn *fn, const char *description, uint64_t active_at)
{
	struct model_ver *ver = xcalloc(1, sizeof(*ver));

	ver->number = ++fn->last_version;
	model_cfg_copy(&ver->cfg, &fn->cfg);
	if (description != NULL)
		model_set_str(&ver->cfg.description, description);
	ver->cfg.last_modified = r->wall;
	model_revision(ver->cfg.revision);
	ver->state = active_at > r->now ? MODEL_STATE_PENDING : MODEL_STATE_ACTIVE;
	ver->active_at = active_at;
	judge(r, &ver->verdict, &ver->cfg);
	if (ver->state == MODEL_STATE_ACTIVE && ver->verdict.reason != NULL) {
		model_reason_move(&ver->failure, &ver->verdict);
		ver->state = MODEL_STATE_FAILED;
	}
	vec_push(&fn->vers, ver);
	fn->dirty = false;
	fn->published_from = ver->number;
	/* Publishing changes the function's record, so $LATEST's RevisionId moves too. */
	model_revision(fn->cfg.revision);
	return ver;
}

void
fn_create(struct req *r)
{
	struct model_name n;
	struct conf c;
	struct conf_code code;
	struct model_fn *fn;
	struct model_ver *ver = NULL;
	const json_t *codeobj, *tags;
	const char *name, *pkg_s, *csc, *arch;
	enum model_pkg pkg = MODEL_PKG_ZIP;
	bool publish = false, named;

	memset(&c, 0, sizeof(c));
	memset(&code, 0, sizeof(code));
	if (req_body(r) != 0)
		return;
	name = req_str(r, r->body, "FunctionName");
	named = model_parse_name(r, name, NULL, MODEL_NAME_PLAIN, &n) == 0;
	if (named)
		req_check_length(r, "functionName", n.parts.name, 1, ARN_NAME_MAX);
	conf_parse(r, r->body, &c);
	req_check_null(r, "role", c.role != NULL);
	codeobj = req_obj(r, r->body, "Code");
	req_check_null(r, "code", codeobj != NULL);
	if (codeobj != NULL)
		conf_code_parse(r, codeobj, &code);
	pkg_s = req_str(r, r->body, "PackageType");
	if (pkg_s != NULL && req_check_enum(r, "packageType", pkg_s, package_types))
		pkg = strcmp(pkg_s, "Image") == 0 ? MODEL_PKG_IMAGE : MODEL_PKG_ZIP;
	(void)req_bool(r, r->body, "Publish", &publish);
	conf_parse_architectures(r, r->body, &arch);
	tags = req_obj(r, r->body, "Tags");
	csc = req_str(r, r->body, "CodeSigningConfigArn");
	req_check_length(r, "codeSigningConfigArn", csc, 0, 200);
	if (req_failed(r) || model_check_name(r, &n) != 0)
		goto out;
	if (n.qualifier != NULL) {
		req_error(r, 400, "InvalidParameterValueException",
		    "A qualifier (%s) is not allowed in the function name of CreateFunction.",
		    n.qualifier);
		goto out;
	}
	if (pkg == MODEL_PKG_ZIP && (c.runtime == NULL || c.handler == NULL)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Runtime and Handler are mandatory parameters for functions created with "
		    "deployment packages.");
		goto out;
	}
	if (conf_check(r, &c, pkg) != 0 || conf_code_check(r, &code, pkg, true) != 0)
		goto out;
	if (tags != NULL && conf_check_tags(r, tags, json_object_size(tags)) != 0)
		goto out;
	if (csc != NULL) {
		req_error(r, 404, "CodeSigningConfigNotFoundException",
		    "The Lambda code signing configuration %s can not be found.", csc);
		goto out;
	}
	if (model_fn_find(r->emu, n.parts.name) != NULL) {
		req_error(r, 409, "ResourceConflictException", "Function already exist: %s",
		    n.parts.name);
		goto out;
	}

	fn = xcalloc(1, sizeof(*fn));
	fn->name = xstrdup(n.parts.name);
	model_cfg_init(&fn->cfg);
	fn->cfg.pkg = pkg;
	conf_apply(&c, &fn->cfg);
	if (arch != NULL)
		model_set_str(&fn->cfg.arch, arch);
	conf_code_apply(r, &code, fn->name, &fn->cfg);
	fn->cfg.last_modified = r->wall;
	model_revision(fn->cfg.revision);
	fn->state = MODEL_STATE_PENDING;
	fn->active_at = r->now + r->emu->create_delay_ms;
	judge(r, &fn->verdict, &fn->cfg);
	fn->update = MODEL_UPDATE_NONE;
	fn->dirty = true;
	fn->tags = tags != NULL ? json_deep_copy(tags) : json_object();
	model_fn_add(r->emu, fn);
	if (publish)
		ver = publish_version(r, fn, NULL, fn->active_at);
	if (ver != NULL)
		respond_version(r, 201, fn, ver);
	else
		respond_config(r, 201, fn, NULL, NULL);
out:
	conf_free(&c);
	conf_code_free(&code);
}

/* The configuration a resolved target shows, and the qualifier its FunctionArn carries. */
static void
target_view(const struct model_target *t, const struct model_ver **ver, char qualifier[24])
{
	*ver = NULL;
	qualifier[0] = '\0';
	switch (t->kind) {
	case MODEL_TARGET_FUNCTION:
		break;
	case MODEL_TARGET_LATEST:
		snprintf(qualifier, 24, "$LATEST");
		break;
	case MODEL_TARGET_VERSION:
		*ver = t->ver;
		model_version_name(t->ver->number, qualifier);
		break;
	case MODEL_TARGET_ALIAS:
		*ver = t->ver;
		break;
	}
}

static int
resolve_get(struct req *r, struct model_name *n, struct model_target *t)
{
	if (model_name(r, r->label[0], req_query(r, "Qualifier"), MODEL_NAME_NAMESPACED, n) != 0)
		return -1;
	return model_resolve(r, n->parts.name, n->qualifier, t);
}

void
fn_get(struct req *r)
{
	struct model_name n;
	struct model_target t;
	const struct model_ver *ver;
	struct render_config rc;
	char qualifier[24];
	struct jsonw w;

	if (resolve_get(r, &n, &t) != 0)
		return;
	target_view(&t, &ver, qualifier);
	rc.fn = t.fn;
	rc.ver = ver;
	rc.arn_qualifier = t.kind == MODEL_TARGET_ALIAS ? t.alias->name
	                   : qualifier[0] != '\0'       ? qualifier
	                                                : NULL;
	rc.status = true;
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "Configuration");
	render_config(&w, r->emu, &rc);
	jsonw_key(&w, "Code");
	render_code(&w, r->emu, ver != NULL ? &ver->cfg : &t.fn->cfg);
	if (json_object_size(t.fn->tags) > 0)
		jsonw_kjson(&w, "Tags", t.fn->tags);
	jsonw_object_close(&w);
	req_json_end(r, &w);
}

void
fn_get_configuration(struct req *r)
{
	struct model_name n;
	struct model_target t;
	const struct model_ver *ver;
	char qualifier[24];

	if (resolve_get(r, &n, &t) != 0)
		return;
	target_view(&t, &ver, qualifier);
	respond_config(r, 200, t.fn, ver,
	    t.kind == MODEL_TARGET_ALIAS ? t.alias->name
	    : qualifier[0] != '\0'       ? qualifier
	                                 : NULL);
}

static bool
master_region_ok(const char *s)
{
	return strcmp(s, "ALL") == 0 || arn_region_ok(s);
}

/*
 * ListFunctions. With FunctionVersion=ALL every function contributes $LATEST and then its
 * versions, and the marker remembers "name:number" ($LATEST is 0).
 */
void
fn_list(struct req *r)
{
	struct render_config rc = {NULL, NULL, NULL, false};
	struct model_fn *fn;
	const char *master, *fv, *colon;
	char *key = NULL, *marker = NULL, vname[24], last[ARN_PART_MAX + 32];
	size_t size, count = 0, fi, vi = 0;
	uint64_t after = 0;
	bool all, found, more = false;
	struct jsonw w;

	master = req_query(r, "MasterRegion");
	req_check_pattern(r, "masterRegion", master, master == NULL || master_region_ok(master),
	    "ALL|[a-z]{2}(-gov)?-[a-z]+-\\d{1}");
	fv = req_query(r, "FunctionVersion");
	if (fv != NULL)
		(void)req_check_enum(r, "functionVersion", fv, function_versions);
	size = page_size(r, 10000);
	if (req_failed(r))
		return;
	all = fv != NULL;
	if (page_start(r, all ? "functions-all" : "functions", &key) != 0)
		return;
	fi = 0;
	if (key != NULL) {
		colon = all ? strrchr(key, ':') : NULL;
		if (colon != NULL) {
			after = strtoull(colon + 1, NULL, 10);
			key[colon - key] = '\0';
		}
		found = vec_search(&r->emu->fns, key, model_fn_cmp, &fi);
		if (found && !all)
			fi++;
		else if (found)
			vi = SIZE_MAX; /* resume inside this function, after version `after` */
	}
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "Functions");
	jsonw_array_open(&w);
	/* Lambda@Edge replicas are listed by MasterRegion; the emulator has none. */
	for (; master == NULL && fi < r->emu->fns.n; fi++, vi = 0) {
		fn = r->emu->fns.v[fi];
		model_settle(r->emu, fn, r->now);
		rc.fn = fn;
		if (!all) {
			if (count == size) {
				more = true;
				break;
			}
			rc.ver = NULL;
			rc.arn_qualifier = NULL;
			render_config(&w, r->emu, &rc);
			snprintf(last, sizeof(last), "%s", fn->name);
			count++;
			continue;
		}
		/* vi: 0 is $LATEST, k is fn->vers.v[k - 1]; SIZE_MAX means "after `after`". */
		if (vi == SIZE_MAX) {
			vi = 0;
			if (after > 0) {
				for (vi = 1; vi <= fn->vers.n; vi++)
					if (((struct model_ver *)fn->vers.v[vi - 1])->number >
					    after)
						break;
			} else {
				vi = 1;
			}
		}
		for (; vi <= fn->vers.n; vi++) {
			if (count == size) {
				more = true;
				break;
			}
			rc.ver = vi == 0 ? NULL : fn->vers.v[vi - 1];
			model_version_name(rc.ver != NULL ? rc.ver->number : MODEL_LATEST, vname);
			rc.arn_qualifier = vname;
			render_config(&w, r->emu, &rc);
			snprintf(last, sizeof(last), "%s:%" PRIu64, fn->name,
			    rc.ver != NULL ? rc.ver->number : (uint64_t)0);
			count++;
		}
		if (more)
			break;
	}
	jsonw_array_close(&w);
	if (more) {
		marker = page_marker(all ? "functions-all" : "functions", last);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}

/* ListVersionsByFunction: $LATEST first, then the versions in ascending order. */
void
fn_list_versions(struct req *r)
{
	struct render_config rc = {NULL, NULL, NULL, false};
	struct model_name n;
	struct model_fn *fn;
	char *key = NULL, *marker = NULL, vname[24];
	size_t size, count = 0, vi = 0;
	uint64_t after = 0;
	bool more = false;
	struct jsonw w;

	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_NAMESPACED, &n);
	size = page_size(r, 10000);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, true);
	if (fn == NULL)
		return;
	if (page_start(r, "versions", &key) != 0)
		return;
	if (key != NULL) {
		/* The marker names the last version shown: continue after it. */
		if (strcmp(key, "$LATEST") != 0 && !arn_version_number(key, &after)) {
			req_error(r, 400, "InvalidParameterValueException", "Invalid marker: %s",
			    req_query(r, "Marker"));
			free(key);
			return;
		}
		for (vi = 1; vi <= fn->vers.n; vi++)
			if (((struct model_ver *)fn->vers.v[vi - 1])->number > after)
				break;
	}
	rc.fn = fn;
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "Versions");
	jsonw_array_open(&w);
	/* vi 0 is $LATEST, k > 0 is fn->vers.v[k - 1]. */
	for (; vi <= fn->vers.n; vi++) {
		if (count == size) {
			more = true;
			break;
		}
		rc.ver = vi == 0 ? NULL : fn->vers.v[vi - 1];
		model_version_name(rc.ver != NULL ? rc.ver->number : MODEL_LATEST, vname);
		rc.arn_qualifier = vname;
		render_config(&w, r->emu, &rc);
		count++;
	}
	jsonw_array_close(&w);
	if (more) {
		/* vname still names the last version written. */
		marker = page_marker("versions", vname);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}

/*
 * A copy of $LATEST as it is before an update changes it, for start_update(); NULL when a
 * failed update already keeps the configuration that last deployed.
 */
static struct model_cfg *
before_update(const struct model_fn *fn)
{
	struct model_cfg *cfg;

	if (fn->live != NULL)
		return NULL;
	cfg = xmalloc(sizeof(*cfg));
	model_cfg_copy(cfg, &fn->cfg);
	return cfg;
}

/*
 * Record an accepted update of $LATEST: new RevisionId, InProgress for update_delay_ms, and
 * the verdict of the update-failure rules on the new code. An update that will fail keeps
 * before (the configuration before it, from before_update()) for invocations; before is
 * consumed either way.
 */
static void
start_update(struct req *r, struct model_fn *fn, struct model_cfg *before)
{
	fn->cfg.last_modified = r->wall;
	model_revision(fn->cfg.revision);
	model_fn_set_update(fn, MODEL_UPDATE_INPROGRESS, emu_op_name(r->op));
	fn->update_done_at = r->now + r->emu->update_delay_ms;
	fn->dirty = true;
	judge(r, &fn->verdict, &fn->cfg);
	if (fn->verdict.reason != NULL && fn->live == NULL) {
		fn->live = before;
		before = NULL;
	}
	if (before != NULL) {
		model_cfg_free(before);
		free(before);
	}
}

void
fn_update_code(struct req *r)
{
	struct model_name n;
	struct conf_code code;
	struct model_fn *fn;
	struct model_fn shown;
	struct model_ver *ver;
	struct model_cfg *before;
	const char *revision, *arch;
	bool publish = false, dry = false;

	memset(&code, 0, sizeof(code));
	if (req_body(r) != 0)
		return;
	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	conf_code_parse(r, r->body, &code);
	(void)req_bool(r, r->body, "Publish", &publish);
	(void)req_bool(r, r->body, "DryRun", &dry);
	revision = req_str(r, r->body, "RevisionId");
	conf_parse_architectures(r, r->body, &arch);
	if (req_failed(r))
		goto out;
	fn = fn_target(r, &n, true);
	if (fn == NULL || fn_stale(r, revision, fn->cfg.revision) || fn_busy(r, fn))
		goto out;
	if (conf_code_check(r, &code, fn->cfg.pkg, false) != 0)
		goto out;
	if (dry) {
		/* Validate only: show what the update would produce, change nothing. */
		shown = *fn;
		model_cfg_copy(&shown.cfg, &fn->cfg);
		conf_code_apply(r, &code, fn->name, &shown.cfg);
		if (arch != NULL)
			model_set_str(&shown.cfg.arch, arch);
		respond_config(r, 200, &shown, NULL, NULL);
		model_cfg_free(&shown.cfg);
		goto out;
	}
	before = before_update(fn);
	conf_code_apply(r, &code, fn->name, &fn->cfg);
	if (arch != NULL)
		model_set_str(&fn->cfg.arch, arch);
	start_update(r, fn, before);
	if (publish) {
		ver = publish_version(r, fn, NULL, fn->update_done_at);
		respond_version(r, 200, fn, ver);
	} else {
		respond_config(r, 200, fn, NULL, NULL);
	}
out:
	conf_code_free(&code);
}

void
fn_update_configuration(struct req *r)
{
	struct model_name n;
	struct conf c;
	struct model_fn *fn;
	struct model_cfg *before;
	const char *revision;

	memset(&c, 0, sizeof(c));
	if (req_body(r) != 0)
		return;
	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	conf_parse(r, r->body, &c);
	revision = req_str(r, r->body, "RevisionId");
	if (req_failed(r))
		goto out;
	fn = fn_target(r, &n, true);
	if (fn == NULL || fn_stale(r, revision, fn->cfg.revision) || fn_busy(r, fn))
		goto out;
	if (conf_check(r, &c, fn->cfg.pkg) != 0)
		goto out;
	before = before_update(fn);
	conf_apply(&c, &fn->cfg);
	start_update(r, fn, before);
	respond_config(r, 200, fn, NULL, NULL);
out:
	conf_free(&c);
}

void
fn_publish(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	struct model_ver *ver;
	const char *sha, *description, *revision;

	if (req_body(r) != 0)
		return;
	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	sha = req_str(r, r->body, "CodeSha256");
	description = req_str(r, r->body, "Description");
	req_check_length(r, "description", description, 0, 256);
	revision = req_str(r, r->body, "RevisionId");
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, true);
	if (fn == NULL || fn_stale(r, revision, fn->cfg.revision))
		return;
	if (sha != NULL && sha[0] != '\0' && strcmp(sha, fn->cfg.code_sha256) != 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please "
		    "try again with the CodeSHA256 in $LATEST.",
		    sha, fn->cfg.code_sha256);
		return;
	}
	if (fn_busy(r, fn))
		return;
	/* Nothing changed since the last publish: Lambda hands back that version. */
	ver = !fn->dirty && fn->published_from > 0 ? model_ver_find(fn, fn->published_from) : NULL;
	if (ver == NULL)
		ver = publish_version(r, fn, description, 0);
	respond_version(r, 201, fn, ver);
}

/* The event source mappings that target version v of fn, as "[uuid, ...]"; NULL if none. */
static char *
mappings_using(struct emu *emu, const struct model_fn *fn, const char *v)
{
	struct buf b = BUF_INIT(64 * 1024);
	const struct model_esm *esm;
	size_t i;
	int count = 0;

	for (i = 0; i < emu->esms.n; i++) {
		esm = emu->esms.v[i];
		if (strcmp(esm->fn_name, fn->name) != 0 || esm->qualifier == NULL ||
		    strcmp(esm->qualifier, v) != 0)
			continue;
		(void)buf_printf(&b, "%s%s", count++ > 0 ? ", " : "[", esm->uuid);
	}
	if (count == 0) {
		buf_free(&b);
		return NULL;
	}
	(void)buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

static void
delete_version(struct req *r, struct model_fn *fn, const char *qualifier)
{
	char *users;
	uint64_t number;
	size_t at;

	if (!arn_version_number(qualifier, &number) || model_ver_find(fn, number) == NULL) {
		req_empty(r, 204); /* measured: deleting an absent version succeeds */
		return;
	}
	users = model_aliases_using(fn, number);
	if (users != NULL) {
		req_error(r, 409, "ResourceConflictException",
		    "Unable to delete version because the following aliases reference it: %s",
		    users);
		free(users);
		return;
	}
	users = mappings_using(r->emu, fn, qualifier);
	if (users != NULL) {
		req_error(r, 409, "ResourceConflictException",
		    "Unable to delete version because the following event source mappings "
		    "reference it: %s",
		    users);
		free(users);
		return;
	}
	if (model_pc_find(fn, qualifier) != NULL) {
		req_error(r, 409, "ResourceConflictException",
		    "Unable to delete version because it has a provisioned concurrency "
		    "configuration. Delete the provisioned concurrency configuration first.");
		return;
	}
	for (at = 0; at < fn->vers.n; at++) {
		if (((struct model_ver *)fn->vers.v[at])->number == number) {
			model_ver_free(vec_remove(&fn->vers, at));
			break;
		}
	}
	req_empty(r, 204);
}

void
fn_delete(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;

	if (model_name(r, r->label[0], req_query(r, "Qualifier"), MODEL_NAME_PLAIN, &n) != 0)
		return;
	if (n.qualifier != NULL && strcmp(n.qualifier, "$LATEST") == 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "$LATEST version cannot be deleted without deleting the function.");
		return;
	}
	fn = model_fn_lookup(r, n.parts.name, n.qualifier);
	if (fn == NULL)
		return;
	if (n.qualifier == NULL) {
		/* Versions, aliases and provisioned concurrency go with the function. */
		model_fn_delete(r->emu, fn);
		req_empty(r, 204);
		return;
	}
	if (arn_digits(n.qualifier)) {
		delete_version(r, fn, n.qualifier);
		return;
	}
	if (arn_alias_ok(n.qualifier)) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Deletion of aliases is not supported. Use DeleteAlias.");
		return;
	}
	model_not_found(r, n.parts.name, n.qualifier);
}
