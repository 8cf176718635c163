"""The quickstart's story: tether run on the bundled Lambda emulator, step by step.

scripts/quickstart builds tether and runs this; the ctest e2e.quickstart runs it on a build
directory's binaries. Everything it starts (the emulator, `tether run`) listens on
127.0.0.1 and is stopped by PID before it exits, unless --keep-running. It commits to a git
repository made from examples/ like a user would, and checks each step against what Lambda
reports (read with botocore and awscli, independent clients): exit 0 only if every step was
observed, 1 otherwise. The story goes to stdout; every command, answer and manifest record
goes to the log in the work directory.

Python 3 stdlib and botocore only (Debian's /usr/bin/python3).
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

import botocore.session
from botocore.config import Config

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(TOP, "examples")
ACCOUNT = "123456789012"
REGION = "us-east-1"
ECR = ACCOUNT + ".dkr.ecr.us-east-1.amazonaws.com"
ROLE = "arn:aws:iam::%s:role/" % ACCOUNT
OLD = "20250520-080000-3a9c2f10"  # the build the deploy scripts left live
API = "report-telegram-api"
API_FILE = "functions/report-telegram-api.yaml"
API_BUILD = "20250602-141500-c0ffee42"  # the image bump of step 2
DRIFTED = "aurora-log-detector"
BROKEN = "receipt-upload"
TIMEOUT = 60.0

# The functions as hand-written scripts left them: old code, version 1, aliases on it.
SEED = [
    (API, "image", "report-telegram-api", ["live"]),
    ("aurora-db-scanner", "image", "aurora-log-backup/db-scanner", ["staging", "live"]),
    ("aurora-log-detector", "image", "aurora-log-backup/log-detector", ["staging", "live"]),
    ("aurora-log-downloader", "image", "aurora-log-backup/log-downloader", ["staging", "live"]),
    ("receipt-upload", "zip", "app.handler", ["live"]),
    ("receipt-label-worker", "zip", "worker.handler", ["live"]),
    ("debt-management-healthz", "image", "debt-management-healthz", ["live"]),
]
NAMES = [s[0] for s in SEED]
ROLES = {API: "report-telegram-api", "receipt-upload": "receipts",
         "receipt-label-worker": "receipts", "debt-management-healthz": "debt-management"}
# What each smoke-tested function answers, so its smoke test (examples/functions) passes.
ANSWERS = {API: {"statusCode": 200, "body": "{\"status\": \"ok\"}"},
           "receipt-upload": {"ok": True},
           "debt-management-healthz": {"status": "healthy"}}
MUTATING = ("Create", "Update", "Publish", "Delete", "Put")


class StoryFailed(Exception):
    pass


def free_port(preferred):
    """preferred if nothing listens on it, else any free port (the emulator binds later, so
    a race is possible; it then fails to start and says so)."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise StoryFailed("no free port on 127.0.0.1")


def die_with_parent():
    """In the child before exec: SIGTERM when the parent dies."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def wait_until(pred, timeout, period=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return None
        time.sleep(period)


def s3_code_sha(bucket, key):
    """The emulator's CodeSha256 for S3 code: it cannot read S3, so it hashes the location."""
    return base64.b64encode(hashlib.sha256(("s3://%s/%s" % (bucket, key)).encode())
                            .digest()).decode()


def zip_bytes(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def routing_text(alias):
    """live=2, or 2+3@10% while a canary sends 10 % to version 3."""
    text = alias["FunctionVersion"]
    for v, w in sorted(alias.get("RoutingConfig", {})
                       .get("AdditionalVersionWeights", {}).items()):
        text += "+%s@%g%%" % (v, round(w * 100, 4))
    return text


class Story:
    def __init__(self, args):
        self.args = args
        self.work = args.work or tempfile.mkdtemp(prefix="tether-quickstart-")
        os.makedirs(self.work, exist_ok=True)
        self.log = open(os.path.join(self.work, "quickstart.log"), "w")
        self.procs = []
        self.repo = os.path.join(self.work, "lambdas")
        self.state = os.path.join(self.work, "state")
        self.manifest_seen = 0
        self.stdout_ok = True
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                        AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
                        AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                        AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true",
                        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
                        GIT_AUTHOR_NAME="Dana Ops", GIT_AUTHOR_EMAIL="dana@example.com",
                        GIT_COMMITTER_NAME="Dana Ops",
                        GIT_COMMITTER_EMAIL="dana@example.com")
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                  "AWS_ENDPOINT_URL_LAMBDA"):
            self.env.pop(k, None)

    # --- output -------------------------------------------------------------------------

    def say(self, text=""):
        if self.stdout_ok:
            try:
                print(text, flush=True)
            except OSError:  # stdout closed (| head): the story goes on, to the log
                self.stdout_ok = False
        self.detail(text)

    def detail(self, text):
        self.log.write(text + "\n")
        self.log.flush()

    def check(self, ok, what):
        if not ok:
            raise StoryFailed(what)

    def run(self, argv, show=None, cwd=None, check=True):
        """Run a command; its output goes to the log. show: the command as the story says
        it (printed with a $), or None to keep it in the log only."""
        if show:
            self.say("  $ " + show)
        self.detail("+ " + " ".join(argv))
        p = subprocess.run(argv, cwd=cwd or self.work, env=self.env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.detail(p.stdout.rstrip())
        self.detail(p.stderr.rstrip())
        if check and p.returncode != 0:
            raise StoryFailed("%s exited %d:\n%s" % (argv[0], p.returncode,
                                                      (p.stdout + p.stderr)[-3000:]))
        return p

    # --- processes ----------------------------------------------------------------------

    def start(self, argv, log_name):
        """A process of the story. Its own session, so --keep-running can leave it up;
        with --ci it gets SIGTERM if this script dies (say, at a ctest timeout)."""
        log = open(os.path.join(self.work, log_name), "w")
        p = subprocess.Popen(argv, cwd=self.work, env=self.env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=die_with_parent if self.args.ci else None)
        self.procs.append((p, log, os.path.basename(argv[0])))
        return p

    def stop_all(self):
        """SIGTERM by PID, then wait; both must exit 0 (a leak under ASan would not)."""
        bad = []
        for p, log, name in reversed(self.procs):
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait()
            log.close()
            self.detail("stopped %s (pid %d): exit %s" % (name, p.pid, p.returncode))
            if p.returncode != 0:
                bad.append("%s exited %d" % (name, p.returncode))
        self.procs = []
        return bad

    def text_of(self, log_name):
        with open(os.path.join(self.work, log_name), errors="replace") as f:
            return f.read()

    # --- the emulator and Lambda --------------------------------------------------------

    def start_emulator(self):
        port_file = os.path.join(self.work, "emulator.port")
        port = free_port(9001)
        self.emu = self.start([self.args.emulator, "--listen", "127.0.0.1:%d" % port,
                               "--port-file", port_file, "--create-delay-ms", "100",
                               "--update-delay-ms", "200"], "emulator.log")
        ok = wait_until(lambda: self.emu.poll() is not None or os.path.exists(port_file), 15)
        self.check(ok and self.emu.poll() is None,
                   "the emulator did not start:\n" + self.text_of("emulator.log"))
        with open(port_file) as f:
            self.emu_port = int(f.read())
        self.endpoint = "http://127.0.0.1:%d" % self.emu_port
        session = botocore.session.Session()
        session.set_credentials("test", "test")
        self.lam = session.create_client(
            "lambda", region_name=REGION, endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30))

    def emu_admin(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.emu_port, timeout=10)
        try:
            c.request(method, path, body=json.dumps(body) if body is not None else None)
            r = c.getresponse()
            data = r.read()
            self.check(r.status == 200, "emulator %s %s: %d %s" % (method, path, r.status,
                                                                    data[:300]))
            return json.loads(data)
        finally:
            c.close()

    def mutations(self):
        ops = self.emu_admin("GET", "/_emulator/stats")["operations"]
        return {k: v for k, v in ops.items() if k.startswith(MUTATING) and v}

    def versions(self, name):
        out = []
        for page in self.lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=name):
            out += [v["Version"] for v in page["Versions"] if v["Version"] != "$LATEST"]
        return out

    def aliases(self, name):
        out = {}
        for page in self.lam.get_paginator("list_aliases").paginate(FunctionName=name):
            for a in page["Aliases"]:
                out[a["Name"]] = a
        return out

    def live_view(self, names):
        """{function: (aliases text, versions text)} as Lambda reports them."""
        view = {}
        for n in names:
            al = self.aliases(n)
            view[n] = (" ".join("%s=%s" % (k, routing_text(al[k])) for k in sorted(al)),
                       " ".join(self.versions(n)))
        return view

    def show_live(self, names, before=None):
        view = self.live_view(names)
        self.say("  %-25s %-26s %s" % ("FUNCTION", "ALIASES", "VERSIONS"))
        for n in names:
            mark = ""
            if before is not None and before.get(n) != view[n]:
                mark = "   (was %s; %s)" % before[n] if before.get(n) else ""
            self.say("  %-25s %-26s %s%s" % (n, view[n][0], view[n][1], mark))
        return view

    def seed(self):
        """The account as hand-written deploy scripts left it: the example functions on an
        older build, version 1 published, their aliases on it; the shared layers."""
        layer = zip_bytes({"python/receipt_dynamo.py": "TABLE = 'receipts'\n"})
        for name, n in (("receipt-dynamo-dev", 2), ("receipt-label-dev", 1)):
            for _ in range(n):
                self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer},
                                               CompatibleRuntimes=["python3.12"])
        for name, kind, what, aliases in SEED:
            role = ROLE + ROLES.get(name, "aurora-log-backup")
            if kind == "image":
                self.lam.create_function(FunctionName=name, PackageType="Image", Role=role,
                                         Code={"ImageUri": "%s/%s:%s" % (ECR, what, OLD)})
            else:
                self.lam.create_function(
                    FunctionName=name, Runtime="python3.12", Handler=what, Role=role,
                    Code={"S3Bucket": "receipts-artifacts",
                          "S3Key": "%s/%s.zip" % (name, OLD)},
                    Layers=["arn:aws:lambda:%s:%s:layer:receipt-dynamo-dev:1" % (
                        REGION, ACCOUNT)])
        for name in NAMES:
            self.lam.get_waiter("function_active_v2").wait(
                FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        for name, _, _, aliases in SEED:
            v = self.lam.publish_version(FunctionName=name,
                                         Description="deploy.sh " + OLD)["Version"]
            for a in aliases:
                self.lam.create_alias(FunctionName=name, Name=a, FunctionVersion=v)
        # Smoke tests invoke $LATEST: the emulator answers by code (image URI or CodeSha256).
        images = [API_BUILD]
        for root, _, files in os.walk(os.path.join(EXAMPLES, "functions")):
            for f in files:
                with open(os.path.join(root, f)) as fh:
                    images += re.findall(r"^image: (\S+)$", fh.read(), re.M)
        for uri in images:
            name = next((n for n in ANSWERS if "/%s:" % n in uri), None)
            if name is None and uri == API_BUILD:
                name, uri = API, "%s/%s:%s" % (ECR, API, API_BUILD)
            if name is not None:
                self.emu_admin("PUT", "/_emulator/invoke", {"key": uri,
                                                            "payload": ANSWERS[name]})
        with open(os.path.join(EXAMPLES, "functions", "receipts.yaml")) as fh:
            key = re.search(r"s3_key: (receipt-upload/\S+)", fh.read()).group(1)
        self.emu_admin("PUT", "/_emulator/invoke", {
            "key": s3_code_sha("receipts-artifacts", key), "payload": ANSWERS["receipt-upload"]})

    # --- git ----------------------------------------------------------------------------

    def git(self, *args, show=None):
        return self.run(["git", "-C", self.repo] + list(args), show=show).stdout.strip()

    def head(self):
        return self.git("rev-parse", "HEAD")

    def make_repo(self):
        os.makedirs(self.repo)
        for d in ("functions", "environments"):
            shutil.copytree(os.path.join(EXAMPLES, d), os.path.join(self.repo, d))
        self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "Import the Lambda fleet from the deploy scripts",
                 show='git commit -m "Import the Lambda fleet from the deploy scripts"')

    def edit(self, rel, old, new):
        path = os.path.join(self.repo, rel)
        with open(path) as f:
            text = f.read()
        self.check(old in text, "%s does not contain %r" % (rel, old))
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    # --- the daemon ---------------------------------------------------------------------

    def write_config(self):
        with open(os.path.join(EXAMPLES, "tether.emulator.yaml")) as f:
            text = f.read()
        self.listen_port = free_port(9180)
        text = text.replace("http://127.0.0.1:9001", self.endpoint)
        text = text.replace("listen: 127.0.0.1:9180", "listen: 127.0.0.1:%d" % self.listen_port)
        self.config = os.path.join(self.work, "tether.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        self.secret = secrets.token_hex(32)
        fd = os.open(os.path.join(self.work, "webhook.secret"),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.secret + "\n")

    def tether(self, *args, show=None, check=True):
        return self.run([self.args.tether] + list(args), show=show, check=check)

    def start_daemon(self):
        self.daemon = self.start([self.args.tether, "run", "--config", self.config],
                                 "tether.log")
        m = wait_until(lambda: self.daemon.poll() is not None or re.search(
            r"listening on http://(127\.0\.0\.1:\d+)", self.text_of("tether.log")), 30)
        self.check(m and m is not True, "tether run did not start:\n" +
                   self.text_of("tether.log")[-3000:])
        self.addr = m.group(1)

    def http(self, method, path, body=None, headers=None):
        host, port = self.addr.split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def status(self):
        st, body = self.http("GET", "/status")
        self.check(st == 200, "GET /status: %d" % st)
        return json.loads(body)

    def metric(self, name, **labels):
        _, body = self.http("GET", "/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(m.group(3))
        return total

    def webhook(self):
        """What a CI job or the git server does after a push: a signed POST, so tether
        fetches now rather than at the next interval."""
        body = json.dumps({"ref": "refs/heads/main", "after": self.head()}).encode()
        sig = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        st, answer = self.http("POST", "/hooks/generic", body=body, headers={
            "X-Tether-Signature-256": "sha256=" + sig, "Content-Type": "application/json"})
        self.detail("webhook: %d %s" % (st, answer[:200]))
        self.check(st in (200, 202), "the webhook was answered %d %s" % (st, answer[:200]))

    def wait_applied(self, commit, what):
        last = {}

        def done():
            last["s"] = s = self.status()
            return (s.get("applied") or {}).get("commit") == commit and \
                not s["pass"]["running"]
        if not wait_until(done, TIMEOUT, 0.1):
            raise StoryFailed("%s: commit %s was not applied within %.0f s; /status:\n%s" % (
                what, commit[:12], TIMEOUT, json.dumps(last.get("s"), indent=1)[:3000]))
        return last["s"]

    # --- manifests ----------------------------------------------------------------------

    def new_records(self):
        """Manifest records appended since the last call, oldest first."""
        recs = []
        mdir = os.path.join(self.state, "manifests")
        for name in sorted(os.listdir(mdir)) if os.path.isdir(mdir) else []:
            with open(os.path.join(mdir, name)) as f:
                for line in f:
                    if line.strip():
                        recs.append(json.loads(line))
        fresh = recs[self.manifest_seen:]
        self.manifest_seen = len(recs)
        for r in fresh:
            self.detail("manifest: " + json.dumps(r, sort_keys=True))
        return fresh

    @staticmethod
    def side(s):
        """A manifest record's alias side: 2, or 1+2@10% during a canary."""
        if not s or not s.get("version"):
            return "-"
        if s.get("routing_version"):
            return "%s+%s@%g%%" % (s["version"], s["routing_version"],
                                   round((s.get("routing_weight") or 0) * 100, 4))
        return s["version"]

    def show_records(self, recs, only=None, limit=14):
        """Manifest records as `tether history` shows them: time, function, action,
        outcome, and why."""
        shown = [r for r in recs if only is None or r["function"] in only]
        for r in shown[:limit]:
            why = r.get("why") or ""
            if r.get("trigger") == "drift":
                why += "  (drift pass)"
            self.say("    %s  %-20s %-14s %-3s %s" % (r["time"][11:19], r["function"][:20],
                                                     r["action"], r["outcome"], why[:62]))
        if len(shown) > limit:
            self.say("    ... %d more in state/manifests" % (len(shown) - limit))
        return shown

    # --- the story ----------------------------------------------------------------------

    def step(self, n, title, why):
        self.say()
        self.say("== %d. %s" % (n, title))
        self.say("  " + why)

    def story(self):
        self.say("tether quickstart: a GitOps deploy of seven Lambda functions, on the "
                 "bundled emulator")
        self.say("  work directory %s (log: quickstart.log)" % self.work)

        self.step(0, "An account as the deploy scripts left it",
                  "Lambda here is tether-emulator, a local Lambda control plane, set up with "
                  "botocore.")
        self.start_emulator()
        self.seed()
        self.say("  tether-emulator on %s (pid %d)" % (self.endpoint, self.emu.pid))
        self.say("  7 functions on build %s, version 1 published, every alias on it;" % OLD)
        self.say("  layers receipt-dynamo-dev:1-2 and receipt-label-dev:1")
        view = self.show_live(NAMES)

        self.step(1, "Deploy by commit: examples/ in a git repository, environment dev",
                  "tether reads the commit, compares it with Lambda, and converges every "
                  "function that differs.")
        self.make_repo()
        c1 = self.head()
        self.write_config()
        self.tether("run", "--check", "--config", self.config,
                    show="tether run --check --config tether.yaml")
        self.start_daemon()
        self.say("  $ tether run --config tether.yaml      (pid %d, http://%s)" % (
            self.daemon.pid, self.addr))
        self.wait_applied(c1, "the first deploy")
        self.check(wait_until(lambda: "RoutingConfig" not in self.aliases(API)["live"], 30),
                   "the first canary of %s did not finish" % API)
        recs = self.new_records()
        view1 = self.show_live(NAMES)
        for n in NAMES:
            self.check(self.versions(n) == ["1", "2"], "%s: versions %s, want 1 2" % (
                n, self.versions(n)))
            self.check(all(a["FunctionVersion"] == "2" and "RoutingConfig" not in a
                           for a in self.aliases(n).values()), "%s: aliases %s" % (n, view1[n]))
        counts = {}
        for r in recs:
            self.check(r["outcome"] == "ok", "manifest: %s %s %s" % (
                r["function"], r["action"], r.get("error")))
            counts[r["action"]] = counts.get(r["action"], 0) + 1
        self.say("  manifest: %d records, one per action:" % len(recs))
        self.say("    " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
        self.say("  %s's canary, from the manifest:" % API)
        self.show_records([r for r in recs if r["action"] in (
            "smoke_test", "publish", "update_alias", "canary_check")], only={API})
        steps = [self.side(r["after"]) for r in recs
                 if r["function"] == API and r["action"] == "update_alias"]
        self.check(steps == ["1+2@10%", "1+2@50%", "2"], "%s canary steps %s" % (API, steps))

        self.step(2, "Image bump with a canary: %s goes to build %s" % (API, API_BUILD),
                  "One line changes in git; live moves 10 %, then 50 %, then all, checked "
                  "at each step.")
        before = self.mutations()
        self.edit(API_FILE, "report-telegram-api:20250601-101010-1b2c3d4e",
                  "report-telegram-api:" + API_BUILD)
        self.git("commit", "-q", "-am", "report-telegram-api: build " + API_BUILD,
                 show='git commit -am "report-telegram-api: build %s"' % API_BUILD)
        c2 = self.head()
        self.webhook()
        self.say("  POST /hooks/generic (signed)  ->  tether fetches %s now" % c2[:12])
        seen, t0 = [], time.monotonic()

        def watch():
            t = routing_text(self.aliases(API)["live"])
            if not seen or seen[-1][1] != t:
                seen.append((time.monotonic() - t0, t))
            return t == "3"
        self.check(wait_until(watch, TIMEOUT, 0.05), "live never reached 3: %s" % seen)
        self.say("  live, polled with ListAliases: " + "  ->  ".join(
            "%s (%.1fs)" % (t, s) for s, t in seen))
        self.check([t for _, t in seen][-3:] == ["2+3@10%", "2+3@50%", "3"],
                   "canary steps seen: %s" % seen)
        self.wait_applied(c2, "the image bump")
        recs = self.new_records()
        self.show_records(recs, only={API})
        published = self.mutations().get("PublishVersion", 0) - before.get("PublishVersion", 0)
        self.check(published == 1, "the bump published %d versions, want 1" % published)
        self.check([r["function"] for r in recs if r["action"] == "publish"] == [API],
                   "only %s is published" % API)

        self.step(3, "Rollback: git revert, one alias move and no new version",
                  "The reverted spec's digest names the version that already holds it.")
        view = self.live_view([API])
        before = self.mutations()
        self.git("revert", "--no-edit", "HEAD", show="git revert --no-edit HEAD")
        c3 = self.head()
        self.webhook()
        self.wait_applied(c3, "the revert")
        recs = self.new_records()
        self.show_live([API], before=view)
        self.show_records(recs, only={API})
        self.check(routing_text(self.aliases(API)["live"]) == "2", "live is not back on 2")
        self.check(self.versions(API) == ["1", "2", "3"], "%s versions changed" % API)
        delta = {k: v - before.get(k, 0) for k, v in self.mutations().items()
                 if v != before.get(k, 0)}
        self.check(delta == {"UpdateAlias": 1}, "the rollback made these calls: %s" % delta)
        self.say("  mutating Lambda calls for the rollback: UpdateAlias 1 (no PublishVersion,"
                 " no UpdateFunctionCode)")

        self.step(4, "Drift: someone moves an alias by hand, tether moves it back",
                  "Git is the source of truth; a hand-made change is drift, corrected at the "
                  "next drift pass.")
        self.run(["/usr/bin/aws", "--endpoint-url", self.endpoint, "lambda", "update-alias",
                  "--function-name", DRIFTED, "--name", "live", "--function-version", "1"],
                 show="aws lambda update-alias --function-name %s --name live "
                      "--function-version 1" % DRIFTED)
        self.check(routing_text(self.aliases(DRIFTED)["live"]) == "1", "the hand move failed")
        t0 = time.monotonic()
        self.check(wait_until(lambda: routing_text(self.aliases(DRIFTED)["live"]) == "2",
                              TIMEOUT, 0.2), "tether did not move %s live back" % DRIFTED)
        self.say("  live back on 2 after %.1f s (drift_interval: 10s)" % (
            time.monotonic() - t0))
        self.check(wait_until(lambda: not self.status()["pass"]["running"], TIMEOUT, 0.1),
                   "the drift pass did not end")
        recs = [r for r in self.new_records() if r.get("trigger") == "drift"
                and r["outcome"] != "reported"]
        self.show_records(recs)
        self.check(any(r["function"] == DRIFTED and r["action"] == "update_alias"
                       and self.side(r["after"]) == "2" for r in recs),
                   "no drift-triggered update_alias in the manifest")
        n = self.metric("tether_drift_detections_total", function=DRIFTED, kind="alias")
        self.check(n >= 1, "tether_drift_detections_total for %s is %g" % (DRIFTED, n))
        self.say('  tether_drift_detections_total{function="%s",kind="alias"} %g' % (
            DRIFTED, n))

        self.step(5, "A broken commit is refused; the last good one stays enforced",
                  "A typo in YAML must never reach Lambda: tether says where it is and "
                  "changes nothing.")
        before = self.mutations()
        self.edit("functions/receipts.yaml", "memory: 512\ntimeout: 30\n",
                  "memory: 1024\n timeout: 30\n")
        self.git("commit", "-q", "-am", "receipt-upload: 1 GB",
                 show='git commit -am "receipt-upload: 1 GB"     (timeout: is indented by '
                      'one space)')
        c5 = self.head()
        self.webhook()
        st = wait_until(lambda: (lambda s: s if (s.get("rejected") or {}).get("commit") == c5
                                 else None)(self.status()), TIMEOUT, 0.1)
        self.check(st, "commit %s was not refused" % c5[:12])
        reason = st["rejected"]["reason"]
        where = re.search(r"functions/receipts\.yaml:\d+:\d+: [^\n]*", reason)
        self.check(where, "the reason has no path:line:col: %r" % reason)
        self.say("  /status says rejected: " + where.group(0)[:100])
        self.check(st["applied"]["commit"] == c3, "the enforced commit changed")
        self.check(self.mutations() == before, "Lambda was changed by a refused commit")
        self.check(self.metric("tether_commits_rejected_total", reason="invalid") >= 1,
                   "tether_commits_rejected_total{reason=\"invalid\"} is 0")
        self.say("  still enforced: %s; no mutating Lambda call; "
                 'tether_commits_rejected_total{reason="invalid"} 1' % c3[:12])

        self.step(6, "The fix deploys, and retain: 1 prunes the version it replaced",
                  "dev keeps one unreferenced version; versions an alias uses are never "
                  "deleted.")
        view = self.live_view([BROKEN])
        self.edit("functions/receipts.yaml", "memory: 1024\n timeout: 30\n",
                  "memory: 1024\ntimeout: 30\n")
        self.git("commit", "-q", "-am", "receipt-upload: 1 GB, indented right",
                 show='git commit -am "receipt-upload: 1 GB, indented right"')
        c6 = self.head()
        self.webhook()
        self.wait_applied(c6, "the fix")
        recs = self.new_records()
        self.show_live([BROKEN], before=view)
        self.show_records(recs, only={BROKEN})
        self.check(self.versions(BROKEN) == ["1", "3"],
                   "%s versions %s, want 1 3" % (BROKEN, self.versions(BROKEN)))
        self.check(any(r["action"] == "delete_version" and r["outcome"] == "ok"
                       for r in recs), "no delete_version in the manifest")
        cfg = self.lam.get_function_configuration(FunctionName=BROKEN, Qualifier="live")
        self.check(cfg["MemorySize"] == 1024, "live runs with %d MB" % cfg["MemorySize"])

        self.step(7, "What tether says about it",
                  "Every action is in the append-only manifests; status compares them with "
                  "Lambda.")
        p = self.tether("status", "--state-dir", self.state, "--endpoint", self.endpoint,
                        show="tether status --state-dir state")
        lines = p.stdout.splitlines()
        for line in lines[:1 + len(NAMES)]:
            self.say("    " + line[:112].rstrip())
        self.check(len(lines) == 1 + len(NAMES) and
                   all(ln.split()[0] in NAMES for ln in lines[1:]),
                   "tether status lists %s" % [ln.split()[:1] for ln in lines[1:]])
        self.check(not any("(drift)" in ln for ln in lines), "tether status reports drift")
        p = self.tether("history", "--state-dir", self.state, "--function", API,
                        show="tether history --state-dir state --function %s" % API)
        lines = p.stdout.splitlines()
        self.check(len(lines) >= 20, "history has %d lines for %s" % (len(lines), API))
        self.say("    %d records, oldest first; the newest:" % len(lines))
        self.say("    " + lines[-1][:100].rstrip())
        reconciles = self.metric("tether_reconciles_total")
        self.say("  /metrics: tether_reconciles_total %g, drift detections %g, commits "
                 "rejected %g" % (reconciles, self.metric("tether_drift_detections_total"),
                                  self.metric("tether_commits_rejected_total")))
        self.check(self.daemon.poll() is None, "tether run exited")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tether", required=True)
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--work", help="work directory (default: a new one under $TMPDIR)")
    ap.add_argument("--keep-running", action="store_true",
                    help="leave the emulator and tether run running at the end")
    ap.add_argument("--ci", action="store_true",
                    help="on failure, print the logs' tails and remove the work directory")
    args = ap.parse_args()
    args.tether = os.path.abspath(args.tether)
    args.emulator = os.path.abspath(args.emulator)
    story = Story(args)
    ok = False
    try:
        story.story()
        ok = True
    except BaseException as e:  # any failure, ^C included, fails the run with the reason
        story.say()
        story.say("quickstart: FAILED: %s" % (e if not isinstance(e, KeyboardInterrupt)
                                              else "interrupted"))
        if not isinstance(e, StoryFailed):
            import traceback
            story.detail(traceback.format_exc())
        story.say("  details: %s (and emulator.log, tether.log)" % os.path.join(
            story.work, "quickstart.log"))
        if args.ci:
            story.stop_all()
            for name in ("quickstart.log", "tether.log", "emulator.log"):
                path = os.path.join(story.work, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print("--- %s (last 60 lines)\n%s" % (
                            name, "".join(f.readlines()[-60:])))
    if ok and args.keep_running:
        story.say()
        story.say("Still running (--keep-running):")
        story.say("  curl -s http://%s/status" % story.addr)
        story.say("  curl -s http://%s/metrics | grep ^tether_" % story.addr)
        story.say("  %s history --state-dir %s" % (args.tether, story.state))
        story.say("  kill %s      # tether run, then the emulator" % " ".join(
            str(p.pid) for p, _, _ in reversed(story.procs)))
        story.log.close()
        return 0
    bad = story.stop_all()
    if ok and bad:
        ok = False
        story.say("quickstart: FAILED: " + "; ".join(bad))
    story.log.close()
    if ok:
        story.stdout_ok = True
        try:
            print("\nquickstart: every step observed; all processes stopped")
        except OSError:
            pass
    if (ok or args.ci) and not args.work:
        shutil.rmtree(story.work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
