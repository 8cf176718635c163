"""Differential test: tether's SigV4 signer against botocore's SigV4Auth.

Every request is produced by botocore's own Lambda client (its rest-json serializer builds
the path, query and body exactly as it would send them), signed by botocore at a fixed
random time, captured just before it would go on the wire, and then signed again by
tether's C signer (sigv4_sign, which calls sigv4_sign_url()) from the same method, URL,
headers, body, credentials and time. The Authorization headers must be identical. When
awscrt is installed (Debian's awscli depends on it) each request is also signed by
botocore's CRT signer, and that must agree too.

The requests cover ARNs of every partition, $LATEST and alias qualifiers, query strings
with reserved and non-ASCII characters, repeated query keys, JSON and binary bodies,
session tokens, default and non-default ports, IPv6 literals and endpoint path prefixes.
"""
import argparse
import base64
import datetime as _datetime
import json
import random
import string
import subprocess
import sys

import botocore.auth
import botocore.session


class FixedDatetime(_datetime.datetime):
    """botocore.auth calls datetime.datetime.utcnow(); this pins it."""

    fixed = _datetime.datetime(2015, 8, 30, 12, 36, 0)

    @classmethod
    def utcnow(cls):
        return cls.fixed


class _DatetimeModule:
    datetime = FixedDatetime
    timezone = _datetime.timezone
    timedelta = _datetime.timedelta


botocore.auth.datetime = _DatetimeModule
PY_SIGV4 = botocore.auth.SigV4Auth
try:  # Debian's awscli pulls in awscrt, and botocore then prefers the CRT signer.
    import botocore.crt.auth
    botocore.crt.auth.datetime = _DatetimeModule
    CRT_SIGV4 = botocore.crt.auth.CrtSigV4Auth
except ImportError:
    CRT_SIGV4 = None


def use_signer(cls):
    botocore.auth.AUTH_TYPE_MAPS["v4"] = cls


class Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def capture(request, **kwargs):
    raise Captured(request)


ENDPOINTS = [
    "http://127.0.0.1:9001",
    "http://localhost:4566",
    "https://lambda.us-east-1.amazonaws.com",
    "https://lambda.eu-west-1.amazonaws.com:443",
    "http://lambda.local:80",
    "https://example.internal:8443",
    "http://[::1]:9001",
    "http://127.0.0.1:9001/prefix/path",
    "https://LAMBDA.Example.COM",
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
PARTITIONS = {"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}
NAME_CHARS = string.ascii_letters + string.digits + "-_"
NASTY = "+/=&?#%$ ~!*'();:@,[]{}|\\^`\"<>"


def rand_name(r, lo=1, hi=64):
    return "".join(r.choice(NAME_CHARS) for _ in range(r.randint(lo, hi)))


def rand_text(r, hi=40):
    alphabet = string.ascii_letters + string.digits + NASTY + "éü日本\u2028"
    return "".join(r.choice(alphabet) for _ in range(r.randint(1, hi)))


def rand_qualifier(r):
    return r.choice(["$LATEST", str(r.randint(1, 99999)), rand_name(r, 1, 20)])


def rand_function(r, region):
    name = rand_name(r)
    acct = "".join(r.choice(string.digits) for _ in range(12))
    part = PARTITIONS.get(region, "aws")
    form = r.randint(0, 4)
    if form == 0:
        return name
    if form == 1:
        return f"{name}:{rand_qualifier(r)}"
    if form == 2:
        return f"{acct}:function:{name}"
    if form == 3:
        return f"arn:{part}:lambda:{region}:{acct}:function:{name}"
    return f"arn:{part}:lambda:{region}:{acct}:function:{name}:{rand_qualifier(r)}"


def rand_token(r):
    alphabet = string.ascii_letters + string.digits + "+/="
    return "".join(r.choice(alphabet) for _ in range(r.randint(16, 400)))


def rand_call(r, region):
    """One Lambda operation with random arguments: (method name, kwargs)."""
    fn = rand_function(r, region)
    acct = "123456789012"
    part = PARTITIONS.get(region, "aws")
    ops = [
        ("get_function", lambda: dict(FunctionName=fn, **(
            {"Qualifier": rand_qualifier(r)} if r.random() < 0.5 else {}))),
        ("get_function_configuration", lambda: dict(FunctionName=fn, **(
            {"Qualifier": rand_qualifier(r)} if r.random() < 0.5 else {}))),
        ("list_functions", lambda: dict(**({"Marker": rand_text(r)} if r.random() < 0.8 else {}),
                                        **({"MaxItems": r.randint(1, 10000)} if r.random() < 0.5 else {}),
                                        **({"FunctionVersion": "ALL"} if r.random() < 0.3 else {}))),
        ("list_versions_by_function", lambda: dict(FunctionName=fn, Marker=rand_text(r), MaxItems=r.randint(1, 50))),
        ("list_aliases", lambda: dict(FunctionName=fn, FunctionVersion=rand_qualifier(r), Marker=rand_text(r))),
        ("get_alias", lambda: dict(FunctionName=fn, Name=rand_name(r, 1, 128))),
        ("delete_alias", lambda: dict(FunctionName=fn, Name=rand_name(r, 1, 128))),
        ("delete_function", lambda: dict(FunctionName=fn, Qualifier=rand_qualifier(r))),
        ("publish_version", lambda: dict(FunctionName=fn, Description=rand_text(r, 256),
                                         RevisionId=rand_text(r, 36), CodeSha256=rand_token(r))),
        ("publish_version", lambda: dict(FunctionName=fn)),
        ("update_alias", lambda: dict(FunctionName=fn, Name=rand_name(r, 1, 30), FunctionVersion=str(r.randint(1, 500)),
                                      RoutingConfig={"AdditionalVersionWeights": {str(r.randint(1, 500)): r.random()}},
                                      RevisionId=rand_text(r, 36))),
        ("create_alias", lambda: dict(FunctionName=fn, Name=rand_name(r, 1, 30), FunctionVersion="$LATEST",
                                      Description=rand_text(r))),
        ("update_function_configuration", lambda: dict(
            FunctionName=fn, MemorySize=r.randint(128, 10240), Timeout=r.randint(1, 900),
            Environment={"Variables": {rand_name(r, 1, 10): rand_text(r) for _ in range(r.randint(0, 5))}},
            Layers=[f"arn:{part}:lambda:{region}:{acct}:layer:{rand_name(r, 1, 20)}:{r.randint(1, 99)}"
                    for _ in range(r.randint(0, 5))])),
        ("update_function_code", lambda: dict(FunctionName=fn, ImageUri=f"{acct}.dkr.ecr.{region}.amazonaws.com/{rand_name(r,1,20).lower()}:{rand_name(r,1,20)}",
                                              Publish=r.random() < 0.5, DryRun=r.random() < 0.2)),
        ("update_function_code", lambda: dict(FunctionName=fn, ZipFile=bytes(r.getrandbits(8) for _ in range(r.randint(1, 3000))))),
        ("invoke", lambda: dict(FunctionName=fn, Payload=json.dumps({"k": rand_text(r)}).encode(),
                                InvocationType=r.choice(["RequestResponse", "Event", "DryRun"]),
                                LogType=r.choice(["None", "Tail"]),
                                **({"Qualifier": rand_qualifier(r)} if r.random() < 0.5 else {}))),
        ("invoke", lambda: dict(FunctionName=fn, Payload=bytes(r.getrandbits(8) for _ in range(r.randint(0, 500))))),
        ("get_layer_version_by_arn", lambda: dict(Arn=f"arn:{part}:lambda:{region}:{acct}:layer:{rand_name(r,1,30)}:{r.randint(1,999)}")),
        ("get_layer_version", lambda: dict(LayerName=rand_name(r, 1, 60), VersionNumber=r.randint(1, 9999))),
        ("list_layer_versions", lambda: dict(LayerName=rand_name(r, 1, 60), Marker=rand_text(r), MaxItems=r.randint(1, 50))),
        ("list_tags", lambda: dict(Resource=f"arn:{part}:lambda:{region}:{acct}:function:{rand_name(r)}")),
        ("untag_resource", lambda: dict(Resource=f"arn:{part}:lambda:{region}:{acct}:function:{rand_name(r)}",
                                        TagKeys=[rand_text(r, 20) for _ in range(r.randint(1, 5))])),
        ("tag_resource", lambda: dict(Resource=f"arn:{part}:lambda:{region}:{acct}:function:{rand_name(r)}",
                                      Tags={rand_name(r, 1, 20): rand_text(r) for _ in range(r.randint(1, 5))})),
        ("list_event_source_mappings", lambda: dict(FunctionName=fn, Marker=rand_text(r))),
        ("list_provisioned_concurrency_configs", lambda: dict(FunctionName=fn, Marker=rand_text(r), MaxItems=r.randint(1, 50))),
    ]
    name, make = r.choice(ops)
    return name, make()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--count", type=int, default=800)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    r = random.Random(seed)
    print(f"differential: seed={seed} count={args.count}")

    session = botocore.session.get_session()
    clients = []
    for _ in range(24):
        region = r.choice(REGIONS)
        token = rand_token(r) if r.random() < 0.5 else None
        creds = ("AKIA" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                 "".join(r.choice(string.ascii_letters + string.digits + "+/") for _ in range(40)), token)
        c = session.create_client("lambda", endpoint_url=r.choice(ENDPOINTS), region_name=region,
                                  aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                                  aws_session_token=token)
        c.meta.events.register("before-send.lambda", capture)
        clients.append((c, region, creds))

    cases, kinds = [], {}
    while len(cases) < args.count:
        client, region, creds = r.choice(clients)
        op, kwargs = rand_call(r, region)
        when = _datetime.datetime(2015, 1, 1) + _datetime.timedelta(seconds=r.randrange(20 * 365 * 86400))
        FixedDatetime.fixed = when
        crt_auth = None
        if CRT_SIGV4 is not None:
            use_signer(CRT_SIGV4)
            try:
                getattr(client, op)(**kwargs)
                raise AssertionError(f"{op} was not captured")
            except Captured as c:
                crt_auth = c.request.headers["Authorization"].decode()
        use_signer(PY_SIGV4)
        try:
            getattr(client, op)(**kwargs)
            raise AssertionError(f"{op} was not captured")
        except Captured as c:
            req = c.request
        body = req.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif hasattr(body, "read"):
            body = body.read()
        # Every header botocore signed besides host, x-amz-date and the token: the same
        # header set tether's client sends (Content-Type, X-Amz-Invocation-Type, ...).
        signed = req.headers["Authorization"].decode().split("SignedHeaders=")[1].split(",")[0].split(";")
        extra = []
        for name, value in req.headers.items():
            lname = name.lower()
            if lname in signed and lname not in ("host", "x-amz-date", "x-amz-security-token"):
                extra.append([name, value.decode() if isinstance(value, bytes) else value])
        cases.append({
            "op": op,
            "expect": req.headers["Authorization"].decode(),
            "crt": crt_auth,
            "input": {
                "method": req.method, "url": req.url, "headers": extra,
                "body_b64": base64.b64encode(body).decode(),
                "time": int((when - _datetime.datetime(1970, 1, 1)).total_seconds()),
                "region": region, "service": "lambda",
                "access_key": creds[0], "secret_key": creds[1], "token": creds[2],
            },
        })
        kinds[op] = kinds.get(op, 0) + 1

    stdin = "".join(json.dumps(c["input"]) + "\n" for c in cases)
    out = subprocess.run([args.tool], input=stdin.encode(), capture_output=True, check=False)
    got = out.stdout.decode().splitlines()
    if len(got) != len(cases):
        print(f"differential: tool printed {len(got)} lines for {len(cases)} requests; stderr: {out.stderr.decode()}")
        return 1
    diffs = crt_diffs = crt_checked = 0
    for c, g in zip(cases, got):
        if g != c["expect"]:
            diffs += 1
            if diffs <= 5:
                print(f"DIFF {c['op']} {c['input']['method']} {c['input']['url']}\n  botocore: {c['expect']}\n  tether:   {g}")
        if c["crt"] is not None:
            crt_checked += 1
            if c["crt"] != g:
                crt_diffs += 1
                if crt_diffs <= 5:
                    print(f"CRT DIFF {c['op']} {c['input']['url']}\n  crt:    {c['crt']}\n  tether: {g}")
    stats = {
        "tokens": sum(1 for c in cases if c["input"]["token"]),
        "bodies": sum(1 for c in cases if c["input"]["body_b64"]),
        "arns": sum(1 for c in cases if "arn%3A" in c["input"]["url"]),
        "latest": sum(1 for c in cases if "%24LATEST" in c["input"]["url"]),
        "queries": sum(1 for c in cases if "?" in c["input"]["url"]),
        "ports": sum(1 for c in cases if ":9001" in c["input"]["url"] or ":8443" in c["input"]["url"] or ":4566" in c["input"]["url"]),
    }
    print(f"differential: {len(cases)} requests, {diffs} differences from botocore SigV4Auth; "
          f"{crt_checked} also signed by botocore's CRT signer, {crt_diffs} differences")
    print(f"differential: coverage {json.dumps(stats)}")
    print(f"differential: operations {json.dumps(kinds, sort_keys=True)}")
    return 1 if diffs or crt_diffs else 0


if __name__ == "__main__":
    sys.exit(main())
