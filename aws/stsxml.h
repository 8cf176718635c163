/*
 * A small, strict reader for the XML that STS's Query API answers with. It is not a general
 * XML parser: it checks that the document is well formed (one root, properly nested and
 * matching tags, quoted attributes, known entities only), refuses DOCTYPE declarations and
 * anything over its caps, and extracts the text of elements at exact paths such as
 * "AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId". Element names are
 * compared without their namespace prefix. Entities: &amp; &lt; &gt; &quot; &apos; and
 * numeric references (encoded as UTF-8); CDATA sections count as text.
 */
#ifndef TETHER_AWS_STSXML_H
#define TETHER_AWS_STSXML_H

#include <stddef.h>

#include "common/err.h"

#define STSXML_INPUT_MAX (64 * 1024) /* an STS response is a few KiB */
#define STSXML_VALUE_MAX (32 * 1024) /* the text of one element */
#define STSXML_DEPTH_MAX 32
#define STSXML_NAME_MAX 256 /* an element name */

struct stsxml_field {
	const char *path; /* "A/B/C", from the root element */
	char *value;      /* out: the element's text (allocated), NULL when it is absent */
};

/*
 * Fill fields[i].value for each path found in xml (len bytes). An element that appears
 * twice at a wanted path is an error. Returns 0, or ERR_INVALID (not well formed, DOCTYPE,
 * too deep) or ERR_TOOBIG (over STSXML_INPUT_MAX or STSXML_VALUE_MAX) with err filled; on
 * error no value is set. Values are freed by the caller (stsxml_fields_free()).
 */
int stsxml_extract(
    const char *xml, size_t len, struct stsxml_field *fields, size_t nfields, struct err *err);
void stsxml_fields_free(struct stsxml_field *fields, size_t nfields);

/* Temporary credentials from an AssumeRole* response. */
struct stsxml_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	char *expiration; /* ISO 8601, as sent */
	char *request_id; /* NULL when absent */
};

/*
 * Parse the 200 response of action ("AssumeRole" or "AssumeRoleWithWebIdentity"):
 * <action>Response/<action>Result/Credentials/{AccessKeyId,SecretAccessKey,SessionToken,
 * Expiration}. All four are required. Returns 0, or an error as stsxml_extract() (a missing
 * field is ERR_INVALID).
 */
int stsxml_parse_credentials(const char *xml, size_t len, const char *action,
    struct stsxml_credentials *out, struct err *err);
void stsxml_credentials_free(struct stsxml_credentials *c);

/* An error response: ErrorResponse/Error/{Type,Code,Message} and ErrorResponse/RequestId. */
struct stsxml_error {
	char *type; /* "Sender" or "Receiver"; each field NULL when absent */
	char *code;
	char *message;
	char *request_id;
};

/* Parse an error response. Returns 0 (fields may be NULL), or an error as stsxml_extract(). */
int stsxml_parse_error(const char *xml, size_t len, struct stsxml_error *out, struct err *err);
void stsxml_error_free(struct stsxml_error *e);

#endif
