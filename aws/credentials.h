/*
 * The AWS credential chain (lambda-api.md §9), first provider with credentials wins:
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   2. assume-role profile (role_arn + source_profile) through STS AssumeRole, signed
 *   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile's keys)
 *      through STS AssumeRoleWithWebIdentity
 *   4. shared credentials file, then config file ([default] / [profile x])
 *   5. ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)
 *   6. EC2 instance metadata, IMDSv2 with IMDSv1 fallback
 * The profile is the one asked for, else AWS_PROFILE, AWS_DEFAULT_PROFILE, "default".
 *
 * Temporary credentials are refreshed in the background from 15 minutes before they expire;
 * a failed refresh keeps the old ones until they expire. Every network step runs on the
 * loop through the http engine. Secrets are never logged.
 */
#ifndef TETHER_AWS_CREDENTIALS_H
#define TETHER_AWS_CREDENTIALS_H

#include <time.h>

#include <ev.h>

#include "aws/http.h"
#include "common/err.h"

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;  /* NULL for long-term keys */
	time_t expiration;    /* 0 when they do not expire */
	const char *provider; /* static: "env", "assume-role", "web-identity",
	                         "shared-credentials-file", "config-file", "container", "imds" */
};

struct credentials;
struct credentials_wait;

struct credentials_opts {
	const char *profile; /* NULL: from the environment, then "default" */
	const char *region;  /* for regional STS endpoints; NULL: from the environment/profile */
};

#define CREDENTIALS_OPTS_INIT \
	{                     \
		NULL, NULL    \
	}

/*
 * Credentials delivered to a waiter: borrowed, valid for the duration of the call. On
 * failure creds is NULL and err says why (ERR_AUTH when no provider had credentials).
 */
typedef void (*credentials_cb)(
    const struct aws_credentials *creds, const struct err *err, void *arg);

/*
 * Read the environment and the shared files once, and build the chain. Nothing is fetched
 * yet. Returns 0, or -1 with err filled (unreadable or malformed files).
 */
int credentials_new(struct credentials **out, struct ev_loop *loop, struct http_engine *http,
    const struct credentials_opts *opts, struct err *err);
void credentials_free(struct credentials *c);
/*
 * Credentials that are valid now, or NULL (not resolved yet, or expired). Borrowed: valid
 * until control returns to the loop. Starts a background refresh when they are within the
 * refresh window.
 */
const struct aws_credentials *credentials_peek(struct credentials *c);
/*
 * Deliver valid credentials to cb from the loop, resolving or refreshing them first if
 * needed. The handle is valid until cb has run or credentials_cancel().
 */
struct credentials_wait *credentials_get(struct credentials *c, credentials_cb cb, void *arg);
void credentials_cancel(struct credentials_wait *w);

#endif
