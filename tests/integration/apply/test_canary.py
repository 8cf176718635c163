"""Canaries (docs/apply.md): an alias with traffic {steps: [10, 50], interval: 2s} moves to
the new version 10 % -> 50 % -> promoted, each step lasting its interval, with the canary
mark in the alias's description; a canary check that fails puts the weight back to 0 and
quarantines the digest.

The alias is watched with botocore (GetAlias every 100 ms, in a thread) while apply runs.
"""
import signal
import time

from applylib import (CANARY_MARK, AliasWatcher, ApplyCase, function_yaml, image, main,
                      parse_summary, stop_process)
from timescale import scaled

W1, W2 = image("web", "1.0.1"), image("web", "1.0.2")
INTERVAL = 2
CANARY = "  live:\n    version: current\n    traffic: {steps: [10, 50], interval: %ds}\n"
SMOKE = "{payload: {ping: 1}, expect: {statusCode: 200}}"


def canary_marks(states):
    """The distinct canary marks seen, in order: (d, step, n, at, stable)."""
    out = []
    for s in states:
        m = CANARY_MARK.match(s[3])
        if m:
            mark = (m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                    m.group(5))
            if mark not in out:
                out.append(mark)
    return out


class Canary(ApplyCase):
    def deploy_first(self, smoke=False, interval=INTERVAL):
        self.create_image_function("web", W1)
        extra = {"smoke_test": SMOKE} if smoke else {}
        self.repo.write("functions/web.yaml",
                        function_yaml("web", W1, aliases=CANARY % interval, **extra))
        self.repo.commit("first")
        run = self.apply()
        # A new alias has no traffic to protect: created at once.
        self.assertEqual(self.alias("web"), ("1", {}, ""))
        self.assertEqual(run.mutations.get("CreateAlias"), 1, run.show())
        self.repo.write("functions/web.yaml",
                        function_yaml("web", W2, aliases=CANARY % interval, **extra))
        c2 = self.repo.commit("web: new image")
        return c2, self.validate()["web"]

    def test_steps_then_promote(self):
        c2, d2 = self.deploy_first()
        watch = AliasWatcher(self.emu, "web", "live").start()
        try:
            run = self.apply()
        finally:
            watch.stop()
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 1, "PublishVersion": 1,
                                         "UpdateAlias": 3}, run.show())
        self.assertEqual(watch.routing(), [("1", {}), ("1", {"2": 0.1}), ("1", {"2": 0.5}),
                                           ("2", {})], watch.states)
        marks = canary_marks(watch.states)
        self.assertEqual([(m[0], m[1], m[2], m[4]) for m in marks],
                         [(d2[:12], 1, 2, "1"), (d2[:12], 2, 2, "1")], watch.states)
        at1, at2 = marks[0][3], marks[1][3]
        self.assertGreaterEqual(at2, at1 + INTERVAL, watch.states)
        # Each state, the description that goes with it.
        seen = {}
        for t, version, weights, desc in watch.states:
            key = (version, tuple(sorted(weights.items())))
            seen.setdefault(key, (t, desc))
        t10, desc10 = seen[("1", (("2", 0.1),))]
        t50, desc50 = seen[("1", (("2", 0.5),))]
        tpro, descpro = seen[("2", ())]
        self.assertRegex(desc10, r"step=1/2 ")
        self.assertRegex(desc50, r"step=2/2 ")
        self.assertNotIn("tether canary", descpro)
        self.assertEqual(self.alias("web"), ("2", {}, descpro))
        # A step moves on only once its interval has passed since its at=.
        self.assertGreaterEqual(t50, at1 + INTERVAL - 0.05, watch.states)
        self.assertGreaterEqual(tpro, at2 + INTERVAL - 0.05, watch.states)
        # ... and promptly then (at= is whole seconds, so a step lasts INTERVAL-1..INTERVAL).
        self.assertLess(t50, at1 + INTERVAL + 2.5, watch.states)
        self.assertLess(tpro, at2 + INTERVAL + 2.5, watch.states)
        self.assertGreaterEqual(tpro - t10, 2 * (INTERVAL - 1) - 0.2, watch.states)
        self.assertEqual(run.rows["web"]["result"], "converged", run.show())
        self.assertEqual(run.rows["web"]["aliases"], "live=2", run.show())
        updates = [r for r in self.manifest("web") if r["action"] == "update_alias"]
        self.assertEqual([(r["after"]["version"], r["after"]["routing_version"],
                           r["after"].get("routing_weight")) for r in updates],
                         [("1", "2", 0.1), ("1", "2", 0.5), ("2", None, None)], updates)
        self.assertEqual(self.apply().mutations, {})

    def test_failed_check_rolls_back(self):
        self.emu.set_invoke(W2, {"statusCode": 200})
        c2, d2 = self.deploy_first(smoke=True)
        watch = AliasWatcher(self.emu, "web", "live").start()
        base = self.emu.stats()["operations"]
        proc = self.start_apply()
        try:
            seen = watch.wait_for(lambda s: s[2] == {"2": 0.1}, 30)
            self.assertIsNotNone(seen, watch.states)
            mid = self.emu.stats()["operations"]
            # The new version starts failing only now, after the smoke test passed.
            self.emu.set_invoke(W2, {"errorMessage": "boom"}, function_error="Unhandled")
            out, err = proc.communicate(timeout=60)
        finally:
            watch.stop()
        self.assertEqual(proc.returncode, 1, out + err)
        rows = parse_summary(out)[0]
        self.assertIn(rows["web"]["result"], ("failed", "blocked"), out)
        self.assertEqual(rows["web"]["aliases"], "live=1", out)
        self.assertEqual(watch.routing(), [("1", {}), ("1", {"2": 0.1}), ("1", {})],
                         watch.states)
        version, weights, desc = self.alias("web")
        self.assertEqual((version, weights), ("1", {}))
        self.assertNotIn("tether canary", desc)
        self.assertIn(d2, self.state_file("web"))  # quarantined
        end = self.emu.stats()["operations"]

        def delta(a, b):
            return {op: b[op] - a.get(op, 0) for op in b
                    if b[op] != a.get(op, 0) and not op.startswith(("Get", "List"))}
        # Up to the 10 % step: stage, smoke test, publish, step 1. After it: one canary
        # check, and the rollback.
        self.assertEqual(delta(base, mid), {"UpdateFunctionCode": 1, "Invoke": 1,
                                            "PublishVersion": 1, "UpdateAlias": 1})
        self.assertEqual(delta(mid, end), {"Invoke": 1, "UpdateAlias": 1})
        recs = self.manifest("web")
        checks = [r for r in recs if r["action"] == "canary_check"]
        self.assertEqual([r["outcome"] for r in checks], ["failed"], recs)
        self.assertIn("quarantine", [r["action"] for r in recs])
        last = [r for r in recs if r["action"] == "update_alias"][-1]
        self.assertEqual((last["after"]["version"], last["after"]["routing_version"]),
                         ("1", None), last)

        # The same commit again: blocked, nothing done.
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual(run.rows["web"]["result"], "blocked", run.show())
        self.assertIn("quarantined d=%s" % d2[:12], run.rows["web"]["detail"], run.show())


class CanaryRestart(ApplyCase):
    """A tether stopped in the middle of a canary: the next one reads the step from the
    alias's description and resumes it."""

    def start_canary(self, interval, smoke=False):
        extra = {"smoke_test": SMOKE} if smoke else {}
        self.create_image_function("web", W1)
        self.repo.write("functions/web.yaml",
                        function_yaml("web", W1, aliases=CANARY % interval, **extra))
        self.repo.commit("first")
        self.apply()
        self.repo.write("functions/web.yaml",
                        function_yaml("web", W2, aliases=CANARY % interval, **extra))
        self.repo.commit("web: new image")
        d2 = self.validate()["web"]
        self.base = self.emu.stats()["operations"]
        watch = AliasWatcher(self.emu, "web", "live").start()
        self.addCleanup(watch.stop)
        proc = self.start_apply()
        seen = watch.wait_for(lambda s: s[2] == {"2": 0.1}, 30)
        self.assertIsNotNone(seen, watch.states)
        m = CANARY_MARK.match(seen[3])
        self.assertIsNotNone(m, seen)
        self.assertEqual((m.group(1), m.group(2), m.group(3), m.group(5)),
                         (d2[:12], "1", "2", "1"))
        return proc, watch, d2, int(m.group(4))

    def finish(self, watch, d2, at1, interval, restart):
        run = self.apply()
        watch.stop()
        self.assertEqual(watch.routing(), [("1", {}), ("1", {"2": 0.1}), ("1", {"2": 0.5}),
                                           ("2", {})], watch.states)
        marks = canary_marks(watch.states)
        # Step 1 is never started again: its mark keeps the first run's at=.
        self.assertEqual([(m[0], m[1], m[2], m[4]) for m in marks],
                         [(d2[:12], 1, 2, "1"), (d2[:12], 2, 2, "1")], watch.states)
        self.assertEqual(marks[0][3], at1, watch.states)
        at2 = marks[1][3]
        self.assertGreaterEqual(at2, at1 + interval, watch.states)
        self.assertGreaterEqual(at2, int(restart), watch.states)
        t50 = next(s[0] for s in watch.states if s[2] == {"2": 0.5})
        tpro = next(s[0] for s in watch.states if s[1] == "2")
        self.assertGreaterEqual(t50, at1 + interval - 0.05, watch.states)
        self.assertGreaterEqual(tpro, at2 + interval - 0.05, watch.states)
        self.assertEqual(self.alias("web")[:2], ("2", {}))
        self.assertNotIn("tether canary", self.alias("web")[2])
        self.assertEqual(run.rows["web"]["result"], "converged", run.show())
        # Across both runs: one code update, one version, three alias moves.
        now = self.emu.stats()["operations"]
        total = {op: now[op] - self.base.get(op, 0) for op in now
                 if now[op] != self.base.get(op, 0) and not op.startswith(("Get", "List"))}
        self.assertEqual(total, {"UpdateFunctionCode": 1, "PublishVersion": 1,
                                 "UpdateAlias": 3}, run.show())
        return t50

    def test_resume_a_step_that_is_due(self):
        proc, watch, d2, at1 = self.start_canary(INTERVAL)
        stop_process(self, proc, signal.SIGKILL)
        self.assertEqual(self.alias("web")[:2], ("1", {"2": 0.1}))
        while time.time() < at1 + INTERVAL + 0.3:
            time.sleep(0.05)
        restart = time.time()
        t50 = self.finish(watch, d2, at1, INTERVAL, restart)
        # Due already: step 2 is the first thing the new tether does to the alias.
        self.assertLess(t50 - restart, scaled(5.0), watch.states)

    def test_a_step_found_due_is_checked_before_it_advances(self):
        # tether was down through the whole step, and the new version broke meanwhile:
        # the step must not advance on time alone. The next run checks it at once, the
        # check fails, the weight goes back to 0 and the digest is quarantined.
        self.emu.set_invoke(W2, {"statusCode": 200})
        proc, watch, d2, at1 = self.start_canary(INTERVAL, smoke=True)
        stop_process(self, proc, signal.SIGKILL)
        self.emu.set_invoke(W2, {"errorMessage": "boom"}, function_error="Unhandled")
        while time.time() < at1 + INTERVAL + 0.3:
            time.sleep(0.05)
        run = self.apply(rc=1)
        watch.stop()
        self.assertEqual(watch.routing(), [("1", {}), ("1", {"2": 0.1}), ("1", {})],
                         watch.states)
        self.assertEqual(run.mutations, {"Invoke": 1, "UpdateAlias": 1}, run.show())
        checks = [r for r in self.manifest("web") if r["action"] == "canary_check"]
        self.assertEqual([r["outcome"] for r in checks], ["failed"], checks)
        self.assertIn(d2, self.state_file("web"))  # quarantined

    def test_resume_a_step_that_is_not_due(self):
        interval = int(scaled(3))  # long enough to stop tether before it is due
        proc, watch, d2, at1 = self.start_canary(interval)
        stop_process(self, proc, signal.SIGTERM)
        self.assertEqual(self.alias("web")[:2], ("1", {"2": 0.1}))
        restart = time.time()
        self.assertLess(restart, at1 + interval, "the step was due before the restart")
        t50 = self.finish(watch, d2, at1, interval, at1)
        # Promptly once due (finish() checked that it was not before).
        self.assertLess(t50, at1 + interval + scaled(2.5), watch.states)


if __name__ == "__main__":
    main()
