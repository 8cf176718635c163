"""Local servers for tests/unit/test_http.c (stdlib only).

    http_server.py origin            plain HTTP origin
    http_server.py tls CERT KEY      the same origin over TLS
    http_server.py proxy             a forward proxy: answers absolute-form requests itself
                                     (so the test can see they came through it) and tunnels
                                     CONNECT to the target

Each binds 127.0.0.1 on a free port and prints that port on stdout. The test stops it by PID.

Origin paths:
    /echo?status=N&sleep=MS  what arrived, as JSON: method, path, headers (in order, as
                             sent), body as hex, conn, the number of the TCP connection, and
                             t, the arrival time on CLOCK_MONOTONIC
    /stall                   answers after 60 s
    /big?n=N&chunked=1       N bytes, with Content-Length or chunked
    /headers?interim=1&many=N  fixed response headers and N more; with interim=1 a
                             100 Continue carrying X-Interim goes first
"""

import json
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
counters = {"conns": 0, "connects": 0}


def bump(name):
    with lock:
        counters[name] += 1
        return counters[name]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    tls = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's thread, not in accept().
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.RequestHandlerClass(request, client_address, self)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.conn = bump("conns")

    def reply(self, status, body, headers=(), chunked=False):
        if status in (204, 304):
            body = b""  # these never carry a body; sending one would desync keep-alive
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if chunked:
            for i in range(0, len(body), 4096):
                part = body[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def handle_any(self):
        body = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/echo":
            if "sleep" in q:
                time.sleep(int(q["sleep"]) / 1000.0)
            doc = {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_hex": body.hex(),
                "conn": self.conn,
                "t": time.monotonic(),
            }
            self.reply(int(q.get("status", "200")), json.dumps(doc).encode(),
                       [("Content-Type", "application/json")])
        elif url.path == "/stall":
            time.sleep(60)
            self.reply(200, b"late")
        elif url.path == "/big":
            self.reply(200, b"x" * int(q["n"]), chunked=q.get("chunked") == "1")
        elif url.path == "/headers":
            if q.get("interim") == "1":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
            extra = [("X-Extra-%d" % i, str(i)) for i in range(int(q.get("many", "0")))]
            self.reply(200, b"ok", [("X-Mixed-Case", "Hello World"),
                                    ("X-Padded", "   padded value   "),
                                    ("X-Dup", "first"), ("X-Dup", "second"),
                                    ("x-amzn-RequestId", "req-1234")] + extra)
        else:
            self.reply(404, b"no such path")

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = handle_any


class ProxyHandler(Handler):
    def handle_any(self):
        body = self.read_body()
        if self.path == "/count":
            doc = dict(counters)
        else:
            doc = {"proxied": True, "method": self.command, "target": self.path,
                   "body_hex": body.hex(),
                   "headers": [[k, v] for k, v in self.headers.items()]}
        self.reply(200, json.dumps(doc).encode(), [("Content-Type", "application/json")])

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = handle_any

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            self.reply(502, b"")
            return
        bump("connects")
        self.send_response_only(200, "Connection established")
        self.send_header("X-Proxy", "tunnel")
        self.end_headers()
        self.wfile.flush()
        upstream.settimeout(None)
        socks = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(socks, [], [], 30)
                if not readable:
                    break
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True


def main():
    mode = sys.argv[1]
    handler = ProxyHandler if mode == "proxy" else Handler
    server = Server(("127.0.0.1", 0), handler)
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        server.tls = ctx
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
