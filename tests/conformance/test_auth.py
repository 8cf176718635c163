#!/usr/bin/python3
"""SigV4 verification by the emulator (signature checking on, its default): wrong secret,
unknown access key, clock skew, tampered bodies, a foreign region; and botocore-signed
requests that must pass: session tokens, ARNs and qualifiers in the path (labels that
botocore percent-encodes once on the wire and twice in the canonical request)."""

import contextlib
import datetime
import json
import unittest
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator import ACCESS_KEY, ACCOUNT, SECRET_KEY
from lambdatest import EmulatorTestCase, function_arn, make_zip

try:
    import botocore.crt.auth as _crt_auth
except ImportError:  # botocore without awscrt signs with botocore.auth only
    _crt_auth = None

BAD_SIGNATURE = "InvalidSignatureException"
BAD_KEY = "UnrecognizedClientException"


class _FakeDatetimeModule:
    """Stands in for the datetime module inside botocore.auth so SigV4Auth signs with a
    chosen time (botocore reads datetime.datetime.utcnow() when it signs)."""

    def __init__(self, when):
        outer = self

        class _DT(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return outer.when

        self.when = when
        self.datetime = _DT
        self.timedelta = datetime.timedelta
        self.timezone = datetime.timezone


class Signatures(EmulatorTestCase):
    def skewed_client_call(self, seconds):
        """list_functions signed as if the clock were off by seconds. With awscrt installed
        (Debian's awscli pulls it in) botocore clients sign with botocore.crt.auth, which
        reads the time the same way; patch both signers."""
        fake = _FakeDatetimeModule(datetime.datetime.utcnow() + datetime.timedelta(seconds=seconds))
        seen = []

        def record(request, **kwargs):
            seen.append(request.headers.get("X-Amz-Date"))

        self.lam.meta.events.register("before-send.lambda", record)
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(mock.patch.object(botocore.auth, "datetime", fake))
                if _crt_auth is not None:
                    stack.enter_context(mock.patch.object(_crt_auth, "datetime", fake))
                return self.lam.list_functions()
        finally:
            self.lam.meta.events.unregister("before-send.lambda", record)
            want = fake.when.strftime("%Y%m%dT%H%M%SZ").encode()
            self.assertEqual([x if isinstance(x, bytes) else x.encode() for x in seen], [want])

    def test_correct_signature_is_accepted(self):
        self.assertStatus(self.lam.list_functions(), 200)
        status, _, body = self.emu.signed_request("GET", "/2015-03-31/functions/")
        self.assertEqual(status, 200, body)

    def test_wrong_secret(self):
        bad = self.emu.client(secret_key="not-the-secret")
        self.assertError(BAD_SIGNATURE, 403, bad.list_functions)
        self.assertError(BAD_SIGNATURE, 403, bad.get_function, FunctionName="anything")
        status, hdrs, body = self.emu.signed_request("GET", "/2015-03-31/functions/", secret_key="nope")
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body, (BAD_SIGNATURE,))

    def test_unknown_access_key(self):
        bad = self.emu.client(access_key="AKIDUNKNOWNKEY000000")
        self.assertError(BAD_KEY, 403, bad.list_functions)
        status, hdrs, body = self.emu.signed_request(
            "GET", "/2015-03-31/functions/", access_key="AKIDUNKNOWNKEY000000", secret_key=SECRET_KEY
        )
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body, (BAD_KEY,))

    def test_clock_skew(self):
        for seconds in (-6 * 60, 6 * 60, -3600):
            with self.subTest(skew_seconds=seconds):
                self.assertError(BAD_SIGNATURE, 403, self.skewed_client_call, seconds)
        # Within five minutes either way is fine.
        for seconds in (-4 * 60, 4 * 60):
            with self.subTest(skew_seconds=seconds):
                self.assertStatus(self.skewed_client_call(seconds), 200)

    def test_fixed_old_timestamp_on_a_hand_built_request(self):
        req = AWSRequest(
            method="GET", url=self.emu.endpoint + "/2015-03-31/functions/",
            headers={"Host": "127.0.0.1:%d" % self.emu.port},
        )
        with mock.patch.object(
            botocore.auth, "datetime", _FakeDatetimeModule(datetime.datetime(2015, 8, 30, 12, 36, 0))
        ):
            SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", "us-east-1").add_auth(req)
        self.assertEqual(req.headers["X-Amz-Date"], "20150830T123600Z")
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/", headers=dict(req.headers.items()))
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body, (BAD_SIGNATURE,))

    def test_tampered_body_and_path(self):
        body = json.dumps({"Description": "signed"}).encode()
        req = AWSRequest(
            method="POST", url=self.emu.endpoint + "/2015-03-31/functions/tamper-fn/versions", data=body,
            headers={"Host": "127.0.0.1:%d" % self.emu.port, "Content-Type": "application/json"},
        )
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", "us-east-1").add_auth(req)
        hdrs = dict(req.headers.items())
        status, rh, rb = self.emu.request(
            "POST", "/2015-03-31/functions/tamper-fn/versions",
            body=json.dumps({"Description": "changed"}).encode(), headers=hdrs,
        )
        self.assertEqual(status, 403)
        self.assertAwsError(status, rh, rb, (BAD_SIGNATURE,))
        status, rh, rb = self.emu.request("POST", "/2015-03-31/functions/other-fn/versions", body=body, headers=hdrs)
        self.assertEqual(status, 403)
        self.assertAwsError(status, rh, rb, (BAD_SIGNATURE,))

    def test_altered_or_incomplete_signatures(self):
        host = "127.0.0.1:%d" % self.emu.port

        def signed(path="/2015-03-31/functions/", headers=None):
            h = {"Host": host}
            h.update(headers or {})
            req = AWSRequest(method="GET", url=self.emu.endpoint + path, headers=h)
            SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", "us-east-1").add_auth(req)
            return dict(req.headers.items())

        def edit(h, old, new):
            h = dict(h)
            h["Authorization"] = h["Authorization"].replace(old, new)
            return h

        base = signed()
        date = base["X-Amz-Date"][:8]
        no_date = dict(base)
        del no_date["X-Amz-Date"]
        token = signed(headers={"X-Amz-Security-Token": "token-1"})
        token["X-Amz-Security-Token"] = "token-2"
        cases = [
            ("query value changed", "/2015-03-31/functions/?MaxItems=6", signed("/2015-03-31/functions/?MaxItems=5")),
            ("query key added", "/2015-03-31/functions/?MaxItems=5&Marker=x", signed("/2015-03-31/functions/?MaxItems=5")),
            ("Host changed", "/2015-03-31/functions/", dict(base, Host="127.0.0.1:1")),
            ("session token changed", "/2015-03-31/functions/", token),
            ("a signed header is missing", "/2015-03-31/functions/",
             edit(base, "SignedHeaders=host;x-amz-date", "SignedHeaders=host;x-amz-date;x-not-sent")),
            ("Host not signed", "/2015-03-31/functions/", edit(base, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")),
            ("no X-Amz-Date", "/2015-03-31/functions/", no_date),
            ("scope date differs", "/2015-03-31/functions/", edit(base, "/" + date + "/", "/20200101/")),
            ("signature truncated", "/2015-03-31/functions/", dict(base, Authorization=base["Authorization"][:-2])),
            ("not SigV4", "/2015-03-31/functions/", {"Authorization": "Basic dGVzdDp0ZXN0", "X-Amz-Date": base["X-Amz-Date"]}),
            ("no Signature", "/2015-03-31/functions/", dict(base, Authorization=base["Authorization"].split(", Signature=")[0])),
        ]
        for what, path, headers in cases:
            with self.subTest(what):
                status, hdrs, body = self.emu.request("GET", path, headers=headers)
                self.assertEqual(status, 403, body[:200])
                self.assertAwsError(status, hdrs, body, (BAD_SIGNATURE, "IncompleteSignatureException"))

    def test_unsigned_request_is_refused(self):
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/")
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body)

    def test_unknown_route_comes_after_authentication(self):
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/no-such-thing")
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body)
        status, hdrs, body = self.emu.signed_request("GET", "/2015-03-31/no-such-thing")
        self.assertEqual(status, 404, body)
        self.assertAwsError(status, hdrs, body, ("UnknownOperationException",))

    def test_wrong_region_scope(self):
        other = self.emu.client(region="us-west-2")
        self.assertError(BAD_SIGNATURE, 403, other.list_functions)

    def test_wrong_service_scope(self):
        req = AWSRequest(method="GET", url=self.emu.endpoint + "/2015-03-31/functions/",
                         headers={"Host": "127.0.0.1:%d" % self.emu.port})
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(req)
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/", headers=dict(req.headers.items()))
        self.assertEqual(status, 403)
        self.assertAwsError(status, hdrs, body, (BAD_SIGNATURE,))

    def test_canonicalisation(self):
        name = "canon-fn"
        self.ready_zip(name)
        self.publish(name)
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
        # The wire query is not in canonical order; the canonical request sorts it.
        status, _, body = self.emu.signed_request("GET", "/2015-03-31/functions/?MaxItems=5&FunctionVersion=ALL")
        self.assertEqual(status, 200, body)
        self.assertIn("1", [f["Version"] for f in json.loads(body)["Functions"]])
        # A signed header with runs of spaces is canonicalised with one space.
        status, _, body = self.emu.signed_request(
            "GET", "/2015-03-31/functions/%s/aliases?FunctionVersion=%%24LATEST" % name,
            headers={"X-Conf-Extra": "a   b    c"},
        )
        self.assertEqual(status, 200, body)
        self.assertEqual([a["Name"] for a in json.loads(body)["Aliases"]], ["live"])
        self.assertEqual(
            [a["Name"] for a in self.lam.list_aliases(FunctionName=name, FunctionVersion="$LATEST")["Aliases"]],
            ["live"],
        )
        # An encoded label in the path, signed by hand (encoded twice in the canonical URI).
        status, _, body = self.emu.signed_request(
            "GET", "/2015-03-31/functions/%s%%3A%%24LATEST/configuration" % name
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["Version"], "$LATEST")

    def test_session_token_is_signed_and_accepted(self):
        lam = self.emu.client(token="AQoDYXdzEPT//////////wEXAMPLEtoken+/=")
        self.create_zip("tok-fn", client=lam)
        self.wait_active("tok-fn")
        self.assertEqual(lam.get_function(FunctionName="tok-fn")["Configuration"]["FunctionName"], "tok-fn")
        status, _, body = self.emu.signed_request(
            "GET", "/2015-03-31/functions/tok-fn", token="FwoGZXIvYXdzEBYaDHsessiontoken"
        )
        self.assertEqual(status, 200, body)

    def test_encoded_labels_verify(self):
        name = "sig-labels"
        self.ready_zip(name)
        v = self.publish(name)["Version"]
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
        partial = "%s:function:%s" % (ACCOUNT, name)
        for fn, q in (
            (function_arn(name), None),
            (partial, None),
            (name + ":$LATEST", None),
            (name, "$LATEST"),
            (function_arn(name, "$LATEST"), None),
            (name + ":live", None),
            (function_arn(name, "live"), None),
            (partial + ":" + v, None),
            (function_arn(name), "live"),
        ):
            with self.subTest(FunctionName=fn, Qualifier=q):
                kw = {"Qualifier": q} if q else {}
                self.assertStatus(self.lam.get_function(FunctionName=fn, **kw), 200)
                self.assertStatus(self.lam.get_function_configuration(FunctionName=fn, **kw), 200)
                self.assertStatus(self.lam.invoke(FunctionName=fn, **kw), 200)
        self.assertStatus(self.lam.get_alias(FunctionName=function_arn(name), Name="live"), 200)
        self.assertStatus(self.lam.list_versions_by_function(FunctionName=function_arn(name)), 200)
        self.assertStatus(self.lam.tag_resource(Resource=function_arn(name), Tags={"k": "v w/+="}), 204)
        self.assertEqual(self.lam.list_tags(Resource=function_arn(name))["Tags"], {"k": "v w/+="})
        self.assertStatus(self.lam.untag_resource(Resource=function_arn(name), TagKeys=["k", "x y"]), 204)
        layer = self.lam.publish_layer_version(LayerName="sig-layer", Content={"ZipFile": make_zip("sig")})
        got = self.lam.get_layer_version_by_arn(Arn=layer["LayerVersionArn"])
        self.assertEqual(got["LayerVersionArn"], layer["LayerVersionArn"])
        # An emulator-made marker travels back in the (signed) query.
        self.create_zip(name + "-2")
        page = self.lam.list_functions(MaxItems=1)
        self.assertTrue(page.get("NextMarker"))
        self.assertStatus(self.lam.list_functions(MaxItems=1, Marker=page["NextMarker"]), 200)


class CustomCredentials(EmulatorTestCase):
    EXTRA_ARGS = ("--credentials", "AKIDCONFCUSTOM:s3cr3t/with+chars", "--credentials", "AKIDSECOND:other")

    def test_only_configured_pairs_sign(self):
        for key, secret in (("AKIDCONFCUSTOM", "s3cr3t/with+chars"), ("AKIDSECOND", "other")):
            with self.subTest(key=key):
                lam = self.emu.client(access_key=key, secret_key=secret)
                self.assertStatus(lam.list_functions(), 200)
        self.assertError(BAD_KEY, 403, self.lam.list_functions)  # test:test is not configured
        self.assertError(BAD_SIGNATURE, 403, self.emu.client(access_key="AKIDSECOND", secret_key="s3cr3t/with+chars").list_functions)


if __name__ == "__main__":
    unittest.main(verbosity=2)
