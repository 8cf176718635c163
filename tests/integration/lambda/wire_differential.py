"""Differential test: the wire form of every Lambda operation tether's client has, against
botocore's own Lambda client serializing the same parameters.

Each case is an operation with parameters named as in the service model. botocore builds
the request (its rest-json serializer: path labels, query string, JSON body, operation
headers) and the request is captured at 'before-send', before anything goes out; lambda_wire
(tests/integration/lambda/lambda_wire.c) builds the same request with lambda_request_*()
and signs it with lambda_request_sign(). They must agree on the method, the path byte for
byte, the query (parameters in any order, each byte for byte), the body (JSON compared as
values; Invoke's raw payload byte for byte) and the headers besides the ones that differ
by design (signature, date, user agent, SDK bookkeeping). Parameters tether refuses fail
the test too, unless the case says tether must refuse them.

  wire_differential.py --wire PATH
"""
import argparse
import base64
import json
import subprocess
import sys
import urllib.parse

import botocore.session

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ZIP = base64.b64encode(b"PK\x03\x04 a zip\x00\xff with bytes").decode()
ODD = "a b/c?d&e=f+g%h~i:$j"  # every character the encoders treat specially

CASES = [
    ("CreateFunction", {"FunctionName": "my-fn", "Role": ROLE, "PackageType": "Image",
                        "Code": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/r:1"},
                        "Description": "d \u00e9\u65e5", "MemorySize": 512, "Timeout": 30,
                        "Environment": {"Variables": {"A": "1", "B": "x y"}},
                        "Layers": [LAYER + ":3", LAYER + ":4"], "Tags": {"team": "a"},
                        "Architectures": ["arm64"], "Publish": True}),
    ("CreateFunction", {"FunctionName": "zip-fn", "Role": ROLE, "Runtime": "python3.12",
                        "Handler": "app.handler", "PackageType": "Zip",
                        "Code": {"ZipFile": ZIP}}),
    ("CreateFunction", {"FunctionName": "s3-fn", "Role": ROLE, "Runtime": "python3.12",
                        "Handler": "app.handler", "PackageType": "Zip",
                        "Code": {"S3Bucket": "bkt", "S3Key": "k/x.zip", "S3ObjectVersion": "v1"}}),
    ("GetFunction", {"FunctionName": "my-fn"}),
    ("GetFunction", {"FunctionName": ARN, "Qualifier": "$LATEST"}),
    ("GetFunction", {"FunctionName": "my-fn:live", "Qualifier": "live"}),
    ("GetFunctionConfiguration", {"FunctionName": ARN + ":7", "Qualifier": "7"}),
    ("GetFunctionConfiguration", {"FunctionName": "123456789012:function:my-fn"}),
    ("ListFunctions", {}),
    ("ListFunctions", {"FunctionVersion": "ALL", "Marker": ODD, "MaxItems": 50}),
    ("ListVersionsByFunction", {"FunctionName": ARN, "Marker": "m+/=", "MaxItems": 10}),
    ("UpdateFunctionCode", {"FunctionName": "my-fn",
                            "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/r@sha256:"
                                        + "ab" * 32,
                            "RevisionId": "1111-2222", "Publish": True, "DryRun": True,
                            "Architectures": ["x86_64"]}),
    ("UpdateFunctionCode", {"FunctionName": ARN, "ZipFile": ZIP}),
    ("UpdateFunctionCode", {"FunctionName": "my-fn", "S3Bucket": "bkt", "S3Key": "k"}),
    ("UpdateFunctionConfiguration", {"FunctionName": "my-fn", "MemorySize": 1024,
                                     "Timeout": 900, "Description": "",
                                     "Environment": {"Variables": {}}, "Layers": [],
                                     "RevisionId": "r-1"}),
    ("UpdateFunctionConfiguration", {"FunctionName": ARN, "Role": ROLE, "Handler": "h.h",
                                     "Runtime": "nodejs20.x", "Description": "new",
                                     "Environment": {"Variables": {"K": "v=1&2"}},
                                     "Layers": [LAYER + ":9"]}),
    ("PublishVersion", {"FunctionName": "my-fn"}),
    ("PublishVersion", {"FunctionName": ARN, "CodeSha256": "YFgDgEKG3ugvF1+pX64gV6tu9qNu=",
                        "Description": "tether d=3f9a1c0b7e21 c=8e4f2a1 main",
                        "RevisionId": "rev"}),
    ("DeleteFunction", {"FunctionName": "my-fn"}),
    ("DeleteFunction", {"FunctionName": ARN, "Qualifier": "12"}),
    ("CreateAlias", {"FunctionName": "my-fn", "Name": "live", "FunctionVersion": "3"}),
    ("CreateAlias", {"FunctionName": ARN, "Name": "canary", "FunctionVersion": "3",
                     "Description": "step 1",
                     "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}}}),
    ("GetAlias", {"FunctionName": ARN, "Name": "live"}),
    ("UpdateAlias", {"FunctionName": "my-fn", "Name": "live", "FunctionVersion": "5",
                     "RevisionId": "r2"}),
    ("UpdateAlias", {"FunctionName": "my-fn", "Name": "live",
                     "RoutingConfig": {"AdditionalVersionWeights": {"6": 0.25}},
                     "Description": "canary 25"}),
    ("UpdateAlias", {"FunctionName": "my-fn", "Name": "live",
                     "RoutingConfig": {"AdditionalVersionWeights": {}}}),
    ("DeleteAlias", {"FunctionName": ARN, "Name": "old"}),
    ("ListAliases", {"FunctionName": "my-fn"}),
    ("ListAliases", {"FunctionName": ARN, "FunctionVersion": "3", "Marker": ODD,
                     "MaxItems": 5}),
    ("GetLayerVersion", {"LayerName": "deps", "VersionNumber": 3}),
    ("GetLayerVersion", {"LayerName": LAYER, "VersionNumber": 12}),
    ("GetLayerVersionByArn", {"Arn": LAYER + ":3"}),
    ("ListLayerVersions", {"LayerName": LAYER, "CompatibleRuntime": "python3.12",
                           "CompatibleArchitecture": "arm64", "Marker": "x", "MaxItems": 2}),
    ("ListLayerVersions", {"LayerName": "deps"}),
    ("Invoke", {"FunctionName": "my-fn", "Payload": '{"a": 1}'}),
    ("Invoke", {"FunctionName": ARN, "Qualifier": "$LATEST", "InvocationType": "Event",
                "LogType": "Tail", "ClientContext": "eyJhIjoxfQ==", "Payload": "x"}),
    ("Invoke", {"FunctionName": "my-fn", "InvocationType": "DryRun"}),
    ("TagResource", {"Resource": ARN, "Tags": {"a": "1", "b c": "d/e"}}),
    ("UntagResource", {"Resource": ARN, "TagKeys": ["a", "b c"]}),
    ("ListTags", {"Resource": ARN}),
    ("ListEventSourceMappings", {}),
    ("ListEventSourceMappings", {"FunctionName": ARN + ":live", "Marker": "m", "MaxItems": 3}),
    ("ListProvisionedConcurrencyConfigs", {"FunctionName": "my-fn"}),
    ("ListProvisionedConcurrencyConfigs", {"FunctionName": ARN, "Marker": ODD,
                                           "MaxItems": 7}),
]

# Paginated requests: the first page's request with Marker replaced, as the client does.
MARKER_CASES = [
    ("ListAliases", {"FunctionName": "my-fn", "FunctionVersion": "3", "Marker": "old"}, ODD),
    ("ListFunctions", {"FunctionVersion": "ALL"}, "next/page=2"),
    ("ListProvisionedConcurrencyConfigs", {"FunctionName": "f"}, "p2"),
]

# Headers that differ by design: the signature and what it covers, the user agent, the
# SDK's own bookkeeping, and what the HTTP layer adds.
IGNORED = {"authorization", "x-amz-date", "x-amz-security-token", "user-agent", "host",
           "amz-sdk-invocation-id", "amz-sdk-request", "content-length"}


class Captured(Exception):
    pass


def botocore_request(op, params):
    session = botocore.session.get_session()
    client = session.create_client(
        "lambda", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
        aws_session_token="session-token")

    def capture(request, **kwargs):
        raise Captured(request)

    client.meta.events.register("before-send.lambda", capture)
    p = json.loads(json.dumps(params))
    if op in ("CreateFunction",) and "ZipFile" in p.get("Code", {}):
        p["Code"]["ZipFile"] = base64.b64decode(p["Code"]["ZipFile"])
    if op == "UpdateFunctionCode" and "ZipFile" in p:
        p["ZipFile"] = base64.b64decode(p["ZipFile"])
    if op == "Invoke" and "Payload" in p:
        p["Payload"] = p["Payload"].encode()
    method = op[0].lower() + "".join("_" + ch.lower() if ch.isupper() else ch for ch in op[1:])
    try:
        getattr(client, method)(**p)
    except Captured as c:
        return c.args[0]
    raise AssertionError("botocore sent nothing for %s" % op)


def query_pieces(q):
    return sorted(p for p in q.split("&") if p) if q else []


def headers_of(items):
    return {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in items
            if k.lower() not in IGNORED}


def compare(op, params, want, got):
    problems = []
    url = urllib.parse.urlsplit(want.url)
    if "error" in got:
        return ["tether refused the parameters: %s" % got["error"]]
    if got["method"] != want.method:
        problems.append("method %s, botocore %s" % (got["method"], want.method))
    if got["path"] != url.path:
        problems.append("path %r, botocore %r" % (got["path"], url.path))
    if query_pieces(got["query"]) != query_pieces(url.query):
        problems.append("query %r, botocore %r" % (got["query"], url.query))
    body = base64.b64decode(got["body"])
    wbody = want.body or b""
    if isinstance(wbody, str):
        wbody = wbody.encode()
    if op == "Invoke" or not wbody:
        if body != wbody:
            problems.append("body %r, botocore %r" % (body, wbody))
    else:
        if not got["has_body"] or json.loads(body) != json.loads(wbody):
            problems.append("body %s, botocore %s" % (body.decode(), wbody.decode()))
    gh = {k.lower(): v for k, v in got["headers"].items() if k.lower() not in IGNORED}
    # An empty Content-Type tells libcurl to send none.
    if gh.get("content-type") == "":
        del gh["content-type"]
    wh = headers_of(want.headers.items())
    if gh != wh:
        problems.append("headers %r, botocore %r" % (gh, wh))
    # What is signed must be what botocore signs (minus what differs by design).
    signed = got["headers"]["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    wsigned = [h for h in signed.split(";")]
    expect = sorted(["host", "x-amz-date", "x-amz-security-token"] + list(wh))
    if wsigned != expect:
        problems.append("signed headers %r, expected %r" % (wsigned, expect))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wire", required=True)
    args = ap.parse_args()
    lines = [json.dumps({"op": op, "params": p}) for op, p in CASES]
    lines += [json.dumps({"op": op, "params": p, "marker": m}) for op, p, m in MARKER_CASES]
    proc = subprocess.run([args.wire], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    outs = [json.loads(l) for l in proc.stdout.splitlines()]
    assert len(outs) == len(lines), (len(outs), len(lines))
    failed = 0
    cases = [(op, p) for op, p in CASES]
    cases += [(op, dict(p, Marker=m)) for op, p, m in MARKER_CASES]
    for (op, params), got in zip(cases, outs):
        want = botocore_request(op, params)
        problems = compare(op, params, want, got)
        if problems:
            failed += 1
            print("FAIL %s %s" % (op, json.dumps(params)))
            for p in problems:
                print("     " + p)
        else:
            print("ok   %s" % op)
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
