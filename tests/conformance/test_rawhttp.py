#!/usr/bin/python3
"""Bad input over raw HTTP (unsigned, emulator started with --auth none): malformed and
mistyped JSON, unknown fields, oversized bodies, bad percent-encoding, unknown paths,
pipelining and half-closed connections. Errors must be AWS-shaped (x-amzn-ErrorType and a
JSON body with the model's message key), and the emulator must stay up."""

import http.client
import json
import socket
import threading
import time
import unittest

from lambdatest import ROLE, EmulatorTestCase, make_zip

CREATE_PATH = "/2015-03-31/functions"
PARAM_OR_CONTENT = ("InvalidParameterValueException", "InvalidRequestContentException", "ValidationException")
def read_response(f):
    """Read one HTTP/1.1 response from a binary file object: (status, headers, body)."""
    line = f.readline()
    if not line:
        raise EOFError("connection closed before a response")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    else:
        body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


def create_body(name, **extra):
    import base64

    doc = {
        "FunctionName": name,
        "Runtime": "python3.9",
        "Role": ROLE,
        "Handler": "index.handler",
        "Code": {"ZipFile": base64.b64encode(make_zip(name)).decode()},
    }
    doc.update(extra)
    return json.dumps(doc).encode()


class RawHttp(EmulatorTestCase):
    EXTRA_ARGS = ("--auth", "none")

    def assertStillServing(self):
        status, hdrs, _ = self.emu.request("GET", "/2015-03-31/functions/")
        self.assertEqual(status, 200)
        self.assertTrue(self.emu.alive())

    def test_error_shapes_and_request_id(self):
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/missing-fn")
        self.assertEqual(status, 404)
        self.assertEqual(self.assertAwsError(status, hdrs, body), "ResourceNotFoundException")
        status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/")
        self.assertEqual(status, 200)
        self.assertIn("x-amzn-requestid", hdrs)
        status, hdrs, body = self.emu.request(
            "GET", "/2015-03-31/functions/a%3A1?Qualifier=2"
        )
        self.assertEqual(status, 400)
        self.assertEqual(self.assertAwsError(status, hdrs, body), "InvalidParameterValueException")

    def test_malformed_json(self):
        for body in (b"{", b"{\"FunctionName\": ", b"not json at all", b"\xff\xfe\x00", b"[1, 2]", b"\"str\"", b"null"):
            with self.subTest(body=body):
                status, hdrs, rb = self.emu.request(
                    "POST", CREATE_PATH, body=body, headers={"Content-Type": "application/json"}
                )
                self.assertEqual(status, 400, rb)
                self.assertAwsError(status, hdrs, rb, PARAM_OR_CONTENT)
        self.assertStillServing()

    def test_wrong_types_and_missing_fields(self):
        cases = [
            ("FunctionName number", {"FunctionName": 5}),
            ("MemorySize string", {"MemorySize": "big"}),
            ("Timeout object", {"Timeout": {"x": 1}}),
            ("Code string", {"Code": "zip"}),
            ("Layers string", {"Layers": "arn"}),
            ("Environment list", {"Environment": ["A=1"]}),
            ("ZipFile not base64", {"Code": {"ZipFile": "***not base64***"}}),
        ]
        for what, extra in cases:
            with self.subTest(what):
                status, hdrs, rb = self.emu.request(
                    "POST", CREATE_PATH, body=create_body("typed-fn", **extra),
                    headers={"Content-Type": "application/json"},
                )
                self.assertEqual(status, 400, rb)
                self.assertAwsError(status, hdrs, rb, PARAM_OR_CONTENT)
        for field in ("Role", "Code", "FunctionName"):
            with self.subTest(missing=field):
                doc = json.loads(create_body("missing-fn"))
                del doc[field]
                status, hdrs, rb = self.emu.request("POST", CREATE_PATH, body=json.dumps(doc))
                self.assertEqual(status, 400, rb)
                self.assertAwsError(status, hdrs, rb, PARAM_OR_CONTENT)
        status, _, _ = self.emu.request("GET", "/2015-03-31/functions/typed-fn")
        self.assertEqual(status, 404, "a rejected CreateFunction created the function")
        self.assertStillServing()

    def test_unknown_fields_are_ignored(self):
        body = create_body("unknown-fields", Bogus={"x": [1, 2]}, AnotherOne=None, Z=1.5)
        status, hdrs, rb = self.emu.request("POST", CREATE_PATH, body=body, headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, rb)
        doc = json.loads(rb)
        self.assertEqual(doc["FunctionName"], "unknown-fields")
        self.assertNotIn("Bogus", doc)

    def test_body_over_six_megabytes(self):
        status, _, rb = self.emu.request("POST", CREATE_PATH, body=create_body("big-target"))
        self.assertEqual(status, 201, rb)
        size = 6 * 1024 * 1024 + 512 * 1024
        head = (
            "POST /2015-03-31/functions/big-target/invocations HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % size
        ).encode()
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        answered = None
        try:
            sock.sendall(head)
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    n = min(len(chunk), size - sent)
                    sock.sendall(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early and closed: allowed
            try:
                f = sock.makefile("rb")
                answered = read_response(f)
            except (EOFError, ConnectionResetError):
                answered = None  # a clean close without an answer: allowed
            except socket.timeout:
                self.fail("the emulator neither answered nor closed an oversized request within 10 s")
        finally:
            sock.close()
        if answered is not None:
            status, hdrs, body = answered
            self.assertEqual(status, 413, body[:200])
            self.assertAwsError(status, hdrs, body)
        self.assertStillServing()

    def test_bad_percent_encoding(self):
        for path in (
            "/2015-03-31/functions/%ZZbad",
            "/2015-03-31/functions/bad%",
            "/2015-03-31/functions/bad%4",
            "/2015-03-31/functions/a%00b",
            "/2015-03-31/functions/%C3%28/configuration",
            "/2015-03-31/functions/x?Qualifier=%G1",
        ):
            with self.subTest(path=path):
                status, hdrs, body = self.emu.request("GET", path)
                self.assertIn(status, (400, 404), body[:200])
                self.assertAwsError(status, hdrs, body)
        self.assertStillServing()

    def test_unknown_paths_and_methods(self):
        for method, path in (
            ("GET", "/"),
            ("GET", "/nope"),
            ("GET", "/2015-03-31/"),
            ("GET", "/2015-03-31/functions/a/b/c/d"),
            ("PATCH", "/2015-03-31/functions/"),
            ("DELETE", "/2015-03-31/functions/"),
            ("GET", "/2099-01-01/functions/"),
        ):
            with self.subTest(method=method, path=path):
                status, hdrs, body = self.emu.request(method, path)
                self.assertIn(status, (400, 404, 405), body[:200])
                self.assertAwsError(status, hdrs, body)
        self.assertStillServing()

    def test_pipelined_requests_answered_in_order(self):
        status, _, rb = self.emu.request("POST", CREATE_PATH, body=create_body("pipe-fn"))
        self.assertEqual(status, 201, rb)
        reqs = (
            b"GET /2015-03-31/functions/pipe-fn/configuration HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /2015-03-31/functions/no-such-pipe HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /2015-03-31/functions/pipe-fn/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        time.sleep(0.1)  # past the default create window, so Invoke is allowed
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        try:
            sock.sendall(reqs)
            f = sock.makefile("rb")
            s1, _, b1 = read_response(f)
            s2, h2, b2 = read_response(f)
            s3, h3, b3 = read_response(f)
            s4, _, b4 = read_response(f)
        finally:
            sock.close()
        self.assertEqual(s1, 200, b1)
        self.assertEqual(json.loads(b1)["FunctionName"], "pipe-fn")
        self.assertEqual(s2, 404, b2)
        self.assertAwsError(s2, h2, b2, ("ResourceNotFoundException",))
        self.assertEqual(s3, 200, b3)
        self.assertEqual(h3.get("x-amz-executed-version"), "$LATEST")
        self.assertEqual(s4, 200, b4)
        self.assertIn("Functions", json.loads(b4))

    def test_half_closed_connection_is_answered(self):
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        try:
            sock.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            status, hdrs, body = read_response(sock.makefile("rb"))
        finally:
            sock.close()
        self.assertEqual(status, 200, body)
        self.assertIn("Functions", json.loads(body))
        self.assertStillServing()

    def raw(self, data, half_close=False):
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            return read_response(sock.makefile("rb"))
        finally:
            sock.close()

    def test_chunked_request_body(self):
        body = create_body("chunked-fn")
        wire = b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        for part in (body[:100], body[100:1000], body[1000:]):
            if part:
                wire += b"%x\r\n" % len(part) + part + b"\r\n"
        wire += b"0\r\n\r\n"
        status, _, rb = self.raw(wire)
        self.assertEqual(status, 201, rb)
        self.assertEqual(json.loads(rb)["FunctionName"], "chunked-fn")

    def test_expect_continue(self):
        body = create_body("expect-fn")
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        try:
            sock.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            f = sock.makefile("rb")
            status, _, _ = read_response(f)  # a client waits for this before sending the body
            self.assertEqual(status, 100)
            sock.sendall(body)
            status, _, rb = read_response(f)
        finally:
            sock.close()
        self.assertEqual(status, 201, rb)

    def test_oversized_headers_and_garbage(self):
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(100))
        cases = [
            ("100 header fields", b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", (431,)),
            ("20 KB path", b"GET /2015-03-31/functions/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414, 431)),
            ("20 KB header", b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
             (431,)),
            ("not HTTP", b"GARBAGE\r\n\r\n", (400,)),
            ("bad Content-Length", b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
             (400,)),
        ]
        for what, wire, statuses in cases:
            with self.subTest(what):
                status, hdrs, body = self.raw(wire)
                self.assertIn(status, statuses, body[:200])
                self.assertAwsError(status, hdrs, body)
        # A body shorter than its Content-Length, then EOF: closed, nothing created.
        with self.assertRaises((EOFError, ConnectionResetError)):
            self.raw(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}", half_close=True)
        self.assertStillServing()

    def test_http_1_0_and_keep_alive(self):
        status, _, body = self.raw(b"GET /2015-03-31/functions/ HTTP/1.0\r\n\r\n")
        self.assertEqual(status, 200, body)
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        try:
            for path in ("/2015-03-31/functions/", "/2015-03-31/functions/nope", "/nope", "/2015-03-31/functions/"):
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, 200 if path.endswith("functions/") else 404)
        finally:
            conn.close()

    def test_concurrent_connections(self):
        status, _, rb = self.emu.request("POST", CREATE_PATH, body=create_body("conc-fn"))
        self.assertEqual(status, 201, rb)
        before = self.emu.stats()["operations"].get("GetFunction", 0)
        failures = []

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
            try:
                for _ in range(25):
                    conn.request("GET", "/2015-03-31/functions/conc-fn")
                    resp = conn.getresponse()
                    if json.loads(resp.read()).get("Configuration", {}).get("FunctionName") != "conc-fn":
                        failures.append(resp.status)
            except Exception as e:  # collected and asserted below
                failures.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(failures, [])
        self.assertEqual(self.emu.stats()["operations"]["GetFunction"] - before, 200)

    def test_bad_marker(self):
        for query in ("Marker=garbage", "Marker=%ZZ", "MaxItems=abc", "MaxItems=0"):
            with self.subTest(query=query):
                status, hdrs, body = self.emu.request("GET", "/2015-03-31/functions/?" + query)
                self.assertEqual(status, 400, body[:200])
                self.assertAwsError(status, hdrs, body, PARAM_OR_CONTENT)

    def test_hostile_bodies_never_fail_the_server(self):
        # A bounded, deterministic barrage of odd JSON at every route with a body: each is
        # answered below 500, AWS-shaped, and the emulator (ASan build too) stays up.
        status, _, rb = self.emu.request("POST", CREATE_PATH, body=create_body("hostile"))
        self.assertEqual(status, 201, rb)
        time.sleep(0.1)
        self.emu.request("POST", "/2015-03-31/functions/hostile/versions", body=b"{}")
        self.emu.request("POST", "/2015-03-31/functions/hostile/aliases", body=b'{"Name":"a","FunctionVersion":"1"}')
        bodies = [
            b'{"FunctionName": "\\u0000abc"}', b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"MemorySize": 1e400}', b'{"MemorySize": NaN}', b'{"MemorySize": -9223372036854775809}',
            b'{"MemorySize": 9223372036854775808}', b'{"Timeout": 3.5}', b'{"FunctionName": "a", "FunctionName": "b"}',
            b'{"Description": "\xff\xfe"}', b'{"Environment": {"Variables": {"AA": 5}}}', b'{"Tags": {"a": null}}',
            b'{"Layers": [null]}', b'{"RoutingConfig": {"AdditionalVersionWeights": {"1": "x"}}}',
            b'{"RoutingConfig": {"AdditionalVersionWeights": {"1": 1e308}}}', b'{"RoutingConfig": 5}',
            b'{"Name": "", "FunctionVersion": ""}', b'{"Name": "x", "FunctionVersion": "99999999999999999999999"}',
            b'{"Content": {"ZipFile": "UEsDBA=="}}', b'{"Content": 5}', b'{"ZipFile": "===="}', b'{"ZipFile": ""}',
            b'{"ImageUri": ""}', b'{"RevisionId": 5}', b'{"CodeSha256": null}', b'{"Publish": "yes"}',
            b'{"ProvisionedConcurrentExecutions": 1e9}', b'{"BatchSize": -1}', b'{"EventSourceArn": ""}',
            b'{"Tags": {"' + b"k" * 200 + b'": "v"}}', b"\x00\x01\x02", b"", b"{}", b"null", b"1", b'"x"', b"true",
        ]
        routes = [
            ("POST", CREATE_PATH), ("PUT", "/2015-03-31/functions/hostile/configuration"),
            ("PUT", "/2015-03-31/functions/hostile/code"), ("POST", "/2015-03-31/functions/hostile/versions"),
            ("POST", "/2015-03-31/functions/hostile/aliases"), ("PUT", "/2015-03-31/functions/hostile/aliases/a"),
            ("POST", "/2018-10-31/layers/hostile-layer/versions"),
            ("POST", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahostile"),
            ("POST", "/2015-03-31/event-source-mappings/"),
            ("PUT", "/2019-09-30/functions/hostile/provisioned-concurrency?Qualifier=1"),
            ("POST", "/2015-03-31/functions/hostile/invocations"),
        ]
        for method, path in routes:
            for body in bodies:
                status, hdrs, rb = self.emu.request(method, path, body=body)
                self.assertLess(status, 500, (method, path, body[:60], rb[:200]))
                if status >= 400:
                    self.assertIn("x-amzn-errortype", hdrs, (method, path, body[:60]))
        self.assertStillServing()

    def test_invoke_payload_must_be_json(self):
        status, _, rb = self.emu.request("POST", CREATE_PATH, body=create_body("inv-json"))
        self.assertEqual(status, 201, rb)
        time.sleep(0.1)
        status, hdrs, body = self.emu.request(
            "POST", "/2015-03-31/functions/inv-json/invocations", body=b"this is not json"
        )
        self.assertEqual(status, 400, body)
        self.assertAwsError(status, hdrs, body, ("InvalidRequestContentException",))
        status, hdrs, body = self.emu.request("POST", "/2015-03-31/functions/inv-json/invocations", body=b"")
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
