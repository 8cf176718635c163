#!/usr/bin/python3
"""A git smart-HTTP server for tests, on loopback only: every request under / runs
`git http-backend` as a CGI program, so fetches, clones and pushes (receive-pack, when the
repository has http.receivepack=true) behave as they do against a real git host.

    githttp.py --root DIR [--listen 127.0.0.1:0] [--port-file FILE] [--token-file FILE]
               [--tls-cert PEM --tls-key PEM] [--log FILE]

--root           the directory holding the repositories (GIT_PROJECT_ROOT); every one is
                 served (GIT_HTTP_EXPORT_ALL).
--listen         HOST:PORT to bind; the host must be a loopback address. Port 0 picks one.
--port-file      written (atomically) with the bound port once the server listens.
--token-file     require HTTP Basic authentication whose password is the file's content
                 (surrounding whitespace stripped); anything else gets 401 with
                 WWW-Authenticate: Basic realm="git". The user name is passed on as
                 REMOTE_USER.
--tls-cert/--tls-key  serve HTTPS with this certificate chain and key.
--log            one line per request: method, path, status, bytes, user. Never the
                 Authorization header or the password.

Request bodies are handed to git http-backend as they came: a gzip body keeps its
Content-Encoding (HTTP_CONTENT_ENCODING), which git inflates itself; a chunked body is
de-chunked first, since a CGI program reads CONTENT_LENGTH bytes. Stops on SIGTERM or
SIGINT.
"""
import argparse
import base64
import hmac
import http.server
import ipaddress
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

# The largest request body accepted (a push of a test repository is far smaller).
BODY_MAX = 64 * 1024 * 1024
# How long one connection may sit idle or one git http-backend may run.
IO_TIMEOUT = 30
CGI_TIMEOUT = 120


class Config:
    root = None
    token = None
    tls = None
    log = None
    log_lock = threading.Lock()


def log_line(text):
    if Config.log is None:
        return
    with Config.log_lock:
        Config.log.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), text))
        Config.log.flush()


class BadRequest(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tether-githttp/1"
    timeout = IO_TIMEOUT

    def setup(self):
        # The TLS handshake runs here, in the connection's own thread, so a client that
        # stalls or refuses the certificate never holds up the accept loop.
        if Config.tls is not None:
            self.request.settimeout(IO_TIMEOUT)
            try:
                self.request = Config.tls.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log_line("- tls-handshake-failed %s" % type(e).__name__)
                self.tls_failed = True
                self.request = None
                return
        self.tls_failed = False
        super().setup()

    def handle(self):
        if getattr(self, "tls_failed", False):
            return
        super().handle()

    def finish(self):
        if getattr(self, "tls_failed", False):
            return
        try:
            super().finish()
        except (OSError, ssl.SSLError):
            pass
        if Config.tls is not None:
            # The TLS socket took the connection over from the one the server will close.
            try:
                self.request.close()
            except OSError:
                pass

    def log_message(self, fmt, *args):
        # The per-request line is written by respond(); BaseHTTPRequestHandler's own
        # stderr lines would only duplicate it.
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def user(self):
        """The authenticated user, "" when no token is required; None when refused."""
        if Config.token is None:
            return ""
        value = self.headers.get("Authorization", "")
        scheme, _, cred = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        if not sep:
            return None
        if not hmac.compare_digest(password.encode("utf-8"), Config.token):
            return None
        return name

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise BadRequest("truncated chunked body")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("bad chunk size")
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > BODY_MAX:
                    raise BadRequest("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise BadRequest("bad Content-Length")
        if n < 0 or n > BODY_MAX:
            raise BadRequest("body too large")
        return self.rfile.read(n)

    def respond(self, status, headers, body, user):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log_line("%s %s %d %d user=%s" % (self.command, self.path.split("?")[0], status,
                                          len(body), user if user else "-"))

    def serve(self):
        try:
            body = self.read_body()
        except BadRequest as e:
            self.close_connection = True
            self.respond(400, [("Content-Type", "text/plain")], (str(e) + "\n").encode(), None)
            return
        user = self.user()
        if user is None:
            self.respond(401, [("WWW-Authenticate", 'Basic realm="git"'),
                               ("Content-Type", "text/plain")],
                         b"authentication required\n", None)
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": Config.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": self.server_version,
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            # No system or user git configuration: only the repository's own.
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": Config.root,
        }
        if user:
            env["REMOTE_USER"] = user
            env["AUTH_TYPE"] = "Basic"
        for k, v in self.headers.items():
            name = k.upper().replace("-", "_")
            if name in ("AUTHORIZATION", "CONTENT_TYPE", "CONTENT_LENGTH", "PROXY_AUTHORIZATION"):
                continue
            env["HTTP_" + name] = v
        # A de-chunked body is a plain body now.
        env.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            p = subprocess.run(["git", "http-backend"], input=body, env=env,
                               capture_output=True, timeout=CGI_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.close_connection = True
            self.respond(504, [("Content-Type", "text/plain")], b"git http-backend timed out\n",
                         user)
            return
        out = p.stdout
        sep = out.find(b"\r\n\r\n")
        seplen = 4
        lf = out.find(b"\n\n")
        if lf != -1 and (sep == -1 or lf < sep):
            sep, seplen = lf, 2
        if sep == -1:
            msg = p.stderr.decode("utf-8", "replace").strip() or "no CGI headers"
            self.respond(502, [("Content-Type", "text/plain")], (msg + "\n").encode(), user)
            return
        status, headers = 200, []
        for line in out[:sep].decode("latin-1").splitlines():
            if not line.strip():
                continue
            k, _, v = line.partition(":")
            v = v.strip()
            if k.lower() == "status":
                try:
                    status = int(v.split()[0])
                except (ValueError, IndexError):
                    status = 502
            elif k.lower() != "content-length":
                headers.append((k, v))
        self.respond(status, headers, out[sep + seplen:], user)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--port-file")
    ap.add_argument("--token-file")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--log")
    args = ap.parse_args()

    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            ap.error("--listen: %s is not a loopback address" % host)
        port = int(port)
    except ValueError:
        ap.error("--listen: want HOST:PORT with a loopback IP address, not %r" % args.listen)
    if not os.path.isdir(args.root):
        ap.error("--root: %s is not a directory" % args.root)
    Config.root = os.path.abspath(args.root)
    if args.token_file:
        with open(args.token_file, "rb") as f:
            Config.token = f.read().strip()
        if not Config.token:
            ap.error("--token-file: %s is empty" % args.token_file)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        Config.tls = ctx
    if args.log:
        Config.log = open(args.log, "a", encoding="utf-8")

    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host, port), Handler)
    bound = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % bound)
        os.rename(tmp, args.port_file)
    log_line("- listening %s:%d%s" % (host, bound, " tls" if Config.tls else ""))

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log_line("- stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
