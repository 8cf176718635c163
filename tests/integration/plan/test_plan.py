"""`tether plan` end to end: real git repositories made with the git CLI, a tether-emulator
process whose live state botocore creates, and the tether binary.

Every run of tether plan is wrapped: the emulator's /_emulator/stats before and after must
show no operation other than reads (Get*/List*), so plan never changes anything; the read
calls each run made are checked against the budget docs/observe.md gives and printed at
the end. Exit statuses: 0 in sync, 2 changes pending (or blocked), 1 error, 2 usage.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from emulator import ACCESS_KEY, SECRET_KEY, Emulator

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/lambda-exec"
ORDERS_V1 = ECR + "/orders:20250526-145140-9f6a1a2a"
ORDERS_V2 = ECR + "/orders:20250527-101010-0b1c2d3e"
WORKER_V1 = ECR + "/worker:20250526-145140-0000aaaa"

ORDERS = """\
function: orders-api
image: %s
memory: %d
timeout: 30
environment: { LOG_LEVEL: info }
aliases:
  live: current
  staging: current
"""
WORKER = """\
# A second document in another file, with retain.
function: receipt-worker
image: %s
retain: 2
aliases:
  live: current
""" % WORKER_V1

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "tether test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "tether test", "GIT_COMMITTER_EMAIL": "test@example.com",
}

# What each tether plan run read, for the report printed at the end.
READS = []


def tether_binary():
    path = os.environ.get("TETHER_BIN")
    if not path:
        raise AssertionError("TETHER_BIN is not set (run the suite through ctest)")
    return path


class Repo:
    """A git repository in a temporary directory, changed only through the git CLI."""

    def __init__(self, root, name="repo"):
        self.path = os.path.join(root, name)
        self.git("init", "-q", "-b", "main", self.path, cwd=root)

    def git(self, *args, cwd=None):
        env = dict(os.environ, **GIT_ENV)
        p = subprocess.run(["git", *args], cwd=cwd or self.path, env=env,
                           capture_output=True, text=True, check=True)
        return p.stdout.strip()

    def write(self, rel, text):
        full = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    @property
    def url(self):
        return "file://" + self.path


class Plan(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--create-delay-ms", "0", "--update-delay-ms", "0")
        cls.emu.start()
        cls.addClassCleanup(cls.emu.stop)
        cls.tmp = tempfile.mkdtemp(prefix="tether-plan-test.")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.lam = cls.emu.client()

    @classmethod
    def tearDownClass(cls):
        print("\nread calls per tether plan run (from /_emulator/stats):")
        for name, reads in READS:
            total = sum(reads.values())
            detail = " ".join("%s=%d" % kv for kv in sorted(reads.items()))
            print("  %-44s %2d  %s" % (name, total, detail))

    def setUp(self):
        self.emu.reset()
        self.dir = tempfile.mkdtemp(dir=self.tmp)

    # -- helpers ---------------------------------------------------------------------

    def run_tether(self, *args, endpoint=None):
        env = {
            "PATH": "/usr/bin:/bin", "HOME": self.dir,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        cmd = [tether_binary(), "--endpoint", endpoint or self.emu.endpoint, *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    def plan(self, *args, label=None):
        """tether plan ARGS; asserts that it called no operation but reads."""
        before = self.emu.stats()["operations"]
        p = self.run_tether("plan", *args)
        after = self.emu.stats()["operations"]
        delta = {op: after[op] - before.get(op, 0) for op in after
                 if after[op] != before.get(op, 0)}
        writes = {op: n for op, n in delta.items() if not op.startswith(("Get", "List"))}
        self.assertEqual(writes, {}, "tether plan called non-read operations\n" + p.stderr)
        READS.append((label or self.id().split(".")[-1], delta))
        return p, delta

    def digests(self, repo, *args):
        p = self.run_tether("validate", "-v", "--output", "json", "--repo", repo.path, *args)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return {f["name"]: f["digest"] for f in json.loads(p.stdout)["functions"]}

    def wait_active(self, name):
        self.lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def wait_updated(self, name):
        self.lam.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def publish(self, name, digest, commit):
        """PublishVersion as tether does it: the digest and commit in the description."""
        desc = "tether d=%s c=%s main" % (digest[:12], commit[:12])
        return self.lam.publish_version(FunctionName=name, Description=desc)["Version"]

    def make_live(self, repo, commit, *validate_args, memory=512):
        """Live functions exactly as the desired state at commit says."""
        d = self.digests(repo, "--ref", commit, *validate_args)
        self.lam.create_function(FunctionName="orders-api", PackageType="Image", Role=ROLE,
                                 Code={"ImageUri": ORDERS_V1}, MemorySize=memory, Timeout=30,
                                 Environment={"Variables": {"LOG_LEVEL": "info"}})
        self.wait_active("orders-api")
        v = self.publish("orders-api", d["orders-api"], commit)
        self.lam.create_alias(FunctionName="orders-api", Name="live", FunctionVersion=v)
        self.lam.create_alias(FunctionName="orders-api", Name="staging", FunctionVersion=v)
        self.lam.create_function(FunctionName="receipt-worker", PackageType="Image", Role=ROLE,
                                 Code={"ImageUri": WORKER_V1})
        self.wait_active("receipt-worker")
        v = self.publish("receipt-worker", d["receipt-worker"], commit)
        self.lam.create_alias(FunctionName="receipt-worker", Name="live", FunctionVersion=v)
        # Functions tether does not manage are listed, never read.
        self.lam.create_function(FunctionName="unmanaged", PackageType="Image", Role=ROLE,
                                 Code={"ImageUri": ECR + "/other:1"})

    def desired(self, orders_image=ORDERS_V1, memory=512):
        repo = Repo(self.dir)
        repo.write("functions/orders.yaml", ORDERS % (orders_image, memory))
        repo.write("functions/team/worker.yml", WORKER)
        return repo, repo.commit("first")

    # -- cases -----------------------------------------------------------------------

    def test_in_sync(self):
        repo, c1 = self.desired()
        self.make_live(repo, c1)
        p, reads = self.plan("--repo", repo.path, label="in sync (local path)")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines(),
                         ["orders-api: in sync", "receipt-worker: in sync"])
        # One listing; per function one ListAliases and a GetFunction of the version the
        # aliases name; retain lists receipt-worker's versions instead (nothing to prune).
        self.assertEqual(reads, {"ListFunctions": 1, "ListAliases": 2, "GetFunction": 1,
                                 "ListVersionsByFunction": 1})
        self.assertIn("commit %s (main)" % c1[:12], p.stderr)

        # The same commit over file://, cloned into the state directory's cache.
        state = os.path.join(self.dir, "state")
        for label in ("in sync (file://, clone)", "in sync (file://, fetch)"):
            p, reads = self.plan("--repo", repo.url, "--state-dir", state, label=label)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(p.stdout.splitlines(),
                             ["orders-api: in sync", "receipt-worker: in sync"])
            self.assertEqual(sum(reads.values()), 5)
        self.assertEqual(len(os.listdir(os.path.join(state, "repos"))), 1)

        # JSON.
        p, _ = self.plan("--repo", repo.path, "--output", "json", label="in sync (json)")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertTrue(doc["in_sync"])
        self.assertEqual([(f["name"], f["in_sync"]) for f in doc["functions"]],
                         [("orders-api", True), ("receipt-worker", True)])

    def test_pending_changes(self):
        repo, c1 = self.desired()
        self.make_live(repo, c1)
        repo.write("functions/orders.yaml", ORDERS % (ORDERS_V2, 1024))
        c2 = repo.commit("orders: new image, more memory")
        p, reads = self.plan("--repo", repo.url, label="pending (image+memory)")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "orders-api: image :20250526-145140-9f6a1a2a -> :20250527-101010-0b1c2d3e; "
            "memory 512 -> 1024; publish; live 1 -> new; staging 1 -> new",
            "receipt-worker: in sync",
        ])
        # No version holds the new digest: every version, and $LATEST's status.
        self.assertEqual(reads, {"ListFunctions": 1, "ListAliases": 2, "GetFunction": 2,
                                 "ListVersionsByFunction": 2})
        self.assertIn("commit %s (main)" % c2[:12], p.stderr)

        # JSON says the same, with the actions.
        p, _ = self.plan("--repo", repo.path, "--output", "json", label="pending (json)")
        self.assertEqual(p.returncode, 2, p.stderr)
        doc = json.loads(p.stdout)
        self.assertFalse(doc["in_sync"])
        orders = doc["functions"][0]
        self.assertEqual(orders["name"], "orders-api")
        self.assertEqual(orders["digest"], self.digests(repo)["orders-api"])
        kinds = [a["kind"] for a in orders["actions"]]
        self.assertIn("update_code", kinds)
        self.assertIn("publish", kinds)

        # The first commit, by id and by a tag, is still in sync.
        repo.git("tag", "-a", "-m", "release", "v1", c1)
        for ref in (c1, c1[:10], "v1"):
            p, _ = self.plan("--repo", repo.path, "--ref", ref, label="in sync (--ref)")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(p.stdout.splitlines(),
                             ["orders-api: in sync", "receipt-worker: in sync"])

    def test_revert_moves_aliases_only(self):
        repo, c1 = self.desired()
        self.make_live(repo, c1)
        # A second version holds the v2 spec, and the aliases moved to it.
        repo.write("functions/orders.yaml", ORDERS % (ORDERS_V2, 512))
        c2 = repo.commit("v2")
        d2 = self.digests(repo)["orders-api"]
        self.lam.update_function_code(FunctionName="orders-api", ImageUri=ORDERS_V2)
        self.wait_updated("orders-api")
        v2 = self.publish("orders-api", d2, c2)
        for alias in ("live", "staging"):
            self.lam.update_alias(FunctionName="orders-api", Name=alias, FunctionVersion=v2)
        # git revert: the first spec again.
        repo.git("revert", "--no-edit", "HEAD")
        p, reads = self.plan("--repo", repo.path, label="revert")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "orders-api: live 2 -> 1; staging 2 -> 1",
            "receipt-worker: in sync",
        ])
        # Version 1 is found in the list; $LATEST is not read.
        self.assertEqual(reads, {"ListFunctions": 1, "ListAliases": 2, "GetFunction": 1,
                                 "ListVersionsByFunction": 2})

    def test_missing_function(self):
        repo, c1 = self.desired()
        self.make_live(repo, c1)
        repo.write("functions/ghost.yaml", "function: ghost\nimage: %s\n" % ORDERS_V1)
        repo.commit("a function nobody created")
        p, reads = self.plan("--repo", repo.path, label="missing function")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "ghost: blocked: function missing (to create it tether needs role with image)",
            "orders-api: in sync",
            "receipt-worker: in sync",
        ])
        # ghost: one GetFunction confirms it does not exist.
        self.assertEqual(reads, {"ListFunctions": 1, "ListAliases": 2, "GetFunction": 2,
                                 "ListVersionsByFunction": 1})

    def test_invalid_desired_state(self):
        repo, _ = self.desired()
        repo.write("functions/bad.yaml",
                   "function: bad\nimage: %s\nmemroy: 512\ntimeout: 0\n" % ORDERS_V1)
        repo.commit("invalid")
        p, reads = self.plan("--repo", repo.path, label="invalid desired state")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        errors = [l for l in p.stderr.splitlines() if l.startswith("functions/bad.yaml:")]
        self.assertEqual([l.split(": ")[0] for l in errors],
                         ["functions/bad.yaml:3:1", "functions/bad.yaml:4:10"])
        self.assertIn('unknown key "memroy"', errors[0])
        self.assertIn("2 errors in the desired state", p.stderr)
        self.assertEqual(reads, {})  # nothing is observed for an invalid commit

    def test_path_and_environment(self):
        repo = Repo(self.dir)
        repo.write("deploy/lambda/functions/orders.yaml", ORDERS % (ORDERS_V1, 512))
        repo.write("deploy/lambda/functions/worker.yaml", WORKER)
        repo.write("deploy/lambda/environments/prod.yaml",
                   "functions:\n  orders-api: { memory: 1024 }\n")
        c1 = repo.commit("nested")
        self.make_live(repo, c1, "--path", "deploy/lambda")
        p, _ = self.plan("--repo", repo.path, "--path", "deploy/lambda", label="--path")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p, _ = self.plan("--repo", repo.path, "--path", "./deploy/lambda/", "--env", "prod",
                         label="--path --env")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines()[0],
                         "orders-api: memory 512 -> 1024; publish; live 1 -> new; "
                         "staging 1 -> new")
        # Diagnostics name files as the repository does.
        repo.write("deploy/lambda/functions/bad.yaml", "function: [\n")
        repo.commit("broken yaml")
        p, _ = self.plan("--repo", repo.path, "--path", "deploy/lambda", label="--path invalid")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"(?m)^deploy/lambda/functions/bad\.yaml:\d+:\d+: ")
        p, _ = self.plan("--repo", repo.path, "--path", "nope", label="--path missing")
        self.assertEqual(p.returncode, 1)
        self.assertIn('path "nope" does not exist', p.stderr)

    def test_usage_and_errors(self):
        p = self.run_tether("plan")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--repo", p.stderr)
        p = self.run_tether("plan", "--repo", self.dir, "extra")
        self.assertEqual(p.returncode, 2)
        # A plain directory is not a git repository.
        p, reads = self.plan("--repo", self.dir, label="not a repository")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a git repository", p.stderr)
        self.assertIn("'tether validate %s' checks a directory" % self.dir, p.stderr)
        self.assertEqual(reads, {})
        repo, _ = self.desired()
        p, _ = self.plan("--repo", repo.path, "--ref", "no-such-branch", label="unknown ref")
        self.assertEqual(p.returncode, 1)
        self.assertIn('no ref or commit "no-such-branch"', p.stderr)
        self.assertNotIn("checks a directory", p.stderr)
        # An endpoint that does not answer: an error naming the function, not a plan.
        p = self.run_tether("plan", "--repo", repo.path, endpoint="http://127.0.0.1:1")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("orders-api (us-east-1):", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
