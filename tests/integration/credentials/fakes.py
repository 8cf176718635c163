"""Fake credential services for test_credentials.py: STS, the ECS container endpoint and EC2
instance metadata. Each runs as its own process bound to 127.0.0.1 on a port the kernel
picks, prints {"port": N} as its first line, and serves until it is terminated. The test
reads what the fake saw (hits, failed checks, issued credentials) from GET /__state.

  fakes.py sts  --region R [--known AKID:SECRET[:TOKEN]]... [--lifetime S] [--fail-after N]
                [--deny] [--token-file PATH]
  fakes.py ecs  [--auth VALUE | --auth-file PATH] [--lifetime S] [--fail-first N]
                [--slow-after N [--slow S]]
  fakes.py imds [--token-status N | --token-hang S] [--lifetime S] [--role NAME] [--no-token-field]

STS checks every AssumeRole the way AWS would: the Authorization header is recomputed with
botocore's SigV4Auth from the credentials the fake knows (given with --known, or issued
earlier by itself, so chained roles are checked too), and the body is compared byte for
byte with what botocore's query serializer makes of the same parameters.
AssumeRoleWithWebIdentity must be unsigned and carry the token file's current content.
A request that fails a check gets a 400 "FakeCheckFailed" and the failure is recorded.
"""
import argparse
import datetime
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session

LOCK = threading.Lock()
STATE = {"hits": 0, "errors": [], "issued": [], "requests": [], "tokens_seen": []}
KNOWN = {}  # access key id -> (secret, token)


def iso(ts):
    return datetime.datetime.utcfromtimestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(prefix, lifetime):
    with LOCK:
        n = len(STATE["issued"]) + 1
    cred = {
        "akid": "%s%012d" % (prefix, n),
        "secret": secrets.token_urlsafe(30),
        "token": "FwoG" + secrets.token_urlsafe(240),
        "expiration": iso(time.time() + lifetime),
        "issued_at": time.time(),
    }
    with LOCK:
        STATE["issued"].append(cred)
        KNOWN[cred["akid"]] = (cred["secret"], cred["token"])
    return cred


def fail_check(handler, message):
    with LOCK:
        STATE["errors"].append(message)
    body = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>FakeCheckFailed</Code>"
        "<Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>"
        % message.replace("&", "&amp;").replace("<", "&lt;")
    ).encode()
    handler.reply(400, body, "text/xml")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def state(self):
        if self.path == "/__state":
            with LOCK:
                data = json.dumps(STATE).encode()
            self.reply(200, data)
            return True
        return False


# STS


class STS(Handler):
    def do_GET(self):
        if not self.state():
            self.reply(404, b"{}")

    def do_POST(self):
        args = self.server.args
        raw = self.body()
        with LOCK:
            STATE["hits"] += 1
            hits = STATE["hits"]
        params = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=True)
        params = {k: v[0] for k, v in params.items()}
        action = params.get("Action")
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded; charset=utf-8":
            return fail_check(self, "content-type is %r" % self.headers.get("Content-Type"))
        if self.path != "/":
            return fail_check(self, "path is %r" % self.path)
        if self.headers.get("Host") != "127.0.0.1:%d" % self.server.server_port:
            return fail_check(self, "host header is %r" % self.headers.get("Host"))
        problem = self.check_body(raw, params)
        if problem:
            return fail_check(self, problem)
        if action == "AssumeRole":
            problem = self.check_signature(raw)
        elif action == "AssumeRoleWithWebIdentity":
            problem = self.check_web_identity(params)
        else:
            problem = "unexpected action %r" % action
        if problem:
            return fail_check(self, problem)
        with LOCK:
            STATE["requests"].append(
                {
                    k: params.get(k)
                    for k in ("Action", "RoleArn", "RoleSessionName", "DurationSeconds",
                              "ExternalId")
                }
            )
            if action == "AssumeRole":
                STATE["requests"][-1]["signer"] = self.signer
        if args.deny:
            body = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                b"<Message>not allowed &amp; never will be</Message></Error>"
                b"<RequestId>req-denied</RequestId></ErrorResponse>"
            )
            return self.reply(403, body, "text/xml")
        if args.fail_after is not None and hits > args.fail_after:
            body = (
                b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
                b"<Message>fake outage</Message></Error><RequestId>req-500</RequestId>"
                b"</ErrorResponse>"
            )
            return self.reply(500, body, "text/xml")
        cred = issue("ASIAFAKESTS", args.lifetime)
        body = (
            '<{a}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
            "  <{a}Result>\n"
            "    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
            "<AssumedRoleId>AROAFAKE:s</AssumedRoleId></AssumedRoleUser>\n"
            "    <Credentials>\n"
            "      <AccessKeyId>{akid}</AccessKeyId>\n"
            "      <SecretAccessKey>{secret}</SecretAccessKey>\n"
            "      <SessionToken>{token}</SessionToken>\n"
            "      <Expiration>{exp}</Expiration>\n"
            "    </Credentials>\n"
            "  </{a}Result>\n"
            "  <ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata>\n"
            "</{a}Response>\n"
        ).format(a=action, akid=cred["akid"], secret=cred["secret"], token=cred["token"],
                 exp=cred["expiration"], n=hits)
        self.reply(200, body.encode(), "text/xml")

    def check_body(self, raw, params):
        """The exact bytes botocore's query serializer makes of the same parameters."""
        model = self.server.sts_model.operation_model(params.get("Action", ""))
        shape_args = {k: v for k, v in params.items() if k not in ("Action", "Version")}
        if "DurationSeconds" in shape_args:
            shape_args["DurationSeconds"] = int(shape_args["DurationSeconds"])
        serializer = botocore.serialize.create_serializer("query")
        req = serializer.serialize_to_request(shape_args, model)
        want = botocore.awsrequest.AWSRequest(
            method="POST", url="http://127.0.0.1/", data=req["body"]
        ).prepare().body
        if isinstance(want, str):
            want = want.encode()
        if raw != want:
            return "body %r differs from botocore's %r" % (raw[:200], want[:200])
        return None

    def check_signature(self, raw):
        auth = self.headers.get("Authorization", "")
        self.signer = None
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "AssumeRole is not signed"
        parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, term = parts["Credential"].split("/")
        if service != "sts" or term != "aws4_request":
            return "bad scope %r" % parts["Credential"]
        if region != self.server.args.region:
            return "signed for region %r, expected %r" % (region, self.server.args.region)
        with LOCK:
            known = KNOWN.get(akid)
        if known is None:
            return "signed with unknown access key %r" % akid
        secret, token = known
        if self.headers.get("X-Amz-Security-Token") != token:
            return "X-Amz-Security-Token does not belong to %s" % akid
        amzdate = self.headers.get("X-Amz-Date", "")
        if amzdate[:8] != date:
            return "X-Amz-Date %r does not match the scope date %r" % (amzdate, date)
        skew = abs(
            datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").timestamp()
            - datetime.datetime.utcnow().timestamp()
        )
        if skew > 300:
            return "X-Amz-Date is %d s off" % skew
        # What botocore would have signed: the same body, content type, date and token,
        # and the host taken from the URL.
        headers = {"Content-Type": self.headers["Content-Type"], "X-Amz-Date": amzdate}
        if token:
            headers["X-Amz-Security-Token"] = token
        url = "http://127.0.0.1:%d/" % self.server.server_port
        req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=raw, headers=headers)
        req.context["timestamp"] = amzdate
        signer = botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(akid, secret, token), "sts", region
        )
        canonical = signer.canonical_request(req)
        sts = signer.string_to_sign(req, canonical)
        want = signer.signature(sts, req)
        want_signed = signer.signed_headers(signer.headers_to_sign(req))
        if parts["SignedHeaders"] != want_signed:
            return "SignedHeaders %r, botocore signs %r" % (parts["SignedHeaders"], want_signed)
        if parts["Signature"] != want:
            return "signature mismatch for %s" % akid
        self.signer = akid
        return None

    def check_web_identity(self, params):
        if "Authorization" in self.headers or "X-Amz-Date" in self.headers:
            return "AssumeRoleWithWebIdentity must be unsigned"
        token = params.get("WebIdentityToken")
        with LOCK:
            STATE["tokens_seen"].append(token)
        if self.server.args.token_file:
            with open(self.server.args.token_file) as f:
                want = f.read()
            if token != want:
                return "WebIdentityToken is not the token file's current content"
        return None


# ECS


class ECS(Handler):
    def do_GET(self):
        if self.state():
            return
        args = self.server.args
        with LOCK:
            STATE["hits"] += 1
            hits = STATE["hits"]
            STATE["requests"].append({"path": self.path, "accept": self.headers.get("Accept")})
        want = args.auth
        if args.auth_file:
            with open(args.auth_file) as f:
                want = f.read()
        got = self.headers.get("Authorization")
        if got != want:
            with LOCK:
                STATE["errors"].append("Authorization %r, expected %r" % (got, want))
            return self.reply(401, b'{"message":"bad token"}')
        if self.headers.get("Accept") != "application/json":
            with LOCK:
                STATE["errors"].append("Accept is %r" % self.headers.get("Accept"))
        if hits <= args.fail_first:
            return self.reply(500, b'{"message":"agent not ready"}')
        if args.slow_after is not None and hits > args.slow_after:
            time.sleep(args.slow)
        cred = issue("ASIAFAKEECS", args.lifetime)
        body = {
            "AccessKeyId": cred["akid"],
            "SecretAccessKey": cred["secret"],
            "Token": cred["token"],
            "Expiration": cred["expiration"],
            "RoleArn": "arn:aws:iam::123456789012:role/task",
        }
        self.reply(200, json.dumps(body).encode())


# IMDS


class IMDS(Handler):
    def do_PUT(self):
        args = self.server.args
        self.body()
        with LOCK:
            STATE["hits"] += 1
            STATE["requests"].append({"method": "PUT", "path": self.path,
                                      "ttl": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")})
        if self.path != "/latest/api/token":
            return self.reply(404, b"")
        if self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") != "21600":
            with LOCK:
                STATE["errors"].append("token TTL header missing")
        if args.token_hang:
            time.sleep(args.token_hang)
            self.close_connection = True
            return
        if args.token_status != 200:
            return self.reply(args.token_status, b"")
        token = "AQAEA" + secrets.token_urlsafe(40)
        with LOCK:
            STATE["imds_token"] = token
        self.reply(200, token.encode(), "text/plain")

    def do_GET(self):
        if self.state():
            return
        args = self.server.args
        with LOCK:
            STATE["hits"] += 1
            STATE["requests"].append({"method": "GET", "path": self.path,
                                      "token": self.headers.get("X-aws-ec2-metadata-token")})
            want_token = STATE.get("imds_token")
        got = self.headers.get("X-aws-ec2-metadata-token")
        if got != want_token:
            with LOCK:
                STATE["errors"].append("token header %r, expected %r" % (got, want_token))
            return self.reply(401, b"")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, (args.role + "\n").encode(), "text/plain")
        if self.path != base + args.role:
            return self.reply(404, b"")
        cred = issue("ASIAFAKEIMDS", args.lifetime)
        body = {
            "Code": "Success",
            "LastUpdated": iso(time.time()),
            "Type": "AWS-HMAC",
            "AccessKeyId": cred["akid"],
            "SecretAccessKey": cred["secret"],
            "Token": cred["token"],
            "Expiration": cred["expiration"],
        }
        if args.no_token_field:
            del body["Token"]
        self.reply(200, json.dumps(body).encode(), "text/plain")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="kind", required=True)
    s = sub.add_parser("sts")
    s.add_argument("--region", required=True)
    s.add_argument("--known", action="append", default=[])
    s.add_argument("--lifetime", type=float, default=3600)
    s.add_argument("--fail-after", type=int)
    s.add_argument("--deny", action="store_true")
    s.add_argument("--token-file")
    e = sub.add_parser("ecs")
    e.add_argument("--auth")
    e.add_argument("--auth-file")
    e.add_argument("--lifetime", type=float, default=3600)
    e.add_argument("--fail-first", type=int, default=0)
    e.add_argument("--slow-after", type=int)
    e.add_argument("--slow", type=float, default=5)
    i = sub.add_parser("imds")
    i.add_argument("--token-status", type=int, default=200)
    i.add_argument("--token-hang", type=float, default=0)
    i.add_argument("--lifetime", type=float, default=3600)
    i.add_argument("--role", default="tether-node")
    i.add_argument("--no-token-field", action="store_true")
    args = ap.parse_args()
    for k in getattr(args, "known", []):
        akid, secret, *token = k.split(":", 2)
        KNOWN[akid] = (secret, token[0] if token else None)
    handler = {"sts": STS, "ecs": ECS, "imds": IMDS}[args.kind]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.args = args
    if args.kind == "sts":
        server.sts_model = botocore.session.get_session().get_service_model("sts")
    print(json.dumps({"port": server.server_port}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
