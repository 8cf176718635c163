"""Isolation (docs/apply.md: "One function's failure never stops another"): 20 functions,
one of whose new image fails to deploy (the emulator ends its update with LastUpdateStatus
Failed). The other 19 converge; apply exits 1 with that one "failed"; and the run takes no
longer than the same deploy of 20 healthy images, give or take 1 s + 20 %.

Why that bound: the failing function makes one UpdateFunctionCode and waits out the same
InProgress window as a healthy one, then stops; it makes fewer calls than a converging one
(no PublishVersion, no UpdateAlias), so it uses less of the shared 15/s API budget and holds
its concurrency slot no longer. A run that retried it, or held the others back until it
finished, would take longer than the healthy run. The slack covers the waiters' poll steps
(0.1 s doubling to 1 s: a wait can end up to one step late) and the noise of a loaded
machine (ctest -j, ASan), which grows with the length of the run.
"""
import sys

from applylib import ApplyCase, function_yaml, image, main

N = 20
BAD = "fn07"
REASON = "The image manifest or layer media type for the source image is not supported."


def names():
    return ["fn%02d" % i for i in range(N)]


class Isolation(ApplyCase):
    def write(self, tag):
        for name in names():
            self.repo.write("functions/%s.yaml" % name, function_yaml(name, image(name, tag)))
        return self.repo.commit("all functions: %s" % tag)

    def test_one_failure_delays_no_one(self):
        for name in names():
            self.create_image_function(name, image(name, "1.0.0"), wait=False)
        for name in names():
            self.wait_active(name)
        self.write("1.0.0")
        run = self.apply()
        self.assertEqual(run.mutations, {"PublishVersion": N, "CreateAlias": N}, run.show())

        # Baseline: 20 healthy new images.
        self.write("2.0.0")
        healthy = self.apply()
        self.assertEqual(healthy.mutations, {"UpdateFunctionCode": N, "PublishVersion": N,
                                             "UpdateAlias": N}, healthy.show())
        self.assertEqual(healthy.counts["converged"], N, healthy.show())

        # One of the next images cannot be deployed.
        self.emu.admin("PUT", "/_emulator/update-failure",
                       {"key": image(BAD, "3.0.0"), "reason": REASON})
        c3 = self.write("3.0.0")
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {"UpdateFunctionCode": N, "PublishVersion": N - 1,
                                         "UpdateAlias": N - 1}, run.show())
        self.assertEqual(run.rows[BAD]["result"], "failed", run.show())
        self.assertIn(REASON, run.rows[BAD]["detail"], run.show())
        self.assertEqual(run.rows[BAD]["aliases"], "live=2", run.show())
        for name in names():
            if name == BAD:
                continue
            self.assertEqual(run.rows[name]["result"], "converged", run.show())
            self.assertEqual(run.rows[name]["aliases"], "live=3", run.show())
            self.assertEqual(self.alias(name), ("3", {}, ""))
            self.assertEqual(self.version_image(name, "3"), image(name, "3.0.0"))
        self.assertEqual((run.counts["converged"], run.counts["failed"]), (N - 1, 1),
                         run.show())
        self.assertEqual(self.alias(BAD), ("2", {}, ""))
        self.assertEqual([v["Version"] for v in self.versions(BAD)], ["1", "2"])
        cfg = self.lam.get_function_configuration(FunctionName=BAD)
        self.assertEqual((cfg["LastUpdateStatus"], cfg["LastUpdateStatusReason"]),
                         ("Failed", REASON))
        recs = [r for r in self.manifest(BAD) if r["commit"] == c3]
        self.assertEqual([r["action"] for r in recs if r["action"] == "update_code"],
                         ["update_code"], recs)
        self.assertIn("failed", [r["outcome"] for r in recs], recs)
        print("\nisolation: 20 healthy %.2f s, 19 healthy + 1 failing %.2f s"
              % (healthy.elapsed, run.elapsed), file=sys.stderr)
        self.assertLess(run.elapsed, 1.2 * healthy.elapsed + 1.0,
                        "the failing function held the run back:\n" + run.show())


if __name__ == "__main__":
    main()
