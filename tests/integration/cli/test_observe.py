"""`tether observe` against a tether-emulator process, with signatures checked.

botocore (an independent client) creates the live state; tether must read back exactly
what botocore reads, through its own credential chain, signer, rate limiter and
pagination. Usage errors exit 2, failures exit 1 with a one-line reason.
"""
import http.server
import io
import json
import os
import subprocess
import tempfile
import threading
import unittest
import zipfile

from emulator import ACCESS_KEY, SECRET_KEY, Emulator

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/lambda-exec"


def tether_binary():
    path = os.environ.get("TETHER_BIN")
    if not path:
        raise AssertionError("TETHER_BIN is not set (run the suite through ctest)")
    return path


def make_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return {}\n")
    return b.getvalue()


class Observe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--create-delay-ms", "20", "--update-delay-ms", "40")
        cls.emu.start()
        cls.addClassCleanup(cls.emu.stop)
        cls.home = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.home.cleanup)
        cls.lam = cls.emu.client()
        lam = cls.lam
        waiter = lam.get_waiter("function_active_v2")
        updated = lam.get_waiter("function_updated_v2")
        cfg = {"Delay": 1, "MaxAttempts": 30}

        lam.create_function(FunctionName="orders-api", PackageType="Image", Role=ROLE,
                            Code={"ImageUri": ECR + "/orders:v1"}, MemorySize=512, Timeout=30)
        waiter.wait(FunctionName="orders-api", WaiterConfig=cfg)
        lam.publish_version(FunctionName="orders-api", Description="tether d=aaaa c=1111 main")
        lam.update_function_code(FunctionName="orders-api", ImageUri=ECR + "/orders:v2")
        updated.wait(FunctionName="orders-api", WaiterConfig=cfg)
        lam.publish_version(FunctionName="orders-api", Description="tether d=bbbb c=2222 main")
        lam.create_alias(FunctionName="orders-api", Name="live", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
        lam.create_alias(FunctionName="orders-api", Name="staging", FunctionVersion="2")

        zipped = make_zip()
        layer = lam.publish_layer_version(LayerName="shared-dev", Content={"ZipFile": zipped})
        lam.create_function(FunctionName="receipt-worker", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": zipped},
                            Layers=[layer["LayerVersionArn"]],
                            Environment={"Variables": {"LOG_LEVEL": "info"}})
        waiter.wait(FunctionName="receipt-worker", WaiterConfig=cfg)
        # Enough functions that ListFunctions needs more than one 50-item page.
        for i in range(55):
            lam.create_function(FunctionName="filler-%02d" % i, PackageType="Image", Role=ROLE,
                                Code={"ImageUri": ECR + "/filler:%d" % i})

    def run_tether(self, *args, secret=SECRET_KEY, region="us-east-1"):
        env = {
            "PATH": "/usr/bin:/bin", "HOME": self.home.name,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        if region is not None:
            env["AWS_REGION"] = region
        cmd = [tether_binary(), "--endpoint", self.emu.endpoint, *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)

    def observe_json(self, *names):
        p = self.run_tether("--output", "json", "observe", *names)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_reads_what_botocore_reads(self):
        doc = self.observe_json("orders-api", "receipt-worker")
        self.assertEqual(doc["region"], "us-east-1")
        fns = {f["name"]: f for f in doc["functions"]}
        for name in ("orders-api", "receipt-worker"):
            live = self.lam.get_function(FunctionName=name)
            conf, got = live["Configuration"], fns[name]["latest"]
            self.assertEqual(fns[name]["arn"], conf["FunctionArn"])
            self.assertEqual(got["code_sha256"], conf["CodeSha256"])
            self.assertEqual(got["revision_id"], conf["RevisionId"])
            self.assertEqual(got["memory"], conf["MemorySize"])
            self.assertEqual(got["timeout"], conf["Timeout"])
            self.assertEqual(got["layers"], [l["Arn"] for l in conf.get("Layers", [])])
            self.assertEqual(got["state"], conf["State"])
            self.assertEqual(got["last_update_status"], conf["LastUpdateStatus"])
            self.assertEqual(got.get("image_uri"), live["Code"].get("ImageUri"))
            self.assertEqual(got.get("environment"), conf.get("Environment", {}).get("Variables"))
            versions = [v for v in self.lam.list_versions_by_function(FunctionName=name)["Versions"]
                        if v["Version"] != "$LATEST"]
            self.assertEqual([(v["version"], v["code_sha256"], v["description"]) for v in fns[name]["versions"]],
                             [(v["Version"], v["CodeSha256"], v["Description"]) for v in versions])
            aliases = self.lam.list_aliases(FunctionName=name)["Aliases"]
            self.assertEqual(len(fns[name]["aliases"]), len(aliases))
            for got_a, want in zip(fns[name]["aliases"], aliases):
                self.assertEqual(got_a["name"], want["Name"])
                self.assertEqual(got_a["version"], want["FunctionVersion"])
                self.assertEqual(got_a["revision_id"], want["RevisionId"])
                weights = want.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
                if weights:
                    [(ver, weight)] = weights.items()
                    self.assertEqual(got_a["routing_version"], ver)
                    self.assertAlmostEqual(got_a["routing_weight"], weight)
                else:
                    self.assertNotIn("routing_version", got_a)

    def test_options_after_the_command(self):
        p = self.run_tether("observe", "orders-api", "--output", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([f["name"] for f in json.loads(p.stdout)["functions"]], ["orders-api"])

    def test_text_output(self):
        p = self.run_tether("observe", "orders-api")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("$LATEST   Image " + ECR + "/orders:v2", p.stdout)
        self.assertIn('"tether d=aaaa c=1111 main"', p.stdout)
        self.assertIn("alias live -> 1 (25% -> 2)", p.stdout)
        self.assertIn("alias staging -> 2", p.stdout)

    def test_all_functions_across_pages(self):
        before = self.emu.stats()["operations"]["ListFunctions"]
        doc = self.observe_json()
        names = [f["name"] for f in doc["functions"]]
        self.assertEqual(len(names), 57)
        self.assertEqual(names, sorted(names))
        self.assertIn("orders-api", names)
        self.assertIn("filler-54", names)
        self.assertEqual(self.emu.stats()["operations"]["ListFunctions"] - before, 2)

    def test_missing_function_fails(self):
        p = self.run_tether("observe", "no-such-fn")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no-such-fn: Function not found", p.stderr)

    def test_wrong_secret_fails_and_is_not_logged(self):
        p = self.run_tether("-v", "observe", "orders-api", secret="wrong-secret-value")
        self.assertEqual(p.returncode, 1)
        self.assertIn("signature we calculated does not match", p.stderr)
        self.assertNotIn("wrong-secret-value", p.stderr + p.stdout)

    def test_no_region_fails(self):
        p = self.run_tether("observe", region=None)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no region", p.stderr)

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["--output", "xml", "observe"],
                     ["--api-rps", "0", "observe"], ["--no-such-option", "observe"]):
            p = self.run_tether(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("tether --help", p.stderr)


# What a broken or hostile endpoint answers: well-formed JSON whose items lack the fields
# that identify them (the decoders leave such members NULL).
SPARSE = {
    "/2015-03-31/functions/": {"Functions": [{"FunctionName": "ok-fn"},
                                             {"Description": "no name"}]},
    "/2015-03-31/functions/ok-fn": {"Configuration": {"FunctionName": "ok-fn"}},
    "/2015-03-31/functions/ok-fn/versions": {"Versions": [{"Description": "no version"},
                                                          {"Version": "$LATEST"}]},
    "/2015-03-31/functions/ok-fn/aliases": {"Aliases": [{"Description": "no name"}]},
}


class SparseHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        body = json.dumps(SPARSE.get(self.path.split("?")[0], {})).encode()
        self.send_response(200 if self.path.split("?")[0] in SPARSE else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ObserveSparse(unittest.TestCase):
    """Items without a name or a version are reported, never dereferenced."""

    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SparseHandler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.addClassCleanup(cls.thread.join)
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.home = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.home.cleanup)

    def run_tether(self, *args):
        env = {
            "PATH": "/usr/bin:/bin", "HOME": self.home.name, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        return subprocess.run([tether_binary(), "--endpoint", endpoint, *args], env=env,
                              capture_output=True, text=True, timeout=60)

    def test_text(self):
        p = self.run_tether("observe")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("without a FunctionName", p.stderr)
        self.assertIn("ok-fn\n  $LATEST", p.stdout)
        self.assertIn("  version -    -", p.stdout)
        self.assertIn("  alias - -> -", p.stdout)

    def test_json(self):
        p = self.run_tether("--output", "json", "observe", "ok-fn")
        self.assertEqual(p.returncode, 0, p.stderr)
        [fn] = json.loads(p.stdout)["functions"]
        self.assertEqual([v["version"] for v in fn["versions"]], [None])
        self.assertEqual([(a["name"], a["version"]) for a in fn["aliases"]], [(None, None)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
