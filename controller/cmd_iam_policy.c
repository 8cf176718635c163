/*
 * `tether iam-policy [DIR | --repo URL|PATH [--ref REF]] [--path P] [--env ENV]
 * [--account ID]`: print the least-privilege IAM policy for the functions and layers a
 * desired state manages (controller/iam_policy.h, docs/iam.md). Offline: no AWS call.
 *
 * stdout is the policy document and nothing else, so it can be redirected into a file and
 * given to `aws iam put-role-policy`; it is JSON whatever --output says. Diagnostics of the
 * desired state (path:line:col: message) and every other problem go to stderr. Exit 0
 * printed, 1 invalid desired state, unreadable source or an account that is not known, 2
 * usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "controller/cli.h"
#include "controller/desired.h"
#include "controller/iam_policy.h"
#include "gitwatch/source.h"

static bool
is_account(const char *s)
{
	return strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* Read and load the desired state from DIR or --repo; diagnostics go to stderr. */
static int
read_desired(const struct cli *cli, const char *dir, struct desired *d)
{
	struct fileset fs = FILESET_INIT;
	struct diags diags = DIAGS_INIT;
	struct err err = ERR_INIT;
	char *region = NULL, *cache = NULL;
	int rc = -1;

	if (cli->repo != NULL) {
		/* Repositories fetched over the network are cached under the state directory. */
		if (cli->state_dir != NULL)
			cache = xasprintf("%s/repos", cli->state_dir);
		if (source_read_git(cli->repo, cli->ref, cli->path, cache, &fs, &d->commit, &err) !=
		    0) {
			fprintf(stderr, "tether: %s\n", err.message);
			goto out;
		}
		log_info("iam-policy", "commit %.12s (%s): %s", d->commit.id, d->commit.ref,
		    d->commit.summary != NULL ? d->commit.summary : "");
	} else if (source_read_dir(dir, cli->path, &fs, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}
	region = desired_default_region(&cli->session);
	if (desired_load(&fs, cli->env, region, cli->path, d, &diags) != 0) {
		diags_print(&diags, stderr);
		fprintf(stderr, "tether: %zu error%s in the desired state; no policy printed\n",
		    diags.errors, diags.errors == 1 ? "" : "s");
		goto out;
	}
	diags_print(&diags, stderr); /* warnings */
	rc = 0;
out:
	diags_free(&diags);
	fileset_free(&fs);
	free(region);
	free(cache);
	return rc;
}

int
cmd_iam_policy(const struct cli *cli, int argc, char **argv)
{
	struct desired d;
	struct iam_policy_opts po = IAM_POLICY_OPTS_INIT;
	struct err err = ERR_INIT;
	json_t *policy = NULL;
	const char *dir = ".";
	size_t size;
	int rc = CLI_EXIT_ERROR;

	memset(&d, 0, sizeof(d));
	if (argc > 1)
		return cli_usage_error(
		    "iam-policy takes at most one directory, not \"%s\"", argv[1]);
	if (argc == 1 && cli->repo != NULL)
		return cli_usage_error(
		    "iam-policy takes a directory or --repo, not both (\"%s\")", argv[0]);
	if (cli->ref != NULL && cli->repo == NULL)
		return cli_usage_error("%s", "--ref needs --repo");
	if (cli->account != NULL && !is_account(cli->account))
		return cli_usage_error(
		    "--account wants a 12-digit account ID, not \"%s\"", cli->account);
	if (argc == 1)
		dir = argv[0];

	if (read_desired(cli, dir, &d) != 0)
		goto out;
	po.account = cli->account;
	if (iam_policy_build(&policy, &d.spec, &po, &err) != 0) {
		fprintf(stderr, "tether: %s\n", err.message);
		goto out;
	}
	size = iam_policy_size(policy);
	if (size > IAM_POLICY_INLINE_ROLE_MAX)
		log_warn("iam-policy",
		    "the policy has %zu characters: over IAM's %d for a role's inline policies "
		    "and %d for a managed policy; split the repository's functions across roles",
		    size, IAM_POLICY_INLINE_ROLE_MAX, IAM_POLICY_MANAGED_MAX);
	else if (size > IAM_POLICY_MANAGED_MAX)
		log_warn("iam-policy",
		    "the policy has %zu characters: over IAM's %d for a managed policy (an "
		    "inline role policy takes up to %d)",
		    size, IAM_POLICY_MANAGED_MAX, IAM_POLICY_INLINE_ROLE_MAX);
	if (iam_policy_print(policy, stdout) != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "tether: cannot write the policy\n");
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(policy);
	desired_free(&d);
	return rc;
}
