/*
 * A desired state read from a git commit, straight from the object database: no checkout,
 * no working tree (architecture §1). Remote repositories are kept as bare caches whose
 * branches and tags mirror the remote's, so a ref means what it means on the remote.
 *
 * Which entries are read or recorded (the same rule as source_read_dir, so that a
 * directory and a commit of it give the same fileset):
 *   - a blob whose path fileset_wants() accepts is read (or recorded FILESET_TOO_BIG when
 *     it is over FILESET_FILE_MAX; its size comes from the object header, so a huge blob is
 *     never inflated);
 *   - a symlink or submodule (or an entry of a mode git does not define) is recorded, never
 *     followed, when fileset_wants() accepts its path or when it stands where a directory
 *     of desired files could be: "functions", "environments", or anything under
 *     functions/. Otherwise `functions -> elsewhere`, or a submodule named functions/team,
 *     would hide files and the loader would see an empty desired state instead of an
 *     error;
 *   - only trees that can hold desired files are walked: functions/ at any depth and
 *     environments/ itself.
 */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "common/compat.h"
#include "common/crypto.h"
#include "common/xmalloc.h"
#include "gitwatch/source.h"

/* How many characters of the URL's SHA-256 name a cache entry. */
#define CACHE_KEY_LEN 32
/* The refs a cache mirrors. Forced, and pruned, so a moved or deleted branch or tag is
 * seen as the remote has it. */
static const char *const mirror_refspecs[] = {
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
};

struct walk {
	git_repository *repo;
	git_odb *odb;
	struct fileset *out;
	struct err *err;
};

struct creds {
	int attempts;
};

/* Fill err with what libgit2 said about the last failure, after a short context. */
static int
git_fail(struct err *err, int code, const char *context)
{
	const git_error *e = git_error_last();

	return err_set(err, code, "%s: %s", context,
	    e != NULL && e->message != NULL ? e->message : "unknown libgit2 error");
}

/*
 * Whether repo is a URL rather than a local path: "scheme://..." or scp-like
 * "user@host:path" (a ':' before any '/', and no such local path).
 */
static bool
is_url(const char *repo)
{
	const char *colon, *slash;
	struct stat st;

	if (strstr(repo, "://") != NULL)
		return true;
	colon = strchr(repo, ':');
	slash = strchr(repo, '/');
	if (colon == NULL || (slash != NULL && slash < colon))
		return false;
	return stat(repo, &st) != 0;
}

/* The URL with any user information replaced, for messages: tokens never reach logs. */
static char *
redact(const char *url)
{
	const char *scheme, *at, *host, *end;

	scheme = strstr(url, "://");
	if (scheme == NULL)
		return xstrdup(url);
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at == NULL)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

/*
 * Like git_fail() for errors about url: libgit2's message may quote the URL, so its user
 * information (a token in https://user:token@host/...) is cut out of the message too.
 */
static int
git_fail_url(struct err *err, int code, const char *shown, const char *url)
{
	const git_error *e = git_error_last();
	const char *msg = e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
	const char *scheme = strstr(url, "://"), *host, *end, *at, *hit;
	char *secret = NULL, *clean, *next;
	int rc;

	if (scheme != NULL) {
		host = scheme + 3;
		end = host + strcspn(host, "/?#");
		at = memchr(host, '@', (size_t)(end - host));
		if (at != NULL && at > host)
			secret = xstrndup(host, (size_t)(at - host));
	}
	if (secret == NULL || strstr(msg, secret) == NULL) {
		rc = err_set(err, code, "%s: %s", shown, msg);
		free(secret);
		return rc;
	}
	clean = xstrdup("");
	for (hit = strstr(msg, secret); hit != NULL; hit = strstr(msg, secret)) {
		next = xasprintf("%s%.*s***", clean, (int)(hit - msg), msg);
		free(clean);
		clean = next;
		msg = hit + strlen(secret);
	}
	rc = err_set(err, code, "%s: %s%s", shown, clean, msg);
	free(clean);
	free(secret);
	return rc;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove a directory we made, and everything below it, without following links. */
static void
remove_tree(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * SSH: ask the agent once. libgit2 calls again after a refusal; a second answer would
 * only loop, so the second call gives up and the fetch fails with libgit2's message.
 */
static int
credentials_cb(git_credential **out, const char *url, const char *username_from_url,
    unsigned int allowed_types, void *payload)
{
	struct creds *c = payload;

	(void)url;
	if (c->attempts++ > 0 || (allowed_types & GIT_CREDENTIAL_SSH_KEY) == 0)
		return GIT_PASSTHROUGH;
	return git_credential_ssh_key_from_agent(
	    out, username_from_url != NULL ? username_from_url : "git");
}

static int
open_local(git_repository **out, const char *path, struct err *err)
{
	/* NO_SEARCH: a plain directory inside some other repository is not that repository. */
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		if (git_error_last() != NULL && git_error_last()->klass == GIT_ERROR_REPOSITORY)
			return err_set(
			    err, ERR_NOTFOUND, "%s: not a git repository (bare or not)", path);
		return git_fail(err, ERR_NOTFOUND, path);
	}
	return 0;
}

/*
 * Fetch every branch and tag of url into repo (a bare cache), pruning what the remote
 * deleted, and point the cache's HEAD at the remote's default branch.
 */
static int
fetch(git_repository *repo, const char *url, const char *shown, struct err *err)
{
	git_remote *remote = NULL;
	git_fetch_options fo;
	git_remote_create_options co;
	git_strarray specs;
	git_buf head = GIT_BUF_INIT_CONST(NULL, 0);
	struct creds creds = {0};
	int rc = -1, hrc;

	/*
	 * In memory (no name, nothing written to the cache's config), with only our
	 * refspecs, and without url.<base>.insteadOf rewriting: the URL configured is the
	 * URL fetched. (Rewriting also leaks in libgit2 1.5's PCRE2 matcher.)
	 */
	if (git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION) != 0 ||
	    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION) != 0) {
		git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	co.repository = repo;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &co) != 0) {
		git_fail_url(err, ERR_INVALID, shown, url);
		goto out;
	}
	specs.strings = (char **)mirror_refspecs;
	specs.count = nitems(mirror_refspecs);
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	/* The refspecs name every tag already; following tags would only add work. */
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.callbacks.credentials = credentials_cb;
	fo.callbacks.payload = &creds;
	if (git_remote_fetch(remote, &specs, &fo, NULL) != 0) {
		git_fail_url(err, ERR_FAIL, shown, url);
		goto out;
	}
	/* The list of the remote's refs stays available after the fetch disconnects. */
	/* GIT_ENOTFOUND (an empty remote, a detached HEAD) leaves HEAD as it was. */
	hrc = git_remote_default_branch(&head, remote);
	if (hrc == 0 && git_repository_set_head(repo, head.ptr) != 0) {
		git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	if (hrc != 0 && hrc != GIT_ENOTFOUND) {
		git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	rc = 0;
out:
	git_buf_dispose(&head);
	git_remote_free(remote);
	return rc;
}

/* Make dir and its missing parents (mode 0700: caches may hold private code). */
static int
mkdir_p(const char *dir, struct err *err)
{
	char *p = xstrdup(dir), *s, c;
	int rc = 0;

	if (p[0] == '\0') {
		free(p);
		return err_set(err, ERR_INVALID, "an empty cache directory name");
	}
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = err_set(err, ERR_FAIL, "%s: %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * Open the bare cache of url under cache_dir (created on first use), or a fresh one in a
 * temporary directory (*tmp set to remove afterwards), and fetch.
 */
static int
open_remote(
    git_repository **out, const char *url, const char *cache_dir, char **tmp, struct err *err)
{
	char key[CRYPTO_SHA256_HEX_LEN + 1], *dir = NULL, *shown;
	struct stat st;
	bool created = false;
	int rc = -1;

	*out = NULL;
	shown = redact(url);
	if (cache_dir == NULL) {
		*tmp = xasprintf("%s/tether-git.XXXXXX",
		    getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ? getenv("TMPDIR")
		                                                          : "/tmp");
		if (mkdtemp(*tmp) == NULL) {
			err_set(err, ERR_FAIL, "%s: %s", *tmp, strerror(errno));
			free(*tmp);
			*tmp = NULL;
			goto out;
		}
		dir = xstrdup(*tmp);
	} else {
		if (mkdir_p(cache_dir, err) != 0)
			goto out;
		crypto_sha256_hex(url, strlen(url), key);
		dir = xasprintf("%s/%.*s.git", cache_dir, CACHE_KEY_LEN, key);
	}
	if (*tmp == NULL && stat(dir, &st) == 0) {
		if (git_repository_open_ext(out, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
			git_fail(err, ERR_FAIL, dir);
			goto out;
		}
	} else {
		created = *tmp == NULL;
		if (git_repository_init(out, dir, 1) != 0) {
			git_fail(err, ERR_FAIL, dir);
			goto out;
		}
	}
	if (fetch(*out, url, shown, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		git_repository_free(*out);
		*out = NULL;
		/* A URL that never answered leaves no empty cache entry behind. */
		if (created)
			remove_tree(dir);
	}
	free(dir);
	free(shown);
	return rc;
}

/* A ref (branch, tag, full or abbreviated id, HEAD, or any revision expression) -> commit. */
static int
resolve(git_commit **out, git_repository *repo, const char *ref, const char *shown, struct err *err)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc;

	rc = git_revparse_single(&obj, repo, ref);
	if (rc == GIT_ENOTFOUND) {
		err_set(err, ERR_NOTFOUND, "%s: no ref or commit \"%s\"", shown, ref);
		goto out;
	}
	if (rc == GIT_EAMBIGUOUS) {
		err_set(err, ERR_INVALID, "%s: \"%s\" is ambiguous: give more of the commit id",
		    shown, ref);
		goto out;
	}
	if (rc != 0) {
		git_fail(err, ERR_INVALID, shown);
		goto out;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) {
		rc = err_set(err, ERR_INVALID, "%s: \"%s\" does not name a commit", shown, ref);
		goto out;
	}
	*out = (git_commit *)peeled;
	peeled = NULL;
out:
	git_object_free(peeled);
	git_object_free(obj);
	return rc == 0 ? 0 : -1;
}

/* Whether a directory at rel (relative to the desired-state root) could hold desired files. */
static bool
may_hold_desired(const char *rel)
{
	return strcmp(rel, "functions") == 0 || strncmp(rel, "functions/", 10) == 0 ||
	       strcmp(rel, "environments") == 0;
}

static int
add_blob(struct walk *w, const char *rel, const git_oid *id)
{
	git_blob *blob = NULL;
	git_object_t type;
	size_t len;

	if (git_odb_read_header(&len, &type, w->odb, id) != 0)
		return git_fail(w->err, ERR_FAIL, rel);
	if (len > FILESET_FILE_MAX) {
		fileset_add_special(w->out, rel, FILESET_TOO_BIG, len);
		return 0;
	}
	if (git_blob_lookup(&blob, w->repo, id) != 0)
		return git_fail(w->err, ERR_FAIL, rel);
	fileset_add(w->out, rel, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

static int
walk_tree(struct walk *w, const git_tree *tree, const char *prefix)
{
	const git_tree_entry *e;
	git_tree *sub = NULL;
	git_filemode_t mode;
	size_t i, n;
	char *rel = NULL;
	int rc = 0;

	n = git_tree_entrycount(tree);
	for (i = 0; i < n && rc == 0; i++) {
		e = git_tree_entry_byindex(tree, i);
		mode = git_tree_entry_filemode(e);
		free(rel);
		rel = prefix[0] != '\0' ? xasprintf("%s/%s", prefix, git_tree_entry_name(e))
		                        : xstrdup(git_tree_entry_name(e));
		switch (mode) {
		case GIT_FILEMODE_TREE:
			if (!may_hold_desired(rel))
				break;
			if (git_tree_lookup(&sub, w->repo, git_tree_entry_id(e)) != 0) {
				rc = git_fail(w->err, ERR_FAIL, rel);
				break;
			}
			rc = walk_tree(w, sub, rel);
			git_tree_free(sub);
			sub = NULL;
			break;
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			if (fileset_wants(rel))
				rc = add_blob(w, rel, git_tree_entry_id(e));
			break;
		case GIT_FILEMODE_LINK:
			if (fileset_wants(rel) || may_hold_desired(rel))
				fileset_add_special(w->out, rel, FILESET_SYMLINK, 0);
			break;
		case GIT_FILEMODE_COMMIT:
			if (fileset_wants(rel) || may_hold_desired(rel))
				fileset_add_special(w->out, rel, FILESET_SUBMODULE, 0);
			break;
		default:
			if (fileset_wants(rel) || may_hold_desired(rel))
				fileset_add_special(w->out, rel, FILESET_OTHER, 0);
			break;
		}
		if (rc == 0 && w->out->n > FILESET_FILES_MAX)
			rc = err_set(w->err, ERR_TOOBIG, "more than %d desired-state files",
			    FILESET_FILES_MAX);
	}
	free(rel);
	return rc;
}

/*
 * The desired-state folder inside the repository, normalized: no leading, trailing or
 * doubled '/', no "." components; ".." is refused. "" is the root.
 */
static int
normalize_path(const char *path, char **out, struct err *err)
{
	const char *p = path != NULL ? path : "", *end;
	size_t len, n = 0;
	char *res;

	res = xmalloc(strlen(p) + 1);
	while (*p != '\0') {
		end = p + strcspn(p, "/");
		len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(res);
			return err_set(err, ERR_INVALID,
			    "--path \"%s\": \"..\" cannot leave the repository", path);
		}
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n > 0)
				res[n++] = '/';
			memcpy(res + n, p, len);
			n += len;
		}
		p = *end == '/' ? end + 1 : end;
	}
	res[n] = '\0';
	*out = res;
	return 0;
}

/* The tree of the desired-state folder at commit. */
static int
subtree(git_tree **out, git_repository *repo, git_commit *commit, const char *path, struct err *err)
{
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc = -1;

	*out = NULL;
	if (git_commit_tree(&root, commit) != 0) {
		git_fail(err, ERR_FAIL, "commit tree");
		goto out;
	}
	if (path[0] == '\0') {
		*out = root;
		root = NULL;
		rc = 0;
		goto out;
	}
	if (git_tree_entry_bypath(&e, root, path) != 0) {
		err_set(err, ERR_NOTFOUND, "path \"%s\" does not exist at commit %.12s", path,
		    git_oid_tostr_s(git_commit_id(commit)));
		goto out;
	}
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		break;
	case GIT_FILEMODE_LINK:
		err_set(err, ERR_INVALID, "path \"%s\" is a symbolic link, which is not followed",
		    path);
		goto out;
	case GIT_FILEMODE_COMMIT:
		err_set(err, ERR_INVALID, "path \"%s\" is a submodule, which is not read", path);
		goto out;
	default:
		err_set(err, ERR_INVALID, "path \"%s\" is not a directory", path);
		goto out;
	}
	if (git_tree_lookup(out, repo, git_tree_entry_id(e)) != 0) {
		git_fail(err, ERR_FAIL, path);
		goto out;
	}
	rc = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	return rc;
}

/*
 * What to call the ref in version descriptions and logs: what was asked for, except that
 * HEAD is named by the branch it points at ("main"), as people call it. A detached HEAD
 * stays "HEAD".
 */
static char *
ref_name(git_repository *repo, const char *ref)
{
	git_reference *head = NULL;
	char *name;

	if (strcmp(ref, "HEAD") != 0 || git_repository_head(&head, repo) != 0)
		return xstrdup(ref);
	name = xstrdup(git_reference_is_branch(head) ? git_reference_shorthand(head) : ref);
	git_reference_free(head);
	return name;
}

int
source_read_git(const char *repo, const char *ref, const char *path, const char *cache_dir,
    struct fileset *out, struct source_commit *commit, struct err *err)
{
	git_repository *r = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct fileset fs = FILESET_INIT;
	struct walk w;
	char *tmp = NULL, *shown = NULL, *norm = NULL;
	const char *summary;
	int rc = -1;

	memset(commit, 0, sizeof(*commit));
	if (ref == NULL || ref[0] == '\0')
		ref = "HEAD";
	/* Reference counted: this pairs with the shutdown below, whoever else holds one. */
	git_libgit2_init();
	shown = redact(repo);
	if (normalize_path(path, &norm, err) != 0)
		goto out;
	if (is_url(repo)) {
		if (open_remote(&r, repo, cache_dir, &tmp, err) != 0)
			goto out;
	} else if (open_local(&r, repo, err) != 0) {
		goto out;
	}
	if (resolve(&c, r, ref, shown, err) != 0)
		goto out;
	if (subtree(&tree, r, c, norm, err) != 0)
		goto out;
	memset(&w, 0, sizeof(w));
	w.repo = r;
	w.out = &fs;
	w.err = err;
	if (git_repository_odb(&w.odb, r) != 0) {
		git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	rc = walk_tree(&w, tree, "");
	git_odb_free(w.odb);
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	fileset_sort(&fs);
	*out = fs;
	memset(&fs, 0, sizeof(fs));
	git_oid_tostr(commit->id, sizeof(commit->id), git_commit_id(c));
	commit->ref = ref_name(r, ref);
	summary = git_commit_summary(c);
	commit->summary = xstrdup(summary != NULL ? summary : "");
	commit->time = (int64_t)git_commit_time(c);
	rc = 0;
out:
	fileset_free(&fs);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(r);
	if (tmp != NULL) {
		remove_tree(tmp);
		free(tmp);
	}
	free(norm);
	free(shown);
	git_libgit2_shutdown();
	return rc;
}

void
source_commit_clear(struct source_commit *c)
{
	if (c == NULL)
		return;
	free(c->ref);
	free(c->summary);
	memset(c, 0, sizeof(*c));
}
