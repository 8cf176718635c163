#!/usr/bin/python3
"""Operating `tether run` (docs/daemon.md): SIGHUP with a broken config keeps the old one
and keeps serving, SIGHUP with a good one applies it; SIGTERM during a deploy lets the
in-flight call finish and exits 0, and a restart converges; a second `tether run` on the
same state directory refuses to start; `tether run --check` validates and exits; JSON logs
never carry a secret."""
import json
import os
import signal
import subprocess
import time
import unittest

from daemonlib import DaemonCase, image, wait_until


class Ops(DaemonCase):
    update_delay_ms = 1500

    def test_sighup(self):
        url = self.serve_git_daemon()
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        first = self.commit_push("first")
        cfg = self.write_config(url)
        d = self.start(cfg)
        d.wait_applied(first)
        with open(cfg) as f:
            good = f.read()
        with open(cfg, "w") as f:
            f.write(good + "intervall: 5s\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "the running config is kept" in d.text(), 10),
                        d.text()[-3000:])
        self.assertIn('unknown key "intervall"', d.text())
        self.assertEqual(d.get("/healthz")[0], 200)
        self.assertEqual(d.status()["commit"]["id"], first)
        self.assertIsNone(d.proc.poll())
        # A good change (the ref) is taken: the daemon follows the new branch.
        self.repo.git("checkout", "-q", "-b", "release")
        self.write_functions(["api"], "v2")
        self.repo.commit("release v2")
        self.repo.git("push", "-q", "origin", "release")
        rel = self.repo.git("rev-parse", "HEAD")
        with open(cfg, "w") as f:
            f.write(good.replace("ref: main", "ref: release"))
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "reloaded" in d.text(), 10), d.text()[-3000:])
        d.wait_applied(rel, timeout=30)
        self.assertEqual(self.version_image("api", self.alias("api")[0]), image("api", "v2"))
        self.assertEqual(d.stop(), 0)

    def test_sigterm_mid_deploy_then_restart(self):
        url = self.serve_git_daemon()
        self.seed_functions(["api", "worker"])
        self.write_functions(["api", "worker"], "v1")
        first = self.commit_push("first")
        cfg = self.write_config(url)
        d = self.start(cfg)
        d.wait_applied(first)
        self.write_functions(["api", "worker"], "v2")
        second = self.commit_push("v2")
        d.hook("generic", b"{}", secret=self.secret)
        # Wait until an update is in flight (the emulator holds it 1.5 s), then SIGTERM.
        self.assertTrue(wait_until(
            lambda: self.emu.stats()["operations"]["UpdateFunctionCode"] >= 1, 10))
        t0 = time.monotonic()
        self.assertEqual(d.stop(signal.SIGTERM, timeout=30), 0, d.text()[-4000:])
        self.assertLess(time.monotonic() - t0, 25)
        self.assertIn("stopping", d.text())
        # Every record is whole (the manifest parses) and nothing half-done is lost.
        self.manifest()
        d2 = self.start(cfg)
        s = d2.wait_applied(second)
        for f in s["functions"]:
            self.assertIn(f["result"], ("converged", "in-sync"), f)
        for n in ("api", "worker"):
            self.assertEqual(self.version_image(n, self.alias(n)[0]), image(n, "v2"))
        # No digest was published twice across the two runs.
        for n in ("api", "worker"):
            marks = [v[0] for v in self.tether_versions(n).values()]
            self.assertEqual(len(marks), len(set(marks)), marks)
        self.assertEqual(d2.stop(), 0)

    def test_second_instance_refuses_and_check(self):
        url = self.serve_git_daemon()
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        first = self.commit_push("first")
        cfg = self.write_config(url, extra="log_format: json\n")
        d = self.start(cfg)
        d.wait_applied(first)
        cfg2 = self.write_config(url, name="second.yaml")
        p = self.tether("run", "--config", cfg2, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("in use by another tether (pid %d)" % d.proc.pid, p.stderr)
        # --check: valid and invalid configs, nothing started.
        p = self.tether("run", "--check", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("valid: ", p.stdout)
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("repo: %s\ninterval: 60\n" % url)
        p = self.tether("run", "--check", "--config", bad)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout, r"bad\.yaml:2:11: ")
        p = self.tether("run", "--config", bad)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"bad\.yaml:2:11: ")
        # JSON log lines, none with the webhook secret.
        d.hook("github", b"{}", secret=self.secret)
        self.assertEqual(d.stop(), 0)
        text = d.text()
        self.assertNotIn(self.secret, text)
        for line in text.splitlines():
            json.loads(line)


if __name__ == "__main__":
    unittest.main()
