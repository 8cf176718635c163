#!/usr/bin/python3
"""The admin API's test controls, observed through botocore and its waiters:
PUT /_emulator/update-failure (code that fails to deploy: a create ends Failed, an update
ends LastUpdateStatus Failed, a published version is Failed) and /_emulator/intercept (a
one-shot concurrent modification of $LATEST just before a chosen request)."""

import base64
import hashlib
import json
import os
import shutil
import tempfile
import time
import unittest

from botocore.exceptions import WaiterError

from emulator import Emulator, EmulatorError
from lambdatest import (
    EmulatorTestCase, code_sha256, function_arn, image_uri, make_zip, payload_json,
)

CONFLICT = "ResourceConflictException"
PRECONDITION = "PreconditionFailedException"
DENIED = "Lambda does not have permission to access the ECR image. Check the ECR permissions."
DENIED_CODE = "ImageAccessDenied"


def image_digest(tag):
    """The emulator's CodeSha256 for an image URI without a digest: hex SHA-256 of the URI."""
    return hashlib.sha256(image_uri(tag).encode()).hexdigest()


class Admin:
    """The two admin endpoints over plain HTTP, answering (status, headers, body)."""

    def __init__(self, emu):
        self.emu = emu

    def raw(self, method, path, body):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.emu.request(method, path, body=body)

    def ok(self, method, path, body=None):
        status, hdrs, data = self.raw(method, path, body)
        if status != 200:
            raise EmulatorError("%s %s -> %d %r" % (method, path, status, data[:500]))
        return json.loads(data)

    def fail(self, key, reason, code=None):
        body = {"key": key, "reason": reason}
        if code is not None:
            body["reason_code"] = code
        return self.ok("PUT", "/_emulator/update-failure", body)

    def clear(self, key):
        return self.ok("PUT", "/_emulator/update-failure", {"key": key, "clear": True})

    def intercept(self, operation, function, code=None, config=None):
        body = {"operation": operation, "function": function}
        if code is not None:
            body["update_code"] = code
        if config is not None:
            body["update_configuration"] = config
        return self.ok("POST", "/_emulator/intercept", body)

    def intercepts(self):
        return self.ok("GET", "/_emulator/intercept")["intercepts"]


class ControlTestCase(EmulatorTestCase):
    CREATE_MS = 40
    UPDATE_MS = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = Admin(cls.emu)

    def wait(self, waiter, name, **kw):
        self.lam.get_waiter(waiter).wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5}, **kw
        )

    def assertWaiterFails(self, waiter, name, **kw):
        """The waiter stops at once on a terminal failure state; returns its last answer."""
        t0 = time.monotonic()
        with self.assertRaises(WaiterError) as cm:
            self.wait(waiter, name, **kw)
        self.assertIn("terminal failure state", str(cm.exception))
        self.assertLess(time.monotonic() - t0, 0.9, "the waiter polled again instead of failing")
        return cm.exception.last_response


class UpdateFailure(ControlTestCase):
    def test_failed_image_update(self):
        name = "fail-image"
        self.ready_image(name, "v1")
        self.emu.set_invoke(image_uri("v1"), {"ran": "v1"})
        self.emu.set_invoke(image_uri("bad"), {"ran": "bad"})
        self.assertEqual(self.admin.fail(image_uri("bad"), DENIED, DENIED_CODE), {})
        up = self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("bad"))
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.settle(self.UPDATE_MS)
        # botocore's FunctionUpdatedV2 waiter fails on the first poll, with the reason.
        last = self.assertWaiterFails("function_updated_v2", name)
        cfg = last["Configuration"]
        self.assertEqual(
            (cfg["State"], cfg["LastUpdateStatus"], cfg["LastUpdateStatusReason"], cfg["LastUpdateStatusReasonCode"]),
            ("Active", "Failed", DENIED, DENIED_CODE),
        )
        # The old waiter on GetFunctionConfiguration agrees.
        self.assertWaiterFails("function_updated", name)
        # $LATEST shows what the update asked for; its RevisionId moved when the update ended.
        gf = self.lam.get_function(FunctionName=name)
        self.assertEqual(gf["Code"]["ImageUri"], image_uri("bad"))
        self.assertEqual(gf["Configuration"]["CodeSha256"], image_digest("bad"))
        self.assertEqual(gf["Configuration"]["CodeSha256"], up["CodeSha256"])
        self.assertNotEqual(gf["Configuration"]["RevisionId"], up["RevisionId"])
        self.assertNotIn("StateReason", gf["Configuration"])
        # Lambda aborted the update: invocations keep running the code that deployed.
        inv = self.lam.invoke(FunctionName=name)
        self.assertEqual((inv["ExecutedVersion"], payload_json(inv)), ("$LATEST", {"ran": "v1"}))
        # The next update is accepted and, with deployable code, succeeds.
        up2 = self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("v2"),
                                            RevisionId=gf["Configuration"]["RevisionId"])
        self.assertEqual(up2["LastUpdateStatus"], "InProgress")
        self.wait_updated(name)
        cfg = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")
        self.assertNotIn("LastUpdateStatusReason", cfg)
        self.assertNotIn("LastUpdateStatusReasonCode", cfg)
        self.assertEqual(payload_json(self.lam.invoke(FunctionName=name)), {"statusCode": 200})

    def test_failed_configuration_update_then_publish(self):
        name = "fail-config"
        _, code = self.ready_zip(name, "fc-1")
        sha = code_sha256(code)
        # No reason_code: the default is InvalidImage.
        self.admin.fail(sha, "The code cannot be deployed.")
        self.lam.update_function_configuration(FunctionName=name, Description="attempted", MemorySize=512)
        self.settle(self.UPDATE_MS)
        cfg = self.assertWaiterFails("function_updated_v2", name)["Configuration"]
        self.assertEqual(
            (cfg["LastUpdateStatus"], cfg["LastUpdateStatusReason"], cfg["LastUpdateStatusReasonCode"]),
            ("Failed", "The code cannot be deployed.", "InvalidImage"),
        )
        got = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual((got["Description"], got["MemorySize"], got["CodeSha256"]), ("attempted", 512, sha))
        # PublishVersion is not refused after a failed update, but the version cannot deploy
        # that code either: it is Failed, and PublishedVersionActive fails on it.
        pub = self.publish(name, RevisionId=got["RevisionId"])
        self.assertEqual((pub["Version"], pub["State"], pub["StateReasonCode"]), ("1", "Failed", "InvalidImage"))
        self.assertEqual(pub["StateReason"], "The code cannot be deployed.")
        self.assertWaiterFails("published_version_active", name, Qualifier="1")
        self.assertError(CONFLICT, 409, self.lam.invoke, FunctionName=name, Qualifier="1")
        # $LATEST keeps running the configuration that deployed.
        self.assertEqual(self.lam.invoke(FunctionName=name)["StatusCode"], 200)
        # Once the rule is cleared the same code deploys.
        self.assertEqual(self.admin.clear(sha), {"removed": True})
        self.assertEqual(self.admin.clear(sha), {"removed": False})
        self.update_config(name, Description="fixed")
        cfg = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((cfg["LastUpdateStatus"], cfg["Description"]), ("Successful", "fixed"))
        pub = self.publish(name)
        self.assertEqual((pub["Version"], pub["State"], pub["LastUpdateStatus"]), ("2", "Active", "Successful"))
        self.wait("published_version_active", name, Qualifier="2")

    def test_failed_create(self):
        name = "fail-create"
        self.admin.fail(image_uri("broken"), "The image manifest is not valid.", "InvalidImage")
        resp = self.create_image(name, "broken")
        self.assertEqual(resp["State"], "Pending")
        self.settle(self.CREATE_MS)
        cfg = self.assertWaiterFails("function_active_v2", name)["Configuration"]
        self.assertEqual(
            (cfg["State"], cfg["StateReason"], cfg["StateReasonCode"]),
            ("Failed", "The image manifest is not valid.", "InvalidImage"),
        )
        self.assertEqual(cfg["LastUpdateStatus"], "Failed")
        self.assertWaiterFails("function_active", name)
        # A function whose creation failed can only be deleted.
        msg = "The function is currently in the following state: Failed"
        for call, kw in (
            (self.lam.update_function_code, {"ImageUri": image_uri("v2")}),
            (self.lam.update_function_configuration, {"Description": "x"}),
            (self.lam.publish_version, {}),
            (self.lam.invoke, {}),
        ):
            r = self.assertError(CONFLICT, 409, call, FunctionName=name, **kw)
            self.assertIn(msg, r["Error"]["Message"])
        self.lam.delete_function(FunctionName=name)
        self.admin.clear(image_uri("broken"))
        self.ready_image(name, "broken")
        self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["State"], "Active")

    def test_create_with_publish_fails_both(self):
        name = "fail-create-publish"
        self.admin.fail(image_uri("nope"), DENIED, DENIED_CODE)
        resp = self.create_image(name, "nope", Publish=True)
        self.assertEqual((resp["Version"], resp["State"]), ("1", "Pending"))
        self.settle(self.CREATE_MS)
        ver = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual((ver["State"], ver["StateReasonCode"]), ("Failed", DENIED_CODE))
        self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["State"], "Failed")

    def test_rule_in_force_at_acceptance_decides(self):
        name = "fail-decided"
        self.ready_image(name, "v1")
        self.admin.fail(image_uri("late"), DENIED, DENIED_CODE)
        self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("late"))
        # Clearing the rule inside the window does not rescue the accepted update ...
        self.admin.clear(image_uri("late"))
        self.settle(self.UPDATE_MS)
        self.assertWaiterFails("function_updated_v2", name)
        # ... and setting one inside the window does not fail an update accepted before it.
        self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("v3"))
        self.admin.fail(image_uri("v3"), DENIED, DENIED_CODE)
        self.wait_updated(name)
        self.admin.clear(image_uri("v3"))

    def test_unknown_reason_codes_pass_through(self):
        # Newer Lambda models add reason codes; a client must not choke on one it does not know.
        name = "fail-newcode"
        _, code = self.ready_zip(name, "nc-1")
        self.admin.fail(code_sha256(make_zip("nc-2")), "Init timed out.", "FunctionError.InitTimeout")
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip("nc-2"))
        self.settle(self.UPDATE_MS)
        cfg = self.assertWaiterFails("function_updated_v2", name)["Configuration"]
        self.assertEqual(cfg["LastUpdateStatusReasonCode"], "FunctionError.InitTimeout")


class Intercept(ControlTestCase):
    UPDATE_MS = 300

    def test_publish_version_loses_the_race(self):
        name = "icpt-publish"
        self.ready_image(name, "v1")
        before = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(self.admin.intercept("PublishVersion", name, code={"ImageUri": image_uri("other")}), {})
        self.assertEqual(self.admin.intercepts(), [{
            "operation": "PublishVersion", "function": name,
            "update_code": {"ImageUri": image_uri("other"), "CodeSha256": image_digest("other"), "CodeSize": 0},
        }])
        # Other requests, and other operations on the function, leave it waiting.
        self.lam.get_function(FunctionName=name)
        self.assertEqual(len(self.admin.intercepts()), 1)
        time.sleep(0.01)  # LastModified has millisecond resolution
        r = self.assertError(PRECONDITION, 412, self.lam.publish_version, FunctionName=name,
                             RevisionId=before["RevisionId"])
        self.assertIn("Revision Id provided does not match", r["Error"]["Message"])
        self.assertEqual(self.admin.intercepts(), [], "the intercept did not fire exactly once")
        gf = self.lam.get_function(FunctionName=name)
        cfg = gf["Configuration"]
        self.assertEqual(gf["Code"]["ImageUri"], image_uri("other"))
        self.assertEqual(cfg["CodeSha256"], image_digest("other"))
        self.assertEqual((cfg["State"], cfg["LastUpdateStatus"]), ("Active", "Successful"))
        self.assertNotEqual(cfg["RevisionId"], before["RevisionId"])
        self.assertGreater(cfg["LastModified"], before["LastModified"])
        self.assertEqual(self.version_numbers(name), ["$LATEST"])
        # With the fresh RevisionId the publish goes through, once: nothing fires again.
        pub = self.publish(name, RevisionId=cfg["RevisionId"])
        self.assertEqual((pub["Version"], pub["CodeSha256"]), ("1", image_digest("other")))
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1"])

    def test_update_alias_and_configuration(self):
        name = "icpt-alias"
        self.ready_zip(name, "ia-1")
        self.publish(name)
        alias = self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        fn_rev = self.revision(name)
        config = {"Description": "by another client", "MemorySize": 256, "Timeout": 30,
                  "Environment": {"Variables": {"WHO": "other"}}}
        self.admin.intercept("UpdateAlias", name, config=config)
        self.assertEqual(self.admin.intercepts()[0]["update_configuration"], config)
        got = self.lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1",
                                    RevisionId=alias["RevisionId"])
        self.assertEqual(got["FunctionVersion"], "1")
        self.assertEqual(self.admin.intercepts(), [])
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(
            (cfg["Description"], cfg["MemorySize"], cfg["Timeout"], cfg["Environment"]["Variables"]),
            ("by another client", 256, 30, {"WHO": "other"}),
        )
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")
        self.assertError(PRECONDITION, 412, self.lam.publish_version, FunctionName=name, RevisionId=fn_rev)
        pub = self.publish(name, RevisionId=cfg["RevisionId"])
        self.assertEqual((pub["Version"], pub["MemorySize"]), ("2", 256))

    def test_get_function_sees_the_change_it_triggered(self):
        name = "icpt-get"
        other = "icpt-get-other"
        self.ready_zip(name, "ig-1")
        self.ready_zip(other, "ig-x")
        new = make_zip("ig-2")
        self.admin.intercept("GetFunction", name, code={"ZipFile": base64.b64encode(new).decode()})
        listed = self.admin.intercepts()
        self.assertEqual(listed[0]["update_code"], {"CodeSha256": code_sha256(new), "CodeSize": len(new)})
        # A GetFunction of another function does not fire it ...
        self.lam.get_function(FunctionName=other)
        self.assertEqual(len(self.admin.intercepts()), 1)
        # ... one naming this function in any form does, before it is answered.
        cfg = self.lam.get_function(FunctionName=function_arn(name))["Configuration"]
        self.assertEqual((cfg["CodeSha256"], cfg["CodeSize"]), (code_sha256(new), len(new)))
        self.assertEqual(self.admin.intercepts(), [])

    def test_waits_while_an_update_is_in_progress(self):
        name = "icpt-wait"
        self.ready_zip(name, "iw-1")
        self.admin.intercept("GetFunction", name, config={"Description": "intercepted"})
        self.lam.update_function_configuration(FunctionName=name, Description="mine")
        t0 = time.monotonic()
        cfg = self.lam.get_function(FunctionName=name)["Configuration"]
        if time.monotonic() - t0 < 0.2:
            self.assertEqual((cfg["LastUpdateStatus"], cfg["Description"]), ("InProgress", "mine"))
            self.assertEqual(len(self.admin.intercepts()), 1, "fired while an update was in progress")
        self.settle(self.UPDATE_MS)
        cfg = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((cfg["LastUpdateStatus"], cfg["Description"]), ("Successful", "intercepted"))
        self.assertEqual(self.admin.intercepts(), [])

    def test_one_per_request_in_order(self):
        name = "icpt-order"
        self.ready_zip(name, "io-1")
        self.admin.intercept("GetFunctionConfiguration", name, config={"Description": "first"})
        self.admin.intercept("GetFunctionConfiguration", name, config={"Description": "second"})
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Description"], "first")
        self.assertEqual([i["update_configuration"] for i in self.admin.intercepts()], [{"Description": "second"}])
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Description"], "second")
        self.assertEqual(self.admin.intercepts(), [])

    def test_operation_without_a_function(self):
        # ListFunctions names no function: the next one fires the intercept, whatever it lists.
        name = "icpt-list"
        self.ready_zip(name, "il-1")
        self.admin.intercept("ListFunctions", name, config={"Timeout": 42})
        listed = {f["FunctionName"]: f for f in self.lam.list_functions()["Functions"]}
        self.assertEqual(listed[name]["Timeout"], 42)
        self.assertEqual(self.admin.intercepts(), [])

    def test_bad_bodies(self):
        name = "icpt-bad"
        self.ready_zip(name, "ib-1")
        fail, icpt = "/_emulator/update-failure", "/_emulator/intercept"
        cases = [
            ("PUT", fail, b"{{{"),
            ("PUT", fail, b"[]"),
            ("PUT", fail, {"reason": "r"}),
            ("PUT", fail, {"key": "", "reason": "r"}),
            ("PUT", fail, {"key": "k"}),
            ("PUT", fail, {"key": "k", "reason": ""}),
            ("PUT", fail, {"key": "k", "reason": 5}),
            ("PUT", fail, {"key": "k", "reason": "r", "reason_code": "not a code"}),
            ("PUT", fail, {"key": "k", "reason": "r", "reason_code": 7}),
            ("PUT", fail, {"key": "k", "reason": "r", "extra": 1}),
            ("PUT", fail, {"key": "k", "clear": "yes"}),
            ("PUT", fail, {"key": "k", "clear": True, "reason": "r"}),
            ("POST", icpt, b"{{{"),
            ("POST", icpt, {"function": name, "update_configuration": {"Description": "x"}}),
            ("POST", icpt, {"operation": "Nope", "function": name, "update_configuration": {"Description": "x"}}),
            ("POST", icpt, {"operation": "GetFunction", "update_configuration": {"Description": "x"}}),
            ("POST", icpt, {"operation": "GetFunction", "function": "bad name!", "update_configuration": {}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_code": "x"}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_configuration": {}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_configuration": {"Memory": 256}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_configuration": {"MemorySize": 1}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name,
                            "update_configuration": {"MemorySize": "big"}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name,
                            "update_configuration": {"Environment": {"Variables": {"AWS_REGION": "x"}}}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_code": {"ImageUri": image_uri("z")}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_code": {"ZipFile": "bm90IGEgemlw"}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "update_code": {"CodeSha256": "x"}}),
            ("POST", icpt, {"operation": "GetFunction", "function": name, "extra": 1,
                            "update_configuration": {"Description": "x"}}),
        ]
        for method, path, body in cases:
            with self.subTest(method=method, path=path, body=body):
                status, hdrs, data = self.admin.raw(method, path, body)
                self.assertEqual(status, 400, data)
                self.assertEqual(self.assertAwsError(status, hdrs, data), "InvalidRequestContentException")
        status, hdrs, data = self.admin.raw(
            "POST", icpt, {"operation": "GetFunction", "function": "no-such-fn", "update_configuration": {"Timeout": 9}}
        )
        self.assertEqual((status, self.assertAwsError(status, hdrs, data)), (404, "ResourceNotFoundException"))
        for method, path, allow in (("DELETE", icpt, "GET, POST"), ("GET", fail, "PUT"), ("POST", fail, "PUT")):
            status, hdrs, data = self.admin.raw(method, path, None)
            self.assertEqual((status, hdrs.get("allow")), (405, allow), data)
        # Nothing was stored, and the function is as it was.
        self.assertEqual(self.admin.intercepts(), [])
        self.lam.update_function_configuration(FunctionName=name, Description="still fine")
        self.wait_updated(name)


class Reset(ControlTestCase):
    def test_reset_clears_rules_and_intercepts(self):
        name = "reset-ctl"
        self.ready_image(name, "v1")
        self.admin.fail(image_uri("r1"), DENIED, DENIED_CODE)
        self.admin.intercept("GetFunction", name, config={"Description": "x"})
        self.emu.reset()
        self.assertEqual(self.admin.intercepts(), [])
        self.ready_image(name, "r1")
        self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("r1"))
        self.wait_updated(name)
        cfg = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((cfg["State"], cfg["LastUpdateStatus"], cfg["Description"]), ("Active", "Successful", ""))
        status, _, data = self.admin.raw("GET", "/_emulator/unknown", None)
        self.assertEqual(status, 404)
        for endpoint in ("update-failure", "intercept"):
            self.assertIn("/_emulator/" + endpoint, json.loads(data)["message"])


class StateFile(unittest.TestCase):
    """Update-failure rules and failed states survive --state; intercepts do not."""

    ARGS = ("--create-delay-ms", "30", "--update-delay-ms", "30")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tether-conf-control-")
        self.state = os.path.join(self.dir, "state.json")
        self.emu = None

    def tearDown(self):
        if self.emu is not None and self.emu.proc is not None:
            self.emu.stop(check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        self.emu = Emulator("--state", self.state, *self.ARGS).start()
        return self.emu.client(), Admin(self.emu)

    def create(self, lam, name, tag):
        lam.create_function(FunctionName=name, Role="arn:aws:iam::123456789012:role/r",
                            PackageType="Image", Code={"ImageUri": image_uri(tag)})

    def test_rules_and_failures_survive_restart(self):
        lam, admin = self.start()
        self.create(lam, "st-ok", "v1")
        admin.fail(image_uri("dead"), DENIED, DENIED_CODE)
        self.create(lam, "st-dead", "dead")
        time.sleep(0.1)
        self.emu.set_invoke(image_uri("v1"), {"ran": "v1"})
        lam.update_function_code(FunctionName="st-ok", ImageUri=image_uri("dead"))
        admin.intercept("ListAliases", "st-ok", config={"Description": "lost"})
        time.sleep(0.1)
        before = lam.get_function(FunctionName="st-ok")["Configuration"]
        self.assertEqual(before["LastUpdateStatus"], "Failed")
        self.emu.stop(check=True)

        lam, admin = self.start()
        self.assertEqual(admin.intercepts(), [])
        after = lam.get_function(FunctionName="st-ok")["Configuration"]
        keys = ("RevisionId", "CodeSha256", "State", "LastUpdateStatus", "LastUpdateStatusReason",
                "LastUpdateStatusReasonCode", "Description")
        self.assertEqual({k: after.get(k) for k in keys}, {k: before.get(k) for k in keys})
        # Still running the code that deployed before the failed update.
        self.assertEqual(payload_json(lam.invoke(FunctionName="st-ok")), {"ran": "v1"})
        dead = lam.get_function(FunctionName="st-dead")["Configuration"]
        self.assertEqual((dead["State"], dead["StateReasonCode"], dead["StateReason"]), ("Failed", DENIED_CODE, DENIED))
        # The rule came back too.
        lam.update_function_code(FunctionName="st-ok", ImageUri=image_uri("v1"))
        time.sleep(0.1)
        self.assertEqual(lam.get_function(FunctionName="st-ok")["Configuration"]["LastUpdateStatus"], "Successful")
        lam.update_function_code(FunctionName="st-ok", ImageUri=image_uri("dead"))
        time.sleep(0.1)
        self.assertEqual(lam.get_function(FunctionName="st-ok")["Configuration"]["LastUpdateStatus"], "Failed")
        self.emu.stop(check=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
