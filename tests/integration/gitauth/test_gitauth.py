"""Git transport authentication end to end: gitauth_probe (source_read_git_auth, and a
gitwatch with --watch) reads one desired state, made with the git CLI in a bare
repository, over every transport tether supports, from real servers on 127.0.0.1 that this
test starts and stops by PID:

  file://    the bare repository itself
  git://     `git daemon`
  http://    tests/e2e/githttp.py (git http-backend as CGI), without and with a token
  https://   githttp.py with a certificate from a private CA made with `openssl req`
  ssh://     /usr/sbin/sshd with its own host key, authorized_keys and configuration, and
             an ssh-agent for the agent case

Every probe runs with an environment built from scratch and an empty HOME, so no
~/.ssh/known_hosts, ~/.gitconfig or SSH agent of the machine takes part. A case fails on a
wrong commit or file list, on a failure that should have been a success (or the reverse),
on a failure with the wrong code or message, on a token that shows up in anything the
probe printed or the server logged, on a refused token that took more than a few requests
or seconds, and on a probe that does not exit cleanly (under ASan that includes leaks).

  test_gitauth.py --probe PATH [unittest arguments, e.g. -k ssh]
"""
import argparse
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("TETHER_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
GITHTTP = os.path.join(SOURCE_DIR, "tests", "e2e", "githttp.py")
PYTHON = os.environ.get("TETHER_PYTHON", "/usr/bin/python3")
SSHD = "/usr/sbin/sshd"
PROBE = None
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# A refused token or key must fail at once, not after libgit2's replay limit.
REFUSAL_SECONDS = 10.0
REFUSAL_REQUESTS_MAX = 3

TOKEN = "tether-test-token-6f1d2c9a8b7e"
WRONG_TOKEN = "wrong-token-0a9b8c7d6e5f4"

ORDERS = """\
function: orders-api
image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:20250526-145140-9f6a1a2a
memory: 512
timeout: 30
aliases:
  live: current
"""
WORKER = """\
function: receipt-worker
image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:20250526-145140-0000aaaa
aliases:
  live: current
"""
REPORT = """\
function: report-builder
image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/report:20250601-101010-1234abcd
aliases:
  live: current
"""
FILES_V1 = ["functions/orders.yaml", "functions/team/worker.yml"]
FILES_V2 = ["functions/orders.yaml", "functions/report.yaml", "functions/team/worker.yml"]

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "tether test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "tether test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}


def run(cmd, cwd=None, env=None, check=True, timeout=60):
    e = dict(os.environ, **GIT_ENV)
    if env:
        e.update(env)
    p = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                     p.stderr))
    return p


def git(*args, cwd=None, env=None):
    return run(["git", *args], cwd=cwd, env=env).stdout.strip()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Server:
    """A process started by the test, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, name, argv, log, env=None):
        self.name = name
        self.log = log
        self.logf = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-8000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


def start_on_free_port(name, make_argv, log, env=None, tries=5):
    """Start a server on a free port, retrying on another port when it does not come up
    (the port was taken between our probe and its bind)."""
    last = ""
    for _ in range(tries):
        port = free_port()
        srv = Server(name, make_argv(port), log, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and srv.alive():
            if port_open(port):
                srv.port = port
                return srv
            time.sleep(0.05)
        last = srv.log_text()
        srv.stop()
    raise AssertionError("%s did not start on a free port in %d tries\n%s" % (name, tries, last))


def start_githttp(root, tmp, name, *args):
    port_file = os.path.join(tmp, name + ".port")
    log = os.path.join(tmp, name + ".requests")
    srv = Server(name, [PYTHON, GITHTTP, "--root", root, "--listen", "127.0.0.1:0",
                        "--port-file", port_file, "--log", log, *args],
                 os.path.join(tmp, name + ".out"))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and srv.alive():
        if os.path.exists(port_file):
            with open(port_file) as f:
                srv.port = int(f.read())
            srv.requests = log
            return srv
        time.sleep(0.05)
    text = srv.log_text()
    srv.stop()
    raise AssertionError("githttp.py %s did not start\n%s" % (name, text))


# libgit2 1.5's SSH transport leaks on every connection, inside git_remote_connect: the
# libssh2 known-hosts object it loads ~/.ssh/known_hosts into (freed only when the connection
# fails) and two small buffers. Under LeakSanitizer an SSH probe therefore exits with
# LEAK_EXIT; the run still passes when every leaked block was allocated by libgit2 or libssh2
# alone below git_remote_connect_ext, with no frame of tether's between, and the total is
# small. Any other leak fails the case.
LEAK_EXIT = 23
LIBGIT2_SSH_LEAK_MAX = 4096
TOLERATED_LEAKS = []


def tolerate_libgit2_ssh_leaks(p):
    """The exit status the probe would have had, if its only leaks are libgit2's."""
    report = p.stderr
    summary = re.search(r"SUMMARY: AddressSanitizer: (\d+) byte\(s\) leaked", report)
    blocks = re.split(r"\n(?=(?:Direct|Indirect) leak of )", report)[1:]
    ok = summary is not None and int(summary.group(1)) <= LIBGIT2_SSH_LEAK_MAX and blocks
    for block in blocks:
        frames = re.findall(r"^\s*#(\d+) 0x[0-9a-f]+ (.*)$", block, re.M)
        origin = None
        for num, where in frames[1:]:
            if "git_remote_connect_ext" in where:
                origin = "libgit2"
                break
            if not re.search(r"\((?:/usr)?/lib/[^)]*/lib(?:git2|ssh2|crypto)\.so", where):
                break
        ok = ok and origin == "libgit2"
    if not ok:
        raise AssertionError("leaks beyond libgit2's own SSH ones\n%s%s" % (p.stdout, report))
    TOLERATED_LEAKS.append(int(summary.group(1)))
    return 1 if re.search(r"^error ", p.stdout, re.M) else 0


class Result:
    def __init__(self, p, seconds):
        self.rc = p.returncode
        self.stdout = p.stdout
        self.stderr = p.stderr
        self.seconds = seconds
        self.lines = p.stdout.splitlines()
        self.commit = self.field("commit")
        self.files = [ln[5:] for ln in self.lines if ln.startswith("file ")]
        self.repo_path = self.field("repo_path")
        err = [ln for ln in self.lines if ln.startswith("error ")]
        self.code, self.message = (err[0].split(" ", 2)[1:] + [""])[:2] if err else (None, None)

    def field(self, name):
        for ln in self.lines:
            if ln.startswith(name + " "):
                return ln[len(name) + 1:]
        return None

    def __str__(self):
        return "exit %s after %.2f s\n%s%s" % (self.rc, self.seconds, self.stdout, self.stderr)


class ProbeCase(unittest.TestCase):
    """What every case here does: run gitauth_probe and judge what it printed."""

    @staticmethod
    def write(base, rel, text):
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def probe_env(self):
        e = {"PATH": "/usr/bin:/bin", "HOME": self.home, "LANG": "C"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                e[k] = os.environ[k]
        return e

    def probe(self, repo, *args, env=None, ssh=False):
        e = self.probe_env()
        if ssh:
            # Whole allocation stacks (libgit2 has no frame pointers), and a leak exit
            # status of its own, for tolerate_libgit2_ssh_leaks().
            e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "") + ":fast_unwind_on_malloc=0").lstrip(":")
            e["LSAN_OPTIONS"] = (e.get("LSAN_OPTIONS", "") + ":exitcode=%d" % LEAK_EXIT).lstrip(":")
        if env:
            e.update(env)
        t0 = time.monotonic()
        p = subprocess.run([PROBE, "--repo", repo, *args], env=e, capture_output=True,
                           text=True, timeout=120)
        if ssh and p.returncode == LEAK_EXIT:
            p.returncode = tolerate_libgit2_ssh_leaks(p)
        r = Result(p, time.monotonic() - t0)
        for secret in (TOKEN, WRONG_TOKEN):
            self.assertNotIn(secret, p.stdout + p.stderr, "the probe printed a token")
        self.assertIn(r.rc, (0, 1), str(r))
        if r.rc == 1:
            self.assertIsNotNone(r.code, "a failure without an error line\n%s" % r)
        return r

    def assert_reads(self, r, commit=None, files=None):
        self.assertEqual(r.rc, 0, str(r))
        self.assertEqual(r.commit, commit or self.c1, str(r))
        self.assertEqual(r.files, files or FILES_V1, str(r))
        self.assertEqual(r.field("ref"), "main", str(r))

    def assert_fails(self, r, code, *needles):
        self.assertEqual(r.rc, 1, "expected a failure\n%s" % r)
        self.assertEqual(r.code, code, str(r))
        for n in needles:
            self.assertIn(n, r.message, str(r))


class GitAuth(ProbeCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tether-gitauth.")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.servers = []
        cls.addClassCleanup(cls.stop_servers)
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home, 0o700)
        cls.root = os.path.join(cls.tmp, "srv")
        os.mkdir(cls.root)

        # The desired state, committed with the git CLI, then served from bare copies.
        cls.work = os.path.join(cls.tmp, "work")
        git("init", "-q", "-b", "main", cls.work)
        os.makedirs(os.path.join(cls.work, "functions", "team"))
        cls.write(cls.work, "functions/orders.yaml", ORDERS)
        cls.write(cls.work, "functions/team/worker.yml", WORKER)
        cls.write(cls.work, "README.md", "not desired state\n")
        git("add", "-A", cwd=cls.work)
        git("commit", "-q", "-m", "first", cwd=cls.work)
        cls.c1 = git("rev-parse", "HEAD", cwd=cls.work)
        cls.bare = os.path.join(cls.root, "state.git")
        git("clone", "-q", "--bare", cls.work, cls.bare)
        # A second copy that the push case changes, so the other cases keep their commit.
        cls.pushed = os.path.join(cls.root, "pushed.git")
        git("clone", "-q", "--bare", cls.work, cls.pushed)
        git("config", "http.receivepack", "true", cwd=cls.pushed)

        cls.token_file = os.path.join(cls.tmp, "token")
        cls.write(cls.tmp, "token", TOKEN + "\n")
        cls.wrong_token_file = os.path.join(cls.tmp, "wrong-token")
        cls.write(cls.tmp, "wrong-token", WRONG_TOKEN + "\n")

        cls.daemon = start_on_free_port(
            "git-daemon",
            lambda port: ["git", "daemon", "--listen=127.0.0.1", "--port=%d" % port,
                          "--base-path=" + cls.root, "--export-all", "--reuseaddr",
                          "--informative-errors", cls.root],
            os.path.join(cls.tmp, "git-daemon.log"))
        cls.servers.append(cls.daemon)
        cls.http = start_githttp(cls.root, cls.tmp, "http")
        cls.servers.append(cls.http)
        cls.http_token = start_githttp(cls.root, cls.tmp, "http-token",
                                       "--token-file", cls.token_file)
        cls.servers.append(cls.http_token)
        cls.make_tls()
        cls.https = start_githttp(cls.root, cls.tmp, "https", "--token-file", cls.token_file,
                                  "--tls-cert", cls.server_cert, "--tls-key", cls.server_key)
        cls.servers.append(cls.https)

    @classmethod
    def stop_servers(cls):
        for srv in reversed(cls.servers):
            srv.stop()
        cls.servers = []

    @classmethod
    def make_tls(cls):
        """A private CA, a server certificate it signs for localhost (only: Debian's libgit2
        checks names with mbedTLS 2.28, which matches DNS names, not IP addresses), and an
        unrelated CA that must not be trusted for it."""
        d = os.path.join(cls.tmp, "tls")
        os.mkdir(d)
        cls.ca_cert = os.path.join(d, "ca.pem")
        cls.other_ca = os.path.join(d, "other-ca.pem")
        cls.server_cert = os.path.join(d, "server.pem")
        cls.server_key = os.path.join(d, "server.key")
        for cert, key, cn in ((cls.ca_cert, "ca.key", "tether test CA"),
                              (cls.other_ca, "other-ca.key", "tether other CA")):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                 "-days", "2", "-subj", "/CN=" + cn, "-keyout", os.path.join(d, key),
                 "-out", cert, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj",
             "/CN=localhost", "-keyout", cls.server_key, "-out", os.path.join(d, "server.csr")])
        cls.write(d, "ext.cnf", "subjectAltName=DNS:localhost\n"
                  "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-sha256", "-days", "2", "-in",
             os.path.join(d, "server.csr"), "-CA", cls.ca_cert, "-CAkey",
             os.path.join(d, "ca.key"), "-CAcreateserial", "-out", cls.server_cert,
             "-extfile", os.path.join(d, "ext.cnf")])

    def cache(self, name):
        return os.path.join(self.tmp, "cache-" + name)

    def requests(self, srv):
        with open(srv.requests) as f:
            return f.read().splitlines()

    # -- file://, git:// and plain http:// ---------------------------------------------

    def test_file_url(self):
        r = self.probe("file://" + self.bare, "--cache", self.cache("file"))
        self.assert_reads(r)
        self.assertTrue(r.repo_path.startswith(self.cache("file") + "/"), str(r))
        self.assertTrue(os.path.isfile(os.path.join(r.repo_path, "HEAD")), str(r))
        # A local path is read in place: source_repo_path() names the repository itself.
        r = self.probe(self.bare)
        self.assert_reads(r)
        self.assertEqual(r.repo_path, self.bare)

    def test_git_daemon(self):
        url = "git://127.0.0.1:%d/state.git" % self.daemon.port
        self.assert_reads(self.probe(url, "--cache", self.cache("daemon")))
        self.assert_reads(self.probe(url, "--watch"))

    def test_http(self):
        url = "http://127.0.0.1:%d/state.git" % self.http.port
        self.assert_reads(self.probe(url, "--cache", self.cache("http")))
        self.assert_reads(self.probe(url, "--watch", "--cache", self.cache("http")))
        r = self.probe("http://127.0.0.1:%d/nope.git" % self.http.port)
        self.assert_fails(r, "error", "nope.git")

    def test_tether_validate_over_http(self):
        """The real binary reads the same state over http://."""
        binary = os.environ.get("TETHER_BIN")
        self.assertTrue(binary, "TETHER_BIN is not set (run the suite through ctest)")
        url = "http://127.0.0.1:%d/state.git" % self.http.port
        p = subprocess.run([binary, "validate", "--repo", url], capture_output=True,
                           text=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": self.home,
                                "AWS_REGION": "us-east-1",
                                **{k: v for k, v in os.environ.items()
                                   if k.endswith("SAN_OPTIONS")}})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(self.c1[:12], p.stderr)

    # -- tokens ------------------------------------------------------------------------

    def test_token(self):
        url = "http://127.0.0.1:%d/state.git" % self.http_token.port
        r = self.probe(url, "--token-file", self.token_file, "--username", "x-access-token")
        self.assert_reads(r)
        self.assertTrue(any("user=x-access-token" in ln for ln in self.requests(self.http_token)))
        # Without --username the user is "git"; through a gitwatch, whose copy of the
        # options outlives the probe's (wiped) originals.
        r = self.probe(url, "--token-file", self.token_file, "--watch")
        self.assert_reads(r)
        self.assertTrue(any("user=git" in ln for ln in self.requests(self.http_token)))

    def test_wrong_token_fails_fast(self):
        url = "http://127.0.0.1:%d/state.git" % self.http_token.port
        for watch in ((), ("--watch",)):
            before = len(self.requests(self.http_token))
            r = self.probe(url, "--token-file", self.wrong_token_file, *watch)
            self.assert_fails(r, "auth", "refused the token", 'user "git"')
            self.assertLess(r.seconds, REFUSAL_SECONDS, str(r))
            sent = self.requests(self.http_token)[before:]
            self.assertLessEqual(len(sent), REFUSAL_REQUESTS_MAX, "\n".join(sent))
            self.assertTrue(all(" 401 " in ln for ln in sent), "\n".join(sent))

    def test_no_token(self):
        url = "http://127.0.0.1:%d/state.git" % self.http_token.port
        r = self.probe(url)
        self.assert_fails(r, "auth", "no token is configured")
        # A wrong token in the URL itself is refused, and never quoted.
        r = self.probe("http://robot:%s@127.0.0.1:%d/state.git" % (WRONG_TOKEN,
                                                                   self.http_token.port))
        self.assert_fails(r, "auth", "refused the credentials in the URL", "***@127.0.0.1")
        # The right one in the URL works without any configured auth.
        r = self.probe("http://robot:%s@127.0.0.1:%d/state.git" % (TOKEN, self.http_token.port))
        self.assert_reads(r)

    def test_token_not_sent_offsite(self):
        """A redirect to another host (localhost is not 127.0.0.1 to libgit2) is refused when
        a token is configured: libgit2 would hand the token to the new host."""
        target = "http://localhost:%d" % self.http_token.port

        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        url = "http://127.0.0.1:%d/state.git" % srv.server_address[1]
        before = len(self.requests(self.http_token))
        r = self.probe(url, "--token-file", self.token_file)
        self.assert_fails(r, "error", "redirect")
        self.assertEqual(self.requests(self.http_token)[before:], [])
        # Without a token the redirect is followed (libgit2's default), to a 401.
        r = self.probe(url)
        self.assert_fails(r, "auth", "no token is configured")
        self.assertEqual(len(self.requests(self.http_token)[before:]), 1)

    def test_token_never_logged(self):
        """The server's request log never holds a token (githttp.py's own promise)."""
        url = "http://127.0.0.1:%d/state.git" % self.http_token.port
        self.probe(url, "--token-file", self.token_file)
        self.probe(url, "--token-file", self.wrong_token_file)
        for srv in (self.http_token, self.https):
            with open(srv.requests) as f:
                text = f.read()
            self.assertNotIn(TOKEN, text)
            self.assertNotIn(WRONG_TOKEN, text)

    # -- https:// with a private CA ------------------------------------------------------

    def test_https_with_ca_file(self):
        url = "https://localhost:%d/state.git" % self.https.port
        r = self.probe(url, "--token-file", self.token_file, "--ca-file", self.ca_cert)
        self.assert_reads(r)
        r = self.probe(url, "--token-file", self.token_file, "--ca-file", self.ca_cert,
                       "--watch", "--cache", self.cache("https"))
        self.assert_reads(r)

    def test_https_verification_stays_on(self):
        url = "https://localhost:%d/state.git" % self.https.port
        # The system's anchors do not know the private CA.
        r = self.probe(url, "--token-file", self.token_file)
        self.assert_fails(r, "error", "certificate")
        # Nor does another CA.
        r = self.probe(url, "--token-file", self.token_file, "--ca-file", self.other_ca)
        self.assert_fails(r, "error", "certificate")
        # A certificate for localhost is not one for another name of the same server.
        r = self.probe("https://127.0.0.1:%d/state.git" % self.https.port, "--token-file",
                       self.token_file, "--ca-file", self.ca_cert)
        self.assert_fails(r, "error", "certificate")
        # A CA file that is not there is named.
        missing = os.path.join(self.tmp, "no-such-ca.pem")
        r = self.probe(url, "--token-file", self.token_file, "--ca-file", missing)
        self.assert_fails(r, "invalid", missing)
        # Nor is one that holds no certificate.
        garbage = os.path.join(self.tmp, "garbage-ca.pem")
        self.write(self.tmp, "garbage-ca.pem", "not a certificate\n")
        r = self.probe(url, "--token-file", self.token_file, "--ca-file", garbage)
        self.assert_fails(r, "invalid", garbage, "CA certificates")
        # A wrong token over HTTPS fails as fast as over HTTP.
        r = self.probe(url, "--token-file", self.wrong_token_file, "--ca-file", self.ca_cert)
        self.assert_fails(r, "auth", "refused the token")
        self.assertLess(r.seconds, REFUSAL_SECONDS)

    def test_https_ca_file_renewed(self):
        """One process, two fetches: a CA file whose content changes is loaded again."""
        ca = os.path.join(self.tmp, "renewed-ca.pem")
        shutil.copyfile(self.other_ca, ca)
        url = "https://localhost:%d/state.git" % self.https.port
        p = subprocess.Popen([PROBE, "--again", "--repo", url, "--token-file", self.token_file,
                              "--ca-file", ca], env=self.probe_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = []
            for line in p.stdout:
                if line == "---\n":
                    break
                first.append(line)
            self.assertTrue(first and first[0].startswith("error error "), "".join(first))
            self.assertIn("certificate", first[0])
            # The renewed file: the private CA, at the same path.
            shutil.copyfile(self.ca_cert, ca)
            out, err = p.communicate("go\n", timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, out + err)
        self.assertIn("commit %s\n" % self.c1, out)

    # -- a push, then a second read from the same cache ---------------------------------

    def test_push_then_fetch(self):
        url = "http://127.0.0.1:%d/pushed.git" % self.http_token.port
        cache = self.cache("push")
        r = self.probe(url, "--token-file", self.token_file, "--cache", cache)
        self.assert_reads(r)
        repo_path = r.repo_path
        self.assertEqual(os.listdir(cache), [os.path.basename(repo_path)])
        # A marker in the cache: a re-clone would not have it.
        marker = os.path.join(repo_path, "tether-test-marker")
        self.write(repo_path, "tether-test-marker", "kept\n")
        st = os.stat(repo_path)

        # A new commit, pushed by the git CLI over smart HTTP with the token.
        clone = os.path.join(self.tmp, "push-clone")
        git("clone", "-q", "http://pusher:%s@127.0.0.1:%d/pushed.git" % (
            TOKEN, self.http_token.port), clone)
        self.write(clone, "functions/report.yaml", REPORT)
        git("add", "-A", cwd=clone)
        git("commit", "-q", "-m", "report-builder", cwd=clone)
        c2 = git("rev-parse", "HEAD", cwd=clone)
        git("push", "-q", "origin", "main", cwd=clone)
        self.assertEqual(git("rev-parse", "main", cwd=self.pushed), c2)
        self.assertTrue(any("POST /pushed.git/git-receive-pack 200" in ln and "user=pusher" in ln
                            for ln in self.requests(self.http_token)))

        r = self.probe(url, "--token-file", self.token_file, "--cache", cache)
        self.assert_reads(r, commit=c2, files=FILES_V2)
        self.assertEqual(r.repo_path, repo_path)
        self.assertTrue(os.path.exists(marker), "the cache was re-created, not fetched")
        self.assertEqual(os.stat(repo_path).st_ino, st.st_ino)
        self.assertEqual(os.listdir(cache), [os.path.basename(repo_path)])
        # The first commit is still there to read by id, from the same cache.
        r = self.probe(url, "--token-file", self.token_file, "--cache", cache, "--ref", self.c1)
        self.assertEqual(r.commit, self.c1, str(r))
        # And through a gitwatch.
        r = self.probe(url, "--token-file", self.token_file, "--cache", cache, "--watch")
        self.assert_reads(r, commit=c2, files=FILES_V2)


class Ssh(ProbeCase):
    """git over SSH against a private sshd: key and agent authentication, and the host key
    checked against a known_hosts file (plain, hashed, mismatching, missing, revoked)."""

    @classmethod
    def setUpClass(cls):
        out = subprocess.run([PROBE, "--features"], capture_output=True, text=True,
                             check=True).stdout.split()
        cls.has_ssh = dict(zip(out[::2], out[1::2])).get("ssh") == "1"
        cls.tmp = tempfile.mkdtemp(prefix="tether-gitauth-ssh.")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.servers = []
        cls.addClassCleanup(cls.stop_servers)
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home, 0o700)
        work = os.path.join(cls.tmp, "work")
        git("init", "-q", "-b", "main", work)
        ProbeCase.write(work, "functions/orders.yaml", ORDERS)
        ProbeCase.write(work, "functions/team/worker.yml", WORKER)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "first", cwd=work)
        cls.c1 = git("rev-parse", "HEAD", cwd=work)
        cls.bare = os.path.join(cls.tmp, "srv", "state.git")
        git("clone", "-q", "--bare", work, cls.bare)
        if not cls.has_ssh:
            return
        if not os.access(SSHD, os.X_OK):
            raise AssertionError("%s is missing: scripts/setup installs openssh-server" % SSHD)

        d = cls.sshdir = os.path.join(cls.tmp, "ssh")
        os.mkdir(d, 0o700)
        for name, kind in (("host", "ed25519"), ("other-host", "ed25519"),
                           ("client", "ed25519"), ("stranger", "ed25519"),
                           ("client-ecdsa", "ecdsa")):
            run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", name, "-f",
                 os.path.join(d, name)])
        # The ECDSA key without its .pub beside it: libssh2 derives the public half.
        # (Not RSA: Debian 12's libssh2 1.10 signs with ssh-rsa, SHA-1, which OpenSSH
        # 8.8 and later refuse by default.)
        os.unlink(os.path.join(d, "client-ecdsa.pub"))
        pub_ecdsa = run(["ssh-keygen", "-y", "-f", os.path.join(d, "client-ecdsa")]).stdout
        with open(os.path.join(d, "authorized_keys"), "w") as f:
            f.write(cls.read(os.path.join(d, "client.pub")))
            f.write(pub_ecdsa)
        cls.user = run(["id", "-un"]).stdout.strip()
        cls.created_privsep = False
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            # sshd running as root needs its (empty) privilege separation directory, which
            # systemd would have made; the test removes it again.
            os.mkdir("/run/sshd", 0o755)
            cls.created_privsep = True
            cls.addClassCleanup(cls.remove_privsep)

        def argv(port):
            conf = os.path.join(d, "sshd_config")
            with open(conf, "w") as f:
                f.write("\n".join([
                    "Port %d" % port,
                    "ListenAddress 127.0.0.1",
                    "HostKey " + os.path.join(d, "host"),
                    "PidFile " + os.path.join(d, "sshd.pid"),
                    "AuthorizedKeysFile " + os.path.join(d, "authorized_keys"),
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "AllowUsers " + cls.user,
                    "LogLevel VERBOSE",
                    "",
                ]))
            run([SSHD, "-t", "-f", conf])
            return [SSHD, "-D", "-e", "-f", conf]

        cls.sshd = start_on_free_port("sshd", argv, os.path.join(d, "sshd.log"))
        cls.servers.append(cls.sshd)
        cls.url = "ssh://%s@127.0.0.1:%d%s" % (cls.user, cls.sshd.port, cls.bare)
        host_pub = cls.read(os.path.join(d, "host.pub")).split()
        other_pub = cls.read(os.path.join(d, "other-host.pub")).split()
        name = "[127.0.0.1]:%d" % cls.sshd.port
        cls.kh = {}
        cls.kh["plain"] = cls.known_hosts("plain", "# comment\n\n%s %s %s\n" % (
            name, host_pub[0], host_pub[1]))
        cls.kh["hashed"] = cls.known_hosts("hashed", "%s %s %s\n" % (
            name, host_pub[0], host_pub[1]))
        run(["ssh-keygen", "-q", "-H", "-f", cls.kh["hashed"]])
        with open(cls.kh["hashed"]) as f:
            hashed = f.read()
        assert hashed.startswith("|1|") and name not in hashed, hashed
        cls.kh["pattern"] = cls.known_hosts("pattern", "[127.0.0.?]:%d,!10.0.0.1 %s %s\n" % (
            cls.sshd.port, host_pub[0], host_pub[1]))
        cls.kh["mismatch"] = cls.known_hosts("mismatch", "%s %s %s\n" % (
            name, other_pub[0], other_pub[1]))
        cls.kh["other-port"] = cls.known_hosts("other-port", "127.0.0.1 %s %s\n" % (
            host_pub[0], host_pub[1]))
        cls.kh["negated"] = cls.known_hosts("negated", "[127.0.0.*]:%d,!%s %s %s\n" % (
            cls.sshd.port, name, host_pub[0], host_pub[1]))
        cls.kh["revoked"] = cls.known_hosts("revoked", "%s %s %s\n@revoked * %s %s\n" % (
            name, host_pub[0], host_pub[1], host_pub[0], host_pub[1]))

    @classmethod
    def read(cls, path):
        with open(path) as f:
            return f.read()

    @classmethod
    def known_hosts(cls, name, text):
        path = os.path.join(cls.sshdir, "known_hosts." + name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def stop_servers(cls):
        for srv in reversed(cls.servers):
            srv.stop()
        cls.servers = []

    @classmethod
    def remove_privsep(cls):
        try:
            os.rmdir("/run/sshd")
        except OSError:
            pass

    def setUp(self):
        if not self.has_ssh:
            return
        self.assertTrue(self.sshd.alive(), self.sshd.log_text())

    def probe(self, repo, *args, env=None):
        return super().probe(repo, *args, env=env, ssh=True)

    def assert_reads(self, r, commit=None, files=None):
        self.assertEqual(r.rc, 0, "%s\nsshd:\n%s" % (r, self.sshd.log_text()[-3000:]))
        super().assert_reads(r, commit, files)

    def key(self, name="client"):
        return os.path.join(self.sshdir, name)

    def require_ssh(self):
        """True when libgit2 has SSH. Without it, every case checks instead that an ssh
        URL fails saying so."""
        if self.has_ssh:
            return True
        r = self.probe("ssh://git@127.0.0.1:1/state.git")
        self.assert_fails(r, "invalid", "built without SSH")
        return False

    def test_key_and_known_hosts(self):
        if not self.require_ssh():
            return
        for kind in ("plain", "hashed", "pattern"):
            r = self.probe(self.url, "--ssh-key", self.key(), "--known-hosts", self.kh[kind],
                           "--cache", os.path.join(self.tmp, "cache-" + kind))
            self.assert_reads(r)
        # An ECDSA key with no .pub beside it; and through a gitwatch.
        r = self.probe(self.url, "--ssh-key", self.key("client-ecdsa"), "--known-hosts",
                       self.kh["plain"])
        self.assert_reads(r)
        r = self.probe(self.url, "--ssh-key", self.key(), "--known-hosts", self.kh["hashed"],
                       "--watch")
        self.assert_reads(r)
        self.assertIn("Accepted publickey for %s" % self.user, self.sshd.log_text())

    def test_user_from_options(self):
        """A URL without a user: the configured username logs in."""
        if not self.require_ssh():
            return
        url = "ssh://127.0.0.1:%d%s" % (self.sshd.port, self.bare)
        r = self.probe(url, "--ssh-key", self.key(), "--known-hosts", self.kh["plain"],
                       "--username", self.user)
        self.assert_reads(r)

    def test_host_key_refused(self):
        if not self.require_ssh():
            return
        name = "[127.0.0.1]:%d" % self.sshd.port
        accepted = self.sshd.log_text().count("Accepted publickey")
        cases = {
            "mismatch": "does not match known_hosts",
            # An entry for port 22 is not one for this port.
            "other-port": "is not in known_hosts",
            "negated": "is not in known_hosts",
            "revoked": "marked @revoked",
        }
        for kind, needle in cases.items():
            r = self.probe(self.url, "--ssh-key", self.key(), "--known-hosts", self.kh[kind])
            self.assert_fails(r, "error", needle, name, "ssh-ed25519 SHA256:")
        # What ssh-keygen says the fingerprint is, is what the message says.
        fp = run(["ssh-keygen", "-l", "-f", os.path.join(self.sshdir, "host.pub")]).stdout
        self.assertIn(fp.split()[1], r.message)
        # A known_hosts file that is not there.
        missing = os.path.join(self.tmp, "no-such-known-hosts")
        r = self.probe(self.url, "--ssh-key", self.key(), "--known-hosts", missing)
        self.assert_fails(r, "error", missing)
        # No known_hosts configured: libgit2's own check of ~/.ssh/known_hosts, and this
        # HOME has none, so the host is unknown.
        r = self.probe(self.url, "--ssh-key", self.key())
        self.assert_fails(r, "error", "~/.ssh/known_hosts", name, fp.split()[1])
        # Refused before any authentication was attempted.
        self.assertEqual(self.sshd.log_text().count("Accepted publickey"), accepted)

    def test_wrong_key_fails_fast(self):
        if not self.require_ssh():
            return
        r = self.probe(self.url, "--ssh-key", self.key("stranger"), "--known-hosts",
                       self.kh["plain"])
        self.assert_fails(r, "auth", "refused the SSH key", self.key("stranger"))
        self.assertLess(r.seconds, REFUSAL_SECONDS)
        missing = os.path.join(self.tmp, "no-such-key")
        r = self.probe(self.url, "--ssh-key", missing, "--known-hosts", self.kh["plain"])
        self.assert_fails(r, "auth", missing)

    def test_agent(self):
        if not self.require_ssh():
            return
        # No key and no agent: said plainly.
        r = self.probe(self.url, "--known-hosts", self.kh["plain"])
        self.assert_fails(r, "auth", "no SSH agent")
        sock = os.path.join(self.sshdir, "agent.sock")
        agent = Server("ssh-agent", ["ssh-agent", "-D", "-a", sock],
                       os.path.join(self.sshdir, "agent.log"))
        self.addCleanup(agent.stop)
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(sock) and time.monotonic() < deadline and agent.alive():
            time.sleep(0.05)
        env = {"SSH_AUTH_SOCK": sock}
        # An agent without the right key: refused once, at once.
        run(["ssh-add", "-q", self.key("stranger")], env=env)
        r = self.probe(self.url, "--known-hosts", self.kh["plain"], env=env)
        self.assert_fails(r, "auth", "every key of the SSH agent")
        self.assertLess(r.seconds, REFUSAL_SECONDS)
        run(["ssh-add", "-q", self.key()], env=env)
        r = self.probe(self.url, "--known-hosts", self.kh["plain"], env=env)
        self.assert_reads(r)


def main():
    global PROBE
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    args, rest = ap.parse_known_args()
    PROBE = os.path.abspath(args.probe)
    prog = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
    if TOLERATED_LEAKS:
        print("libgit2 1.5 SSH connection leaks tolerated (bytes per run): %s" % " ".join(
            map(str, TOLERATED_LEAKS)), file=sys.stderr)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
