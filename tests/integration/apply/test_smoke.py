"""Smoke tests and quarantine (docs/apply.md): a failing smoke test publishes nothing, moves
no alias and quarantines the digest; the next apply of the same commit makes no mutating
call and reports the function blocked; a new commit that changes the function clears the
quarantine and deploys normally.
"""
import json

from applylib import ROLE, ApplyCase, function_yaml, image, main

SMOKE = "{payload: {ping: 1}, expect: {ok: true}}"
S1, S2, S3 = (image("svc", "1.0.%d" % i) for i in (1, 2, 3))
T1, T2, T3 = (image("tally", "1.0.%d" % i) for i in (1, 2, 3))
O1 = image("other", "1.0.1")


class Smoke(ApplyCase):
    def write(self, s_img, t_img):
        self.repo.write("functions/svc.yaml", function_yaml("svc", s_img, smoke_test=SMOKE))
        self.repo.write("functions/tally.yaml", function_yaml("tally", t_img, smoke_test=SMOKE))

    def test_failed_smoke_test_quarantines(self):
        for name, img in (("svc", S1), ("tally", T1), ("other", O1)):
            self.create_image_function(name, img)
        for img in (S1, T1, S3, T3):
            self.emu.set_invoke(img, {"ok": True, "version": img})
        # svc's next image raises; tally's answers, but not what expect says.
        self.emu.set_invoke(S2, {"errorMessage": "boom"}, function_error="Unhandled")
        self.emu.set_invoke(T2, {"ok": False})
        self.write(S1, T1)
        self.repo.write("functions/other.yaml", function_yaml("other", O1))
        self.repo.commit("first")
        run = self.apply()
        self.assertEqual(run.mutations, {"Invoke": 2, "PublishVersion": 3, "CreateAlias": 3},
                         run.show())

        self.write(S2, T2)
        c2 = self.repo.commit("new images that fail their smoke tests")
        d2 = self.validate()
        run = self.apply(rc=1)
        # $LATEST is staged and tested; nothing is published, no alias moves.
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 2, "Invoke": 2}, run.show())
        for name, first in (("svc", S1), ("tally", T1)):
            self.assertEqual([v["Version"] for v in self.versions(name)], ["1"])
            self.assertEqual(self.alias(name), ("1", {}, ""))
            self.assertEqual(self.version_image(name, "1"), first)
            self.assertIn(run.rows[name]["result"], ("failed", "blocked"), run.show())
            self.assertEqual(run.rows[name]["aliases"], "live=1", run.show())
            self.assertIn(d2[name], self.state_file(name))  # the quarantine, full digest
            recs = [r for r in self.manifest(name) if r["commit"] == c2]
            tests = [r for r in recs if r["action"] == "smoke_test"]
            self.assertEqual([r["outcome"] for r in tests], ["failed"], recs)
            self.assertIsNotNone(tests[0]["error"])
            self.assertNotIn("publish", [r["action"] for r in recs])
            self.assertIn("quarantine", [r["action"] for r in recs])
        self.assertEqual(run.rows["other"]["result"], "in-sync", run.show())
        status = json.loads(self.status("--output", "json").stdout)
        entries = {e["function"]: json.dumps(e) for e in status["functions"]}
        for name in ("svc", "tally"):
            self.assertIn("d=%s" % d2[name][:12], entries[name])
        text = self.status().stdout
        self.assertIn(d2["svc"][:12], text)

        # The same commit again: blocked, quarantined, not one mutating call.
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {}, run.show())
        for name in ("svc", "tally"):
            self.assertEqual(run.rows[name]["result"], "blocked", run.show())
            self.assertEqual(run.rows[name]["actions"], 0, run.show())
            self.assertIn("quarantined d=%s" % d2[name][:12], run.rows[name]["detail"],
                          run.show())
        self.assertEqual(run.counts["blocked"], 2, run.show())
        self.assertEqual(run.counts["in sync"], 1, run.show())

        # git changes the functions again, to images that work: deployed normally.
        self.write(S3, T3)
        c3 = self.repo.commit("fixed images")
        d3 = self.validate()
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 2, "Invoke": 2,
                                         "PublishVersion": 2, "UpdateAlias": 2}, run.show())
        for name, img in (("svc", S3), ("tally", T3)):
            vs = self.versions(name)
            self.assertEqual([v["Version"] for v in vs], ["1", "2"])
            self.assertEqual(vs[1]["Description"], self.mark(d3[name], c3))
            self.assertEqual(self.version_image(name, "2"), img)
            self.assertEqual(self.alias(name), ("2", {}, ""))
            self.assertEqual(run.rows[name]["result"], "converged", run.show())
            self.assertNotIn(d2[name], self.state_file(name))  # quarantine cleared
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())
        self.check_history("svc")


    def test_created_function_is_quarantined_by_its_digest(self):
        """A function tether creates and whose smoke test fails is quarantined under its
        full digest, which every manifest record of it carries."""
        born = image("born", "1.0.0")
        self.emu.set_invoke(born, {"errorMessage": "boom"}, function_error="Unhandled")
        self.repo.write("functions/born.yaml",
                        function_yaml("born", born, role=ROLE, smoke_test=SMOKE))
        self.repo.commit("a new function whose smoke test fails")
        d = self.validate()
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {"CreateFunction": 1, "Invoke": 1}, run.show())
        self.assertEqual(self.versions("born"), [])
        self.assertIn(d["born"], self.state_file("born"))
        recs = self.manifest("born")
        self.assertEqual([r["action"] for r in recs][:1], ["create_function"], recs)
        for r in recs:
            self.assertEqual(r["digest"], d["born"], r)
        # Quarantined: the same commit again changes nothing.
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual(run.rows["born"]["result"], "blocked", run.show())
        self.assertIn("quarantined d=%s" % d["born"][:12], run.rows["born"]["detail"])

if __name__ == "__main__":
    main()
