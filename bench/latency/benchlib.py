"""Helpers shared by bench/latency and bench/steady: `tether run` against a tether-emulator,
following a bare git origin served by `git daemon`, all on 127.0.0.1.

Every process is started here with PR_SET_PDEATHSIG (it dies with the benchmark) and is
stopped by PID (SIGTERM, then SIGKILL after a grace period). Stdlib + botocore only;
/usr/bin/python3.
"""
import ctypes
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))

from emulator import ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, Emulator  # noqa: E402,F401

ROLE = "arn:aws:iam::%s:role/bench-daemon" % ACCOUNT
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
}
# Every operation except these shares the 15/s control-plane bucket (architecture §5).
UNTHROTTLED = ("GetFunction", "Invoke")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class BenchError(Exception):
    """A setup or run failure (exit status 2), as opposed to a missed target (1)."""


def image(name, tag):
    return "%s.dkr.ecr.%s.amazonaws.com/%s:%s" % (ACCOUNT, REGION, name, tag)


def is_mutation(op):
    return not op.startswith(("Get", "List"))


def stats_delta(after, before):
    """{operation: count} of the operations whose count changed between two stats."""
    a, b = after["operations"], before["operations"]
    return {op: a[op] - b.get(op, 0) for op in a if a[op] != b.get(op, 0)}


def shared_calls(delta):
    return sum(v for op, v in delta.items() if op not in UNTHROTTLED)


def mutations(delta):
    return {op: v for op, v in delta.items() if is_mutation(op) and v}


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, period=0.05):
    """pred() until it returns something true; that value, or None after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return None
        time.sleep(period)


def percentile(values, p):
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Proc:
    """A child process with its output in a log file, stopped by PID."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def text(self, limit=None):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            data = f.read()
        if limit is not None:
            data = data[-limit:]
        return data.decode("utf-8", "replace")

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM by PID and wait; SIGKILL after timeout. Returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


class Repo:
    """A working repository with a bare origin next to it; changed with the git CLI."""

    def __init__(self, root):
        self.path = os.path.join(root, "work")
        self.srv = os.path.join(root, "srv")
        self.origin = os.path.join(self.srv, "origin.git")
        os.makedirs(self.srv)
        self.run("init", "-q", "-b", "main", self.path, cwd=root)
        self.run("init", "-q", "--bare", "-b", "main", self.origin, cwd=root)
        self.git("remote", "add", "origin", self.origin)

    def run(self, *args, cwd):
        p = subprocess.run(["git", *args], cwd=cwd, env=dict(os.environ, **GIT_ENV),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError("git %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout.strip()

    def git(self, *args):
        return self.run(*args, cwd=self.path)

    def write(self, rel, text):
        full = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self):
        """Push HEAD to the origin's main; returns when git push has exited (the origin has
        the commit and its ref is updated)."""
        self.git("push", "-q", "origin", "HEAD:refs/heads/main")


def serve_git_daemon(repo, logdir):
    """`git daemon` serving repo's origin on 127.0.0.1; returns (Proc, git:// URL)."""
    for _ in range(5):
        port = free_port()
        argv = ["git", "daemon", "--listen=127.0.0.1", "--port=%d" % port, "--reuseaddr",
                "--export-all", "--base-path=" + repo.srv, "--informative-errors", repo.srv]
        p = Proc(argv, os.path.join(logdir, "git-daemon.log"),
                 env=dict(os.environ, **GIT_ENV), cwd=logdir)

        def ready():
            if not p.alive():
                return "dead"
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return "up"
            except OSError:
                return None
        if wait_until(ready, 15.0) == "up":
            return p, "git://127.0.0.1:%d/origin.git" % port
        p.stop()
    raise BenchError("git daemon would not start")


def tether_env(home):
    return {
        "PATH": "/usr/bin:/bin", "HOME": home,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": REGION,
    }


def write_config(path, repo_url, endpoint, state_dir, secret_file, interval, drift,
                 extra=""):
    """A `tether run` config (docs/config.md) listening on a kernel-chosen loopback port."""
    text = ("repo: %s\nref: main\ninterval: %s\ndrift_interval: %s\nregion: %s\n"
            "endpoint: %s\nstate_dir: %s\nlisten: 127.0.0.1:0\n"
            "webhook:\n  generic_secret_file: %s\n%s") % (
        repo_url, interval, drift, REGION, endpoint, state_dir, secret_file, extra)
    with open(path, "w") as f:
        f.write(text)
    return path


def write_secret(path):
    secret = "bench-" + os.urandom(12).hex()
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret


class Daemon:
    """One `tether run --config FILE` process and its HTTP API."""

    def __init__(self, tether, config, workdir, args=()):
        self.log_path = os.path.join(workdir, "tether-run.log")
        self.proc = Proc([tether, "run", "--config", config, *args], self.log_path,
                         env=tether_env(workdir), cwd=workdir)
        self.pid = self.proc.pid

        def started():
            if not self.proc.alive():
                return "dead"
            return re.search(r"listening on http://(127\.0\.0\.1:\d+)", self.proc.text())
        m = wait_until(started, START_TIMEOUT)
        if not m or m == "dead":
            self.proc.stop()
            raise BenchError("tether run did not start:\n" + self.proc.text(4000))
        host, port = m.group(1).split(":")
        self.host, self.port = host, int(port)

    def text(self, limit=None):
        return self.proc.text(limit)

    def request(self, method, path, body=None, headers=None, timeout=30.0):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def status(self):
        st, body = self.request("GET", "/status")
        if st != 200:
            raise BenchError("/status answered %d: %r" % (st, body[:300]))
        return json.loads(body)

    def metrics(self):
        st, body = self.request("GET", "/metrics")
        if st != 200:
            raise BenchError("/metrics answered %d: %r" % (st, body[:300]))
        return body.decode()

    def wait_applied(self, commit, timeout, period=0.05):
        """Poll /status until commit is applied and no pass runs; the status, or raise."""
        last = {}

        def check():
            if not self.proc.alive():
                raise BenchError("tether run exited:\n" + self.text(4000))
            s = last["s"] = self.status()
            return (s["applied"] is not None and s["applied"]["commit"] == commit
                    and not s["pass"]["running"]) and s
        s = wait_until(check, timeout, period)
        if not s:
            raise BenchError("commit %s not applied within %.0f s; state %s, pass %s\n%s"
                             % (commit[:12], timeout, last.get("s", {}).get("state"),
                                last.get("s", {}).get("pass"), self.text(4000)))
        return s

    def stop(self):
        rc = self.proc.stop()
        if rc != 0:
            raise BenchError("tether run exited %s after SIGTERM:\n%s" % (rc, self.text(4000)))
        return rc


def metric_values(text, name):
    """{labels string: value} for every sample of metric name (Prometheus text)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


def proc_usage(pid):
    """CPU seconds (user + system, the process's threads; children waited for apart) and
    memory (VmRSS, VmHWM in bytes) of a live process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    tck = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tck
    children = (int(fields[13]) + int(fields[14])) / tck
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                mem[k] = int(v.split()[0]) * 1024
    return {"cpu": cpu, "children_cpu": children, "rss": mem.get("VmRSS", 0),
            "hwm": mem.get("VmHWM", 0)}
