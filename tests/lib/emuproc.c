#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "tests/lib/emuproc.h"
#include "tests/lib/tmpdir.h"

#define START_TIMEOUT_DEFAULT 30.0
#define STOP_TIMEOUT_MS 30000
#define POLL_MS 5

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The port in the port file, or 0 while it is not (completely) written. */
static int
read_port(const char *path)
{
	char text[32];
	size_t n;
	FILE *f;
	long v;
	char *end;

	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (n == 0 || text[n - 1] != '\n')
		return 0;
	v = strtol(text, &end, 10);
	if (end == text || *end != '\n' || v <= 0 || v > 65535)
		return 0;
	return (int)v;
}

static void
describe_status(int status, char *out, size_t size)
{
	if (WIFEXITED(status))
		snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, size, "ended with wait status %d", status);
}

int
emuproc_start(struct emuproc *p, const struct emuproc_opts *opts, struct err *err)
{
	const char *argv[EMUPROC_ARGS_MAX + 12];
	char port_file[PATH_MAX], how[64];
	const char *binary;
	double timeout;
	long waited = 0;
	size_t argc = 0, i;
	int status;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	binary = opts->binary != NULL ? opts->binary : getenv("TETHER_EMULATOR");
	if (binary == NULL || binary[0] == '\0')
		return err_set(err, ERR_FAIL, "emuproc: TETHER_EMULATOR is not set");
	if (opts->nargs > EMUPROC_ARGS_MAX)
		return err_set(err, ERR_FAIL, "emuproc: more than %d arguments", EMUPROC_ARGS_MAX);
	if (tmpdir_make(p->dir, sizeof(p->dir), "emuproc") != 0)
		return err_set(err, ERR_FAIL, "emuproc: mkdtemp: %s", strerror(errno));
	snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
	argv[argc++] = binary;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	if (opts->access_log) {
		snprintf(p->access_log, sizeof(p->access_log), "%s/access.log", p->dir);
		argv[argc++] = "--access-log";
		argv[argc++] = p->access_log;
	}
	for (i = 0; i < opts->nargs; i++)
		argv[argc++] = opts->args[i];
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set(err, ERR_FAIL, "emuproc: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* If the test dies, the emulator must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(binary, (char *const *)argv);
		fprintf(stderr, "emuproc: exec %s: %s\n", binary, strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	timeout = opts->start_timeout > 0 ? opts->start_timeout : START_TIMEOUT_DEFAULT;
	for (;;) {
		p->port = read_port(port_file);
		if (p->port != 0)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			p->pid = 0;
			describe_status(status, how, sizeof(how));
			err_set(err, ERR_FAIL, "emuproc: %s %s before listening", binary, how);
			goto fail;
		}
		if (waited >= (long)(timeout * 1000)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			p->pid = 0;
			err_set(err, ERR_FAIL, "emuproc: %s wrote no port within %.0f s", binary,
			    timeout);
			goto fail;
		}
		sleep_ms(POLL_MS);
		waited += POLL_MS;
	}
	snprintf(p->endpoint, sizeof(p->endpoint), "http://127.0.0.1:%d", p->port);
	return 0;
fail:
	tmpdir_remove(p->dir);
	memset(p, 0, sizeof(*p));
	return -1;
}

int
emuproc_stop(struct emuproc *p, struct err *err)
{
	char how[64];
	int status = 0, rc = 0;
	long waited = 0;
	pid_t r;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		for (;;) {
			r = waitpid(p->pid, &status, WNOHANG);
			if (r == p->pid || (r < 0 && errno != EINTR))
				break;
			if (waited >= STOP_TIMEOUT_MS) {
				kill(p->pid, SIGKILL);
				waitpid(p->pid, &status, 0);
				rc = err_set(err, ERR_FAIL,
				    "emuproc: the emulator ignored SIGTERM for %d s",
				    STOP_TIMEOUT_MS / 1000);
				break;
			}
			sleep_ms(POLL_MS);
			waited += POLL_MS;
		}
		if (rc == 0 && r < 0)
			rc = err_set(err, ERR_FAIL, "emuproc: waitpid: %s", strerror(errno));
		if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			describe_status(status, how, sizeof(how));
			rc = err_set(err, ERR_FAIL, "emuproc: the emulator %s", how);
		}
	}
	tmpdir_remove(p->dir);
	memset(p, 0, sizeof(*p));
	return rc;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, data, size * n) != 0)
		return 0;
	return size * n;
}

int
emuproc_request(const struct emuproc *p, const char *method, const char *path,
    const char *const *headers_in, size_t nheaders, const char *body, long *status, char **body_out,
    struct err *err)
{
	bool has_type = false;
	size_t i;

	struct buf resp = BUF_INIT(EMUPROC_ADMIN_RESPONSE_MAX);
	struct curl_slist *headers = NULL;
	char url[PATH_MAX];
	CURLcode rc;
	CURL *h;
	int ret = 0;

	*status = 0;
	if (body_out != NULL)
		*body_out = NULL;
	h = curl_easy_init();
	if (h == NULL)
		return err_set(err, ERR_FAIL, "emuproc: curl_easy_init failed");
	snprintf(url, sizeof(url), "%s%s", p->endpoint, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	for (i = 0; i < nheaders; i++) {
		headers = curl_slist_append(headers, headers_in[i]);
		if (strncasecmp(headers_in[i], "Content-Type:", 13) == 0)
			has_type = true;
	}
	/* Nothing curl would add on its own may change what a signature covers. */
	headers = curl_slist_append(headers, "Expect:");
	if (body != NULL && !has_type)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		ret = err_set(
		    err, ERR_FAIL, "emuproc: %s %s: %s", method, url, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (body_out != NULL)
		*body_out = buf_detach(&resp, NULL);
out:
	buf_free(&resp);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return ret;
}

int
emuproc_stats(const struct emuproc *p, json_t **out, struct err *err)
{
	json_error_t jerr;
	char *body = NULL;
	long status;

	*out = NULL;
	if (emuproc_request(p, "GET", "/_emulator/stats", NULL, 0, NULL, &status, &body, err) != 0)
		return -1;
	if (status != 200) {
		free(body);
		return err_set(err, ERR_FAIL, "emuproc: stats answered HTTP %ld", status);
	}
	*out = json_loads(body, 0, &jerr);
	free(body);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(err, ERR_FAIL, "emuproc: stats are not a JSON object");
	}
	return 0;
}

long long
emuproc_stats_op(json_t *stats, const char *op)
{
	json_t *v = json_object_get(json_object_get(stats, "operations"), op);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

int
emuproc_set_invoke(const struct emuproc *p, const char *key, const char *payload_json,
    const char *function_error, struct err *err)
{
	json_t *req, *payload;
	char *body = NULL;
	long status;
	int rc;

	payload = json_loads(payload_json, JSON_DECODE_ANY, NULL);
	if (payload == NULL)
		return err_set(err, ERR_FAIL, "emuproc: invoke payload is not JSON");
	req = json_pack("{s:s, s:o}", "key", key, "payload", payload);
	if (function_error != NULL)
		json_object_set_new(req, "function_error", json_string(function_error));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = emuproc_request(p, "PUT", "/_emulator/invoke", NULL, 0, body, &status, NULL, err);
	free(body);
	if (rc != 0)
		return -1;
	if (status != 200)
		return err_set(
		    err, ERR_FAIL, "emuproc: PUT /_emulator/invoke answered %ld", status);
	return 0;
}

int
emuproc_access_log(const struct emuproc *p, struct emuproc_access **out, size_t *n, struct err *err)
{
	struct emuproc_access *v = NULL;
	size_t len = 0, cap = 0, total = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t got;
	json_t *j, *op;
	FILE *f;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (p->access_log[0] == '\0')
		return err_set(err, ERR_FAIL, "emuproc: started without an access log");
	f = fopen(p->access_log, "r");
	if (f == NULL)
		return err_set(err, ERR_FAIL, "emuproc: %s: %s", p->access_log, strerror(errno));
	while ((got = getline(&line, &linecap, f)) > 0) {
		total += (size_t)got;
		if (total > EMUPROC_ACCESS_LOG_MAX) {
			rc = err_set(err, ERR_TOOBIG, "emuproc: access log over its cap");
			break;
		}
		j = json_loadb(line, (size_t)got, 0, NULL);
		if (!json_is_object(j) || !json_is_integer(json_object_get(j, "mono_ms")) ||
		    !json_is_integer(json_object_get(j, "status"))) {
			json_decref(j);
			rc = err_set(
			    err, ERR_FAIL, "emuproc: malformed access log line %zu", len + 1);
			break;
		}
		if (len == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[len], 0, sizeof(v[len]));
		v[len].mono_ms = (uint64_t)json_integer_value(json_object_get(j, "mono_ms"));
		v[len].status = (int)json_integer_value(json_object_get(j, "status"));
		op = json_object_get(j, "op");
		if (json_is_string(op))
			snprintf(v[len].op, sizeof(v[len].op), "%s", json_string_value(op));
		len++;
		json_decref(j);
	}
	free(line);
	fclose(f);
	if (rc != 0) {
		free(v);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}
