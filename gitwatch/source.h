/*
 * Where a desired state is read from: a directory (`tether validate DIR`) or a commit in a
 * git repository, read straight from the object database — never a checkout or a working
 * tree. Both produce the same fileset (reconcile/fileset.h) for the same content: only the
 * paths fileset_wants() accepts, under the configured subdirectory, with symlinks,
 * submodules and files over FILESET_FILE_MAX recorded as entries the loader refuses.
 * These calls block (disk, network): the daemon runs them in a worker thread.
 */
#ifndef TETHER_GITWATCH_SOURCE_H
#define TETHER_GITWATCH_SOURCE_H

#include <stdint.h>

#include "common/err.h"
#include "reconcile/fileset.h"

struct source_commit {
	char id[41];   /* full hex commit id */
	char *ref;     /* what was asked for, e.g. "main", or the id itself; HEAD (or no
	                  ref) is named by the branch it points at, when it points at one */
	char *summary; /* first line of the message */
	int64_t time;  /* committer time, epoch seconds */
};

/*
 * Read the desired-state files under dir/path (path NULL or "": dir itself). Paths in out
 * are relative to that root. Returns 0, or -1 with err filled (dir missing or unreadable,
 * too many files).
 */
int source_read_dir(const char *dir, const char *path, struct fileset *out, struct err *err);

/*
 * How a remote repository is reached when its URL alone is not enough. Every member may be
 * NULL. The strings are borrowed for the duration of a call (source_auth_copy() makes an
 * owned copy for long-lived holders such as a gitwatch).
 *
 * SSH: Debian 12's libgit2 1.5 is built with SSH (libssh2 1.10, OpenSSL backend). ed25519
 * and ecdsa keys work (tests/integration/gitauth uses ssh-keygen's default format); RSA
 * keys sign with ssh-rsa (SHA-1) only, which OpenSSH 8.8 and later servers refuse by
 * default, so prefer ed25519. Keys with a passphrase are not supported (use the agent). A
 * libgit2 built without SSH makes an ssh URL fail with an error saying so. The user, for
 * SSH and for a token alike, is the URL's (ssh://git@host/...), else username, else "git".
 *
 * HTTPS: libgit2 verifies the server's certificate and host name, always; ca_file only
 * changes what it trusts. (Debian's libgit2 does TLS with mbedTLS 2.28, which matches a
 * certificate's DNS names, never an IP address: reach an HTTPS server by name.) libgit2 keeps its
 * trust anchors process-wide (GIT_OPT_SET_SSL_CERT_LOCATIONS), so one process has one CA file for
 * git: the first ca_file given replaces the system's anchors for every HTTPS fetch of the process
 * from then on, a different one (or the same path with new content) later replaces it again (after
 * the fetches running with the old one end), and NULL never restores the system's. The daemon has
 * one configuration, so one ca_file.
 *
 * The token is sent only to http(s) URLs (never as an SSH password), never follows a
 * redirect to another host (with a token, libgit2 follows same-host redirects only), and
 * never appears in an error message.
 */
struct source_auth {
	const char *ssh_key_file; /* private key; NULL: the SSH agent ($SSH_AUTH_SOCK). A
	                             public key beside it as key + ".pub" is used when present */
	const char *known_hosts;  /* OpenSSH known_hosts file the SSH host key must be in
	                             (plain, hashed |1|salt|hash and [host]:port entries);
	                             NULL: libgit2's default check (~/.ssh/known_hosts) */
	const char *token;        /* HTTPS token (the secret value itself, already read);
	                             NULL: none */
	const char *username;     /* when the URL names no user: for token auth, e.g.
	                             "x-access-token" (GitHub), "oauth2" (GitLab); NULL: "git" */
	const char *ca_file;      /* PEM trust anchors for HTTPS; NULL: the system's (see
	                             above: process-wide) */
};

/*
 * Read the desired-state files under path at ref (a branch, tag or commit id; NULL: HEAD)
 * of repo: a local repository path (bare or not), or a URL (file://, git://, http(s)://,
 * ssh) that is cloned bare into cache_dir (NULL: a temporary directory removed before
 * returning) and fetched when already there. Fills commit. Returns 0, or -1 with err
 * filled (no such repository or ref, fetch failure). Same as source_read_git_auth() with
 * auth NULL.
 */
int source_read_git(const char *repo, const char *ref, const char *path, const char *cache_dir,
    struct fileset *out, struct source_commit *commit, struct err *err);
/*
 * source_read_git(), reaching a URL with auth (NULL: none beyond the URL, the SSH agent
 * and libgit2's defaults). Errors as source_read_git(); err->code is also ERR_AUTH when the
 * server refused the credentials or asked for some and none are configured (each kind is
 * offered once, so a wrong token fails at once), ERR_FAIL when an SSH host key is not in
 * known_hosts or differs from it or when the TLS certificate does not verify, and
 * ERR_INVALID when the CA file cannot be loaded or libgit2 lacks SSH for an ssh URL.
 */
int source_read_git_auth(const char *repo, const char *ref, const char *path, const char *cache_dir,
    const struct source_auth *auth, struct fileset *out, struct source_commit *commit,
    struct err *err);
/*
 * Where the commits of repo are read from: repo itself for a local path, else its bare
 * cache under cache_dir. Allocated; NULL when cache_dir is NULL for a URL.
 */
char *source_repo_path(const char *repo, const char *cache_dir);
/*
 * An owned deep copy of a (NULL: NULL), released with source_auth_free(), which wipes the
 * token before freeing it.
 */
struct source_auth *source_auth_copy(const struct source_auth *a);
void source_auth_free(struct source_auth *a);
void source_commit_clear(struct source_commit *c);
/* Fill err with code and what libgit2 said about its last failure, after context
 * ("context: message"). Returns code. */
int source_git_fail(struct err *err, int code, const char *context);

#endif
