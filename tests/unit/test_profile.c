/*
 * The shared-file parser against what botocore's configloader (RawConfigParser, strict)
 * does with the same text: sections, delimiters, comments, continuation lines, nested
 * blocks, [DEFAULT], profile naming in the config file, the merged view, and every kind of
 * error with its path:line. Files live in a mkdtemp directory; the environment is set per
 * test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/profile.h"
#include "common/xmalloc.h"
#include "tests/lib/tmpdir.h"

struct fixture {
	char dir[1024];
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	if (tmpdir_make(fx->dir, sizeof(fx->dir), "test_profile") != 0)
		return -1;
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	if (tmpdir_remove(fx->dir) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx);
	return 0;
}

static char *
write_file(struct fixture *fx, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", fx->dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct profile_file *
parse_ok(const char *text)
{
	struct profile_file *f = NULL;
	struct err err = ERR_INIT;

	if (profile_file_parse(&f, "t.ini", text, strlen(text), &err) != 0)
		fail_msg("unexpected error: %s", err.message);
	return f;
}

static void
parse_fails(const char *text, int code, const char *message)
{
	struct profile_file *f = NULL;
	struct err err = ERR_INIT;

	assert_int_equal(profile_file_parse(&f, "t.ini", text, strlen(text), &err), code);
	assert_null(f);
	assert_string_equal(err.message, message);
}

static const char *
get(const struct profile_file *f, const char *section, const char *key)
{
	return profile_section_get(profile_file_section(f, section), key);
}

static void
test_profile__basic(void **state)
{
	struct profile_file *f;

	(void)state;
	f = parse_ok("[default]\n"
	             "aws_access_key_id = AKIDEXAMPLE\n"
	             "Region: eu-west-1\n"
	             "  continued   =   value  \n"
	             "empty =\n"
	             "inline = value # not a comment\n"
	             "url = http://h:1/a=b\n"
	             "\n"
	             "[other]\n"
	             "k=v\n"
	             "[indented]\n"
	             "  indented_key   =   spaced value  \n");
	assert_true(profile_file_exists(f));
	assert_string_equal(get(f, "default", "aws_access_key_id"), "AKIDEXAMPLE");
	/* keys are lower-cased, ':' is a delimiter too */
	/* a deeper-indented line continues the value before it, even if it has a '=' */
	assert_string_equal(get(f, "default", "region"), "eu-west-1\ncontinued   =   value");
	assert_null(get(f, "default", "Region"));
	assert_null(get(f, "default", "continued"));
	/* but the first key of a section may be indented */
	assert_string_equal(get(f, "indented", "indented_key"), "spaced value");
	assert_string_equal(get(f, "default", "empty"), "");
	assert_string_equal(get(f, "default", "inline"), "value # not a comment");
	/* the first delimiter splits: "url = http://h:1/a=b" */
	assert_string_equal(get(f, "default", "url"), "http://h:1/a=b");
	assert_string_equal(get(f, "other", "k"), "v");
	assert_null(get(f, "other", "aws_access_key_id"));
	assert_null(profile_file_section(f, "missing"));
	assert_int_equal(profile_section_line(profile_file_section(f, "other")), 9);
	profile_file_free(f);
}

static void
test_profile__comments_and_continuations(void **state)
{
	struct profile_file *f;

	(void)state;
	f = parse_ok("# leading comment\n"
	             "; another\n"
	             "[a]\n"
	             "multi = first\n"
	             "    second\n"
	             "\n"
	             "    # a comment inside a value is dropped\n"
	             "    third\n"
	             "next = x\n"
	             "   ; indented comment\n"
	             "last = y\n"
	             "\n"
	             "\n");
	/* blank lines inside a value stay; the trailing ones go */
	assert_string_equal(get(f, "a", "multi"), "first\nsecond\n\nthird");
	assert_string_equal(get(f, "a", "next"), "x");
	assert_string_equal(get(f, "a", "last"), "y");
	profile_file_free(f);
}

static void
test_profile__nested(void **state)
{
	const struct profile_section *s;
	struct profile_file *f;

	(void)state;
	f = parse_ok("[profile dev]\n"
	             "s3 =\n"
	             "  addressing_style = path\n"
	             "  Signature_Version=s3v4\n"
	             "\n"
	             "  addressing_style = virtual\n"
	             "region = us-west-2\n");
	s = profile_file_section(f, "profile dev");
	assert_non_null(s);
	/* a nested block is not a plain value */
	assert_null(profile_section_get(s, "s3"));
	/* the last duplicate wins; nested keys keep their case */
	assert_string_equal(profile_section_get_nested(s, "s3", "addressing_style"), "virtual");
	assert_string_equal(profile_section_get_nested(s, "s3", "Signature_Version"), "s3v4");
	assert_null(profile_section_get_nested(s, "s3", "signature_version"));
	assert_null(profile_section_get_nested(s, "region", "x"));
	assert_string_equal(profile_section_get(s, "region"), "us-west-2");
	profile_file_free(f);

	parse_fails("[a]\nx = 1\ns3 =\n  novalue\n", ERR_INVALID,
	    "t.ini:3: the nested value of \"s3\" has a line without '='");
}

static void
test_profile__line_endings(void **state)
{
	struct profile_file *f;

	(void)state;
	f = parse_ok("[crlf]\r\na = 1\r\nb = 2\r[lone]\rc = 3\r\n");
	assert_string_equal(get(f, "crlf", "a"), "1");
	assert_string_equal(get(f, "crlf", "b"), "2");
	assert_string_equal(get(f, "lone", "c"), "3");
	profile_file_free(f);
	/* a byte-order mark does not hide the first header */
	f = parse_ok("\xef\xbb\xbf[bom]\nk = v\n");
	assert_string_equal(get(f, "bom", "k"), "v");
	profile_file_free(f);
}

static void
test_profile__headers(void **state)
{
	struct profile_file *f;

	(void)state;
	/* "\[(?P<header>.+)\]" with match(): trailing text after the last ']' is ignored */
	f = parse_ok("[a]b] trailing\nk = 1\n[ spaced ]\nk = 2\n[x] # comment\nk = 3\n");
	assert_string_equal(get(f, "a]b", "k"), "1");
	assert_string_equal(get(f, " spaced ", "k"), "2");
	assert_string_equal(get(f, "x", "k"), "3");
	profile_file_free(f);
	/* "[]" is not a header */
	parse_fails("[]\n", ERR_INVALID, "t.ini:1: the file must start with a [section] header");
}

static void
test_profile__defaults_section(void **state)
{
	struct profile_file *f;

	(void)state;
	f = parse_ok("[DEFAULT]\nregion = us-east-2\nshared = d\n"
	             "[one]\nregion = eu-west-1\n"
	             "[two]\nk = v\n");
	assert_string_equal(get(f, "one", "region"), "eu-west-1");
	assert_string_equal(get(f, "two", "region"), "us-east-2");
	assert_string_equal(get(f, "one", "shared"), "d");
	/* [DEFAULT] is not a section of its own */
	assert_null(profile_file_section(f, "DEFAULT"));
	profile_file_free(f);
}

static void
test_profile__errors(void **state)
{
	struct profile_file *f = NULL;
	struct err err = ERR_INIT;
	char *big;

	(void)state;
	parse_fails(
	    "k = v\n[a]\n", ERR_INVALID, "t.ini:1: the file must start with a [section] header");
	parse_fails(
	    "[a]\nk = 1\n[b]\n[a]\n", ERR_INVALID, "t.ini:4: section appears twice in this file");
	parse_fails(
	    "[a]\nk = 1\nK = 2\n", ERR_INVALID, "t.ini:3: key appears twice in this section");
	parse_fails("[a]\nk = 1\njust words\n", ERR_INVALID,
	    "t.ini:3: expected \"key = value\" or a [section] header");
	parse_fails(
	    "[a]\n= value\n", ERR_INVALID, "t.ini:2: a key is missing before the '=' or ':'");
	parse_fails("[a]\nbad line\nworse line\n[a]\n", ERR_INVALID,
	    "t.ini:2: expected \"key = value\" or a [section] header (and 2 more errors)");
	parse_fails("[a]\nk = \xff\n", ERR_INVALID, "t.ini:2: invalid UTF-8");
	parse_fails("[a]\nk = \xc3\n", ERR_INVALID, "t.ini:2: invalid UTF-8");
	parse_fails("[a]\nk = \xed\xa0\x80\n", ERR_INVALID, "t.ini:2: invalid UTF-8");
	{
		static const char nul[] = "[a]\nk = v\n\0";

		assert_int_equal(
		    profile_file_parse(&f, "t.ini", nul, sizeof(nul) - 1, &err), ERR_INVALID);
		assert_string_equal(err.message, "t.ini:3: NUL byte");
	}
	/* valid UTF-8 is fine */
	f = parse_ok("[a]\nk = caf\xc3\xa9 \xf0\x9f\x98\x80\n");
	assert_string_equal(get(f, "a", "k"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	profile_file_free(f);
	f = NULL;
	big = xcalloc(1, PROFILE_FILE_MAX + 2);
	memset(big, ' ', PROFILE_FILE_MAX + 1);
	assert_int_equal(
	    profile_file_parse(&f, "big.ini", big, PROFILE_FILE_MAX + 1, &err), ERR_TOOBIG);
	assert_null(f);
	free(big);
}

static void
test_profile__config_profiles(void **state)
{
	struct profile_file *f;

	(void)state;
	f = parse_ok("[default]\nregion = a\n"
	             "[profile dev]\nregion = b\n"
	             "[profile 'with space']\nregion = c\n"
	             "[profile \"dq name\"]\nregion = d\n"
	             "[profile default]\nregion = e\n"
	             "[prod]\nregion = f\n"
	             "[profile  spaced]\nregion = g\n"
	             "[profile a b]\nregion = h\n"
	             "[profileless]\nregion = i\n"
	             "[services local]\nlambda =\n  endpoint_url = http://127.0.0.1:1\n");
	/* the last of [default] / [profile default] wins, as build_profile_map's dict does */
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "default", true), "region"), "e");
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "dev", true), "region"), "b");
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "with space", true), "region"), "c");
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "dq name", true), "region"), "d");
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "spaced", true), "region"), "g");
	/* a bare [prod] is not a profile in the config file, but is one in a credentials file */
	assert_null(profile_file_profile(f, "prod", true));
	assert_string_equal(
	    profile_section_get(profile_file_profile(f, "prod", false), "region"), "f");
	/* three words, or no space: not profiles */
	assert_null(profile_file_profile(f, "a", true));
	assert_null(profile_file_profile(f, "less", true));
	assert_string_equal(profile_section_get_nested(profile_file_named(f, "services", "local"),
	                        "lambda", "endpoint_url"),
	    "http://127.0.0.1:1");
	assert_null(profile_file_named(f, "services", "other"));
	profile_file_free(f);
}

static void
test_profile__read(void **state)
{
	struct fixture *fx = *state;
	struct profile_file *f = NULL;
	struct err err = ERR_INIT;
	char *path, *loop, *dirpath;

	/* a missing file is an empty one */
	path = xasprintf("%s/none", fx->dir);
	assert_int_equal(profile_file_read(&f, path, &err), 0);
	assert_false(profile_file_exists(f));
	assert_null(profile_file_profile(f, "default", true));
	profile_file_free(f);
	free(path);
	/* so is a directory */
	dirpath = xasprintf("%s/adir", fx->dir);
	assert_int_equal(mkdir(dirpath, 0700), 0);
	assert_int_equal(profile_file_read(&f, dirpath, &err), 0);
	assert_false(profile_file_exists(f));
	profile_file_free(f);
	free(dirpath);
	/* a file that cannot be opened is an error */
	loop = xasprintf("%s/loop", fx->dir);
	assert_int_equal(symlink(loop, loop), 0);
	assert_int_equal(profile_file_read(&f, loop, &err), ERR_FAIL);
	assert_null(f);
	assert_non_null(strstr(err.message, "loop: Too many levels of symbolic links"));
	free(loop);
	/* a malformed file names its path and line */
	path = write_file(fx, "bad", "[a]\nk = 1\noops\n");
	assert_int_equal(profile_file_read(&f, path, &err), ERR_INVALID);
	assert_null(f);
	{
		char *want =
		    xasprintf("%s:3: expected \"key = value\" or a [section] header", path);

		assert_string_equal(err.message, want);
		free(want);
	}
	free(path);
	path = write_file(fx, "good", "[a]\nk = 1\n");
	assert_int_equal(profile_file_read(&f, path, &err), 0);
	assert_true(profile_file_exists(f));
	assert_string_equal(profile_file_path(f), path);
	assert_string_equal(get(f, "a", "k"), "1");
	profile_file_free(f);
	free(path);
}

static void
test_profile__name_select(void **state)
{
	(void)state;
	assert_string_equal(profile_name_select(NULL), "default");
	assert_string_equal(profile_name_select("x"), "x");
	setenv("AWS_DEFAULT_PROFILE", "dp", 1);
	assert_string_equal(profile_name_select(NULL), "dp");
	setenv("AWS_PROFILE", "p", 1);
	assert_string_equal(profile_name_select(NULL), "p");
	assert_string_equal(profile_name_select("explicit"), "explicit");
	setenv("AWS_PROFILE", "", 1);
	assert_string_equal(profile_name_select(NULL), "dp");
	assert_string_equal(profile_name_select(""), "dp");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
}

static void
test_profile__expand_path(void **state)
{
	char *p;

	(void)state;
	setenv("HOME", "/home/me", 1);
	setenv("TP_DIR", "/etc/aws", 1);
	unsetenv("TP_UNSET");
	p = profile_expand_path("~/.aws/config");
	assert_string_equal(p, "/home/me/.aws/config");
	free(p);
	p = profile_expand_path("~");
	assert_string_equal(p, "/home/me");
	free(p);
	p = profile_expand_path("~user/x");
	assert_string_equal(p, "~user/x");
	free(p);
	p = profile_expand_path("$TP_DIR/config");
	assert_string_equal(p, "/etc/aws/config");
	free(p);
	p = profile_expand_path("${TP_DIR}x/$TP_UNSET/${TP_UNSET}/$");
	assert_string_equal(p, "/etc/awsx/$TP_UNSET/${TP_UNSET}/$");
	free(p);
}

static void
test_profile__files(void **state)
{
	struct fixture *fx = *state;
	struct profile_files *pf = NULL;
	struct err err = ERR_INIT;
	char *config, *creds, *want;

	config = write_file(fx, "config",
	    "[default]\nregion = us-east-1\n"
	    "[profile dev]\nregion = eu-west-1\naws_access_key_id = CONFIGKEY\n"
	    "services = local\n"
	    "[services local]\nlambda =\n  endpoint_url = http://127.0.0.1:9001\n");
	creds = write_file(fx, "credentials",
	    "[dev]\naws_access_key_id = CREDKEY\n[onlycreds]\nregion = ap-south-1\n"
	    "[profile dev]\nregion = never\n");
	setenv("AWS_CONFIG_FILE", config, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	assert_int_equal(profile_files_load(&pf, &err), 0);
	/* the credentials file wins in the merged view; other keys come from the config */
	assert_string_equal(profile_files_get(pf, "dev", "aws_access_key_id"), "CREDKEY");
	assert_string_equal(profile_files_get(pf, "dev", "region"), "eu-west-1");
	assert_string_equal(profile_files_get(pf, "onlycreds", "region"), "ap-south-1");
	assert_string_equal(profile_files_get(pf, "default", "region"), "us-east-1");
	assert_null(profile_files_get(pf, "nobody", "region"));
	assert_true(profile_files_has(pf, "dev"));
	assert_true(profile_files_has(pf, "onlycreds"));
	/* "[profile dev]" in the credentials file is a profile named "profile dev" */
	assert_true(profile_files_has(pf, "profile dev"));
	assert_false(profile_files_has(pf, "nobody"));
	assert_string_equal(profile_files_service_get(pf, "dev", "lambda", "endpoint_url"),
	    "http://127.0.0.1:9001");
	assert_null(profile_files_service_get(pf, "dev", "sts", "endpoint_url"));
	assert_null(profile_files_service_get(pf, "default", "lambda", "endpoint_url"));
	assert_int_equal(profile_files_check(pf, "dev", true, &err), 0);
	assert_int_equal(profile_files_check(pf, "nobody", false, &err), 0);
	assert_int_equal(profile_files_check(pf, "nobody", true, &err), ERR_INVALID);
	want = xasprintf("profile \"nobody\" not found in %s or %s", config, creds);
	assert_string_equal(err.message, want);
	free(want);
	profile_files_free(pf);

	/* missing files by default path: HOME without .aws */
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	setenv("HOME", fx->dir, 1);
	assert_int_equal(profile_files_load(&pf, &err), 0);
	assert_false(profile_file_exists(profile_files_config(pf)));
	assert_false(profile_file_exists(profile_files_credentials(pf)));
	want = xasprintf("%s/.aws/config", fx->dir);
	assert_string_equal(profile_file_path(profile_files_config(pf)), want);
	free(want);
	assert_int_equal(profile_files_check(pf, "default", true, &err), ERR_INVALID);
	assert_int_equal(profile_files_check(pf, "default", false, &err), 0);
	profile_files_free(pf);

	/* a malformed config file fails the load */
	free(config);
	config = write_file(fx, "config2", "[a]\n[a]\n");
	setenv("AWS_CONFIG_FILE", config, 1);
	assert_int_equal(profile_files_load(&pf, &err), ERR_INVALID);
	assert_null(pf);
	want = xasprintf("%s:2: section appears twice in this file", config);
	assert_string_equal(err.message, want);
	free(want);
	unsetenv("AWS_CONFIG_FILE");
	free(config);
	free(creds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile__basic),
	    cmocka_unit_test(test_profile__comments_and_continuations),
	    cmocka_unit_test(test_profile__nested),
	    cmocka_unit_test(test_profile__line_endings),
	    cmocka_unit_test(test_profile__headers),
	    cmocka_unit_test(test_profile__defaults_section),
	    cmocka_unit_test(test_profile__errors),
	    cmocka_unit_test(test_profile__config_profiles),
	    cmocka_unit_test_setup_teardown(test_profile__read, setup, teardown),
	    cmocka_unit_test(test_profile__name_select),
	    cmocka_unit_test(test_profile__expand_path),
	    cmocka_unit_test_setup_teardown(test_profile__files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
