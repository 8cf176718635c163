#!/usr/bin/python3
"""State machine, RevisionId and PublishVersion check order, observed through botocore
and its waiters. Windows are long enough (0.8 s) to observe Pending and InProgress."""

import time
import unittest

from lambdatest import EmulatorTestCase, code_sha256, make_zip
from timescale import scaled

CONFLICT = "ResourceConflictException"
PRECONDITION = "PreconditionFailedException"
PARAM = "InvalidParameterValueException"
WRONG_SHA = code_sha256(b"not the code of any function")


class StateWindows(EmulatorTestCase):
    # Under valgrind (TETHER_TEST_TIME_SCALE) the emulator answers slower: wider windows.
    CREATE_MS = int(scaled(800))
    UPDATE_MS = int(scaled(800))
    QUICK = scaled(0.6)  # the checks inside a window must finish well before it closes

    def waiter(self, which, name, **kw):
        self.lam.get_waiter(which).wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": int(scaled(8))}, **kw
        )

    def test_pending_until_create_delay_then_active(self):
        name = "life-pending"
        t0 = time.monotonic()
        resp, _ = self.create_zip(name)
        self.assertEqual(resp["State"], "Pending")
        self.assertEqual(resp.get("StateReasonCode"), "Creating")
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(gf["State"], "Pending")
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg["State"], "Pending")
        # While Pending: Invoke, Update* and PublishVersion are refused with 409.
        self.assertError(CONFLICT, 409, self.lam.invoke, FunctionName=name)
        self.assertError(CONFLICT, 409, self.lam.update_function_configuration, FunctionName=name, Timeout=9)
        self.assertError(CONFLICT, 409, self.lam.update_function_code, FunctionName=name, ZipFile=make_zip("p2"))
        self.assertError(CONFLICT, 409, self.lam.publish_version, FunctionName=name)
        self.assertLess(time.monotonic() - t0, self.QUICK, "the checks above took too long to be meaningful")
        self.waiter("function_active_v2", name)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, self.CREATE_MS / 1000, "Active before --create-delay-ms elapsed")
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((gf["State"], gf["LastUpdateStatus"]), ("Active", "Successful"))
        self.assertEqual(self.lam.invoke(FunctionName=name)["StatusCode"], 200)
        # The old-style waiter on GetFunctionConfiguration agrees.
        self.lam.get_waiter("function_active").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )

    def test_update_in_progress_window(self):
        name = "life-update"
        self.create_zip(name)
        self.waiter("function_active_v2", name)
        v1 = self.publish(name)["Version"]
        rev0 = self.revision(name)
        t0 = time.monotonic()
        up = self.lam.update_function_configuration(FunctionName=name, Description="window")
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.assertEqual(up["State"], "Active")
        self.assertNotEqual(up["RevisionId"], rev0)
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(gf["LastUpdateStatus"], "InProgress")
        self.assertEqual(gf["RevisionId"], up["RevisionId"])
        # During InProgress: Update*, PublishVersion and Invoke of $LATEST answer 409 ...
        self.assertError(CONFLICT, 409, self.lam.update_function_configuration, FunctionName=name, Timeout=9)
        self.assertError(CONFLICT, 409, self.lam.update_function_code, FunctionName=name, ZipFile=make_zip("u2"))
        self.assertError(CONFLICT, 409, self.lam.publish_version, FunctionName=name)
        self.assertError(CONFLICT, 409, self.lam.invoke, FunctionName=name)
        self.assertError(CONFLICT, 409, self.lam.invoke, FunctionName=name, Qualifier="$LATEST")
        # ... while reads and a published version keep working.
        self.assertEqual(self.lam.invoke(FunctionName=name, Qualifier=v1)["ExecutedVersion"], v1)
        self.assertEqual(self.lam.list_versions_by_function(FunctionName=name)["Versions"][0]["Version"], "$LATEST")
        self.assertLess(time.monotonic() - t0, self.QUICK, "the checks above took too long to be meaningful")
        self.waiter("function_updated_v2", name)
        self.assertGreaterEqual(time.monotonic() - t0, self.UPDATE_MS / 1000, "Successful before --update-delay-ms elapsed")
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(gf["LastUpdateStatus"], "Successful")
        self.assertEqual(gf["Description"], "window")
        # The RevisionId is minted again when the update completes.
        self.assertNotEqual(gf["RevisionId"], up["RevisionId"])
        self.assertEqual(self.lam.invoke(FunctionName=name)["StatusCode"], 200)
        self.lam.get_waiter("function_updated").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )

    def test_revision_ids_and_preconditions(self):
        name = "life-rev"
        created, _ = self.create_zip(name)
        self.waiter("function_active_v2", name)
        r_active = self.revision(name)
        code = make_zip("rev-2")
        up = self.lam.update_function_code(FunctionName=name, ZipFile=code, RevisionId=r_active)
        self.assertNotEqual(up["RevisionId"], r_active)
        self.waiter("function_updated_v2", name)
        r_done = self.revision(name)
        self.assertNotEqual(r_done, up["RevisionId"])
        self.assertNotEqual(r_done, created["RevisionId"])
        # The id returned by UpdateFunctionCode is stale now: 412 for every guarded call.
        stale = up["RevisionId"]
        self.assertError(
            PRECONDITION, 412, self.lam.update_function_configuration, FunctionName=name,
            Description="x", RevisionId=stale,
        )
        self.assertError(
            PRECONDITION, 412, self.lam.update_function_code, FunctionName=name,
            ZipFile=make_zip("rev-3"), RevisionId=stale,
        )
        self.assertError(PRECONDITION, 412, self.lam.publish_version, FunctionName=name, RevisionId=stale)
        # The rejected calls changed nothing.
        self.assertEqual(self.revision(name), r_done)
        self.assertEqual(self.version_numbers(name), ["$LATEST"])
        # The current id is accepted, by each guarded call.
        pub = self.publish(name, RevisionId=r_done)
        self.assertEqual(pub["Version"], "1")
        self.assertEqual(pub["CodeSha256"], code_sha256(code))
        up2 = self.lam.update_function_configuration(FunctionName=name, Description="y", RevisionId=self.revision(name))
        self.assertEqual(up2["LastUpdateStatus"], "InProgress")
        self.waiter("function_updated_v2", name)
        up3 = self.lam.update_function_code(FunctionName=name, ZipFile=make_zip("rev-4"), RevisionId=self.revision(name))
        self.assertEqual(up3["LastUpdateStatus"], "InProgress")
        self.waiter("function_updated_v2", name)

    def test_publish_version_check_order(self):
        name = "life-order"
        _, code = self.create_zip(name, "order-1")
        self.waiter("function_active_v2", name)
        old_rev = self.revision(name)
        self.lam.update_function_configuration(FunctionName=name, Description="make old_rev stale")
        self.waiter("function_updated_v2", name)
        sha = code_sha256(code)
        # Settled function: 412 beats 400.
        self.assertError(
            PRECONDITION, 412, self.lam.publish_version, FunctionName=name,
            RevisionId=old_rev, CodeSha256=WRONG_SHA,
        )
        r = self.assertError(PARAM, 400, self.lam.publish_version, FunctionName=name, CodeSha256=WRONG_SHA)
        self.assertIn(WRONG_SHA, r["Error"]["Message"])
        # An update in progress (409) loses to both.
        up = self.lam.update_function_configuration(FunctionName=name, Description="in progress")
        current = up["RevisionId"]
        t0 = time.monotonic()
        self.assertError(
            PRECONDITION, 412, self.lam.publish_version, FunctionName=name,
            RevisionId=old_rev, CodeSha256=WRONG_SHA,
        )
        self.assertError(PRECONDITION, 412, self.lam.publish_version, FunctionName=name, RevisionId=old_rev)
        self.assertError(
            PARAM, 400, self.lam.publish_version, FunctionName=name, RevisionId=current, CodeSha256=WRONG_SHA
        )
        self.assertError(PARAM, 400, self.lam.publish_version, FunctionName=name, CodeSha256=WRONG_SHA)
        self.assertError(
            CONFLICT, 409, self.lam.publish_version, FunctionName=name, RevisionId=current, CodeSha256=sha
        )
        self.assertLess(time.monotonic() - t0, self.QUICK, "the checks above took too long to be meaningful")
        self.waiter("function_updated_v2", name)
        self.assertEqual(self.version_numbers(name), ["$LATEST"])
        pub = self.publish(name, RevisionId=self.revision(name), CodeSha256=sha)
        self.assertEqual(pub["Version"], "1")
        self.assertEqual(pub["Description"], "in progress")


class DefaultWindows(EmulatorTestCase):
    """No window options: Pending for 100 ms, InProgress for 200 ms."""

    @classmethod
    def emulator_args(cls):
        return []

    def test_default_create_and_update_delays(self):
        name = "default-windows"
        t0 = time.monotonic()
        resp, _ = self.create_zip(name)
        self.assertEqual(resp["State"], "Pending")
        if time.monotonic() - t0 < 0.08:
            self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["State"], "Pending")
        time.sleep(0.35)
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(gf["State"], "Active")
        t1 = time.monotonic()
        up = self.lam.update_function_configuration(FunctionName=name, Timeout=11)
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        if time.monotonic() - t1 < 0.15:
            self.assertEqual(
                self.lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"], "InProgress"
            )
        time.sleep(0.5)
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((gf["LastUpdateStatus"], gf["Timeout"]), ("Successful", 11))


if __name__ == "__main__":
    unittest.main(verbosity=2)
