#!/usr/bin/python3
"""Write the bad-input corpus (tests/badinput/corpus/) from the case list below.

Every case is one hostile or broken file and the text one of its errors must contain:

  corpus/desired/functions/NAME.yaml      a function file: tether validate reads it as
                                          functions/NAME.yaml
  corpus/desired/environments/NAME.yaml   an overlay: read as environments/NAME.yaml with
                                          --env NAME, next to a valid function "base"
  corpus/config/NAME.yaml                 a daemon config: checked as tether.yaml
  corpus/expect                           one line per case: "PATH<TAB>SUBSTRING", the text
                                          an error at PATH:LINE:COL must contain

The output is deterministic (no clock, no randomness: "random" bytes come from SHA-256 of
a counter), so the checked-in corpus is exactly what this script writes; run.py checks
that. After changing a case here, run it again and commit what it wrote:

  /usr/bin/python3 tests/badinput/generate.py            # rewrite corpus/
  /usr/bin/python3 tests/badinput/generate.py --check    # compare, write nothing
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# The caps the loaders enforce (reconcile/fileset.h, reconcile/yamldoc.h,
# controller/config.h): cases sit just past them.
FILE_MAX = 1024 * 1024
SCALAR_MAX = 64 * 1024
NODES_MAX = 30000
DEPTH_MAX = 64
CONFIG_FILE_MAX = 256 * 1024
SMOKE_MAX = 256 * 1024
# Cases bigger than this are not checked in: run.py takes every case from this script, and
# corpus/ holds the smaller ones (a few MiB of repeated bytes would only bloat the tree).
# corpus/expect lists them all.
CHECKED_IN_MAX = 32 * 1024

cases = {}  # corpus-relative path -> (bytes, expected substring)


def add(path, data, expect):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert path not in cases, path
    cases[path] = (data, expect)


def noise(n, seed):
    """n deterministic pseudo-random bytes."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:n])


# Desired state: function files.

HEAD = "function: f\nregion: us-east-1\n"


def fn(name, body, expect, head=HEAD):
    """A function file: a valid head, then the hostile part."""
    add("desired/functions/%s.yaml" % name, head + body if isinstance(body, str)
        else head.encode() + body, expect)


def raw(name, data, expect):
    """A function file written exactly as given."""
    add("desired/functions/%s.yaml" % name, data, expect)


# Broken YAML: one case per libyaml error we can trigger.
fn("yaml-unclosed-double-quote", 'description: "never closed\nmemory: 512\n',
   "syntax error: found unexpected end of stream")
fn("yaml-unclosed-single-quote", "description: 'never closed\n",
   "syntax error: found unexpected end of stream")
fn("yaml-unclosed-flow-sequence", "layers: [a, b\nmemory: 512\n", "syntax error")
fn("yaml-unclosed-flow-mapping", "environment: {A: b\n", "syntax error")
fn("yaml-flow-mapping-extra-close", "environment: {A: b}}\n", "syntax error")
fn("yaml-flow-sequence-extra-close", "layers: []]\n", "syntax error")
fn("yaml-bad-indentation", "memory: 512\n  timeout: 3\n",
   "syntax error: mapping values are not allowed in this context")
fn("yaml-dedent-into-sequence", "aliases:\n  live: current\n - x\n", "syntax error")
fn("yaml-sequence-after-mapping", "- x\n", "syntax error: did not find expected key")
fn("yaml-tab-indentation", "environment:\n\tA: b\n",
   "syntax error: found character that cannot start any token")
fn("yaml-unknown-escape", 'description: "bad \\q escape"\n',
   "syntax error: found unknown escape character")
fn("yaml-bad-hex-escape", 'description: "\\xZZ"\n',
   "syntax error: did not find expected hexdecimal number")
fn("yaml-escape-surrogate", 'description: "\\ud800"\n',
   "syntax error: found invalid Unicode character escape code")
fn("yaml-escape-beyond-unicode", 'description: "\\U00110000"\n',
   "syntax error: found invalid Unicode character escape code")
fn("yaml-block-scalar-bad-indicator", "description: |x\n  text\n",
   "syntax error: did not find expected comment or line break")
fn("yaml-block-scalar-indent-0", "description: |0\n  text\n",
   "syntax error: found an indentation indicator equal to 0")
fn("yaml-anchor-without-name", "memory: & 512\n",
   "syntax error: did not find expected alphabetic or numeric character")
fn("yaml-alias-without-name", "memory: *\n",
   "syntax error: did not find expected alphabetic or numeric character")
fn("yaml-verbatim-tag-unclosed", "memory: !<tag:yaml.org,2002:int 512\n",
   "syntax error: did not find the expected '>'")
fn("yaml-directive-version-2", "%YAML 2.0\n---\n" + HEAD,
   "syntax error: found incompatible YAML document", head="")
fn("yaml-directive-twice", "%YAML 1.1\n%YAML 1.1\n---\n" + HEAD,
   "syntax error: found duplicate %YAML directive", head="")
fn("yaml-tag-directive-twice", "%TAG !e! tag:e,1:\n%TAG !e! tag:e,2:\n---\n" + HEAD,
   "syntax error: found duplicate %TAG directive", head="")
fn("yaml-directive-without-document", "%YAML 1.1\n" + HEAD,
   "syntax error: did not find expected <document start>", head="")
fn("yaml-undefined-tag-handle", "memory: !e!x 512\n",
   "syntax error: found undefined tag handle")
fn("yaml-reserved-indicator-at", "handler: @app\n",
   "syntax error: found character that cannot start any token")
fn("yaml-reserved-indicator-backtick", "handler: `app`\n",
   "syntax error: found character that cannot start any token")
fn("yaml-implicit-key-over-1024", "x" * 1100 + ": 1\n", "syntax error")
fn("yaml-multiline-implicit-key", '"key\n  continued": 1\n', "syntax error")
fn("yaml-two-values-one-key", "memory: 512 timeout: 3\n",
   "syntax error: mapping values are not allowed in this context")
fn("yaml-flow-missing-comma", "layers: [a b: c d: e]\n", "syntax error")
fn("yaml-document-end-then-content", "...\nmemory: 512\n", "syntax error")
fn("yaml-content-after-flow-document", "", "syntax error",
   head="[a, b] c\n")
fn("yaml-block-entry-in-flow", "layers: [- a]\n", "syntax error")
fn("yaml-quoted-then-text", 'description: "a" b\n', "syntax error")
fn("yaml-anchor-twice-on-node", "memory: &a &b 512\n", "syntax error")
fn("yaml-tag-twice-on-node", "memory: !!int !!int 512\n", "does not match its tag")
fn("yaml-complex-key-unfinished", "? a\n? b\n: c\n- d\n", "syntax error")

# Wrong types for every key, each with the shapes it does not take.
SHAPES = {
    "int": "12345",
    "float": "1.5",
    "bool": "true",
    "null": "~",
    "string": "word",
    "seq": "[a, b]",
    "map": "{a: b}",
}
KEY_TAKES = {
    "function": {"string"},
    "region": {"string"},
    "image": {"string"},
    "code": {"map"},
    "layers": {"seq"},
    "memory": {"int"},
    "timeout": {"int"},
    "environment": {"map"},
    "description": {"string"},
    "role": {"string"},
    "handler": {"string"},
    "runtime": {"string"},
    "smoke_test": {"map"},
    "aliases": {"map"},
    "retain": {"int"},
    "mode": {"string"},
}
for key, takes in KEY_TAKES.items():
    for shape, text in SHAPES.items():
        if shape in takes:
            continue
        head = {"function": "region: us-east-1\n", "region": "function: f\n"}.get(key, HEAD)
        name = "type-%s-%s" % (key.replace("_", "-"), shape)
        if "int" in takes and shape == "string":
            fn(name, "%s: \"512\"\n" % key, "remove the quotes", head=head)
        else:
            fn(name, "%s: %s\n" % (key, text), "%s: expected" % key, head=head)
fn("type-code-s3-bucket-int", "code: {s3_bucket: 123, s3_key: k}\n",
   "code.s3_bucket: expected a string")
fn("type-code-s3-key-map", "code: {s3_bucket: bucket, s3_key: {a: b}}\n",
   "code.s3_key: expected a string")
fn("type-layer-item-bool", "layers: [true]\n", "layers[0]: expected a layer version ARN")
fn("type-layer-item-seq", "layers: [[a]]\n", "layers[0]: expected a layer version ARN")
fn("type-layer-version-string", "layers: [{name: l, version: \"3\"}]\n",
   "layers[0].version: expected an integer")
fn("type-layer-version-float", "layers: [{name: l, version: 3.0}]\n",
   "layers[0].version: expected an integer")
fn("type-environment-value-map", "environment: {A1: {b: c}}\n",
   "environment.A1: expected a string")
fn("type-environment-value-null", "environment: {A1: ~}\n",
   "environment.A1: expected a string, got null")
fn("type-alias-target-float", "aliases: {live: 1.5}\n",
   "aliases.live: 1.5 is not a version number")
fn("type-alias-target-seq", "aliases: {live: [1]}\n",
   "aliases.live: expected current or a version number")
fn("type-alias-version-string", "aliases: {live: \"12\"}\n",
   "aliases.live: \"12\" is a string")
fn("type-traffic-string", "aliases: {live: {version: 1, traffic: fast}}\n",
   "aliases.live.traffic: expected a mapping")
fn("type-steps-map", "aliases: {live: {version: 1, traffic: {steps: {a: 1}, interval: 5m}}}\n",
   "aliases.live.traffic.steps: expected a sequence")
fn("type-step-string", "aliases: {live: {version: 1, traffic: {steps: [\"10\"], interval: 5m}}}\n",
   "aliases.live.traffic.steps[0]: expected an integer")
fn("type-interval-int", "aliases: {live: {version: 1, traffic: {steps: [10], interval: 300}}}\n",
   "expected a duration with a unit")
fn("type-smoke-payload-tagged-binary", "smoke_test: {payload: !!binary aGk=}\n",
   "unsupported YAML tag tag:yaml.org,2002:binary")
fn("type-document-scalar", "", "a function document must be a mapping, not a string",
   head="just a string\n")
fn("type-document-sequence", "", "a function document must be a mapping, not a sequence",
   head="- function: f\n")
fn("type-document-int", "", "a function document must be a mapping, not an integer",
   head="42\n")
fn("type-empty-mapping", "", "missing required key \"function\"", head="{}\n")

# Out-of-range numbers.
BIG = {
    "2pow31": str(2 ** 31),
    "2pow63-minus-1": str(2 ** 63 - 1),
    "2pow63": str(2 ** 63),
    "2pow64": str(2 ** 64),
    "2pow64-plus-1": str(2 ** 64 + 1),
    "minus-2pow63": str(-2 ** 63),
    "minus-2pow63-minus-1": str(-2 ** 63 - 1),
    "10pow30": "1" + "0" * 30,
    "digits-60000": "9" * 60000,
    "minus-zero": "-0",
    "zero": "0",
    "plus-sign": "+127",
    "hex-overflow": "0x1" + "0" * 16,
    "hex-max": "0xffffffffffffffff",
    "octal-overflow": "0o" + "7" * 23,
    "leading-zeros": "0" * 5000 + "1",
}
for name, text in BIG.items():
    fn("memory-" + name, "memory: %s\n" % text, "is out of range (128..10240 MB)")
fn("timeout-2pow63", "timeout: %d\n" % 2 ** 63, "is out of range (1..900 seconds)")
fn("timeout-minus-1", "timeout: -1\n", "is out of range (1..900 seconds)")
fn("retain-2pow32", "retain: %d\n" % 2 ** 32, "is out of range (1..1000 versions)")
fn("retain-hex-zero", "retain: 0x0\n", "is out of range (1..1000 versions)")
for name, text in {"float": "512.0", "exponent": "5e2", "inf": ".inf", "minus-inf": "-.inf",
                   "nan": ".nan", "exponent-huge": "1e999999"}.items():
    fn("memory-" + name, "memory: %s\n" % text, "memory: expected an integer")
fn("layer-version-zero", "layers: [{name: l, version: 0}]\n", "is out of range")
fn("layer-version-2pow64", "layers: [{name: l, version: %d}]\n" % 2 ** 64, "is out of range")
fn("layer-version-10pow12", "layers: [{name: l, version: %d}]\n" % 10 ** 12, "is out of range")
fn("alias-version-2pow63", "aliases: {live: %d}\n" % 2 ** 63, "is not a version number")
fn("alias-version-zero", "aliases: {live: 0}\n", "is not a version number")
fn("alias-version-minus-2pow63", "aliases: {live: %d}\n" % -2 ** 63, "is not a version number")
for name, steps in {"zero": "[0]", "hundred": "[100]", "2pow64": "[%d]" % 2 ** 64,
                    "minus-1": "[-1]", "decreasing": "[50, 10]", "repeat": "[10, 10]",
                    "eleven": "[%s]" % ", ".join(str(i) for i in range(1, 12)),
                    "empty": "[]"}.items():
    fn("canary-steps-" + name,
       "aliases: {live: {version: 1, traffic: {steps: %s, interval: 5m}}}\n" % steps,
       "aliases.live.traffic.steps")
for name, text in {"zero": "0s", "25h": "25h", "huge": "9" * 40 + "h", "repeated": "1h1h",
                   "negative": "-5m", "space": "'5 m'", "wrong-order": "5m1h",
                   "empty": "''", "unit-only": "h"}.items():
    fn("canary-interval-" + name,
       "aliases: {live: {version: 1, traffic: {steps: [10], interval: %s}}}\n" % text,
       "aliases.live.traffic.interval")
fn("smoke-int-2pow64", "smoke_test: {payload: {n: %d}}\n" % 2 ** 64,
   "does not fit in 64 bits")
fn("smoke-inf", "smoke_test: {payload: [.inf]}\n", "has no JSON form")
fn("smoke-nan-in-expect", "smoke_test: {payload: {}, expect: {v: .NaN}}\n",
   "has no JSON form")
fn("smoke-nesting-40", "smoke_test:\n  payload: " + "[" * 40 + "]" * 40 + "\n",
   "nested deeper than 32 levels")
# 5 aliases of one 60 KiB string: about 300 KiB of JSON, over the 256 KiB cap.
fn("smoke-json-over-256k",
   "smoke_test:\n  payload:\n    a: &s " + "x" * 60000 + "\n    b: [*s, *s, *s, *s, *s]\n",
   "over 262144 bytes as JSON")

# Deep nesting: flow and block, at the cap, just past it, and far past it.
fn("nesting-flow-sequence-65", "layers: " + "[" * 65 + "]" * 65 + "\n",
   "nesting deeper than 64 levels")
fn("nesting-flow-sequence-10000", "layers: " + "[" * 10000 + "]" * 10000 + "\n",
   "nesting deeper than 64 levels")
fn("nesting-flow-sequence-100000-unclosed", "layers: " + "[" * 100000 + "\n",
   "nesting deeper than 64 levels")
fn("nesting-flow-mapping-10000", "environment: " + "{a: " * 10000 + "b" + "}" * 10000 + "\n",
   "nesting deeper than 64 levels")
fn("nesting-block-sequence-10000", "layers:\n  " + "- " * 10000 + "x\n",
   "nesting deeper than 64 levels")
fn("nesting-block-mapping-70",
   "environment:\n" + "".join("  " * (i + 1) + "k%d:\n" % i for i in range(70)),
   "nesting deeper than 64 levels")
fn("nesting-at-cap-64", "layers: " + "[" * 63 + "]" * 63 + "\n",
   "layers[0]: expected a layer version ARN")
fn("nesting-mixed-10000", "aliases: " + "{a: [" * 5000 + "]}" * 5000 + "\n",
   "nesting deeper than 64 levels")

# Anchors and aliases.
def laughs(width, depth):
    lines = ["l0: &l0 lol"]
    for i in range(1, depth + 1):
        lines.append("l%d: &l%d [%s]" % (i, i, ", ".join(["*l%d" % (i - 1)] * width)))
    return "smoke_test:\n  payload:\n" + "".join("    %s\n" % x for x in lines)


fn("alias-bomb-9x9", laughs(9, 9), "aliases expand this document to more than 1000000 nodes")
fn("alias-bomb-10x10", laughs(10, 10), "aliases expand this document to more than 1000000 nodes")
fn("alias-bomb-2x64", laughs(2, 62), "aliases expand this document to more than 1000000 nodes")
fn("alias-bomb-wide",
   "smoke_test:\n  payload:\n    a: &a [" + ", ".join(["x"] * 1000) + "]\n    b: [" +
   ", ".join(["*a"] * 1001) + "]\n",
   "aliases expand this document to more than 1000000 nodes")
fn("alias-bomb-in-key-position",
   laughs(9, 5) + "    big: {*l5 : x}\n", "a mapping key must be a scalar")
fn("alias-recursive-sequence", "layers: &a [*a]\n", "alias *a refers to the node that contains it")
fn("alias-recursive-mapping", "environment: &e {A1: *e}\n",
   "alias *e refers to the node that contains it")
fn("alias-recursive-deep", "aliases: &r {a: {b: {c: [*r]}}}\n",
   "alias *r refers to the node that contains it")
fn("alias-undefined", "memory: *nowhere\n", "undefined alias *nowhere")
fn("alias-from-previous-document", "", "undefined alias *m",
   head="function: f\nregion: us-east-1\nmemory: &m 512\n---\nfunction: g\n"
        "region: us-east-1\nmemory: *m\n")
fn("alias-used-before-anchor", "memory: *m\ntimeout: &m 3\n", "undefined alias *m")
fn("alias-anchor-redefined", "a1: &m 512\na2: &m 64\nmemory: *m\n",
   "memory: 64 is out of range")
fn("alias-collection-as-key", "x: &k [a]\n? *k\n: v\n", "a mapping key must be a scalar")
fn("alias-bad-value-shared-100", "environment:\n  A0: &v {x: y}\n" +
   "".join("  A%d: *v\n" % i for i in range(1, 100)), "expected a string")
fn("alias-long-anchor-name", "memory: &%s 1\ntimeout: *%s\n" % ("a" * 60000, "a" * 60000),
   "memory: 1 is out of range")
fn("merge-key", "base: &b {memory: 512}\n<<: *b\n", "merge keys (<<) are not supported")
fn("merge-key-list", "b1: &b1 {memory: 512}\nb2: &b2 {timeout: 3}\n<<: [*b1, *b2]\n",
   "merge keys (<<) are not supported")
fn("merge-key-nested", "aliases:\n  base: &b {version: 1}\n  live:\n    <<: *b\n",
   "merge keys (<<) are not supported")

# Long strings.
fn("string-scalar-over-64k", "description: " + "x" * (SCALAR_MAX + 1) + "\n",
   "scalar longer than 65536 bytes")
fn("string-1mb", "description: " + "x" * 1000000 + "\n", "scalar longer than 65536 bytes")
fn("string-key-64k", "? " + "x" * SCALAR_MAX + "\n: 1\n", "unknown key")
fn("string-implicit-key-64k", "x" * SCALAR_MAX + ": 1\n",
   "syntax error: could not find expected ':'")
fn("string-key-over-64k", "? " + "x" * (SCALAR_MAX + 1) + "\n: 1\n",
   "scalar longer than 65536 bytes")
fn("string-quoted-over-64k", 'description: "' + "y" * (SCALAR_MAX + 1) + '"\n',
   "scalar longer than 65536 bytes")
fn("string-block-over-64k", "description: |\n" + ("  " + "z" * 99 + "\n") * 700,
   "scalar longer than 65536 bytes")
fn("string-escapes-expand", 'description: "' + "\\U0001F600" * 20000 + '"\n',
   "scalar longer than 65536 bytes")
fn("string-description-257", "description: " + "é" * 257 + "\n",
   "description: 257 characters, over Lambda's limit of 256")
fn("string-function-name-65", "", "is not a valid function name",
   head="function: " + "a" * 65 + "\nregion: us-east-1\n")
fn("string-function-name-64k", "", "is not a valid function name",
   head="function: " + "a" * SCALAR_MAX + "\nregion: us-east-1\n")
fn("string-arn-64k", "", "is not a function ARN",
   head="function: arn:aws:lambda:us-east-1:123456789012:function:" + "a" * 65000 + "\n")
fn("string-image-64k", "image: " + "a" * 65000 + "\n", "is not an image URI")
fn("string-role-64k", "role: arn:aws:iam::123456789012:role/" + "r" * 65000 + "\n",
   "is not an IAM role ARN")
fn("string-handler-64k", "handler: " + "h" * 65000 + "\n", "handler: must be 1 to 128")
fn("string-runtime-64k", "runtime: " + "p" * 65000 + "\n", "is not a Lambda runtime")
fn("string-mode-64k", "mode: " + "e" * 65000 + "\n", "is not enforce, detect or suspend")
fn("string-region-64k", "region: " + "u" * 65000 + "\n", "is not a region name",
   head="function: f\n")
fn("string-env-value-64k", "environment: {A1: " + "v" * 65000 + "}\n",
   "over Lambda's limit of 4096")
fn("string-env-key-64k", "environment:\n  ? " + "K" * 65000 + "\n  : v\n",
   "environment: variables total 65001 bytes, over Lambda's limit of 4096")
fn("string-alias-name-64k", "aliases:\n  ? " + "a" * 65000 + "\n  : current\n",
   "is not an alias name")
fn("string-s3-key-1025", "code: {s3_bucket: bucket, s3_key: " + "k" * 1025 + "}\n",
   "code.s3_key: must be 1 to 1024 bytes")
fn("string-layer-arn-64k", "layers: [arn:aws:lambda:us-east-1:123456789012:layer:" +
   "l" * 65000 + ":1]\n", "is not a layer version ARN")
fn("string-tag-64k", "memory: !" + "t" * 65000 + " 512\n", "unsupported YAML tag")
fn("string-long-comment-then-error", "# " + "c" * 900000 + "\nmemory: 1\n",
   "memory: 1 is out of range")
fn("string-long-line-of-spaces", " " * 500000 + "\nmemory: 1\n", "memory: 1 is out of range")

# Many documents, keys, entries.
TOO_MANY = "more than %d nodes in one file" % NODES_MAX
raw("many-empty-documents", "---\n" * 200000, TOO_MANY)
# An empty document is two nodes: the document and its null.
raw("many-empty-documents-under-cap", "---\n" * 12000, "empty file: no function document")
raw("many-function-documents", "".join("---\nfunction: f%d\nmemory: 1\n" % i
                                       for i in range(20000)), TOO_MANY)
# Six nodes a function: 27000 of the 30000.
raw("many-function-documents-under-cap", "".join("---\nfunction: f%d\nmemory: 1\n" % i
                                                 for i in range(4500)), "is out of range")
raw("many-scalar-documents", "".join("--- %d\n" % i for i in range(12000)),
    "a function document must be a mapping")
fn("many-keys-100000", "".join("k%d: 1\n" % i for i in range(100000)), TOO_MANY)
fn("many-unknown-keys-12000", "".join("k%d: 1\n" % i for i in range(12000)), "unknown key")
fn("many-duplicate-keys", "memory: 512\n" * 12000, "duplicate key \"memory\"")
fn("many-duplicate-keys-over-cap", "memory: 512\n" * 50000, TOO_MANY)
fn("many-nodes-over-cap", "smoke_test: {payload: [" + "1," * NODES_MAX + "1]}\n", TOO_MANY)
fn("many-nodes-1mib", "smoke_test: {payload: [" + "1," * (FILE_MAX // 2 - 40) + "1]}\n",
   TOO_MANY)
fn("many-aliases-over-cap", "x: &a 1\ny: [" + "*a," * NODES_MAX + "*a]\n", TOO_MANY)
fn("many-aliases-101", "aliases:\n" + "".join("  a%d: current\n" % i for i in range(101)),
   "aliases: more than 100 aliases")
fn("many-layers-6", "layers:\n" + "".join(
    "  - arn:aws:lambda:us-east-1:123456789012:layer:l%d:1\n" % i for i in range(6)),
   "layers: more than 5 layers")
fn("many-env-vars-10000", "environment:\n" + "".join("  V%d: x\n" % i for i in range(10000)),
   "over Lambda's limit of 4096")
fn("many-unknown-keys-nested", "code:\n" + "".join("  k%d: 1\n" % i for i in range(12000)),
   "code: unknown key")
fn("duplicate-key-after-anchor", "memory: &m 512\nmemory: *m\n", "duplicate key \"memory\"")
fn("duplicate-key-quoted-and-plain", "memory: 512\n\"memory\": 512\n",
   "duplicate key \"memory\"")
fn("duplicate-key-nested", "environment: {A1: x, A1: y}\n", "duplicate key \"A1\"")

# NUL bytes, raw and escaped.
fn("nul-in-key", b"mem\x00ory: 512\n", "binary file (a NUL byte)")
fn("nul-in-value", b"memory: 5\x0012\n", "binary file (a NUL byte)")
raw("nul-at-start", b"\x00" + HEAD.encode(), "binary file (a NUL byte)")
fn("nul-at-end", b"memory: 1\n\x00", "binary file (a NUL byte)")
raw("nul-only", b"\x00" * 4096, "binary file (a NUL byte)")
fn("nul-in-comment", b"# a\x00b\nmemory: 1\n", "binary file (a NUL byte)")
NUL_ESCAPED = "a NUL character (\\0) in a scalar"
fn("nul-escaped-in-name", "", NUL_ESCAPED,
   head='function: "f\\0x"\nregion: us-east-1\n')
fn("nul-escaped-in-description", 'description: "a\\0b"\n', NUL_ESCAPED)
fn("nul-escaped-in-env-value", 'environment: {A1: "v\\x00w"}\n', NUL_ESCAPED)
fn("nul-escaped-in-key", '"mem\\0ory": 512\n', NUL_ESCAPED)
fn("nul-escaped-unicode", 'description: "a\\u0000b"\n', NUL_ESCAPED)
fn("nul-escaped-in-single-document", "", NUL_ESCAPED, head='"\\0"\n')

# Invalid UTF-8 and unusual text.
UTF8 = {
    "overlong-2": b"\xc0\xaf",
    "overlong-3": b"\xe0\x80\xaf",
    "overlong-4": b"\xf0\x80\x80\xaf",
    "surrogate-high": b"\xed\xa0\x80",
    "surrogate-low": b"\xed\xbf\xbf",
    "beyond-10ffff": b"\xf4\x90\x80\x80",
    "byte-f5": b"\xf5\x80\x80\x80",
    "byte-ff": b"\xff",
    "byte-fe": b"\xfe",
    "lone-continuation": b"\x80",
    "truncated-2": b"\xc3",
    "truncated-3": b"\xe2\x82",
    "truncated-4": b"\xf0\x9f\x98",
    "latin1": b"caf\xe9",
}
for name, bad in UTF8.items():
    fn("utf8-" + name, b"description: a" + bad + b"b\n", "not UTF-8 text")
fn("utf8-truncated-at-eof", b"description: ab\xe2\x82", "not UTF-8 text")
fn("utf8-in-key", b"descr\xffiption: x\n", "not UTF-8 text")
fn("utf8-in-comment", b"# \xc0\xaf\nmemory: 512\n", "not UTF-8 text")
raw("utf16le-with-bom", "\ufefffunction: f\n".encode("utf-16-le"), "binary file (a NUL byte)")
raw("utf16be-with-bom", "\ufefffunction: f\n".encode("utf-16-be"), "binary file (a NUL byte)")
raw("utf32le-with-bom", "\ufefffunction: f\n".encode("utf-32-le"), "binary file (a NUL byte)")
raw("bom-then-error", b"\xef\xbb\xbf" + HEAD.encode() + b"memory: 1\n", "memory: 1 is out of range")
fn("bom-in-the-middle", b"memory: 512\n\xef\xbb\xbfrole: x\n", "syntax error")
fn("control-char-escape", b"description: a\x1b[31mred\n", "unreadable text")
fn("control-char-bell", b"description: a\x07b\n", "unreadable text")
fn("control-char-del", b"description: a\x7fb\n", "unreadable text")
fn("control-char-c1", "description: a\u0085b\u009bc\n", "unreadable text: control characters are not allowed")
fn("control-char-escaped-ansi", 'description: "\\e[31mred\\e[0m"\nmemory: 1\n',
   "memory: 1 is out of range")
fn("noncharacter-fffe", "description: a\ufffeb\n", "unreadable text")
fn("line-separator-u2028", "description: a\u2028b\nmemory: 1\n", "syntax error")
fn("crlf-line-endings", "", "memory: 1 is out of range",
   head="function: f\r\nregion: us-east-1\r\nmemory: 1\r\n")
fn("cr-only-line-endings", "", "memory: 1 is out of range",
   head="function: f\rregion: us-east-1\rmemory: 1\r")
fn("mixed-line-endings", "", "memory: 1 is out of range",
   head="function: f\r\nregion: us-east-1\rmemory: 1\n")
fn("tab-after-colon", "memory:\t1\n", "memory: 1 is out of range")
fn("form-feed", b"memory: 512\n\x0c\ntimeout: 0\n", "unreadable text: control characters are not allowed")

# Tags.
for name, text in {"ref": "!Ref Thing", "sub": "!Sub '${x}'", "getatt": "!GetAtt a.b",
                   "binary": "!!binary aGk=", "timestamp": "!!timestamp 2001-12-14",
                   "local": "!local x", "verbatim-unknown": "!<tag:x,1:y> z"}.items():
    fn("tag-" + name, "role: %s\n" % text, "unsupported YAML tag")
fn("tag-set-on-mapping", "environment: !!set {A1: ~}\n", "unsupported YAML tag")
fn("tag-omap-on-sequence", "layers: !!omap [a]\n", "unsupported YAML tag")
fn("tag-map-on-sequence", "layers: !!map [a]\n", "unsupported YAML tag")
fn("tag-seq-on-mapping", "environment: !!seq {A1: b}\n", "unsupported YAML tag")
fn("tag-int-on-word", "memory: !!int abc\n", "does not match its tag")
fn("tag-bool-on-yes", "memory: !!bool yes\n", "does not match its tag")
fn("tag-null-on-text", "memory: !!null x\n", "does not match its tag")
fn("tag-float-on-word", "memory: !!float abc\n", "does not match its tag")
fn("tag-directive-custom-handle", "", "unsupported YAML tag",
   head="%TAG !aws! tag:amazon.com,2010:\n---\nfunction: f\nregion: us-east-1\n"
        "role: !aws!Ref x\n")

# Empty, blank and odd documents.
raw("empty", b"", "empty file: no function document")
raw("whitespace-only", " \n\n   \n" * 100, "empty file: no function document")
raw("whitespace-tab-line", " \n\t\n", "syntax error: found character that cannot start any token")
raw("comments-only", "# a\n# b\n", "empty file: no function document")
raw("single-document-marker", "---\n", "empty file: no function document")
raw("document-end-only", "...\n", "syntax error: did not find expected node content")
raw("null-document", "--- ~\n", "empty file: no function document")
raw("bom-only", b"\xef\xbb\xbf", "empty file: no function document")
raw("newline-only", b"\n", "empty file: no function document")

# Binary files.
raw("binary-noise", noise(4096, "noise"), "binary file (a NUL byte)")
raw("binary-elf", b"\x7fELF\x02\x01\x01" + noise(1000, "elf"), "binary file (a NUL byte)")
raw("binary-gzip", b"\x1f\x8b\x08\x00" + noise(1000, "gzip"), "binary file (a NUL byte)")
raw("binary-png", b"\x89PNG\r\n\x1a\n" + noise(1000, "png"), "binary file (a NUL byte)")
raw("binary-high-bytes", bytes(range(128, 256)) * 8, "not UTF-8 text")

# Sizes around the file cap.
raw("file-over-1mib", HEAD + "#" * (FILE_MAX - len(HEAD)) + "\n",
    "file is 1048577 bytes, over the limit of 1048576")
raw("file-exactly-1mib", HEAD + "memory: 1\n" + "#" * (FILE_MAX - len(HEAD) - 11) + "\n",
    "memory: 1 is out of range")

# Hostile values.
fn("value-ansi-in-function-name", "", "is not a valid function name",
   head='function: "\\e]0;title\\a\\e[2J"\nregion: us-east-1\n')
fn("value-newline-in-function-name", "", "is not a valid function name",
   head='function: "a\\nfunctions/x.yaml:1:1: forged"\nregion: us-east-1\n')
fn("value-qualified-arn", "", "the ARN is qualified",
   head="function: arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST\n")
fn("value-arn-region-mismatch", "region: eu-west-1\n", "contradicts the function's ARN",
   head="function: arn:aws:lambda:us-east-1:123456789012:function:f\n")
fn("value-region-unicode", "", "is not a region name",
   head="function: f\nregion: us-éast-1\n")
fn("value-image-and-code", "image: r.example.com/a:1.0.0\ncode: {s3_bucket: bkt, s3_key: k}\n",
   "image and code are mutually exclusive")
fn("value-env-reserved", "environment: {AWS_REGION: x}\n", "is reserved by Lambda")
fn("value-alias-latest", "aliases: {live: $LATEST}\n", "is not a published version")
fn("value-alias-name-digits", "aliases: {'123': current}\n", "is all digits")
fn("value-alias-name-latest", "aliases: {$LATEST: current}\n", "is reserved")
fn("value-runtime-with-image", "image: r.example.com/a:1.0.0\nruntime: python3.12\n",
   "an image function has no runtime")
fn("value-duplicate-function", "---\n" + HEAD, "is declared again")
fn("value-layer-other-region",
   "layers: [arn:aws:lambda:eu-west-1:123456789012:layer:l:1]\n", "Lambda needs them in one region")
fn("value-same-layer-twice", "layers: [{name: l, version: 1}, {name: l, version: 2}]\n",
   "the same layer as layers[0]")
fn("value-unknown-key-near", "memroy: 512\n", "did you mean \"memory\"")


# Desired state: overlays (environments/NAME.yaml, next to a valid function "base").

def env(name, data, expect):
    add("desired/environments/%s.yaml" % name, data, expect)


env("env-yaml-unclosed-flow", "functions: {base: {memory: 512}\n", "syntax error")
env("env-yaml-bad-indentation", "defaults:\n  memory: 512\n    timeout: 3\n", "syntax error")
env("env-empty", b"", "empty overlay")
env("env-comments-only", "# nothing\n", "empty overlay")
env("env-two-documents", "defaults: {}\n---\nfunctions: {}\n",
    "an overlay file holds one document; this is a second one")
env("env-scalar-document", "prod\n", "an overlay must be a mapping")
env("env-sequence-document", "- defaults\n", "an overlay must be a mapping")
env("env-defaults-sequence", "defaults: [memory, 512]\n", "defaults")
env("env-functions-sequence", "functions: [base]\n", "functions")
env("env-function-override-sequence", "functions: {base: [memory]}\n",
    "functions.base: expected a mapping")
env("env-defaults-function-key", "defaults: {function: x}\n", "cannot be set in")
env("env-defaults-image", "defaults: {image: r.example.com/a:1.0.0}\n", "cannot be set in")
env("env-defaults-aliases", "defaults: {aliases: {live: current}}\n", "cannot be set in")
env("env-override-function-key", "functions: {base: {function: other}}\n",
    "\"function\" cannot be set in an overlay")
env("env-unknown-top-key", "defaults: {}\nfunctons: {}\n", "unknown key")
env("env-unknown-function", "functions: {nosuch: {memory: 512}}\n", "names no function")
env("env-defaults-memory-2pow64", "defaults: {memory: %d}\n" % 2 ** 64, "is out of range")
env("env-override-memory-string", "functions: {base: {memory: \"512\"}}\n", "remove the quotes")
env("env-defaults-environment-5000", "defaults:\n  environment:\n" +
    "".join("    V%d: xxxxxxxx\n" % i for i in range(500)), "over Lambda's limit of 4096")
env("env-many-unknown-functions", "functions:\n" +
    "".join("  f%d: {memory: 512}\n" % i for i in range(6000)), "names no function")
env("env-function-name-64k", "functions:\n  ? " + "f" * 65000 + "\n  : {memory: 512}\n",
    "is not a function name")
env("env-nesting-10000", "defaults: " + "[" * 10000 + "]" * 10000 + "\n",
    "nesting deeper than 64 levels")
env("env-alias-bomb", laughs(10, 10).replace("smoke_test:\n  payload:", "defaults:\n  x:"),
    "aliases expand this document to more than 1000000 nodes")
env("env-alias-recursive", "defaults: &d {environment: *d}\n",
    "refers to the node that contains it")
env("env-merge-key", "base: &b {memory: 512}\ndefaults:\n  <<: *b\n", "merge keys")
env("env-nul", b"defaults: {memory: 5\x0012}\n", "binary file (a NUL byte)")
env("env-nul-escaped", 'defaults: {description: "a\\0b"}\n', NUL_ESCAPED)
env("env-utf8-overlong", b"defaults: {description: \xc0\xaf}\n", "not UTF-8 text")
env("env-utf8-surrogate", b"defaults: {description: \xed\xa0\x80}\n", "not UTF-8 text")
env("env-string-over-64k", "defaults: {description: " + "d" * (SCALAR_MAX + 1) + "}\n",
    "scalar longer than 65536 bytes")
env("env-tag-ref", "defaults: {role: !Ref Role}\n", "unsupported YAML tag")
env("env-duplicate-keys", "defaults: {}\ndefaults: {}\n", "duplicate key \"defaults\"")
env("env-over-1mib", "# " + "x" * FILE_MAX + "\n", "over the limit of 1048576")
env("env-binary", noise(2048, "env"), "binary file (a NUL byte)")
env("env-null-removes-in-defaults", "defaults: {environment: {A1: ~}}\n",
    "environment.A1: expected a string, got null")


# Daemon configs (checked as tether.yaml in a directory that has an empty repo/ folder).

CFG = "repo: ./repo\nregion: us-east-1\n"


def cfg(name, body, expect, head=CFG):
    data = head.encode() + body if isinstance(body, bytes) else head + body
    add("config/%s.yaml" % name, data, expect)


cfg("yaml-unclosed-quote", 'ref: "main\n', "syntax error")
cfg("yaml-unclosed-flow", "notify: [{url: x\n", "syntax error")
cfg("yaml-bad-indentation", "interval: 5m\n  jitter: 0.1\n", "syntax error")
cfg("yaml-tab-indentation", "git:\n\tusername: x\n", "syntax error")
cfg("yaml-unknown-escape", 'ref: "\\q"\n', "syntax error: found unknown escape character")
cfg("yaml-escape-surrogate", 'ref: "\\udc00"\n', "syntax error")
cfg("yaml-directive-version-2", "%YAML 2.0\n---\n" + CFG, "syntax error", head="")
cfg("yaml-reserved-indicator", "ref: @main\n", "syntax error")
cfg("yaml-sequence-after-mapping", "- x\n", "syntax error")
cfg("yaml-document-end-then-content", "...\ninterval: 5m\n", "syntax error")
cfg("empty", "", "the config is empty", head="")
cfg("whitespace-only", "  \n\n   \n", "the config is empty", head="")
cfg("comments-only", "# nothing\n", "the config is empty", head="")
cfg("single-document-marker", "---\n", "the config is empty", head="")
cfg("two-documents", "---\nrepo: ./repo\n", "a second YAML document")
cfg("many-documents", "---\n" * 60000, TOO_MANY)
cfg("scalar-document", "tether\n", "the config must be a mapping", head="")
cfg("sequence-document", "- repo: ./repo\n", "the config must be a mapping", head="")
cfg("file-over-256k", "#" * CONFIG_FILE_MAX + "\n", "over the limit of 262144 bytes")
cfg("nul-in-value", b"ref: ma\x00in\n", "unreadable text")
cfg("nul-escaped", 'ref: "ma\\0in"\n', NUL_ESCAPED)
cfg("nul-escaped-in-path", 'state_dir: "st\\0ate"\n', NUL_ESCAPED)
cfg("utf8-overlong", b"ref: \xc0\xafmain\n", "unreadable text")
cfg("utf8-surrogate", b"ref: \xed\xa0\x80\n", "unreadable text")
cfg("utf8-truncated", b"ref: main\xe2\x82", "unreadable text")
cfg("utf8-latin1", b"ref: caf\xe9\n", "unreadable text")
# libyaml reads UTF-16 with a BOM (YAML allows it): this config is read, and wrong.
cfg("utf16-with-bom", "\ufeffrepo: x\n".encode("utf-16-le"), "repo: cannot open", head="")
cfg("bom-then-error", b"\xef\xbb\xbf" + CFG.encode() + b"concurrency: 0\n",
    "concurrency: 0 is out of range", head="")
cfg("crlf-then-error", "repo: ./repo\r\nregion: us-east-1\r\nconcurrency: 0\r\n",
    "concurrency: 0 is out of range", head="")
cfg("control-char-escape", b"ref: a\x1bb\n", "unreadable text")
cfg("binary-noise", noise(4096, "config"), "unreadable text", head="")
cfg("nesting-flow-10000", "notify: " + "[" * 10000 + "]" * 10000 + "\n",
    "nesting deeper than 64 levels")
cfg("nesting-block-10000", "notify:\n  " + "- " * 10000 + "x\n", "nesting deeper than 64 levels")
cfg("alias-bomb-9x9", laughs(9, 9).replace("smoke_test:\n  payload:", "git:\n  x:"),
    "aliases expand this document to more than 1000000 nodes")
cfg("alias-recursive", "git: &g {x: *g}\n", "refers to the node that contains it")
cfg("alias-undefined", "interval: *i\n", "undefined alias *i")
cfg("merge-key", "base: &b {username: x}\ngit:\n  <<: *b\n", "merge keys (<<) are not supported")
cfg("duplicate-keys", "region: us-east-1\n", "duplicate key \"region\"")
cfg("many-keys-12000", "".join("k%d: 1\n" % i for i in range(12000)), "unknown key")
cfg("key-64k", "? " + "k" * SCALAR_MAX + "\n: 1\n", "unknown key")
cfg("implicit-key-64k", "k" * SCALAR_MAX + ": 1\n", "syntax error: could not find expected ':'")
cfg("scalar-over-64k", "ref: " + "r" * (SCALAR_MAX + 1) + "\n", "scalar longer than 65536 bytes")
cfg("tag-ref", "ref: !Ref Branch\n", "unsupported YAML tag")
cfg("tag-int-on-word", "concurrency: !!int many\n", "does not match its tag")
cfg("many-nodes", "notify: [" + "1," * 130000 + "1]\n", TOO_MANY)
cfg("repo-missing", "interval: 5m\n", "missing required key \"repo\"", head="")
cfg("repo-int", "repo: 12\n", "repo: expected a string", head="")
cfg("repo-sequence", "repo: [a]\n", "repo: expected a string", head="")
cfg("repo-empty", "repo: ''\n", "repo: is empty", head="")
cfg("repo-scheme-ftp", "repo: ftp://example.com/r.git\n", "repo", head="")
cfg("repo-https-password", "repo: https://u:secret@example.com/r.git\n", "repo", head="")
cfg("repo-no-path", "repo: https://example.com\n", "repo", head="")
cfg("repo-query", "repo: https://example.com/r.git?x=1\n", "repo", head="")
cfg("repo-space", "repo: 'https://example.com/r .git'\n", "repo", head="")
cfg("repo-file-remote-host", "repo: file://remote/r.git\n", "repo", head="")
cfg("repo-64k", "repo: https://example.com/" + "r" * 65000 + "\n", "repo", head="")
cfg("repo-local-is-file", "repo: /dev/null\n", "repo", head="")
cfg("repo-port-overflow", "repo: ssh://git@example.com:99999999999999999999/r.git\n", "repo",
    head="")
cfg("ref-dotdot", "ref: a..b\n", "ref")
cfg("ref-lock", "ref: main.lock\n", "ref")
cfg("ref-reflog", "ref: main@{1}\n", "ref")
cfg("ref-control-char", 'ref: "a\\tb"\n', "ref")
cfg("ref-long", "ref: " + "r" * 1000 + "\n", "ref")
cfg("path-absolute", "path: /etc\n", "path")
cfg("path-dotdot", "path: a/../../b\n", "path")
cfg("environment-dot", "environment: .hidden\n", "environment")
cfg("environment-slash", "environment: a/b\n", "environment")
cfg("environment-long", "environment: " + "e" * 65 + "\n", "environment")
for name, text in {"bare-number": "60", "zero": "0s", "over-24h": "25h", "repeated": "1h1h",
                   "negative": "-5s", "huge": "9" * 30 + "s", "exponent": "1e3s",
                   "inf": ".inf", "sequence": "[5m]", "empty": "''", "float": "1.5"}.items():
    cfg("interval-" + name, "interval: %s\n" % text, "interval")
cfg("drift-interval-huge", "drift_interval: " + "9" * 25 + "h\n", "drift_interval")
cfg("drift-interval-under-10s", "drift_interval: 5s\n", "drift_interval")
cfg("drift-interval-off-typo", "drift_interval: of\n", "drift_interval")
for name, text in {"nan": ".nan", "inf": ".inf", "negative": "-0.1", "2pow64": str(2 ** 64),
                   "quoted": "'0.1'", "exponent-overflow": "1e309", "over-half": "0.6",
                   "hex": "0x1p-2"}.items():
    cfg("jitter-" + name, "jitter: %s\n" % text, "jitter")
for name, text in {"zero": "0", "over-256": "257", "2pow63": str(2 ** 63),
                   "minus-2pow63-minus-1": str(-2 ** 63 - 1), "float": "1.5", "quoted": "'8'",
                   "bool": "true", "hex-overflow": "0x" + "f" * 17}.items():
    cfg("concurrency-" + name, "concurrency: %s\n" % text, "concurrency")
for name, text in {"zero": "0", "negative": "-1", "over-1000": "1001", "inf": ".inf",
                   "nan": ".NaN", "exponent-overflow": "1e309", "2pow64": str(2 ** 64)}.items():
    cfg("api-rps-" + name, "api_rps: %s\n" % text, "api_rps")
cfg("region-unicode", "region: us-éast-1\n", "region", head="repo: ./repo\n")
cfg("region-64k", "region: " + "u" * 65000 + "\n", "region", head="repo: ./repo\n")
for name, text in {"ftp": "ftp://127.0.0.1:9001", "userinfo": "http://u@127.0.0.1:9001",
                   "fragment": "http://127.0.0.1:9001/#x", "ipv6-unclosed": "'http://[::1:9001'",
                   "port-overflow": "http://127.0.0.1:99999999999999999999",
                   "empty-host": "http://:80", "64k": "http://" + "h" * 65000}.items():
    cfg("endpoint-" + name, "endpoint: %s\n" % text, "endpoint")
cfg("state-dir-tilde", "state_dir: ~/state\n", "state_dir")
for name, text in {"no-host": "':9180'", "no-port": "127.0.0.1", "port-65536": "127.0.0.1:65536",
                   "port-negative": "127.0.0.1:-1", "port-hex": "127.0.0.1:0x50",
                   "port-huge": "127.0.0.1:" + "9" * 30, "ipv6-unclosed": "'[::1:9180'",
                   "int": "9180", "host-300": "h" * 300 + ":80", "sequence": "[a]"}.items():
    cfg("listen-" + name, "listen: %s\n" % text, "listen")
cfg("log-format-upper", "log_format: JSON\n", "log_format")
cfg("log-format-int", "log_format: 1\n", "log_format")
cfg("git-sequence", "git: [a]\n", "git: expected a mapping")
cfg("git-token-inline", "git: {token: abc}\n", "secrets are never written in the config")
cfg("git-token-file-missing", "git: {token_file: /nonexistent/token}\n", "git.token_file")
cfg("git-token-file-dev-zero", "git: {token_file: /dev/zero}\n", "is not a regular file")
cfg("git-token-file-directory", "git: {token_file: /}\n", "is not a regular file")
cfg("git-token-file-and-env", "git: {token_file: /dev/null, token_env: TETHER_GOOD}\n",
    "exclude each other")
cfg("git-token-env-unset", "git: {token_env: TETHER_UNSET}\n", "is not set")
cfg("git-token-env-empty", "git: {token_env: TETHER_BAD_EMPTY}\n", "is empty")
cfg("git-token-env-long", "git: {token_env: TETHER_BAD_LONG}\n", "is over 4096 bytes")
cfg("git-token-env-newline", "git: {token_env: TETHER_BAD_NEWLINE}\n",
    "holds more than one line")
cfg("git-token-env-bad-name", "git: {token_env: 'A B'}\n", "is not an environment variable name")
cfg("git-token-env-name-long", "git: {token_env: " + "A" * 300 + "}\n",
    "is not an environment variable name")
cfg("git-ssh-key-dev-null", "git: {ssh_key_file: /dev/null}\n", "is not a regular file")
cfg("git-ca-file-missing", "git: {ca_file: ./nowhere.pem}\n", "git.ca_file")
cfg("git-username-colon", "git: {username: 'a:b'}\n", "git.username")
cfg("git-unknown-key", "git: {tokne_file: x}\n", "unknown key")
cfg("webhook-inline-secret", "webhook: {github_secret: abc}\n",
    "secrets are never written in the config")
for name, text in {"zero": "0", "over-25mib": "26MiB", "trailing": "25MiB1",
                   "huge-kib": "9" * 25 + "KiB", "negative": "-1KiB", "float": "1.5",
                   "unit-case": "1mib"}.items():
    cfg("webhook-max-body-" + name, "webhook: {max_body: %s}\n" % text, "webhook.max_body")
for name, text in {"zero": "0", "over-600": "601", "2pow64": str(2 ** 64)}.items():
    cfg("webhook-rate-" + name, "webhook: {rate: %s}\n" % text, "webhook.rate")
cfg("webhook-header-space", "webhook: {generic_header: 'Bad Header'}\n",
    "webhook.generic_header")
cfg("webhook-header-65", "webhook: {generic_header: " + "H" * 65 + "}\n",
    "webhook.generic_header")
cfg("webhook-secret-file-dev-zero", "webhook: {github_secret_file: /dev/zero}\n",
    "is not a regular file")
cfg("verify-no-mode", "verify: {allowed_signers: x}\n", "verify")
cfg("verify-openpgp", "verify: {mode: openpgp}\n", "not supported")
cfg("verify-ssh-no-signers", "verify: {mode: ssh}\n", "verify")
cfg("verify-signers-missing", "verify: {mode: ssh, allowed_signers: ./nowhere}\n",
    "verify.allowed_signers")
cfg("verify-mode-int", "verify: {mode: 1}\n", "verify.mode")
cfg("notify-mapping", "notify: {url: 'https://example.com/h', kind: generic}\n", "notify")
cfg("notify-33-targets", "notify:\n" + "  - {url: 'https://example.com/h', kind: generic}\n" * 33,
    "notify")
cfg("notify-5000-targets", "notify:\n" + "  - {url: 'https://example.com/h', kind: generic}\n"
    * 5000, "notify")
cfg("notify-item-string", "notify: [https://example.com/h]\n", "notify[0]")
cfg("notify-url-and-env", "notify: [{url: 'https://example.com/h', url_env: TETHER_GOOD, "
    "kind: generic}]\n", "notify[0]")
cfg("notify-url-ftp", "notify: [{url: 'ftp://example.com/h', kind: generic}]\n", "notify[0]")
cfg("notify-url-env-unset", "notify: [{url_env: TETHER_UNSET, kind: slack}]\n", "is not set")
cfg("notify-url-env-not-url", "notify: [{url_env: TETHER_GOOD, kind: slack}]\n",
    "is not an http or https URL")
cfg("notify-events-empty", "notify: [{url: 'https://example.com/h', kind: generic, "
    "events: []}]\n", "notify[0].events")
cfg("notify-events-duplicate", "notify: [{url: 'https://example.com/h', kind: generic, "
    "events: [failed, failed]}]\n", "notify[0].events")
cfg("notify-events-unknown", "notify: [{url: 'https://example.com/h', kind: generic, "
    "events: [exploded]}]\n", "notify[0].events")
cfg("notify-kind-missing", "notify: [{url: 'https://example.com/h'}]\n", "notify[0]")
cfg("notify-secret-with-slack", "notify: [{url_env: TETHER_URL, kind: slack, "
    "secret_env: TETHER_GOOD}]\n", "notify[0]")
cfg("notify-url-64k", "notify: [{url: 'https://example.com/" + "u" * 65000 +
    "', kind: generic}]\n", "notify[0]")
cfg("notify-nested-10000", "notify: [" + "{a: " * 10000 + "b" + "}" * 10000 + "]\n",
    "nesting deeper than 64 levels")


def expect_file():
    lines = ["# Every case: its corpus path, the text an error at that file's path:line:col\n"
             "# must contain, and its size when it is over %d bytes (then it is not in\n"
             "# corpus/: run.py makes it). Written by generate.py.\n" % CHECKED_IN_MAX]
    for path in sorted(cases):
        data, expect = cases[path]
        size = "\t(%d bytes, made at run time)" % len(data) if len(data) > CHECKED_IN_MAX \
            else ""
        lines.append("%s\t%s%s\n" % (path, expect, size))
    return "".join(lines).encode()


def wanted():
    """Every file generate.py writes: corpus-relative path -> bytes."""
    out = {path: data for path, (data, _) in cases.items() if len(data) <= CHECKED_IN_MAX}
    out["expect"] = expect_file()
    return out


def existing():
    found = {}
    for d, _, files in os.walk(CORPUS):
        for name in files:
            full = os.path.join(d, name)
            rel = os.path.relpath(full, CORPUS)
            if rel == ".gitattributes":
                continue
            with open(full, "rb") as f:
                found[rel] = f.read()
    return found


def check():
    """Differences between the checked-in corpus and this script's output, as lines."""
    want, have = wanted(), existing()
    problems = []
    for path in sorted(set(want) | set(have)):
        if path not in have:
            problems.append("missing from corpus/: %s" % path)
        elif path not in want:
            problems.append("not written by generate.py: %s" % path)
        elif have[path] != want[path]:
            problems.append("differs from generate.py's output: %s" % path)
    return problems


def main():
    if sys.argv[1:] == ["--check"]:
        problems = check()
        for p in problems:
            print(p)
        return 1 if problems else 0
    if sys.argv[1:]:
        raise SystemExit("usage: generate.py [--check]")
    want = wanted()
    for path in existing():
        if path not in want:
            os.unlink(os.path.join(CORPUS, path))
    for path, data in want.items():
        full = os.path.join(CORPUS, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    counts = {}
    for path in cases:
        area = path.split("/")[0] + ("/" + path.split("/")[1] if path.startswith("desired")
                                     else "")
        counts[area] = counts.get(area, 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())), "total=%d" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
