#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/fn.h"
#include "aws/emulator/model.h"
#include "aws/emulator/page.h"
#include "aws/emulator/pc.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"

static void
render_pc(struct jsonw *w, const struct emu *emu, const struct model_fn *fn,
    const struct model_pc *pc, uint64_t now, bool item)
{
	bool ready = now >= pc->ready_at;
	char modified[29], *arn;

	timeutil_lambda(pc->last_modified, modified);
	jsonw_object_open(w);
	if (item) {
		arn = model_fn_arn(emu, fn->name, pc->qualifier);
		jsonw_kstr(w, "FunctionArn", arn);
		free(arn);
	}
	jsonw_kint(w, "RequestedProvisionedConcurrentExecutions", pc->requested);
	jsonw_kint(w, "AvailableProvisionedConcurrentExecutions", ready ? pc->requested : 0);
	jsonw_kint(w, "AllocatedProvisionedConcurrentExecutions", ready ? pc->requested : 0);
	jsonw_kstr(w, "Status", ready ? "READY" : "IN_PROGRESS");
	jsonw_kstr(w, "LastModified", modified);
	jsonw_object_close(w);
}

void
pc_put(struct req *r)
{
	struct model_name n;
	struct model_target t;
	struct model_pc *pc;
	const struct model_alias *a;
	const char *qualifier;
	char vname[24];
	int64_t count = 0;
	bool has_count;
	size_t i;
	struct jsonw w;
	char *arn;

	if (req_body(r) != 0)
		return;
	qualifier = req_query(r, "Qualifier");
	req_check_null(r, "qualifier", qualifier != NULL);
	(void)model_parse_name(r, r->label[0], qualifier, MODEL_NAME_PLAIN, &n);
	has_count = req_int(r, r->body, "ProvisionedConcurrentExecutions", &count);
	req_check_null(r, "provisionedConcurrentExecutions", has_count);
	if (has_count)
		req_check_range(r, "provisionedConcurrentExecutions", count, 1, INT32_MAX);
	if (req_failed(r) || model_check_name(r, &n) != 0)
		return;
	if (strcmp(n.qualifier, "$LATEST") == 0) {
		req_error(r, 400, "InvalidParameterValueException",
		    "Provisioned Concurrency Configs cannot be applied to unpublished function "
		    "versions.");
		return;
	}
	if (!arn_digits(n.qualifier) && arn_alias_ok(n.qualifier) &&
	    model_fn_find(r->emu, n.parts.name) != NULL &&
	    model_alias_find(model_fn_find(r->emu, n.parts.name), n.qualifier) == NULL) {
		arn = model_fn_arn(r->emu, n.parts.name, n.qualifier);
		req_error(r, 404, "ResourceNotFoundException", "Cannot find alias arn: %s", arn);
		free(arn);
		return;
	}
	if (model_resolve(r, n.parts.name, n.qualifier, &t) != 0)
		return;
	if (t.kind == MODEL_TARGET_ALIAS) {
		if (t.alias->routing) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Alias with weights can not be used with Provisioned Concurrency");
			return;
		}
		if (t.alias->version == MODEL_LATEST) {
			req_error(r, 400, "InvalidParameterValueException",
			    "Provisioned Concurrency Configs cannot be applied to unpublished "
			    "function "
			    "versions.");
			return;
		}
		model_version_name(t.alias->version, vname);
		if (model_pc_find(t.fn, vname) != NULL) {
			req_error(r, 409, "ResourceConflictException",
			    "Alias can't be used for Provisioned Concurrency configuration on an "
			    "already Provisioned version");
			return;
		}
	} else {
		for (i = 0; i < t.fn->aliases.n; i++) {
			a = t.fn->aliases.v[i];
			if (a->version == t.ver->number && model_pc_find(t.fn, a->name) != NULL) {
				req_error(r, 409, "ResourceConflictException",
				    "Version is pointed by a Provisioned Concurrency alias");
				return;
			}
		}
	}
	pc = model_pc_find(t.fn, n.qualifier);
	if (pc == NULL) {
		pc = xcalloc(1, sizeof(*pc));
		pc->qualifier = xstrdup(n.qualifier);
		model_pc_add(t.fn, pc);
	}
	pc->requested = count;
	pc->last_modified = r->wall;
	pc->ready_at = r->now + r->emu->create_delay_ms;
	req_json_begin(r, 202, &w);
	render_pc(&w, r->emu, t.fn, pc, r->now, false);
	req_json_end(r, &w);
}

void
pc_list(struct req *r)
{
	struct model_name n;
	struct model_fn *fn;
	const struct model_pc *pc;
	char *key = NULL, *marker = NULL;
	const char *last = NULL;
	size_t size, count = 0, i = 0;
	bool more = false;
	struct jsonw w;

	(void)model_parse_name(r, r->label[0], NULL, MODEL_NAME_PLAIN, &n);
	size = page_size(r, 50);
	if (req_failed(r))
		return;
	fn = fn_target(r, &n, false);
	if (fn == NULL)
		return;
	if (page_start(r, "provisioned-concurrency", &key) != 0)
		return;
	if (key != NULL)
		for (i = 0; i < fn->pcs.n; i++)
			if (strcmp(((struct model_pc *)fn->pcs.v[i])->qualifier, key) > 0)
				break;
	req_json_begin(r, 200, &w);
	jsonw_object_open(&w);
	jsonw_key(&w, "ProvisionedConcurrencyConfigs");
	jsonw_array_open(&w);
	for (; i < fn->pcs.n; i++) {
		if (count == size) {
			more = true;
			break;
		}
		pc = fn->pcs.v[i];
		render_pc(&w, r->emu, fn, pc, r->now, true);
		last = pc->qualifier;
		count++;
	}
	jsonw_array_close(&w);
	if (more) {
		marker = page_marker("provisioned-concurrency", last);
		jsonw_kstr(&w, "NextMarker", marker);
	}
	jsonw_object_close(&w);
	req_json_end(r, &w);
	free(marker);
	free(key);
}
