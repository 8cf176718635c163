/*
 * The least-privilege IAM policy for a desired state (`tether iam-policy`, docs/iam.md):
 * the Lambda actions tether calls for each function the repository manages, scoped to that
 * function's ARN (unqualified, or NAME:* where a call names a version), plus what Lambda
 * makes the caller hold to act on them: iam:PassRole on the roles the repository sets,
 * lambda:GetLayerVersion on the layers it attaches, ECR and S3 read access to the code.
 *
 * What each function needs follows from what it manages: a function in detect mode only
 * gets read actions, a suspended one nothing; UpdateFunctionConfiguration only when a
 * configuration field is managed, CreateFunction only when the document has what it takes
 * to create the function, DeleteFunction (on versions only) only with retain, and so on.
 * Pure: no I/O, no clock. The same spec gives the same document, byte for byte.
 */
#ifndef TETHER_CONTROLLER_IAM_POLICY_H
#define TETHER_CONTROLLER_IAM_POLICY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"
#include "reconcile/spec.h"

/* IAM's size limits, in characters without whitespace: an inline policy on a role, and a
 * customer managed policy. */
#define IAM_POLICY_INLINE_ROLE_MAX 10240
#define IAM_POLICY_MANAGED_MAX 6144

struct iam_policy_opts {
	/* The account (12 digits) of the functions declared by name; NULL: unknown. A
	 * function declared by ARN is in the ARN's account whatever this says. */
	const char *account;
};

#define IAM_POLICY_OPTS_INIT \
	{                    \
		NULL         \
	}

/*
 * Build the policy document for spec: {"Version": "2012-10-17", "Statement": [...]}. A
 * statement groups the actions that need exactly the same resources; statements come in a
 * fixed order of resource kinds (Lambda "*", functions, versions, layers, roles, images,
 * S3 objects), each kind's by action name, with Sids named after the kind ("LambdaFunctions",
 * "LambdaFunctions2", ...); actions and resources are sorted and each appears once.
 * opts may be NULL. On success *out is a new object owned by the caller (json_decref()).
 * Returns ERR_INVALID, *out NULL, when opts->account is not 12 digits, or when a function
 * that needs ARNs has no known account (the message names them).
 */
int iam_policy_build(
    json_t **out, const struct spec *spec, const struct iam_policy_opts *opts, struct err *err);

/*
 * Write the policy as IAM shows it: pretty-printed with a two-space indent and members in
 * document order, then a newline. Returns 0, or -1 when it cannot be written.
 */
int iam_policy_print(const json_t *policy, FILE *out);

/* The policy's size as IAM counts it against its limits: characters of the compact
 * document, without whitespace. */
size_t iam_policy_size(const json_t *policy);

#endif
