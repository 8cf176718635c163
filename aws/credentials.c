/*
 * The credential chain. credentials_new() reads the environment and the shared files once
 * and decides, as botocore's providers would, where credentials come from: a "source"
 * (fixed keys, web identity, the container endpoint or instance metadata) followed by zero
 * or more AssumeRole steps (a role profile whose source_profile is itself a role profile
 * gives two). Every resolution and refresh runs that plan from the start, on the loop.
 *
 * Timing follows botocore's RefreshableCredentials: from 15 minutes before expiry a
 * background refresh runs (started by a timer, so a daemon refreshes without traffic) and a
 * failure keeps the old credentials; from 10 minutes before, callers wait for the refresh.
 * Waiters are always answered from an ev_timer, never from inside credentials_get(), and
 * the current credentials are only replaced from loop callbacks, so a pointer handed to a
 * waiter or returned by credentials_peek() stays valid until control returns to the loop.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/profile.h"
#include "aws/sigv4.h"
#include "aws/stsxml.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uri.h"
#include "common/xmalloc.h"

#define ADVISORY_S (15 * 60)  /* background refresh from this long before expiry */
#define MANDATORY_S (10 * 60) /* callers wait for the refresh from this long before */
#define REFRESH_MIN_S 30.0    /* credentials born inside the window: refresh no sooner */
#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 60.0
#define ROLE_CHAIN_MAX 16 /* source_profile hops */

#define STS_ATTEMPTS 3
#define STS_TIMEOUT_MS 20000
#define STS_CONNECT_TIMEOUT_MS 5000
#define STS_BODY_MAX (128 * 1024)
#define WEB_IDENTITY_TOKEN_MAX 20000 /* the model's limit on WebIdentityToken */

#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_ATTEMPTS 3
#define CONTAINER_RETRY_S 1.0
#define CONTAINER_RESPONSE_MAX (64 * 1024)
#define CONTAINER_TOKEN_MAX (16 * 1024)

#define IMDS_RESPONSE_MAX (64 * 1024)
#define IMDS_TOKEN_MAX 4096
#define IMDS_TOKEN_TTL "21600"
#define IMDS_CREDENTIALS_PATH "/latest/meta-data/iam/security-credentials/"
#define STABILITY_JITTER_MIN_S 120
#define STABILITY_JITTER_MAX_S 600

#define FIELD_MAX (16 * 1024) /* any one credential string */

enum source_kind {
	SOURCE_NONE, /* nothing in the chain has credentials */
	SOURCE_STATIC,
	SOURCE_WEB_IDENTITY,
	SOURCE_CONTAINER,
	SOURCE_IMDS,
};

struct role_step {
	char *profile;
	char *role_arn;
	char *session_name; /* NULL until first use when the profile sets none */
	char *external_id;
	long duration; /* 0: the STS default */
};

enum credentials_state {
	CREDENTIALS_EMPTY,      /* none yet, or the last resolution failed */
	CREDENTIALS_RESOLVING,  /* none yet, a fetch is in flight */
	CREDENTIALS_READY,      /* valid credentials, nothing in flight */
	CREDENTIALS_REFRESHING, /* valid credentials, a fetch is in flight */
	CREDENTIALS_RETRY_WAIT, /* valid credentials, the last refresh failed */
};

static const char *const credentials_state_names[] = {
    "empty", "resolving", "ready", "refreshing", "retry-wait"};

enum fetch_step {
	FETCH_IDLE,
	FETCH_STATIC, /* fixed keys, handed over from a timer */
	FETCH_WEB_IDENTITY,
	FETCH_CONTAINER,
	FETCH_IMDS_TOKEN,
	FETCH_IMDS_ROLE,
	FETCH_IMDS_CREDENTIALS,
	FETCH_ASSUME_ROLE,
};

struct wait_link {
	struct wait_link *prev, *next;
};

struct credentials_wait {
	struct wait_link link;
	struct credentials *c;
	credentials_cb cb;
	void *arg;
};

struct credentials {
	struct ev_loop *loop;
	struct http_engine *http;
	char *profile;

	/* The plan, fixed by credentials_new(). */
	enum source_kind kind;
	const char *source_name; /* provider name of the source */
	const char *provider;    /* what is reported: the source, or "assume-role" */
	char *role_source;       /* "credential_source X in profile P", for messages */
	struct aws_credentials fixed;
	char *wi_token_file;
	char *wi_role_arn;
	char *wi_session_name;
	char *container_url;
	char *container_token;
	char *container_token_file;
	char *imds_base;
	long imds_timeout_ms;
	int imds_attempts;
	struct role_step *roles;
	size_t nroles;
	struct endpoint sts;
	bool have_sts;
	char *checked; /* what was looked at, when the chain found nothing */

	/* What the chain produced. */
	enum credentials_state state;
	struct aws_credentials cur;
	bool have;
	double next_attempt; /* wall clock: no fetch for present credentials before this */
	int failures;
	struct err last_err;
	bool have_err;

	/* The one fetch in flight. */
	struct {
		enum fetch_step step;
		int attempt;
		size_t role; /* the next AssumeRole step */
		struct http_request *req;
		ev_timer delay;
		struct aws_credentials creds; /* what the previous step produced */
		char *imds_token;
		char *imds_role;
	} f;

	struct wait_link waiters;
	ev_timer deliver;
	ev_timer refresh;
	bool delivering; /* inside waiters' callbacks */
	bool closing;    /* credentials_free() was called from one of them */
};

static void credentials_destroy(struct credentials *c);

static void fetch_start(struct credentials *c);
static void fetch_fail(struct credentials *c, const struct err *e);

/* Small helpers. */

static double
now_s(void)
{
	return (double)timeutil_wall_ms() / 1000.0;
}

static double
random01(void)
{
	uint32_t r;

	crypto_random(&r, sizeof(r));
	return (double)r / 4294967296.0;
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
creds_clear(struct aws_credentials *a)
{
	free(a->access_key_id);
	wipe_free(a->secret_access_key);
	wipe_free(a->session_token);
	memset(a, 0, sizeof(*a));
}

static void
creds_move(struct aws_credentials *dst, struct aws_credentials *src)
{
	creds_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static void
creds_copy(struct aws_credentials *dst, const struct aws_credentials *src)
{
	creds_clear(dst);
	dst->access_key_id = xstrdup(src->access_key_id);
	dst->secret_access_key = xstrdup(src->secret_access_key);
	dst->session_token = src->session_token != NULL ? xstrdup(src->session_token) : NULL;
	dst->expiration = src->expiration;
	dst->provider = src->provider;
}

static void
fmt_time(time_t t, char out[21])
{
	if (t == 0) {
		memcpy(out, "never", 6);
		return;
	}
	timeutil_iso8601(t, out);
}

/* A credential string must be printable ASCII without spaces: it goes into headers. */
static int
check_field(const char *from, const char *what, const char *v, size_t max, struct err *err)
{
	size_t n, i;

	if (v == NULL || *v == '\0')
		return err_set(err, ERR_INVALID, "%s: %s is missing or empty", from, what);
	n = strlen(v);
	if (n > max)
		return err_set(
		    err, ERR_INVALID, "%s: %s is longer than %zu bytes", from, what, max);
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return err_set(err, ERR_INVALID,
			    "%s: %s has white space, a control character or a non-ASCII byte", from,
			    what);
	}
	return 0;
}

/*
 * Take the four fields of temporary or fixed credentials, check them and fill out. expiration
 * may be NULL (fixed keys). Nothing is kept on error.
 */
static int
creds_take(struct aws_credentials *out, const char *from, const char *akid, const char *secret,
    const char *token, const char *expiration, struct err *err)
{
	time_t exp = 0;

	memset(out, 0, sizeof(*out));
	if (check_field(from, "the access key id", akid, SIGV4_ACCESS_KEY_MAX, err) != 0 ||
	    check_field(from, "the secret access key", secret, FIELD_MAX, err) != 0)
		return ERR_INVALID;
	if (token != NULL && *token != '\0' &&
	    check_field(from, "the session token", token, FIELD_MAX, err) != 0)
		return ERR_INVALID;
	if (expiration != NULL && timeutil_parse_iso8601(expiration, &exp) != 0)
		return err_set(err, ERR_INVALID, "%s: expiration \"%.64s\" is not an ISO 8601 time",
		    from, expiration);
	out->access_key_id = xstrdup(akid);
	out->secret_access_key = xstrdup(secret);
	out->session_token = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
	out->expiration = exp;
	return 0;
}

/* Read a small file whole (token files). */
static int
read_small_file(const char *what, const char *path, size_t max, char **out, struct err *err)
{
	struct buf b = BUF_INIT(max);
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_AUTH, "%s %s: %s", what, path, strerror(errno));
	rc = fdio_read_all(fd, &b);
	if (rc == ERR_TOOBIG)
		rc = err_set(err, ERR_TOOBIG, "%s %s: larger than %zu bytes", what, path, max);
	else if (rc != 0)
		rc = err_set(err, ERR_AUTH, "%s %s: %s", what, path, strerror(errno));
	close(fd);
	if (rc == 0 && b.len > 0 && memchr(b.data, '\0', b.len) != NULL)
		rc = err_set(err, ERR_INVALID, "%s %s: NUL byte", what, path);
	if (rc == 0)
		*out = b.len > 0 ? buf_detach(&b, NULL) : xstrdup("");
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

/* State. */

static void
credentials_set_state(struct credentials *c, enum credentials_state s, const char *why)
{
	if (c->state == s)
		return;
	log_debug("credentials", "%s -> %s (%s)", credentials_state_names[c->state],
	    credentials_state_names[s], why);
	c->state = s;
}

static bool
refreshable(const struct credentials *c)
{
	return c->nroles > 0 || (c->kind != SOURCE_STATIC && c->kind != SOURCE_NONE);
}

static void
schedule_deliver(struct credentials *c)
{
	if (!ev_is_active(&c->deliver)) {
		ev_timer_set(&c->deliver, 0., 0.);
		ev_timer_start(c->loop, &c->deliver);
	}
}

/*
 * The refresh timer does not keep ev_run() going by itself (ev_unref), so that a command
 * that is done can return while its credentials still have an hour to live; libev's idiom
 * is ev_ref() before every stop, and in the callback of a one-shot timer it stopped.
 */
static void
refresh_stop(struct credentials *c)
{
	if (ev_is_active(&c->refresh)) {
		ev_ref(c->loop);
		ev_timer_stop(c->loop, &c->refresh);
	}
}

static void
schedule_refresh(struct credentials *c, double at)
{
	double delay = at - now_s();

	refresh_stop(c);
	ev_timer_set(&c->refresh, delay > 0 ? delay : 0., 0.);
	ev_timer_start(c->loop, &c->refresh);
	ev_unref(c->loop);
}

/* Building the plan (credentials_new). */

static bool
has_key(const struct profile_files *pf, const char *profile, const char *key)
{
	return profile_files_get(pf, profile, key) != NULL;
}

static bool
has_static(const struct profile_files *pf, const char *profile)
{
	return has_key(pf, profile, "aws_access_key_id") ||
	       has_key(pf, profile, "aws_secret_access_key");
}

static bool
has_role(const struct profile_files *pf, const char *profile)
{
	return has_key(pf, profile, "role_arn") && !has_key(pf, profile, "web_identity_token_file");
}

static int
plan_env(struct credentials *c, bool *found, struct err *err)
{
	const char *akid, *secret, *token, *exp;
	int rc;

	*found = false;
	akid = env_nonempty("AWS_ACCESS_KEY_ID");
	secret = env_nonempty("AWS_SECRET_ACCESS_KEY");
	if (akid == NULL && secret == NULL)
		return 0;
	if (akid == NULL || secret == NULL)
		return err_set(err, ERR_INVALID,
		    "partial credentials in the environment: %s is set but %s is not",
		    akid != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    akid != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	token = env_nonempty("AWS_SESSION_TOKEN");
	if (token == NULL)
		token = env_nonempty("AWS_SECURITY_TOKEN");
	exp = env_nonempty("AWS_CREDENTIAL_EXPIRATION");
	rc = creds_take(&c->fixed, "environment", akid, secret, token, exp, err);
	if (rc != 0)
		return rc;
	c->kind = SOURCE_STATIC;
	c->source_name = "env";
	*found = true;
	return 0;
}

/* Fixed keys in one file's profile section (SharedCredentialProvider, ConfigProvider). */
static int
plan_file(struct credentials *c, const struct profile_file *f, const char *profile, bool config,
    bool *found, struct err *err)
{
	const struct profile_section *s;
	const char *akid, *secret, *token;
	char *from;
	int rc;

	*found = false;
	s = profile_file_profile(f, profile, config);
	akid = profile_section_get(s, "aws_access_key_id");
	if (akid == NULL)
		return 0;
	from = xasprintf("%s [%s%s]", profile_file_path(f),
	    config && strcmp(profile, "default") != 0 ? "profile " : "", profile);
	secret = profile_section_get(s, "aws_secret_access_key");
	if (secret == NULL) {
		rc = err_set(err, ERR_INVALID,
		    "partial credentials in %s: aws_access_key_id without aws_secret_access_key",
		    from);
		free(from);
		return rc;
	}
	token = profile_section_get(s, "aws_session_token");
	if (token == NULL)
		token = profile_section_get(s, "aws_security_token");
	rc = creds_take(&c->fixed, from, akid, secret, token, NULL, err);
	free(from);
	if (rc != 0)
		return rc;
	c->kind = SOURCE_STATIC;
	c->source_name = config ? "config-file" : "shared-credentials-file";
	*found = true;
	return 0;
}

static bool
session_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 64)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr("_+=,.@-", s[i]) == NULL)
			return false;
	}
	return true;
}

static int
check_role_arn(const char *where, const char *arn, struct err *err)
{
	size_t i, n = strlen(arn);

	if (n < 20 || n > 2048)
		return err_set(
		    err, ERR_INVALID, "%s: role_arn \"%.100s\" is not a role ARN", where, arn);
	for (i = 0; i < n; i++) {
		if ((unsigned char)arn[i] <= 0x20 || (unsigned char)arn[i] >= 0x7f)
			return err_set(err, ERR_INVALID, "%s: role_arn has white space", where);
	}
	return 0;
}

static int
plan_web_identity(struct credentials *c, const struct profile_files *pf, const char *profile,
    bool use_env, bool *found, struct err *err)
{
	const char *file = NULL, *arn = NULL, *name = NULL;

	*found = false;
	if (use_env)
		file = env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
	if (file == NULL)
		file = profile_files_get(pf, profile, "web_identity_token_file");
	if (file == NULL || *file == '\0')
		return 0;
	if (use_env)
		arn = env_nonempty("AWS_ROLE_ARN");
	if (arn == NULL)
		arn = profile_files_get(pf, profile, "role_arn");
	if (arn == NULL || *arn == '\0')
		return err_set(err, ERR_INVALID,
		    "web identity is configured (token file %s) but no role ARN: set AWS_ROLE_ARN "
		    "or the profile's role_arn",
		    file);
	if (check_role_arn("web identity", arn, err) != 0)
		return ERR_INVALID;
	if (use_env)
		name = env_nonempty("AWS_ROLE_SESSION_NAME");
	if (name == NULL)
		name = profile_files_get(pf, profile, "role_session_name");
	if (name != NULL && !session_name_valid(name))
		return err_set(err, ERR_INVALID,
		    "role session name \"%.80s\" must be 2-64 characters of [A-Za-z0-9_+=,.@-]",
		    name);
	c->kind = SOURCE_WEB_IDENTITY;
	c->source_name = "web-identity";
	c->wi_token_file = profile_expand_path(file);
	c->wi_role_arn = xstrdup(arn);
	c->wi_session_name = name != NULL ? xstrdup(name) : NULL;
	*found = true;
	return 0;
}

static int
plan_container(struct credentials *c, bool *found, struct err *err)
{
	const char *rel, *full, *tok, *tokfile;
	int rc;

	*found = false;
	rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel == NULL && full == NULL)
		return 0;
	rc = endpoint_container_url(&c->container_url, rel, full, err);
	if (rc != 0)
		return rc;
	tokfile = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (tokfile != NULL) {
		c->container_token_file = xstrdup(tokfile);
	} else if (tok != NULL) {
		if (strpbrk(tok, "\r\n") != NULL)
			return err_set(err, ERR_INVALID,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a CR or LF");
		c->container_token = xstrdup(tok);
	}
	c->kind = SOURCE_CONTAINER;
	c->source_name = "container";
	*found = true;
	return 0;
}

static int
parse_positive(const char *what, const char *v, long max, long *out, struct err *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > max)
		return err_set(err, ERR_INVALID,
		    "%s \"%.40s\" must be a whole number from 1 to %ld", what, v, max);
	*out = n;
	return 0;
}

static const char *
setting(const struct profile_files *pf, const char *profile, const char *env, const char *key)
{
	const char *v = env_nonempty(env);

	return v != NULL ? v : profile_files_get(pf, profile, key);
}

static int
plan_imds(struct credentials *c, const struct profile_files *pf, const char *profile, bool *found,
    struct err *err)
{
	const char *v;
	long n;
	int rc;

	*found = false;
	v = getenv("AWS_EC2_METADATA_DISABLED");
	if (v != NULL && strcasecmp(v, "true") == 0)
		return 0;
	rc = endpoint_imds_base(&c->imds_base,
	    setting(
	        pf, profile, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint"),
	    setting(pf, profile, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
	        "ec2_metadata_service_endpoint_mode"),
	    err);
	if (rc != 0)
		return rc;
	c->imds_timeout_ms = 1000;
	c->imds_attempts = 1;
	v = setting(pf, profile, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout");
	if (v != NULL) {
		if (parse_positive("metadata_service_timeout", v, 3600, &n, err) != 0)
			return ERR_INVALID;
		c->imds_timeout_ms = n * 1000;
	}
	v = setting(
	    pf, profile, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts");
	if (v != NULL) {
		if (parse_positive("metadata_service_num_attempts", v, 100, &n, err) != 0)
			return ERR_INVALID;
		c->imds_attempts = (int)n;
	}
	c->kind = SOURCE_IMDS;
	c->source_name = "imds";
	*found = true;
	return 0;
}

static int
role_step_add(
    struct credentials *c, const struct profile_files *pf, const char *profile, struct err *err)
{
	struct role_step s;
	const char *arn, *name, *ext, *dur;
	char *where;
	size_t i;
	int rc = ERR_INVALID;

	memset(&s, 0, sizeof(s));
	where = xasprintf("profile \"%s\"", profile);
	arn = profile_files_get(pf, profile, "role_arn");
	name = profile_files_get(pf, profile, "role_session_name");
	ext = profile_files_get(pf, profile, "external_id");
	dur = profile_files_get(pf, profile, "duration_seconds");
	if (profile_files_get(pf, profile, "mfa_serial") != NULL) {
		err_set(err, ERR_INVALID,
		    "%s: mfa_serial needs an MFA code typed at a terminal, which tether cannot ask "
		    "for",
		    where);
		goto out;
	}
	if (check_role_arn(where, arn, err) != 0)
		goto out;
	if (name != NULL && !session_name_valid(name)) {
		err_set(err, ERR_INVALID,
		    "%s: role_session_name must be 2-64 characters of [A-Za-z0-9_+=,.@-]", where);
		goto out;
	}
	if (ext != NULL) {
		for (i = 0; ext[i] != '\0'; i++) {
			if (!isalnum((unsigned char)ext[i]) && strchr("_+=,.@:/-", ext[i]) == NULL)
				break;
		}
		if (ext[i] != '\0' || i < 2 || i > 1224) {
			err_set(err, ERR_INVALID,
			    "%s: external_id must be 2-1224 characters of [A-Za-z0-9_+=,.@:/-]",
			    where);
			goto out;
		}
	}
	if (dur != NULL && parse_positive("duration_seconds", dur, 43200, &s.duration, err) != 0)
		goto out;
	if (dur != NULL && s.duration < 900) {
		err_set(err, ERR_INVALID, "%s: duration_seconds must be from 900 to 43200", where);
		goto out;
	}
	if (c->nroles == ROLE_CHAIN_MAX) {
		err_set(err, ERR_INVALID, "%s: more than %d roles in the source_profile chain",
		    where, ROLE_CHAIN_MAX);
		goto out;
	}
	s.profile = xstrdup(profile);
	s.role_arn = xstrdup(arn);
	s.session_name = name != NULL ? xstrdup(name) : NULL;
	s.external_id = ext != NULL ? xstrdup(ext) : NULL;
	c->roles = xreallocarray(c->roles, c->nroles + 1, sizeof(*c->roles));
	c->roles[c->nroles++] = s;
	rc = 0;
out:
	free(where);
	return rc;
}

/* botocore's AssumeRoleProvider._load_creds_via_assume_role, planned instead of run. */
static int
plan_role(struct credentials *c, const struct profile_files *pf, const char *profile,
    const char **visited, size_t *nvisited, struct err *err)
{
	const char *sp, *cs;
	bool found = false;
	size_t i;
	int rc;

	sp = profile_files_get(pf, profile, "source_profile");
	cs = profile_files_get(pf, profile, "credential_source");
	if (sp != NULL && cs != NULL)
		return err_set(err, ERR_INVALID,
		    "profile \"%s\" has both source_profile and credential_source", profile);
	if (sp == NULL && cs == NULL)
		return err_set(err, ERR_INVALID,
		    "profile \"%s\" has role_arn but neither source_profile nor credential_source",
		    profile);
	if (cs != NULL) {
		c->role_source = xasprintf("credential_source %s in profile \"%s\"", cs, profile);
		if (strcasecmp(cs, "Environment") == 0) {
			rc = plan_env(c, &found, err);
		} else if (strcasecmp(cs, "Ec2InstanceMetadata") == 0) {
			rc = plan_imds(c, pf, profile, &found, err);
		} else if (strcasecmp(cs, "EcsContainer") == 0) {
			rc = plan_container(c, &found, err);
		} else {
			return err_set(err, ERR_INVALID,
			    "profile \"%s\": credential_source \"%.60s\" is not valid; expected "
			    "Environment, Ec2InstanceMetadata or EcsContainer",
			    profile, cs);
		}
		if (rc != 0)
			return rc;
		if (!found)
			return err_set(
			    err, ERR_INVALID, "no credentials found in %s", c->role_source);
		return role_step_add(c, pf, profile, err);
	}
	if (!profile_files_has(pf, sp))
		return err_set(err, ERR_INVALID,
		    "the source_profile \"%s\" referenced in profile \"%s\" does not exist", sp,
		    profile);
	for (i = 0; i < *nvisited; i++) {
		if (strcmp(visited[i], sp) != 0)
			continue;
		/* A profile may name itself to take fixed keys from its own section. */
		if (strcmp(sp, profile) == 0 && has_static(pf, sp))
			break;
		return err_set(err, ERR_INVALID,
		    "infinite loop in the source_profile chain: profile \"%s\" is visited twice",
		    sp);
	}
	if (*nvisited == ROLE_CHAIN_MAX)
		return err_set(err, ERR_INVALID,
		    "more than %d profiles in the source_profile chain", ROLE_CHAIN_MAX);
	visited[(*nvisited)++] = sp;
	if (has_static(pf, sp) || !has_role(pf, sp)) {
		/* The source profile's own providers, environment variables disabled. */
		rc = plan_web_identity(c, pf, sp, false, &found, err);
		if (rc == 0 && !found)
			rc = plan_file(c, profile_files_credentials(pf), sp, false, &found, err);
		if (rc == 0 && !found)
			rc = plan_file(c, profile_files_config(pf), sp, true, &found, err);
		if (rc != 0)
			return rc;
		if (!found)
			return err_set(err, ERR_INVALID,
			    "the source_profile \"%s\" (referenced in profile \"%s\") has no "
			    "credentials",
			    sp, profile);
	} else {
		rc = plan_role(c, pf, sp, visited, nvisited, err);
		if (rc != 0)
			return rc;
	}
	return role_step_add(c, pf, profile, err);
}

static int
plan_chain(
    struct credentials *c, const struct profile_files *pf, bool explicit_profile, struct err *err)
{
	const char *visited[ROLE_CHAIN_MAX];
	size_t nvisited = 1;
	bool found = false;
	int rc;

	/* An explicitly chosen profile disables the environment (create_credential_resolver). */
	if (!explicit_profile) {
		rc = plan_env(c, &found, err);
		if (rc != 0 || found)
			return rc;
	}
	if (has_role(pf, c->profile)) {
		visited[0] = c->profile;
		rc = plan_role(c, pf, c->profile, visited, &nvisited, err);
		if (rc == 0)
			c->provider = "assume-role";
		return rc;
	}
	rc = plan_web_identity(c, pf, c->profile, !explicit_profile, &found, err);
	if (rc == 0 && !found)
		rc = plan_file(c, profile_files_credentials(pf), c->profile, false, &found, err);
	if (rc == 0 && !found)
		rc = plan_file(c, profile_files_config(pf), c->profile, true, &found, err);
	if (rc == 0 && !found)
		rc = plan_container(c, &found, err);
	if (rc == 0 && !found)
		rc = plan_imds(c, pf, c->profile, &found, err);
	if (rc != 0)
		return rc;
	if (!found) {
		c->kind = SOURCE_NONE;
		c->source_name = "none";
		c->checked = xasprintf("environment, profile \"%s\" in %s and %s, container "
		                       "(not configured), instance metadata (disabled)",
		    c->profile, profile_file_path(profile_files_config(pf)),
		    profile_file_path(profile_files_credentials(pf)));
	}
	return 0;
}

/* The fetch: one run of the plan. */

static int start_request(struct credentials *c, const char *method, const char *url,
    const char *const *headers, size_t nheaders, const struct buf *body, long timeout_ms,
    long connect_ms, size_t max, bool no_proxy, struct err *err);

static void
fetch_reset(struct credentials *c)
{
	if (c->f.req != NULL) {
		http_request_cancel(c->f.req);
		c->f.req = NULL;
	}
	ev_timer_stop(c->loop, &c->f.delay);
	creds_clear(&c->f.creds);
	wipe_free(c->f.imds_token);
	c->f.imds_token = NULL;
	free(c->f.imds_role);
	c->f.imds_role = NULL;
	c->f.step = FETCH_IDLE;
	c->f.attempt = 0;
	c->f.role = 0;
}

static void
fetch_delay(struct credentials *c, double seconds)
{
	ev_timer_stop(c->loop, &c->f.delay);
	ev_timer_set(&c->f.delay, seconds > 0 ? seconds : 0., 0.);
	ev_timer_start(c->loop, &c->f.delay);
}

static void
finish_ok(struct credentials *c, struct aws_credentials *got)
{
	char exp_s[21], real_s[21];
	double now = now_s(), at, window;
	bool refreshed = c->have;
	int jitter;

	got->provider = c->provider;
	if (c->kind == SOURCE_IMDS && c->nroles == 0 && got->expiration != 0) {
		/*
		 * Static stability (InstanceMetadataFetcher._evaluate_expiration): during an
		 * outage IMDS keeps handing out the last credentials, expired ones included, and
		 * they are used for a while instead of refused.
		 */
		jitter = STABILITY_JITTER_MIN_S +
		         (int)(random01() * (STABILITY_JITTER_MAX_S - STABILITY_JITTER_MIN_S + 1));
		window = ADVISORY_S + jitter;
		if (now >= (double)got->expiration - window) {
			fmt_time(got->expiration, real_s);
			got->expiration = (time_t)(now + window);
			fmt_time(got->expiration, exp_s);
			log_info("credentials",
			    "imds: credentials expire at %s, inside the refresh window; using them "
			    "until %s (static stability) and refreshing again in about %d min",
			    real_s, exp_s, (jitter + 59) / 60);
		}
	}
	if (got->expiration != 0 && (double)got->expiration <= now) {
		struct err e = ERR_INIT;

		fmt_time(got->expiration, exp_s);
		err_set(&e, ERR_AUTH, "credentials from %s expired at %s when they arrived",
		    c->provider, exp_s);
		creds_clear(got);
		fetch_fail(c, &e);
		return;
	}
	fetch_reset(c);
	creds_move(&c->cur, got);
	c->have = true;
	c->failures = 0;
	c->have_err = false;
	err_clear(&c->last_err);
	fmt_time(c->cur.expiration, exp_s);
	log_info("credentials", "%s provider=%s access_key_id=%s expires=%s",
	    refreshed ? "refreshed" : "resolved", c->provider, c->cur.access_key_id, exp_s);
	at = now;
	if (c->cur.expiration != 0 && refreshable(c)) {
		at = (double)c->cur.expiration - ADVISORY_S;
		if (at <= now) {
			/* Born inside the window: refresh at the mandatory mark, not in a loop. */
			at = (double)c->cur.expiration - MANDATORY_S;
			if (at < now + REFRESH_MIN_S)
				at = now + REFRESH_MIN_S;
		}
		schedule_refresh(c, at);
	} else {
		refresh_stop(c);
	}
	c->next_attempt = at;
	credentials_set_state(c, CREDENTIALS_READY, refreshed ? "refreshed" : "resolved");
	schedule_deliver(c);
}

static void
fetch_fail(struct credentials *c, const struct err *e)
{
	char exp_s[21];
	double now = now_s(), backoff;
	int i;

	fetch_reset(c);
	c->failures++;
	backoff = BACKOFF_MIN_S;
	for (i = 1; i < c->failures && backoff < BACKOFF_MAX_S; i++)
		backoff *= 2;
	if (backoff > BACKOFF_MAX_S)
		backoff = BACKOFF_MAX_S;
	backoff *= 0.5 + random01() / 2; /* equal jitter */
	c->next_attempt = now + backoff;
	err_copy(&c->last_err, e);
	c->have_err = true;
	if (c->have && (c->cur.expiration == 0 || (double)c->cur.expiration > now)) {
		fmt_time(c->cur.expiration, exp_s);
		log_warn("credentials",
		    "refresh failed provider=%s: %s; keeping credentials that expire at %s, next "
		    "attempt in %.1f s",
		    c->provider, e->message, exp_s, backoff);
		if (refreshable(c))
			schedule_refresh(c, c->next_attempt);
		credentials_set_state(c, CREDENTIALS_RETRY_WAIT, "refresh failed");
	} else if (c->have) {
		fmt_time(c->cur.expiration, exp_s);
		log_warn("credentials",
		    "refresh failed provider=%s: %s; the credentials expired at %s", c->provider,
		    e->message, exp_s);
		creds_clear(&c->cur);
		c->have = false;
		c->last_err.code = ERR_AUTH;
		refresh_stop(c);
		credentials_set_state(c, CREDENTIALS_EMPTY, "expired and the refresh failed");
	} else {
		log_warn(
		    "credentials", "resolution failed provider=%s: %s", c->provider, e->message);
		credentials_set_state(c, CREDENTIALS_EMPTY, "resolution failed");
	}
	schedule_deliver(c);
}

static void sts_send(struct credentials *c);

/* A step produced credentials: assume the next role with them, or finish. */
static void
fetch_got(struct credentials *c, struct aws_credentials *got)
{
	creds_move(&c->f.creds, got);
	if (c->f.role < c->nroles) {
		c->f.step = FETCH_ASSUME_ROLE;
		c->f.attempt = 0;
		sts_send(c);
		return;
	}
	{
		struct aws_credentials final = c->f.creds;

		memset(&c->f.creds, 0, sizeof(c->f.creds));
		finish_ok(c, &final);
		creds_clear(&final);
	}
}

/* STS. */

static int
form_put(struct buf *b, const char *key, const char *value)
{
	if (b->len > 0 && buf_putc(b, '&') != 0)
		return -1;
	if (buf_puts(b, key) != 0 || buf_putc(b, '=') != 0)
		return -1;
	return uri_encode(b, value, strlen(value), false);
}

static const char *
sts_action(const struct credentials *c)
{
	return c->f.step == FETCH_WEB_IDENTITY ? "AssumeRoleWithWebIdentity" : "AssumeRole";
}

static const char *
sts_role(const struct credentials *c)
{
	return c->f.step == FETCH_WEB_IDENTITY ? c->wi_role_arn : c->roles[c->f.role].role_arn;
}

static void
sts_send(struct credentials *c)
{
	static const struct sigv4_header form = {
	    "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
	struct buf body = BUF_INIT(STS_BODY_MAX);
	struct sigv4_credentials sc;
	struct sigv4_sign_opts so;
	struct sigv4_signed sig = {{NULL}, 0};
	struct role_step *step = NULL;
	struct err err = ERR_INIT;
	char dur[24];
	char *token = NULL, *url = NULL, *form_h = NULL, *host_h = NULL, **session;
	const char *headers[SIGV4_EXTRA_HEADERS_MAX + 4];
	size_t nh = 0, i;
	bool wi = c->f.step == FETCH_WEB_IDENTITY;
	int rc = 0;

	if (wi) {
		rc = read_small_file("web identity token file", c->wi_token_file,
		    WEB_IDENTITY_TOKEN_MAX, &token, &err);
		if (rc == 0 && strlen(token) < 4)
			rc = err_set(&err, ERR_AUTH, "web identity token file %s is empty",
			    c->wi_token_file);
		if (rc != 0)
			goto out;
		session = &c->wi_session_name;
	} else {
		step = &c->roles[c->f.role];
		session = &step->session_name;
	}
	if (*session == NULL)
		*session = xasprintf("botocore-session-%lld", (long long)time(NULL));
	rc = form_put(&body, "Action", sts_action(c));
	rc |= form_put(&body, "Version", "2011-06-15");
	rc |= form_put(&body, "RoleArn", sts_role(c));
	rc |= form_put(&body, "RoleSessionName", *session);
	if (wi) {
		rc |= form_put(&body, "WebIdentityToken", token);
	} else {
		if (step->duration > 0) {
			snprintf(dur, sizeof(dur), "%ld", step->duration);
			rc |= form_put(&body, "DurationSeconds", dur);
		}
		if (step->external_id != NULL)
			rc |= form_put(&body, "ExternalId", step->external_id);
	}
	if (rc != 0) {
		rc = err_set(&err, ERR_TOOBIG, "sts: %s request larger than %d bytes",
		    sts_action(c), STS_BODY_MAX);
		goto out;
	}
	url = xasprintf("%s/", c->sts.url);
	/* The Host that sigv4_sign_url() signs: url_parse() of url gives this authority. */
	host_h = xasprintf("Host: %s", c->sts.parts.authority);
	headers[nh++] = host_h;
	if (wi) {
		form_h = xasprintf("%s: %s", form.name, form.value);
		headers[nh++] = form_h;
	} else {
		/* AssumeRole is signed with what the previous step produced. */
		sc = (struct sigv4_credentials){c->f.creds.access_key_id,
		    c->f.creds.secret_access_key, c->f.creds.session_token};
		so = (struct sigv4_sign_opts){.method = "POST",
		    .url = url,
		    .headers = &form,
		    .nheaders = 1,
		    .body = body.data,
		    .len = body.len,
		    .creds = &sc,
		    .region = c->sts.region,
		    .service = "sts",
		    .now = time(NULL)};
		rc = sigv4_sign_url(&so, &sig, &err);
		if (rc != 0)
			goto out;
		for (i = 0; i < sig.nlines; i++)
			headers[nh++] = sig.lines[i];
	}
	log_debug("credentials", "sts: %s role=%s endpoint=%s attempt=%d", sts_action(c),
	    sts_role(c), c->sts.url, c->f.attempt + 1);
	rc = start_request(c, "POST", url, headers, nh, &body, STS_TIMEOUT_MS,
	    STS_CONNECT_TIMEOUT_MS, STSXML_INPUT_MAX, false, &err);
out:
	if (body.data != NULL)
		explicit_bzero(body.data, body.len);
	buf_free(&body);
	sigv4_signed_free(&sig);
	wipe_free(token);
	free(url);
	free(form_h);
	free(host_h);
	if (rc != 0)
		fetch_fail(c, &err);
}

static const char *const sts_retryable_codes[] = {"Throttling", "ThrottlingException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "RequestTimeout", "RequestTimeoutException",
    "PriorRequestNotComplete", "IDPCommunicationError", "InternalError", "ServiceUnavailable"};

static const char *const sts_auth_codes[] = {"AccessDenied", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidIdentityToken",
    "IDPRejectedClaim", "UnrecognizedClientException", "RegionDisabledException"};

static bool
code_in(const char *code, const char *const *codes, size_t n)
{
	size_t i;

	for (i = 0; code != NULL && i < n; i++) {
		if (strcmp(code, codes[i]) == 0)
			return true;
	}
	return false;
}

static void
sts_retry_or_fail(struct credentials *c, const struct err *e)
{
	double delay;

	if (++c->f.attempt < STS_ATTEMPTS) {
		/* Full jitter, base 2 (the SDKs' standard mode). */
		delay = random01() * (double)(1 << (c->f.attempt - 1));
		log_debug("credentials", "sts: %s: %s; retrying in %.2f s", sts_action(c),
		    e->message, delay);
		fetch_delay(c, delay);
		return;
	}
	fetch_fail(c, e);
}

static void
sts_done(struct credentials *c, const struct http_response *resp, const struct err *herr)
{
	struct stsxml_credentials sc;
	struct stsxml_error se;
	struct aws_credentials got;
	struct err e = ERR_INIT;
	const char *action = sts_action(c), *rid;
	char *from;
	int code;

	if (herr != NULL) {
		err_set(&e, herr->code == ERR_TOOBIG ? ERR_TOOBIG : ERR_TRANSIENT, "sts: %s %s: %s",
		    action, c->sts.url, herr->message);
		if (herr->code == ERR_TOOBIG)
			fetch_fail(c, &e);
		else
			sts_retry_or_fail(c, &e);
		return;
	}
	log_debug("credentials", "sts: %s status=%ld", action, resp->status);
	if (resp->status == 200) {
		if (stsxml_parse_credentials(resp->body.data != NULL ? resp->body.data : "",
		        resp->body.len, action, &sc, &e) != 0) {
			fetch_fail(c, &e);
			return;
		}
		from = xasprintf("sts: %s %s", action, sts_role(c));
		code = creds_take(&got, from, sc.access_key_id, sc.secret_access_key,
		    sc.session_token, sc.expiration, &e);
		free(from);
		stsxml_credentials_free(&sc);
		if (code != 0) {
			fetch_fail(c, &e);
			return;
		}
		if (c->f.step == FETCH_ASSUME_ROLE)
			c->f.role++;
		fetch_got(c, &got);
		creds_clear(&got);
		return;
	}
	memset(&se, 0, sizeof(se));
	if (stsxml_parse_error(
	        resp->body.data != NULL ? resp->body.data : "", resp->body.len, &se, NULL) != 0)
		memset(&se, 0, sizeof(se));
	if (resp->status >= 500 || resp->status == 429 ||
	    code_in(se.code, sts_retryable_codes, nitems(sts_retryable_codes)))
		code = resp->status == 429 || (se.code != NULL && strstr(se.code, "hrottl") != NULL)
		           ? ERR_THROTTLED
		           : ERR_TRANSIENT;
	else if (resp->status == 401 || resp->status == 403 ||
	         code_in(se.code, sts_auth_codes, nitems(sts_auth_codes)))
		code = ERR_AUTH;
	else
		code = ERR_INVALID;
	err_set(&e, code, "sts: %s %s: HTTP %ld %s: %.200s", action, sts_role(c), resp->status,
	    se.code != NULL ? se.code : "(no error code)", se.message != NULL ? se.message : "");
	e.http_status = resp->status;
	if (se.code != NULL)
		err_set_type(&e, se.code);
	rid =
	    se.request_id != NULL ? se.request_id : http_response_header(resp, "x-amzn-requestid");
	if (rid != NULL)
		err_set_request_id(&e, rid);
	stsxml_error_free(&se);
	if (code == ERR_TRANSIENT || code == ERR_THROTTLED)
		sts_retry_or_fail(c, &e);
	else
		fetch_fail(c, &e);
}

/* Container credentials. */

static void
container_send(struct credentials *c)
{
	struct err err = ERR_INIT;
	char *token = NULL, *auth_h = NULL;
	const char *headers[2];
	size_t nh = 0;
	int rc = 0;

	headers[nh++] = "Accept: application/json";
	if (c->container_token_file != NULL) {
		/* Re-read every time: the agent rotates it. */
		rc = read_small_file("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		    c->container_token_file, CONTAINER_TOKEN_MAX, &token, &err);
		if (rc == 0 && strpbrk(token, "\r\n") != NULL)
			rc = err_set(&err, ERR_INVALID,
			    "container authorization token file %s: the "
			    "token contains a CR or LF",
			    c->container_token_file);
		if (rc != 0)
			goto out;
		auth_h = xasprintf("Authorization: %s", token);
	} else if (c->container_token != NULL) {
		auth_h = xasprintf("Authorization: %s", c->container_token);
	}
	if (auth_h != NULL)
		headers[nh++] = auth_h;
	log_debug(
	    "credentials", "container: GET %s attempt=%d", c->container_url, c->f.attempt + 1);
	rc = start_request(c, "GET", c->container_url, headers, nh, NULL, CONTAINER_TIMEOUT_MS,
	    CONTAINER_TIMEOUT_MS, CONTAINER_RESPONSE_MAX, true, &err);
out:
	wipe_free(token);
	wipe_free(auth_h);
	if (rc != 0)
		fetch_fail(c, &err);
}

static const char *
json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
container_done(struct credentials *c, const struct http_response *resp, const struct err *herr)
{
	struct aws_credentials got;
	struct err e = ERR_INIT;
	json_t *doc = NULL;
	int rc;

	if (herr != NULL) {
		err_set(&e, ERR_TRANSIENT, "container credentials %s: %s", c->container_url,
		    herr->message);
	} else if (resp->status != 200) {
		err_set(&e, resp->status == 401 || resp->status == 403 ? ERR_AUTH : ERR_TRANSIENT,
		    "container credentials %s: HTTP %ld", c->container_url, resp->status);
		e.http_status = resp->status;
	} else {
		doc = json_loadb(resp->body.data != NULL ? resp->body.data : "", resp->body.len,
		    JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(doc))
			err_set(&e, ERR_TRANSIENT,
			    "container credentials %s: the response is not a "
			    "JSON object",
			    c->container_url);
	}
	log_debug("credentials", "container: status=%ld", resp != NULL ? resp->status : 0L);
	if (e.code != 0) {
		json_decref(doc);
		if (++c->f.attempt < CONTAINER_ATTEMPTS) {
			log_debug("credentials", "container: %s; retrying in %.0f s", e.message,
			    CONTAINER_RETRY_S);
			fetch_delay(c, CONTAINER_RETRY_S);
			return;
		}
		fetch_fail(c, &e);
		return;
	}
	rc = creds_take(&got, "container credentials", json_str(doc, "AccessKeyId"),
	    json_str(doc, "SecretAccessKey"), json_str(doc, "Token"), json_str(doc, "Expiration"),
	    &e);
	if (rc == 0 && got.expiration == 0) {
		creds_clear(&got);
		rc = err_set(&e, ERR_INVALID, "container credentials: Expiration is missing");
	}
	json_decref(doc);
	if (rc != 0) {
		fetch_fail(c, &e);
		return;
	}
	fetch_got(c, &got);
	creds_clear(&got);
}

/* Instance metadata. */

static void imds_send(struct credentials *c);

/* IMDS had nothing: as the last provider that is "no credentials", as a source an error. */
static void
imds_none(struct credentials *c, const char *reason)
{
	struct err e = ERR_INIT;

	if (c->role_source != NULL)
		err_set(&e, ERR_AUTH, "no credentials found in %s: instance metadata: %s",
		    c->role_source, reason);
	else
		err_set(&e, ERR_AUTH,
		    "no credentials found (environment, shared files and container have none; "
		    "instance metadata: %s)",
		    reason);
	fetch_fail(c, &e);
}

static void
imds_send(struct credentials *c)
{
	struct err err = ERR_INIT;
	char *url = NULL, *tok_h = NULL;
	const char *headers[1];
	const char *method = "GET";
	size_t nh = 0;
	int rc;

	switch (c->f.step) {
	case FETCH_IMDS_TOKEN:
		method = "PUT";
		url = xasprintf("%s/latest/api/token", c->imds_base);
		headers[nh++] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL;
		break;
	case FETCH_IMDS_ROLE:
		url = xasprintf("%s%s", c->imds_base, IMDS_CREDENTIALS_PATH);
		break;
	case FETCH_IMDS_CREDENTIALS:
		url = xasprintf("%s%s%s", c->imds_base, IMDS_CREDENTIALS_PATH, c->f.imds_role);
		break;
	default:
		abort();
	}
	if (c->f.step != FETCH_IMDS_TOKEN && c->f.imds_token != NULL) {
		tok_h = xasprintf("X-aws-ec2-metadata-token: %s", c->f.imds_token);
		headers[nh++] = tok_h;
	}
	log_debug("credentials", "imds: %s %s attempt=%d", method, url, c->f.attempt + 1);
	rc = start_request(c, method, url, headers, nh, NULL, c->imds_timeout_ms,
	    c->imds_timeout_ms, IMDS_RESPONSE_MAX, true, &err);
	free(url);
	wipe_free(tok_h);
	if (rc != 0)
		fetch_fail(c, &err);
}

static bool
imds_role_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr("_+=,.@-", s[i]) == NULL)
			return false;
	}
	return true;
}

static void
imds_next(struct credentials *c, enum fetch_step step)
{
	c->f.step = step;
	c->f.attempt = 0;
	imds_send(c);
}

/* Another attempt of the same request, or give up with reason. */
static void
imds_retry(struct credentials *c, const char *reason)
{
	if (++c->f.attempt < c->imds_attempts) {
		imds_send(c);
		return;
	}
	if (c->f.step == FETCH_IMDS_TOKEN) {
		/* No token after every attempt: go on without one (IMDSv1). */
		log_debug("credentials", "imds: no token (%s); trying IMDSv1", reason);
		imds_next(c, FETCH_IMDS_ROLE);
		return;
	}
	imds_none(c, reason);
}

static void
imds_done(struct credentials *c, const struct http_response *resp, const struct err *herr)
{
	struct aws_credentials got;
	struct err e = ERR_INIT;
	const char *body, *code;
	size_t n;
	json_t *doc;
	char why[128];
	int rc;

	if (herr != NULL) {
		imds_retry(c, herr->message);
		return;
	}
	body = resp->body.data != NULL ? resp->body.data : "";
	log_debug("credentials", "imds: status=%ld", resp->status);
	switch (c->f.step) {
	case FETCH_IMDS_TOKEN:
		if (resp->status == 200) {
			n = resp->body.len;
			if (n == 0 || n > IMDS_TOKEN_MAX ||
			    check_field("imds", "the token", body, IMDS_TOKEN_MAX, NULL) != 0) {
				imds_none(c, "the token response is malformed");
				return;
			}
			c->f.imds_token = xstrndup(body, n);
			imds_next(c, FETCH_IMDS_ROLE);
		} else if (resp->status == 403 || resp->status == 404 || resp->status == 405) {
			log_debug("credentials", "imds: token request got %ld; trying IMDSv1",
			    resp->status);
			imds_next(c, FETCH_IMDS_ROLE);
		} else if (resp->status == 400) {
			imds_none(c, "the token request was refused (HTTP 400)");
		} else {
			snprintf(why, sizeof(why), "token request got HTTP %ld", resp->status);
			imds_retry(c, why);
		}
		return;
	case FETCH_IMDS_ROLE:
		if (resp->status != 200 || resp->body.len == 0) {
			snprintf(why, sizeof(why), "no role: HTTP %ld%s", resp->status,
			    resp->body.len == 0 ? " with an empty body" : "");
			imds_retry(c, why);
			return;
		}
		n = strcspn(body, "\r\n");
		while (n > 0 && (body[n - 1] == ' ' || body[n - 1] == '\t'))
			n--;
		if (!imds_role_valid(body, n)) {
			imds_none(c, "the role name is malformed");
			return;
		}
		c->f.imds_role = xstrndup(body, n);
		imds_next(c, FETCH_IMDS_CREDENTIALS);
		return;
	case FETCH_IMDS_CREDENTIALS:
		doc = NULL;
		if (resp->status == 200 && resp->body.len > 0)
			doc = json_loadb(body, resp->body.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(doc)) {
			json_decref(doc);
			snprintf(why, sizeof(why), "credentials request got HTTP %ld%s",
			    resp->status, resp->status == 200 ? " without a JSON object" : "");
			imds_retry(c, why);
			return;
		}
		code = json_str(doc, "Code");
		if (code == NULL || strcmp(code, "Success") != 0 ||
		    json_str(doc, "AccessKeyId") == NULL ||
		    json_str(doc, "SecretAccessKey") == NULL || json_str(doc, "Token") == NULL ||
		    json_str(doc, "Expiration") == NULL) {
			snprintf(why, sizeof(why), "role %s has no credentials (Code=%.40s)",
			    c->f.imds_role, code != NULL ? code : "missing");
			json_decref(doc);
			imds_none(c, why);
			return;
		}
		rc = creds_take(&got, "imds", json_str(doc, "AccessKeyId"),
		    json_str(doc, "SecretAccessKey"), json_str(doc, "Token"),
		    json_str(doc, "Expiration"), &e);
		json_decref(doc);
		if (rc != 0) {
			fetch_fail(c, &e);
			return;
		}
		fetch_got(c, &got);
		creds_clear(&got);
		return;
	default:
		abort();
	}
}

/* Plumbing. */

static void
on_http(const struct http_response *resp, const struct err *err, void *arg)
{
	struct credentials *c = arg;

	c->f.req = NULL;
	switch (c->f.step) {
	case FETCH_WEB_IDENTITY:
	case FETCH_ASSUME_ROLE:
		sts_done(c, resp, err);
		break;
	case FETCH_CONTAINER:
		container_done(c, resp, err);
		break;
	case FETCH_IMDS_TOKEN:
	case FETCH_IMDS_ROLE:
	case FETCH_IMDS_CREDENTIALS:
		imds_done(c, resp, err);
		break;
	default:
		abort();
	}
}

static int
start_request(struct credentials *c, const char *method, const char *url,
    const char *const *headers, size_t nheaders, const struct buf *body, long timeout_ms,
    long connect_ms, size_t max, bool no_proxy, struct err *err)
{
	struct http_request_opts o = HTTP_REQUEST_OPTS_INIT;

	if (c->http == NULL)
		return err_set(err, ERR_FAIL, "credentials: %s needs an HTTP engine", c->provider);
	o.method = method;
	o.url = url;
	o.headers = headers;
	o.nheaders = nheaders;
	if (body != NULL) {
		o.body = body->data != NULL ? body->data : "";
		o.body_len = body->len;
	}
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = connect_ms;
	o.max_response = max;
	o.no_proxy = no_proxy;
	return http_request_start(c->http, &o, on_http, c, &c->f.req, err);
}

static void
on_fetch_delay(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct credentials *c = container_of(w, struct credentials, f.delay);
	struct aws_credentials got;
	struct err e = ERR_INIT;

	(void)loop;
	(void)revents;
	switch (c->f.step) {
	case FETCH_STATIC:
		if (c->kind == SOURCE_NONE) {
			err_set(&e, ERR_AUTH, "no credentials found: looked in %s", c->checked);
			fetch_fail(c, &e);
			return;
		}
		memset(&got, 0, sizeof(got));
		creds_copy(&got, &c->fixed);
		fetch_got(c, &got);
		creds_clear(&got);
		break;
	case FETCH_WEB_IDENTITY:
	case FETCH_ASSUME_ROLE:
		sts_send(c);
		break;
	case FETCH_CONTAINER:
		container_send(c);
		break;
	default:
		abort();
	}
}

static void
fetch_start(struct credentials *c)
{
	assert(c->f.step == FETCH_IDLE);
	refresh_stop(c);
	credentials_set_state(c, c->have ? CREDENTIALS_REFRESHING : CREDENTIALS_RESOLVING,
	    c->have ? "refresh" : "first use");
	c->f.role = 0;
	c->f.attempt = 0;
	switch (c->kind) {
	case SOURCE_NONE:
	case SOURCE_STATIC:
		/* Handed over from a timer so nothing changes under a caller's feet. */
		c->f.step = FETCH_STATIC;
		fetch_delay(c, 0.);
		break;
	case SOURCE_WEB_IDENTITY:
		c->f.step = FETCH_WEB_IDENTITY;
		sts_send(c);
		break;
	case SOURCE_CONTAINER:
		c->f.step = FETCH_CONTAINER;
		container_send(c);
		break;
	case SOURCE_IMDS:
		c->f.step = FETCH_IMDS_TOKEN;
		imds_send(c);
		break;
	}
}

/* Start a background refresh if one may start now. */
static void
maybe_refresh(struct credentials *c, double now)
{
	if (refreshable(c) && c->f.step == FETCH_IDLE && now >= c->next_attempt)
		fetch_start(c);
}

static void
on_refresh(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct credentials *c = container_of(w, struct credentials, refresh);

	(void)revents;
	ev_ref(loop); /* libev stopped the one-shot timer, which counted as an unref */
	if (c->have && c->f.step == FETCH_IDLE && refreshable(c))
		fetch_start(c);
}

enum verdict {
	VERDICT_WAIT,
	VERDICT_CREDS,
	VERDICT_ERROR,
};

/* What a waiter gets now; may start a fetch. */
static enum verdict
evaluate(struct credentials *c, struct err *e)
{
	double now = now_s(), exp;
	char exp_s[21];

	if (c->have) {
		exp = (double)c->cur.expiration;
		if (c->cur.expiration == 0 || now < exp - MANDATORY_S) {
			if (c->cur.expiration != 0 && now >= exp - ADVISORY_S)
				maybe_refresh(c, now);
			return VERDICT_CREDS;
		}
		if (c->f.step != FETCH_IDLE)
			return VERDICT_WAIT;
		if (now < exp) {
			/* Mandatory window: wait for a refresh unless one just ran. */
			if (!refreshable(c) || now < c->next_attempt)
				return VERDICT_CREDS;
			fetch_start(c);
			return VERDICT_WAIT;
		}
		if (!refreshable(c) || (c->have_err && now < c->next_attempt)) {
			fmt_time(c->cur.expiration, exp_s);
			if (c->have_err)
				err_set(e, ERR_AUTH, "credentials from %s expired at %s: %s",
				    c->provider, exp_s, c->last_err.message);
			else
				err_set(e, ERR_AUTH, "credentials from %s expired at %s",
				    c->provider, exp_s);
			return VERDICT_ERROR;
		}
		fetch_start(c);
		return VERDICT_WAIT;
	}
	if (c->f.step != FETCH_IDLE)
		return VERDICT_WAIT;
	if (c->have_err && now < c->next_attempt) {
		err_copy(e, &c->last_err);
		return VERDICT_ERROR;
	}
	fetch_start(c);
	return c->f.step == FETCH_IDLE && c->have_err ? VERDICT_ERROR : VERDICT_WAIT;
}

static void
link_remove(struct wait_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

static void
link_append(struct wait_link *head, struct wait_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void
on_deliver(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct credentials *c = container_of(w, struct credentials, deliver);
	struct credentials_wait *cw;
	struct wait_link batch;
	struct err e = ERR_INIT;
	enum verdict v;
	credentials_cb cb;
	void *arg;

	(void)loop;
	(void)revents;
	if (c->waiters.next == &c->waiters)
		return;
	v = evaluate(c, &e);
	if (v == VERDICT_WAIT)
		return;
	if (v == VERDICT_ERROR && e.code == 0)
		err_copy(&e, &c->last_err);
	/* Answer those waiting now; callers added by the callbacks get the next round. */
	batch.prev = batch.next = &batch;
	while (c->waiters.next != &c->waiters) {
		struct wait_link *l = c->waiters.next;

		link_remove(l);
		link_append(&batch, l);
	}
	c->delivering = true;
	while (batch.next != &batch) {
		cw = container_of(batch.next, struct credentials_wait, link);
		link_remove(&cw->link);
		cb = cw->cb;
		arg = cw->arg;
		free(cw);
		if (c->closing)
			continue; /* freed by an earlier callback: drop the rest */
		if (v == VERDICT_CREDS)
			cb(&c->cur, NULL, arg);
		else
			cb(NULL, &e, arg);
	}
	c->delivering = false;
	if (c->closing)
		credentials_destroy(c);
}

/* The public interface. */

int
credentials_new(struct credentials **out, struct ev_loop *loop, struct http_engine *http,
    const struct credentials_opts *opts, struct err *err)
{
	struct endpoint_opts eo = ENDPOINT_OPTS_INIT;
	struct profile_files *pf = NULL;
	struct credentials *c;
	bool explicit_profile, named;
	int rc;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->http = http;
	c->waiters.prev = c->waiters.next = &c->waiters;
	ev_timer_init(&c->deliver, on_deliver, 0., 0.);
	ev_timer_init(&c->refresh, on_refresh, 0., 0.);
	ev_timer_init(&c->f.delay, on_fetch_delay, 0., 0.);
	explicit_profile = opts != NULL && opts->profile != NULL && *opts->profile != '\0';
	c->profile = xstrdup(profile_name_select(explicit_profile ? opts->profile : NULL));
	named = explicit_profile || env_nonempty("AWS_PROFILE") != NULL ||
	        env_nonempty("AWS_DEFAULT_PROFILE") != NULL;
	rc = profile_files_load(&pf, err);
	if (rc == 0)
		rc = profile_files_check(pf, c->profile, named, err);
	if (rc == 0)
		rc = plan_chain(c, pf, explicit_profile, err);
	if (rc != 0)
		goto out;
	if (c->provider == NULL)
		c->provider = c->source_name;
	c->fixed.provider = c->provider;
	if (c->kind == SOURCE_WEB_IDENTITY || c->nroles > 0) {
		eo.region = opts != NULL ? opts->region : NULL;
		eo.profile = explicit_profile ? opts->profile : NULL;
		eo.files = pf;
		rc = endpoint_resolve(&c->sts, "sts", &eo, err);
		if (rc != 0)
			goto out;
		c->have_sts = true;
	}
	log_debug("credentials", "chain provider=%s source=%s profile=%s roles=%zu%s%s",
	    c->provider, c->source_name, c->profile, c->nroles, c->have_sts ? " sts=" : "",
	    c->have_sts ? c->sts.url : "");
	*out = c;
	c = NULL;
out:
	profile_files_free(pf);
	credentials_free(c);
	return rc;
}

void
credentials_free(struct credentials *c)
{
	if (c == NULL)
		return;
	/*
	 * From inside a waiter's callback: on_deliver() finishes the job. What is in flight
	 * stops now, though: the caller may free the HTTP engine next, and a fetch canceled
	 * later would reach into it.
	 */
	if (c->delivering) {
		c->closing = true;
		fetch_reset(c);
		refresh_stop(c);
		return;
	}
	credentials_destroy(c);
}

static void
credentials_destroy(struct credentials *c)
{
	struct credentials_wait *cw;
	size_t i;

	fetch_reset(c);
	ev_timer_stop(c->loop, &c->deliver);
	refresh_stop(c);
	/* Outstanding waiters are dropped without a call, like canceled ones. */
	while (c->waiters.next != &c->waiters) {
		cw = container_of(c->waiters.next, struct credentials_wait, link);
		link_remove(&cw->link);
		free(cw);
	}
	creds_clear(&c->cur);
	creds_clear(&c->fixed);
	for (i = 0; i < c->nroles; i++) {
		free(c->roles[i].profile);
		free(c->roles[i].role_arn);
		free(c->roles[i].session_name);
		free(c->roles[i].external_id);
	}
	free(c->roles);
	free(c->wi_token_file);
	free(c->wi_role_arn);
	free(c->wi_session_name);
	free(c->container_url);
	wipe_free(c->container_token);
	free(c->container_token_file);
	free(c->imds_base);
	free(c->role_source);
	free(c->checked);
	if (c->have_sts)
		endpoint_clear(&c->sts);
	free(c->profile);
	free(c);
}

const struct aws_credentials *
credentials_peek(struct credentials *c)
{
	double now = now_s(), exp;

	if (!c->have)
		return NULL;
	if (c->cur.expiration == 0)
		return &c->cur;
	exp = (double)c->cur.expiration;
	if (now < exp - ADVISORY_S)
		return &c->cur;
	if (now < exp - MANDATORY_S) {
		maybe_refresh(c, now);
		return &c->cur;
	}
	if (now < exp)
		maybe_refresh(c, now); /* so that the credentials_get() to come finds it running */
	return NULL;
}

struct credentials_wait *
credentials_get(struct credentials *c, credentials_cb cb, void *arg)
{
	struct credentials_wait *cw;

	cw = xcalloc(1, sizeof(*cw));
	cw->c = c;
	cw->cb = cb;
	cw->arg = arg;
	link_append(&c->waiters, &cw->link);
	schedule_deliver(c);
	return cw;
}

void
credentials_cancel(struct credentials_wait *w)
{
	if (w == NULL)
		return;
	link_remove(&w->link);
	free(w);
}
