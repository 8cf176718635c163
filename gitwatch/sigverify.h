/*
 * Commit signatures made with `gpg.format=ssh` (git's SSH signing), checked the way
 * `git verify-commit` with gpg.ssh.allowedSignersFile checks them, without running
 * ssh-keygen: the SSHSIG blob (OpenSSH PROTOCOL.sshsig) is parsed here and its signature
 * verified with OpenSSL, against keys listed in an allowed_signers file (ssh-keygen(1),
 * ALLOWED SIGNERS). docs/signatures.md describes the rules and what is refused.
 *
 * Everything read from a repository is untrusted: every parser is bounds-checked and every
 * size capped. These calls block (disk): the daemon runs them in a worker thread. No state is
 * shared between calls, so several threads may verify at once with one allowed_signers.
 */
#ifndef TETHER_GITWATCH_SIGVERIFY_H
#define TETHER_GITWATCH_SIGVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Caps on untrusted input: the armored signature of a commit, a public key blob (decoded),
 * a whole commit object. */
#define SIGVERIFY_SIGNATURE_MAX (64 * 1024)
#define SIGVERIFY_KEY_MAX (16 * 1024)
#define SIGVERIFY_COMMIT_MAX (4 * 1024 * 1024)
/* Caps on the allowed_signers file and on one line of it. */
#define ALLOWED_SIGNERS_FILE_MAX (1024 * 1024)
#define ALLOWED_SIGNERS_LINE_MAX (32 * 1024)
/* RSA keys below this many bits are refused (OpenSSH 9.2 still accepts 1024). */
#define SIGVERIFY_RSA_MIN_BITS 2048
#define SIGVERIFY_RSA_MAX_BITS 16384

struct allowed_signers;

/*
 * Parse an allowed_signers file (ssh-keygen(1) ALLOWED SIGNERS format). Each line is
 * principals, options, key type, base64 key, comment; blank lines and lines starting with
 * '#' are skipped. Principals is a comma-separated pattern list, bare or in double quotes.
 * Options (keywords case-insensitive, values in double quotes as ssh-keygen requires):
 * namespaces="pattern-list", valid-after="time", valid-before="time" with time
 * YYYYMMDD[HHMM[SS]] in local time, or UTC with a Z suffix; cert-authority is refused as
 * unsupported. Key types ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa (at least
 * SIGVERIFY_RSA_MIN_BITS) are checked completely; other OpenSSH key types (ssh-dss, sk-*,
 * certificates) are accepted so that a file shared with git loads, but commits signed with
 * them are SIGVERIFY_UNSUPPORTED.
 *
 * Every line is parsed and every problem collected; if there is any, nothing is returned
 * and err holds "path:line:col: message" for as many as fit, joined by "; ", with the count
 * of the rest (ERR_INVALID; ERR_TOOBIG past ALLOWED_SIGNERS_FILE_MAX; ERR_NOTFOUND or
 * ERR_FAIL when the file cannot be read). A file with no entries loads (and accepts no
 * signature). *out belongs to the caller: allowed_signers_free().
 */
int allowed_signers_load(struct allowed_signers **out, const char *path, struct err *err);
/*
 * allowed_signers_load() on the file's content, data (len bytes, not NUL-terminated; NULL
 * when len is 0), as read from path (only used in messages). Same results and errors, but
 * for ERR_NOTFOUND and ERR_FAIL: nothing is read.
 */
int allowed_signers_parse(
    struct allowed_signers **out, const char *path, const char *data, size_t len, struct err *err);
/* How many entries (key lines) were loaded. */
size_t allowed_signers_count(const struct allowed_signers *a);
void allowed_signers_free(struct allowed_signers *a);

/*
 * What a commit's signature is:
 *   GOOD         an SSH signature in namespace "git" over exactly this commit, by a key an
 *                allowed_signers entry accepts for namespace "git" at the committer time;
 *   UNSIGNED     no gpgsig header;
 *   UNKNOWN_KEY  a signature that verifies, by a key no entry accepts: not listed, or
 *                listed only for other namespaces or outside its valid-after/valid-before;
 *   BAD          a signature that does not verify (the commit changed after signing, another
 *                namespace, a malformed or corrupt signature);
 *   UNSUPPORTED  a signature tether cannot check: OpenPGP or X.509 signatures, key types
 *                other than ed25519/ECDSA/RSA, RSA below SIGVERIFY_RSA_MIN_BITS, SHA-1
 *                (ssh-rsa) RSA signatures, an SSHSIG version or hash other than 1 and
 *                sha256/sha512, sizes beyond the caps above.
 * Only GOOD may be deployed.
 */
enum sigverify_result {
	SIGVERIFY_GOOD,
	SIGVERIFY_UNSIGNED,
	SIGVERIFY_UNKNOWN_KEY,
	SIGVERIFY_BAD,
	SIGVERIFY_UNSUPPORTED,
};

/* "good", "unsigned", "unknown-key", "bad", "unsupported", indexed by the enum. */
extern const char *const sigverify_result_names[];

/*
 * Verify commit id (40 hex digits) of the repository at repo_path (bare or not; opened with
 * libgit2, object hashes checked on read). The signature and the signed payload are split
 * from the raw commit object by git's own rule (gpgsig header lines only, lengths not NUL
 * terminators, exactly one gpgsig header); the armored SSHSIG blob is parsed (magic, version
 * 1, public key, namespace "git", reserved, hash sha256 or sha512, signature), its
 * signature verified with OpenSSL over the SSHSIG signed data ("SSHSIG", namespace,
 * reserved, hash algorithm, H(payload)) for ssh-ed25519, ecdsa-sha2-nistp256/384/521 and
 * ssh-rsa with rsa-sha2-256/512 signatures, and the key looked up in a: any principal, the
 * entry's namespaces must allow "git", valid-after/valid-before are checked against the
 * commit's committer time.
 *
 * *result is always set on success. *signer (allocated, the caller frees it) is
 * "principals (key-type SHA256:fingerprint)" for GOOD, and for UNKNOWN_KEY when an entry
 * lists the key, or just "key-type SHA256:fingerprint" for a key no entry lists; NULL
 * otherwise. *why (allocated) is a one-line reason for every result but GOOD, NULL for GOOD.
 * Returns 0, or a negative code with err filled for I/O and repository errors only:
 * ERR_INVALID (id is not 40 hex digits, or names an object that is not a commit),
 * ERR_NOTFOUND (no repository, no such object), ERR_FAIL (libgit2 failed) — a missing,
 * bad or unknown signature is a result, not an error.
 */
/* "SHA256:" and the unpadded base64 of a public key blob's SHA-256, as ssh-keygen -l
 * prints it (signers, and host keys in gitwatch/tree.c). Allocated. */
char *sigverify_fingerprint(const void *blob, size_t n);

int sigverify_commit(const struct allowed_signers *a, const char *repo_path, const char *id,
    enum sigverify_result *result, char **signer, char **why, struct err *err);
/*
 * What sigverify_commit() concludes about a raw commit object already read and checked
 * against its id (n bytes, the object's content without git's "commit <size>" header)
 * whose committer time is committer_time (epoch seconds): the same *result, *signer and
 * *why, with the same ownership. No I/O; it cannot fail.
 */
void sigverify_commit_object(const struct allowed_signers *a, const void *commit, size_t n,
    int64_t committer_time, enum sigverify_result *result, char **signer, char **why);

#endif
