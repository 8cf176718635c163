/*
 * The Lambda control-plane client: one asynchronous function per operation tether uses,
 * pagination helpers, and waiters (architecture §3-§5).
 *
 * Every call runs the same pipeline on the loop: charge the request to its rate-limit
 * bucket (GetFunction: its own 100/s bucket; Invoke: none; everything else: the shared
 * 15/s bucket, whose ceiling the operator's api_rps may lower), get credentials, sign with
 * a fresh X-Amz-Date, send, decode. Throttles, 5xx and transport failures are retried as
 * the SDKs' standard mode does (aws/retry.h), each retry charged to the bucket again; 409
 * and 412 never are. A throttle slows the bucket (ratelimit_throttled), any other answer
 * lets it recover (ratelimit_success).
 *
 * Results reach the callback BORROWED: valid during the callback only; copy what you keep
 * (lambda_function_copy(), ...). err is NULL on success; otherwise the result is NULL and err
 * carries the code (ERR_NOTFOUND, ERR_CONFLICT, ERR_PRECONDITION, ERR_THROTTLED,
 * ERR_TRANSIENT, ERR_INVALID, ERR_AUTH, ERR_TOOBIG, ERR_FAIL), the HTTP status, Lambda's
 * error type and message, and the request id. Callbacks always run from the loop, never
 * from inside the function that started the call.
 *
 * Each call returns a handle (struct lambda_call *) through out (which may be NULL), valid
 * until its callback starts or lambda_call_cancel() is called. The starting functions
 * return 0, or ERR_INVALID / ERR_TOOBIG with err filled when the arguments are unusable;
 * then no callback will run.
 *
 * Logging: one debug line per HTTP request,
 *   lambda: <op> <function> status=<n> attempt=<k> ms=<t> request_id=<id>
 * never bodies, never credentials.
 */
#ifndef TETHER_AWS_LAMBDA_CLIENT_H
#define TETHER_AWS_LAMBDA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/lambda_request.h"
#include "aws/lambda_types.h"
#include "aws/ratelimit.h"
#include "common/err.h"

/* Most items a list_*_all call gathers, and most pages it reads, before giving up. */
#define LAMBDA_LIST_ALL_MAX 100000
#define LAMBDA_LIST_PAGES_MAX 5000
/* Most response body accepted: Invoke's 6 MB payload plus room. */
#define LAMBDA_RESPONSE_MAX (7 * 1024 * 1024)
#define LAMBDA_TIMEOUT_MS_DEFAULT 30000L

struct lambda_client;
struct lambda_call;

/*
 * Where requests go. By default the client sends through opts.http; tests put a fake here
 * that sees each request exactly as it would go on the wire. start must not call cb from
 * inside itself; cancel abandons a started request without calling cb.
 */
/*
 * Called once per HTTP response or transport failure (status 0), for metrics: the
 * operation ("GetFunction"), the attempt (from 1) and how long it took. It runs in the
 * middle of the client's work: it must not free the client or cancel calls.
 */
typedef void (*lambda_observe_cb)(const char *op, long status, int attempt, double ms, void *arg);

struct lambda_transport {
	int (*start)(void *ctx, const struct http_request_opts *req, http_done_cb cb, void *cb_arg,
	    void **handle, struct err *err);
	void (*cancel)(void *ctx, void *handle);
	void *ctx;
};

struct lambda_client_opts {
	struct ev_loop *loop;            /* required */
	struct http_engine *http;        /* required unless transport is set */
	struct credentials *credentials; /* required */
	struct ratelimit *ratelimit;     /* NULL: nothing is rate limited (tests only) */
	const char *region;              /* required */
	const char *endpoint;            /* required, from the caller: "https://host[/prefix]" */
	const char *account;             /* bucket key; NULL: "default" */
	double api_rps;                  /* cap on the shared bucket's ceiling; 0: none */
	long timeout_ms;                 /* per attempt; 0: LAMBDA_TIMEOUT_MS_DEFAULT */
	int max_attempts;                /* 0: RETRY_MAX_ATTEMPTS (3) */
	const char *user_agent;          /* NULL: "tether/<version>" */
	const struct lambda_transport *transport; /* NULL: opts.http */
	lambda_observe_cb observe;                /* NULL: none */
	void *observe_arg;
};

#define LAMBDA_CLIENT_OPTS_INIT                                                             \
	{                                                                                   \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0.0, 0, 0, NULL, NULL, NULL, NULL \
	}

/* Callback types: results are borrowed (see above). */
typedef void (*lambda_done_cb)(const struct err *err, void *arg);
typedef void (*lambda_function_cb)(
    const struct lambda_function *fn, const struct err *err, void *arg);
typedef void (*lambda_function_page_cb)(
    const struct lambda_function_page *page, const struct err *err, void *arg);
typedef void (*lambda_alias_cb)(const struct lambda_alias *alias, const struct err *err, void *arg);
typedef void (*lambda_alias_page_cb)(
    const struct lambda_alias_page *page, const struct err *err, void *arg);
typedef void (*lambda_layer_version_cb)(
    const struct lambda_layer_version *lv, const struct err *err, void *arg);
typedef void (*lambda_layer_version_page_cb)(
    const struct lambda_layer_version_page *page, const struct err *err, void *arg);
typedef void (*lambda_invoke_cb)(
    const struct lambda_invoke_result *res, const struct err *err, void *arg);
typedef void (*lambda_tags_cb)(const struct lambda_tags *tags, const struct err *err, void *arg);
typedef void (*lambda_esm_page_cb)(
    const struct lambda_esm_page *page, const struct err *err, void *arg);
typedef void (*lambda_pc_page_cb)(
    const struct lambda_pc_page *page, const struct err *err, void *arg);

/*
 * Create a client. Everything in opts is copied except the loop, engine, credentials,
 * ratelimit and transport, which must outlive the client. Returns 0, or ERR_INVALID with
 * err filled.
 */
int lambda_client_new(
    struct lambda_client **out, const struct lambda_client_opts *opts, struct err *err);
/* Cancel every call in flight (their callbacks are not called) and release the client. */
void lambda_client_free(struct lambda_client *c);
/* Calls in flight (waiters and paginators count once). */
size_t lambda_client_active(const struct lambda_client *c);

/*
 * Abandon a call: its callback is not called. A no-op on a call whose callback is running
 * (the handle is about to be released anyway).
 */
void lambda_call_cancel(struct lambda_call *call);

/*
 * The x-amzn-RequestId of the response a call's callback is handling ("" when there was
 * none), for manifests and logs. Valid only during that callback.
 */
const char *lambda_call_request_id(const struct lambda_call *call);

/* Functions. qualifier NULL means $LATEST (unqualified). */
int lambda_client_get_function(struct lambda_client *c, const char *function, const char *qualifier,
    lambda_function_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_get_function_configuration(struct lambda_client *c, const char *function,
    const char *qualifier, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_create_function(struct lambda_client *c, const struct lambda_create_function *in,
    lambda_function_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_update_function_code(struct lambda_client *c, const char *function,
    const struct lambda_update_code *in, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_update_function_configuration(struct lambda_client *c, const char *function,
    const struct lambda_update_config *in, lambda_function_cb cb, void *arg,
    struct lambda_call **out, struct err *err);
/* in may be NULL (no preconditions, no description): the body is then "{}". */
int lambda_client_publish_version(struct lambda_client *c, const char *function,
    const struct lambda_publish *in, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
/* qualifier NULL deletes the function with every version and alias; "7" deletes version 7. */
int lambda_client_delete_function(struct lambda_client *c, const char *function,
    const char *qualifier, lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err);

/* One page; in may be NULL for the first page. */
int lambda_client_list_functions(struct lambda_client *c, const struct lambda_list *in,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_versions(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_function_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err);

/* Aliases. */
int lambda_client_create_alias(struct lambda_client *c, const char *function, const char *name,
    const struct lambda_alias_spec *in, lambda_alias_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_get_alias(struct lambda_client *c, const char *function, const char *name,
    lambda_alias_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_update_alias(struct lambda_client *c, const char *function, const char *name,
    const struct lambda_alias_spec *in, lambda_alias_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_delete_alias(struct lambda_client *c, const char *function, const char *name,
    lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_aliases(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_alias_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err);

/* Layers. layer is a layer name or an unversioned layer ARN. */
int lambda_client_get_layer_version(struct lambda_client *c, const char *layer, long long version,
    lambda_layer_version_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_get_layer_version_by_arn(struct lambda_client *c, const char *arn,
    lambda_layer_version_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_layer_versions(struct lambda_client *c, const char *layer,
    const struct lambda_list *in, lambda_layer_version_page_cb cb, void *arg,
    struct lambda_call **out, struct err *err);

/*
 * Invoke (data plane: not rate limited). A function error is not a call error: err is NULL
 * and res->function_error is set; the payload holds the error document.
 */
int lambda_client_invoke(struct lambda_client *c, const char *function,
    const struct lambda_invoke *in, lambda_invoke_cb cb, void *arg, struct lambda_call **out,
    struct err *err);

/* Tags, on the unqualified function ARN. */
int lambda_client_tag_resource(struct lambda_client *c, const char *arn,
    const struct lambda_pair *tags, size_t ntags, lambda_done_cb cb, void *arg,
    struct lambda_call **out, struct err *err);
int lambda_client_untag_resource(struct lambda_client *c, const char *arn, const char *const *keys,
    size_t nkeys, lambda_done_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_tags(struct lambda_client *c, const char *arn, lambda_tags_cb cb, void *arg,
    struct lambda_call **out, struct err *err);

/* What references versions (for pruning). function NULL lists every mapping. */
int lambda_client_list_esm(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_esm_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_list_pc(struct lambda_client *c, const char *function,
    const struct lambda_list *in, lambda_pc_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err);

/*
 * Pagination: follow NextMarker to the end and deliver every item in one page (whose
 * next_marker is NULL). Each page is a request of its own, charged to the bucket. More than
 * LAMBDA_LIST_ALL_MAX items or LAMBDA_LIST_PAGES_MAX pages, or a marker that repeats, ends
 * the call with ERR_TOOBIG / ERR_FAIL.
 */
int lambda_client_list_functions_all(struct lambda_client *c, bool all_versions,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_versions_all(struct lambda_client *c, const char *function,
    lambda_function_page_cb cb, void *arg, struct lambda_call **out, struct err *err);
/* function_version NULL: every alias; else only those pointing at that version. */
int lambda_client_list_aliases_all(struct lambda_client *c, const char *function,
    const char *function_version, lambda_alias_page_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
int lambda_client_list_esm_all(struct lambda_client *c, const char *function, lambda_esm_page_cb cb,
    void *arg, struct lambda_call **out, struct err *err);
int lambda_client_list_pc_all(struct lambda_client *c, const char *function, lambda_pc_page_cb cb,
    void *arg, struct lambda_call **out, struct err *err);

/*
 * Waiters (architecture §4): poll GetFunction, charged to the GetFunction bucket, at once
 * and then after delays that start at initial_delay and double up to max_delay, until the
 * status settles. Success delivers the last observation (so its RevisionId is the one to
 * use next). Lambda's Failed ends the wait with ERR_FAIL and Lambda's reason in the
 * message; running past max_seconds ends it with ERR_TRANSIENT; an error response (after
 * the request's own retries) ends it with that error.
 */
struct lambda_wait_opts {
	double max_seconds;   /* 0: 300, like the V2 waiters */
	double initial_delay; /* 0: 0.1 s */
	double max_delay;     /* 0: 1 s, FunctionUpdatedV2's delay */
};

#define LAMBDA_WAIT_OPTS_INIT \
	{                     \
		0.0, 0.0, 0.0 \
	}

/* Until State is Active (FunctionActiveV2). Pending keeps waiting, Failed fails. */
int lambda_client_wait_active(struct lambda_client *c, const char *function,
    const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
/* Until LastUpdateStatus is Successful (FunctionUpdatedV2). InProgress waits, Failed fails. */
int lambda_client_wait_updated(struct lambda_client *c, const char *function,
    const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg, struct lambda_call **out,
    struct err *err);
/*
 * Until published version `version` is Active (PublishedVersionActive's acceptors). It polls
 * GetFunction with Qualifier rather than GetFunctionConfiguration, so that waiting spends
 * the 100/s GetFunction budget and never the shared 15/s one (architecture §5).
 */
int lambda_client_wait_version_active(struct lambda_client *c, const char *function,
    const char *version, const struct lambda_wait_opts *opts, lambda_function_cb cb, void *arg,
    struct lambda_call **out, struct err *err);

#endif
