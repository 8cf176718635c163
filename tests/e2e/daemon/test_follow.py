#!/usr/bin/python3
"""`tether run` follows a branch: a pushed commit is applied (on the poll and, at once, on a
webhook), over git:// (git daemon) and smart HTTP (git http-backend), and /status,
/healthz, /readyz and /metrics say what happened. /metrics passes promtool and its API
counters equal what the emulator counted."""
import json
import shutil
import subprocess
import unittest

from daemonlib import (DaemonCase, image, metric_values, push_body, wait_until)

NAMES = ["api", "worker"]


class Follow(DaemonCase):
    def deploy_and_follow(self, url, provider):
        self.seed_functions(NAMES)
        self.write_functions(NAMES, "v1")
        first = self.commit_push("first")
        d = self.start(self.write_config(url))
        # Not ready before the first pass has finished; alive from the start.
        self.assertEqual(d.get("/healthz")[0], 200)
        s = d.wait_applied(first)
        self.assertEqual(d.get("/readyz")[0], 200)
        self.assertTrue(s["ready"])
        self.assertEqual(s["commit"]["id"], first)
        self.assertIsNone(s["rejected"])
        for f in s["functions"]:
            self.assertIn(f["function"], NAMES)
            self.assertEqual(f["result"], "converged", f)
            self.assertRegex(f["digest"], r"^[0-9a-f]{64}$")
            self.assertEqual(f["aliases"]["live"]["version"], "1", f)
            self.assertIsNone(f["quarantine"])
        for n in NAMES:
            self.assertEqual(self.alias(n)[0], "1")
            self.assertEqual(self.version_image(n, "1"), image(n, "v1"))

        # A new commit and a webhook: applied long before the 1-minute poll.
        self.write_functions(["api"], "v2")
        second = self.commit_push("api v2")
        fetches = d.status()["fetch"]["count"]
        st, _, body = d.hook(provider, push_body("refs/heads/main", second),
                             secret=self.secret)
        self.assertEqual(st, 202, body)
        self.assertEqual(json.loads(body)["result"], "trigger")
        s = d.wait_applied(second, timeout=30)
        self.assertGreater(s["fetch"]["count"], fetches)
        fns = {f["function"]: f for f in s["functions"]}
        self.assertEqual(fns["api"]["aliases"]["live"]["version"], "2")
        self.assertEqual(fns["worker"]["result"], "in-sync")
        self.assertEqual(self.version_image("api", "2"), image("api", "v2"))
        # Every manifest record of the daemon says what triggered it.
        recs = self.manifest()
        self.assertTrue(recs)
        self.assertTrue(all(r.get("trigger") == "commit" for r in recs), recs[-1])
        self.assertEqual(d.stop(), 0, d.text()[-3000:])
        self.assertIn("stopped", d.text())

    def test_git_daemon_and_generic_webhook(self):
        self.deploy_and_follow(self.serve_git_daemon(), "generic")

    def test_http_backend_and_github_webhook(self):
        self.deploy_and_follow(self.serve_http(), "github")

    def test_poll_without_webhook(self):
        url = self.serve_git_daemon()
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        first = self.commit_push("first")
        d = self.start(self.write_config(url, interval="5s"))
        d.wait_applied(first)
        self.write_functions(["api"], "v2")
        second = self.commit_push("v2")
        # interval 5s with 10 % jitter: at most 5.5 s, plus the deploy.
        d.wait_applied(second, timeout=20)
        self.assertEqual(self.alias("api")[0], "2")

    def test_fetch_failure_keeps_the_last_good_commit(self):
        url = self.serve_git_daemon()
        port = int(url.split(":")[2].split("/")[0])
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        first = self.commit_push("first")
        d = self.start(self.write_config(url))
        d.wait_applied(first)
        # The git server goes away: fetches fail, are retried with backoff (1 s, 2 s, ...),
        # and the last good commit stays enforced.
        self.git_server.stop()
        d.hook("generic", b"{}", secret=self.secret)
        s = d.wait_status(lambda s: s["fetch"]["failures_in_a_row"] >= 2, 10,
                          "two failed fetches")
        self.assertTrue(s["fetch"]["last_error"])
        self.assertEqual(s["commit"]["id"], first)
        self.assertEqual(s["applied"]["commit"], first)
        self.assertEqual(d.get("/readyz")[0], 200)
        fails = metric_values(d.metrics(), "tether_git_fetch_failures_total")[""]
        self.assertGreaterEqual(fails, 2)
        self.assertIn("fetch failed", d.text())
        # Back, with a new commit: the next retry (no webhook) fetches and applies it.
        self.write_functions(["api"], "v2")
        second = self.commit_push("v2")
        self.serve_git_daemon(port)
        s = d.wait_applied(second, timeout=30)
        self.assertEqual(s["fetch"]["failures_in_a_row"], 0)
        self.assertIsNone(s["fetch"]["last_error"])
        self.assertEqual(self.version_image("api", self.alias("api")[0]), image("api", "v2"))

    def test_metrics_match_the_emulator(self):
        url = self.serve_git_daemon()
        self.seed_functions(NAMES)
        self.write_functions(NAMES, "v1")
        first = self.commit_push("first")
        before = self.emu.stats()["operations"]
        d = self.start(self.write_config(url))
        d.wait_applied(first)
        text = d.metrics()
        after = self.emu.stats()["operations"]
        counted = {op: after[op] - before.get(op, 0) for op in after
                   if after[op] != before.get(op, 0)}
        reqs = metric_values(text, "tether_api_requests_total")
        by_op = {}
        for labels, v in reqs.items():
            op = json.loads("{%s}" % labels[1:-1].replace("operation=", '"operation":')
                            .replace("status=", '"status":'))["operation"]
            by_op[op] = by_op.get(op, 0) + int(v)
        self.assertEqual(by_op, counted, text)
        self.assertEqual(metric_values(text, "tether_reconciles_total"),
                         {'{result="converged"}': 2.0})
        self.assertEqual(metric_values(text, "tether_git_fetch_failures_total"), {"": 0.0})
        self.assertGreater(metric_values(text, "tether_last_applied_commit_timestamp_seconds")
                           [""], 1.5e9)
        self.assertEqual(metric_values(text, "tether_quarantined_functions"), {"": 0.0})
        self.assertIn('tether_git_fetch_duration_seconds_count 1', text)
        self.assertIn('tether_reconcile_duration_seconds_count 1', text)
        self.assertTrue(any(k.startswith('{bucket="%s/' % "us-east-1")
                            for k in metric_values(text, "tether_api_bucket_tokens")), text)
        promtool = shutil.which("promtool") or "/usr/bin/promtool"
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)
        # Webhook deliveries are counted by provider and result.
        d.hook("generic", b"{}", secret="wrong")
        d.hook("generic", b"{}", secret=self.secret)
        text = d.metrics()
        wh = metric_values(text, "tether_webhook_deliveries_total")
        self.assertEqual(wh.get('{provider="generic",result="unauthorized"}'), 1.0, text)
        self.assertEqual(wh.get('{provider="generic",result="trigger"}'), 1.0, text)
        self.assertTrue(wait_until(lambda: not d.status()["pass"]["running"], 10))


if __name__ == "__main__":
    unittest.main()
