"""Shared helpers for the `tether apply` acceptance tests (docs/apply.md).

Each test starts its own tether-emulator (signatures checked, updates InProgress for
UPDATE_DELAY_MS), makes its own git repository with the git CLI under a mkdtemp directory
that it removes, runs the real tether binary ($TETHER_BIN) as a subprocess and asserts on
live state read with botocore, on /_emulator/stats operation counts, on the summary table
and on the manifests in the state directory.

Stdlib and botocore only.
"""
import glob
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import zipfile

from emulator import ACCESS_KEY, SECRET_KEY, Emulator
from timescale import scaled

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/lambda-exec"
REGION = "us-east-1"
UPDATE_DELAY_MS = 150
CREATE_DELAY_MS = 50
TETHER_TIMEOUT = 90.0  # seconds for one tether run (ASan builds are slower)

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "tether test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "tether test", "GIT_COMMITTER_EMAIL": "test@example.com",
}

# The Description tether gives the versions it publishes, and the alias during a canary.
VERSION_MARK = re.compile(r"^tether d=([0-9a-f]{12}) c=([0-9a-f]{12}|-) (\S*)$")
CANARY_MARK = re.compile(
    r"^tether canary d=([0-9a-f]{12}) step=(\d+)/(\d+) at=(\d+) stable=(\d+)$")

# docs/apply.md, "The summary table" and "Manifests".
RESULTS = ("converged", "in-sync", "reported", "suspended", "blocked", "failed")
SUMMARY_HEADER = ["FUNCTION", "REGION", "RESULT", "ALIASES", "ACTIONS", "DETAIL"]
SUMMARY_ROW = re.compile(
    r"^(\S+)\s+(\S+)\s+(%s)\s+(.*?)\s+(\d+)\s+(.*)$" % "|".join(RESULTS))
SUMMARY_LAST = re.compile(
    r"^apply: (\d+) functions: (.*); (\d+) mutating calls; commit ([0-9a-f]{12})$")
MANIFEST_KEYS = {"time", "commit", "ref", "function", "region", "action", "digest", "why",
                 "before", "after", "request_id", "outcome", "error", "duration_ms"}
MANIFEST_ACTIONS = {"create_function", "update_code", "update_config", "wait", "smoke_test",
                    "publish", "create_alias", "update_alias", "canary_check",
                    "delete_version", "quarantine", "drift", "blocked"}
# The actions that are one mutating Lambda call each.
CALL_ACTIONS = {"create_function", "update_code", "update_config", "publish", "create_alias",
                "update_alias", "delete_version"}
MANIFEST_OUTCOMES = {"ok", "failed", "conflict", "skipped", "reported"}
MANIFEST_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HISTORY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def image(repo, tag):
    return "%s/%s:%s" % (ECR, repo, tag)


def tether_binary():
    path = os.environ.get("TETHER_BIN")
    if not path:
        raise AssertionError("TETHER_BIN is not set (run the suite through ctest)")
    return path


def layer_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("python/dep.py", "VALUE = 1\n")
    return buf.getvalue()


def is_mutation(op):
    return not op.startswith(("Get", "List"))


class Repo:
    """A git repository in a temporary directory, changed only through the git CLI."""

    def __init__(self, root, name="repo"):
        self.path = os.path.join(root, name)
        self.git("init", "-q", "-b", "main", self.path, cwd=root)

    def git(self, *args, cwd=None):
        env = dict(os.environ, **GIT_ENV)
        p = subprocess.run(["git", *args], cwd=cwd or self.path, env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError("git %s: %s" % (" ".join(args), p.stderr))
        return p.stdout.strip()

    def write(self, rel, text):
        full = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def remove(self, rel):
        os.unlink(os.path.join(self.path, rel))

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def revert(self, commit):
        self.git("revert", "--no-edit", commit)
        return self.git("rev-parse", "HEAD")


def function_yaml(name, img=None, aliases="  live: current\n", **fields):
    """One function document. fields: key -> YAML text (already formatted)."""
    text = "function: %s\n" % name
    if img is not None:
        text += "image: %s\n" % img
    for key, value in fields.items():
        text += "%s: %s\n" % (key, value)
    if aliases:
        text += "aliases:\n" + aliases
    return text


class Run:
    """One finished tether apply: its process, the stats delta and the wall time."""

    def __init__(self, proc, ops, elapsed):
        self.proc = proc
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.ops = ops
        self.elapsed = elapsed

    @property
    def mutations(self):
        return {op: n for op, n in self.ops.items() if is_mutation(op)}

    def show(self):
        return "exit %s after %.2f s\n--- stdout\n%s--- stderr\n%s--- ops %s" % (
            self.rc, self.elapsed, self.stdout, self.stderr[-6000:], self.ops)


def parse_summary(text):
    """docs/apply.md's table: (rows by function, counts, functions, mutating calls, commit).
    Raises AssertionError on any line that does not have the documented shape."""
    lines = text.splitlines()
    if len(lines) < 2:
        raise AssertionError("summary too short:\n" + text)
    if lines[0].split() != SUMMARY_HEADER:
        raise AssertionError("summary header %r" % lines[0])
    rows = {}
    for line in lines[1:-1]:
        m = SUMMARY_ROW.match(line)
        if not m:
            raise AssertionError("summary row does not parse: %r" % line)
        rows[m.group(1)] = {"region": m.group(2), "result": m.group(3),
                            "aliases": m.group(4).strip(), "actions": int(m.group(5)),
                            "detail": m.group(6).strip()}
    m = SUMMARY_LAST.match(lines[-1])
    if not m:
        raise AssertionError("summary last line does not parse: %r" % lines[-1])
    counts = {}
    for part in m.group(2).split(", "):
        pm = re.fullmatch(r"(\d+) ([a-z][a-z ]*)", part)
        if not pm:
            raise AssertionError("summary count %r in %r" % (part, lines[-1]))
        counts[pm.group(2)] = int(pm.group(1))
    return rows, counts, int(m.group(1)), int(m.group(3)), m.group(4)


class AliasWatcher:
    """Polls GetAlias every period seconds in a thread and keeps every distinct state
    (FunctionVersion, AdditionalVersionWeights, Description) with the epoch time it was
    first seen."""

    def __init__(self, emu, function, alias, period=0.1):
        self.client = emu.client()  # made here: botocore client creation is not threadsafe
        self.function = function
        self.alias = alias
        self.period = period
        self.states = []  # (epoch seen, version, {version: weight}, description)
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop polling, then look once more: the last change may be newer than the last
        poll."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(10)
        self._poll()

    def _poll(self):
        try:
            a = self.client.get_alias(FunctionName=self.function, Name=self.alias)
        except Exception as e:  # the alias may not exist yet
            self.errors.append(repr(e))
            return
        weights = dict(a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
        state = (a["FunctionVersion"], weights, a.get("Description", ""))
        if not self.states or self.states[-1][1:] != state:
            self.states.append((time.time(),) + state)

    def _run(self):
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(self.period)

    def wait_for(self, pred, timeout):
        """Wait until some recorded state satisfies pred; returns it, or None."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            for s in list(self.states):
                if pred(s):
                    return s
            time.sleep(0.02)
        return None

    def routing(self):
        """The distinct (primary, weights) sequence, descriptions ignored."""
        out = []
        for s in self.states:
            key = (s[1], s[2])
            if not out or out[-1] != key:
                out.append(key)
        return out


def manifest_lines(path):
    """Each line of a manifest file as (number, record, raw, unterminated): record is the
    line's JSON object or None, unterminated that it is the last line and has no newline
    (what a kill in the middle of a write leaves)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete = data.endswith(b"\n")
    if complete:
        lines.pop()
    out = []
    for i, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        out.append((i, rec if isinstance(rec, dict) else None, line,
                    i == len(lines) and not complete))
    return out


class ApplyCase(unittest.TestCase):
    """Per test: a temporary directory (removed), a git repository in it, a state directory,
    and an emulator process (stopped by PID; it must exit 0)."""

    update_delay_ms = UPDATE_DELAY_MS
    create_delay_ms = CREATE_DELAY_MS

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tether-apply-test.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.emu = Emulator("--update-delay-ms", str(self.update_delay_ms),
                            "--create-delay-ms", str(self.create_delay_ms))
        self.emu.start()
        self.addCleanup(self.emu.stop)
        self.lam = self.emu.client()
        self.state = os.path.join(self.tmp, "state")
        self.repo = Repo(self.tmp)
        self.procs = []
        self.addCleanup(self._reap)

    def _reap(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    # -- tether ----------------------------------------------------------------------

    def tether_env(self):
        env = {
            "PATH": "/usr/bin:/bin", "HOME": self.tmp,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": REGION,
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def tether_argv(self, *args):
        """tether with the emulator's endpoint, for the commands that talk to Lambda (the
        others refuse --endpoint; `tether run` takes it from its config)."""
        if args and args[0] in ("history", "run", "tag", "version", "help"):
            return [tether_binary(), *args]
        return [tether_binary(), "--endpoint", self.emu.endpoint, *args]

    def tether(self, *args, timeout=TETHER_TIMEOUT):
        return subprocess.run(self.tether_argv(*args), env=self.tether_env(), cwd=self.tmp,
                              capture_output=True, text=True, timeout=scaled(timeout))

    def apply_argv(self, *args, ref=None):
        argv = ["apply", "--repo", self.repo.path, "--state-dir", self.state]
        if ref is not None:
            argv += ["--ref", ref]
        return argv + list(args)

    def apply(self, *args, rc=0, ref=None, timeout=TETHER_TIMEOUT):
        """tether apply; checks the exit status (rc None: any) and, for text output, the
        summary's shape; returns a Run with the stats delta."""
        before = self.emu.stats()["operations"]
        nrecords = len(self.raw_records())
        t0 = time.monotonic()
        p = self.tether(*self.apply_argv(*args, ref=ref), timeout=timeout)
        elapsed = time.monotonic() - t0
        after = self.emu.stats()["operations"]
        ops = {op: after[op] - before.get(op, 0) for op in after
               if after[op] != before.get(op, 0)}
        run = Run(p, ops, elapsed)
        run.records = self.raw_records()[nrecords:]
        if rc is not None:
            self.assertEqual(p.returncode, rc, run.show())
        if "--output" not in args:
            self.check_summary(run)
        return run

    def start_apply(self, *args, ref=None):
        """tether apply in the background (for tests that kill it)."""
        p = subprocess.Popen(self.tether_argv(*self.apply_argv(*args, ref=ref)),
                             env=self.tether_env(), cwd=self.tmp, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def check_summary(self, run):
        """The table's shape, and its numbers agree with each other and with the stats."""
        if run.rc not in (0, 1):
            return
        try:
            rows, counts, n, m, commit = parse_summary(run.stdout)
        except AssertionError as e:
            self.fail("%s\n%s" % (e, run.show()))
        run.rows, run.counts, run.commit = rows, counts, commit
        self.assertEqual(n, len(rows), run.show())
        for key, result in (("converged", "converged"), ("in sync", "in-sync"),
                            ("failed", "failed"), ("blocked", "blocked")):
            self.assertIn(key, counts, run.show())
            self.assertEqual(counts[key], sum(r["result"] == result for r in rows.values()),
                             run.show())
        self.assertEqual(m, sum(r["actions"] for r in rows.values()), run.show())
        # ACTIONS counts the mutating calls Lambda accepted: every call but Invoke (smoke
        # tests and canary checks), less those refused (a conflict, a failure, a skip).
        refused = sum(1 for r in run.records if r["action"] in CALL_ACTIONS
                      and r["outcome"] in ("failed", "conflict", "skipped"))
        calls = sum(n for op, n in run.mutations.items() if op != "Invoke")
        self.assertEqual(m, calls - refused, run.show())
        self.assertEqual(run.rc, 1 if counts["failed"] + counts["blocked"] else 0, run.show())
        for name, r in rows.items():
            self.assertEqual(r["region"], REGION, run.show())
            if r["result"] == "in-sync":
                self.assertEqual(r["actions"], 0, run.show())

    def validate(self, ref=None):
        """{function: full spec digest} at ref (tether validate -v --output json)."""
        args = ["validate", "-v", "--output", "json", "--repo", self.repo.path]
        if ref is not None:
            args += ["--ref", ref]
        p = self.tether(*args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = {}
        for f in json.loads(p.stdout)["functions"]:
            self.assertRegex(f["digest"], r"^[0-9a-f]{64}$")
            out[f["name"]] = f["digest"]
        return out

    def history(self, *args):
        p = self.tether("history", "--state-dir", self.state, *args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def status(self, *args):
        p = self.tether("status", "--state-dir", self.state, *args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    # -- live state ------------------------------------------------------------------

    def create_image_function(self, name, img, wait=True, **kw):
        self.lam.create_function(FunctionName=name, PackageType="Image", Role=ROLE,
                                 Code={"ImageUri": img}, **kw)
        if wait:
            self.wait_active(name)

    def wait_active(self, name):
        self.lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})

    def wait_updated(self, name):
        self.lam.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})

    def versions(self, name):
        """Published versions (not $LATEST), ascending, as FunctionConfiguration dicts."""
        out, marker = [], None
        while True:
            kw = {"FunctionName": name}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_versions_by_function(**kw)
            out += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
            marker = page.get("NextMarker")
            if not marker:
                return sorted(out, key=lambda v: int(v["Version"]))

    def version_image(self, name, version):
        return self.lam.get_function(FunctionName=name, Qualifier=version)["Code"]["ImageUri"]

    def latest_image(self, name):
        return self.lam.get_function(FunctionName=name)["Code"]["ImageUri"]

    def alias(self, name, alias="live"):
        a = self.lam.get_alias(FunctionName=name, Name=alias)
        weights = dict(a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
        return a["FunctionVersion"], weights, a.get("Description", "")

    def mark(self, digest, commit, ref="main"):
        return "tether d=%s c=%s %s" % (digest[:12], commit[:12], ref)

    def tether_versions(self, name):
        """{version: (digest12, description)} of the versions that carry tether's mark."""
        out = {}
        for v in self.versions(name):
            m = VERSION_MARK.match(v.get("Description", ""))
            if m:
                out[v["Version"]] = (m.group(1), v["Description"])
        return out

    # -- the state directory ---------------------------------------------------------

    def manifest_files(self):
        return sorted(glob.glob(os.path.join(self.state, "manifests", "*.jsonl")))

    def raw_records(self):
        """Every line of the manifests that parses as a JSON object, in order."""
        out = []
        for path in self.manifest_files():
            with open(path, "rb") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict):
                        out.append(rec)
        return out

    def check_record(self, rec, where):
        self.assertIsInstance(rec, dict, where)
        self.assertLessEqual(MANIFEST_KEYS, set(rec), "%s: missing %s" % (
            where, MANIFEST_KEYS - set(rec)))
        self.assertIn(rec["action"], MANIFEST_ACTIONS, where)
        self.assertIn(rec["outcome"], MANIFEST_OUTCOMES, where)
        self.assertRegex(rec["time"], MANIFEST_TIME, where)
        self.assertRegex(rec["commit"], r"^[0-9a-f]{40}$", where)
        self.assertEqual(rec["region"], REGION, where)
        self.assertIsInstance(rec["duration_ms"], (int, float), where)
        self.assertGreaterEqual(rec["duration_ms"], 0, where)
        if rec["outcome"] in ("ok", "reported"):
            # A reported drift (detect mode) is not an error: nothing was attempted.
            self.assertIsNone(rec["error"], where)
        else:
            # Lambda's error, what a check found, or why the function is blocked.
            self.assertIsInstance(rec["error"], str, where)
            if rec["action"] == "blocked":
                self.assertEqual(rec["error"], "blocked: " + rec["why"], where)
        for side in ("before", "after"):
            self.assertTrue(rec[side] is None or isinstance(rec[side], dict), where)

    def manifest(self, function=None):
        """Every record, oldest file first, in file order; each line must parse and be
        complete (no crash in these tests), and have the documented members."""
        records = []
        for path in self.manifest_files():
            self.assertRegex(os.path.basename(path), r"^\d{4}-\d\d\.jsonl$")
            with open(path, "rb") as f:
                data = f.read()
            self.assertTrue(data.endswith(b"\n"), "%s: no newline at the end" % path)
            for i, line in enumerate(data[:-1].split(b"\n"), 1):
                where = "%s:%d: %r" % (path, i, line[:300])
                try:
                    rec = json.loads(line)
                except ValueError:
                    self.fail("record does not parse: " + where)
                self.check_record(rec, where)
                records.append(rec)
        if function is not None:
            records = [r for r in records if r["function"] == function]
        return records

    def state_file(self, name):
        path = os.path.join(self.state, "functions", REGION, name + ".json")
        with open(path) as f:
            return f.read()

    def check_history(self, function):
        """`tether history --function F` prints one line per manifest record of F, in order,
        with the documented columns."""
        records = self.manifest(function)
        p = self.history("--function", function)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), len(records), p.stdout)
        for line, rec in zip(lines, records):
            cols = line.split("  ")
            self.assertGreaterEqual(len(cols), 6, line)
            self.assertRegex(cols[0], HISTORY_TIME, line)
            self.assertEqual(cols[0][:19], rec["time"][:19], line)
            self.assertEqual(cols[1:6], [function, REGION, rec["action"], rec["outcome"],
                                         rec["commit"][:12]], line)
        return lines


def stop_process(test, proc, sig, timeout=15.0):
    """Send sig to proc (by its PID) and wait; fails the test if it does not exit."""
    proc.send_signal(sig)
    timeout = scaled(timeout)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        test.fail("tether did not exit within %.0f s of signal %d\n%s" % (timeout, sig, err))
    return out, err


def main():
    unittest.main(verbosity=2)

