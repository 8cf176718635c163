#!/usr/bin/python3
"""Drift (docs/daemon.md): changes made by hand with botocore between commits. In enforce
mode tether corrects an alias moved by hand, an image changed by hand and a deleted
tether-published version within drift_interval + 2 s; in detect mode it only reports. Each
drift is a manifest record (trigger "drift"), a metric and a /status entry. A quarantined
digest is never redeployed by a drift pass."""
import time
import unittest

from daemonlib import DaemonCase, function_yaml, image, metric_values, wait_until

DRIFT = 10.0  # the shortest drift_interval the config allows
SMOKE = "{payload: {ping: 1}, expect: {ok: true}}"


class Drift(DaemonCase):
    def deploy_two_versions(self, names, extra=None):
        """v1 then v2 of each function: versions 1 and 2, live -> 2."""
        url = self.serve_git_daemon()
        self.seed_functions(names)
        self.write_functions(names, "v1", extra)
        self.commit_push("v1")
        d = self.start(self.write_config(url, drift="10s"))
        d.wait_applied(self.repo.git("rev-parse", "HEAD"))
        self.write_functions(names, "v2", extra)
        second = self.commit_push("v2")
        d.hook("generic", b"{}", secret=self.secret)
        d.wait_applied(second)
        for n in names:
            self.assertEqual(self.alias(n)[0], "2")
        return d

    def drift_records(self, function):
        return [r for r in self.manifest(function) if r.get("trigger") == "drift"]

    def test_enforce_corrects_alias_image_and_deleted_version(self):
        d = self.deploy_two_versions(["api", "worker", "jobs"])
        # By hand: api's alias back to 1; worker's $LATEST to another image; jobs's alias to
        # 1 and its version 2 (tether's, holding the desired digest) deleted.
        self.lam.update_alias(FunctionName="api", Name="live", FunctionVersion="1")
        self.lam.update_function_code(FunctionName="worker", ImageUri=image("worker", "hand"))
        self.wait_updated("worker")
        self.lam.update_alias(FunctionName="jobs", Name="live", FunctionVersion="1")
        self.lam.delete_function(FunctionName="jobs", Qualifier="2")
        t0 = time.monotonic()

        def corrected():
            if self.alias("api")[0] != "2":
                return False
            if self.latest_image("worker") != image("worker", "v2"):
                return False
            v = self.alias("jobs")[0]
            return v not in ("1", "2") and self.version_image("jobs", v) == image("jobs", "v2")
        self.assertTrue(wait_until(corrected, DRIFT + 2 + 5, 0.1),
                        "not corrected\n" + d.text()[-6000:])
        took = time.monotonic() - t0
        # The first drift pass after the changes corrected all three, within
        # drift_interval + 2 s of the last change (the check itself polls every 0.1 s).
        self.assertLessEqual(took, DRIFT + 2, "took %.1fs" % took)
        self.assertEqual(self.alias("worker")[0], "2")
        # Each is in the manifest as drift, in /status and in the metrics.
        for n in ("api", "worker", "jobs"):
            self.assertTrue(self.drift_records(n), self.manifest(n))
        s = d.wait_status(lambda s: all(f["drift"] for f in s["functions"]), 5,
                          "drift in /status")
        for f in s["functions"]:
            self.assertGreaterEqual(f["drift"]["count"], 1)
        m = metric_values(d.metrics(), "tether_drift_detections_total")
        self.assertIn('{function="api",kind="alias"}', m)
        self.assertIn('{function="worker",kind="code"}', m)
        self.assertIn('{function="jobs",kind="version"}', m)
        # The next pass finds nothing: no mutating call.
        before = self.emu.stats()["operations"]
        time.sleep(DRIFT + 1)
        after = self.emu.stats()["operations"]
        muts = {op: after[op] - before.get(op, 0) for op in after
                if not op.startswith(("Get", "List")) and after[op] != before.get(op, 0)}
        self.assertEqual(muts, {}, d.text()[-4000:])

    def test_detect_only_reports(self):
        d = self.deploy_two_versions(["api"])
        self.write_functions(["api"], "v2", {"mode": "detect"})
        third = self.commit_push("api: detect only")
        d.hook("generic", b"{}", secret=self.secret)
        d.wait_status(lambda s: s["commit"]["id"] == third and not s["pass"]["running"], 20,
                      "detect mode committed")
        self.lam.update_alias(FunctionName="api", Name="live", FunctionVersion="1")
        self.lam.update_function_code(FunctionName="api", ImageUri=image("api", "hand"))
        self.wait_updated("api")
        s = d.wait_status(lambda s: s["functions"][0]["drift"] is not None, DRIFT + 5,
                          "drift reported")
        self.assertEqual(s["functions"][0]["result"], "reported")
        # Reported, not corrected: both hand changes stay.
        time.sleep(1.0)
        self.assertEqual(self.alias("api")[0], "1")
        self.assertEqual(self.latest_image("api"), image("api", "hand"))
        recs = self.drift_records("api")
        self.assertTrue(recs)
        self.assertTrue(all(r["action"] == "drift" and r["outcome"] == "reported"
                            for r in recs), recs)
        m = metric_values(d.metrics(), "tether_drift_detections_total")
        self.assertIn('{function="api",kind="alias"}', m)
        self.assertEqual(metric_values(d.metrics(), "tether_reconciles_total")
                         .get('{result="reported"}'), 1.0)

    def test_quarantined_digest_is_never_redeployed(self):
        url = self.serve_git_daemon()
        self.seed_functions(["svc"])
        self.emu.set_invoke(image("svc", "v1"), {"ok": True})
        self.emu.set_invoke(image("svc", "v2"), {"errorMessage": "boom"},
                            function_error="Unhandled")
        self.repo.write("functions/svc.yaml",
                        function_yaml("svc", image("svc", "v1"), smoke_test=SMOKE))
        first = self.commit_push("v1")
        d = self.start(self.write_config(url, drift="10s"))
        d.wait_applied(first)
        self.repo.write("functions/svc.yaml",
                        function_yaml("svc", image("svc", "v2"), smoke_test=SMOKE))
        second = self.commit_push("v2")
        d.hook("generic", b"{}", secret=self.secret)
        s = d.wait_status(lambda s: s["commit"]["id"] == second and not s["pass"]["running"]
                          and s["functions"][0]["quarantine"], 30, "quarantine")
        self.assertTrue(s["functions"][0]["quarantine"]["current"])
        # The pass whose smoke test failed failed; later ones say blocked.
        self.assertEqual(s["functions"][0]["result"], "failed")
        self.assertEqual(self.alias("svc")[0], "1")
        self.assertEqual(metric_values(d.metrics(), "tether_quarantined_functions"),
                         {"": 1.0})
        # Drift by hand on the quarantined function, then a drift pass: the bad digest is
        # not deployed, nothing is published.
        before = self.emu.stats()["operations"]
        time.sleep(DRIFT + 2)
        after = self.emu.stats()["operations"]
        for op in ("UpdateFunctionCode", "PublishVersion", "UpdateAlias"):
            self.assertEqual(after[op], before[op], op)
        self.assertEqual(self.alias("svc")[0], "1")
        self.assertEqual(len(self.versions("svc")), 1)
        s = d.status()
        self.assertEqual(s["functions"][0]["result"], "blocked")
        self.assertIn("quarantine", s["functions"][0]["detail"])


if __name__ == "__main__":
    unittest.main()
