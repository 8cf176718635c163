/*
 * creds_probe: resolves AWS credentials through tether's chain on a libev loop and prints
 * what it got, never the secrets themselves (only their SHA-256), for test_credentials.py.
 *
 *   creds_probe [--profile P] [--region R] [--debug] [--concurrent N] [--cancel]
 *               [--refreshes N] [--wait SECONDS] [--timeout SECONDS] [--free-in-callback]
 *               [--natural-exit] [--free-all-in-get]
 *   creds_probe --ini PATH     answer queries on stdin about a shared file (see below)
 *
 * Lines printed on stdout:
 *   creds provider=P akid=A secret_sha256=H token_sha256=H|none expiration=T|0
 *   refresh n=N provider=P akid=A ...       (each time the access key id changes)
 *   final provider=P akid=A ...             (after --wait; "peek=null" before it when
 *                                           credentials_peek() had nothing and it waited)
 *   error code=NAME http=N type=T message=M (exit status 2)
 * Exit status 3 when --timeout passes first. --free-in-callback frees the credentials
 * object from inside the first waiter's callback; the other waiters must not be called.
 * --free-all-in-get makes the --wait step ask with credentials_get() (never peek) and free
 * the credentials, then the HTTP engine, from inside that callback, as a command that is
 * done tears its session down, while a background refresh may be in flight.
 * --natural-exit lets ev_run() return by itself once the credentials arrived (the pending
 * refresh timer must not keep it running) and prints "ev_run=returned".
 *
 * --ini reads lines "KIND\x1fNAME\x1fKEY[\x1fSUBKEY]" where KIND is "s" (a section by its
 * header) or "p" (a profile of a config file) and prints one JSON value per line: the
 * string, or null when absent. If the file does not parse it prints {"error": "..."} once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/profile.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct probe {
	struct ev_loop *loop;
	struct http_engine *http;
	struct credentials *creds;
	int concurrent;
	int answered;
	int refreshes_wanted;
	int refreshes_seen;
	double wait_s;
	char *first_akid;
	char *last_akid;
	int status;
	bool free_in_callback;
	bool natural_exit;
	bool free_all_in_get;
	ev_timer poll;
	ev_timer wait;
	ev_timer deadline;
};

static void
print_creds(const char *tag, const struct aws_credentials *c, int n)
{
	char secret[CRYPTO_SHA256_HEX_LEN + 1], token[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_sha256_hex(c->secret_access_key, strlen(c->secret_access_key), secret);
	if (c->session_token != NULL)
		crypto_sha256_hex(c->session_token, strlen(c->session_token), token);
	else
		snprintf(token, sizeof(token), "none");
	printf("%s", tag);
	if (n > 0)
		printf(" n=%d", n);
	printf(" provider=%s akid=%s secret_sha256=%s token_sha256=%s expiration=%lld\n",
	    c->provider, c->access_key_id, secret, token, (long long)c->expiration);
	fflush(stdout);
}

static void
print_error(const struct err *e)
{
	printf("error code=%s http=%ld type=%s message=%s\n", err_code_name(e->code),
	    e->http_status, e->type[0] != '\0' ? e->type : "-", e->message);
	fflush(stdout);
}

static void
finish(struct probe *p, int status)
{
	p->status = status;
	ev_break(p->loop, EVBREAK_ALL);
}

static void
on_final(const struct aws_credentials *c, const struct err *e, void *arg)
{
	struct probe *p = arg;

	if (c == NULL) {
		print_error(e);
		finish(p, 2);
		return;
	}
	print_creds("final", c, 0);
	if (p->free_all_in_get) {
		credentials_free(p->creds);
		p->creds = NULL;
		http_engine_free(p->http);
		p->http = NULL;
	}
	finish(p, 0);
}

static void
on_wait(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = container_of(w, struct probe, wait);
	const struct aws_credentials *c;

	(void)loop;
	(void)revents;
	ev_timer_stop(p->loop, &p->poll);
	c = p->free_all_in_get ? NULL : credentials_peek(p->creds);
	if (c != NULL) {
		print_creds("final", c, 0);
		finish(p, 0);
		return;
	}
	printf("peek=null\n");
	credentials_get(p->creds, on_final, p);
}

static void
after_first(struct probe *p)
{
	if (p->refreshes_wanted > 0) {
		ev_timer_start(p->loop, &p->poll);
		return;
	}
	if (p->wait_s > 0) {
		ev_timer_set(&p->wait, p->wait_s, 0.);
		ev_timer_start(p->loop, &p->wait);
		return;
	}
	finish(p, 0);
}

static void
on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = container_of(w, struct probe, poll);
	const struct aws_credentials *c;

	(void)loop;
	(void)revents;
	c = credentials_peek(p->creds);
	if (c == NULL || strcmp(c->access_key_id, p->last_akid) == 0)
		return;
	free(p->last_akid);
	p->last_akid = xstrdup(c->access_key_id);
	print_creds("refresh", c, ++p->refreshes_seen);
	if (p->refreshes_seen < p->refreshes_wanted)
		return;
	ev_timer_stop(p->loop, &p->poll);
	p->refreshes_wanted = 0;
	after_first(p);
}

static void
on_creds(const struct aws_credentials *c, const struct err *e, void *arg)
{
	struct probe *p = arg;

	if (p->creds == NULL) {
		printf("a waiter was called after credentials_free()\n");
		finish(p, 7);
		return;
	}
	if (c == NULL) {
		print_error(e);
		finish(p, 2);
		return;
	}
	if (p->free_in_callback) {
		/* The other waiters must be dropped, not called. */
		print_creds("creds", c, 0);
		credentials_free(p->creds);
		p->creds = NULL;
		finish(p, 0);
		return;
	}
	if (p->first_akid == NULL) {
		p->first_akid = xstrdup(c->access_key_id);
		p->last_akid = xstrdup(c->access_key_id);
		print_creds("creds", c, 0);
	} else if (strcmp(p->first_akid, c->access_key_id) != 0) {
		printf("mismatch: concurrent waiters got different credentials\n");
		finish(p, 4);
		return;
	}
	if (++p->answered < p->concurrent)
		return;
	printf("answered=%d\n", p->answered);
	if (p->natural_exit)
		return; /* ev_run() must return by itself: nothing pending keeps it */
	after_first(p);
}

static void
on_canceled(const struct aws_credentials *c, const struct err *e, void *arg)
{
	struct probe *p = arg;

	(void)c;
	(void)e;
	printf("canceled waiter was called\n");
	finish(p, 5);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = container_of(w, struct probe, deadline);

	(void)loop;
	(void)revents;
	printf("timeout\n");
	finish(p, 3);
}

static int
ini_mode(const char *path)
{
	struct profile_file *f = NULL;
	struct err err = ERR_INIT;
	char line[8192], *fields[4], *s, *sep;
	const struct profile_section *sec;
	const char *v;
	json_t *out;
	char *dump;
	int n;

	if (profile_file_read(&f, path, &err) != 0) {
		out = json_pack("{s:s}", "error", err.message);
		dump = json_dumps(out, JSON_COMPACT);
		printf("%s\n", dump);
		free(dump);
		json_decref(out);
		return 0;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n = 0;
		s = line;
		while (n < 4) {
			fields[n++] = s;
			sep = strchr(s, '\x1f');
			if (sep == NULL)
				break;
			*sep = '\0';
			s = sep + 1;
		}
		if (n < 3) {
			fprintf(stderr, "bad query\n");
			profile_file_free(f);
			return 1;
		}
		if (strcmp(fields[0], "p") == 0)
			sec = profile_file_profile(f, fields[1], true);
		else
			sec = profile_file_section(f, fields[1]);
		if (n == 4)
			v = profile_section_get_nested(sec, fields[2], fields[3]);
		else
			v = profile_section_get(sec, fields[2]);
		out = v != NULL ? json_string(v) : json_null();
		dump = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", dump);
		free(dump);
		json_decref(out);
	}
	profile_file_free(f);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"profile", required_argument, NULL, 'p'},
	    {"region", required_argument, NULL, 'r'}, {"debug", no_argument, NULL, 'd'},
	    {"concurrent", required_argument, NULL, 'c'}, {"cancel", no_argument, NULL, 'x'},
	    {"refreshes", required_argument, NULL, 'n'}, {"wait", required_argument, NULL, 'w'},
	    {"timeout", required_argument, NULL, 't'}, {"ini", required_argument, NULL, 'i'},
	    {"free-in-callback", no_argument, NULL, 'f'}, {"natural-exit", no_argument, NULL, 'e'},
	    {"free-all-in-get", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
	struct credentials_opts co = CREDENTIALS_OPTS_INIT;
	struct http_engine_opts ho = HTTP_ENGINE_OPTS_INIT;
	struct probe p;
	struct err err = ERR_INIT;
	double timeout = 20;
	bool cancel = false, debug = false;
	int ch, i;

	memset(&p, 0, sizeof(p));
	p.concurrent = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			co.profile = optarg;
			break;
		case 'r':
			co.region = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'c':
			p.concurrent = atoi(optarg);
			break;
		case 'x':
			cancel = true;
			break;
		case 'n':
			p.refreshes_wanted = atoi(optarg);
			break;
		case 'w':
			p.wait_s = atof(optarg);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'i':
			return ini_mode(optarg);
		case 'f':
			p.free_in_callback = true;
			break;
		case 'e':
			p.natural_exit = true;
			break;
		case 'a':
			p.free_all_in_get = true;
			break;
		default:
			fprintf(stderr, "usage: creds_probe [options]\n");
			return 1;
		}
	}
	log_init(debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, false, 2);
	p.loop = ev_loop_new(EVFLAG_AUTO);
	if (http_engine_new(&p.http, p.loop, &ho, &err) != 0) {
		print_error(&err);
		return 2;
	}
	if (credentials_new(&p.creds, p.loop, p.http, &co, &err) != 0) {
		print_error(&err);
		http_engine_free(p.http);
		ev_loop_destroy(p.loop);
		return 2;
	}
	ev_timer_init(&p.poll, on_poll, 0.05, 0.05);
	ev_timer_init(&p.wait, on_wait, 0., 0.);
	ev_timer_init(&p.deadline, on_deadline, timeout, 0.);
	ev_timer_start(p.loop, &p.deadline);
	if (p.natural_exit)
		ev_unref(p.loop); /* the deadline alone does not keep the loop running */
	if (cancel)
		credentials_cancel(credentials_get(p.creds, on_canceled, &p));
	for (i = 0; i < p.concurrent; i++)
		credentials_get(p.creds, on_creds, &p);
	if (cancel)
		credentials_cancel(credentials_get(p.creds, on_canceled, &p));
	/* Nothing may be answered before the loop runs. */
	if (p.answered != 0 || p.status != 0) {
		printf("answered synchronously\n");
		p.status = 6;
	} else {
		ev_run(p.loop, 0);
	}
	ev_timer_stop(p.loop, &p.poll);
	ev_timer_stop(p.loop, &p.wait);
	if (p.natural_exit && ev_is_active(&p.deadline))
		ev_ref(p.loop);
	ev_timer_stop(p.loop, &p.deadline);
	if (p.natural_exit && p.answered == p.concurrent)
		printf("ev_run=returned\n");
	credentials_free(p.creds);
	http_engine_free(p.http);
	ev_loop_destroy(p.loop);
	free(p.first_akid);
	free(p.last_akid);
	return p.status;
}
