"""Concurrent modification (docs/apply.md, "Publishing"): someone else changes $LATEST
between tether's update and its PublishVersion. The emulator's intercept does exactly that
just before it serves tether's PublishVersion. tether must not publish the foreign image
under its digest: the publish is refused (stale RevisionId), recorded as a conflict, the
function is observed again, staged again, and published with the committed image.
"""
from applylib import VERSION_MARK, ApplyCase, function_yaml, image, main

A1, A2 = image("api", "1.0.1"), image("api", "1.0.2")
FOREIGN = image("intruder", "6.6.6")
B1, B2 = image("batch", "1.0.1"), image("batch", "1.0.2")


class Conflict(ApplyCase):
    def intercept(self, function, code=None, config=None):
        hook = {"operation": "PublishVersion", "function": function}
        if code is not None:
            hook["update_code"] = code
        if config is not None:
            hook["update_configuration"] = config
        self.emu.admin("POST", "/_emulator/intercept", hook)

    def pending_hooks(self):
        return self.emu.admin("GET", "/_emulator/intercept")["intercepts"]

    def test_foreign_change_is_never_published_as_ours(self):
        self.create_image_function("api", A1)
        self.create_image_function("batch", B1)
        self.repo.write("functions/api.yaml", function_yaml("api", A1))
        self.repo.write("functions/batch.yaml", function_yaml("batch", B1, memory=256))
        c1 = self.repo.commit("first")
        d1 = self.validate()
        self.apply()

        self.repo.write("functions/api.yaml", function_yaml("api", A2))
        self.repo.write("functions/batch.yaml", function_yaml("batch", B2, memory=256))
        c2 = self.repo.commit("new images")
        d2 = self.validate()
        # api: the image changes under tether; batch: the memory does.
        self.intercept("api", code={"ImageUri": FOREIGN})
        self.intercept("batch", config={"MemorySize": 1024})
        self.assertEqual(len(self.pending_hooks()), 2)
        run = self.apply()
        self.assertEqual(self.pending_hooks(), [])  # both fired
        # Per function: stage, publish (refused), stage again, publish, alias.
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 3, "UpdateFunctionConfiguration": 1,
                                         "PublishVersion": 4, "UpdateAlias": 2}, run.show())

        images = {("api", d1["api"][:12]): A1, ("api", d2["api"][:12]): A2,
                  ("batch", d1["batch"][:12]): B1, ("batch", d2["batch"][:12]): B2}
        for name in ("api", "batch"):
            for v in self.versions(name):
                m = VERSION_MARK.match(v.get("Description", ""))
                self.assertIsNotNone(m, v)  # nobody else published anything
                self.assertIn((name, m.group(1)), images, v)
                self.assertEqual(self.version_image(name, v["Version"]),
                                 images[(name, m.group(1))], v)
                self.assertEqual(v["MemorySize"], 256 if name == "batch" else 128, v)
            version = self.alias(name)[0]
            cfg = self.lam.get_function_configuration(FunctionName=name, Qualifier=version)
            self.assertEqual(cfg["Description"], self.mark(d2[name], c2))
            self.assertEqual(run.rows[name]["result"], "converged", run.show())
        self.assertEqual(self.version_image("api", self.alias("api")[0]), A2)
        self.assertEqual(self.version_image("batch", self.alias("batch")[0]), B2)
        self.assertEqual(self.latest_image("api"), A2)
        self.assertNotIn(FOREIGN, [self.version_image("api", v["Version"])
                                   for v in self.versions("api")])
        for name in ("api", "batch"):
            recs = [r for r in self.manifest(name) if r["commit"] == c2]
            pubs = [(r["action"], r["outcome"]) for r in recs if r["action"] == "publish"]
            self.assertEqual(pubs, [("publish", "conflict"), ("publish", "ok")], recs)
            conflict = next(r for r in recs if r["outcome"] == "conflict")
            self.assertIn("PreconditionFailed", conflict["error"], conflict)
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())


if __name__ == "__main__":
    main()
