/*
 * Fuzz target "sshsig": SSH commit signatures (gitwatch/sigverify.h): the allowed_signers
 * parser, and the verification of a raw commit object: git's gpgsig header split, the
 * armor, the SSHSIG blob, the public key and signature encodings of ed25519, ECDSA and
 * RSA, and the signer lookup with its namespaces and validity times.
 *
 * Input: an allowed_signers file, a NUL byte, and a raw commit object (as `git cat-file
 * commit` prints it). Without a NUL byte, the whole input is the allowed_signers file and
 * only the parser runs. The commit's time is read from its committer line, as libgit2
 * would: so the seeds, real commits signed by ssh-keygen with their signers, verify GOOD,
 * and mutating the signers part explores the lookup behind a good signature.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "gitwatch/sigverify.h"
#include "tests/fuzz/fuzz.h"

/* The committer time: the second-to-last field of the first "committer " header line. */
static int64_t
committer_time(const uint8_t *d, size_t n)
{
	const uint8_t *p = d, *end = d + n, *nl, *gt;
	int64_t t = 0;

	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > 10 && memcmp(p, "committer ", 10) == 0) {
			gt = p;
			while (gt < nl && memchr(gt, '>', (size_t)(nl - gt)) != NULL)
				gt = (const uint8_t *)memchr(gt, '>', (size_t)(nl - gt)) + 1;
			while (gt < nl && *gt == ' ')
				gt++;
			while (gt < nl && *gt >= '0' && *gt <= '9' && t < INT64_MAX / 100)
				t = t * 10 + (*gt++ - '0');
			return t;
		}
		p = nl + 1;
	}
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t slen = nul != NULL ? (size_t)(nul - data) : size, clen;
	struct allowed_signers *a = NULL;
	enum sigverify_result result;
	struct err err = ERR_INIT;
	char *signers, *commit, *signer, *why;
	int rc;

	signers = fuzz_copy(data, slen);
	rc = allowed_signers_parse(&a, "allowed_signers", signers, slen, &err);
	if ((rc == 0) != (a != NULL))
		abort();
	if (rc == 0 && nul != NULL) {
		clen = size - slen - 1;
		commit = fuzz_copy(nul + 1, clen);
		sigverify_commit_object(
		    a, commit, clen, committer_time(nul + 1, clen), &result, &signer, &why);
		/* The contract: a signer for GOOD and UNKNOWN_KEY only, a reason for all but GOOD.
		 */
		if ((result == SIGVERIFY_GOOD) != (why == NULL) ||
		    (signer != NULL && result != SIGVERIFY_GOOD &&
		        result != SIGVERIFY_UNKNOWN_KEY) ||
		    (result == SIGVERIFY_GOOD && signer == NULL))
			abort();
		free(signer);
		free(why);
		free(commit);
	}
	allowed_signers_free(a);
	free(signers);
	return 0;
}
