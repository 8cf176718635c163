#!/usr/bin/python3
"""Functions through botocore's real serializers and parsers: every FunctionName form,
zip and image code, DryRun and Publish, configuration updates, layers, tags, Invoke and
ListFunctions. Signature checking stays on (the emulator's default)."""

import base64
import json
import unittest

from emulator import ACCOUNT
from lambdatest import (
    ROLE,
    ROLE2,
    RUNTIME,
    STATUS_FIELDS,
    EmulatorTestCase,
    code_sha256,
    function_arn,
    image_uri,
    layer_arn,
    make_zip,
    payload_json,
)

PARAM = "InvalidParameterValueException"
NOT_FOUND = "ResourceNotFoundException"
# Values that break the model's own constraints (pattern, length, range, enum): real Lambda
# answers those with ValidationException (sometimes InvalidParameterValue), both 400.
BAD_INPUT = (PARAM, "ValidationException")
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
LAST_MODIFIED_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$"


class FunctionNameForms(EmulatorTestCase):
    def test_every_name_form_resolves(self):
        name = "forms-fn"
        self.ready_zip(name)
        v = self.publish(name)["Version"]
        self.assertEqual(v, "1")
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
        partial = "%s:function:%s" % (ACCOUNT, name)
        forms = [
            (name, "$LATEST"),
            (name + ":$LATEST", "$LATEST"),
            (partial, "$LATEST"),
            (partial + ":$LATEST", "$LATEST"),
            (function_arn(name), "$LATEST"),
            (function_arn(name, "$LATEST"), "$LATEST"),
            (name + ":" + v, v),
            (partial + ":" + v, v),
            (function_arn(name, v), v),
            (name + ":live", v),
            (partial + ":live", v),
            (function_arn(name, "live"), v),
        ]
        for fn, version in forms:
            with self.subTest(FunctionName=fn):
                gf = self.lam.get_function(FunctionName=fn)["Configuration"]
                self.assertEqual(gf["FunctionName"], name)
                self.assertEqual(gf["Version"], version)
                cfg = self.lam.get_function_configuration(FunctionName=fn)
                self.assertEqual(cfg["FunctionName"], name)
                self.assertEqual(cfg["Version"], version)
                inv = self.lam.invoke(FunctionName=fn)
                self.assertEqual(inv["StatusCode"], 200)
                self.assertEqual(inv["ExecutedVersion"], version)
        # ListVersionsByFunction and ListAliases take the unqualified forms too.
        for fn in (name, partial, function_arn(name)):
            with self.subTest(list_form=fn):
                vers = self.lam.list_versions_by_function(FunctionName=fn)["Versions"]
                self.assertEqual([x["Version"] for x in vers], ["$LATEST", "1"])
                aliases = self.lam.list_aliases(FunctionName=fn)["Aliases"]
                self.assertEqual([a["Name"] for a in aliases], ["live"])
        # An unqualified GetFunction reports the unqualified ARN; a version its own.
        gf = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(gf["FunctionArn"], function_arn(name))
        gv = self.lam.get_function(FunctionName=name, Qualifier=v)["Configuration"]
        self.assertEqual(gv["FunctionArn"], function_arn(name, v))

    def test_qualifier_parameter(self):
        name = "qual-fn"
        self.ready_zip(name)
        v = self.publish(name)["Version"]
        self.lam.create_alias(FunctionName=name, Name="blue", FunctionVersion=v)
        for q, version in (("$LATEST", "$LATEST"), (v, v), ("blue", v)):
            with self.subTest(Qualifier=q):
                gf = self.lam.get_function(FunctionName=name, Qualifier=q)
                self.assertEqual(gf["Configuration"]["Version"], version)
                cfg = self.lam.get_function_configuration(FunctionName=function_arn(name), Qualifier=q)
                self.assertEqual(cfg["Version"], version)
                inv = self.lam.invoke(FunctionName=name, Qualifier=q)
                self.assertEqual(inv["ExecutedVersion"], version)
        # The same qualifier in the name and in the parameter is consistent: accepted.
        gf = self.lam.get_function(FunctionName=name + ":" + v, Qualifier=v)
        self.assertEqual(gf["Configuration"]["Version"], v)
        gf = self.lam.get_function(FunctionName=function_arn(name, "blue"), Qualifier="blue")
        self.assertEqual(gf["Configuration"]["Version"], v)

    def test_qualifier_mismatch_is_invalid_parameter(self):
        name = "mismatch-fn"
        self.ready_zip(name)
        self.publish(name)
        self.update_config(name, Description="two")
        self.publish(name)
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        cases = [
            (name + ":1", "2"),
            (name + ":1", "$LATEST"),
            (name + ":$LATEST", "live"),
            (function_arn(name, "live"), "1"),
            ("%s:function:%s:2" % (ACCOUNT, name), "live"),
        ]
        for fn, q in cases:
            with self.subTest(FunctionName=fn, Qualifier=q):
                self.assertError(PARAM, 400, self.lam.get_function, FunctionName=fn, Qualifier=q)
                self.assertError(
                    PARAM, 400, self.lam.get_function_configuration, FunctionName=fn, Qualifier=q
                )
                self.assertError(PARAM, 400, self.lam.invoke, FunctionName=fn, Qualifier=q)
        self.assertError(
            PARAM, 400, self.lam.delete_function, FunctionName=name + ":1", Qualifier="2"
        )
        # Nothing was deleted by the rejected call.
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2"])

    def test_unknown_function_version_and_alias_are_not_found(self):
        name = "nf-fn"
        self.ready_zip(name)
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName="no-such-fn")
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=function_arn("no-such-fn"))
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name, Qualifier="99")
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name, Qualifier="nope")
        self.assertError(NOT_FOUND, 404, self.lam.get_function_configuration, FunctionName=name + ":7")
        self.assertError(NOT_FOUND, 404, self.lam.invoke, FunctionName="no-such-fn")
        self.assertError(NOT_FOUND, 404, self.lam.list_versions_by_function, FunctionName="no-such-fn")
        self.assertError(NOT_FOUND, 404, self.lam.list_aliases, FunctionName="no-such-fn")
        self.assertError(
            NOT_FOUND, 404, self.lam.update_function_configuration, FunctionName="no-such-fn", Timeout=5
        )
        self.assertError(NOT_FOUND, 404, self.lam.delete_function, FunctionName="no-such-fn")
        self.assertError(NOT_FOUND, 404, self.lam.publish_version, FunctionName="no-such-fn")

    def test_duplicate_create_conflicts(self):
        name = "dup-fn"
        self.create_zip(name)
        self.assertError("ResourceConflictException", 409, self.create_zip, name)


class CodePackages(EmulatorTestCase):
    def test_zip_code_sha256_and_size(self):
        name = "zip-fn"
        resp, code = self.create_zip(name, "zip-one", Description="first", Timeout=7, MemorySize=256)
        self.assertEqual(resp["CodeSha256"], code_sha256(code))
        self.assertEqual(resp["CodeSize"], len(code))
        self.assertEqual(resp["PackageType"], "Zip")
        self.assertEqual(resp["Version"], "$LATEST")
        self.assertEqual(resp["FunctionName"], name)
        self.assertEqual(resp["FunctionArn"], function_arn(name))
        self.assertEqual((resp["Runtime"], resp["Handler"], resp["Role"]), (RUNTIME, "index.handler", ROLE))
        self.assertEqual((resp["Description"], resp["Timeout"], resp["MemorySize"]), ("first", 7, 256))
        self.assertRegex(resp["RevisionId"], UUID_RE)
        self.assertRegex(resp["LastModified"], LAST_MODIFIED_RE)
        self.assertTrue(resp["ResponseMetadata"]["RequestId"])
        self.wait_active(name)
        gf = self.lam.get_function(FunctionName=name)
        self.assertEqual(gf["Configuration"]["CodeSha256"], code_sha256(code))
        self.assertEqual(gf["Code"]["RepositoryType"], "S3")
        self.assertTrue(gf["Code"]["Location"])

        new = make_zip("zip-two")
        up = self.lam.update_function_code(FunctionName=name, ZipFile=new)
        self.assertStatus(up, 200)
        self.assertEqual(up["CodeSha256"], code_sha256(new))
        self.assertEqual(up["CodeSize"], len(new))
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.wait_updated(name)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg["CodeSha256"], code_sha256(new))
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")
        self.assertNotEqual(cfg["LastModified"], gf["Configuration"]["LastModified"])
        self.assertRegex(cfg["LastModified"], LAST_MODIFIED_RE)
        # Configuration survives a code update.
        self.assertEqual((cfg["Description"], cfg["Timeout"], cfg["MemorySize"]), ("first", 7, 256))

    def test_update_code_from_s3(self):
        name = "s3-fn"
        _, code = self.ready_zip(name, "s3-zip")
        up = self.lam.update_function_code(
            FunctionName=name, S3Bucket="conf-bucket", S3Key="fn/code.zip", S3ObjectVersion="3"
        )
        self.assertStatus(up, 200)
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.assertNotEqual(up["CodeSha256"], code_sha256(code))
        self.wait_updated(name)
        self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"], up["CodeSha256"])
        up2 = self.lam.update_function_code(FunctionName=name, S3Bucket="conf-bucket", S3Key="fn/other.zip")
        self.assertStatus(up2, 200)
        self.wait_updated(name)
        # CreateFunction from S3 as well.
        cr = self.lam.create_function(
            FunctionName="s3-created", Runtime=RUNTIME, Role=ROLE, Handler="index.handler",
            Code={"S3Bucket": "conf-bucket", "S3Key": "fn/code.zip"},
        )
        self.assertStatus(cr, 201)
        self.assertEqual(cr["PackageType"], "Zip")

    def test_image_functions(self):
        name = "img-fn"
        resp = self.create_image(name, "v1", Description="image")
        self.assertEqual(resp["PackageType"], "Image")
        self.wait_active(name)
        gf = self.lam.get_function(FunctionName=name)
        self.assertEqual(gf["Code"]["ImageUri"], image_uri("v1"))
        self.assertEqual(gf["Code"]["RepositoryType"], "ECR")
        self.assertEqual(gf["Configuration"]["PackageType"], "Image")
        v = self.publish(name)["Version"]
        up = self.lam.update_function_code(FunctionName=name, ImageUri=image_uri("v2"))
        self.assertStatus(up, 200)
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.wait_updated(name)
        self.assertEqual(self.lam.get_function(FunctionName=name)["Code"]["ImageUri"], image_uri("v2"))
        # The version keeps its image, and Invoke answers per image.
        self.assertEqual(self.lam.get_function(FunctionName=name, Qualifier=v)["Code"]["ImageUri"], image_uri("v1"))
        self.emu.set_invoke(image_uri("v1"), {"image": "v1"})
        self.emu.set_invoke(image_uri("v2"), {"image": "v2"})
        self.assertEqual(payload_json(self.lam.invoke(FunctionName=name, Qualifier=v)), {"image": "v1"})
        self.assertEqual(payload_json(self.lam.invoke(FunctionName=name)), {"image": "v2"})

    def test_code_source_must_match_package_type(self):
        img, zipfn = "pt-img", "pt-zip"
        self.ready_image(img, "pt")
        _, code = self.ready_zip(zipfn, "pt")
        self.assertError(PARAM, 400, self.lam.update_function_code, FunctionName=img, ZipFile=make_zip("x"))
        self.assertError(
            PARAM, 400, self.lam.update_function_code, FunctionName=img, S3Bucket="conf-bucket", S3Key="k.zip"
        )
        self.assertError(PARAM, 400, self.lam.update_function_code, FunctionName=zipfn, ImageUri=image_uri("x"))
        self.assertError(
            PARAM, 400, self.lam.create_function, FunctionName="pt-bad-1", Role=ROLE,
            PackageType="Image", Code={"ZipFile": make_zip("x")},
        )
        self.assertError(
            PARAM, 400, self.lam.create_function, FunctionName="pt-bad-2", Role=ROLE,
            Runtime=RUNTIME, Handler="index.handler", Code={"ImageUri": image_uri("x")},
        )
        # The rejected calls changed nothing and created nothing.
        self.assertEqual(self.lam.get_function(FunctionName=img)["Code"]["ImageUri"], image_uri("pt"))
        self.assertEqual(self.lam.get_function(FunctionName=zipfn)["Configuration"]["CodeSha256"], code_sha256(code))
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName="pt-bad-1")
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName="pt-bad-2")

    def test_dry_run_changes_nothing(self):
        name = "dry-fn"
        _, code = self.ready_zip(name, "dry-1")
        self.assertEqual(self.publish(name)["Version"], "1")
        before = self.lam.get_function(FunctionName=name)["Configuration"]
        dry = self.lam.update_function_code(FunctionName=name, ZipFile=make_zip("dry-2"), DryRun=True)
        self.assertStatus(dry, 200)
        after = self.lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(after["CodeSha256"], code_sha256(code))
        self.assertEqual(after["RevisionId"], before["RevisionId"])
        self.assertEqual(after["LastUpdateStatus"], "Successful")
        dry = self.lam.update_function_code(FunctionName=name, ZipFile=make_zip("dry-3"), DryRun=True, Publish=True)
        self.assertStatus(dry, 200)
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1"])
        # A dry run is not a change: publishing again returns version 1.
        self.assertEqual(self.publish(name)["Version"], "1")
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1"])
        # No update window was opened: a real update is accepted at once.
        up = self.lam.update_function_configuration(FunctionName=name, Description="after dry run")
        self.assertStatus(up, 200)
        self.wait_updated(name)

    def test_publish_flag(self):
        name = "pubflag-fn"
        resp, code = self.create_zip(name, "pf-1", Publish=True)
        self.assertEqual(resp["Version"], "1")
        self.assertEqual(resp["FunctionArn"], function_arn(name, "1"))
        self.wait_active(name)
        self.lam.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier="1", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )
        self.assertEqual(self.publish(name)["Version"], "1")  # nothing changed since
        new = make_zip("pf-2")
        up = self.lam.update_function_code(FunctionName=name, ZipFile=new, Publish=True)
        self.assertStatus(up, 200)
        self.assertEqual(up["Version"], "2")
        self.assertEqual(up["CodeSha256"], code_sha256(new))
        self.wait_updated(name)
        self.lam.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier="2", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
        )
        self.assertEqual(self.version_numbers(name), ["$LATEST", "1", "2"])
        v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        v2 = self.lam.get_function_configuration(FunctionName=name, Qualifier="2")
        self.assertEqual(v1["CodeSha256"], code_sha256(code))
        self.assertEqual(v2["CodeSha256"], code_sha256(new))


class Configuration(EmulatorTestCase):
    def test_partial_update(self):
        name = "cfg-fn"
        self.ready_zip(
            name, Timeout=10, MemorySize=256, Description="d0",
            Environment={"Variables": {"AA": "1", "BB": "2"}},
        )
        up = self.lam.update_function_configuration(FunctionName=name, MemorySize=512)
        self.assertEqual(up["LastUpdateStatus"], "InProgress")
        self.assertEqual(up["MemorySize"], 512)
        self.wait_updated(name)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual((cfg["Timeout"], cfg["MemorySize"], cfg["Description"]), (10, 512, "d0"))
        self.assertEqual(cfg["Environment"]["Variables"], {"AA": "1", "BB": "2"})
        # Environment replaces the whole map.
        self.update_config(name, Environment={"Variables": {"CC": "3"}}, Role=ROLE2, Handler="app.main")
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg["Environment"]["Variables"], {"CC": "3"})
        self.assertEqual((cfg["Role"], cfg["Handler"]), (ROLE2, "app.main"))
        # An empty map clears it.
        self.update_config(name, Environment={"Variables": {}})
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg.get("Environment", {}).get("Variables", {}), {})
        self.assertEqual(cfg["MemorySize"], 512)


class Validation(EmulatorTestCase):
    def test_defaults_and_round_trip(self):
        resp, _ = self.create_zip("defaults-fn", Description="h\u00e9llo \u2713 \"q\" \\ end")
        self.assertEqual((resp["Timeout"], resp["MemorySize"]), (3, 128))
        self.assertEqual(resp["Architectures"], ["x86_64"])
        self.assertEqual(resp["EphemeralStorage"], {"Size": 512})
        self.assertEqual(resp["TracingConfig"], {"Mode": "PassThrough"})
        self.wait_active("defaults-fn")
        cfg = self.lam.get_function_configuration(FunctionName="defaults-fn")
        self.assertEqual(cfg["Description"], "h\u00e9llo \u2713 \"q\" \\ end")

    def test_model_constraints(self):
        lam = self.lam_nv
        cases = [
            ("MemorySize 127", {"MemorySize": 127}),
            ("MemorySize 10241", {"MemorySize": 10241}),
            ("Timeout 0", {"Timeout": 0}),
            ("Description 257", {"Description": "x" * 257}),
            ("name of 65", {"FunctionName": "a" * 65}),
            ("name with a dot", {"FunctionName": "a.b"}),
            ("role not an ARN", {"Role": "lambda-role"}),
            ("unknown runtime", {"Runtime": "cobol"}),
            ("two architectures", {"Architectures": ["x86_64", "arm64"]}),
            ("unknown architecture", {"Architectures": ["sparc"]}),
            ("environment key of one letter", {"Environment": {"Variables": {"A": "1"}}}),
            ("layer not an ARN", {"Layers": ["my-layer"]}),
        ]
        for what, kw in cases:
            with self.subTest(what):
                args = dict(FunctionName="invalid-fn")
                args.update(kw)
                name = args.pop("FunctionName")
                self.assertErrorIn(BAD_INPUT, 400, self.create_zip, name, client=lam, **args)
        self.assertErrorIn(BAD_INPUT, 400, lam.list_functions, MaxItems=0)
        self.assertErrorIn(BAD_INPUT, 400, lam.list_layer_versions, LayerName="x", MaxItems=51)
        self.assertErrorIn(BAD_INPUT, 400, lam.get_function, FunctionName="x", Qualifier="a.b")
        self.assertErrorIn(BAD_INPUT, 400, lam.invoke, FunctionName="x", InvocationType="Sometimes")
        self.assertErrorIn(BAD_INPUT, 400, lam.list_tags, Resource="not-an-arn")
        self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName="invalid-fn")

    def test_lambda_rules(self):
        base = dict(Runtime=RUNTIME, Role=ROLE, Handler="index.handler", Code={"ZipFile": make_zip("r")})
        cases = [
            ("zip without handler", "rule-1", {"Handler": None}),
            ("zip without runtime", "rule-2", {"Runtime": None}),
            ("no code source", "rule-3", {"Code": {}}),
            ("two code sources", "rule-4", {"Code": {"ZipFile": make_zip("r"), "S3Bucket": "bkt", "S3Key": "k"}}),
            ("S3Bucket without S3Key", "rule-5", {"Code": {"S3Bucket": "bkt"}}),
            ("not a zip", "rule-6", {"Code": {"ZipFile": b"plain text"}}),
            ("environment over 4 KB", "rule-7", {"Environment": {"Variables": {"BIG": "x" * 4200}}}),
            ("missing layer version", "rule-8", {"Layers": [layer_arn("no-such-layer", 1)]}),
            ("qualified name", "rule-9:1", {}),
        ]
        for what, name, kw in cases:
            with self.subTest(what):
                args = dict(base)
                args.update(kw)
                args = {k: v for k, v in args.items() if v is not None}
                self.assertError(PARAM, 400, self.lam_nv.create_function, FunctionName=name, **args)
                self.assertError(NOT_FOUND, 404, self.lam.get_function, FunctionName=name.split(":")[0])
        name = "rules-fn"
        self.ready_zip(name)
        self.assertErrorIn(BAD_INPUT, 400, self.lam.tag_resource, Resource=function_arn(name), Tags={"aws:x": "1"})
        self.publish(name)
        self.assertErrorIn(BAD_INPUT, 400, self.lam.tag_resource, Resource=function_arn(name, "1"), Tags={"a": "1"})
        self.assertError(PARAM, 400, self.lam.update_function_code, FunctionName=name)
        self.assertError(PARAM, 400, self.lam.update_function_code, FunctionName=name, ZipFile=b"not a zip")
        self.assertEqual(self.lam.list_tags(Resource=function_arn(name))["Tags"], {})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"], "Successful")


class Layers(EmulatorTestCase):
    def test_layer_versions(self):
        lname = "conf-lib"
        z1, z2 = make_zip("layer-1"), make_zip("layer-2")
        r1 = self.lam.publish_layer_version(
            LayerName=lname, Content={"ZipFile": z1}, Description="one",
            CompatibleRuntimes=[RUNTIME], LicenseInfo="MIT",
        )
        self.assertStatus(r1, 201)
        self.assertEqual(r1["Version"], 1)
        self.assertEqual(r1["LayerArn"], layer_arn(lname))
        self.assertEqual(r1["LayerVersionArn"], layer_arn(lname, 1))
        self.assertEqual(r1["Content"]["CodeSha256"], code_sha256(z1))
        self.assertEqual(r1["Content"]["CodeSize"], len(z1))
        self.assertEqual(r1["Description"], "one")
        self.assertEqual(r1["CompatibleRuntimes"], [RUNTIME])
        self.assertTrue(r1["CreatedDate"])
        r2 = self.lam.publish_layer_version(LayerName=lname, Content={"ZipFile": z2}, Description="two")
        self.assertEqual(r2["Version"], 2)
        self.assertEqual(r2["LayerVersionArn"], layer_arn(lname, 2))

        g1 = self.lam.get_layer_version(LayerName=lname, VersionNumber=1)
        self.assertEqual(g1["LayerVersionArn"], layer_arn(lname, 1))
        self.assertEqual(g1["Version"], 1)
        self.assertEqual(g1["Description"], "one")
        self.assertEqual(g1["Content"]["CodeSha256"], code_sha256(z1))
        g2 = self.lam.get_layer_version(LayerName=layer_arn(lname), VersionNumber=2)
        self.assertEqual(g2["Content"]["CodeSha256"], code_sha256(z2))
        b2 = self.lam.get_layer_version_by_arn(Arn=layer_arn(lname, 2))
        self.assertEqual((b2["Version"], b2["Description"]), (2, "two"))
        self.assertEqual(b2["LayerArn"], layer_arn(lname))

        lv = self.lam.list_layer_versions(LayerName=lname)["LayerVersions"]
        self.assertEqual(sorted(x["Version"] for x in lv), [1, 2])
        self.assertEqual(
            {x["LayerVersionArn"] for x in lv}, {layer_arn(lname, 1), layer_arn(lname, 2)}
        )

        self.assertError(NOT_FOUND, 404, self.lam.get_layer_version, LayerName=lname, VersionNumber=9)
        self.assertError(NOT_FOUND, 404, self.lam.get_layer_version, LayerName="no-layer", VersionNumber=1)
        self.assertError(NOT_FOUND, 404, self.lam.get_layer_version_by_arn, Arn=layer_arn(lname, 9))

    def test_function_layers_at_most_five(self):
        arns = []
        for i in range(6):
            r = self.lam.publish_layer_version(
                LayerName="conf-l%d" % i, Content={"ZipFile": make_zip("l%d" % i)}
            )
            arns.append(r["LayerVersionArn"])
        name = "layers-fn"
        self.ready_zip(name, Layers=arns[:1])
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual([x["Arn"] for x in cfg["Layers"]], arns[:1])
        up = self.lam.update_function_configuration(FunctionName=name, Layers=arns[:5])
        self.assertEqual([x["Arn"] for x in up["Layers"]], arns[:5])
        self.wait_updated(name)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual([x["Arn"] for x in cfg["Layers"]], arns[:5])
        for layer in cfg["Layers"]:
            self.assertGreater(layer["CodeSize"], 0)
        # Order is significant and kept.
        self.update_config(name, Layers=list(reversed(arns[1:6])))
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual([x["Arn"] for x in cfg["Layers"]], list(reversed(arns[1:6])))
        # Six are rejected, and the rejected call changes nothing.
        self.assertError(PARAM, 400, self.lam.update_function_configuration, FunctionName=name, Layers=arns)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual([x["Arn"] for x in cfg["Layers"]], list(reversed(arns[1:6])))
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")
        self.assertError(PARAM, 400, self.create_zip, "layers-six", Layers=arns)
        # An empty list removes them all.
        self.update_config(name, Layers=[])
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg.get("Layers", []), [])


class Tags(EmulatorTestCase):
    def test_tag_list_untag(self):
        name = "tag-fn"
        self.ready_zip(name, Tags={"created": "yes"})
        arn = function_arn(name)
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"created": "yes"})
        r = self.lam.tag_resource(Resource=arn, Tags={"team": "core", "env": "dev"})
        self.assertStatus(r, 204)
        self.assertEqual(
            self.lam.list_tags(Resource=arn)["Tags"], {"created": "yes", "team": "core", "env": "dev"}
        )
        self.lam.tag_resource(Resource=arn, Tags={"env": "prod"})
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"]["env"], "prod")
        r = self.lam.untag_resource(Resource=arn, TagKeys=["created", "env"])
        self.assertStatus(r, 204)
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "core"})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"team": "core"})
        self.assertError(NOT_FOUND, 404, self.lam.list_tags, Resource=function_arn("no-such-fn"))
        self.assertError(
            NOT_FOUND, 404, self.lam.tag_resource, Resource=function_arn("no-such-fn"), Tags={"a": "b"}
        )


class Invoke(EmulatorTestCase):
    def test_default_result_and_versions(self):
        name = "inv-fn"
        _, code_a = self.ready_zip(name, "inv-a")
        r = self.lam.invoke(FunctionName=name, Payload=b'{"hello": "world"}')
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", r)
        self.assertNotIn("LogResult", r)
        self.assertEqual(payload_json(r), {"statusCode": 200})

        self.emu.set_invoke(code_sha256(code_a), {"code": "a"})
        self.assertEqual(payload_json(self.lam.invoke(FunctionName=name)), {"code": "a"})
        v1 = self.publish(name)["Version"]
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1)
        _, code_b = self.update_zip(name, "inv-b")
        self.emu.set_invoke(code_sha256(code_b), {"code": "b"})
        latest = self.lam.invoke(FunctionName=name)
        self.assertEqual((latest["ExecutedVersion"], payload_json(latest)), ("$LATEST", {"code": "b"}))
        old = self.lam.invoke(FunctionName=name, Qualifier=v1)
        self.assertEqual((old["ExecutedVersion"], payload_json(old)), (v1, {"code": "a"}))
        via_alias = self.lam.invoke(FunctionName=name + ":live")
        self.assertEqual((via_alias["ExecutedVersion"], payload_json(via_alias)), (v1, {"code": "a"}))

    def test_result_by_image_and_function_error(self):
        name = "inv-img"
        self.ready_image(name, "inv-err")
        err = {"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []}
        self.emu.set_invoke(image_uri("inv-err"), err, "Unhandled")
        r = self.lam.invoke(FunctionName=name)
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(payload_json(r), err)
        # Another image has the default result.
        other = "inv-img-ok"
        self.ready_image(other, "inv-ok")
        ok = self.lam.invoke(FunctionName=other)
        self.assertNotIn("FunctionError", ok)
        self.assertEqual(payload_json(ok), {"statusCode": 200})

    def test_log_tail_and_invocation_types(self):
        name = "inv-types"
        self.ready_zip(name)
        tail = self.lam.invoke(FunctionName=name, LogType="Tail")
        self.assertEqual(tail["StatusCode"], 200)
        log = base64.b64decode(tail["LogResult"], validate=True)
        self.assertGreater(len(log), 0)
        self.assertLessEqual(len(log), 4096)
        self.assertNotIn("LogResult", self.lam.invoke(FunctionName=name, LogType="None"))
        ev = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
        self.assertEqual(ev["StatusCode"], 202)
        dry = self.lam.invoke(FunctionName=name, InvocationType="DryRun")
        self.assertEqual(dry["StatusCode"], 204)


class ListFunctions(EmulatorTestCase):
    def test_list_omits_status_and_accepts_both_paths(self):
        names = ["lf-a", "lf-b", "lf-c"]
        for n in names:
            self.create_zip(n)
        self.wait_active(names[-1])
        listed = self.lam.list_functions()["Functions"]
        mine = [f for f in listed if f["FunctionName"] in names]
        self.assertEqual(sorted(f["FunctionName"] for f in mine), names)
        for f in mine:
            with self.subTest(function=f["FunctionName"]):
                for field in STATUS_FIELDS:
                    self.assertNotIn(field, f)
                self.assertEqual(f["Version"], "$LATEST")
                self.assertEqual(f["FunctionArn"], function_arn(f["FunctionName"]))
                self.assertIn("CodeSha256", f)
                self.assertIn("RevisionId", f)
        # botocore 1.29 sends the trailing slash; the newer model does not. Both, signed.
        for path in ("/2015-03-31/functions/", "/2015-03-31/functions"):
            with self.subTest(path=path):
                status, hdrs, body = self.emu.signed_request("GET", path)
                self.assertEqual(status, 200, body[:300])
                doc = json.loads(body)
                got = sorted(f["FunctionName"] for f in doc["Functions"] if f["FunctionName"] in names)
                self.assertEqual(got, names)
                for f in doc["Functions"]:
                    for field in STATUS_FIELDS:
                        self.assertNotIn(field, f)
        status, _, body = self.emu.signed_request("GET", "/2015-03-31/functions?MaxItems=1")
        self.assertEqual(status, 200)
        self.assertEqual(len(json.loads(body)["Functions"]), 1)

    def test_function_version_all(self):
        name = "lf-versions"
        self.ready_zip(name)
        self.publish(name)
        plain = [f for f in self.lam.list_functions()["Functions"] if f["FunctionName"] == name]
        self.assertEqual([f["Version"] for f in plain], ["$LATEST"])
        pages = self.lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
        every = [f for p in pages for f in p["Functions"] if f["FunctionName"] == name]
        self.assertEqual(sorted(f["Version"] for f in every), sorted(["$LATEST", "1"]))
        one = [f for f in every if f["Version"] == "1"][0]
        self.assertEqual(one["FunctionArn"], function_arn(name, "1"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
