"""tether apply after `git revert` of an image change: a version already holds the reverted
spec, so the rollback is one UpdateAlias per affected function, no PublishVersion, and
$LATEST is left alone (docs/plan.md, phase 3).
"""
from applylib import ApplyCase, function_yaml, image, main

A1, A2 = image("alpha", "1.0.1"), image("alpha", "1.0.2")
B1, B2 = image("beta", "1.0.1"), image("beta", "1.0.2")
G1 = image("gamma", "1.0.1")


class Revert(ApplyCase):
    def test_revert_is_one_update_alias_per_function(self):
        for name, img in (("alpha", A1), ("beta", B1), ("gamma", G1)):
            self.create_image_function(name, img)
        self.repo.write("functions/alpha.yaml", function_yaml("alpha", A1, memory=256))
        self.repo.write("functions/beta.yaml", function_yaml("beta", B1))
        self.repo.write("functions/gamma.yaml", function_yaml("gamma", G1))
        c1 = self.repo.commit("first")
        d1 = self.validate()
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionConfiguration": 1,
                                         "PublishVersion": 3, "CreateAlias": 3}, run.show())

        # One commit changes two functions' images.
        self.repo.write("functions/alpha.yaml", function_yaml("alpha", A2, memory=256))
        self.repo.write("functions/beta.yaml", function_yaml("beta", B2))
        c2 = self.repo.commit("alpha and beta: new images")
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 2, "PublishVersion": 2,
                                         "UpdateAlias": 2}, run.show())
        self.assertEqual(self.alias("alpha")[0], "2")
        self.assertEqual(self.alias("beta")[0], "2")

        c3 = self.repo.revert(c2)
        d3 = self.validate()
        self.assertEqual(d3, d1)  # the revert is the first spec again
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateAlias": 2}, run.show())
        self.assertNotIn("PublishVersion", run.ops)
        self.assertEqual(self.alias("alpha"), ("1", {}, ""))
        self.assertEqual(self.alias("beta"), ("1", {}, ""))
        self.assertEqual(self.alias("gamma"), ("1", {}, ""))
        self.assertEqual(self.version_image("alpha", "1"), A1)
        self.assertEqual(self.version_image("beta", "1"), B1)
        # $LATEST is a staging area: the rollback does not touch it.
        self.assertEqual(self.latest_image("alpha"), A2)
        self.assertEqual(self.latest_image("beta"), B2)
        self.assertEqual([v["Version"] for v in self.versions("alpha")], ["1", "2"])
        for name in ("alpha", "beta"):
            row = run.rows[name]
            self.assertEqual((row["result"], row["aliases"], row["actions"]),
                             ("converged", "live=1", 1), run.show())
        self.assertEqual(run.rows["gamma"]["result"], "in-sync", run.show())
        self.assertEqual(run.commit, c3[:12])
        moves = [r for r in self.manifest() if r["commit"] == c3]
        self.assertEqual(sorted((r["function"], r["action"], r["outcome"],
                                 r["before"]["version"], r["after"]["version"])
                                for r in moves),
                         [("alpha", "update_alias", "ok", "2", "1"),
                          ("beta", "update_alias", "ok", "2", "1")])

        # Converged: nothing more to do.
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())
        self.check_history("alpha")


if __name__ == "__main__":
    main()
