#!/usr/bin/python3
"""Fault and persistence options, each on its own emulator: --throttle-rps, --error-rate,
--reset-rate, --latency-ms and --state (survives a SIGTERM and a restart)."""

import json
import os
import shutil
import socket
import tempfile
import time
import unittest

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from emulator import Emulator
from lambdatest import EmulatorTestCase, code_sha256, function_arn, make_zip

LIST = "/2015-03-31/functions/"


def signed_wire(emu, method, path):
    """The bytes of one SigV4-signed HTTP/1.1 request without a body."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = "127.0.0.1:%d" % emu.port
    req = AWSRequest(method=method, url=emu.endpoint + path, headers={"Host": host})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(req)
    lines = ["%s %s HTTP/1.1" % (method, path)] + ["%s: %s" % kv for kv in req.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Throttle(EmulatorTestCase):
    EXTRA_ARGS = ("--auth", "none", "--throttle-rps", "2")

    def test_burst_is_throttled(self):
        self.emu.reset()
        results = [self.emu.request("GET", LIST) for _ in range(12)]
        statuses = [r[0] for r in results]
        self.assertEqual(statuses[0], 200)
        self.assertIn(429, statuses)
        self.assertTrue(set(statuses) <= {200, 429}, statuses)
        throttled = [r for r in results if r[0] == 429]
        for status, hdrs, body in throttled:
            self.assertEqual(self.assertAwsError(status, hdrs, body), "TooManyRequestsException")
            doc = json.loads(body)
            self.assertEqual(doc["Reason"], "CallerRateLimitExceeded")
            self.assertIn("retry-after", hdrs)
            self.assertGreaterEqual(int(hdrs["retry-after"]), 1)
        stats = self.emu.stats()
        self.assertEqual(stats["throttled"], len(throttled))
        self.assertEqual(stats["operations"].get("ListFunctions"), 12)
        # botocore sees the same as a TooManyRequestsException (retries are off).
        time.sleep(1.1)
        lam = self.emu.client()
        errors = 0
        for _ in range(8):
            try:
                lam.list_functions()
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "TooManyRequestsException")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 429)
                self.assertEqual(e.response.get("Reason"), "CallerRateLimitExceeded")
                errors += 1
        self.assertGreater(errors, 0)
        # The bucket refills.
        time.sleep(1.1)
        self.assertEqual(self.emu.request("GET", LIST)[0], 200)

    def test_get_function_and_invoke_are_not_in_the_shared_bucket(self):
        # Real Lambda: GetFunction has its own quota (off here: no --getfunction-rps) and
        # Invoke is data plane; neither is charged to the shared control-plane bucket.
        time.sleep(1.1)
        lam = self.emu.client()
        self.emu.reset()
        lam.create_function(FunctionName="bucket-fn", Runtime="python3.9", Role="arn:aws:iam::123456789012:role/r",
                            Handler="index.handler", Code={"ZipFile": make_zip("b")})
        time.sleep(0.1)
        for _ in range(15):
            self.assertEqual(lam.get_function(FunctionName="bucket-fn")["Configuration"]["FunctionName"], "bucket-fn")
            self.assertEqual(lam.invoke(FunctionName="bucket-fn")["StatusCode"], 200)
        self.assertEqual(self.emu.stats()["throttled"], 0)


class ErrorRate(EmulatorTestCase):
    EXTRA_ARGS = ("--error-rate", "1")

    def test_every_call_fails_with_service_exception(self):
        self.assertError("ServiceException", 500, self.lam.list_functions)
        self.assertError("ServiceException", 500, self.lam.get_function, FunctionName="x")
        self.assertError("ServiceException", 500, self.create_zip, "err-fn")
        status, hdrs, body = self.emu.signed_request("GET", LIST)
        self.assertEqual(status, 500)
        self.assertEqual(self.assertAwsError(status, hdrs, body), "ServiceException")
        self.assertEqual(json.loads(body)["Type"], "Service")
        self.assertGreaterEqual(self.emu.stats()["operations"].get("ListFunctions", 0), 2)


class ResetRate(EmulatorTestCase):
    EXTRA_ARGS = ("--reset-rate", "1")

    def test_connection_closed_without_answer(self):
        for _ in range(3):
            wire = signed_wire(self.emu, "GET", LIST)
            sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
            try:
                sock.sendall(wire)
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
            except socket.timeout:
                self.fail("the emulator neither answered nor closed within 10 s")
            finally:
                sock.close()
            self.assertEqual(data, b"", "got an answer: %r" % data[:200])
        with self.assertRaises((ConnectionClosedError, EndpointConnectionError)):
            self.lam.list_functions()
        # The admin API is not subject to faults, and the emulator is still up.
        self.assertIn("requests", self.emu.stats())


class Seed(unittest.TestCase):
    def outcomes(self, seed):
        with Emulator("--auth", "none", "--error-rate", "0.5", "--seed", str(seed)) as emu:
            return [emu.request("GET", LIST)[0] for _ in range(40)]

    def test_same_seed_same_faults(self):
        a, b = self.outcomes(7), self.outcomes(7)
        self.assertEqual(a, b)
        self.assertEqual(set(a), {200, 500})
        self.assertNotEqual(a, self.outcomes(8))  # the chance of equal sequences is 2^-40


class CommandLine(unittest.TestCase):
    def test_bad_options_exit_2(self):
        import subprocess

        from emulator import emulator_binary

        for args in (["--bogus"], ["--error-rate", "2"], ["--error-rate", "0.6", "--reset-rate", "0.6"],
                     ["--create-delay-ms", "-1"], ["--auth", "maybe"], ["--listen", "0.0.0.0:0"],
                     ["--credentials", "nocolon"], ["stray"]):
            with self.subTest(args=args):
                r = subprocess.run([emulator_binary()] + args, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
                self.assertEqual(r.returncode, 2, r.stderr[-300:])
                self.assertTrue(r.stderr.strip())


class AccessLog(unittest.TestCase):
    def test_one_line_per_lambda_request(self):
        d = tempfile.mkdtemp(prefix="tether-conf-log-")
        try:
            path = os.path.join(d, "access.log")
            with Emulator("--auth", "none", "--access-log", path) as emu:
                emu.request("GET", LIST)
                emu.request("GET", "/2015-03-31/functions/missing")
                emu.request("GET", "/nope")
                emu.stats()
            with open(path) as f:
                lines = [json.loads(x) for x in f]
            self.assertEqual([(x["op"], x["status"]) for x in lines],
                             [("ListFunctions", 200), ("GetFunction", 404), (None, 404)])
            for x in lines:
                self.assertRegex(x["request_id"], r"^[0-9a-f-]{36}$")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class Latency(EmulatorTestCase):
    EXTRA_ARGS = ("--latency-ms", "200")

    def test_calls_are_delayed(self):
        self.lam.list_functions()  # connection set up
        for call in (lambda: self.lam.list_functions(),
                     lambda: self.assertError("ResourceNotFoundException", 404, self.lam.get_function, FunctionName="x")):
            t0 = time.monotonic()
            call()
            self.assertGreaterEqual(time.monotonic() - t0, 0.2)


class StateFile(unittest.TestCase):
    ARGS = ("--create-delay-ms", "30", "--update-delay-ms", "30")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tether-conf-state-")
        self.state = os.path.join(self.dir, "state.json")
        self.emu = None

    def tearDown(self):
        if self.emu is not None and self.emu.proc is not None:
            self.emu.stop(check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def settle(self):
        time.sleep(0.08)

    def test_state_survives_restart(self):
        self.emu = Emulator("--state", self.state, *self.ARGS).start()
        lam = self.emu.client()
        name = "state-fn"
        code = make_zip("state-1")
        lam.create_function(FunctionName=name, Runtime="python3.9", Role="arn:aws:iam::123456789012:role/r",
                            Handler="index.handler", Code={"ZipFile": code}, Tags={"keep": "me"})
        self.settle()
        self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "1")
        lam.update_function_configuration(FunctionName=name, Description="two", MemorySize=256)
        self.settle()
        self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "2")
        lam.update_function_configuration(FunctionName=name, Description="three")
        self.settle()
        self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "3")
        lam.delete_function(FunctionName=name, Qualifier="3")
        alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2",
                                 RoutingConfig={"AdditionalVersionWeights": {"1": 0.3}})
        layer = lam.publish_layer_version(LayerName="state-layer", Content={"ZipFile": make_zip("sl")})
        lam.create_function(FunctionName="state-pending", Runtime="python3.9",
                            Role="arn:aws:iam::123456789012:role/r", Handler="index.handler",
                            Code={"ZipFile": make_zip("pending")})
        before = lam.get_function(FunctionName=name)
        before_versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        self.emu.stop(check=True)
        self.assertTrue(os.path.exists(self.state), "no state file written on SIGTERM")

        self.emu = Emulator("--state", self.state, *self.ARGS).start()
        lam = self.emu.client()
        after = lam.get_function(FunctionName=name)
        self.assertEqual(after["Configuration"]["RevisionId"], before["Configuration"]["RevisionId"])
        self.assertEqual(after["Configuration"]["CodeSha256"], code_sha256(code))
        self.assertEqual(after["Configuration"]["State"], "Active")
        self.assertEqual(after["Tags"], {"keep": "me"})
        after_versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        self.assertEqual([v["Version"] for v in after_versions], ["$LATEST", "1", "2"])
        self.assertEqual([(v["Version"], v["RevisionId"], v["CodeSha256"], v.get("Description"), v["MemorySize"])
                          for v in after_versions],
                         [(v["Version"], v["RevisionId"], v["CodeSha256"], v.get("Description"), v["MemorySize"])
                          for v in before_versions])
        got = lam.get_alias(FunctionName=name, Name="live")
        self.assertEqual((got["FunctionVersion"], got["RevisionId"], got["RoutingConfig"]),
                         ("2", alias["RevisionId"], alias["RoutingConfig"]))
        self.assertEqual(lam.get_layer_version_by_arn(Arn=layer["LayerVersionArn"])["Version"], 1)
        # A function saved while Pending comes back settled.
        self.assertEqual(lam.get_function(FunctionName="state-pending")["Configuration"]["State"], "Active")
        # Numbering continues: 3 was used (and deleted) before the restart.
        lam.update_function_configuration(FunctionName=name, Description="four")
        self.settle()
        self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "4")
        self.assertEqual(
            lam.publish_layer_version(LayerName="state-layer", Content={"ZipFile": make_zip("s2")})["Version"], 2
        )
        self.assertEqual(lam.get_function(FunctionName=function_arn(name, "live"))["Configuration"]["Version"], "2")
        self.emu.stop(check=True)

    def test_corrupt_state_file_is_refused_and_kept(self):
        with open(self.state, "w") as f:
            f.write('{"not": "a state file"')
        with self.assertRaises(AssertionError):
            self.emu = Emulator("--state", self.state, *self.ARGS).start()
        with open(self.state) as f:
            self.assertEqual(f.read(), '{"not": "a state file"', "a state file that failed to load was overwritten")


if __name__ == "__main__":
    unittest.main(verbosity=2)
