"""`tether iam-policy` (docs/iam.md) over a real git repository, and proof that the policy
it prints is sufficient and tight.

The repository is made with the git CLI. The policy is printed for it, then `tether plan`
and three `tether apply` runs converge it against a tether-emulator: functions created,
configured, smoke-tested, published, aliased, moved by a canary with checks, pruned; one
function in detect mode, one suspended, one nobody declared. tether talks to the emulator
through a recording proxy on loopback, so every request it sends is seen as it goes on the
wire. Each request is named with botocore's service model (independently of tether), the
names are checked against the emulator's own access log, and each one must be allowed by
the printed policy: its IAM action on the ARN Lambda authorizes it against (the function,
qualified when the request names a version). The other way round, every Lambda action the
policy grants must have been used, and what nothing needs is denied.

Stdlib and botocore only. Everything runs under a mkdtemp directory that the test removes;
the emulator and the proxy are stopped by the test that started them.
"""
import collections
import http.client
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import zipfile

from emulator import ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, Emulator
from timescale import scaled

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apply"))
from applylib import Repo  # noqa: E402

ECR = "%s.dkr.ecr.%s.amazonaws.com" % (ACCOUNT, REGION)
ROLE = "arn:aws:iam::%s:role/lambda-exec" % ACCOUNT
WORKER_ROLE = "arn:aws:iam::%s:role/worker-exec" % ACCOUNT
FN = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)
LAYER = "arn:aws:lambda:%s:%s:layer:shared:1" % (REGION, ACCOUNT)
BUCKET = "tether-test-code"
TIMEOUT = scaled(120.0)  # seconds for one tether run (ASan builds are slower)
# The canary's step. Its check runs even when the step is found already due (a slow
# machine): the policy must cover the Invoke of the version either way.
INTERVAL = int(scaled(1))

# Lambda actions IAM cannot scope to a resource (the Lambda developer guide, "Resources
# and conditions for Lambda actions"): they are authorized against "*".
UNSCOPED = {"lambda:ListFunctions", "lambda:ListEventSourceMappings", "lambda:ListLayers",
            "lambda:GetAccountSettings", "lambda:CreateEventSourceMapping",
            "lambda:GetEventSourceMapping"}
# Operations whose IAM action has another name.
ACTION_OF = {"Invoke": "lambda:InvokeFunction", "GetLayerVersionByArn": "lambda:GetLayerVersion"}


def tether_binary():
    path = os.environ.get("TETHER_BIN")
    if not path:
        raise AssertionError("TETHER_BIN is not set (run the suite through ctest)")
    return path


def api_yaml(tag, memory):
    return ("function: api\n"
            "image: %s/api:%s\n"
            "role: %s\n"
            "memory: %d\n"
            "environment: {STAGE: test}\n"
            "smoke_test: {payload: {ping: 1}}\n"
            "retain: 1\n"
            "aliases:\n"
            "  live:\n"
            "    version: current\n"
            "    traffic: {steps: [50], interval: %ds}\n" % (ECR, tag, ROLE, memory, INTERVAL))


WORKER_YAML = ("function: %sworker\n"
               "code: {s3_bucket: %s, s3_key: worker/1.zip, s3_object_version: v1}\n"
               "role: %s\n"
               "handler: app.handler\n"
               "runtime: python3.12\n"
               "layers: [{name: shared, version: 1}]\n"
               "aliases:\n"
               "  live: current\n" % (FN, BUCKET, WORKER_ROLE))
WATCHER_YAML = ("function: watcher\nmode: detect\nimage: %s/watcher:2.0.0\n"
                "aliases:\n  live: current\n" % ECR)
FROZEN_YAML = "function: frozen\nmode: suspend\nimage: %s/frozen:2.0.0\n" % ECR


# -- IAM evaluation ----------------------------------------------------------------------

def iam_pattern(pattern, case_insensitive=False):
    """An IAM Action or Resource pattern as a regex: '*' any run, '?' one character, and
    ${*}, ${?}, ${$} those characters literally."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith(("${*}", "${?}", "${$}"), i):
            out += re.escape(pattern[i + 2])
            i += 4
        elif pattern[i] == "*":
            out += ".*"
            i += 1
        elif pattern[i] == "?":
            out += "."
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile("^" + out + "$", re.IGNORECASE if case_insensitive else 0)


def as_list(v):
    return v if isinstance(v, list) else [v]


def allowed(policy, action, resource):
    """Whether an Allow statement without conditions grants action on resource (there is
    no Deny in these policies; conditioned statements are not Lambda's)."""
    for st in policy["Statement"]:
        if st["Effect"] != "Allow" or "Condition" in st:
            continue
        if not any(iam_pattern(a, True).match(action) for a in as_list(st["Action"])):
            continue
        if any(iam_pattern(r).match(resource) for r in as_list(st["Resource"])):
            return True
    return False


# -- naming requests with botocore's model -----------------------------------------------

class Operations:
    """Lambda's REST routes from botocore's service model: (method, path, query) -> the
    operation and its parameters."""

    def __init__(self):
        import botocore.session
        model = botocore.session.get_session().get_service_model("lambda")
        self.routes = []
        for name in model.operation_names:
            op = model.operation_model(name)
            path, _, query = op.http["requestUri"].partition("?")
            regex = re.sub(r"\\\{(\w+)(\\\+)?\\\}",
                           lambda m: "(?P<%s>%s)" % (m.group(1), ".+" if m.group(2) else "[^/]+"),
                           re.escape(path))
            fixed = dict(urllib.parse.parse_qsl(query))
            literal = len(re.sub(r"\{[^}]*\}", "", path))
            params = {}
            if op.input_shape is not None:
                for member, shape in op.input_shape.members.items():
                    loc = shape.serialization.get("location")
                    if loc in ("uri", "querystring"):
                        params[(loc, shape.serialization.get("name", member))] = member
            self.routes.append((op.http["method"], re.compile("^" + regex + "$"), fixed,
                                literal, name, params))

    def name(self, method, raw_path, body):
        """(operation, {member: value}) of one request."""
        path, _, query = raw_path.partition("?")
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        best = []
        for m, regex, fixed, literal, name, params in self.routes:
            hit = regex.match(path) if m == method else None
            if hit is None or any(q.get(k) != v for k, v in fixed.items()):
                continue
            score = literal + 1000 * len(fixed)
            values = {}
            for (loc, wire), member in params.items():
                if loc == "uri" and wire in hit.groupdict():
                    values[member] = urllib.parse.unquote(hit.group(wire))
                elif loc == "querystring" and wire in q:
                    values[member] = q[wire]
            best.append((score, name, values))
        best.sort(key=lambda b: -b[0])
        if not best or (len(best) > 1 and best[0][0] == best[1][0]):
            raise AssertionError("no single operation for %s %s: %s" % (method, raw_path,
                                                                        best))
        score, name, values = best[0]
        if body:
            doc = json.loads(body)
            if isinstance(doc, dict) and "FunctionName" in doc and name == "CreateFunction":
                values["FunctionName"] = doc["FunctionName"]
        return name, values


def function_arn(function, qualifier, region):
    """The ARN Lambda authorizes a call on: FunctionName (a name, a partial or a full ARN,
    perhaps with ":qualifier") and the Qualifier parameter, in the caller's account."""
    partition, account, name, inline = "aws", ACCOUNT, function, None
    if function.startswith("arn:"):
        parts = function.split(":")
        partition, region, account, name = parts[1], parts[3], parts[4], parts[6]
        inline = parts[7] if len(parts) > 7 else None
    elif re.match(r"^\d{12}:function:", function):
        parts = function.split(":")
        account, name = parts[0], parts[2]
        inline = parts[3] if len(parts) > 3 else None
    elif ":" in function:
        name, inline = function.split(":", 1)
    qualifier = qualifier or inline
    arn = "arn:%s:lambda:%s:%s:function:%s" % (partition, region, account, name)
    return arn + (":" + qualifier if qualifier else "")


# -- the recording proxy -----------------------------------------------------------------

class Proxy:
    """An HTTP/1.1 proxy on 127.0.0.1 that forwards every request to the emulator as it
    came (signatures stay valid: the Host header is kept) and records it."""

    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
           "proxy-connection", "date", "server"}

    def __init__(self, upstream_port):
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n > 0 else b""
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in Proxy.HOP}
                with proxy.lock:
                    proxy.requests.append({"method": self.command, "path": self.path,
                                           "auth": self.headers.get("Authorization", ""),
                                           "body": body})
                for attempt in (1, 2):
                    reused = getattr(self, "upstream", None) is not None
                    if not reused:
                        self.upstream = http.client.HTTPConnection(
                            "127.0.0.1", upstream_port, timeout=scaled(60))
                    try:
                        self.upstream.request(self.command, self.path, body=body or None,
                                              headers=headers)
                        resp = self.upstream.getresponse()
                        data = resp.read()
                        break
                    except (http.client.RemoteDisconnected, ConnectionResetError,
                            BrokenPipeError):
                        # The emulator closed an idle kept-alive connection before
                        # reading the request: send it again on a new one, as curl does.
                        self.upstream.close()
                        self.upstream = None
                        if not reused or attempt == 2:
                            raise
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in Proxy.HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = forward

            def finish(self):
                super().finish()
                if getattr(self, "upstream", None) is not None:
                    self.upstream.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def take(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class IamPolicy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tether-iam-test.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.access_log = os.path.join(self.tmp, "access.jsonl")
        self.emu = Emulator("--update-delay-ms", "150", "--create-delay-ms", "50",
                            "--access-log", self.access_log)
        self.emu.start()
        self.addCleanup(self.emu.stop)
        self.proxy = Proxy(self.emu.port).start()
        self.addCleanup(self.proxy.stop)
        self.lam = self.emu.client()
        self.repo = Repo(self.tmp)
        self.state = os.path.join(self.tmp, "state")
        self.ops = Operations()

    def env(self, region=REGION):
        env = {
            "PATH": "/usr/bin:/bin", "HOME": self.tmp,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if region is not None:
            env["AWS_REGION"] = region
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def tether(self, *args, region=REGION):
        return subprocess.run([tether_binary(), *args], env=self.env(region), cwd=self.tmp,
                              capture_output=True, text=True, timeout=TIMEOUT)

    def iam_policy(self, *args):
        p = self.tether("iam-policy", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def access_ops(self, start):
        """The operations in the emulator's access log from byte offset start, and the
        offset after them."""
        with open(self.access_log, "rb") as f:
            f.seek(start)
            data = f.read()
        return [json.loads(line)["op"] for line in data.splitlines()], start + len(data)

    def log_size(self):
        return os.path.getsize(self.access_log) if os.path.exists(self.access_log) else 0

    def run_through_proxy(self, *args, rc=(0,)):
        """One tether run against the proxy; returns its requests as (action, resource,
        operation), after checking them against the emulator's access log."""
        start = self.log_size()
        p = self.tether("--endpoint", self.proxy.endpoint, *args)
        self.assertIn(p.returncode, rc, "%s\n%s\n%s" % (args, p.stdout, p.stderr[-6000:]))
        seen = self.proxy.take()
        calls = []
        for r in seen:
            op, params = self.ops.name(r["method"], r["path"], r["body"])
            region = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/lambda/", r["auth"]).group(1)
            action = ACTION_OF.get(op, "lambda:" + op)
            if action in UNSCOPED:
                resource = "*"
            elif "FunctionName" in params:
                resource = function_arn(params["FunctionName"], params.get("Qualifier"),
                                        region)
            else:
                self.fail("no resource for %s %s" % (op, params))
            calls.append((action, resource, op))
        # The proxy saw exactly what the emulator served. The emulator logs a request just
        # after answering it, so its last line may land a moment after tether has exited.
        want = collections.Counter(c[2] for c in calls)
        deadline = time.monotonic() + 10
        while True:
            logged, _ = self.access_ops(start)
            if collections.Counter(logged) == want or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(want, collections.Counter(logged), (args, calls, logged))
        return calls

    def make_live(self):
        """What exists before tether runs: api (no version yet), watcher (published, live
        on version 1), frozen and a bystander nobody declared; the layer worker uses."""
        waiter = self.lam.get_waiter("function_active_v2")
        cfg = {"Delay": 0.05, "MaxAttempts": 400}
        for name, img in (("api", "api:1.0.0"), ("watcher", "watcher:1.0.0"),
                          ("frozen", "frozen:1.0.0"), ("bystander", "bystander:1.0.0")):
            self.lam.create_function(FunctionName=name, PackageType="Image", Role=ROLE,
                                     Code={"ImageUri": ECR + "/" + img})
            waiter.wait(FunctionName=name, WaiterConfig=cfg)
        self.lam.publish_version(FunctionName="watcher", Description="by hand")
        self.lam.create_alias(FunctionName="watcher", Name="live", FunctionVersion="1")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("python/dep.py", "VALUE = 1\n")
        layer = self.lam.publish_layer_version(LayerName="shared",
                                               Content={"ZipFile": buf.getvalue()})
        self.assertEqual(layer["LayerVersionArn"], LAYER)

    def write_repo(self, api_tag, api_memory):
        self.repo.write("functions/api.yaml", api_yaml(api_tag, api_memory))
        self.repo.write("functions/worker.yaml", WORKER_YAML)
        self.repo.write("functions/watcher.yaml", WATCHER_YAML)
        self.repo.write("functions/frozen.yaml", FROZEN_YAML)

    def test_policy_covers_what_apply_does_and_no_more(self):
        self.make_live()
        self.write_repo("1.0.0", 256)
        c1 = self.repo.commit("first")
        url = "file://" + self.repo.path

        p = self.iam_policy("--repo", url, "--ref", c1, "--account", ACCOUNT)
        text = p.stdout
        policy = json.loads(text)
        # The document as IAM shows it: two-space indent, Version first, a final newline.
        self.assertTrue(text.startswith('{\n  "Version": "2012-10-17",\n  "Statement": [\n'),
                        text[:200])
        self.assertTrue(text.endswith("}\n"))
        self.assertEqual(list(policy), ["Version", "Statement"])
        sids = [st["Sid"] for st in policy["Statement"]]
        self.assertEqual(len(sids), len(set(sids)), sids)
        for st in policy["Statement"]:
            self.assertRegex(st["Sid"], r"^[A-Za-z0-9]+$")
            self.assertEqual(list(st)[:4], ["Sid", "Effect", "Action", "Resource"], st)
            self.assertEqual(st["Action"], sorted(set(st["Action"])), st)
            if isinstance(st["Resource"], list):
                self.assertEqual(st["Resource"], sorted(set(st["Resource"])), st)

        # The same document from --output json, from the working tree as a directory, and
        # from a second run: the output is stable.
        self.assertEqual(self.iam_policy("--repo", url, "--account", ACCOUNT, "--output",
                                         "json").stdout, text)
        self.assertEqual(self.iam_policy(self.repo.path, "--account", ACCOUNT).stdout, text)

        # What Lambda makes the caller hold besides its own actions, exactly.
        def statement(action):
            sts = [st for st in policy["Statement"] if action in st["Action"]]
            self.assertEqual(len(sts), 1, (action, sts))
            return sts[0]

        role = statement("iam:PassRole")
        self.assertEqual(role["Resource"], sorted([ROLE, WORKER_ROLE]))
        self.assertEqual(role["Condition"],
                         {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})
        self.assertEqual(role["Action"], ["iam:PassRole"])
        ecr = statement("ecr:BatchGetImage")
        self.assertEqual(ecr["Action"], ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
        # watcher (detect) and frozen (suspend) are never updated: not their images.
        self.assertEqual(ecr["Resource"],
                         ["arn:aws:ecr:%s:%s:repository/api" % (REGION, ACCOUNT)])
        s3 = statement("s3:GetObject")
        self.assertEqual(s3["Action"], ["s3:GetObject", "s3:GetObjectVersion"])
        self.assertEqual(s3["Resource"], ["arn:aws:s3:::%s/worker/1.zip" % BUCKET])
        layers = statement("lambda:GetLayerVersion")
        self.assertEqual(layers["Resource"], [LAYER])
        for st in policy["Statement"]:
            if any(a.startswith("lambda:") for a in st["Action"]):
                self.assertNotIn("Condition", st)
                self.assertTrue(all(a.startswith("lambda:") for a in st["Action"]), st)

        # Converge it: plan (read-only, with the listing), then three applies: the first
        # configures api and creates worker, the second rolls api's new image out through
        # a canary, the last prunes what is left beyond retain.
        calls = self.run_through_proxy("plan", "--repo", url, "--state-dir", self.state,
                                       rc=(0, 2))
        calls += self.run_through_proxy("apply", "--repo", url, "--state-dir", self.state)
        self.write_repo("1.0.1", 512)
        self.repo.commit("api 1.0.1")
        calls += self.run_through_proxy("apply", "--repo", url, "--state-dir", self.state)
        calls += self.run_through_proxy("apply", "--repo", url, "--state-dir", self.state)
        # The run did what the policy is for.
        self.assertEqual(self.lam.get_alias(FunctionName="api", Name="live")["FunctionVersion"],
                         "2")
        self.assertEqual([v["Version"] for v in
                          self.lam.list_versions_by_function(FunctionName="api")["Versions"]],
                         ["$LATEST", "2"])
        self.assertEqual(self.lam.get_function(FunctionName="worker")["Configuration"]["Layers"]
                         [0]["Arn"], LAYER)
        self.assertEqual(self.lam.get_function(FunctionName="api")["Configuration"]
                         ["MemorySize"], 512)

        # The policy of the second commit is the first's (the same functions, roles,
        # images repositories and objects), and it was enough for every request sent.
        self.assertEqual(self.iam_policy("--repo", url, "--account", ACCOUNT).stdout, text)
        denied = sorted({(a, r) for a, r, _ in calls if not allowed(policy, a, r)})
        self.assertEqual(denied, [], json.dumps(policy, indent=1))

        # Every kind of call the steps make was made: qualified reads, the smoke test on
        # $LATEST, the canary check on a version, pruning a version.
        used = {(a, r) for a, r, _ in calls}
        for want in (("lambda:ListFunctions", "*"),
                     ("lambda:CreateFunction", FN + "worker"),
                     ("lambda:UpdateFunctionConfiguration", FN + "api"),
                     ("lambda:UpdateFunctionCode", FN + "api"),
                     ("lambda:InvokeFunction", FN + "api"),
                     ("lambda:InvokeFunction", FN + "api:2"),
                     ("lambda:PublishVersion", FN + "api"),
                     ("lambda:CreateAlias", FN + "worker"),
                     ("lambda:UpdateAlias", FN + "api"),
                     ("lambda:GetFunction", FN + "watcher:1"),
                     ("lambda:DeleteFunction", FN + "api:1"),
                     ("lambda:ListEventSourceMappings", "*"),
                     ("lambda:ListProvisionedConcurrencyConfigs", FN + "api")):
            self.assertIn(want, used, sorted(used))
        # Nothing touched the suspended function or the one nobody declared.
        for a, r, _ in calls:
            self.assertNotRegex(r, r":function:(frozen|bystander)(:|$)", (a, r))

        # Tight: every Lambda action granted was needed (GetLayerVersion is Lambda's own
        # check when a layer is attached, never a call of tether's) ...
        granted = {a for st in policy["Statement"] for a in st["Action"]
                   if a.startswith("lambda:")}
        self.assertEqual(granted - {"lambda:GetLayerVersion"}, {a for a, _, _ in calls})
        # ... only the three declared functions are named, "*" only where Lambda cannot
        # scope, and the rest is denied.
        for st in policy["Statement"]:
            for r in as_list(st["Resource"]):
                if r == "*":
                    self.assertTrue(set(st["Action"]) <= UNSCOPED, st)
                elif ":function:" in r:
                    self.assertRegex(r, r"^%s(api|worker|watcher)(:\*)?$" % re.escape(FN))
        for action in ("lambda:GetFunction", "lambda:UpdateFunctionCode",
                       "lambda:PublishVersion", "lambda:DeleteFunction"):
            for fn in ("frozen", "bystander", "frozen:1", "bystander:1"):
                self.assertFalse(allowed(policy, action, FN + fn), (action, fn))
        for action in ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                       "lambda:PublishVersion", "lambda:UpdateAlias", "lambda:CreateAlias",
                       "lambda:InvokeFunction", "lambda:DeleteFunction",
                       "lambda:CreateFunction"):
            self.assertFalse(allowed(policy, action, FN + "watcher"), action)
            self.assertFalse(allowed(policy, action, FN + "watcher:1"), action)
        # Pruning deletes versions, never a function.
        self.assertFalse(allowed(policy, "lambda:DeleteFunction", FN + "api"))
        self.assertTrue(allowed(policy, "lambda:DeleteFunction", FN + "api:7"))
        # worker has no smoke test and no retain: never invoked, never pruned.
        self.assertFalse(allowed(policy, "lambda:InvokeFunction", FN + "worker"))
        self.assertFalse(allowed(policy, "lambda:DeleteFunction", FN + "worker:1"))

    def test_account_errors_and_invalid_desired_state(self):
        self.write_repo("1.0.0", 256)
        self.repo.commit("first")
        url = "file://" + self.repo.path

        # api and watcher are declared by name; worker's ARN says its account; frozen is
        # suspended and needs no ARN.
        p = self.tether("iam-policy", "--repo", url)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("tether: the account of api (us-east-1), watcher (us-east-1) is not "
                      "known: declare them by ARN or pass --account ID\n", p.stderr)
        for args in (["--account", "12345"], ["--account", "12345678901x"],
                     ["--ref", "main"], [self.repo.path, "--repo", url],
                     [self.repo.path, self.tmp]):
            p = self.tether("iam-policy", *args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("tether --help", p.stderr)

        # An invalid desired state: validate's diagnostics, on stderr; no policy.
        self.repo.write("functions/bad.yaml", "function: bad\nmemory: 64\n")
        self.repo.commit("bad")
        p = self.tether("iam-policy", "--repo", url, "--account", ACCOUNT)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertRegex(p.stderr, r"(?m)^functions/bad\.yaml:2:9: memory: 64 is out of range")
        self.assertIn("1 error in the desired state; no policy printed", p.stderr)
        v = self.tether("validate", "--repo", url)
        self.assertEqual(v.returncode, 1)
        self.assertIn(v.stdout.splitlines()[0] + "\n", p.stderr)

        # A repository that is not there.
        p = self.tether("iam-policy", "--repo", "file://" + os.path.join(self.tmp, "nope"),
                        "--account", ACCOUNT)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
