"""examples/ as CI checks it (docs: examples/README.md).

Every environments/*.yaml validates with no warning, from the folder and from a commit of a
git repository made with the git CLI; both daemon configs pass `tether run --check`: the
emulator one next to a repository and a webhook secret like the quickstart makes, the AWS
one with its absolute paths moved under a temporary directory (the files it names are
created there; nothing else in it is changed).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXAMPLES = os.path.normpath(os.path.join(TOP, "examples"))
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def environments():
    return sorted(os.path.basename(p)[:-5]
                  for p in glob.glob(os.path.join(EXAMPLES, "environments", "*.yaml")))


class Examples(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tether-examples-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(GIT_ENV, AWS_CONFIG_FILE="/dev/null",
                        AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    def tether(self, *args, env=None):
        p = subprocess.run([os.environ["TETHER_BIN"]] + list(args), env=env or self.env,
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.tmp, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def test_environments_validate(self):
        envs = environments()
        self.assertEqual(envs, ["dev", "prod"])
        for env in envs:
            rc, out, err = self.tether("validate", EXAMPLES, "--env", env)
            self.assertEqual((rc, out, err), (
                0, "valid: 7 functions with environment %s\n" % env, ""))

    def test_environments_validate_from_git(self):
        repo = os.path.join(self.tmp, "lambdas")
        shutil.copytree(EXAMPLES, repo)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["commit", "-q", "-m", "examples"]):
            subprocess.run(["git", "-C", repo] + args, check=True, env=self.env)
        for env in environments():
            rc, out, err = self.tether("validate", "--repo", "file://" + repo, "--ref",
                                       "main", "--env", env)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("valid: 7 functions with environment %s" % env, out)
            self.assertNotIn("warning", out + err)

    def test_emulator_config(self):
        shutil.copy(os.path.join(EXAMPLES, "tether.emulator.yaml"),
                    os.path.join(self.tmp, "tether.yaml"))
        subprocess.run(["git", "init", "-q", "-b", "main", os.path.join(self.tmp, "lambdas")],
                       check=True, env=self.env)
        with open(os.path.join(self.tmp, "webhook.secret"), "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        os.chmod(os.path.join(self.tmp, "webhook.secret"), 0o600)
        rc, out, err = self.tether("run", "--check", "--config", "tether.yaml")
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("warning", out + err)

    def test_aws_config(self):
        with open(os.path.join(EXAMPLES, "tether.aws.yaml")) as f:
            text = f.read()
        moved = {}
        for path in ("/run/secrets/github-token", "/run/secrets/github-webhook",
                     "/etc/tether/allowed_signers", "/var/lib/tether"):
            self.assertIn(path, text)
            moved[path] = os.path.join(self.tmp, path.lstrip("/"))
            text = text.replace(path, moved[path])
        for path in moved.values():
            os.makedirs(os.path.dirname(path), exist_ok=True)
        os.makedirs(moved["/var/lib/tether"])
        for secret in ("/run/secrets/github-token", "/run/secrets/github-webhook"):
            with open(moved[secret], "w") as f:
                f.write("a-secret-that-is-long-enough-0123456789\n")
            os.chmod(moved[secret], 0o600)
        key = os.path.join(self.tmp, "signer")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        with open(key + ".pub") as f, open(moved["/etc/tether/allowed_signers"], "w") as out:
            out.write("dana@example.com " + " ".join(f.read().split()[:2]) + "\n")
        config = os.path.join(self.tmp, "tether.aws.yaml")
        with open(config, "w") as f:
            f.write(text)
        env = dict(self.env, SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/x")
        rc, out, err = self.tether("run", "--check", "--config", config, env=env)
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("warning", out + err)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2))
