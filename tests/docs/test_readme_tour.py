"""The README's tour, run verbatim.

The shell block after the `<!-- tour:` marker in README.md is run with bash in a temporary
directory, against a tether-emulator on loopback (stopped by PID), with `tether` on PATH and
the environment the README's setup block exports. Then what the comments in the block claim
is checked: the plan, each apply's result and mutating calls, the rollback as one alias move
with no new version, and Lambda's final state read with botocore.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))

from emulator import Emulator  # noqa: E402


def tour_block():
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- tour:[^\n]*-->\n```sh\n(.*?)\n```\n", text, re.S)
    if not m:
        raise AssertionError("README.md has no tour block after a <!-- tour: --> marker")
    return m.group(1) + "\n"


class ReadmeTour(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tether-tour-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.emu = Emulator()
        self.emu.start()
        self.addCleanup(self.emu.stop)

    def test_tour(self):
        block = tour_block()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GIT_"))}
        env.update(
            PATH=os.path.dirname(os.environ["TETHER_BIN"]) + ":" + env.get("PATH", "/usr/bin"),
            AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL_LAMBDA=self.emu.endpoint, AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
            HOME=self.tmp, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dana Ops",
            GIT_AUTHOR_EMAIL="dana@example.com", GIT_COMMITTER_NAME="Dana Ops",
            GIT_COMMITTER_EMAIL="dana@example.com")
        p = subprocess.run(["bash", "-c", block], cwd=self.tmp, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        out, err = p.stdout, p.stderr
        where = "\nstdout:\n%s\nstderr:\n%s" % (out[-4000:], err[-4000:])
        self.assertEqual(p.returncode, 0, where)
        self.assertNotIn("command not found", err, where)
        self.assertEqual(re.findall(r"^tether: .*", err, re.M), [], where)
        self.assertIn("valid: 1 function\n", out, where)
        self.assertIn("hello: create function; publish; create live -> new", out, where)
        applies = re.findall(r"^hello +us-east-1 +converged +(live=\d) +(\d+) +(.*)$", out, re.M)
        self.assertEqual([(a, n) for a, n, _ in applies],
                         [("live=1", "3"), ("live=2", "3"), ("live=1", "1")], where)
        self.assertEqual(applies[2][2].strip(), "live 2 -> 1", where)
        self.assertEqual(len(re.findall(r"^apply: 1 functions: 1 converged", out, re.M)), 3)
        # history: one line per action; status and observe show live on 1.
        actions = re.findall(r"^\S+Z  hello  us-east-1  (\w+)  ok  ", out, re.M)
        self.assertEqual(actions, ["create_function", "wait", "publish", "create_alias",
                                   "update_code", "wait", "publish", "update_alias",
                                   "update_alias"], where)
        self.assertRegex(out, r"(?m)^hello +us-east-1 +[0-9a-f]{12} +[0-9a-f]{12} +live=1 +live=1 ")
        self.assertRegex(out, r"(?m)^  alias live -> 1$")
        lam = self.emu.client()
        versions = [v["Version"] for v in lam.list_versions_by_function(
            FunctionName="hello")["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1", "2"])
        alias = lam.get_alias(FunctionName="hello", Name="live")
        self.assertEqual(alias["FunctionVersion"], "1")
        self.assertNotIn("RoutingConfig", alias)
        self.assertEqual(lam.get_function_configuration(
            FunctionName="hello", Qualifier="1")["MemorySize"], 256)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2))
