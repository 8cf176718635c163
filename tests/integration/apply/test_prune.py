"""Pruning (docs/apply.md): with retain 2 over ten tether-published versions, only the
unreferenced tether-published versions beyond the newest two are deleted, oldest first.
An alias (primary or weighted), an event source mapping and a provisioned-concurrency
configuration protect a version; versions someone else published are never deleted.
"""
from applylib import ApplyCase, function_yaml, image, main

QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"


def deleted(rec):
    """The version a delete_version record names (its before side, or its after side)."""
    return (rec["before"] or {}).get("version") or (rec["after"] or {}).get("version")


def img(i):
    return image("jobs", "3.0.%d" % i)


class Prune(ApplyCase):
    def publish_by_hand(self, tag):
        """A version someone else publishes: another image, a plain description."""
        self.lam.update_function_code(FunctionName="jobs", ImageUri=image("jobs", tag))
        self.wait_updated("jobs")
        return self.lam.publish_version(FunctionName="jobs",
                                        Description="hotfix by hand")["Version"]

    def test_retain_keeps_references_and_foreign_versions(self):
        self.create_image_function("jobs", img(1))
        mine, foreign = {}, []
        for i in range(1, 11):
            self.repo.write("functions/jobs.yaml", function_yaml("jobs", img(i)))
            c = self.repo.commit("jobs %d" % i)
            d = self.validate()["jobs"]
            run = self.apply()
            self.assertEqual(run.mutations.get("PublishVersion"), 1, run.show())
            version = self.alias("jobs")[0]
            mine[version] = (img(i), self.mark(d, c))
            if i in (3, 7):
                foreign.append(self.publish_by_hand("hotfix-%d" % i))
        self.assertEqual(sorted(mine, key=int), ["1", "2", "3", "5", "6", "7", "8", "10",
                                                 "11", "12"])
        self.assertEqual(foreign, ["4", "9"])
        self.assertEqual([v["Version"] for v in self.versions("jobs")],
                         [str(n) for n in range(1, 13)])
        for v in self.versions("jobs"):
            if v["Version"] in mine:
                self.assertEqual(v["Description"], mine[v["Version"]][1])
                self.assertEqual(self.version_image("jobs", v["Version"]),
                                 mine[v["Version"]][0])

        # References made by hand: an alias on 2, a weighted alias (primary 9, someone
        # else's; 20 % to 5), an event source mapping on 6, provisioned concurrency on 7.
        self.lam.create_alias(FunctionName="jobs", Name="old", FunctionVersion="2")
        self.lam.create_alias(FunctionName="jobs", Name="split", FunctionVersion="9",
                              RoutingConfig={"AdditionalVersionWeights": {"5": 0.2}})
        esm = self.lam.create_event_source_mapping(EventSourceArn=QUEUE,
                                                   FunctionName="jobs:6")
        self.assertTrue(esm["FunctionArn"].endswith(":jobs:6"), esm)
        self.lam.put_provisioned_concurrency_config(
            FunctionName="jobs", Qualifier="7", ProvisionedConcurrentExecutions=1)

        # retain is not part of the digest: adding it publishes nothing, only prunes.
        self.repo.write("functions/jobs.yaml", function_yaml("jobs", img(10), retain=2))
        c11 = self.repo.commit("jobs: retain 2")
        run = self.apply()
        self.assertEqual(run.mutations, {"DeleteFunction": 4}, run.show())
        self.assertEqual([v["Version"] for v in self.versions("jobs")],
                         ["2", "4", "5", "6", "7", "9", "11", "12"])
        self.assertEqual(self.alias("jobs"), ("12", {}, ""))
        self.assertEqual(self.alias("jobs", "old")[0], "2")
        self.assertEqual(self.alias("jobs", "split")[:2], ("9", {"5": 0.2}))
        for v in self.versions("jobs"):
            if v["Version"] in foreign:
                self.assertEqual(v["Description"], "hotfix by hand")
        deletes = [r for r in self.manifest("jobs") if r["commit"] == c11]
        self.assertEqual([(r["action"], r["outcome"]) for r in deletes],
                         [("delete_version", "ok")] * 4, deletes)
        # Oldest first.
        self.assertEqual([deleted(r) for r in deletes], ["1", "3", "8", "10"],
                         deletes)
        self.assertEqual(run.rows["jobs"]["result"], "converged", run.show())
        self.assertEqual(run.rows["jobs"]["actions"], 4, run.show())

        # Nothing more to prune.
        run = self.apply()
        self.assertEqual(run.mutations, {}, run.show())
        self.assertEqual(run.rows["jobs"]["result"], "in-sync", run.show())

        # Two references go (the emulator keeps mappings and provisioned concurrency
        # for good): 2 and 5 are pruned; 9, someone else's, stays without its alias.
        self.lam.delete_alias(FunctionName="jobs", Name="old")
        self.lam.delete_alias(FunctionName="jobs", Name="split")
        c12 = self.repo.commit("nothing changes in git")
        run = self.apply()
        self.assertEqual(run.mutations, {"DeleteFunction": 2}, run.show())
        self.assertEqual([v["Version"] for v in self.versions("jobs")],
                         ["4", "6", "7", "9", "11", "12"])
        deletes = [r for r in self.manifest("jobs") if r["commit"] == c12]
        self.assertEqual([deleted(r) for r in deletes], ["2", "5"], deletes)

if __name__ == "__main__":
    main()
