/*
 * gitwatch/tree.c: desired state read from git's object database. Every repository here is
 * real, made with the git CLI in a private temporary directory; remote access goes over
 * file:// and over a `git daemon` on 127.0.0.1 that the test starts and stops by PID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/compat.h"
#include "common/xmalloc.h"
#include "gitwatch/source.h"
#include "tests/lib/tmpdir.h"

#define ARGS_MAX 32
#define OUT_MAX 4096

/* Run argv (NULL-terminated); capture stdout (trimmed) into out when not NULL. */
static int
run(char *out, size_t outsize, char *const argv[])
{
	int fds[2], status;
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(fds[1], 1);
		if (out == NULL)
			dup2(null, 1);
		dup2(null, 2);
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		char buf[512];

		r = read(fds[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out != NULL && n + (size_t)r < outsize) {
			memcpy(out + n, buf, (size_t)r);
			n += (size_t)r;
		}
	}
	close(fds[0]);
	if (out != NULL) {
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
			n--;
		out[n] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* git -C repo ARGS... (NULL-terminated); fails the test unless it exits 0. */
static void
gitc(char *out, size_t outsize, const char *repo, ...)
{
	char *argv[ARGS_MAX];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = "git";
	if (repo != NULL) {
		argv[n++] = "-C";
		argv[n++] = (char *)repo;
	}
	va_start(ap, repo);
	while ((a = va_arg(ap, const char *)) != NULL && n < ARGS_MAX - 1)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run(out, outsize, argv), 0);
}

#define git(repo, ...) gitc(NULL, 0, repo, __VA_ARGS__, (char *)NULL)
#define git_out(out, repo, ...) gitc(out, sizeof(out), repo, __VA_ARGS__, (char *)NULL)

static char *
join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

static void
mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0755);
			*s = '/';
		}
	}
	(void)mkdir(p, 0755);
	free(p);
}

static void
write_bytes(const char *repo, const char *rel, const void *data, size_t len)
{
	char *path = join(repo, rel), *dir = xstrdup(path);
	FILE *fp;

	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(dir);
	free(path);
}

static void
write_text(const char *repo, const char *rel, const char *text)
{
	write_bytes(repo, rel, text, strlen(text));
}

/* A new repository with one branch, main. */
static char *
new_repo(struct tmpdir_fixture *f, const char *name)
{
	char *repo = join(f->dir, name);

	git(NULL, "init", "-q", "-b", "main", repo);
	return repo;
}

static void
commit_all(const char *repo, const char *message)
{
	git(repo, "add", "-A");
	git(repo, "commit", "-q", "--allow-empty", "-m", message);
}

static const struct fileset_file *
find(const struct fileset *fs, const char *path)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->files[i].path, path) == 0)
			return &fs->files[i];
	return NULL;
}

static void
assert_file(const struct fileset *fs, const char *path, const char *content)
{
	const struct fileset_file *ff = find(fs, path);

	if (ff == NULL)
		fail_msg("%s is not in the fileset", path);
	assert_int_equal(ff->kind, FILESET_REGULAR);
	assert_int_equal(ff->len, strlen(content));
	assert_memory_equal(ff->data, content, ff->len);
	assert_int_equal(ff->data[ff->len], '\0');
}

static void
assert_special(const struct fileset *fs, const char *path, enum fileset_kind kind)
{
	const struct fileset_file *ff = find(fs, path);

	if (ff == NULL)
		fail_msg("%s is not in the fileset", path);
	assert_int_equal(ff->kind, kind);
	assert_null(ff->data);
}

/* Read repo at ref and return the fileset; fails the test on an error. */
static void
read_ok(const char *repo, const char *ref, const char *path, const char *cache, struct fileset *fs,
    struct source_commit *c)
{
	struct err err = ERR_INIT;

	if (source_read_git(repo, ref, path, cache, fs, c, &err) != 0)
		fail_msg(
		    "source_read_git(%s, %s): %s", repo, ref != NULL ? ref : "(null)", err.message);
}

/* The usual desired state: functions at two depths, an overlay, and files not read. */
static void
write_layout(const char *repo, const char *prefix)
{
	char *p;

	p = xasprintf("%sfunctions/api.yaml", prefix);
	write_text(repo, p, "function: api\nimage: r/api:1\n");
	free(p);
	p = xasprintf("%sfunctions/team/worker.yml", prefix);
	write_text(repo, p, "function: worker\n");
	free(p);
	p = xasprintf("%sfunctions/team/deep/er/job.yaml", prefix);
	write_text(repo, p, "function: job\n");
	free(p);
	p = xasprintf("%senvironments/prod.yaml", prefix);
	write_text(repo, p, "defaults: {retain: 3}\n");
	free(p);
	/* Not desired state: */
	p = xasprintf("%senvironments/old/prod.yaml", prefix);
	write_text(repo, p, "nested overlays are not read\n");
	free(p);
	p = xasprintf("%sfunctions/README.md", prefix);
	write_text(repo, p, "docs\n");
	free(p);
	p = xasprintf("%sfunctions/.hidden.yaml", prefix);
	write_text(repo, p, "dotfiles are not read\n");
	free(p);
	p = xasprintf("%sother/functions/x.yaml", prefix);
	write_text(repo, p, "only the root's functions/\n");
	free(p);
	p = xasprintf("%stop.yaml", prefix);
	write_text(repo, p, "not under functions/\n");
	free(p);
}

static void
assert_layout(const struct fileset *fs)
{
	assert_int_equal(fs->n, 4);
	/* Sorted by path. */
	assert_string_equal(fs->files[0].path, "environments/prod.yaml");
	assert_string_equal(fs->files[1].path, "functions/api.yaml");
	assert_string_equal(fs->files[2].path, "functions/team/deep/er/job.yaml");
	assert_string_equal(fs->files[3].path, "functions/team/worker.yml");
	assert_file(fs, "functions/api.yaml", "function: api\nimage: r/api:1\n");
	assert_file(fs, "functions/team/worker.yml", "function: worker\n");
	assert_file(fs, "functions/team/deep/er/job.yaml", "function: job\n");
	assert_file(fs, "environments/prod.yaml", "defaults: {retain: 3}\n");
}

static void
test_tree__reads_only_desired_files(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	char *repo = new_repo(f, "plain"), head[128], when[64];

	write_layout(repo, "");
	commit_all(repo, "first line of the message\n\nbody");
	git_out(head, repo, "rev-parse", "HEAD");
	git_out(when, repo, "log", "-1", "--format=%ct");
	read_ok(repo, NULL, NULL, NULL, &fs, &c);
	assert_layout(&fs);
	assert_string_equal(c.id, head);
	assert_string_equal(c.summary, "first line of the message");
	assert_string_equal(c.ref, "main"); /* HEAD, named by its branch */
	assert_int_equal(c.time, strtoll(when, NULL, 10));
	fileset_free(&fs);
	source_commit_clear(&c);

	/* The working tree is never read: uncommitted changes do not show. */
	write_text(repo, "functions/api.yaml", "changed but not committed\n");
	write_text(repo, "functions/new.yaml", "untracked\n");
	read_ok(repo, "main", "", NULL, &fs, &c);
	assert_layout(&fs);
	assert_string_equal(c.ref, "main");
	fileset_free(&fs);
	source_commit_clear(&c);
	free(repo);
}

static void
test_tree__refs(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *repo = new_repo(f, "refs"), first[128], second[128], abbrev[16];
	struct {
		const char *ref;
		const char *want_id;
		const char *want_content;
	} cases[6];
	size_t i;

	write_text(repo, "functions/a.yaml", "v: 1\n");
	commit_all(repo, "one");
	git_out(first, repo, "rev-parse", "HEAD");
	git(repo, "tag", "light");
	git(repo, "tag", "-a", "-m", "annotated", "annotated");
	git(repo, "branch", "old");
	write_text(repo, "functions/a.yaml", "v: 2\n");
	commit_all(repo, "two");
	git_out(second, repo, "rev-parse", "HEAD");
	snprintf(abbrev, sizeof(abbrev), "%.8s", first);

	cases[0].ref = "old";
	cases[1].ref = "light";
	cases[2].ref = "annotated"; /* peeled to its commit */
	cases[3].ref = first;
	cases[4].ref = abbrev;
	cases[5].ref = "HEAD";
	for (i = 0; i < 5; i++) {
		cases[i].want_id = first;
		cases[i].want_content = "v: 1\n";
	}
	cases[5].want_id = second;
	cases[5].want_content = "v: 2\n";
	for (i = 0; i < nitems(cases); i++) {
		read_ok(repo, cases[i].ref, NULL, NULL, &fs, &c);
		assert_string_equal(c.id, cases[i].want_id);
		assert_string_equal(c.ref, i == 5 ? "main" : cases[i].ref);
		assert_file(&fs, "functions/a.yaml", cases[i].want_content);
		fileset_free(&fs);
		source_commit_clear(&c);
	}

	assert_int_equal(source_read_git(repo, "no-such-branch", NULL, NULL, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_non_null(strstr(err.message, "no ref or commit \"no-such-branch\""));
	assert_int_equal(fs.n, 0);
	assert_null(c.ref);

	/* A detached HEAD keeps its name. */
	git(repo, "checkout", "-q", "--detach", "HEAD~1");
	read_ok(repo, NULL, NULL, NULL, &fs, &c);
	assert_string_equal(c.id, first);
	assert_string_equal(c.ref, "HEAD");
	fileset_free(&fs);
	source_commit_clear(&c);

	/* A ref that names a tree, not a commit. */
	err_clear(&err);
	assert_int_equal(source_read_git(repo, "HEAD^{tree}", NULL, NULL, &fs, &c, &err), -1);
	assert_non_null(strstr(err.message, "does not name a commit"));
	free(repo);
}

static void
test_tree__path_prefix(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *repo = new_repo(f, "prefix");
	static const char *const spellings[] = {
	    "deploy/lambda", "/deploy/lambda/", "./deploy//lambda", "deploy/./lambda"};
	size_t i;

	write_layout(repo, "deploy/lambda/");
	write_text(repo, "functions/root.yaml", "the root's files are outside the path\n");
	write_text(repo, "deploy/file", "a blob\n");
	commit_all(repo, "prefixed");
	for (i = 0; i < nitems(spellings); i++) {
		read_ok(repo, "main", spellings[i], NULL, &fs, &c);
		assert_layout(&fs);
		fileset_free(&fs);
		source_commit_clear(&c);
	}

	assert_int_equal(source_read_git(repo, "main", "deploy/nope", NULL, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_non_null(strstr(err.message, "path \"deploy/nope\" does not exist at commit"));
	err_clear(&err);
	assert_int_equal(source_read_git(repo, "main", "deploy/file", NULL, &fs, &c, &err), -1);
	assert_non_null(strstr(err.message, "is not a directory"));
	err_clear(&err);
	assert_int_equal(source_read_git(repo, "main", "deploy/../..", NULL, &fs, &c, &err), -1);
	assert_non_null(strstr(err.message, "cannot leave the repository"));
	free(repo);
}

static void
test_tree__symlinks_are_recorded_not_followed(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *repo = new_repo(f, "links"), *p;

	write_text(repo, "elsewhere/real.yaml", "function: hidden\n");
	write_text(repo, "functions/a.yaml", "function: a\n");
	p = join(repo, "functions/link.yaml");
	assert_int_equal(symlink("../elsewhere/real.yaml", p), 0);
	free(p);
	p = join(repo, "functions/dirlink");
	assert_int_equal(symlink("../elsewhere", p), 0);
	free(p);
	p = join(repo, "functions/notes.txt");
	assert_int_equal(symlink("../elsewhere/real.yaml", p), 0);
	free(p);
	mkdirs(p = join(repo, "environments"));
	free(p);
	p = join(repo, "environments/prod.yaml");
	assert_int_equal(symlink("../elsewhere/real.yaml", p), 0);
	free(p);
	p = join(repo, "environments/notes");
	assert_int_equal(symlink("../elsewhere", p), 0); /* environments/ subdirs are not read */
	free(p);
	p = join(repo, "deploy");
	assert_int_equal(symlink(".", p), 0);
	free(p);
	commit_all(repo, "links");
	read_ok(repo, "main", NULL, NULL, &fs, &c);
	assert_int_equal(fs.n, 5);
	assert_file(&fs, "functions/a.yaml", "function: a\n");
	assert_special(&fs, "functions/link.yaml", FILESET_SYMLINK);
	assert_special(&fs, "functions/dirlink", FILESET_SYMLINK);
	assert_special(&fs, "functions/notes.txt", FILESET_SYMLINK);
	assert_special(&fs, "environments/prod.yaml", FILESET_SYMLINK);
	fileset_free(&fs);
	source_commit_clear(&c);

	/* The desired-state folder itself may not be a link. */
	assert_int_equal(source_read_git(repo, "main", "deploy", NULL, &fs, &c, &err), -1);
	assert_non_null(strstr(err.message, "path \"deploy\" is a symbolic link"));
	free(repo);

	/* functions/ and environments/ themselves as links: recorded, so the loader refuses
	 * them instead of seeing an empty desired state. */
	repo = new_repo(f, "toplinks");
	write_text(repo, "real/functions/a.yaml", "function: a\n");
	p = join(repo, "functions");
	assert_int_equal(symlink("real/functions", p), 0);
	free(p);
	p = join(repo, "environments");
	assert_int_equal(symlink("real", p), 0);
	free(p);
	commit_all(repo, "top-level links");
	read_ok(repo, NULL, NULL, NULL, &fs, &c);
	assert_int_equal(fs.n, 2);
	assert_special(&fs, "functions", FILESET_SYMLINK);
	assert_special(&fs, "environments", FILESET_SYMLINK);
	fileset_free(&fs);
	source_commit_clear(&c);
	free(repo);
}

static void
test_tree__submodules_are_recorded(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	char *lib = new_repo(f, "sublib"), *repo = new_repo(f, "super"), *url;

	write_text(lib, "functions/x.yaml", "function: x\n");
	write_text(lib, "x.yaml", "function: y\n");
	commit_all(lib, "library");
	url = xasprintf("file://%s", lib);
	write_text(repo, "functions/a.yaml", "function: a\n");
	git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", url,
	    "functions/team");
	git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", url,
	    "environments");
	git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", url, "vendor");
	commit_all(repo, "submodules");
	read_ok(repo, "main", NULL, NULL, &fs, &c);
	/* vendor/ is not where desired files live; .gitmodules is not desired state. */
	assert_int_equal(fs.n, 3);
	assert_file(&fs, "functions/a.yaml", "function: a\n");
	assert_special(&fs, "functions/team", FILESET_SUBMODULE);
	assert_special(&fs, "environments", FILESET_SUBMODULE);
	fileset_free(&fs);
	/* The working copy, submodules checked out, reads the same as its commit. */
	assert_int_equal(source_read_dir(repo, NULL, &fs, NULL), 0);
	assert_int_equal(fs.n, 3);
	assert_file(&fs, "functions/a.yaml", "function: a\n");
	assert_special(&fs, "functions/team", FILESET_SUBMODULE);
	assert_special(&fs, "environments", FILESET_SUBMODULE);
	fileset_free(&fs);
	source_commit_clear(&c);
	free(url);
	free(lib);
	free(repo);
}

static void
test_tree__size_cap_and_binary(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	char *repo = new_repo(f, "sizes"), *big;
	static const unsigned char bin[] = {0x00, 0xff, 'a', 0x00, 0x80, '\n'};
	const struct fileset_file *ff;

	big = xmalloc(FILESET_FILE_MAX + 1);
	memset(big, 'x', FILESET_FILE_MAX + 1);
	write_bytes(repo, "functions/too-big.yaml", big, FILESET_FILE_MAX + 1);
	write_bytes(repo, "functions/at-cap.yaml", big, FILESET_FILE_MAX);
	write_bytes(repo, "functions/binary.yaml", bin, sizeof(bin));
	write_bytes(repo, "functions/empty.yaml", "", 0);
	/* Big files that are not desired state are never looked at. */
	write_bytes(repo, "assets/huge.bin", big, FILESET_FILE_MAX + 1);
	commit_all(repo, "sizes");
	/* Packed objects too: the size comes from the pack's object header. */
	git(repo, "gc", "-q");
	read_ok(repo, "main", NULL, NULL, &fs, &c);
	assert_int_equal(fs.n, 4);
	ff = find(&fs, "functions/too-big.yaml");
	assert_non_null(ff);
	assert_int_equal(ff->kind, FILESET_TOO_BIG);
	assert_int_equal(ff->len, FILESET_FILE_MAX + 1);
	assert_null(ff->data);
	ff = find(&fs, "functions/at-cap.yaml");
	assert_non_null(ff);
	assert_int_equal(ff->kind, FILESET_REGULAR);
	assert_int_equal(ff->len, FILESET_FILE_MAX);
	assert_memory_equal(ff->data, big, FILESET_FILE_MAX);
	ff = find(&fs, "functions/binary.yaml");
	assert_non_null(ff);
	assert_int_equal(ff->kind, FILESET_REGULAR);
	assert_int_equal(ff->len, sizeof(bin));
	assert_memory_equal(ff->data, bin, sizeof(bin));
	assert_file(&fs, "functions/empty.yaml", "");
	fileset_free(&fs);
	source_commit_clear(&c);
	free(big);
	free(repo);
}

static void
test_tree__not_a_repository(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *plain = join(f->dir, "plain-dir"), *repo = new_repo(f, "outer"), *inner;

	write_text(plain, "functions/a.yaml", "function: a\n");
	assert_int_equal(source_read_git(plain, NULL, NULL, NULL, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_non_null(strstr(err.message, "not a git repository"));

	/* A folder inside a repository is not that repository. */
	write_text(repo, "sub/functions/a.yaml", "function: a\n");
	commit_all(repo, "outer");
	inner = join(repo, "sub");
	err_clear(&err);
	assert_int_equal(source_read_git(inner, NULL, NULL, NULL, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);

	err_clear(&err);
	assert_int_equal(
	    source_read_git("/nonexistent/tether/repo", NULL, NULL, NULL, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	free(inner);
	free(plain);
	free(repo);
}

static void
test_tree__local_bare_repository(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	char *repo = new_repo(f, "work"), *bare = join(f->dir, "bare.git"), head[128];

	write_layout(repo, "");
	commit_all(repo, "for a bare clone");
	git_out(head, repo, "rev-parse", "HEAD");
	git(NULL, "clone", "-q", "--bare", repo, bare);
	read_ok(bare, NULL, NULL, NULL, &fs, &c);
	assert_layout(&fs);
	assert_string_equal(c.id, head);
	fileset_free(&fs);
	source_commit_clear(&c);
	free(bare);
	free(repo);
}

static size_t
count_entries(const char *dir)
{
	char out[OUT_MAX];
	char *argv[] = {"ls", "-A", (char *)dir, NULL};
	size_t n = 0;
	const char *p;

	assert_int_equal(run(out, sizeof(out), argv), 0);
	for (p = out; *p != '\0'; p++)
		n += *p == '\n';
	return out[0] != '\0' ? n + 1 : 0;
}

static void
test_tree__file_url_cache_and_fetch(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *repo = new_repo(f, "origin"), *cache = join(f->dir, "cache"), *url, head[128],
	     *tmp = join(f->dir, "tmp"), *old_tmp;

	write_text(repo, "functions/a.yaml", "v: 1\n");
	commit_all(repo, "one");
	git(repo, "tag", "-a", "-m", "release", "v1");
	git(repo, "branch", "feature");
	url = xasprintf("file://%s", repo);

	read_ok(url, "main", NULL, cache, &fs, &c);
	assert_file(&fs, "functions/a.yaml", "v: 1\n");
	fileset_free(&fs);
	source_commit_clear(&c);
	assert_int_equal(count_entries(cache), 1);

	/* A new commit, a moved tag and a deleted branch: the next read fetches them. */
	write_text(repo, "functions/a.yaml", "v: 2\n");
	commit_all(repo, "two");
	git_out(head, repo, "rev-parse", "HEAD");
	git(repo, "tag", "-f", "-a", "-m", "moved", "v1");
	git(repo, "branch", "-D", "feature");
	read_ok(url, NULL, NULL, cache, &fs, &c);
	assert_string_equal(c.id, head); /* HEAD is the remote's default branch */
	assert_string_equal(c.ref, "main");
	assert_file(&fs, "functions/a.yaml", "v: 2\n");
	fileset_free(&fs);
	source_commit_clear(&c);
	read_ok(url, "v1", NULL, cache, &fs, &c);
	assert_string_equal(c.id, head);
	fileset_free(&fs);
	source_commit_clear(&c);
	assert_int_equal(source_read_git(url, "feature", NULL, cache, &fs, &c, &err), -1);
	assert_int_equal(err.code, ERR_NOTFOUND);
	assert_int_equal(count_entries(cache), 1);

	/* No cache: a temporary clone, removed before returning. */
	mkdirs(tmp);
	old_tmp = getenv("TMPDIR") != NULL ? xstrdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", tmp, 1);
	read_ok(url, "main", NULL, NULL, &fs, &c);
	assert_string_equal(c.id, head);
	assert_file(&fs, "functions/a.yaml", "v: 2\n");
	fileset_free(&fs);
	source_commit_clear(&c);
	err_clear(&err);
	assert_int_equal(source_read_git(url, "nope", NULL, NULL, &fs, &c, &err), -1);
	if (old_tmp != NULL)
		setenv("TMPDIR", old_tmp, 1);
	else
		unsetenv("TMPDIR");
	assert_int_equal(count_entries(tmp), 0);

	/* Credentials in a URL never reach a message. */
	err_clear(&err);
	assert_int_equal(source_read_git("http://robot:s3cr3t-token@127.0.0.1:1/repo.git", NULL,
	                     NULL, cache, &fs, &c, &err),
	    -1);
	assert_null(strstr(err.message, "s3cr3t-token"));
	assert_non_null(strstr(err.message, "http://***@127.0.0.1:1/repo.git"));
	/* libgit2 quotes a malformed URL in its message: the token is cut out there too. */
	err_clear(&err);
	assert_int_equal(
	    source_read_git("http://robot:s3cr3t-token@[bad/x", NULL, NULL, cache, &fs, &c, &err),
	    -1);
	assert_null(strstr(err.message, "s3cr3t-token"));
	assert_non_null(strstr(err.message, "malformed URL 'http://***@[bad/x'"));
	assert_int_equal(count_entries(cache), 1); /* failed first fetches leave nothing */

	/* A URL that does not answer. */
	err_clear(&err);
	free(url);
	url = xasprintf("file://%s/missing", f->dir);
	assert_int_equal(source_read_git(url, NULL, NULL, cache, &fs, &c, &err), -1);
	assert_int_not_equal(err.message[0], '\0');
	free(old_tmp);
	free(tmp);
	free(url);
	free(cache);
	free(repo);
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool
accepts(int port)
{
	struct sockaddr_in sa;
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static void
test_tree__git_daemon(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset fs = FILESET_INIT;
	struct source_commit c;
	char *base = join(f->dir, "served"), *repo, *cache = join(f->dir, "cache"), *url;
	char exec_path[OUT_MAX], *daemon, *port_arg, *base_arg, head[128];
	struct timespec ts = {0, 20 * 1000 * 1000};
	int port, i, status;
	pid_t pid;

	mkdirs(base);
	repo = new_repo(f, "served/app");
	write_layout(repo, "");
	commit_all(repo, "served");
	git_out(head, repo, "rev-parse", "HEAD");
	git_out(exec_path, NULL, "--exec-path");
	daemon = join(exec_path, "git-daemon");
	port = free_port();
	port_arg = xasprintf("--port=%d", port);
	base_arg = xasprintf("--base-path=%s", base);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(daemon, daemon, "--reuseaddr", "--export-all", "--listen=127.0.0.1", port_arg,
		    base_arg, base, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !accepts(port); i++)
		nanosleep(&ts, NULL);
	url = xasprintf("git://127.0.0.1:%d/app", port);
	if (i == 500) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		fail_msg("git daemon did not listen on port %d", port);
	}
	{
		struct err err = ERR_INIT;
		int rc = source_read_git(url, "main", NULL, cache, &fs, &c, &err);

		kill(pid, SIGTERM);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (rc != 0)
			fail_msg("%s: %s", url, err.message);
	}
	assert_layout(&fs);
	assert_string_equal(c.id, head);
	fileset_free(&fs);
	source_commit_clear(&c);
	free(url);
	free(base_arg);
	free(port_arg);
	free(daemon);
	free(cache);
	free(repo);
	free(base);
}

static void
assert_same_fileset(const struct fileset *a, const struct fileset *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->files[i].path, b->files[i].path);
		assert_int_equal(a->files[i].kind, b->files[i].kind);
		assert_int_equal(a->files[i].len, b->files[i].len);
		if (a->files[i].kind == FILESET_REGULAR)
			assert_memory_equal(
			    a->files[i].data, b->files[i].data, a->files[i].len + 1);
		else
			assert_true(a->files[i].data == NULL && b->files[i].data == NULL);
	}
}

/* A working copy read as a directory and its commit read from git give the same fileset. */
static void
test_tree__same_as_directory(void **state)
{
	struct tmpdir_fixture *f = *state;
	struct fileset from_dir = FILESET_INIT, from_git = FILESET_INIT;
	struct source_commit c;
	struct err err = ERR_INIT;
	char *repo = new_repo(f, "equivalent"), *big, *p;
	static const unsigned char bin[] = {0x00, 0x01, 0xfe, 'x', '\n'};

	write_layout(repo, "");
	write_layout(repo, "deploy/lambda/");
	write_text(repo, "functions/crlf.yaml", "function: a\r\nmemory: 128\r\n");
	write_bytes(repo, "functions/binary.yml", bin, sizeof(bin));
	write_bytes(repo, "functions/empty.yaml", "", 0);
	big = xmalloc(FILESET_FILE_MAX + 10);
	memset(big, '#', FILESET_FILE_MAX + 10);
	write_bytes(repo, "functions/big.yaml", big, FILESET_FILE_MAX + 10);
	write_bytes(repo, "environments/at-cap.yaml", big, FILESET_FILE_MAX);
	free(big);
	p = join(repo, "functions/link.yaml");
	assert_int_equal(symlink("api.yaml", p), 0);
	free(p);
	p = join(repo, "functions/dirlink");
	assert_int_equal(symlink("team", p), 0);
	free(p);
	p = join(repo, "environments/staging.yaml");
	assert_int_equal(symlink("prod.yaml", p), 0);
	free(p);
	commit_all(repo, "everything a reader may meet");

	if (source_read_dir(repo, NULL, &from_dir, &err) != 0)
		fail_msg("source_read_dir: %s", err.message);
	read_ok(repo, "main", NULL, NULL, &from_git, &c);
	assert_true(from_git.n >= 11);
	assert_same_fileset(&from_dir, &from_git);
	fileset_free(&from_dir);
	fileset_free(&from_git);
	source_commit_clear(&c);

	if (source_read_dir(repo, "deploy/lambda", &from_dir, &err) != 0)
		fail_msg("source_read_dir: %s", err.message);
	read_ok(repo, "main", "deploy/lambda", NULL, &from_git, &c);
	assert_layout(&from_git);
	assert_same_fileset(&from_dir, &from_git);
	fileset_free(&from_dir);
	fileset_free(&from_git);
	source_commit_clear(&c);
	free(repo);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_tree__reads_only_desired_files, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__refs, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__path_prefix, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_tree__symlinks_are_recorded_not_followed,
	        tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__submodules_are_recorded, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__size_cap_and_binary, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__not_a_repository, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__local_bare_repository, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__file_url_cache_and_fetch, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__git_daemon, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tree__same_as_directory, tmpdir_fixture_setup, tmpdir_fixture_teardown),
	};

	/* Repositories made here must not depend on the user's or the system's git config. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_AUTHOR_NAME", "tether test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "tether test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
