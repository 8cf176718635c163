/*
 * The AWS shared files, ~/.aws/config and ~/.aws/credentials, read as botocore reads them
 * (configloader.py on top of Python's RawConfigParser, strict mode):
 *   - "[section]" headers; everything before the first header is an error;
 *   - "key = value" or "key: value" lines, keys lower-cased, values stripped, no inline
 *     comments ("a = b # c" has the value "b # c");
 *   - whole-line comments starting with '#' or ';';
 *   - lines indented deeper than their key continue its value; a value that starts on the
 *     next line ("s3 =\n  addressing_style = path") is a nested block of key = value pairs;
 *   - a key or a section twice in one file is an error, as is a line that is neither;
 *   - [DEFAULT] holds values every section inherits.
 * In the config file, profiles are "[default]" and "[profile name]" and the other sections
 * ("[services name]", "[sso-session name]") keep their names; in the credentials file every
 * section is a profile. Errors are "path:line: message".
 */
#ifndef TETHER_AWS_PROFILE_H
#define TETHER_AWS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Files beyond this size are refused. */
#define PROFILE_FILE_MAX (1024 * 1024)

struct profile_file;
struct profile_section;
struct profile_files;

/*
 * Parse len bytes of text; path only names the file in messages. Returns 0 and a file the
 * caller frees with profile_file_free(), or ERR_INVALID (malformed) / ERR_TOOBIG (over
 * PROFILE_FILE_MAX) with err filled.
 */
int profile_file_parse(
    struct profile_file **out, const char *path, const char *text, size_t len, struct err *err);
/*
 * Read and parse a file. A file that does not exist (or is a directory) is not an error: it
 * gives an empty file for which profile_file_exists() is false. An unreadable file is
 * ERR_FAIL; otherwise errors as profile_file_parse().
 */
int profile_file_read(struct profile_file **out, const char *path, struct err *err);
void profile_file_free(struct profile_file *f);
bool profile_file_exists(const struct profile_file *f);
/* The path given when the file was read. Borrowed. */
const char *profile_file_path(const struct profile_file *f);

/* A section by its exact header text ("default", "profile dev", "services local"), or NULL. */
const struct profile_section *profile_file_section(const struct profile_file *f, const char *name);
/*
 * The section holding a profile: in a config file (config true) "[profile name]", or
 * "[default]" for "default" (the last one in the file wins, as in botocore); in a
 * credentials file "[name]". NULL when there is none.
 */
const struct profile_section *profile_file_profile(
    const struct profile_file *f, const char *name, bool config);
/*
 * A section that is neither a profile nor [DEFAULT] by its kind and name: ("services",
 * "local") finds "[services local]". NULL when there is none.
 */
const struct profile_section *profile_file_named(
    const struct profile_file *f, const char *kind, const char *name);

/*
 * A value (keys are matched lower-cased), falling back to [DEFAULT]. NULL when absent or
 * when the key holds a nested block. Borrowed from the file.
 */
const char *profile_section_get(const struct profile_section *s, const char *key);
/* A value inside a nested block ("s3 =\n  addressing_style = path"), or NULL. Borrowed. */
const char *profile_section_get_nested(
    const struct profile_section *s, const char *key, const char *subkey);
/* The line the section header is on, for messages. */
int profile_section_line(const struct profile_section *s);

/*
 * The profile name to use: explicit when not NULL, else AWS_PROFILE, AWS_DEFAULT_PROFILE,
 * "default" (an empty variable counts as unset). Borrowed (from the argument or the
 * environment).
 */
const char *profile_name_select(const char *explicit_name);
/*
 * Expand a configured path as botocore does: $VAR and ${VAR} from the environment (unknown
 * ones stay as written), then a leading "~" or "~/" from HOME. Returns an allocated string.
 */
char *profile_expand_path(const char *path);

/*
 * The config and credentials files as one session sees them: AWS_CONFIG_FILE (default
 * ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials). Returns 0, or
 * an error of profile_file_read() with err filled.
 */
int profile_files_load(struct profile_files **out, struct err *err);
/* The same with explicit paths (NULL: that file is absent). */
int profile_files_open(struct profile_files **out, const char *config_path,
    const char *credentials_path, struct err *err);
void profile_files_free(struct profile_files *pf);
/* The two files; never NULL (an absent file is an empty one). Borrowed. */
const struct profile_file *profile_files_config(const struct profile_files *pf);
const struct profile_file *profile_files_credentials(const struct profile_files *pf);
/* Whether either file defines the profile. */
bool profile_files_has(const struct profile_files *pf, const char *profile);
/*
 * A profile's value in botocore's merged view (session.full_config): the credentials
 * file's [profile] wins over the config file's [profile profile]. NULL when absent.
 * Borrowed.
 */
const char *profile_files_get(const struct profile_files *pf, const char *profile, const char *key);
/*
 * The nested value for service under the [services name] section that the profile's
 * "services" key names (config file only), e.g. endpoint_url for "lambda". NULL when absent.
 */
const char *profile_files_service_get(
    const struct profile_files *pf, const char *profile, const char *service, const char *key);
/*
 * Check that a profile named by the user exists: 0, or ERR_INVALID naming the files looked
 * in. "default" never has to exist unless it was named explicitly (named true).
 */
int profile_files_check(
    const struct profile_files *pf, const char *profile, bool named, struct err *err);

#endif
