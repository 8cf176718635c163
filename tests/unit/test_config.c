/*
 * The daemon's config: defaults, paths resolved against the config file's directory,
 * repository URL forms, and secrets (files with their cap and permission warning,
 * environment variables), which never show up in messages or in the printed config.
 * Every error case of the file format is a golden test (tests/golden/config/).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "controller/config.h"
#include "tests/lib/tmpdir.h"

struct fixture {
	char dir[PATH_MAX]; /* the real path: what the config resolves against */
	char cwd[PATH_MAX]; /* to go back to */
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char made[PATH_MAX];

	assert_int_equal(tmpdir_make(made, sizeof(made), "tether-test-config"), 0);
	assert_non_null(realpath(made, f->dir));
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(chdir(f->cwd), 0);
	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* dir/rel with content, mode; parent folders made. Returns the full path (free it). */
static char *
put(const struct fixture *f, const char *rel, const char *content, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", f->dir, rel), *slash;
	int fd;

	for (slash = strchr(path + strlen(f->dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static char *
put_str(const struct fixture *f, const char *rel, const char *content)
{
	return put(f, rel, content, strlen(content), 0600);
}

/* Everything config_check() prints for path. */
static char *
check_output(const char *path, int *rc)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	*rc = config_check(path, true, fp);
	fclose(fp);
	return out;
}

/* Load a config that must be valid; its diagnostics (warnings) in *printed when asked. */
static void
load_ok(const char *path, struct config *c, char **printed)
{
	struct diags d = DIAGS_INIT;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	if (config_load(path, c, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("config %s did not load", path);
	}
	diags_print(&d, fp);
	fclose(fp);
	diags_free(&d);
	if (printed != NULL)
		*printed = out;
	else
		free(out);
}

static void
test_config__defaults(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char *path, *want, *printed;

	free(put_str(f, "repo/HEAD", "ref: refs/heads/main\n"));
	path = put_str(f, "tether.yaml", "repo: repo\n");
	load_ok(path, &c, &printed);
	assert_string_equal(printed, "");
	assert_string_equal(c.file, path);
	assert_string_equal(c.dir, f->dir);
	want = xasprintf("%s/repo", f->dir);
	assert_string_equal(c.repo, want);
	free(want);
	assert_int_equal(c.repo_kind, CONFIG_REPO_LOCAL);
	assert_null(c.ref);
	assert_false(c.ref_is_commit);
	assert_string_equal(c.path, "");
	assert_null(c.environment);
	assert_true(c.interval == 60.0);
	assert_true(c.jitter == 0.1);
	assert_true(c.drift_interval == 300.0);
	assert_null(c.region);
	assert_null(c.endpoint);
	want = xasprintf("%s/.tether", f->dir);
	assert_string_equal(c.state_dir, want);
	free(want);
	assert_string_equal(c.listen, "127.0.0.1:9180");
	assert_true(c.listen_loopback);
	assert_int_equal(c.concurrency, 8);
	assert_true(c.api_rps == 0.0);
	assert_int_equal(c.log_format, CONFIG_LOG_TEXT);
	assert_false(c.has_log_format);
	assert_null(c.git.ssh_key_file);
	assert_null(c.git.known_hosts);
	assert_int_equal(c.git.token.source, CONFIG_SECRET_NONE);
	assert_null(c.git.ca_file);
	assert_string_equal(c.git.username, "x-access-token");
	assert_int_equal(c.webhook.github.source, CONFIG_SECRET_NONE);
	assert_int_equal(c.webhook.gitlab.source, CONFIG_SECRET_NONE);
	assert_int_equal(c.webhook.generic.source, CONFIG_SECRET_NONE);
	assert_string_equal(c.webhook.generic_header, "X-Tether-Signature-256");
	assert_int_equal(c.webhook.max_body, 1024 * 1024);
	assert_int_equal(c.webhook.rate, 30);
	assert_int_equal(c.verify.mode, CONFIG_VERIFY_NONE);
	assert_null(c.verify.allowed_signers);
	assert_int_equal(c.nnotify, 0);
	config_free(&c);
	assert_null(c.repo);
	config_free(&c);
	config_free(NULL);
	free(printed);
	free(path);
}

static void
test_config__values(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char *path;

	free(put_str(f, "signers", "dev@example.com ssh-ed25519 AAAA\n"));
	path = put_str(f, "tether.yaml",
	    "repo: https://github.com/acme/lambdas.git\n"
	    "ref: 0123456789ABCDEF0123456789abcdef01234567\n"
	    "path: ./deploy//lambda/\n"
	    "interval: 1h30m\n"
	    "jitter: 0\n"
	    "drift_interval: 0s\n"
	    "listen: \"[::1]:0\"\n"
	    "concurrency: 0x10\n"
	    "api_rps: 2.5\n"
	    "log_format: json\n"
	    "webhook: {max_body: 512KiB, rate: 600}\n"
	    "verify: {mode: ssh, allowed_signers: signers}\n"
	    "notify:\n"
	    "  - {url: 'http://127.0.0.1:1/x', kind: generic, events: [failed, deployed]}\n"
	    "  - {url: 'https://hooks.slack.com/services/T/B/C', kind: slack}\n");
	load_ok(path, &c, NULL);
	assert_int_equal(c.repo_kind, CONFIG_REPO_HTTPS);
	assert_true(c.ref_is_commit);
	assert_string_equal(c.path, "deploy/lambda");
	assert_true(c.interval == 5400.0);
	assert_true(c.jitter == 0.0);
	assert_true(c.drift_interval == 0.0);
	assert_string_equal(c.listen, "[::1]:0");
	assert_true(c.listen_loopback);
	assert_int_equal(c.concurrency, 16);
	assert_true(c.api_rps == 2.5);
	assert_int_equal(c.log_format, CONFIG_LOG_JSON);
	assert_true(c.has_log_format);
	assert_int_equal(c.webhook.max_body, 512 * 1024);
	assert_int_equal(c.webhook.rate, 600);
	assert_int_equal(c.verify.mode, CONFIG_VERIFY_SSH);
	assert_non_null(strstr(c.verify.allowed_signers, "/signers"));
	assert_int_equal(c.nnotify, 2);
	assert_int_equal(c.notify[0].kind, CONFIG_NOTIFY_GENERIC);
	assert_int_equal(
	    c.notify[0].events, (1u << CONFIG_EVENT_FAILED) | (1u << CONFIG_EVENT_DEPLOYED));
	assert_int_equal(c.notify[1].kind, CONFIG_NOTIFY_SLACK);
	assert_int_equal(c.notify[1].events, CONFIG_EVENTS_ALL);
	assert_int_equal(c.notify[1].url_secret.source, CONFIG_SECRET_NONE);
	config_free(&c);
	free(path);
}

/* Every form of repository and the kind it is. */
static void
test_config__repo_forms(void **state)
{
	static const struct {
		const char *repo;
		enum config_repo_kind kind;
	} cases[] = {
	    {"https://github.com/acme/lambdas.git", CONFIG_REPO_HTTPS},
	    {"HTTPS://GitHub.com:8443/acme/lambdas", CONFIG_REPO_HTTPS},
	    {"http://127.0.0.1:3000/acme/lambdas.git", CONFIG_REPO_HTTP},
	    {"git://git.example.com/acme/lambdas.git", CONFIG_REPO_GIT},
	    {"ssh://git@git.example.com:2222/acme/lambdas.git", CONFIG_REPO_SSH},
	    {"ssh://[::1]/srv/lambdas.git", CONFIG_REPO_SSH},
	    {"git@github.com:acme/lambdas.git", CONFIG_REPO_SSH},
	    {"github.com:acme/lambdas.git", CONFIG_REPO_SSH},
	    {"file:///srv/git/lambdas.git", CONFIG_REPO_FILE},
	    {"file://localhost/srv/git/lambdas.git", CONFIG_REPO_FILE},
	    {"./local:repo", CONFIG_REPO_LOCAL},
	};
	static const char *const bad[] = {
	    "https://user:hunter2@github.com/acme/lambdas.git",
	    "https://token@github.com/acme/lambdas.git",
	    "gopher://example.com/x",
	    "https://github.com",
	    "https://github.com/acme/lambdas.git?x=1",
	    "https://github.com/acme/lambdas.git#main",
	    "ssh://git@host:0/x",
	    "ssh://git@:22/x",
	    "file://server/share/repo",
	    "git@github.com:",
	    "a b@host:x",
	    "./missing",
	};
	struct fixture *f = *state;
	struct diags d = DIAGS_INIT;
	struct config c;
	char *path, *yaml;
	size_t i;

	free(put_str(f, "local:repo/config", "x\n"));
	for (i = 0; i < nitems(cases); i++) {
		yaml = xasprintf("repo: \"%s\"\n", cases[i].repo);
		path = put_str(f, "tether.yaml", yaml);
		load_ok(path, &c, NULL);
		if (c.repo_kind != cases[i].kind)
			fail_msg("%s: kind %d, want %d", cases[i].repo, c.repo_kind, cases[i].kind);
		if (cases[i].kind != CONFIG_REPO_LOCAL)
			assert_string_equal(c.repo, cases[i].repo);
		config_free(&c);
		free(yaml);
		free(path);
	}
	for (i = 0; i < nitems(bad); i++) {
		yaml = xasprintf("repo: \"%s\"\n", bad[i]);
		path = put_str(f, "tether.yaml", yaml);
		if (config_load(path, &c, &d) == 0)
			fail_msg("%s was accepted", bad[i]);
		assert_int_equal(d.errors, 1);
		/* Nothing of a password reaches a message. */
		assert_null(strstr(d.items[0].message, "hunter2"));
		assert_null(c.repo);
		diags_free(&d);
		free(yaml);
		free(path);
	}
}

/* Paths start at the config file's directory, whatever the working directory. */
static void
test_config__relative_paths(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char *path, *want;

	free(put_str(f, "etc/tether/keys/token", "t0k3n\n"));
	free(put_str(f, "etc/secrets/hook", "h00k\n"));
	free(put_str(f, "etc/tether/ca.pem", "pem\n"));
	free(put_str(f, "repos/lambdas/HEAD", "ref: refs/heads/main\n"));
	/* An absolute path (the CA) is kept as it is. */
	want = xasprintf("repo: ../../repos/lambdas\n"
	                 "state_dir: ./state//dir/.\n"
	                 "git: {token_file: keys/token, ca_file: %s/etc/tether/ca.pem}\n"
	                 "webhook: {github_secret_file: ../secrets/hook}\n",
	    f->dir);
	free(put_str(f, "etc/tether/tether.yaml", want));
	free(want);

	/* From the fixture's directory, with a relative path to the config. */
	assert_int_equal(chdir(f->dir), 0);
	load_ok("etc/tether/tether.yaml", &c, NULL);
	want = xasprintf("%s/etc/tether", f->dir);
	assert_string_equal(c.dir, want);
	free(want);
	want = xasprintf("%s/etc/tether/../../repos/lambdas", f->dir);
	assert_string_equal(c.repo, want);
	free(want);
	want = xasprintf("%s/etc/tether/state/dir", f->dir);
	assert_string_equal(c.state_dir, want);
	free(want);
	want = xasprintf("%s/etc/tether/keys/token", f->dir);
	assert_string_equal(c.git.token.name, want);
	assert_string_equal(c.git.token.label, "git.token_file");
	free(want);
	want = xasprintf("%s/etc/tether/ca.pem", f->dir);
	assert_string_equal(c.git.ca_file, want);
	free(want);
	want = xasprintf("%s/etc/tether/../secrets/hook", f->dir);
	assert_string_equal(c.webhook.github.name, want);
	free(want);
	config_free(&c);

	/* From inside, with the bare file name, and with an absolute path: the same. */
	assert_int_equal(chdir("etc/tether"), 0);
	load_ok("tether.yaml", &c, NULL);
	want = xasprintf("%s/etc/tether/state/dir", f->dir);
	assert_string_equal(c.state_dir, want);
	config_free(&c);
	path = xasprintf("%s/etc/tether/tether.yaml", f->dir);
	assert_int_equal(chdir("/"), 0);
	load_ok(path, &c, NULL);
	assert_string_equal(c.state_dir, want);
	config_free(&c);
	free(want);
	free(path);
}

static void
test_config__secret_file(void **state)
{
	struct fixture *f = *state;
	struct config_secret s = {CONFIG_SECRET_FILE, NULL, "webhook.github_secret_file"};
	struct err err = ERR_INIT;
	char *value, big[CONFIG_SECRET_MAX + 2];
	size_t len;

	s.name = put_str(f, "s1", "s3cr3t\r\n\n");
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	assert_int_equal(len, 6);
	assert_string_equal(value, "s3cr3t");
	config_secret_free(value, len);
	free(s.name);

	/* At the cap exactly, then one byte over (the newline counts: the cap is on the file). */
	memset(big, 'x', sizeof(big));
	s.name = put(f, "s2", big, CONFIG_SECRET_MAX, 0600);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	assert_int_equal(len, CONFIG_SECRET_MAX);
	assert_int_equal(strlen(value), CONFIG_SECRET_MAX);
	config_secret_free(value, len);
	free(s.name);
	big[CONFIG_SECRET_MAX] = '\n';
	s.name = put(f, "s3", big, CONFIG_SECRET_MAX + 1, 0600);
	value = (char *)"untouched";
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_TOOBIG);
	assert_null(value);
	assert_non_null(strstr(err.message, "webhook.github_secret_file: "));
	assert_non_null(strstr(err.message, "is over 4096 bytes"));
	assert_null(strstr(err.message, "xxxx"));
	free(s.name);

	s.name = put_str(f, "s4", "line one\nline two\n");
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "holds more than one line"));
	assert_null(strstr(err.message, "line one"));
	free(s.name);

	s.name = put(f, "s5", "ab\0cd", 5, 0600);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "holds a NUL byte"));
	free(s.name);

	s.name = put_str(f, "s6", "\n");
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "is empty"));
	free(s.name);

	s.name = xasprintf("%s/missing", f->dir);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.message, "cannot open"));
	assert_non_null(strstr(err.message, "/missing: No such file or directory"));
	free(s.name);

	/* A directory and a FIFO are refused, the FIFO without blocking on it. */
	s.name = xstrdup(f->dir);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "is not a regular file"));
	free(s.name);
	s.name = xasprintf("%s/fifo", f->dir);
	assert_int_equal(mkfifo(s.name, 0600), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "is not a regular file"));
	free(s.name);

	/* A link to a secret is followed (mounted secrets are links). */
	free(put_str(f, "real", "linked\n"));
	s.name = xasprintf("%s/link", f->dir);
	assert_int_equal(symlink("real", s.name), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	assert_string_equal(value, "linked");
	config_secret_free(value, len);
	free(s.name);

	s.source = CONFIG_SECRET_NONE;
	s.name = NULL;
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	config_secret_free(NULL, 0);
}

/* A file others can read is read, with one warning that names it and not its value. */
static void
test_config__secret_file_permissions(void **state)
{
	struct fixture *f = *state;
	struct config_secret s = {CONFIG_SECRET_FILE, NULL, "git.token_file"};
	struct err err = ERR_INIT;
	struct diags d = DIAGS_INIT;
	struct config c;
	char *value, *logpath, logged[1024], *path, *want;
	size_t len;
	ssize_t n;
	int fd;

	s.name = put(f, "token", "t0k3n-value\n", 12, 0644);
	logpath = xasprintf("%s/log", f->dir);
	fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_init(LOG_LEVEL_INFO, false, fd);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	log_init(LOG_LEVEL_INFO, false, STDERR_FILENO);
	assert_string_equal(value, "t0k3n-value");
	config_secret_free(value, len);
	n = pread(fd, logged, sizeof(logged) - 1, 0);
	assert_true(n > 0);
	logged[n] = '\0';
	close(fd);
	assert_non_null(strstr(logged, "git.token_file: "));
	assert_non_null(strstr(logged, "/token is accessible by group or others (mode 0644)"));
	assert_null(strstr(logged, "t0k3n-value"));
	assert_int_equal(chmod(s.name, 0600), 0);

	/* config_load() makes it a warning diagnostic, the config still valid. */
	assert_int_equal(chmod(s.name, 0640), 0);
	path = put_str(f, "tether.yaml",
	    "repo: https://github.com/acme/lambdas.git\ngit:\n  token_file: token\n");
	assert_int_equal(config_load(path, &c, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	want = xasprintf("git.token_file: %s is accessible by group or others (mode 0640); "
	                 "chmod 600 it",
	    s.name);
	assert_string_equal(d.items[0].message, want);
	assert_int_equal(d.items[0].line, 3);
	assert_int_equal(d.items[0].col, 15);
	config_free(&c);
	diags_free(&d);
	free(want);
	free(path);
	free(logpath);
	free(s.name);
}

static void
test_config__secret_env(void **state)
{
	struct config_secret s = {CONFIG_SECRET_ENV, (char *)"TETHER_TEST_SECRET", "x_env"};
	struct err err = ERR_INIT;
	char *value, big[CONFIG_SECRET_MAX + 2];
	size_t len;

	(void)state;
	assert_int_equal(setenv("TETHER_TEST_SECRET", "env-s3cr3t\n", 1), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	assert_string_equal(value, "env-s3cr3t");
	assert_int_equal(len, 10);
	config_secret_free(value, len);

	assert_int_equal(unsetenv("TETHER_TEST_SECRET"), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_NOTFOUND);
	assert_string_equal(
	    err.message, "x_env: environment variable TETHER_TEST_SECRET is not set");

	assert_int_equal(setenv("TETHER_TEST_SECRET", "", 1), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_INVALID);
	assert_string_equal(err.message, "x_env: environment variable TETHER_TEST_SECRET is empty");

	memset(big, 'y', sizeof(big));
	big[CONFIG_SECRET_MAX] = '\0';
	assert_int_equal(setenv("TETHER_TEST_SECRET", big, 1), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), 0);
	assert_int_equal(len, CONFIG_SECRET_MAX);
	config_secret_free(value, len);
	big[CONFIG_SECRET_MAX] = 'y';
	big[CONFIG_SECRET_MAX + 1] = '\0';
	assert_int_equal(setenv("TETHER_TEST_SECRET", big, 1), 0);
	assert_int_equal(config_read_secret(&s, &value, &len, &err), ERR_TOOBIG);
	assert_null(strstr(err.message, "yyyy"));
	assert_int_equal(unsetenv("TETHER_TEST_SECRET"), 0);
}

/* Secret values never reach the diagnostics or the printed config. */
static void
test_config__secrets_stay_out_of_output(void **state)
{
	struct fixture *f = *state;
	char *path, *out;
	int rc;

	assert_int_equal(chdir(f->dir), 0);
	free(put_str(f, "hook-key", "file-s3cr3t\n"));
	free(put_str(f, "slack", "https://hooks.slack.com/services/T/B/file-url-s3cr3t\n"));
	assert_int_equal(setenv("TETHER_TEST_GH", "env-s3cr3t", 1), 0);
	assert_int_equal(setenv("TETHER_TEST_SLACK", "not a URL env-url-s3cr3t", 1), 0);
	path = put_str(f, "tether.yaml",
	    "repo: https://github.com/acme/lambdas.git\n"
	    "webhook: {github_secret_env: TETHER_TEST_GH, generic_secret_file: hook-key}\n"
	    "notify:\n"
	    "  - {url_file: slack, kind: slack}\n"
	    "  - {url: 'https://x.example.com/hook/path-s3cr3t?t=q-s3cr3t', kind: generic}\n");
	out = check_output("tether.yaml", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "  github_secret: env TETHER_TEST_GH\n"));
	assert_non_null(strstr(out, "  - url: https://x.example.com/***\n"));
	assert_null(strstr(out, "s3cr3t"));
	free(out);
	free(path);

	/* An invalid URL in a variable is refused without quoting it. */
	path = put_str(f, "tether.yaml",
	    "repo: https://github.com/acme/lambdas.git\n"
	    "notify: [{url_env: TETHER_TEST_SLACK, kind: slack}]\n");
	out = check_output("tether.yaml", &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(out,
	    "tether.yaml:2:20: notify[0].url_env: the value of TETHER_TEST_SLACK is not an http "
	    "or https URL\ninvalid: 1 error, 0 warnings\n");
	free(out);
	free(path);
	unsetenv("TETHER_TEST_GH");
	unsetenv("TETHER_TEST_SLACK");
}

static void
test_config__check_output(void **state)
{
	struct fixture *f = *state;
	struct diags d = DIAGS_INIT;
	struct config c;
	char *path, *out;
	int rc;

	assert_int_equal(chdir(f->dir), 0);
	free(put_str(f, "tether.yaml", "repo: ./nope\nconcurrency: 999\nlisten: 0.0.0.0:80\n"));
	out = check_output("tether.yaml", &rc);
	assert_int_equal(rc, -1);
	path = xasprintf("tether.yaml:1:7: repo: cannot open %s/nope: No such file or directory\n"
	                 "tether.yaml:2:14: concurrency: 999 is out of range (1..256)\n"
	                 "tether.yaml:3:9: warning: listen: 0.0.0.0:80 is not a loopback "
	                 "address: webhooks, /metrics and /status are reachable from the "
	                 "network\n"
	                 "invalid: 2 errors, 1 warning\n",
	    f->dir);
	assert_string_equal(out, path);
	free(path);
	free(out);

	/* A failed load leaves nothing to free. */
	assert_int_equal(config_load("tether.yaml", &c, &d), -1);
	assert_null(c.file);
	assert_null(c.repo);
	assert_null(c.state_dir);
	config_free(&c);
	diags_free(&d);

	out = check_output("absent.yaml", &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(out, "cannot open absent.yaml: No such file or directory\n"
	                         "invalid: 1 error, 0 warnings\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config__defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__repo_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__relative_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__secret_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__secret_file_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__secret_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_config__secrets_stay_out_of_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config__check_output, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
