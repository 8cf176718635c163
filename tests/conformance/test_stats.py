#!/usr/bin/python3
"""The admin API: GET /_emulator/stats counts every operation by its service-model name
(failed ones included), POST /_emulator/reset forgets state and counters. Also drives every
operation the emulator serves once, through botocore."""

import time
import unittest

from emulator import ACCOUNT, REGION
from lambdatest import EmulatorTestCase, function_arn, image_uri, make_zip, payload_json

ALL_OPERATIONS = [
    "CreateFunction", "GetFunction", "GetFunctionConfiguration", "ListFunctions",
    "ListVersionsByFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
    "PublishVersion", "DeleteFunction", "CreateAlias", "GetAlias", "UpdateAlias", "DeleteAlias",
    "ListAliases", "PublishLayerVersion", "GetLayerVersion", "GetLayerVersionByArn",
    "ListLayerVersions", "Invoke", "TagResource", "UntagResource", "ListTags",
    "CreateEventSourceMapping", "ListEventSourceMappings", "PutProvisionedConcurrencyConfig",
    "ListProvisionedConcurrencyConfigs",
]


def nonzero(ops):
    return {k: v for k, v in ops.items() if v}


class Stats(EmulatorTestCase):
    CREATE_MS = 1
    UPDATE_MS = 1

    def test_shape_and_reset(self):
        self.create_image("stats-img", "stats")
        self.emu.set_invoke(image_uri("stats"), {"configured": True})
        self.settle(1)
        self.assertEqual(payload_json(self.lam.invoke(FunctionName="stats-img")), {"configured": True})
        self.lam.publish_layer_version(LayerName="stats-layer", Content={"ZipFile": make_zip("l")})
        t0 = time.time()
        stats = self.emu.stats()
        self.assertEqual(set(stats), {"requests", "throttled", "operations", "last"})
        self.assertIsInstance(stats["operations"], dict)
        # "last": when each operation seen was last requested, nothing for the others.
        self.assertEqual(set(stats["last"]), set(nonzero(stats["operations"])))
        for op, when in stats["last"].items():
            self.assertLessEqual(t0 - 60, when, op)
            self.assertLessEqual(when, t0 + 1, op)
        self.assertGreaterEqual(stats["operations"].get("CreateFunction", 0), 1)
        self.assertGreaterEqual(stats["requests"], 3)
        self.emu.reset()
        stats = self.emu.stats()
        self.assertEqual(set(stats), {"requests", "throttled", "operations", "last"})
        self.assertEqual(stats["last"], {})
        self.assertEqual((stats["requests"], stats["throttled"], nonzero(stats["operations"])), (0, 0, {}))
        # State is gone too: functions, layers and configured invoke results.
        self.assertEqual(self.lam.list_functions()["Functions"], [])
        self.assertError("ResourceNotFoundException", 404, self.lam.get_function, FunctionName="stats-img")
        self.assertError("ResourceNotFoundException", 404, self.lam.get_layer_version,
                         LayerName="stats-layer", VersionNumber=1)
        self.create_image("stats-img", "stats")
        self.settle(1)
        self.assertEqual(payload_json(self.lam.invoke(FunctionName="stats-img")), {"statusCode": 200})
        # Numbering starts over after a reset.
        self.assertEqual(
            self.lam.publish_layer_version(LayerName="stats-layer", Content={"ZipFile": make_zip("l")})["Version"], 1
        )

    def test_admin_errors(self):
        cases = [
            ("PUT", "/_emulator/invoke", b"{{{", 400),
            ("PUT", "/_emulator/invoke", b'{"payload": {}}', 400),
            ("PUT", "/_emulator/invoke", b'{"key": "k", "payload": {}, "function_error": 5}', 400),
            ("POST", "/_emulator/invoke", b'{"key": "k", "payload": {}}', 405),
            ("GET", "/_emulator/nope", None, 404),
        ]
        for method, path, body, want in cases:
            with self.subTest(method=method, path=path, body=body):
                status, _, data = self.emu.request(method, path, body=body)
                self.assertEqual(status, want, data[:200])
        # Admin requests are not Lambda requests.
        self.emu.reset()
        for _ in range(3):
            self.emu.stats()
        self.assertEqual(self.emu.stats()["requests"], 0)

    def test_counts_by_operation_name(self):
        self.emu.reset()
        self.create_zip("stats-count")
        self.settle(1)
        self.lam.get_function(FunctionName="stats-count")
        self.assertError("ResourceNotFoundException", 404, self.lam.get_function, FunctionName="stats-none")
        self.assertError("InvalidParameterValueException", 400, self.lam.get_function,
                         FunctionName="stats-count:1", Qualifier="2")
        self.lam.list_functions()
        stats = self.emu.stats()
        self.assertEqual(nonzero(stats["operations"]),
                         {"CreateFunction": 1, "GetFunction": 3, "ListFunctions": 1})
        self.assertEqual(stats["requests"], 5)
        self.assertEqual(stats["throttled"], 0)
        # A request refused by signature checking is still a request for that operation.
        bad = self.emu.client(secret_key="wrong")
        self.assertError("InvalidSignatureException", 403, bad.list_functions)
        stats = self.emu.stats()
        self.assertEqual(stats["operations"]["ListFunctions"], 2)
        self.assertEqual(stats["requests"], 6)

    def test_every_operation_once(self):
        self.emu.reset()
        lam = self.lam
        name = "every-op"
        arn = function_arn(name)
        code = make_zip(name)
        lam.create_function(FunctionName=name, Runtime="python3.9", Role="arn:aws:iam::%s:role/r" % ACCOUNT,
                            Handler="index.handler", Code={"ZipFile": code})
        self.settle(1)
        lam.get_function(FunctionName=name)
        lam.get_function_configuration(FunctionName=name)
        lam.list_functions()
        lam.update_function_code(FunctionName=name, ZipFile=make_zip("every-op-2"))
        self.settle(1)
        lam.update_function_configuration(FunctionName=name, Timeout=9)
        self.settle(1)
        self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "1")
        self.assertEqual([v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]],
                         ["$LATEST", "1"])
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        lam.get_alias(FunctionName=name, Name="live")
        lam.update_alias(FunctionName=name, Name="live", Description="d")
        self.assertEqual([a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]], ["live"])
        lam.delete_alias(FunctionName=name, Name="live")
        layer = lam.publish_layer_version(LayerName="every-layer", Content={"ZipFile": make_zip("layer")})
        lam.get_layer_version(LayerName="every-layer", VersionNumber=1)
        lam.get_layer_version_by_arn(Arn=layer["LayerVersionArn"])
        self.assertEqual(len(lam.list_layer_versions(LayerName="every-layer")["LayerVersions"]), 1)
        self.assertEqual(payload_json(lam.invoke(FunctionName=name)), {"statusCode": 200})
        lam.tag_resource(Resource=arn, Tags={"a": "b"})
        lam.untag_resource(Resource=arn, TagKeys=["a"])
        self.assertEqual(lam.list_tags(Resource=arn)["Tags"], {})
        queue = "arn:aws:sqs:%s:%s:every-q" % (REGION, ACCOUNT)
        lam.create_event_source_mapping(EventSourceArn=queue, FunctionName=function_arn(name, "1"))
        self.assertEqual(len(lam.list_event_source_mappings(FunctionName=function_arn(name, "1"))["EventSourceMappings"]), 1)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
        self.assertEqual(len(lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]), 1)
        lam.delete_function(FunctionName=name)
        stats = self.emu.stats()
        self.assertEqual(nonzero(stats["operations"]), {op: 1 for op in ALL_OPERATIONS})
        self.assertEqual(stats["requests"], len(ALL_OPERATIONS))


if __name__ == "__main__":
    unittest.main(verbosity=2)
