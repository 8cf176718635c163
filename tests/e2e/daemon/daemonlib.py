"""Shared helpers for the `tether run` end-to-end tests (docs/daemon.md).

Real processes only, all on 127.0.0.1 and stopped by PID by the test that started them: a
tether-emulator, a bare git repository served by `git daemon` or by `git http-backend`
behind tests/e2e/githttp.py, and `tether run` itself. Repositories are made and pushed with
the git CLI; live state is read with botocore. Stdlib and botocore only.
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "apply"))

from applylib import (  # noqa: E402
    GIT_ENV, REGION, ApplyCase, function_yaml, image, stop_process)
from timescale import scaled  # noqa: E402

GITHTTP = os.path.join(HERE, "..", "githttp.py")
PYTHON = "/usr/bin/python3"
START_TIMEOUT = 30.0  # seconds, before scaled() as every wait here


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, period=0.05):
    """pred() until it returns something true; that value, or None after timeout s
    (scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return None
        time.sleep(period)


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Server:
    """A helper process (git daemon, githttp.py) stopped by PID at cleanup."""

    def __init__(self, test, argv, ready, log_name):
        self.log_path = os.path.join(test.tmp, log_name)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **GIT_ENV), cwd=test.tmp)
        test.addCleanup(self.stop)
        if not wait_until(ready, 15.0):
            self.stop()
            raise AssertionError("%s did not start:\n%s" % (argv[0], self.text()))

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Daemon:
    """One `tether run` process: its log, its HTTP listener, and ways to stop it."""

    def __init__(self, test, config, args=(), check_started=True):
        self.test = test
        self.n = test.ndaemons = getattr(test, "ndaemons", 0) + 1
        self.log_path = os.path.join(test.tmp, "tether-run-%d.log" % self.n)
        self.log = open(self.log_path, "w")
        argv = test.tether_argv("run", "--config", config, *args)
        self.proc = subprocess.Popen(argv, env=test.tether_env(), cwd=test.tmp,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        test.procs.append(self.proc)
        self.addr = None
        if check_started:
            m = wait_until(lambda: self.proc.poll() is not None or re.search(
                r"listening on http://(127\.0\.0\.1:\d+)", self.text()), START_TIMEOUT)
            if not m or m is True:
                raise AssertionError("tether run did not start:\n" + self.text())
            self.addr = m.group(1)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        host, port = self.addr.split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=scaled(timeout))
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def get(self, path):
        return self.request("GET", path)

    def status(self):
        st, _, body = self.get("/status")
        self.test.assertEqual(st, 200, body[:500])
        return json.loads(body)

    def metrics(self):
        st, headers, body = self.get("/metrics")
        self.test.assertEqual(st, 200, body[:500])
        return body.decode()

    def wait_status(self, pred, timeout, what):
        """Poll /status until pred(status) is true; fail with the last status and log."""
        last = {}

        def check():
            last["s"] = self.status()
            return pred(last["s"])
        if not wait_until(check, timeout, 0.05):
            self.test.fail("timed out after %.0fs waiting for %s\nstatus: %s\nlog:\n%s" % (
                scaled(timeout), what, json.dumps(last.get("s"), indent=1)[:6000],
                self.text()[-8000:]))
        return last["s"]

    def wait_applied(self, commit, timeout=60.0):
        return self.wait_status(
            lambda s: s["applied"] is not None and s["applied"]["commit"] == commit
            and not s["pass"]["running"], timeout, "commit %s applied" % commit[:12])

    def hook(self, provider, body, secret=None, headers=None):
        h = {"Content-Type": "application/json"}
        if provider == "github":
            h["X-GitHub-Event"] = "push"
            if secret is not None:
                h["X-Hub-Signature-256"] = sign(secret, body)
        elif provider == "gitlab":
            h["X-Gitlab-Event"] = "Push Hook"
            if secret is not None:
                h["X-Gitlab-Token"] = secret
        else:
            if secret is not None:
                h["X-Tether-Signature-256"] = sign(secret, body)
        h.update(headers or {})
        return self.request("POST", "/hooks/" + provider, body=body, headers=h)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Signal by PID and wait; returns the exit status (fails the test on a hang)."""
        stop_process(self.test, self.proc, sig, timeout)
        self.log.close()
        return self.proc.returncode


def push_body(ref, after):
    return json.dumps({"ref": ref, "after": after, "before": "0" * 40,
                       "repository": {"default_branch": "main"}}).encode()


def metric_values(text, name):
    """{labels string: value} for every sample of metric name."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


class DaemonCase(ApplyCase):
    """An emulator, a working repository (self.repo) with a bare origin it pushes to, and
    ways to serve the origin, write a config and start `tether run`."""

    def setUp(self):
        super().setUp()
        self.origin = os.path.join(self.tmp, "srv", "origin.git")
        os.makedirs(os.path.dirname(self.origin))
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", self.origin],
                       check=True, env=dict(os.environ, **GIT_ENV))
        subprocess.run(["git", "-C", self.origin, "config", "http.receivepack", "true"],
                       check=True, env=dict(os.environ, **GIT_ENV))
        self.repo.git("remote", "add", "origin", self.origin)
        self.secret = "s3cret-" + os.urandom(8).hex()
        self.secret_file = os.path.join(self.tmp, "hook-secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret + "\n")
        os.chmod(self.secret_file, 0o600)

    def push(self):
        self.repo.git("push", "-q", "origin", "HEAD:refs/heads/main")
        return self.repo.git("rev-parse", "HEAD")

    def commit_push(self, message):
        self.repo.commit(message)
        return self.push()

    def serve_git_daemon(self, port=None):
        """The origin over git:// (git daemon) on port (None: a free one); returns its URL.
        The server is in self.git_server."""
        for _ in range(5):
            port = port or free_port()
            argv = ["git", "daemon", "--listen=127.0.0.1", "--port=%d" % port, "--reuseaddr",
                    "--export-all", "--base-path=" + os.path.dirname(self.origin),
                    "--informative-errors", os.path.dirname(self.origin)]

            def ready():
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    return True
                except OSError:
                    return False
            try:
                self.git_server = Server(self, argv, ready, "git-daemon-%d-%d.log" % (
                    port, time.monotonic_ns()))
                return "git://127.0.0.1:%d/origin.git" % port
            except AssertionError:
                port = None
                continue
        self.fail("git daemon would not start")

    def serve_http(self):
        """The origin over smart HTTP (git http-backend behind githttp.py); its URL."""
        port_file = os.path.join(self.tmp, "githttp.port")
        argv = [PYTHON, GITHTTP, "--root", os.path.dirname(self.origin), "--listen",
                "127.0.0.1:0", "--port-file", port_file]
        def ready():
            try:
                with open(port_file) as f:
                    return f.read().strip()
            except OSError:
                return None
        Server(self, argv, ready, "githttp.log")
        with open(port_file) as f:
            port = int(f.read().strip())
        return "http://127.0.0.1:%d/origin.git" % port

    def write_config(self, repo, name="tether.yaml", extra="", interval="1m",
                     drift="1h", listen=None, state=None):
        path = os.path.join(self.tmp, name)
        text = ("repo: %s\nref: main\ninterval: %s\ndrift_interval: %s\nregion: %s\n"
                "endpoint: %s\nstate_dir: %s\nlisten: 127.0.0.1:%d\n"
                "webhook:\n  github_secret_file: %s\n  generic_secret_file: %s\n"
                "  gitlab_token_file: %s\n%s") % (
            repo, interval, drift, REGION, self.emu.endpoint, state or self.state,
            listen or free_port(), self.secret_file, self.secret_file, self.secret_file,
            extra)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, config, args=()):
        for attempt in range(3):
            d = Daemon(self, config, args, check_started=False)
            m = wait_until(lambda: d.proc.poll() is not None or re.search(
                r"listening on http://(127\.0\.0\.1:\d+)", d.text()), START_TIMEOUT)
            if m and m is not True:
                d.addr = m.group(1)
                self.addCleanup(self._stop_daemon, d)
                return d
            if "Address already in use" in d.text() and attempt < 2:
                d.log.close()
                with open(config) as f:
                    text = f.read()
                text = re.sub(r"listen: 127\.0\.0\.1:\d+",
                              "listen: 127.0.0.1:%d" % free_port(), text)
                with open(config, "w") as f:
                    f.write(text)
                continue
            self.fail("tether run did not start:\n" + d.text())

    def _stop_daemon(self, d):
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        if not d.log.closed:
            d.log.close()

    def seed_functions(self, names, tag="v1"):
        """Image functions created by hand, as a team adopting tether has them."""
        for n in names:
            self.create_image_function(n, image(n, "v0"))

    def write_functions(self, names, tag, extra=None):
        for n in names:
            self.repo.write("functions/%s.yaml" % n,
                            function_yaml(n, image(n, tag), **(extra or {})))


__all__ = ["DaemonCase", "Daemon", "Server", "wait_until", "sign", "push_body",
           "metric_values", "image", "function_yaml", "REGION", "free_port", "threading",
           "urllib"]
