"""Shared pieces of the conformance tests: a TestCase that owns one emulator per class,
error assertions on botocore ClientErrors, and deterministic test artefacts (zip files,
image URIs, ARNs). Real Lambda (the botocore model and lambda-api.md) is the authority."""

import base64
import hashlib
import io
import json
import time
import unittest
import zipfile

import botocore.session
from botocore.exceptions import ClientError

from emulator import ACCOUNT, REGION, Emulator

ROLE = "arn:aws:iam::%s:role/lambda-exec" % ACCOUNT
ROLE2 = "arn:aws:iam::%s:role/lambda-exec-2" % ACCOUNT
RUNTIME = "python3.9"
HANDLER = "index.handler"
IMAGE_REPO = "%s.dkr.ecr.%s.amazonaws.com/app" % (ACCOUNT, REGION)
STATUS_FIELDS = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
)


def _model_errors():
    """Each modelled Lambda error and its message key ("message" or "Message")."""
    model = botocore.session.get_session().get_service_model("lambda")
    out = {}
    for shape in model.error_shapes:
        out[shape.name] = "message" if "message" in shape.members else "Message"
    return out


MODEL_ERRORS = _model_errors()


def function_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn if qualifier is None else "%s:%s" % (arn, qualifier)


def layer_arn(name, version=None):
    arn = "arn:aws:lambda:%s:%s:layer:%s" % (REGION, ACCOUNT, name)
    return arn if version is None else "%s:%d" % (arn, version)


def make_zip(text):
    """A real zip archive with one handler file whose content is text. Deterministic."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, "def handler(event, context):\n    return %r\n" % text)
    return buf.getvalue()


def code_sha256(data):
    """Lambda's CodeSha256: standard base64 (with padding) of the SHA-256, not hex."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def image_uri(tag):
    return "%s:%s" % (IMAGE_REPO, tag)


class EmulatorTestCase(unittest.TestCase):
    """One emulator per test class, started with emulator_args() and stopped (exit 0
    required) after the class. Windows are given in ms by CREATE_MS/UPDATE_MS."""

    CREATE_MS = 30
    UPDATE_MS = 30
    EXTRA_ARGS = ()
    maxDiff = None

    @classmethod
    def emulator_args(cls):
        return [
            "--create-delay-ms", str(cls.CREATE_MS),
            "--update-delay-ms", str(cls.UPDATE_MS),
        ] + list(cls.EXTRA_ARGS)

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(*cls.emulator_args()).start()
        # A class cleanup runs even when a subclass's setUpClass fails after this point
        # (tearDownClass would not), so the emulator is always stopped, and its exit
        # status is always checked.
        cls.addClassCleanup(cls._stop_emulator, cls.emu)
        cls.lam = cls.emu.client()
        cls.lam_nv = cls.emu.client(validate=False)

    @classmethod
    def _stop_emulator(cls, emu):
        emu.stop(check=True)

    def setUp(self):
        self.assertTrue(self.emu.alive(), "emulator is not running:\n" + self.emu.log_text())

    def tearDown(self):
        self.assertTrue(self.emu.alive(), "emulator died during the test:\n" + self.emu.log_text())

    # -- errors ----------------------------------------------------------------------

    def assertError(self, code, status, fn, *args, **kwargs):
        """fn(*args, **kwargs) must raise a ClientError with this code and HTTP status."""
        with self.assertRaises(ClientError, msg="expected %s (%d)" % (code, status)) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        got = (resp["Error"].get("Code"), resp["ResponseMetadata"].get("HTTPStatusCode"))
        self.assertEqual(got, (code, status), "wrong error: %r" % (resp.get("Error"),))
        return resp

    def assertErrorIn(self, codes, status, fn, *args, **kwargs):
        with self.assertRaises(ClientError, msg="expected one of %s" % (codes,)) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        self.assertIn(resp["Error"].get("Code"), codes, repr(resp.get("Error")))
        if status is not None:
            self.assertEqual(resp["ResponseMetadata"].get("HTTPStatusCode"), status)
        return resp

    def assertAwsError(self, status, hdrs, body, codes=None):
        """A raw response is an AWS-shaped error: x-amzn-ErrorType, a JSON body, and for a
        modelled Lambda error the model's message key and a Type. Returns the code."""
        self.assertGreaterEqual(status, 400, body[:300])
        self.assertIn("x-amzn-errortype", hdrs, "status %d without x-amzn-ErrorType: %r" % (status, body[:200]))
        code = hdrs["x-amzn-errortype"].split(":")[0]
        if codes is not None:
            self.assertIn(code, codes)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        self.assertIn("x-amzn-requestid", hdrs)
        doc = json.loads(body)
        self.assertIsInstance(doc, dict)
        if code in MODEL_ERRORS:
            key = MODEL_ERRORS[code]
            self.assertIn(key, doc, "%s body %r lacks %r" % (code, doc, key))
            self.assertIn(doc.get("Type"), ("User", "Service"), doc)
        else:
            self.assertTrue(doc.get("message") or doc.get("Message"), doc)
        return code

    def assertStatus(self, resp, status):
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], status)

    # -- functions -------------------------------------------------------------------

    def create_zip(self, name, text=None, client=None, **kw):
        code = make_zip(text if text is not None else name)
        args = dict(
            FunctionName=name,
            Runtime=RUNTIME,
            Role=ROLE,
            Handler=HANDLER,
            Code={"ZipFile": code},
        )
        args.update(kw)
        resp = (client or self.lam).create_function(**args)
        self.assertStatus(resp, 201)
        return resp, code

    def create_image(self, name, tag="v1", client=None, **kw):
        args = dict(
            FunctionName=name,
            Role=ROLE,
            PackageType="Image",
            Code={"ImageUri": image_uri(tag)},
        )
        args.update(kw)
        resp = (client or self.lam).create_function(**args)
        self.assertStatus(resp, 201)
        return resp

    def settle(self, ms):
        time.sleep(ms / 1000.0 + 0.05)

    def wait_active(self, name):
        """Let the create window pass, then require Active through the V2 waiter."""
        self.settle(self.CREATE_MS)
        self.lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )

    def wait_updated(self, name):
        self.settle(self.UPDATE_MS)
        self.lam.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )

    def ready_zip(self, name, text=None, **kw):
        resp, code = self.create_zip(name, text, **kw)
        self.wait_active(name)
        return resp, code

    def ready_image(self, name, tag="v1", **kw):
        resp = self.create_image(name, tag, **kw)
        self.wait_active(name)
        return resp

    def update_config(self, name, **kw):
        resp = self.lam.update_function_configuration(FunctionName=name, **kw)
        self.wait_updated(name)
        return resp

    def update_zip(self, name, text, **kw):
        code = make_zip(text)
        resp = self.lam.update_function_code(FunctionName=name, ZipFile=code, **kw)
        self.wait_updated(name)
        return resp, code

    def revision(self, name, qualifier=None):
        kw = {"Qualifier": qualifier} if qualifier else {}
        return self.lam.get_function(FunctionName=name, **kw)["Configuration"]["RevisionId"]

    def publish(self, name, **kw):
        resp = self.lam.publish_version(FunctionName=name, **kw)
        self.assertStatus(resp, 201)
        return resp

    def version_numbers(self, name):
        pages = self.lam.get_paginator("list_versions_by_function").paginate(FunctionName=name)
        return [v["Version"] for page in pages for v in page["Versions"]]


def payload_json(resp):
    """Read an Invoke response payload as JSON."""
    return json.loads(resp["Payload"].read())
