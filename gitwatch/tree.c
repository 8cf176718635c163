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
 *   - only trees that can hold desired files are walked: functions/ down to
 *     FILESET_DEPTH_MAX (a deeper tree is recorded FILESET_TOO_DEEP) and environments/
 *     itself; a tree whose path fileset_wants() accepts (environments/prod.yaml/) is
 *     recorded FILESET_OTHER.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/buf.h"
#include "common/compat.h"
#include "common/crypto.h"
#include "common/fdio.h"
#include "common/xmalloc.h"
#include "gitwatch/sigverify.h"
#include "gitwatch/source.h"

/* How many characters of the URL's SHA-256 name a cache entry. */
#define CACHE_KEY_LEN 32
/* The largest known_hosts file read. */
#define KNOWN_HOSTS_MAX (4 * 1024 * 1024)
/* How many times one fetch may ask for credentials of any kind before giving up: a
 * username, then a key or a token, then at most one more of a kind not tried yet. */
#define CRED_CALLS_MAX 4
/* How many times a fetch re-reads the process-wide CA file while others change it. */
#define CA_TRIES_MAX 8
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

/* What the libgit2 callbacks of one fetch need, and what they refused. */
struct creds {
	const struct source_auth *auth; /* NULL: none */
	const char *url;                /* the URL fetched, for the SSH port */
	int calls;                      /* credential requests so far */
	int token_tries;
	int key_tries;
	int refused;                   /* 0, or the ERR_* code of what a callback refused */
	char message[ERR_MESSAGE_MAX]; /* why, when refused */
};

/*
 * libgit2 keeps its TLS trust anchors process-wide (source.h), so the CA file is the one
 * piece of module state. Every fetch holds ca_lock for reading; changing the anchors holds
 * it for writing, because libgit2 1.5's mbedTLS backend frees the old anchors in place,
 * under any handshake in progress. Writers go first, so a stream of fetches cannot starve
 * a change of CA file.
 */
static pthread_rwlock_t ca_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static char *ca_current;      /* under ca_lock: the file libgit2 trusts; NULL: the system's */
static struct stat ca_loaded; /* under ca_lock: that file when it was loaded */
static bool ca_pinned;        /* under ca_lock: the libgit2 reference that keeps it is taken */

int
source_git_fail(struct err *err, int code, const char *context)
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

/* msg with every occurrence of secret (when not NULL or "") replaced by "***". Allocated. */
static char *
scrub(const char *msg, const char *secret)
{
	const char *hit;
	char *clean, *next;

	if (secret == NULL || secret[0] == '\0' || strstr(msg, secret) == NULL)
		return xstrdup(msg);
	clean = xstrdup("");
	for (hit = strstr(msg, secret); hit != NULL; hit = strstr(msg, secret)) {
		next = xasprintf("%s%.*s***", clean, (int)(hit - msg), msg);
		free(clean);
		clean = next;
		msg = hit + strlen(secret);
	}
	next = xasprintf("%s%s", clean, msg);
	free(clean);
	return next;
}

/*
 * Like source_git_fail() for errors about url: libgit2's message may quote the URL, so its user
 * information (a token in https://user:token@host/...) is cut out of the message too, and
 * so is the configured token (auth may be NULL), should libgit2 ever quote it.
 */
static int
git_fail_url(
    struct err *err, int code, const char *shown, const char *url, const struct source_auth *auth)
{
	const git_error *e = git_error_last();
	const char *msg = e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
	const char *scheme = strstr(url, "://"), *host, *end, *at;
	char *secret = NULL, *clean, *cleaner;
	int rc;

	if (scheme != NULL) {
		host = scheme + 3;
		end = host + strcspn(host, "/?#");
		at = memchr(host, '@', (size_t)(end - host));
		if (at != NULL && at > host)
			secret = xstrndup(host, (size_t)(at - host));
	}
	clean = scrub(msg, secret);
	cleaner = scrub(clean, auth != NULL ? auth->token : NULL);
	rc = err_set(err, code, "%s: %s", shown, cleaner);
	explicit_bzero(clean, strlen(clean));
	free(clean);
	free(cleaner);
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
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

static int refuse(struct creds *c, int code, const char *fmt, ...) PRINTFLIKE(3, 4);

/* Record why a callback refused, for the fetch's error; returns what libgit2 expects. */
static int
refuse(struct creds *c, int code, const char *fmt, ...)
{
	va_list ap;

	c->refused = code;
	va_start(ap, fmt);
	(void)vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return code == ERR_AUTH ? GIT_EAUTH : GIT_ECERTIFICATE;
}

static bool
is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* Whether url reaches its repository over SSH: ssh://, or scp-like user@host:path. */
static bool
is_ssh(const char *url)
{
	return strncmp(url, "ssh://", 6) == 0 || strncmp(url, "ssh+git://", 10) == 0 ||
	       strncmp(url, "git+ssh://", 10) == 0 || strstr(url, "://") == NULL;
}

/* Whether url carries a password (a token) in its user information. */
static bool
url_has_password(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	if (p == NULL)
		return false;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	return at != NULL && memchr(p, ':', (size_t)(at - p)) != NULL;
}

/*
 * The port of an ssh:// URL (22 when it names none, and for scp-like URLs, which cannot):
 * known_hosts names a host on another port "[host]:port".
 */
static int
ssh_port(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at, *colon;
	long port;
	char *stop;

	if (p == NULL)
		return 22;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	if (*p == '[') {
		p = memchr(p, ']', (size_t)(end - p));
		if (p == NULL)
			return 22;
	}
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL || colon + 1 == end)
		return 22;
	errno = 0;
	port = strtol(colon + 1, &stop, 10);
	if (errno != 0 || stop != end || port <= 0 || port > 65535)
		return 22;
	return (int)port;
}

/*
 * The user to authenticate as: the URL's, else the configured one, else "git" (the user
 * of GitHub, GitLab and most hosts over SSH; any name goes with most HTTPS tokens).
 */
static const char *
auth_user(const struct creds *c, const char *from_url)
{
	if (from_url != NULL && from_url[0] != '\0')
		return from_url;
	if (c->auth != NULL && c->auth->username != NULL && c->auth->username[0] != '\0')
		return c->auth->username;
	return "git";
}

/*
 * Answer libgit2's requests for credentials. Each kind is offered once: libgit2 asks
 * again after the server refused it, and a second identical answer would only loop (over
 * HTTP up to libgit2's redirect and replay limit), so the second request of a kind fails
 * the fetch at once with a message saying what was refused. The token goes to http(s)
 * URLs only: an SSH server offering password authentication is not sent it.
 */
static int
credentials_cb(git_credential **out, const char *url, const char *username_from_url,
    unsigned int allowed_types, void *payload)
{
	struct creds *c = payload;
	const struct source_auth *a = c->auth;
	const char *user = auth_user(c, username_from_url);
	char *pub = NULL;
	int rc;

	if (++c->calls > CRED_CALLS_MAX)
		return refuse(
		    c, ERR_AUTH, "gave up after %d requests for credentials", CRED_CALLS_MAX);
	if (allowed_types & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && is_http(url)) {
		/* libgit2 offered the URL's own user:password first, when it has one. */
		if ((a == NULL || a->token == NULL) && url_has_password(c->url))
			return refuse(c, ERR_AUTH,
			    "the server refused the credentials in the URL (user \"%s\")", user);
		if (a == NULL || a->token == NULL)
			return refuse(c, ERR_AUTH,
			    "the server asks for credentials and no token is configured");
		if (c->token_tries++ > 0)
			return refuse(
			    c, ERR_AUTH, "the server refused the token (user \"%s\")", user);
		return git_credential_userpass_plaintext_new(out, user, a->token);
	}
	if (allowed_types & GIT_CREDENTIAL_SSH_KEY) {
		if (a != NULL && a->ssh_key_file != NULL) {
			if (c->key_tries++ > 0)
				return refuse(c, ERR_AUTH,
				    "the server refused the SSH key %s (user \"%s\")",
				    a->ssh_key_file, user);
			if (access(a->ssh_key_file, R_OK) != 0)
				return refuse(c, ERR_AUTH, "SSH key %s: %s", a->ssh_key_file,
				    strerror(errno));
			pub = xasprintf("%s.pub", a->ssh_key_file);
			rc = git_credential_ssh_key_new(
			    out, user, access(pub, R_OK) == 0 ? pub : NULL, a->ssh_key_file, NULL);
			free(pub);
			return rc;
		}
		if (c->key_tries++ > 0)
			return refuse(c, ERR_AUTH,
			    "the server refused every key of the SSH agent (user \"%s\")", user);
		if (getenv("SSH_AUTH_SOCK") == NULL)
			return refuse(c, ERR_AUTH,
			    "no SSH key is configured and no SSH agent is running "
			    "(SSH_AUTH_SOCK is not set)");
		return git_credential_ssh_key_from_agent(out, user);
	}
	return GIT_PASSTHROUGH;
}

/* How known_hosts names host on port: "host", or "[host]:port" off port 22; lower case. */
static char *
host_name(const char *host, int port)
{
	char *name = port == 22 ? xstrdup(host) : xasprintf("[%s]:%d", host, port), *q;

	for (q = name; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return name;
}

/* The key type a public key blob names in its first field ("ssh-ed25519", ...). */
static char *
blob_type(const unsigned char *blob, size_t len)
{
	uint32_t n;

	if (len < 4)
		return xstrdup("unknown");
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > 64 || n > len - 4)
		return xstrdup("unknown");
	return xstrndup((const char *)blob + 4, n);
}

/* Case-insensitive glob match of OpenSSH host patterns: '*' any run, '?' one character. */
static bool
glob_match(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star = SIZE_MAX;
	const char *resume = NULL;

	while (*s != '\0') {
		if (p < plen && pat[p] == '*') {
			star = p++;
			resume = s;
		} else if (p < plen && (pat[p] == '?' || tolower((unsigned char)pat[p]) ==
		                                             tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star != SIZE_MAX) {
			/* Let the last '*' swallow one more character and try again. */
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/* A hashed entry |1|salt|hash: HMAC-SHA1 of the host name under the salt. */
static bool
hashed_match(const char *pat, size_t plen, const char *name)
{
	const char *salt64 = pat + 3, *bar, *end = pat + plen;
	unsigned char *salt = NULL, *hash = NULL, mac[EVP_MAX_MD_SIZE];
	size_t saltlen = 0, hashlen = 0;
	unsigned int maclen = 0;
	bool match = false;

	bar = memchr(salt64, '|', (size_t)(end - salt64));
	if (bar == NULL)
		return false;
	if (crypto_base64_decode(salt64, (size_t)(bar - salt64), &salt, &saltlen) != 0)
		goto out;
	if (crypto_base64_decode(bar + 1, (size_t)(end - bar - 1), &hash, &hashlen) != 0)
		goto out;
	if (HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)name, strlen(name), mac,
	        &maclen) == NULL)
		goto out;
	match = hashlen == maclen && crypto_equal(hash, mac, maclen);
out:
	free(salt);
	free(hash);
	return match;
}

/*
 * Whether a known_hosts host field (comma-separated patterns, each maybe negated with
 * '!', or one hashed entry) names name. A matching negated pattern excludes the line.
 */
static bool
hosts_match(const char *field, size_t flen, const char *name)
{
	const char *p = field, *end = field + flen, *comma;
	bool neg, hit, any = false;
	size_t len;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		len = (size_t)((comma != NULL ? comma : end) - p);
		neg = len > 0 && p[0] == '!';
		if (len > 3 && strncmp(p, "|1|", 3) == 0)
			hit = hashed_match(p, len, name);
		else
			hit = glob_match(p + neg, len - neg, name);
		if (hit && neg)
			return false;
		if (hit)
			any = true;
		p += len + 1;
	}
	return any;
}

/* The next whitespace-separated field of [*p, end), advancing *p; false at the end. */
static bool
next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return false;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return true;
}

/*
 * Check the server's host key against the configured known_hosts file, as OpenSSH does:
 * an entry naming the host (as "[host]:port" off port 22) with the same key accepts it,
 * an @revoked entry with that key refuses it whatever else says, and a host that is not
 * there, or only with other keys, is refused. @cert-authority lines are not supported
 * (libgit2 gives no host certificate to check them with) and are skipped.
 */
static int
check_known_hosts(struct creds *c, const git_cert_hostkey *hk, const char *host)
{
	const char *file = c->auth->known_hosts, *p, *end, *line, *eol, *f, *hosts, *b64;
	const unsigned char *key = (const unsigned char *)hk->hostkey;
	struct buf data = BUF_INIT(KNOWN_HOSTS_MAX);
	unsigned char *blob = NULL;
	size_t flen, hostslen, b64len, bloblen;
	bool revoked_line, listed = false, matched = false, revoked = false;
	char *name = NULL, *type = NULL, *fp = NULL;
	int fd, port = ssh_port(c->url), rc = 0, r;

	if ((hk->type & GIT_CERT_SSH_RAW) == 0 || hk->hostkey == NULL || hk->hostkey_len == 0)
		return refuse(
		    c, ERR_FAIL, "%s: libgit2 gave no host key to check against %s", host, file);
	name = host_name(host, port);
	type = blob_type(key, hk->hostkey_len);
	fp = sigverify_fingerprint(key, hk->hostkey_len);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = refuse(c, ERR_FAIL, "known_hosts %s: %s", file, strerror(errno));
		goto out;
	}
	r = fdio_read_all(fd, &data);
	close(fd);
	if (r != 0) {
		rc = refuse(c, ERR_FAIL, "known_hosts %s: %s", file,
		    r == ERR_TOOBIG ? "larger than 4 MiB" : strerror(errno));
		goto out;
	}
	p = data.data != NULL ? data.data : "";
	end = p + data.len;
	for (line = p; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		p = line;
		if (!next_field(&p, eol, &f, &flen) || f[0] == '#')
			continue;
		revoked_line = false;
		if (f[0] == '@') {
			if (flen != 8 || strncmp(f, "@revoked", 8) != 0)
				continue;
			revoked_line = true;
			if (!next_field(&p, eol, &f, &flen))
				continue;
		}
		hosts = f;
		hostslen = flen;
		/* The key type field, then the key. */
		if (!next_field(&p, eol, &f, &flen) || !next_field(&p, eol, &b64, &b64len))
			continue;
		if (b64len > 0 && b64[b64len - 1] == '\r')
			b64len--;
		if (!hosts_match(hosts, hostslen, name))
			continue;
		free(blob);
		blob = NULL;
		/* OpenSSH skips a line it cannot decode; so do we. */
		if (crypto_base64_decode(b64, b64len, &blob, &bloblen) != 0)
			continue;
		if (bloblen != hk->hostkey_len || memcmp(blob, key, bloblen) != 0) {
			if (!revoked_line)
				listed = true;
			continue;
		}
		if (revoked_line)
			revoked = true;
		else
			matched = listed = true;
	}
	if (revoked)
		rc = refuse(c, ERR_FAIL, "the host key of %s (%s %s) is marked @revoked in %s",
		    name, type, fp, file);
	else if (!matched && listed)
		rc = refuse(c, ERR_FAIL,
		    "the host key of %s does not match known_hosts %s: the server offered %s %s",
		    name, file, type, fp);
	else if (!matched)
		rc = refuse(c, ERR_FAIL, "%s is not in known_hosts %s (the server offered %s %s)",
		    name, file, type, fp);
out:
	free(blob);
	buf_free(&data);
	free(name);
	free(type);
	free(fp);
	return rc;
}

/*
 * Host keys: with a known_hosts file configured, it decides alone (libgit2's own verdict
 * from ~/.ssh/known_hosts is ignored either way). Without one, libgit2's verdict stands,
 * and a refusal names the key offered. Every TLS certificate keeps libgit2's own
 * verification: GIT_PASSTHROUGH keeps its verdict.
 */
static int
certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct creds *c = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	char *type, *fp, *name;
	int rc;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	if (c->auth != NULL && c->auth->known_hosts != NULL)
		return check_known_hosts(c, hk, host);
	if (valid || (hk->type & GIT_CERT_SSH_RAW) == 0)
		return GIT_PASSTHROUGH;
	/* libgit2 refused the host: say which key, so that it can be checked and added. */
	type = blob_type((const unsigned char *)hk->hostkey, hk->hostkey_len);
	fp = sigverify_fingerprint(hk->hostkey, hk->hostkey_len);
	name = host_name(host, ssh_port(c->url));
	rc = refuse(c, ERR_FAIL,
	    "the host key of %s is not one ~/.ssh/known_hosts lists for it (libgit2's check, "
	    "as no known_hosts file is configured): the server offered %s %s",
	    name, type, fp);
	free(name);
	free(type);
	free(fp);
	return rc;
}

/* Whether the file at st is the one libgit2 loaded last, unchanged. Under ca_lock. */
static bool
ca_is_current(const char *ca_file, const struct stat *st)
{
	return ca_current != NULL && strcmp(ca_current, ca_file) == 0 &&
	       st->st_dev == ca_loaded.st_dev && st->st_ino == ca_loaded.st_ino &&
	       st->st_size == ca_loaded.st_size && st->st_mtim.tv_sec == ca_loaded.st_mtim.tv_sec &&
	       st->st_mtim.tv_nsec == ca_loaded.st_mtim.tv_nsec;
}

/*
 * Make libgit2 trust ca_file (NULL: leave its anchors as they are) and take ca_lock for
 * reading, which the caller releases after the fetch. The file is loaded again when its
 * path or its content (inode, size, modification time) changed, so a renewed CA takes
 * effect at the next fetch. A failed load leaves libgit2 with no anchors at all, so HTTPS
 * fails closed until a good file is given.
 */
static int
ca_acquire(const char *ca_file, struct err *err)
{
	struct stat st;
	int tries;

	for (tries = 0; tries < CA_TRIES_MAX; tries++) {
		if (ca_file != NULL && stat(ca_file, &st) != 0)
			return err_set(
			    err, ERR_INVALID, "CA file %s: %s", ca_file, strerror(errno));
		pthread_rwlock_rdlock(&ca_lock);
		if (ca_file == NULL || ca_is_current(ca_file, &st))
			return 0;
		pthread_rwlock_unlock(&ca_lock);

		pthread_rwlock_wrlock(&ca_lock);
		if (!ca_is_current(ca_file, &st)) {
			/*
			 * libgit2's last shutdown would reset the anchors to the system's:
			 * hold one reference for the life of the process.
			 */
			if (!ca_pinned) {
				git_libgit2_init();
				ca_pinned = true;
			}
			free(ca_current);
			ca_current = NULL;
			if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca_file, NULL) != 0) {
				source_git_fail(err, ERR_INVALID, ca_file);
				pthread_rwlock_unlock(&ca_lock);
				return -1;
			}
			ca_current = xstrdup(ca_file);
			ca_loaded = st;
		}
		pthread_rwlock_unlock(&ca_lock);
	}
	return err_set(err, ERR_FAIL, "CA file %s: replaced by other fetches %d times in a row",
	    ca_file, CA_TRIES_MAX);
}

static int
open_local(git_repository **out, const char *path, struct err *err)
{
	/* NO_SEARCH: a plain directory inside some other repository is not that repository. */
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		if (git_error_last() != NULL && git_error_last()->klass == GIT_ERROR_REPOSITORY)
			return err_set(
			    err, ERR_NOTFOUND, "%s: not a git repository (bare or not)", path);
		return source_git_fail(err, ERR_NOTFOUND, path);
	}
	return 0;
}

/*
 * Fetch every branch and tag of url into repo (a bare cache), pruning what the remote
 * deleted, and point the cache's HEAD at the remote's default branch. auth may be NULL.
 */
static int
fetch(git_repository *repo, const char *url, const char *shown, const struct source_auth *auth,
    struct err *err)
{
	git_remote *remote = NULL;
	git_fetch_options fo;
	git_remote_create_options co;
	git_strarray specs;
	git_buf head = GIT_BUF_INIT_CONST(NULL, 0);
	struct creds creds;
	int rc = -1, hrc;
	bool ca_held = false;

	memset(&creds, 0, sizeof(creds));
	creds.auth = auth;
	creds.url = url;
	if (is_ssh(url) && (git_libgit2_features() & GIT_FEATURE_SSH) == 0)
		return err_set(err, ERR_INVALID,
		    "%s: this libgit2 was built without SSH support: use an https:// URL", shown);
	if (strncmp(url, "https://", 8) == 0 && (git_libgit2_features() & GIT_FEATURE_HTTPS) == 0)
		return err_set(
		    err, ERR_INVALID, "%s: this libgit2 was built without HTTPS support", shown);
	if (ca_acquire(auth != NULL ? auth->ca_file : NULL, err) != 0)
		return -1;
	ca_held = true;
	/*
	 * In memory (no name, nothing written to the cache's config), with only our
	 * refspecs, and without url.<base>.insteadOf rewriting: the URL configured is the
	 * URL fetched. (Rewriting also leaks in libgit2 1.5's PCRE2 matcher.)
	 */
	if (git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION) != 0 ||
	    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION) != 0) {
		source_git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	co.repository = repo;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &co) != 0) {
		git_fail_url(err, ERR_INVALID, shown, url, auth);
		goto out;
	}
	specs.strings = (char **)mirror_refspecs;
	specs.count = nitems(mirror_refspecs);
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	/* The refspecs name every tag already; following tags would only add work. */
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	/*
	 * libgit2 asks for credentials with the URL configured even after a redirect, and
	 * keeps sending those it has: a token must not follow a redirect to another host.
	 */
	if (auth != NULL && auth->token != NULL)
		fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	fo.callbacks.credentials = credentials_cb;
	fo.callbacks.certificate_check = certificate_cb;
	fo.callbacks.payload = &creds;
	if (git_remote_fetch(remote, &specs, &fo, NULL) != 0) {
		/* What a callback refused says more than libgit2's "callback returned ...". */
		if (creds.refused != 0)
			err_set(err, creds.refused, "%s: %s", shown, creds.message);
		else
			git_fail_url(err, ERR_FAIL, shown, url, auth);
		goto out;
	}
	/* The list of the remote's refs stays available after the fetch disconnects. */
	/* GIT_ENOTFOUND (an empty remote, a detached HEAD) leaves HEAD as it was. */
	hrc = git_remote_default_branch(&head, remote);
	if (hrc == 0 && git_repository_set_head(repo, head.ptr) != 0) {
		source_git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	if (hrc != 0 && hrc != GIT_ENOTFOUND) {
		source_git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	rc = 0;
out:
	git_buf_dispose(&head);
	git_remote_free(remote);
	if (ca_held)
		pthread_rwlock_unlock(&ca_lock);
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

/* The bare cache of url under cache_dir: named by the URL's SHA-256. Allocated. */
static char *
cache_path(const char *url, const char *cache_dir)
{
	char key[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_sha256_hex(url, strlen(url), key);
	return xasprintf("%s/%.*s.git", cache_dir, CACHE_KEY_LEN, key);
}

/*
 * Open the bare cache of url under cache_dir (created on first use), or a fresh one in a
 * temporary directory (*tmp set to remove afterwards), and fetch.
 */
static int
open_remote(git_repository **out, const char *url, const char *cache_dir,
    const struct source_auth *auth, char **tmp, struct err *err)
{
	char *dir = NULL, *shown;
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
		dir = cache_path(url, cache_dir);
	}
	if (*tmp == NULL && stat(dir, &st) == 0) {
		if (git_repository_open_ext(out, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
			source_git_fail(err, ERR_FAIL, dir);
			goto out;
		}
	} else {
		created = *tmp == NULL;
		if (git_repository_init(out, dir, 1) != 0) {
			source_git_fail(err, ERR_FAIL, dir);
			goto out;
		}
	}
	if (fetch(*out, url, shown, auth, err) != 0)
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
		source_git_fail(err, ERR_INVALID, shown);
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
		return source_git_fail(w->err, ERR_FAIL, rel);
	if (len > FILESET_FILE_MAX) {
		fileset_add_special(w->out, rel, FILESET_TOO_BIG, len);
		return 0;
	}
	if (git_blob_lookup(&blob, w->repo, id) != 0)
		return source_git_fail(w->err, ERR_FAIL, rel);
	fileset_add(w->out, rel, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

/* Walk a tree whose path, prefix, has depth components ("" and 0 at the root). */
static int
walk_tree(struct walk *w, const git_tree *tree, const char *prefix, int depth)
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
			/* A tree where a desired file could be (environments/prod.yaml/). */
			if (!may_hold_desired(rel) && fileset_wants(rel))
				fileset_add_special(w->out, rel, FILESET_OTHER, 0);
			if (!may_hold_desired(rel))
				break;
			if (depth + 1 > FILESET_DEPTH_MAX) {
				fileset_add_special(w->out, rel, FILESET_TOO_DEEP, 0);
				break;
			}
			if (git_tree_lookup(&sub, w->repo, git_tree_entry_id(e)) != 0) {
				rc = source_git_fail(w->err, ERR_FAIL, rel);
				break;
			}
			rc = walk_tree(w, sub, rel, depth + 1);
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
		source_git_fail(err, ERR_FAIL, "commit tree");
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
		source_git_fail(err, ERR_FAIL, path);
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
	return source_read_git_auth(repo, ref, path, cache_dir, NULL, out, commit, err);
}

int
source_read_git_auth(const char *repo, const char *ref, const char *path, const char *cache_dir,
    const struct source_auth *auth, struct fileset *out, struct source_commit *commit,
    struct err *err)
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
		if (open_remote(&r, repo, cache_dir, auth, &tmp, err) != 0)
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
		source_git_fail(err, ERR_FAIL, shown);
		goto out;
	}
	rc = walk_tree(&w, tree, "", 0);
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

char *
source_repo_path(const char *repo, const char *cache_dir)
{
	if (!is_url(repo))
		return xstrdup(repo);
	if (cache_dir == NULL)
		return NULL;
	return cache_path(repo, cache_dir);
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct source_auth *
source_auth_copy(const struct source_auth *a)
{
	struct source_auth *c;

	if (a == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->ssh_key_file = dup_opt(a->ssh_key_file);
	c->known_hosts = dup_opt(a->known_hosts);
	c->token = dup_opt(a->token);
	c->username = dup_opt(a->username);
	c->ca_file = dup_opt(a->ca_file);
	return c;
}

void
source_auth_free(struct source_auth *a)
{
	if (a == NULL)
		return;
	/* The copy owns its strings: source_auth_copy() made them. */
	if (a->token != NULL)
		explicit_bzero((char *)a->token, strlen(a->token));
	free((char *)a->ssh_key_file);
	free((char *)a->known_hosts);
	free((char *)a->token);
	free((char *)a->username);
	free((char *)a->ca_file);
	free(a);
}
