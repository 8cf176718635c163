/*
 * Fuzz target "config": the daemon's config parser (controller/config.h, config_parse()),
 * every key, secret source and value syntax, then config_print() of a valid result.
 *
 * Input: the text of tether.yaml. It is parsed as if it were <tmp>/tether.yaml, where the
 * files the golden config cases name exist (secrets, keys, known_hosts, CA files, allowed
 * signers; tests/golden/config/cases), and with the environment variables those cases set,
 * so the seeds taken from them get as far as they do there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/compat.h"
#include "common/xmalloc.h"
#include "controller/config.h"
#include "tests/fuzz/fuzz.h"

struct fixture_file {
	const char *path;
	const char *content;
	int mode;
};

static const struct fixture_file fixture_files[] = {
    {"allowed_signers", "", 0600},
    {"ca.pem", "", 0644},
    {"certs/ca.pem", "", 0644},
    {"github", "gh-secret\n", 0600},
    {"hook-key", "hook-key\n", 0644},
    {"hook-url", "https://hooks.example.com/services/T0/B0/XYZ\n", 0600},
    {"id_ed25519", "", 0600},
    {"keys/allowed_signers", "", 0644},
    {"keys/id_ed25519", "", 0644},
    {"keys/known_hosts", "", 0644},
    {"keys/token", "t0k3n\n", 0600},
    {"keys/webhook", "whsec\r\n", 0600},
    {"known_hosts", "", 0644},
    {"secrets/empty", "", 0600},
    {"secrets/github-token", "ghp_token\n", 0600},
    {"secrets/github-webhook", "gh-webhook\n", 0600},
    {"secrets/gitlab", "glt\n", 0600},
    {"secrets/two-lines", "one\ntwo\n", 0600},
    {"slack-url", "not a url\n", 0600},
    {"token", "token\n", 0640},
};

/* Local repositories (repo: PATH must be a directory). */
static const char *const fixture_dirs[] = {"lambdas", "repo", "srv"};

static const char *const fixture_env[][2] = {
    {"GITLAB_TOKEN", "glt"},
    {"GENERIC_SECRET", "gen"},
    {"SLACK_URL", "https://hooks.slack.com/services/T0/B0/XYZ"},
    {"NOTIFY_KEY", "key"},
    {"GIT_TOKEN", "t0k3n"},
    {"EMPTY_SECRET", ""},
};

static char *config_path;

static void
setup(void)
{
	const char *dir = fuzz_tmpdir();
	char *sub, *big;
	size_t i;

	for (i = 0; i < nitems(fixture_files); i++) {
		if (strchr(fixture_files[i].path, '/') != NULL) {
			sub = xasprintf("%s/%.*s", dir,
			    (int)(strchr(fixture_files[i].path, '/') - fixture_files[i].path),
			    fixture_files[i].path);
			(void)mkdir(sub, 0700);
			free(sub);
		}
		fuzz_write_file(dir, fixture_files[i].path, fixture_files[i].content,
		    strlen(fixture_files[i].content), fixture_files[i].mode);
	}
	for (i = 0; i < nitems(fixture_dirs); i++) {
		sub = xasprintf("%s/%s", dir, fixture_dirs[i]);
		(void)mkdir(sub, 0700);
		free(sub);
	}
	/* A secret one byte over its cap. */
	big = xmalloc(CONFIG_SECRET_MAX + 1);
	memset(big, 'x', CONFIG_SECRET_MAX + 1);
	fuzz_write_file(dir, "secrets/big", big, CONFIG_SECRET_MAX + 1, 0600);
	free(big);
	for (i = 0; i < nitems(fixture_env); i++)
		setenv(fixture_env[i][0], fixture_env[i][1], 1);
	config_path = xasprintf("%s/tether.yaml", dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct diags diags = DIAGS_INIT;
	char *text;
	FILE *out;
	int rc;

	fuzz_quiet_logs();
	if (config_path == NULL)
		setup();
	text = fuzz_copy(data, size);
	rc = config_parse(config_path, text, size, &c, &diags);
	/* The contract: -1 exactly when there is an error, and then c is zeroed. */
	if ((rc == 0) != (diags.errors == 0) || (rc != 0 && c.file != NULL))
		abort();
	out = fopen("/dev/null", "w");
	if (out != NULL) {
		if (rc == 0)
			config_print(&c, out);
		diags_sort(&diags);
		diags_print(&diags, out);
		fclose(out);
	}
	config_free(&c);
	diags_free(&diags);
	free(text);
	return 0;
}
