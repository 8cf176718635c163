/*
 * gitauth_probe: reads a desired state from a git repository through source_read_git_auth()
 * (or, with --watch, through a gitwatch on a libev loop) and prints what it got, for
 * test_gitauth.py.
 *
 *   gitauth_probe --repo URL [--ref REF] [--path DIR] [--cache DIR] [--ssh-key FILE]
 *                 [--known-hosts FILE] [--token-file FILE] [--username NAME]
 *                 [--ca-file FILE] [--watch | --again]
 *   gitauth_probe --features     prints "ssh 0|1" and "https 0|1": what libgit2 was built with
 *
 * Lines printed on stdout on success (exit status 0):
 *   commit ID
 *   ref NAME
 *   file PATH            (one per desired-state file, sorted)
 *   repo_path PATH       (source_repo_path(): the cache, or the repository itself)
 * On failure (exit status 1):
 *   error CODE MESSAGE   (CODE as err_code_name() names it)
 * Exit status 2 for usage errors. --again reads twice in the one process: after the first
 * read it prints "---" and waits for a line on stdin (the test changes something); the exit
 * status is then that of the second read.
 *
 * The token is read from --token-file (surrounding whitespace stripped), handed over as
 * the secret itself, and wiped afterwards. With --watch the probe also wipes and frees
 * every option string right after gitwatch_new(), before the fetch runs: the watch must
 * have copied them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <git2.h>

#include "common/buf.h"
#include "common/compat.h"
#include "common/fdio.h"
#include "common/xmalloc.h"
#include "gitwatch/source.h"
#include "gitwatch/watch.h"

/* The largest token file read. */
#define TOKEN_MAX 4096
/* How long --watch waits for its fetch. */
#define WATCH_TIMEOUT_S 60.0

struct probe {
	ev_timer deadline;
	struct gitwatch_result *result;
	bool timed_out;
};

static void
usage(void)
{
	fprintf(stderr, "usage: gitauth_probe --repo URL [--ref REF] [--path DIR] [--cache DIR] "
	                "[--ssh-key FILE] [--known-hosts FILE] [--token-file FILE] "
	                "[--username NAME] [--ca-file FILE] [--watch | --again]\n"
	                "       gitauth_probe --features\n");
	exit(2);
}

/* The token in file, whitespace around it stripped. Allocated. */
static char *
read_token(const char *file)
{
	struct buf b = BUF_INIT(TOKEN_MAX);
	size_t start = 0, end;
	char *tok;
	int fd, rc;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "gitauth_probe: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	rc = fdio_read_all(fd, &b);
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "gitauth_probe: %s: cannot read it\n", file);
		exit(2);
	}
	end = b.len;
	while (start < end && isspace((unsigned char)b.data[start]))
		start++;
	while (end > start && isspace((unsigned char)b.data[end - 1]))
		end--;
	tok = xstrndup(b.data != NULL ? b.data + start : "", end - start);
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return tok;
}

static void
done_cb(struct gitwatch *w, struct gitwatch_result *r, void *arg)
{
	struct probe *p = arg;

	(void)w;
	p->result = r;
	ev_timer_stop(EV_DEFAULT, &p->deadline);
	ev_break(EV_DEFAULT, EVBREAK_ALL);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct probe *p = container_of(t, struct probe, deadline);

	(void)revents;
	p->timed_out = true;
	ev_break(loop, EVBREAK_ALL);
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * Read through a gitwatch: one fetch on the loop. Takes auth (an owned copy, or NULL).
 * Returns 1 with fs and c filled, or 0 with err filled.
 */
static int
read_watch(const char *repo, const char *ref, const char *path, const char *cache,
    struct source_auth *auth, struct fileset *fs, struct source_commit *c, struct err *err)
{
	struct gitwatch_opts o = GITWATCH_OPTS_INIT;
	struct gitwatch *w = NULL;
	struct probe p;
	char *repo_c = xstrdup(repo), *ref_c = ref != NULL ? xstrdup(ref) : NULL;
	char *path_c = path != NULL ? xstrdup(path) : NULL;
	char *cache_c = cache != NULL ? xstrdup(cache) : NULL;
	int ok, rc;

	memset(&p, 0, sizeof(p));
	o.loop = EV_DEFAULT;
	o.repo = repo_c;
	o.ref = ref_c;
	o.path = path_c;
	o.cache_dir = cache_c;
	o.done = done_cb;
	o.arg = &p;
	o.auth = auth;
	rc = gitwatch_new(&w, &o, err);
	/* The watch copied everything: wipe and free the originals before it fetches. */
	wipe_free(repo_c);
	wipe_free(ref_c);
	wipe_free(path_c);
	wipe_free(cache_c);
	source_auth_free(auth);
	if (rc != 0)
		return 0;
	ev_timer_init(&p.deadline, deadline_cb, WATCH_TIMEOUT_S, 0.0);
	ev_timer_start(EV_DEFAULT, &p.deadline);
	gitwatch_request(w);
	ev_run(EV_DEFAULT, 0);
	gitwatch_free(w);
	if (p.timed_out || p.result == NULL) {
		err_set(err, ERR_FAIL, "gitwatch: no result after %.0f s", WATCH_TIMEOUT_S);
		return 0;
	}
	ok = p.result->ok;
	if (ok) {
		*fs = p.result->files;
		memset(&p.result->files, 0, sizeof(p.result->files));
		*c = p.result->commit;
		memset(&p.result->commit, 0, sizeof(p.result->commit));
	} else {
		err_copy(err, &p.result->err);
	}
	gitwatch_result_free(p.result);
	return ok;
}

/* One read, directly or through a gitwatch, printed as the header says. Returns 1 on success. */
static int
read_print(const char *repo, const char *ref, const char *path, const char *cache,
    const struct source_auth *auth, bool watch)
{
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *rp;
	size_t i;
	int ok;

	memset(&c, 0, sizeof(c));
	if (watch) {
		/* An owned copy, which read_watch() frees once the watch holds its own. */
		ok = read_watch(repo, ref, path, cache, source_auth_copy(auth), &fs, &c, &err);
	} else {
		ok = source_read_git_auth(repo, ref, path, cache, auth, &fs, &c, &err) == 0;
	}
	if (!ok) {
		printf("error %s %s\n", err_code_name(err.code), err.message);
		return 0;
	}
	printf("commit %s\nref %s\n", c.id, c.ref != NULL ? c.ref : "");
	for (i = 0; i < fs.n; i++)
		printf("file %s\n", fs.files[i].path);
	rp = source_repo_path(repo, cache);
	printf("repo_path %s\n", rp != NULL ? rp : "(none)");
	free(rp);
	fileset_free(&fs);
	source_commit_clear(&c);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"repo", required_argument, NULL, 'r'},
	    {"ref", required_argument, NULL, 'f'},
	    {"path", required_argument, NULL, 'p'},
	    {"cache", required_argument, NULL, 'c'},
	    {"ssh-key", required_argument, NULL, 'k'},
	    {"known-hosts", required_argument, NULL, 'h'},
	    {"token-file", required_argument, NULL, 't'},
	    {"username", required_argument, NULL, 'u'},
	    {"ca-file", required_argument, NULL, 'a'},
	    {"watch", no_argument, NULL, 'w'},
	    {"again", no_argument, NULL, 'g'},
	    {"features", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	struct source_auth a;
	const char *repo = NULL, *ref = NULL, *path = NULL, *cache = NULL;
	char *token = NULL, line[16];
	bool watch = false, again = false, any = false;
	int opt, ok = 0, round;

	memset(&a, 0, sizeof(a));
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			repo = optarg;
			break;
		case 'f':
			ref = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 'c':
			cache = optarg;
			break;
		case 'k':
			a.ssh_key_file = optarg;
			any = true;
			break;
		case 'h':
			a.known_hosts = optarg;
			any = true;
			break;
		case 't':
			token = read_token(optarg);
			a.token = token;
			any = true;
			break;
		case 'u':
			a.username = optarg;
			any = true;
			break;
		case 'a':
			a.ca_file = optarg;
			any = true;
			break;
		case 'w':
			watch = true;
			break;
		case 'g':
			again = true;
			break;
		case 'F':
			git_libgit2_init();
			printf("ssh %d\nhttps %d\n",
			    (git_libgit2_features() & GIT_FEATURE_SSH) != 0,
			    (git_libgit2_features() & GIT_FEATURE_HTTPS) != 0);
			git_libgit2_shutdown();
			return 0;
		default:
			usage();
		}
	}
	if (repo == NULL || optind != argc)
		usage();

	if (watch && again)
		usage();

	for (round = 0; round < (again ? 2 : 1); round++) {
		if (round > 0) {
			/* The test changes something, then says go on. */
			printf("---\n");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) == NULL)
				break;
		}
		ok = read_print(repo, ref, path, cache, any ? &a : NULL, watch);
	}
	wipe_free(token);
	/* Before exit: LeakSanitizer ends the process without flushing stdio. */
	fflush(stdout);
	return ok ? 0 : 1;
}
