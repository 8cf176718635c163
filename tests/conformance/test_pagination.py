#!/usr/bin/python3
"""Pagination through botocore's paginators: pages of at most 50 with an opaque NextMarker,
MaxItems honoured, every item exactly once (ListFunctions, ListVersionsByFunction,
ListAliases, ListLayerVersions)."""

import time
import unittest

from lambdatest import EmulatorTestCase, function_arn, layer_arn, make_zip

PAGE_MAX = 50


class Pagination(EmulatorTestCase):
    CREATE_MS = 1
    UPDATE_MS = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.names = ["page-%03d" % i for i in range(120)]
        code = make_zip("page")
        for n in cls.names:
            cls.lam.create_function(
                FunctionName=n, Runtime="python3.9", Role="arn:aws:iam::123456789012:role/r",
                Handler="index.handler", Code={"ZipFile": code},
            )

    def assertOpaque(self, marker, items):
        self.assertIsInstance(marker, str)
        self.assertTrue(marker)
        self.assertNotIn(marker, items, "NextMarker is a plain item name")
        self.assertFalse(marker.isdigit(), "NextMarker %r is a plain number" % marker)
        self.assertFalse(marker.startswith("arn:"), "NextMarker %r is a plain ARN" % marker)

    def test_list_functions_pages_by_hand(self):
        seen, marker, sizes = [], None, []
        arns = [function_arn(n) for n in self.names]
        while True:
            kw = {"Marker": marker} if marker else {}
            page = self.lam.list_functions(**kw)
            sizes.append(len(page["Functions"]))
            seen += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
            self.assertOpaque(marker, self.names + arns)
            self.assertLess(len(sizes), 10, "pagination does not end")
        self.assertTrue(all(s <= PAGE_MAX for s in sizes), sizes)
        self.assertEqual(sizes[0], PAGE_MAX)
        self.assertEqual(sorted(seen), self.names)
        self.assertEqual(len(seen), len(set(seen)))

    def test_list_functions_paginator(self):
        pages = list(self.lam.get_paginator("list_functions").paginate())
        self.assertTrue(all(len(p["Functions"]) <= PAGE_MAX for p in pages))
        seen = [f["FunctionName"] for p in pages for f in p["Functions"]]
        self.assertEqual(sorted(seen), self.names)
        self.assertEqual(len(seen), len(set(seen)))
        # MaxItems above the cap still yields at most 50.
        big = self.lam.list_functions(MaxItems=1000)
        self.assertEqual(len(big["Functions"]), PAGE_MAX)
        self.assertTrue(big.get("NextMarker"))

    def test_max_items(self):
        first = self.lam.list_functions(MaxItems=7)
        self.assertEqual(len(first["Functions"]), 7)
        self.assertOpaque(first["NextMarker"], self.names)
        second = self.lam.list_functions(MaxItems=7, Marker=first["NextMarker"])
        self.assertEqual(len(second["Functions"]), 7)
        a = {f["FunctionName"] for f in first["Functions"]}
        b = {f["FunctionName"] for f in second["Functions"]}
        self.assertFalse(a & b, "the second page repeats items of the first")
        pages = list(self.lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 7}))
        self.assertEqual([len(p["Functions"]) for p in pages], [7] * 17 + [1])
        seen = [f["FunctionName"] for p in pages for f in p["Functions"]]
        self.assertEqual(sorted(seen), self.names)
        limited = self.lam.get_paginator("list_functions").paginate(PaginationConfig={"MaxItems": 7})
        self.assertEqual(len(limited.build_full_result()["Functions"]), 7)

    def test_layer_versions_paginator(self):
        lname = "page-layer"
        for i in range(7):
            self.lam.publish_layer_version(LayerName=lname, Content={"ZipFile": make_zip("pl%d" % i)})
        pages = list(
            self.lam.get_paginator("list_layer_versions").paginate(LayerName=lname, PaginationConfig={"PageSize": 3})
        )
        self.assertEqual([len(p["LayerVersions"]) for p in pages], [3, 3, 1])
        seen = [v["Version"] for p in pages for v in p["LayerVersions"]]
        self.assertEqual(sorted(seen), list(range(1, 8)))
        self.assertEqual(
            sorted(v["LayerVersionArn"] for p in pages for v in p["LayerVersions"]),
            sorted(layer_arn(lname, i) for i in range(1, 8)),
        )
        for p in pages[:-1]:
            self.assertOpaque(p["NextMarker"], [str(i) for i in range(1, 8)])


class VersionPages(EmulatorTestCase):
    CREATE_MS = 1
    UPDATE_MS = 1

    assertOpaque = Pagination.assertOpaque

    def test_versions_over_one_page(self):
        name = "page-versions"
        self.lam.create_function(
            FunctionName=name, Runtime="python3.9", Role="arn:aws:iam::123456789012:role/r",
            Handler="index.handler", Code={"ZipFile": make_zip(name)},
        )
        time.sleep(0.02)
        for i in range(1, 56):
            self.lam.update_function_configuration(FunctionName=name, Description="v%d" % i)
            time.sleep(0.01)
            for _ in range(100):
                if self.lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "Successful":
                    break
                time.sleep(0.01)
            self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], str(i))
        expected = ["$LATEST"] + [str(i) for i in range(1, 56)]
        first = self.lam.list_versions_by_function(FunctionName=name)
        self.assertEqual(len(first["Versions"]), PAGE_MAX)
        self.assertOpaque(first["NextMarker"], expected)
        pages = list(self.lam.get_paginator("list_versions_by_function").paginate(FunctionName=name))
        self.assertEqual([len(p["Versions"]) for p in pages], [50, 6])
        self.assertEqual([v["Version"] for p in pages for v in p["Versions"]], expected)


class MarkerStability(EmulatorTestCase):
    """A NextMarker stays valid while the list changes: no function that exists throughout
    is skipped or repeated when others are deleted or created between pages."""

    CREATE_MS = 1
    UPDATE_MS = 1

    def test_changes_between_pages(self):
        names = ["ms-%02d" % i for i in range(70)]
        for n in names:
            self.create_zip(n)
        first = self.lam.list_functions()
        page1 = [f["FunctionName"] for f in first["Functions"]]
        self.assertEqual(len(page1), PAGE_MAX)
        rest = [n for n in names if n not in page1]
        gone = [page1[0], page1[7], rest[0], rest[5]]
        for n in gone:
            self.assertStatus(self.lam.delete_function(FunctionName=n), 204)
        self.create_zip("ms-new-a")
        self.create_zip("aa-new-b")
        seen = list(page1)
        marker = first["NextMarker"]
        while marker:
            page = self.lam.list_functions(Marker=marker)
            seen += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
        survivors = [n for n in names if n not in gone]
        for n in survivors:
            self.assertEqual(seen.count(n), 1, "%s seen %d times" % (n, seen.count(n)))
        for n in gone[2:]:
            self.assertNotIn(n, seen, "a function deleted before its page was listed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
