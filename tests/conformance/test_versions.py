#!/usr/bin/python3
"""Versions and aliases through botocore: PublishVersion numbering and no-op publishes,
frozen versions, alias rules and RevisionIds, and which deletions of a version are
refused (aliases, weighted routing, event source mappings, provisioned concurrency)."""

import unittest

from botocore.exceptions import ClientError

from emulator import ACCOUNT, REGION
from lambdatest import (
    ROLE,
    ROLE2,
    EmulatorTestCase,
    code_sha256,
    function_arn,
    make_zip,
)

CONFLICT = "ResourceConflictException"
PRECONDITION = "PreconditionFailedException"
PARAM = "InvalidParameterValueException"
NOT_FOUND = "ResourceNotFoundException"
# A value that breaks the model's own constraints (pattern, length, range): real Lambda
# answers those with a ValidationException, its rules with InvalidParameterValue.
BAD_INPUT = (PARAM, "ValidationException")
QUEUE_ARN = "arn:aws:sqs:%s:%s:conf-queue" % (REGION, ACCOUNT)


class Versions(EmulatorTestCase):
    def new_version(self, name, text):
        """Change $LATEST (config), let the update finish, publish: the new number."""
        self.update_config(name, Description=text)
        return self.publish(name)["Version"]

    def test_publish_numbering_and_noop(self):
        name = "pub-fn"
        _, code = self.ready_zip(name, "pub-1")
        v1 = self.publish(name)
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], function_arn(name, "1"))
        self.assertEqual(v1["CodeSha256"], code_sha256(code))
        self.lam.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier="1", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )
        # Unchanged $LATEST: the existing latest version comes back, nothing new is listed.
        again = self.publish(name)
        self.assertEqual(again["Version"], "1")
        self.assertEqual(again["RevisionId"], v1["RevisionId"])
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1"])
        # Any update counts as a change, even one that sets the same content.
        self.update_config(name, Description=self.lam.get_function_configuration(FunctionName=name).get("Description", ""))
        self.assertEqual(self.publish(name)["Version"], "2")
        self.assertEqual(self.publish(name)["Version"], "2")
        # Refused updates are not changes either.
        stale = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["RevisionId"]
        self.assertError(PRECONDITION, 412, self.lam.update_function_configuration, FunctionName=name,
                         Timeout=30, RevisionId=stale)
        self.assertErrorIn(BAD_INPUT, 400, self.lam_nv.update_function_configuration, FunctionName=name,
                           MemorySize=1)
        self.assertEqual(self.publish(name)["Version"], "2")
        self.assertEqual(self.new_version(name, "three"), "3")
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2", "3"])
        # Deleting the highest version does not free its number.
        r = self.lam.delete_function(FunctionName=name, Qualifier="3")
        self.assertStatus(r, 204)
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2"])
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name, Qualifier="3")
        self.update_zip(name, "pub-4")
        self.assertEqual(self.publish(name)["Version"], "4")
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2", "4"])

    def test_published_version_status(self):
        # A published version is Active and reports LastUpdateStatus Successful, as real
        # Lambda does (botocore examples-1.json: PublishVersion; GetFunctionConfiguration with
        # Qualifier 1).
        name = "pub-status"
        self.ready_zip(name)
        pub = self.publish(name)
        self.lam.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=pub["Version"], WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )
        ver = self.lam.get_function_configuration(FunctionName=name, Qualifier=pub["Version"])
        self.assertEqual(ver["State"], "Active")
        gv = self.lam.get_function(FunctionName=name, Qualifier=pub["Version"])["Configuration"]
        self.assertEqual(gv["State"], "Active")
        self.assertEqual(ver.get("LastUpdateStatus"), "Successful")
        self.assertEqual(gv.get("LastUpdateStatus"), "Successful")
        self.lam.get_waiter("function_updated").wait(
            FunctionName=name, Qualifier=pub["Version"], WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )

    def test_publish_description_overrides(self):
        name = "pub-desc"
        self.ready_zip(name, Description="latest text")
        pub = self.publish(name, Description="release 1")
        self.assertEqual(pub["Description"], "release 1")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["Description"], "release 1")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Description"], "latest text")

    def test_version_keeps_its_code_layers_and_config(self):
        l1 = self.lam.publish_layer_version(LayerName="frozen-a", Content={"ZipFile": make_zip("la")})["LayerVersionArn"]
        l2 = self.lam.publish_layer_version(LayerName="frozen-b", Content={"ZipFile": make_zip("lb")})["LayerVersionArn"]
        name = "frozen-fn"
        _, code1 = self.ready_zip(
            name, "frozen-1", Environment={"Variables": {"AA": "1"}}, MemorySize=128, Timeout=3,
            Layers=[l1], Description="one",
        )
        v = self.publish(name)["Version"]
        _, code2 = self.update_zip(name, "frozen-2")
        self.update_config(
            name, Environment={"Variables": {"BB": "2"}}, MemorySize=256, Timeout=30,
            Layers=[l2], Description="two", Role=ROLE2,
        )
        old = self.lam.get_function(FunctionName=name, Qualifier=v)["Configuration"]
        self.assertEqual(old["Version"], v)
        self.assertEqual(old["CodeSha256"], code_sha256(code1))
        self.assertEqual(old["Environment"]["Variables"], {"AA": "1"})
        self.assertEqual((old["MemorySize"], old["Timeout"], old["Description"], old["Role"]), (128, 3, "one", ROLE))
        self.assertEqual([x["Arn"] for x in old["Layers"]], [l1])
        cur = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(cur["CodeSha256"], code_sha256(code2))
        self.assertEqual(cur["Environment"]["Variables"], {"BB": "2"})
        self.assertEqual((cur["MemorySize"], cur["Timeout"], cur["Role"]), (256, 30, ROLE2))
        self.assertEqual([x["Arn"] for x in cur["Layers"]], [l2])
        listed = {x["Version"]: x for x in self.lam.list_versions_by_function(FunctionName=name)["Versions"]}
        self.assertEqual(listed[v]["CodeSha256"], code_sha256(code1))
        self.assertEqual(listed["$LATEST"]["CodeSha256"], code_sha256(code2))
        # A published version cannot be updated; the refusal leaves it as it was.
        for call, kw in (
            (self.lam_nv.update_function_configuration, {"MemorySize": 1024}),
            (self.lam_nv.update_function_code, {"ZipFile": make_zip("frozen-3")}),
        ):
            with self.subTest(call=call.__name__):
                r = self.assertErrorIn(
                    (PARAM, CONFLICT, NOT_FOUND, "ValidationException"), None, call,
                    FunctionName="%s:%s" % (name, v), **kw,
                )
                self.assertGreaterEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)
        again = self.lam.get_function(FunctionName=name, Qualifier=v)["Configuration"]
        self.assertEqual((again["MemorySize"], again["CodeSha256"]), (128, code_sha256(code1)))

    def test_list_versions_order_and_pages(self):
        name = "order-fn"
        self.ready_zip(name)
        for i in range(1, 13):
            self.assertEqual(self.new_version(name, "v%d" % i), str(i))
        expected = ["$LATEST"] + [str(i) for i in range(1, 13)]
        first = self.lam.list_versions_by_function(FunctionName=name)
        self.assertEqual([x["Version"] for x in first["Versions"]], expected)
        self.assertIsNone(first.get("NextMarker"))
        pages = list(
            self.lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=name, PaginationConfig={"PageSize": 5}
            )
        )
        self.assertEqual([len(p["Versions"]) for p in pages], [5, 5, 3])
        self.assertEqual([x["Version"] for p in pages for x in p["Versions"]], expected)
        for p in pages[:-1]:
            marker = p["NextMarker"]
            self.assertNotIn(marker, expected)
            self.assertFalse(marker.isdigit(), "marker %r is a plain number" % marker)


class Aliases(EmulatorTestCase):
    def three_versions(self, name):
        self.ready_zip(name)
        out = [self.publish(name)["Version"]]
        for i in (2, 3):
            self.update_config(name, Description="v%d" % i)
            out.append(self.publish(name)["Version"])
        self.assertEqual(out, ["1", "2", "3"])

    def test_create_get_update_delete(self):
        name = "alias-fn"
        self.three_versions(name)
        a = self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
        self.assertStatus(a, 201)
        self.assertEqual(a["AliasArn"], function_arn(name, "live"))
        self.assertEqual((a["Name"], a["FunctionVersion"], a["Description"]), ("live", "1", "prod"))
        self.assertTrue(a["RevisionId"])
        self.assertNotEqual(a["RevisionId"], self.revision(name))
        g = self.lam.get_alias(FunctionName=name, Name="live")
        self.assertEqual((g["AliasArn"], g["FunctionVersion"], g["RevisionId"]), (a["AliasArn"], "1", a["RevisionId"]))
        self.assertEqual(self.lam.get_alias(FunctionName=function_arn(name), Name="live")["FunctionVersion"], "1")
        self.assertError(CONFLICT, 409, self.lam.create_alias, FunctionName=name, Name="live", FunctionVersion="2")
        # UpdateAlias mints a new RevisionId; the old one is then stale (412).
        u = self.lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId=a["RevisionId"])
        self.assertEqual(u["FunctionVersion"], "2")
        self.assertEqual(u["Description"], "prod")
        self.assertNotEqual(u["RevisionId"], a["RevisionId"])
        self.assertError(
            PRECONDITION, 412, self.lam.update_alias, FunctionName=name, Name="live",
            FunctionVersion="3", RevisionId=a["RevisionId"],
        )
        self.assertEqual(self.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"], "2")
        u2 = self.lam.update_alias(FunctionName=name, Name="live", Description="changed", RevisionId=u["RevisionId"])
        self.assertEqual((u2["FunctionVersion"], u2["Description"]), ("2", "changed"))
        # Missing aliases are not found.
        r = self.assertError(NOT_FOUND, 404, self.lam.get_alias, FunctionName=name, Name="nope")
        self.assertIn(function_arn(name, "nope"), r["Error"]["Message"])
        self.assertError(NOT_FOUND, 404, self.lam.update_alias, FunctionName=name, Name="nope", FunctionVersion="1")
        self.assertError(NOT_FOUND, 404, self.lam.get_alias, FunctionName="no-such-fn", Name="live")
        self.assertError(NOT_FOUND, 404, self.lam.create_alias, FunctionName="no-such-fn", Name="x", FunctionVersion="1")
        self.assertErrorIn(
            (NOT_FOUND, PARAM), 404, self.lam.create_alias, FunctionName=name, Name="ghost", FunctionVersion="99"
        )
        # $LATEST may be an alias's only version.
        dev = self.lam.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")
        self.assertEqual(dev["FunctionVersion"], "$LATEST")
        d = self.lam.delete_alias(FunctionName=name, Name="live")
        self.assertStatus(d, 204)
        self.assertError(NOT_FOUND, 404, self.lam.get_alias, FunctionName=name, Name="live")

    def test_alias_name_rules(self):
        name = "alias-names"
        self.ready_zip(name)
        self.publish(name)
        for bad in ("123", "0", "bad.name", "bad name", "a/b", "x" * 129):
            with self.subTest(Name=bad):
                self.assertErrorIn(
                    BAD_INPUT, 400, self.lam_nv.create_alias, FunctionName=name, Name=bad, FunctionVersion="1"
                )
        for good in ("1a", "a1", "live_2-b", "A" * 128):
            with self.subTest(Name=good):
                r = self.lam.create_alias(FunctionName=name, Name=good, FunctionVersion="1")
                self.assertEqual(r["Name"], good)
        names = sorted(a["Name"] for a in self.lam.list_aliases(FunctionName=name)["Aliases"])
        self.assertEqual(names, sorted(["1a", "a1", "live_2-b", "A" * 128]))

    def test_routing_rules(self):
        name = "alias-route"
        self.three_versions(name)
        c = self.lam.create_alias(
            FunctionName=name, Name="canary", FunctionVersion="2",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
        )
        self.assertEqual(c["RoutingConfig"]["AdditionalVersionWeights"], {"1": 0.25})
        self.assertEqual(
            self.lam.get_alias(FunctionName=name, Name="canary")["RoutingConfig"]["AdditionalVersionWeights"],
            {"1": 0.25},
        )
        bad = [
            ("two additional versions", "3", {"1": 0.1, "2": 0.1}),
            ("weight above 1", "3", {"1": 1.5}),
            ("negative weight", "3", {"1": -0.1}),
            ("$LATEST as additional", "3", {"$LATEST": 0.5}),
            ("$LATEST as primary", "$LATEST", {"1": 0.5}),
            ("additional equals primary", "3", {"3": 0.5}),
        ]
        for what, primary, weights in bad:
            with self.subTest(what):
                self.assertErrorIn(
                    BAD_INPUT, 400, self.lam_nv.create_alias, FunctionName=name, Name="bad",
                    FunctionVersion=primary, RoutingConfig={"AdditionalVersionWeights": weights},
                )
                self.assertErrorIn(
                    BAD_INPUT, 400, self.lam_nv.update_alias, FunctionName=name, Name="canary",
                    FunctionVersion=primary, RoutingConfig={"AdditionalVersionWeights": weights},
                )
        with self.subTest("unpublished additional version"):
            with self.assertRaises(ClientError) as cm:
                self.lam.create_alias(
                    FunctionName=name, Name="bad", FunctionVersion="3",
                    RoutingConfig={"AdditionalVersionWeights": {"42": 0.5}},
                )
            self.assertIn(cm.exception.response["Error"]["Code"], (NOT_FOUND, PARAM))
        self.assertError(NOT_FOUND, 404, self.lam.get_alias, FunctionName=name, Name="bad")
        # The refused updates left the alias as it was.
        g = self.lam.get_alias(FunctionName=name, Name="canary")
        self.assertEqual((g["FunctionVersion"], g["RoutingConfig"]["AdditionalVersionWeights"]), ("2", {"1": 0.25}))
        # The bounds 0 and 1 are weights too; an empty map clears routing.
        for w in (0.0, 1.0):
            with self.subTest(weight=w):
                u = self.lam.update_alias(
                    FunctionName=name, Name="canary", FunctionVersion="3",
                    RoutingConfig={"AdditionalVersionWeights": {"2": w}},
                )
                self.assertEqual(u["RoutingConfig"]["AdditionalVersionWeights"], {"2": w})
        self.assertError(NOT_FOUND, 404, self.lam.update_alias, FunctionName=name, Name="canary", FunctionVersion="42")
        u = self.lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
        self.assertEqual(u.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}), {})
        g = self.lam.get_alias(FunctionName=name, Name="canary")
        self.assertEqual(g.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}), {})
        self.assertEqual(g["FunctionVersion"], "3")

    def test_routing_needs_same_role_and_dead_letter_config(self):
        name = "alias-compat"
        dlq = "arn:aws:sqs:%s:%s:dlq" % (REGION, ACCOUNT)
        self.ready_zip(name, DeadLetterConfig={"TargetArn": dlq})
        self.assertEqual(self.publish(name)["Version"], "1")
        self.update_config(name, Role=ROLE2)
        self.assertEqual(self.publish(name)["Version"], "2")
        self.update_config(name, Role=ROLE, DeadLetterConfig={"TargetArn": ""})
        self.assertEqual(self.publish(name)["Version"], "3")
        self.update_config(name, DeadLetterConfig={"TargetArn": dlq}, Description="same as 1")
        self.assertEqual(self.publish(name)["Version"], "4")
        for primary, other, why in (("2", "1", "roles differ"), ("3", "1", "dead-letter configs differ")):
            with self.subTest(why):
                self.assertError(
                    PARAM, 400, self.lam.create_alias, FunctionName=name, Name="mix", FunctionVersion=primary,
                    RoutingConfig={"AdditionalVersionWeights": {other: 0.5}},
                )
        ok = self.lam.create_alias(FunctionName=name, Name="mix", FunctionVersion="4",
                                   RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        self.assertEqual(ok["RoutingConfig"]["AdditionalVersionWeights"], {"1": 0.5})

    def test_weighted_invoke(self):
        name = "alias-weights"
        self.three_versions(name)
        self.lam.create_alias(FunctionName=name, Name="all-2", FunctionVersion="3",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
        self.lam.create_alias(FunctionName=name, Name="none-2", FunctionVersion="3",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
        self.lam.create_alias(FunctionName=name, Name="half", FunctionVersion="3",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        ran = {a: [self.lam.invoke(FunctionName=name, Qualifier=a)["ExecutedVersion"] for _ in range(40)]
               for a in ("all-2", "none-2", "half")}
        self.assertEqual(set(ran["all-2"]), {"2"})
        self.assertEqual(set(ran["none-2"]), {"3"})
        self.assertEqual(set(ran["half"]), {"2", "3"})  # the chance of a miss is 2^-39

    def test_list_aliases_filter_and_pages(self):
        name = "alias-list"
        self.three_versions(name)
        want = {"a": "1", "b": "2", "c": "1", "d": "3", "e": "1", "f": "2", "g": "1"}
        for alias, v in want.items():
            self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=v)
        every = self.lam.list_aliases(FunctionName=name)["Aliases"]
        self.assertEqual({a["Name"]: a["FunctionVersion"] for a in every}, want)
        for v in ("1", "2", "3"):
            with self.subTest(FunctionVersion=v):
                got = self.lam.list_aliases(FunctionName=name, FunctionVersion=v)["Aliases"]
                self.assertEqual(sorted(a["Name"] for a in got), sorted(k for k, x in want.items() if x == v))
        pages = list(self.lam.get_paginator("list_aliases").paginate(FunctionName=name, PaginationConfig={"PageSize": 3}))
        self.assertEqual([len(p["Aliases"]) for p in pages], [3, 3, 1])
        seen = [a["Name"] for p in pages for a in p["Aliases"]]
        self.assertEqual(sorted(seen), sorted(want))
        self.assertEqual(len(seen), len(set(seen)))
        pages = list(
            self.lam.get_paginator("list_aliases").paginate(
                FunctionName=name, FunctionVersion="1", PaginationConfig={"PageSize": 3}
            )
        )
        self.assertEqual(sorted(a["Name"] for p in pages for a in p["Aliases"]), ["a", "c", "e", "g"])


class DeleteVersion(EmulatorTestCase):
    def test_referenced_versions_cannot_be_deleted(self):
        name = "del-fn"
        self.ready_zip(name)
        versions = [self.publish(name)["Version"]]
        for i in range(2, 8):
            self.update_config(name, Description="v%d" % i)
            versions.append(self.publish(name)["Version"])
        self.assertEqual(versions, [str(i) for i in range(1, 8)])
        self.lam.create_alias(FunctionName=name, Name="prim", FunctionVersion="1")
        self.lam.create_alias(
            FunctionName=name, Name="weighted", FunctionVersion="3",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
        )
        esm = self.lam.create_event_source_mapping(
            EventSourceArn=QUEUE_ARN, FunctionName=function_arn(name, "4"), BatchSize=10
        )
        self.assertStatus(esm, 202)
        self.assertTrue(esm["UUID"])
        self.assertEqual(esm["FunctionArn"], function_arn(name, "4"))
        self.assertEqual(esm["EventSourceArn"], QUEUE_ARN)
        pc = self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="5", ProvisionedConcurrentExecutions=2
        )
        self.assertStatus(pc, 202)
        self.assertEqual(pc["RequestedProvisionedConcurrentExecutions"], 2)
        self.assertIn(pc["Status"], ("IN_PROGRESS", "READY"))
        self.assertError(
            PARAM, 400, self.lam.put_provisioned_concurrency_config, FunctionName=name,
            Qualifier="$LATEST", ProvisionedConcurrentExecutions=1,
        )

        listed = self.lam.list_event_source_mappings(EventSourceArn=QUEUE_ARN)["EventSourceMappings"]
        self.assertEqual([m["UUID"] for m in listed], [esm["UUID"]])
        by_fn = self.lam.list_event_source_mappings(FunctionName=function_arn(name, "4"))["EventSourceMappings"]
        self.assertEqual([m["UUID"] for m in by_fn], [esm["UUID"]])
        pcs = self.lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
        self.assertEqual([(p["FunctionArn"], p["RequestedProvisionedConcurrentExecutions"]) for p in pcs],
                         [(function_arn(name, "5"), 2)])

        for v, why in (("1", "alias primary"), ("2", "alias weighted version"), ("3", "alias primary"),
                       ("4", "event source mapping"), ("5", "provisioned concurrency")):
            with self.subTest(version=v, referenced_by=why):
                r = self.assertError(CONFLICT, 409, self.lam.delete_function, FunctionName=name, Qualifier=v)
                if v == "1":
                    self.assertIn("prim", r["Error"]["Message"])
        self.assertError(PARAM, 400, self.lam.delete_function, FunctionName=name, Qualifier="$LATEST")
        self.assertError(PARAM, 400, self.lam.delete_function, FunctionName=name + ":$LATEST")
        self.assertEqual(self.version_numbers(name), ["$LATEST"] + versions)
        # Unreferenced: 204, by Qualifier or by a qualified name.
        self.assertStatus(self.lam.delete_function(FunctionName=name, Qualifier="6"), 204)
        self.assertStatus(self.lam.delete_function(FunctionName=function_arn(name, "7")), 204)
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name, Qualifier="6")
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2", "3", "4", "5"])
        # Once the weighted alias is gone, its versions are free.
        self.assertStatus(self.lam.delete_alias(FunctionName=name, Name="weighted"), 204)
        self.assertStatus(self.lam.delete_function(FunctionName=name, Qualifier="2"), 204)
        self.assertStatus(self.lam.delete_function(FunctionName=name, Qualifier="3"), 204)
        # Deleting the function removes every version and alias.
        self.assertStatus(self.lam.delete_function(FunctionName=name), 204)
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name)
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name, Qualifier="1")
        self.assertError(NOT_FOUND, 404, self.lam.get_alias, FunctionName=name, Name="prim")
        self.assertError(NOT_FOUND, 404, self.lam.list_versions_by_function, FunctionName=name)
        # The name is free again and numbering starts over for a new function.
        self.ready_zip(name)
        self.assertEqual(self.publish(name)["Version"], "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
