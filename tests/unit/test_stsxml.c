/*
 * The STS XML reader: the documented AssumeRole / AssumeRoleWithWebIdentity / error shapes,
 * entities and CDATA, namespace prefixes, and the documents it must refuse (not well formed,
 * DOCTYPE, over a cap, a wanted element twice, every truncation of a valid response).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/stsxml.h"
#include "common/buf.h"
#include "common/xmalloc.h"

static const char assume_role_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>Alice</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtoken+/=</SessionToken>\n"
    "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static void
test_stsxml__assume_role(void **state)
{
	struct stsxml_credentials c;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(stsxml_parse_credentials(
	                     assume_role_xml, strlen(assume_role_xml), "AssumeRole", &c, &err),
	    0);
	assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_string_equal(c.session_token, "AQoDYXdzEPT//////////wEXAMPLEtoken+/=");
	assert_string_equal(c.expiration, "2019-11-09T13:34:41Z");
	assert_string_equal(c.request_id, "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	stsxml_credentials_free(&c);
	assert_null(c.access_key_id);

	/* the same document is not an AssumeRoleWithWebIdentity response */
	assert_int_equal(stsxml_parse_credentials(assume_role_xml, strlen(assume_role_xml),
	                     "AssumeRoleWithWebIdentity", &c, &err),
	    ERR_INVALID);
	assert_string_equal(err.message,
	    "sts response: AssumeRoleWithWebIdentityResult/Credentials/AccessKeyId is missing");
	assert_null(c.access_key_id);
}

static void
test_stsxml__web_identity(void **state)
{
	static const char xml[] =
	    "<AssumeRoleWithWebIdentityResponse "
	    "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	    "<AssumeRoleWithWebIdentityResult>"
	    "<SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A"
	    "</SubjectFromWebIdentityToken>"
	    "<Audience>client.5498841531868486423.1548@apps.example.com</Audience>"
	    "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/"
	    "app1</Arn><AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId></AssumedRoleUser>"
	    "<Credentials><SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</"
	    "SessionToken>"
	    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
	    "<Expiration>2014-10-24T23:00:23Z</Expiration>"
	    "<AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId></Credentials>"
	    "<SourceIdentity>SourceIdentityValue</SourceIdentity>"
	    "<Provider>www.amazon.com</Provider></AssumeRoleWithWebIdentityResult>"
	    "<ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>"
	    "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>";
	struct stsxml_credentials c;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(
	    stsxml_parse_credentials(xml, strlen(xml), "AssumeRoleWithWebIdentity", &c, &err), 0);
	assert_string_equal(c.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
	assert_string_equal(c.session_token, "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
	assert_string_equal(c.expiration, "2014-10-24T23:00:23Z");
	assert_string_equal(c.request_id, "ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE");
	stsxml_credentials_free(&c);
}

static void
test_stsxml__error(void **state)
{
	static const char xml[] =
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	    "  <Error>\n"
	    "    <Type>Sender</Type>\n"
	    "    <Code>AccessDenied</Code>\n"
	    "    <Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: "
	    "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/r &amp; &lt;more&gt;"
	    "</Message>\n"
	    "  </Error>\n"
	    "  <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n"
	    "</ErrorResponse>\n";
	struct stsxml_error e;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(stsxml_parse_error(xml, strlen(xml), &e, &err), 0);
	assert_string_equal(e.type, "Sender");
	assert_string_equal(e.code, "AccessDenied");
	assert_string_equal(e.message,
	    "User: arn:aws:iam::123456789012:user/x is not authorized to perform: sts:AssumeRole "
	    "on resource: arn:aws:iam::123456789012:role/r & <more>");
	assert_string_equal(e.request_id, "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");
	stsxml_error_free(&e);
	/* a well-formed document of another shape has no fields, and that is not an error */
	assert_int_equal(stsxml_parse_error("<x/>", 4, &e, &err), 0);
	assert_null(e.code);
	assert_null(e.message);
	stsxml_error_free(&e);
}

static char *
extract_one(const char *xml, const char *path, int *rc, struct err *err)
{
	struct stsxml_field f = {path, NULL};

	*rc = stsxml_extract(xml, strlen(xml), &f, 1, err);
	return f.value;
}

static void
want_value(const char *xml, const char *path, const char *want)
{
	struct err err = ERR_INIT;
	char *v;
	int rc;

	v = extract_one(xml, path, &rc, &err);
	if (rc != 0)
		fail_msg("%s: %s", xml, err.message);
	if (want == NULL) {
		assert_null(v);
	} else {
		assert_non_null(v);
		assert_string_equal(v, want);
	}
	free(v);
}

static void
test_stsxml__text(void **state)
{
	(void)state;
	want_value("<a><b>x&amp;y&lt;&gt;&quot;&apos;</b></a>", "a/b", "x&y<>\"'");
	want_value("<a><b>&#65;&#x42;&#x1F600;&#233;</b></a>", "a/b", "AB\xf0\x9f\x98\x80\xc3\xa9");
	want_value("<a><b>one<![CDATA[<two> & ]]>three</b></a>", "a/b", "one<two> & three");
	/* only the element's own text, not its children's */
	want_value("<a><b>x<c>inner</c>y</b></a>", "a/b", "xy");
	want_value("<a><b>x<c>inner</c>y</b></a>", "a/b/c", "inner");
	/* inside a wanted element, its children are not looked at */
	want_value("<a><b>x<b>inner</b>y</b></a>", "a/b", "xy");
	/* white space is kept exactly */
	want_value("<a><b>\n  v \n</b></a>", "a/b", "\n  v \n");
	/* an empty or self-closing element is an empty value, not an absent one */
	want_value("<a><b></b></a>", "a/b", "");
	want_value("<a><b/><c /></a>", "a/c", "");
	want_value("<a><b attr='1' other=\"&amp;2\">v</b></a>", "a/b", "v");
	/* namespace prefixes are not part of the path */
	want_value("<s:a xmlns:s=\"urn:x\"><s:b>v</s:b></s:a>", "a/b", "v");
	/* comments and processing instructions anywhere */
	want_value("<?xml version=\"1.0\"?><!-- c --><a><!-- <b>no</b> --><?pi x?><b>v</b></a>"
	           "<!-- after -->\n",
	    "a/b", "v");
	want_value("\xef\xbb\xbf<a><b>v</b></a>", "a/b", "v");
	want_value("<a><b>v</b></a>", "a", "");
	want_value("<a><b>v</b></a>", "b", NULL);
	want_value("<a><b>v</b></a>", "a/b/c", NULL);
}

static void
want_fail(const char *xml, int code, const char *message)
{
	struct err err = ERR_INIT;
	char *v;
	int rc;

	v = extract_one(xml, "a/b", &rc, &err);
	if (rc == 0)
		fail_msg("accepted: %s", xml);
	assert_null(v);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	if (message != NULL)
		assert_string_equal(err.message, message);
}

static void
test_stsxml__refused(void **state)
{
	(void)state;
	want_fail("", ERR_INVALID, "sts response: no root element at byte 0");
	want_fail("   \n", ERR_INVALID, NULL);
	want_fail("<a><b>v</b>", ERR_INVALID, "sts response: truncated document at byte 11");
	want_fail("<a><b>v</c></a>", ERR_INVALID,
	    "sts response: end tag does not match its start tag at byte 11");
	want_fail(
	    "<a></a><a></a>", ERR_INVALID, "sts response: more than one root element at byte 9");
	want_fail("text<a/>", ERR_INVALID, NULL);
	want_fail("<a/>text", ERR_INVALID, NULL);
	want_fail("</a>", ERR_INVALID, NULL);
	want_fail("<!DOCTYPE a [<!ENTITY x \"y\">]><a><b>&x;</b></a>", ERR_INVALID,
	    "sts response: DOCTYPE and other declarations are refused at byte 0");
	want_fail("<a><b>&x;</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>&amp</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>&#0;</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>&#xD800;</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>&#x110000;</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>&#;</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>\x01</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b x=1>v</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b x='<'>v</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b x='1'y='2'>v</b></a>", ERR_INVALID, NULL);
	want_fail("<a><b>v</b><b>w</b></a>", ERR_INVALID,
	    "sts response: element appears twice at byte 13");
	want_fail("<a><!-- never closed", ERR_INVALID, NULL);
	want_fail("<a><![CDATA[never closed", ERR_INVALID, NULL);
	want_fail("<a><1b/></a>", ERR_INVALID, NULL);
	want_fail("<a><b/ ></a>", ERR_INVALID, NULL);
	want_fail("<a", ERR_INVALID, NULL);
}

static void
test_stsxml__caps(void **state)
{
	struct buf b = BUF_INIT(4 * STSXML_INPUT_MAX);
	struct stsxml_field f = {"a/b", NULL};
	struct err err = ERR_INIT;
	int i;

	(void)state;
	/* nesting deeper than the cap */
	for (i = 0; i <= STSXML_DEPTH_MAX; i++)
		buf_puts(&b, "<a>");
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), ERR_INVALID);
	assert_non_null(strstr(err.message, "nested too deep"));
	/* exactly at the cap is fine */
	buf_reset(&b);
	for (i = 0; i < STSXML_DEPTH_MAX; i++)
		buf_puts(&b, "<a>");
	for (i = 0; i < STSXML_DEPTH_MAX; i++)
		buf_puts(&b, "</a>");
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), 0);
	stsxml_fields_free(&f, 1);
	/* input over the cap */
	buf_reset(&b);
	buf_puts(&b, "<a><b>");
	while (b.len <= STSXML_INPUT_MAX)
		buf_putc(&b, 'x');
	buf_puts(&b, "</b></a>");
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), ERR_TOOBIG);
	assert_null(f.value);
	/* a value over its cap inside an input under the cap */
	buf_reset(&b);
	buf_puts(&b, "<a><b>");
	for (i = 0; i <= STSXML_VALUE_MAX; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "</b></a>");
	assert_true(b.len <= STSXML_INPUT_MAX);
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), ERR_TOOBIG);
	assert_null(f.value);
	/* the same text outside a wanted element is not collected, so it is fine */
	buf_reset(&b);
	buf_puts(&b, "<a><c>");
	for (i = 0; i <= STSXML_VALUE_MAX; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "</c></a>");
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), 0);
	assert_null(f.value);
	/* a name over its cap */
	buf_reset(&b);
	buf_putc(&b, '<');
	for (i = 0; i <= STSXML_NAME_MAX; i++)
		buf_putc(&b, 'n');
	buf_puts(&b, "/>");
	assert_int_equal(stsxml_extract(b.data, b.len, &f, 1, &err), ERR_TOOBIG);
	/* a NUL byte */
	assert_int_equal(stsxml_extract("<a>\0</a>", 8, &f, 1, &err), ERR_INVALID);
	buf_free(&b);
}

static void
test_stsxml__truncations(void **state)
{
	struct stsxml_credentials c;
	struct err err = ERR_INIT;
	size_t n, full;

	(void)state;
	/* every strict prefix that cuts into the root element is refused */
	full = strlen(assume_role_xml) - 1; /* without the final newline */
	for (n = 0; n < full; n++) {
		if (stsxml_parse_credentials(assume_role_xml, n, "AssumeRole", &c, &err) == 0)
			fail_msg("prefix of %zu bytes accepted", n);
		assert_null(c.access_key_id);
	}
	assert_int_equal(
	    stsxml_parse_credentials(assume_role_xml, full, "AssumeRole", &c, &err), 0);
	stsxml_credentials_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stsxml__assume_role),
	    cmocka_unit_test(test_stsxml__web_identity),
	    cmocka_unit_test(test_stsxml__error),
	    cmocka_unit_test(test_stsxml__text),
	    cmocka_unit_test(test_stsxml__refused),
	    cmocka_unit_test(test_stsxml__caps),
	    cmocka_unit_test(test_stsxml__truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
