"""tether apply, the basic life of a function (docs/apply.md): the first deploy, an image
change, a layer change, a configuration-only change, a run with nothing to do (zero
mutating calls), functions tether creates (image and zip), the summary table, history and
status, an invalid commit and a held state directory.
"""
import base64
import fcntl
import hashlib
import json
import os

from applylib import (ROLE, ApplyCase, function_yaml, image, layer_zip, main)

ORDERS_1 = image("orders", "1.0.1")
ORDERS_2 = image("orders", "1.0.2")


class Basic(ApplyCase):
    def publish_layer(self):
        return self.lam.publish_layer_version(
            LayerName="deps", Content={"ZipFile": layer_zip()})["LayerVersionArn"]

    def test_life_of_a_function(self):
        # Two functions made by hand: an image function, and a zip function whose code
        # tether does not manage but whose layers it does.
        layer1 = self.publish_layer()
        self.assertTrue(layer1.endswith(":layer:deps:1"), layer1)
        self.create_image_function("orders", ORDERS_1)
        self.lam.create_function(FunctionName="layered", Runtime="python3.12",
                                 Handler="app.handler", Role=ROLE,
                                 Code={"S3Bucket": "tether-test-code", "S3Key": "layered.zip"},
                                 Layers=[layer1])
        self.wait_active("layered")
        self.repo.write("functions/orders.yaml", function_yaml("orders", ORDERS_1))
        self.repo.write("functions/layered.yaml",
                        function_yaml("layered", layers="[%s]" % layer1))
        c1 = self.repo.commit("first")
        d1 = self.validate()

        # 1. First deploy: one version each, with the mark, and the alias on it.
        run = self.apply()
        self.assertEqual(run.mutations, {"PublishVersion": 2, "CreateAlias": 2}, run.show())
        for name in ("orders", "layered"):
            vs = self.versions(name)
            self.assertEqual([v["Version"] for v in vs], ["1"])
            self.assertEqual(vs[0]["Description"], self.mark(d1[name], c1))
            self.assertEqual(self.alias(name), ("1", {}, ""))
            self.assertEqual(run.rows[name]["result"], "converged", run.show())
            self.assertEqual(run.rows[name]["aliases"], "live=1", run.show())
            self.assertEqual(run.rows[name]["actions"], 2, run.show())
        self.assertEqual(self.version_image("orders", "1"), ORDERS_1)
        self.assertEqual(run.commit, c1[:12])
        self.assertEqual(run.counts["converged"], 2, run.show())

        # 2. A new image: exactly one new version, and the alias moves to it.
        self.repo.write("functions/orders.yaml", function_yaml("orders", ORDERS_2))
        c2 = self.repo.commit("orders: new image")
        d2 = self.validate()
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionCode": 1, "PublishVersion": 1,
                                         "UpdateAlias": 1}, run.show())
        vs = self.versions("orders")
        self.assertEqual([v["Version"] for v in vs], ["1", "2"])
        self.assertEqual(vs[1]["Description"], self.mark(d2["orders"], c2))
        self.assertEqual(self.version_image("orders", "2"), ORDERS_2)
        self.assertEqual(self.alias("orders"), ("2", {}, ""))
        self.assertEqual(run.rows["orders"]["result"], "converged", run.show())
        self.assertEqual(run.rows["orders"]["aliases"], "live=2", run.show())
        self.assertEqual(run.rows["orders"]["actions"], 3, run.show())
        self.assertEqual(run.rows["layered"]["result"], "in-sync", run.show())
        self.assertEqual(run.rows["layered"]["detail"], "-", run.show())
        self.assertEqual(self.versions("layered")[-1]["Version"], "1")

        # 3. A layer change: a new layer version, referenced by ARN.
        layer2 = self.publish_layer()
        self.assertTrue(layer2.endswith(":layer:deps:2"), layer2)
        self.repo.write("functions/layered.yaml",
                        function_yaml("layered", layers="[%s]" % layer2))
        c3 = self.repo.commit("layered: deps 2")
        d3 = self.validate()
        self.assertNotEqual(d3["layered"], d1["layered"])
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionConfiguration": 1,
                                         "PublishVersion": 1, "UpdateAlias": 1}, run.show())
        vs = self.versions("layered")
        self.assertEqual([v["Version"] for v in vs], ["1", "2"])
        self.assertEqual([l["Arn"] for l in vs[1]["Layers"]], [layer2])
        self.assertEqual(vs[1]["Description"], self.mark(d3["layered"], c3))
        self.assertEqual(self.alias("layered"), ("2", {}, ""))
        self.assertEqual(run.rows["orders"]["result"], "in-sync", run.show())

        # 4. Configuration only: memory.
        self.repo.write("functions/orders.yaml", function_yaml("orders", ORDERS_2, memory=512))
        c4 = self.repo.commit("orders: more memory")
        d4 = self.validate()
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionConfiguration": 1,
                                         "PublishVersion": 1, "UpdateAlias": 1}, run.show())
        vs = self.versions("orders")
        self.assertEqual([v["Version"] for v in vs], ["1", "2", "3"])
        self.assertEqual(vs[2]["MemorySize"], 512)
        self.assertEqual(vs[2]["Description"], self.mark(d4["orders"], c4))
        self.assertEqual(self.version_image("orders", "3"), ORDERS_2)
        self.assertEqual(self.alias("orders"), ("3", {}, ""))

        # 5. Nothing changed: no mutating call at all, exit 0.
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual({n: r["result"] for n, r in run.rows.items()},
                         {"orders": "in-sync", "layered": "in-sync"}, run.show())
        self.assertEqual(run.rows["orders"]["aliases"], "live=3", run.show())
        self.assertEqual(run.counts["in sync"], 2, run.show())
        self.assertIn("; 0 mutating calls; commit %s" % c4[:12], run.stdout.splitlines()[-1])

        # The same as JSON.
        run = self.apply("--output", "json")
        self.assertEqual(run.mutations, {}, run.show())
        doc = json.loads(run.stdout)
        self.assertEqual(doc["commit"], c4)
        self.assertEqual(doc["ref"], "main")
        got = {f["function"]: f for f in doc["functions"]}
        self.assertEqual(set(got), {"orders", "layered"})
        for name in got:
            self.assertEqual(got[name]["result"], "in-sync")
            self.assertEqual(got[name]["region"], "us-east-1")
            self.assertEqual(got[name]["actions"], 0)
            self.assertEqual(got[name]["digest"], d4[name])
        self.assertEqual(got["orders"]["aliases"], "live=3")
        self.assertIn("counts", doc)

        # Manifests, history and status.
        pubs = [r for r in self.manifest("orders") if r["action"] == "publish"]
        self.assertEqual([(r["commit"], r["digest"], r["outcome"], r["after"]["version"])
                          for r in pubs],
                         [(c1, d1["orders"], "ok", "1"), (c2, d2["orders"], "ok", "2"),
                          (c4, d4["orders"], "ok", "3")])
        for r in self.manifest():
            self.assertEqual(r["ref"], "main")
            if r["action"] in ("publish", "update_code", "update_config", "update_alias",
                               "create_alias"):
                self.assertRegex(r["request_id"] or "", r"^[0-9a-f-]{36}$", r)
        lines = self.check_history("orders")
        self.assertEqual(sum("  publish  ok  " in l for l in lines), 3, "\n".join(lines))
        self.assertTrue(any("-> 3" in l for l in lines), "\n".join(lines))
        every = self.history().stdout.splitlines()
        self.assertEqual(len(every), len(self.manifest()))
        p = self.status("--output", "json")
        entries = {e["function"]: json.dumps(e) for e in json.loads(p.stdout)["functions"]}
        self.assertIn(c4[:12], entries["orders"])
        self.assertIn(d4["orders"][:12], entries["orders"])
        self.assertIn(c3[:12], entries["layered"])
        self.assertIn(d3["layered"][:12], entries["layered"])
        text = self.status().stdout
        self.assertIn("orders", text)
        self.assertIn(c4[:12], text)

    def test_creates_image_functions(self):
        """A missing function with image and role is created; one without a role is
        blocked, and that does not stop the others."""
        fresh_img = image("fresh", "2.0.0")
        self.repo.write("functions/fresh.yaml",
                        function_yaml("fresh", fresh_img, role=ROLE, memory=256, timeout=20))
        self.repo.write("functions/ghost.yaml", function_yaml("ghost", image("ghost", "1.0.0")))
        c1 = self.repo.commit("two functions nobody made")
        d1 = self.validate()
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {"CreateFunction": 1, "PublishVersion": 1,
                                         "CreateAlias": 1}, run.show())
        self.assertEqual(run.rows["fresh"]["result"], "converged", run.show())
        self.assertEqual(run.rows["ghost"]["result"], "blocked", run.show())
        self.assertIn("function missing", run.rows["ghost"]["detail"], run.show())
        self.assertEqual(run.rows["ghost"]["actions"], 0, run.show())
        fn = self.lam.get_function(FunctionName="fresh")
        cfg = fn["Configuration"]
        self.assertEqual((cfg["PackageType"], cfg["Role"], cfg["MemorySize"], cfg["Timeout"],
                          cfg["State"]), ("Image", ROLE, 256, 20, "Active"))
        self.assertEqual(fn["Code"]["ImageUri"], fresh_img)
        vs = self.versions("fresh")
        self.assertEqual([(v["Version"], v["Description"]) for v in vs],
                         [("1", self.mark(d1["fresh"], c1))])
        self.assertEqual(self.alias("fresh"), ("1", {}, ""))
        self.assertEqual(self.lam.list_functions()["Functions"][0]["FunctionName"], "fresh")
        self.assertEqual(len(self.lam.list_functions()["Functions"]), 1)
        self.assertEqual([r["action"] for r in self.manifest("fresh")][0], "create_function")

        # Again: fresh is in sync, ghost still blocked, nothing mutated.
        run = self.apply(rc=1)
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual(run.rows["fresh"]["result"], "in-sync", run.show())
        self.assertEqual(run.rows["ghost"]["result"], "blocked", run.show())

    def test_creates_zip_functions(self):
        """A missing zip function with code in S3, role, handler and runtime is created,
        published and aliased; the next apply is a no-op (the created code is recorded as
        staged, so it is not written again); a runtime change is a configuration update."""
        src = "s3://tether-test-code/worker/1.zip?versionId=v1"
        code = "{ s3_bucket: tether-test-code, s3_key: worker/1.zip, s3_object_version: v1 }"
        self.repo.write("functions/worker.yaml",
                        function_yaml("worker", code=code, role=ROLE, handler="app.handler",
                                      runtime="python3.12", memory=256))
        c1 = self.repo.commit("a zip function nobody made")
        d1 = self.validate()
        run = self.apply()
        self.assertEqual(run.mutations, {"CreateFunction": 1, "PublishVersion": 1,
                                         "CreateAlias": 1}, run.show())
        self.assertEqual(run.rows["worker"]["result"], "converged", run.show())
        self.assertEqual(run.rows["worker"]["aliases"], "live=1", run.show())
        cfg = self.lam.get_function(FunctionName="worker")["Configuration"]
        self.assertEqual((cfg["PackageType"], cfg["Runtime"], cfg["Handler"], cfg["Role"],
                          cfg["MemorySize"], cfg["State"]),
                         ("Zip", "python3.12", "app.handler", ROLE, 256, "Active"))
        # The emulator's CodeSha256 of S3 code is that of its location: the right object.
        sha = base64.b64encode(hashlib.sha256(src.encode()).digest()).decode()
        self.assertEqual(cfg["CodeSha256"], sha)
        vs = self.versions("worker")
        self.assertEqual([(v["Version"], v["Description"], v["Runtime"], v["CodeSha256"])
                          for v in vs], [("1", self.mark(d1["worker"], c1), "python3.12", sha)])
        self.assertEqual(self.alias("worker"), ("1", {}, ""))
        self.assertEqual([r["action"] for r in self.manifest("worker")],
                         ["create_function", "wait", "publish", "create_alias"])
        staged = json.loads(self.state_file("worker"))["staged"]
        self.assertEqual(staged, {"s3": src, "code_sha256": sha})

        # Again: nothing to do, not one mutating call.
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual(run.rows["worker"]["result"], "in-sync", run.show())

        # The runtime is managed like the other fields: one configuration update.
        self.repo.write("functions/worker.yaml",
                        function_yaml("worker", code=code, role=ROLE, handler="app.handler",
                                      runtime="python3.13", memory=256))
        c2 = self.repo.commit("worker: python 3.13")
        d2 = self.validate()
        self.assertNotEqual(d2["worker"], d1["worker"])
        run = self.apply()
        self.assertEqual(run.mutations, {"UpdateFunctionConfiguration": 1,
                                         "PublishVersion": 1, "UpdateAlias": 1}, run.show())
        self.assertIn("runtime python3.12 -> python3.13", run.rows["worker"]["detail"],
                      run.show())
        vs = self.versions("worker")
        self.assertEqual([(v["Version"], v["Runtime"]) for v in vs],
                         [("1", "python3.12"), ("2", "python3.13")])
        self.assertEqual(vs[1]["Description"], self.mark(d2["worker"], c2))
        self.assertEqual(self.alias("worker"), ("2", {}, ""))
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())

    def test_status_reports_live_drift(self):
        """tether status reads the live aliases: one moved by hand shows as drift, and a
        Lambda it cannot reach makes it exit 1 with the reason."""
        self.create_image_function("orders", ORDERS_1)
        self.repo.write("functions/orders.yaml", function_yaml("orders", ORDERS_1))
        self.repo.commit("orders")
        self.apply()
        st = json.loads(self.status("--output", "json").stdout)
        live = {f["function"]: f["live"] for f in st["functions"]}
        self.assertEqual(live["orders"], {"exists": True, "aliases": "live=1", "drift": False})
        # By hand: a second version, and live moved to it.
        self.lam.update_function_configuration(FunctionName="orders", MemorySize=512)
        self.wait_updated("orders")
        v = self.lam.publish_version(FunctionName="orders")["Version"]
        self.lam.update_alias(FunctionName="orders", Name="live", FunctionVersion=v)
        st = json.loads(self.status("--output", "json").stdout)
        live = {f["function"]: f["live"] for f in st["functions"]}
        self.assertEqual(live["orders"], {"exists": True, "aliases": "live=%s" % v,
                                          "drift": True})
        self.assertIn("live=%s (drift)" % v, self.status().stdout)
        p = self.tether("--endpoint", "http://127.0.0.1:1", "status", "--state-dir",
                        self.state)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("cannot read its live state", p.stderr)
        self.assertIn("unknown", p.stdout)

    def test_invalid_commit_changes_nothing(self):
        self.create_image_function("orders", ORDERS_1)
        self.repo.write("functions/orders.yaml",
                        function_yaml("orders", ORDERS_2, memroy=512, timeout=0))
        self.repo.commit("invalid")
        before = self.emu.stats()["requests"]
        p = self.tether(*self.apply_argv())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"(?m)^functions/orders\.yaml:3:1: ")
        self.assertRegex(p.stderr, r"(?m)^functions/orders\.yaml:4:10: ")
        self.assertEqual(self.emu.stats()["requests"], before)  # not one Lambda call
        self.assertEqual(self.latest_image("orders"), ORDERS_1)

    def test_state_directory_is_locked(self):
        """A second tether on a state directory in use exits 1 naming the holder's pid,
        before any Lambda call."""
        self.create_image_function("orders", ORDERS_1)
        self.repo.write("functions/orders.yaml", function_yaml("orders", ORDERS_2))
        self.repo.commit("new image")
        os.makedirs(self.state, mode=0o700)
        fd = os.open(os.path.join(self.state, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, b"%d\n" % os.getpid())
            before = self.emu.stats()["requests"]
            p = self.tether(*self.apply_argv())
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("pid %d" % os.getpid(), p.stderr)
            self.assertEqual(self.emu.stats()["requests"], before)
        finally:
            os.close(fd)
        self.assertEqual(self.latest_image("orders"), ORDERS_1)
        run = self.apply()  # the lock is free again
        self.assertEqual(self.latest_image("orders"), ORDERS_2)
        self.assertEqual(run.rows["orders"]["result"], "converged", run.show())


if __name__ == "__main__":
    main()
