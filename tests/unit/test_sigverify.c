/*
 * gitwatch/sigverify.c: SSH commit signatures. Every key is made by ssh-keygen and every
 * signed commit by `git commit -S` with gpg.format=ssh, in a private temporary directory;
 * the commits git cannot make (tampered, other namespaces, RSA signature types, corrupt
 * blobs) are written as objects from real signatures. For GOOD and for refusals, `git
 * verify-commit` with gpg.ssh.allowedSignersFile (ssh-keygen underneath) is asked too, and
 * must agree.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/compat.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "gitwatch/sigverify.h"
#include "tests/lib/tmpdir.h"

#define ARGS_MAX 32
#define OUT_MAX (1024 * 1024)
/* Every commit made with a fixed time is made at this one (committer and author). */
#define COMMIT_DATE "2024-01-15T12:00:00Z"

enum {
	ALICE,   /* ed25519 */
	BOB,     /* ECDSA P-256 */
	CAROL,   /* ECDSA P-384 */
	DAVE,    /* ECDSA P-521 */
	ERIN,    /* RSA 3072 */
	MALLORY, /* ed25519, in no allowed_signers */
	OLD,     /* RSA 1024, below the minimum */
	NKEYS,
};

static const struct {
	const char *name;
	const char *type;
	const char *bits;
	const char *ktype;
	const char *principals; /* as the main allowed_signers reports them */
	const char *line;       /* the main allowed_signers line, before the key */
} keys[NKEYS] = {
    {"alice", "ed25519", NULL, "ssh-ed25519", "alice@example.com", "alice@example.com"},
    {"bob", "ecdsa", "256", "ecdsa-sha2-nistp256", "bob@example.com", "\"bob@example.com\""},
    {"carol", "ecdsa", "384", "ecdsa-sha2-nistp384", "carol@example.com,carol@example.org",
        "carol@example.com,carol@example.org namespaces=\"git\""},
    {"dave", "ecdsa", "521", "ecdsa-sha2-nistp521", "dave@example.com",
        "dave@example.com valid-after=\"20200101\",valid-before=\"20300101Z\""},
    {"erin", "rsa", "3072", "ssh-rsa", "erin@example.com",
        "erin@example.com NAMESPACES=\"file,git\""},
    {"mallory", "ed25519", NULL, "ssh-ed25519", NULL, NULL},
    {"old", "rsa", "1024", "ssh-rsa", NULL, NULL},
};

struct fixture {
	char dir[PATH_MAX];
	char repo[PATH_MAX];
	char signers[PATH_MAX]; /* the main allowed_signers */
	char pub[NKEYS][2048];  /* "type base64" */
	char fp[NKEYS][128];    /* SHA256:... as ssh-keygen -l prints it */
	char signed_by[NKEYS][41];
	char unsigned_id[41];
	git_repository *git;
};

/* ---- Processes and files ---- */

/*
 * Run argv (NULL-terminated) with stdin from in (NULL: /dev/null); capture stdout into out
 * when not NULL. Returns the exit status, or -1.
 */
static int
run(const char *in, struct buf *out, char *const argv[])
{
	int fds[2], status;
	pid_t pid;
	ssize_t r;
	char chunk[4096];

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int input = in != NULL ? open(in, O_RDONLY) : null;

		dup2(input, 0);
		dup2(out != NULL ? fds[1] : null, 1);
		dup2(null, 2);
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		r = read(fds[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out != NULL)
			assert_int_equal(buf_append(out, chunk, (size_t)r), 0);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run the NULL-terminated arguments; see run(). */
static int
runv(const char *in, struct buf *out, ...)
{
	char *argv[ARGS_MAX];
	size_t n = 0;
	va_list ap;
	const char *a;

	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(n < ARGS_MAX - 1);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return run(in, out, argv);
}

#define RUN(in, out, ...) runv(in, out, __VA_ARGS__, (char *)NULL)

static void
trim(struct buf *b)
{
	while (b->len > 0 && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
}

static char *
path_in(const struct fixture *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
write_text(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

static bool
contains(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

/* ---- git ---- */

/* A commit on HEAD, signed with key k (-1: unsigned), at COMMIT_DATE or now; its id. */
static void
commit(struct fixture *f, int k, const char *message, bool now, char id[41])
{
	struct buf out = BUF_INIT(OUT_MAX);
	char *argv[ARGS_MAX], *signing = NULL;
	size_t n = 0;

	if (now) {
		argv[n++] = "env";
		argv[n++] = "-u";
		argv[n++] = "GIT_COMMITTER_DATE";
		argv[n++] = "-u";
		argv[n++] = "GIT_AUTHOR_DATE";
	}
	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = f->repo;
	argv[n++] = "-c";
	argv[n++] = "user.name=Test Signer";
	argv[n++] = "-c";
	argv[n++] = "user.email=signer@example.com";
	if (k >= 0) {
		signing = xasprintf("user.signingkey=%s/%s.pub", f->dir, keys[k].name);
		argv[n++] = "-c";
		argv[n++] = "gpg.format=ssh";
		argv[n++] = "-c";
		argv[n++] = signing;
	}
	argv[n++] = "commit";
	argv[n++] = "-q";
	argv[n++] = "--allow-empty";
	argv[n++] = k >= 0 ? "-S" : "--no-gpg-sign";
	argv[n++] = "-m";
	argv[n++] = (char *)message;
	argv[n] = NULL;
	assert_int_equal(run(NULL, NULL, argv), 0);
	assert_int_equal(RUN(NULL, &out, "git", "-C", f->repo, "rev-parse", "HEAD"), 0);
	trim(&out);
	assert_int_equal(out.len, 40);
	memcpy(id, out.data, 41);
	buf_free(&out);
	free(signing);
}

/* `git verify-commit` with gpg.ssh.allowedSignersFile=signers: its exit status. */
static int
oracle(const struct fixture *f, const char *signers, const char *id)
{
	char *opt = xasprintf("gpg.ssh.allowedSignersFile=%s", signers);
	int rc = RUN(NULL, NULL, "git", "-C", f->repo, "-c", opt, "verify-commit", id);

	free(opt);
	return rc;
}

/* The raw commit object. */
static void
cat_commit(const struct fixture *f, const char *id, struct buf *out)
{
	assert_int_equal(RUN(NULL, out, "git", "-C", f->repo, "cat-file", "commit", id), 0);
}

/* Write bytes as a commit object (libgit2: any content, NUL bytes included). */
static void
write_commit(const struct fixture *f, const void *p, size_t n, char id[41])
{
	git_odb *odb = NULL;
	git_oid oid;

	assert_int_equal(git_repository_odb(&odb, f->git), 0);
	assert_int_equal(git_odb_write(&oid, odb, p, n, GIT_OBJECT_COMMIT), 0);
	git_oid_tostr(id, 41, &oid);
	git_odb_free(odb);
}

/* The same through `git hash-object -t commit -w` (git's own checks apply). */
static void
hash_object(const struct fixture *f, const void *p, size_t n, char id[41])
{
	char *tmp = path_in(f, "object.tmp");
	struct buf out = BUF_INIT(128);

	write_file(tmp, p, n);
	assert_int_equal(
	    RUN(tmp, &out, "git", "-C", f->repo, "hash-object", "-t", "commit", "-w", "--stdin"),
	    0);
	trim(&out);
	assert_int_equal(out.len, 40);
	memcpy(id, out.data, 41);
	buf_free(&out);
	unlink(tmp);
	free(tmp);
}

/* The gpgsig header's text, continuation spaces dropped (as git reads it). */
static char *
sig_text(const struct buf *c)
{
	struct buf sig = BUF_INIT(OUT_MAX);
	const char *p = strstr(c->data, "\ngpgsig ");
	const char *nl;

	assert_non_null(p);
	p += strlen("\ngpgsig ");
	for (;;) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_int_equal(buf_append(&sig, p, (size_t)(nl + 1 - p)), 0);
		if (nl[1] != ' ')
			break;
		p = nl + 2;
	}
	return buf_detach(&sig, NULL);
}

/* An unsigned commit's bytes with a gpgsig header holding sig, where git puts it. */
static void
with_sig(const struct buf *payload, const char *sig, struct buf *out)
{
	const char *eoh = strstr(payload->data, "\n\n");
	const char *p = sig, *nl;
	bool first = true;

	assert_non_null(eoh);
	assert_int_equal(buf_append(out, payload->data, (size_t)(eoh + 1 - payload->data)), 0);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		assert_int_equal(buf_puts(out, first ? "gpgsig " : " "), 0);
		if (nl == NULL) {
			assert_int_equal(buf_puts(out, p), 0);
			assert_int_equal(buf_putc(out, '\n'), 0);
			break;
		}
		assert_int_equal(buf_append(out, p, (size_t)(nl + 1 - p)), 0);
		first = false;
		p = nl + 1;
	}
	assert_int_equal(buf_puts(out, eoh + 1), 0);
}

/* An SSHSIG blob armored as ssh-keygen writes it (70 columns). */
static char *
armor(const unsigned char *blob, size_t n)
{
	char *b64 = crypto_base64_encode(blob, n);
	struct buf out = BUF_INIT(OUT_MAX);
	size_t i, len = strlen(b64);

	assert_int_equal(buf_puts(&out, "-----BEGIN SSH SIGNATURE-----\n"), 0);
	for (i = 0; i < len; i += 70) {
		assert_int_equal(buf_append(&out, b64 + i, len - i < 70 ? len - i : 70), 0);
		assert_int_equal(buf_putc(&out, '\n'), 0);
	}
	assert_int_equal(buf_puts(&out, "-----END SSH SIGNATURE-----\n"), 0);
	free(b64);
	return buf_detach(&out, NULL);
}

/* The blob inside an armored signature. */
static unsigned char *
dearmor(const char *sig, size_t *n)
{
	const char *b = sig + strlen("-----BEGIN SSH SIGNATURE-----\n");
	const char *e = strstr(b, "-----END SSH SIGNATURE-----");
	char *b64 = xmalloc(strlen(sig) + 1);
	unsigned char *blob;
	size_t o = 0;

	assert_non_null(e);
	for (; b < e; b++)
		if (*b != '\n')
			b64[o++] = *b;
	assert_int_equal(crypto_base64_decode(b64, o, &blob, n), 0);
	free(b64);
	return blob;
}

/* sigverify_commit with signers loaded from path. */
static enum sigverify_result
verify(const struct fixture *f, const char *signers, const char *id, char **signer, char **why)
{
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;
	enum sigverify_result r;

	assert_int_equal(allowed_signers_load(&a, signers, &err), 0);
	assert_int_equal(sigverify_commit(a, f->repo, id, &r, signer, why, &err), 0);
	allowed_signers_free(a);
	/* The ownership contract: signer for GOOD and UNKNOWN_KEY, why for all but GOOD. */
	if (r == SIGVERIFY_GOOD || r == SIGVERIFY_UNKNOWN_KEY)
		assert_non_null(*signer);
	else
		assert_null(*signer);
	if (r == SIGVERIFY_GOOD)
		assert_null(*why);
	else
		assert_non_null(*why);
	return r;
}

/* The result alone (signer and why checked for shape, then dropped). */
static enum sigverify_result
result_of(const struct fixture *f, const char *signers, const char *id)
{
	char *signer = NULL, *why = NULL;
	enum sigverify_result r = verify(f, signers, id, &signer, &why);

	free(signer);
	free(why);
	return r;
}

/* An allowed_signers file with one line for key k: "principals [options] key". */
static char *
signers_file(const struct fixture *f, const char *name, const char *before, int k)
{
	char *path = path_in(f, name);
	char *text = xasprintf("%s %s\n", before, f->pub[k]);

	write_text(path, text);
	free(text);
	return path;
}

/* ---- Setup ---- */

static int
group_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct buf out = BUF_INIT(OUT_MAX), text = BUF_INIT(OUT_MAX);
	char *path, *pub;
	int k, rc;

	if (tmpdir_make(f->dir, sizeof(f->dir), "tether-sigverify") != 0) {
		free(f);
		return -1;
	}
	*state = f;
	/* Nobody's own git or ssh configuration, and one time zone for ssh-keygen's times. */
	setenv("HOME", f->dir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_COMMITTER_DATE", COMMIT_DATE, 1);
	setenv("GIT_AUTHOR_DATE", COMMIT_DATE, 1);
	setenv("TZ", "UTC", 1);
	tzset();
	git_libgit2_init();

	for (k = 0; k < NKEYS; k++) {
		path = path_in(f, keys[k].name);
		if (keys[k].bits != NULL)
			rc = RUN(NULL, NULL, "ssh-keygen", "-q", "-t", keys[k].type, "-b",
			    keys[k].bits, "-N", "", "-C", keys[k].name, "-f", path);
		else
			rc = RUN(NULL, NULL, "ssh-keygen", "-q", "-t", keys[k].type, "-N", "", "-C",
			    keys[k].name, "-f", path);
		assert_int_equal(rc, 0);
		pub = xasprintf("%s.pub", path);
		buf_reset(&out);
		assert_int_equal(RUN(pub, &out, "cut", "-d", " ", "-f", "1,2"), 0);
		trim(&out);
		assert_true(out.len < sizeof(f->pub[k]));
		memcpy(f->pub[k], out.data, out.len + 1);
		buf_reset(&out);
		assert_int_equal(RUN(NULL, &out, "ssh-keygen", "-l", "-E", "sha256", "-f", pub), 0);
		assert_int_equal(sscanf(out.data, "%*d %127s", f->fp[k]), 1);
		assert_true(strncmp(f->fp[k], "SHA256:", 7) == 0);
		free(pub);
		free(path);
	}

	buf_reset(&text);
	assert_int_equal(buf_puts(&text, "# tether test signers\n\n"), 0);
	for (k = 0; k < NKEYS; k++)
		if (keys[k].line != NULL)
			assert_int_equal(buf_printf(&text, "%s %s %s's key\n", keys[k].line,
			                     f->pub[k], keys[k].name),
			    0);
	assert_true((size_t)snprintf(f->signers, sizeof(f->signers), "%.*s/allowed_signers",
	                (int)(sizeof(f->dir) - 32), f->dir) < sizeof(f->signers));
	write_text(f->signers, text.data);

	assert_true((size_t)snprintf(f->repo, sizeof(f->repo), "%.*s/repo",
	                (int)(sizeof(f->dir) - 32), f->dir) < sizeof(f->repo));
	assert_int_equal(RUN(NULL, NULL, "git", "init", "-q", "-b", "main", f->repo), 0);
	assert_int_equal(git_repository_open(&f->git, f->repo), 0);
	commit(f, -1, "unsigned", false, f->unsigned_id);
	for (k = 0; k < NKEYS; k++) {
		char *msg = xasprintf("signed by %s", keys[k].name);

		commit(f, k, msg, false, f->signed_by[k]);
		free(msg);
	}
	buf_free(&out);
	buf_free(&text);
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	git_repository_free(f->git);
	git_libgit2_shutdown();
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

/* ---- Signatures ---- */

static void
test_sigverify__good_every_key_type(void **state)
{
	struct fixture *f = *state;
	char *signer, *why, *want;
	int k;

	for (k = ALICE; k <= ERIN; k++) {
		signer = why = NULL;
		assert_int_equal(
		    verify(f, f->signers, f->signed_by[k], &signer, &why), SIGVERIFY_GOOD);
		want = xasprintf("%s (%s %s)", keys[k].principals, keys[k].ktype, f->fp[k]);
		assert_string_equal(signer, want);
		assert_int_equal(oracle(f, f->signers, f->signed_by[k]), 0);
		free(want);
		free(signer);
	}
	assert_string_equal(sigverify_result_names[SIGVERIFY_GOOD], "good");
	assert_string_equal(sigverify_result_names[SIGVERIFY_UNKNOWN_KEY], "unknown-key");
	assert_string_equal(sigverify_result_names[SIGVERIFY_UNSUPPORTED], "unsupported");
}

static void
test_sigverify__unsigned(void **state)
{
	struct fixture *f = *state;
	char *signer = NULL, *why = NULL;

	assert_int_equal(verify(f, f->signers, f->unsigned_id, &signer, &why), SIGVERIFY_UNSIGNED);
	assert_string_equal(why, "the commit has no signature");
	assert_int_not_equal(oracle(f, f->signers, f->unsigned_id), 0);
	free(why);
}

static void
test_sigverify__unknown_key(void **state)
{
	struct fixture *f = *state;
	char *signer = NULL, *why = NULL, *want;

	assert_int_equal(
	    verify(f, f->signers, f->signed_by[MALLORY], &signer, &why), SIGVERIFY_UNKNOWN_KEY);
	want = xasprintf("ssh-ed25519 %s", f->fp[MALLORY]);
	assert_string_equal(signer, want);
	assert_true(contains(why, "does not list"));
	assert_int_not_equal(oracle(f, f->signers, f->signed_by[MALLORY]), 0);
	free(want);
	free(signer);
	free(why);
}

static void
test_sigverify__tampered(void **state)
{
	struct fixture *f = *state;
	struct buf c = BUF_INIT(OUT_MAX);
	char id[41], *at, *signer = NULL, *why = NULL;

	cat_commit(f, f->signed_by[ALICE], &c);
	at = strstr(c.data, "signed by alice");
	assert_non_null(at);
	memcpy(at, "signed by ALICE", strlen("signed by ALICE"));
	hash_object(f, c.data, c.len, id);
	assert_int_equal(verify(f, f->signers, id, &signer, &why), SIGVERIFY_BAD);
	assert_true(contains(why, "does not verify"));
	assert_true(contains(why, f->fp[ALICE]));
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	free(why);
	buf_free(&c);
}

static void
test_sigverify__namespace_and_hash(void **state)
{
	struct fixture *f = *state;
	struct buf payload = BUF_INIT(OUT_MAX), c = BUF_INIT(OUT_MAX), sig = BUF_INIT(OUT_MAX);
	char *msg = path_in(f, "payload"), *sigfile = path_in(f, "payload.sig");
	char *key = path_in(f, "alice"), id[41], *signer = NULL, *why = NULL;

	cat_commit(f, f->unsigned_id, &payload);
	write_file(msg, payload.data, payload.len);

	/* A real signature over exactly this payload, in namespace "file". */
	assert_int_equal(
	    RUN(NULL, NULL, "ssh-keygen", "-q", "-Y", "sign", "-n", "file", "-f", key, msg), 0);
	assert_int_equal(RUN(sigfile, &sig, "cat"), 0);
	with_sig(&payload, sig.data, &c);
	write_commit(f, c.data, c.len, id);
	assert_int_equal(verify(f, f->signers, id, &signer, &why), SIGVERIFY_BAD);
	assert_true(contains(why, "namespace \"file\", not \"git\""));
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	/* The signature itself is good, in its own namespace only. */
	assert_int_equal(RUN(msg, NULL, "ssh-keygen", "-Y", "verify", "-n", "file", "-I",
	                     "alice@example.com", "-f", f->signers, "-s", sigfile),
	    0);
	assert_int_not_equal(RUN(msg, NULL, "ssh-keygen", "-Y", "verify", "-n", "git", "-I",
	                         "alice@example.com", "-f", f->signers, "-s", sigfile),
	    0);
	free(why);
	why = NULL;

	/* hashalg=sha256 instead of git's default sha512. */
	unlink(sigfile);
	buf_reset(&sig);
	buf_reset(&c);
	assert_int_equal(RUN(NULL, NULL, "ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-O",
	                     "hashalg=sha256", "-f", key, msg),
	    0);
	assert_int_equal(RUN(sigfile, &sig, "cat"), 0);
	with_sig(&payload, sig.data, &c);
	write_commit(f, c.data, c.len, id);
	assert_int_equal(verify(f, f->signers, id, &signer, &why), SIGVERIFY_GOOD);
	assert_int_equal(oracle(f, f->signers, id), 0);
	free(signer);

	buf_free(&payload);
	buf_free(&c);
	buf_free(&sig);
	free(msg);
	free(sigfile);
	free(key);
}

static void
test_sigverify__namespaces_option(void **state)
{
	struct fixture *f = *state;
	const char *id = f->signed_by[ALICE];
	char *p, *signer = NULL, *why = NULL, *want;

	p = signers_file(f, "as_ns_file", "alice@example.com namespaces=\"file\"", ALICE);
	assert_int_equal(verify(f, p, id, &signer, &why), SIGVERIFY_UNKNOWN_KEY);
	want = xasprintf("alice@example.com (ssh-ed25519 %s)", f->fp[ALICE]);
	assert_string_equal(signer, want);
	assert_true(contains(why, ":1: the key of alice@example.com is allowed only for "
	                          "namespaces \"file\", not \"git\""));
	assert_int_not_equal(oracle(f, p, id), 0);
	free(signer);
	free(why);
	free(want);
	free(p);

	p = signers_file(f, "as_ns_glob", "alice@example.com namespaces=\"file,g?t\"", ALICE);
	assert_int_equal(result_of(f, p, id), SIGVERIFY_GOOD);
	assert_int_equal(oracle(f, p, id), 0);
	free(p);

	p = signers_file(f, "as_ns_neg", "alice@example.com namespaces=\"!git,*\"", ALICE);
	assert_int_equal(result_of(f, p, id), SIGVERIFY_UNKNOWN_KEY);
	assert_int_not_equal(oracle(f, p, id), 0);
	free(p);

	/* Any entry that accepts the key will do. */
	p = path_in(f, "as_two");
	want = xasprintf("alice@example.com namespaces=\"file\" %s\n*@example.com %s\n",
	    f->pub[ALICE], f->pub[ALICE]);
	write_text(p, want);
	signer = why = NULL;
	assert_int_equal(verify(f, p, id, &signer, &why), SIGVERIFY_GOOD);
	free(want);
	want = xasprintf("*@example.com (ssh-ed25519 %s)", f->fp[ALICE]);
	assert_string_equal(signer, want);
	assert_int_equal(oracle(f, p, id), 0);
	free(signer);
	free(want);
	free(p);
}

static void
test_sigverify__validity(void **state)
{
	struct fixture *f = *state;
	const char *id = f->signed_by[ALICE];
	char now_id[41], *p, *signer = NULL, *why = NULL;
	static const struct {
		const char *options;
		enum sigverify_result want;
	} cases[] = {
	    /* The commit time is 2024-01-15T12:00:00Z; the bounds are inclusive. */
	    {"valid-before=\"20240115115959Z\"", SIGVERIFY_UNKNOWN_KEY},
	    {"valid-before=\"20240115120000Z\"", SIGVERIFY_GOOD},
	    {"valid-after=\"20240115120001Z\"", SIGVERIFY_UNKNOWN_KEY},
	    {"valid-after=\"20240115120000Z\"", SIGVERIFY_GOOD},
	    {"valid-after=\"20240101\",valid-before=\"20240201\"", SIGVERIFY_GOOD},
	    {"VALID-AFTER=\"20240116Z\"", SIGVERIFY_UNKNOWN_KEY},
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		char *before = xasprintf("alice@example.com %s", cases[i].options);

		p = signers_file(f, "as_time", before, ALICE);
		assert_int_equal(result_of(f, p, id), cases[i].want);
		if (cases[i].want == SIGVERIFY_GOOD)
			assert_int_equal(oracle(f, p, id), 0);
		else
			assert_int_not_equal(oracle(f, p, id), 0);
		free(before);
		free(p);
	}

	p = signers_file(f, "as_time", "alice@example.com valid-before=\"20240115115959Z\"", ALICE);
	assert_int_equal(verify(f, p, id, &signer, &why), SIGVERIFY_UNKNOWN_KEY);
	assert_true(contains(why, ":1: the key of alice@example.com expired at "
	                          "2024-01-15T11:59:59Z; the commit time is 2024-01-15T12:00:00Z"));
	free(signer);
	free(why);
	free(p);

	/* A key that expired in the past, for a commit made now. */
	commit(f, ALICE, "signed now", true, now_id);
	p = signers_file(f, "as_time", "alice@example.com valid-before=\"20250101Z\"", ALICE);
	assert_int_equal(result_of(f, p, now_id), SIGVERIFY_UNKNOWN_KEY);
	assert_int_not_equal(oracle(f, p, now_id), 0);
	assert_int_equal(result_of(f, f->signers, now_id), SIGVERIFY_GOOD);
	assert_int_equal(oracle(f, f->signers, now_id), 0);
	free(p);
}

/* Sign data with an OpenSSL key and digest; the signature is allocated. */
static unsigned char *
openssl_sign(EVP_PKEY *key, const EVP_MD *md, const void *data, size_t n, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen, data, n), 1);
	sig = xmalloc(*siglen);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, data, n), 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	    (unsigned char)(v >> 8), (unsigned char)v};

	assert_int_equal(buf_append(b, x, 4), 0);
}

static void
put_string(struct buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	assert_int_equal(buf_append(b, p, n), 0);
}

/*
 * An SSHSIG blob by erin's RSA key over payload, with RSA signature type sigtype and hash
 * md, built here with OpenSSL (ssh-keygen only makes rsa-sha2-512).
 */
static char *
rsa_sshsig(
    const struct fixture *f, const struct buf *payload, const char *sigtype, const EVP_MD *md)
{
	char *pem = path_in(f, "erin.pem"), *key = path_in(f, "erin"), *out;
	struct buf tbs = BUF_INIT(4096), inner = BUF_INIT(4096), blob = BUF_INIT(8192);
	unsigned char h[64], *pub, *sig;
	const char *b64 = strchr(f->pub[ERIN], ' ') + 1;
	size_t publen, siglen;
	EVP_PKEY *pkey;
	FILE *fp;

	/* The private key in PEM, which OpenSSL reads. */
	assert_int_equal(RUN(NULL, NULL, "cp", key, pem), 0);
	assert_int_equal(
	    RUN(NULL, NULL, "ssh-keygen", "-q", "-p", "-m", "PEM", "-N", "", "-P", "", "-f", pem),
	    0);
	fp = fopen(pem, "r");
	assert_non_null(fp);
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pkey);

	assert_int_equal(EVP_Digest(payload->data, payload->len, h, NULL, EVP_sha512(), NULL), 1);
	assert_int_equal(buf_append(&tbs, "SSHSIG", 6), 0);
	put_string(&tbs, "git", 3);
	put_string(&tbs, "", 0);
	put_string(&tbs, "sha512", 6);
	put_string(&tbs, h, 64);
	sig = openssl_sign(pkey, md, tbs.data, tbs.len, &siglen);
	put_string(&inner, sigtype, strlen(sigtype));
	put_string(&inner, sig, siglen);

	assert_int_equal(crypto_base64_decode(b64, strlen(b64), &pub, &publen), 0);
	assert_int_equal(buf_append(&blob, "SSHSIG", 6), 0);
	put_u32(&blob, 1);
	put_string(&blob, pub, publen);
	put_string(&blob, "git", 3);
	put_string(&blob, "", 0);
	put_string(&blob, "sha512", 6);
	put_string(&blob, inner.data, inner.len);
	out = armor((unsigned char *)blob.data, blob.len);

	EVP_PKEY_free(pkey);
	free(sig);
	free(pub);
	buf_free(&tbs);
	buf_free(&inner);
	buf_free(&blob);
	free(pem);
	free(key);
	return out;
}

static void
test_sigverify__rsa_signature_types(void **state)
{
	struct fixture *f = *state;
	struct buf payload = BUF_INIT(OUT_MAX), c = BUF_INIT(OUT_MAX);
	char id[41], *sig, *signer = NULL, *why = NULL;
	char *msg = path_in(f, "payload"), *sigfile = path_in(f, "rsa.sig");

	cat_commit(f, f->unsigned_id, &payload);
	write_file(msg, payload.data, payload.len);

	/* rsa-sha2-256: accepted by ssh-keygen and here. */
	sig = rsa_sshsig(f, &payload, "rsa-sha2-256", EVP_sha256());
	write_text(sigfile, sig);
	assert_int_equal(RUN(msg, NULL, "ssh-keygen", "-Y", "verify", "-n", "git", "-I",
	                     "erin@example.com", "-f", f->signers, "-s", sigfile),
	    0);
	with_sig(&payload, sig, &c);
	write_commit(f, c.data, c.len, id);
	assert_int_equal(verify(f, f->signers, id, &signer, &why), SIGVERIFY_GOOD);
	assert_int_equal(oracle(f, f->signers, id), 0);
	free(signer);
	free(sig);

	/* ssh-rsa (SHA-1): refused by both. */
	buf_reset(&c);
	sig = rsa_sshsig(f, &payload, "ssh-rsa", EVP_sha1());
	write_text(sigfile, sig);
	assert_int_not_equal(RUN(msg, NULL, "ssh-keygen", "-Y", "verify", "-n", "git", "-I",
	                         "erin@example.com", "-f", f->signers, "-s", sigfile),
	    0);
	with_sig(&payload, sig, &c);
	write_commit(f, c.data, c.len, id);
	signer = why = NULL;
	assert_int_equal(verify(f, f->signers, id, &signer, &why), SIGVERIFY_UNSUPPORTED);
	assert_true(contains(why, "SHA-1 (ssh-rsa)"));
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	free(why);
	free(sig);

	/* A signature type that does not belong to the key is BAD. */
	buf_reset(&c);
	sig = rsa_sshsig(f, &payload, "rsa-sha2-384", EVP_sha384());
	with_sig(&payload, sig, &c);
	write_commit(f, c.data, c.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_BAD);
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	free(sig);

	buf_free(&payload);
	buf_free(&c);
	free(msg);
	free(sigfile);
}

static void
test_sigverify__small_rsa_key(void **state)
{
	struct fixture *f = *state;
	char *signer = NULL, *why = NULL, *p;
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;

	/* Signed by a 1024-bit key: refused whatever allowed_signers says. */
	assert_int_equal(
	    verify(f, f->signers, f->signed_by[OLD], &signer, &why), SIGVERIFY_UNSUPPORTED);
	assert_true(contains(why, "an RSA key of 1024 bits (tether accepts 2048 to 16384)"));
	free(why);
	p = signers_file(f, "as_old", "old@example.com", OLD);
	assert_int_equal(allowed_signers_load(&a, p, &err), ERR_INVALID);
	assert_null(a);
	assert_true(contains(err.message, ":1:25: an RSA key of 1024 bits"));
	free(p);
}

/* ---- Commit objects ---- */

static void
test_sigverify__commit_structure(void **state)
{
	struct fixture *f = *state;
	struct buf c = BUF_INIT(OUT_MAX), d = BUF_INIT(OUT_MAX);
	char id[41], *sig, *at;
	git_buf gsig = GIT_BUF_INIT, gdata = GIT_BUF_INIT;
	git_oid oid;
	size_t hdr;

	cat_commit(f, f->signed_by[ALICE], &c);
	sig = sig_text(&c);

	/* Bytes after a NUL: git verifies every byte of the object, so must we. */
	assert_int_equal(buf_append(&d, c.data, c.len), 0);
	assert_int_equal(buf_append(&d, "\0appended\n", 10), 0);
	write_commit(f, d.data, d.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_BAD);
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	/*
	 * Why the split is not git_commit_extract_signature(): it stops at the NUL, and so
	 * reports the original payload, which the signature covers, for this other commit.
	 */
	hdr = (size_t)(strstr(c.data, "-----END SSH SIGNATURE-----\n") +
	               strlen("-----END SSH SIGNATURE-----\n") - strstr(c.data, "gpgsig "));
	assert_int_equal(git_oid_fromstr(&oid, id), 0);
	assert_int_equal(git_commit_extract_signature(&gsig, &gdata, f->git, &oid, NULL), 0);
	assert_int_equal(gdata.size, c.len - hdr);
	git_buf_dispose(&gsig);
	git_buf_dispose(&gdata);

	/* Two gpgsig headers. */
	buf_reset(&d);
	at = strstr(c.data, "gpgsig ");
	assert_non_null(at);
	assert_int_equal(buf_append(&d, c.data, (size_t)(at - c.data)), 0);
	assert_int_equal(buf_puts(&d, "gpgsig "), 0);
	at = sig;
	while (*at != '\0') {
		char *nl = strchr(at, '\n');

		if (at != sig)
			assert_int_equal(buf_putc(&d, ' '), 0);
		assert_int_equal(buf_append(&d, at, (size_t)(nl + 1 - at)), 0);
		at = nl + 1;
	}
	assert_int_equal(buf_puts(&d, strstr(c.data, "gpgsig ")), 0);
	write_commit(f, d.data, d.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_BAD);

	/* A signature quoted in the message of an unsigned commit is not a signature. */
	buf_reset(&d);
	cat_commit(f, f->unsigned_id, &d);
	assert_int_equal(buf_puts(&d, "\ngpgsig "), 0);
	assert_int_equal(buf_puts(&d, sig), 0);
	hash_object(f, d.data, d.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_UNSIGNED);
	assert_int_not_equal(oracle(f, f->signers, id), 0);
	/* libgit2 takes it for the signature (it reads past the header). */
	assert_int_equal(git_oid_fromstr(&oid, id), 0);
	assert_int_equal(git_commit_extract_signature(&gsig, &gdata, f->git, &oid, NULL), 0);
	git_buf_dispose(&gsig);
	git_buf_dispose(&gdata);

	/* Another hash's signature header is neither signature nor payload (git's rule). */
	buf_reset(&d);
	at = strstr(c.data, "gpgsig ");
	assert_int_equal(buf_append(&d, c.data, (size_t)(at - c.data)), 0);
	assert_int_equal(buf_puts(&d, "gpgsig-sha256 not checked\n continued\n"), 0);
	assert_int_equal(buf_puts(&d, at), 0);
	write_commit(f, d.data, d.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_GOOD);
	assert_int_equal(oracle(f, f->signers, id), 0);

	/* Armor other than SSH's. */
	buf_reset(&d);
	buf_reset(&c);
	cat_commit(f, f->unsigned_id, &c);
	with_sig(&c,
	    "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJ=\n-----END PGP SIGNATURE-----\n", &d);
	write_commit(f, d.data, d.len, id);
	assert_int_equal(result_of(f, f->signers, id), SIGVERIFY_UNSUPPORTED);

	free(sig);
	buf_free(&c);
	buf_free(&d);
}

/* The result for a commit of payload with signature sig, checked against a. */
static enum sigverify_result
result_with_sig(const struct fixture *f, const struct allowed_signers *a, const struct buf *payload,
    const char *sig)
{
	struct buf c = BUF_INIT(OUT_MAX);
	struct err err = ERR_INIT;
	enum sigverify_result r;
	char id[41], *signer = NULL, *why = NULL;

	with_sig(payload, sig, &c);
	write_commit(f, c.data, c.len, id);
	assert_int_equal(sigverify_commit(a, f->repo, id, &r, &signer, &why, &err), 0);
	assert_true(r == SIGVERIFY_GOOD ? why == NULL : why != NULL);
	free(signer);
	free(why);
	buf_free(&c);
	return r;
}

static void
test_sigverify__corrupt_signatures(void **state)
{
	struct fixture *f = *state;
	struct buf c = BUF_INIT(OUT_MAX), payload = BUF_INIT(OUT_MAX);
	static const int who[] = {ALICE, BOB};
	unsigned char *blob, *copy;
	char *sig, *arm, *s;
	size_t n, i, w;
	enum sigverify_result r;
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;

	assert_int_equal(allowed_signers_load(&a, f->signers, &err), 0);
	for (w = 0; w < nitems(who); w++) {
		buf_reset(&c);
		buf_reset(&payload);
		cat_commit(f, f->signed_by[who[w]], &c);
		sig = sig_text(&c);
		/* The payload is the commit without its gpgsig lines. */
		s = strstr(c.data, "gpgsig ");
		assert_int_equal(buf_append(&payload, c.data, (size_t)(s - c.data)), 0);
		assert_int_equal(buf_puts(&payload, strstr(s, "-----END SSH SIGNATURE-----\n") +
		                                        strlen("-----END SSH SIGNATURE-----\n")),
		    0);
		/* Rebuilt from its parts, the original is GOOD: the harness is sound. */
		assert_int_equal(result_with_sig(f, a, &payload, sig), SIGVERIFY_GOOD);
		blob = dearmor(sig, &n);

		/* Every truncation, and every byte inverted: never GOOD, never a crash. */
		for (i = 0; i < n; i++) {
			arm = armor(blob, i);
			r = result_with_sig(f, a, &payload, arm);
			assert_true(r == SIGVERIFY_BAD || r == SIGVERIFY_UNSUPPORTED);
			free(arm);
			copy = xmemdup(blob, n);
			copy[i] ^= 0xff;
			arm = armor(copy, n);
			r = result_with_sig(f, a, &payload, arm);
			assert_true(r == SIGVERIFY_BAD || r == SIGVERIFY_UNSUPPORTED);
			free(arm);
			free(copy);
		}
		/* Trailing bytes after the blob. */
		copy = xmalloc(n + 1);
		memcpy(copy, blob, n);
		copy[n] = 0;
		arm = armor(copy, n + 1);
		assert_int_equal(result_with_sig(f, a, &payload, arm), SIGVERIFY_BAD);
		free(arm);
		free(copy);
		/* Version 2. */
		copy = xmemdup(blob, n);
		copy[9] = 2;
		arm = armor(copy, n);
		assert_int_equal(result_with_sig(f, a, &payload, arm), SIGVERIFY_UNSUPPORTED);
		free(arm);
		free(copy);
		free(blob);
		free(sig);
	}

	/* Broken armor. */
	assert_int_equal(result_with_sig(f, a, &payload, "-----BEGIN SSH SIGNATURE-----\nU1NI\n"),
	    SIGVERIFY_BAD);
	assert_int_equal(
	    result_with_sig(f, a, &payload,
	        "-----BEGIN SSH SIGNATURE-----\nU1N*SUc=\n-----END SSH SIGNATURE-----\n"),
	    SIGVERIFY_BAD);
	assert_int_equal(result_with_sig(f, a, &payload, "not a signature\n"), SIGVERIFY_BAD);
	allowed_signers_free(a);
	buf_free(&c);
	buf_free(&payload);
}

static void
test_sigverify__errors(void **state)
{
	struct fixture *f = *state;
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;
	enum sigverify_result r;
	char *signer = NULL, *why = NULL, *missing = path_in(f, "no-such-repo");
	struct buf out = BUF_INIT(128);

	assert_int_equal(allowed_signers_load(&a, f->signers, &err), 0);
	assert_int_equal(allowed_signers_count(a), 5);
	assert_int_equal(
	    sigverify_commit(a, missing, f->unsigned_id, &r, &signer, &why, &err), ERR_NOTFOUND);
	assert_int_equal(
	    sigverify_commit(a, f->repo, "HEAD", &r, &signer, &why, &err), ERR_INVALID);
	assert_string_equal(err.message, "\"HEAD\" is not a full commit id");
	assert_int_equal(sigverify_commit(a, f->repo, "0123456789012345678901234567890123456789",
	                     &r, &signer, &why, &err),
	    ERR_NOTFOUND);
	assert_int_equal(RUN(NULL, &out, "git", "-C", f->repo, "rev-parse", "HEAD^{tree}"), 0);
	trim(&out);
	assert_int_equal(
	    sigverify_commit(a, f->repo, out.data, &r, &signer, &why, &err), ERR_INVALID);
	assert_true(contains(err.message, "is a tree, not a commit"));
	assert_null(signer);
	assert_null(why);
	allowed_signers_free(a);
	buf_free(&out);
	free(missing);
}

/* ---- allowed_signers ---- */

/* Load text as an allowed_signers file; the error message (path cut off), or "" on success. */
static char *
load_error(const struct fixture *f, const char *text)
{
	char *p = path_in(f, "as_parse"), *msg;
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;
	int rc;

	write_text(p, text);
	rc = allowed_signers_load(&a, p, &err);
	if (rc == 0) {
		assert_non_null(a);
		allowed_signers_free(a);
		msg = xstrdup("");
	} else {
		assert_int_equal(rc, ERR_INVALID);
		assert_null(a);
		assert_true(strncmp(err.message, p, strlen(p)) == 0);
		msg = xstrdup(err.message + strlen(p) + 1);
	}
	free(p);
	return msg;
}

/* A key blob of type name with fields (string each), base64. */
static char *
b64_key(const char *name, const void *a, size_t an)
{
	struct buf b = BUF_INIT(4096);
	char *s;

	put_string(&b, name, strlen(name));
	put_string(&b, a, an);
	s = crypto_base64_encode(b.data, b.len);
	buf_free(&b);
	return s;
}

static void
test_sigverify__allowed_signers_errors(void **state)
{
	struct fixture *f = *state;
	const char *k = f->pub[ALICE];
	const char *b64 = strchr(k, ' ') + 1;
	unsigned char point[65], short_key[31];
	char *line, *msg, *bad;
	static const struct {
		const char *before; /* then " " and alice's key */
		const char *want;
	} cases[] = {
	    {"alice@example.com foo=\"x\"", "1:19: unknown option \"foo\""},
	    {"alice@example.com ssh-foo", "1:19: unknown key type or option \"ssh-foo\""},
	    {"alice@example.com cert-authority",
	        "1:19: cert-authority (certificate signers) is not supported"},
	    {"alice@example.com namespaces=git", "1:30: the value of namespaces must be in double "
	                                         "quotes"},
	    {"alice@example.com namespaces=\"\"", "1:30: empty namespaces"},
	    {"alice@example.com namespaces=\"git", "1:30: unterminated quoted value of namespaces"},
	    {"alice@example.com valid-after=\"2024011\"",
	        "1:31: invalid valid-after time \"2024011\": expected YYYYMMDD, YYYYMMDDHHMM or "
	        "YYYYMMDDHHMMSS, with a Z suffix for UTC"},
	    {"alice@example.com valid-before=\"20230229\"",
	        "1:32: invalid valid-before time \"20230229\": expected YYYYMMDD, YYYYMMDDHHMM or "
	        "YYYYMMDDHHMMSS, with a Z suffix for UTC"},
	    {"alice@example.com namespaces=\"git\",namespaces=\"file\"",
	        "1:36: duplicate namespaces"},
	    {"alice@example.com namespaces=\"git\",", "1:36: expected an option after ','"},
	    {"alice@example.com namespaces=\"git\"x", "1:35: unexpected 'x' after the namespaces "
	                                              "option"},
	    {"alice@example.com valid-after=\"20250101Z\",valid-before=\"20240101Z\"",
	        "1:19: valid-before is not later than valid-after"},
	    {"alice@example.com valid-before=\"202401151200\",valid-after=\"202401151200\"",
	        "1:19: valid-before is not later than valid-after"},
	    {"alice@example.com namespaces=\"git\" ssh-foo", "1:36: unknown key type \"ssh-foo\""},
	    {"\"alice@example.com", "1:1: unterminated quoted principals"},
	    {"\"alice@example.com\"x", "1:20: expected a space after the quoted principals"},
	    {"  \"\"", "1:3: empty principals"},
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		line = xasprintf("%s %s\n", cases[i].before, k);
		msg = load_error(f, line);
		assert_string_equal(msg, cases[i].want);
		free(msg);
		free(line);
	}

	msg = load_error(f, "alice@example.com\n");
	assert_string_equal(msg, "1:18: missing key type and key");
	free(msg);
	msg = load_error(f, "alice@example.com ssh-ed25519\n");
	assert_string_equal(msg, "1:30: missing base64 key after ssh-ed25519");
	free(msg);
	msg = load_error(f, "alice@example.com ssh-ed25519 AAAA!!!!\n");
	assert_string_equal(msg, "1:31: invalid base64 key");
	free(msg);
	line = xasprintf("alice@example.com ssh-rsa %s\n", b64);
	msg = load_error(f, line);
	assert_string_equal(msg, "1:27: the key is not an ssh-rsa key");
	free(msg);
	free(line);

	/* Keys that decode but are not keys. */
	memset(short_key, 7, sizeof(short_key));
	bad = b64_key("ssh-ed25519", short_key, sizeof(short_key));
	line = xasprintf("a@b ssh-ed25519 %s\n", bad);
	msg = load_error(f, line);
	assert_string_equal(msg, "1:17: a malformed ssh-ed25519 key");
	free(msg);
	free(line);
	free(bad);
	{
		struct buf b = BUF_INIT(4096);

		memset(point, 1, sizeof(point));
		point[0] = 4;
		put_string(&b, "ecdsa-sha2-nistp256", 19);
		put_string(&b, "nistp256", 8);
		put_string(&b, point, sizeof(point));
		bad = crypto_base64_encode(b.data, b.len);
		buf_free(&b);
	}
	line = xasprintf("a@b ecdsa-sha2-nistp256 %s\n", bad);
	msg = load_error(f, line);
	assert_string_equal(msg, "1:25: an invalid ecdsa-sha2-nistp256 key");
	free(msg);
	free(line);
	free(bad);

	/* Every error is collected, in file order, as many as fit, then a count. */
	line = xasprintf("# two bad lines and a good one\n"
	                 "a@b foo=\"1\" %s\n"
	                 "\n"
	                 "c@d %s\n"
	                 "e@f cert-authority %s\n",
	    k, k, k);
	msg = load_error(f, line);
	assert_true(contains(msg, "2:5: unknown option \"foo\"; "));
	assert_true(contains(msg, ":5:5: cert-authority (certificate signers) is not supported"));
	free(msg);
	free(line);
	{
		struct buf many = BUF_INIT(OUT_MAX);

		for (i = 0; i < 30; i++)
			assert_int_equal(buf_printf(&many, "x@y bogus %s\n", k), 0);
		msg = load_error(f, many.data);
		const char *first = "1:5: unknown key type or option \"bogus\"; ";

		assert_true(strncmp(msg, first, strlen(first)) == 0);
		assert_true(contains(msg, " more errors)"));
		buf_free(&many);
		free(msg);
	}

	/* A NUL byte is an error, not the end of the line. */
	{
		char *p = path_in(f, "as_nul");
		struct allowed_signers *a = NULL;
		struct err err = ERR_INIT;

		write_file(p, "a@b ssh-ed25519 A\0AAA\n", 22);
		assert_int_equal(allowed_signers_load(&a, p, &err), ERR_INVALID);
		assert_true(contains(err.message, ":1:18: a NUL byte"));
		free(p);
	}
}

static void
test_sigverify__allowed_signers_accepts(void **state)
{
	struct fixture *f = *state;
	struct allowed_signers *a = NULL;
	struct err err = ERR_INIT;
	char *p = path_in(f, "as_ok"), *text;

	/* Blank lines, comments, tabs, CRLF, quoted principals, a comment after the key, and a
	 * key type known to OpenSSH that is not verified here. */
	text = xasprintf("\r\n# comment\r\n\t  \"a b@example.com\"\t%s  trailing comment\r\n"
	                 "   # indented comment\n"
	                 "x@y valid-after=\"20240101\",namespaces=\"git\" %s\n"
	                 "z@y sk-ssh-ed25519@openssh.com "
	                 "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==",
	    f->pub[ALICE], f->pub[BOB]);
	write_text(p, text);
	assert_int_equal(allowed_signers_load(&a, p, &err), 0);
	assert_int_equal(allowed_signers_count(a), 3);
	allowed_signers_free(a);
	free(text);

	write_text(p, "");
	assert_int_equal(allowed_signers_load(&a, p, &err), 0);
	assert_int_equal(allowed_signers_count(a), 0);
	allowed_signers_free(a);
	unlink(p);
	a = NULL;
	assert_int_equal(allowed_signers_load(&a, p, &err), ERR_NOTFOUND);
	assert_null(a);
	assert_true(contains(err.message, "No such file or directory"));
	free(p);

	/* Past the size cap. */
	{
		char *big = path_in(f, "as_big");
		char *fill = xmalloc(ALLOWED_SIGNERS_FILE_MAX + 2);

		memset(fill, '#', ALLOWED_SIGNERS_FILE_MAX + 1);
		fill[ALLOWED_SIGNERS_FILE_MAX + 1] = '\0';
		write_text(big, fill);
		assert_int_equal(allowed_signers_load(&a, big, &err), ERR_TOOBIG);
		assert_null(a);
		free(fill);
		free(big);
	}
	allowed_signers_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sigverify__good_every_key_type),
	    cmocka_unit_test(test_sigverify__unsigned),
	    cmocka_unit_test(test_sigverify__unknown_key),
	    cmocka_unit_test(test_sigverify__tampered),
	    cmocka_unit_test(test_sigverify__namespace_and_hash),
	    cmocka_unit_test(test_sigverify__namespaces_option),
	    cmocka_unit_test(test_sigverify__validity),
	    cmocka_unit_test(test_sigverify__rsa_signature_types),
	    cmocka_unit_test(test_sigverify__small_rsa_key),
	    cmocka_unit_test(test_sigverify__commit_structure),
	    cmocka_unit_test(test_sigverify__corrupt_signatures),
	    cmocka_unit_test(test_sigverify__errors),
	    cmocka_unit_test(test_sigverify__allowed_signers_errors),
	    cmocka_unit_test(test_sigverify__allowed_signers_accepts),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
