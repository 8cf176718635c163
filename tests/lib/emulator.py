"""Start, query and stop one tether-emulator process for a test.

Stdlib only (plus botocore for the clients). The emulator binary comes from
$TETHER_EMULATOR (set by ctest through TETHER_TEST_ENV). Every emulator listens on
127.0.0.1 with a kernel-chosen port that it writes to a port file; it is stopped by PID
with SIGTERM and must then exit with status 0 (a crash, a sanitizer report or a leak
under ASan makes the exit status nonzero, and that fails the test).
"""

import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from timescale import scaled

ACCOUNT = "123456789012"
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
START_TIMEOUT = scaled(15.0)  # seconds: ASan builds start slower, valgrind more so
STOP_TIMEOUT = scaled(15.0)


def _die_with_parent():
    """In the child before exec: get SIGTERM when the test process dies (say, killed by a
    ctest TIMEOUT), so no emulator outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class EmulatorError(AssertionError):
    """The emulator could not start, died, or exited uncleanly."""


def emulator_binary():
    path = os.environ.get("TETHER_EMULATOR")
    if not path:
        raise EmulatorError("TETHER_EMULATOR is not set (run the suite through ctest)")
    if not os.access(path, os.X_OK):
        raise EmulatorError("TETHER_EMULATOR=%s is not executable" % path)
    return path


class Emulator:
    """One emulator process. Use as a context manager or call start()/stop()."""

    def __init__(self, *args, binary=None):
        self.args = [str(a) for a in args]
        self.binary = binary or emulator_binary()
        self.tmpdir = None
        self.proc = None
        self.port = None
        self.log_path = None
        self._log = None
        self._clients = []

    # -- process ---------------------------------------------------------------------

    def start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="tether-conf-")
        port_file = os.path.join(self.tmpdir, "port")
        self.log_path = os.path.join(self.tmpdir, "emulator.log")
        self._log = open(self.log_path, "wb")
        argv = [self.binary, "--listen", "127.0.0.1:0", "--port-file", port_file] + self.args
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            port = _read_port(port_file)
            if port is not None:
                self.port = port
                break
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._cleanup()
                raise EmulatorError(
                    "emulator exited with %s before writing its port file\n%s"
                    % (rc, self._saved_log)
                )
            if time.monotonic() > deadline:
                self._kill()
                raise EmulatorError("emulator wrote no port file within %.0f s" % START_TIMEOUT)
            time.sleep(0.01)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True):
        """SIGTERM by PID, wait, and (with check) require exit status 0. Returns the status."""
        for client in self._clients:
            client.close()
        self._clients = []
        if self.proc is None:
            return None
        crashed = self.proc.poll() is not None
        if not crashed:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise EmulatorError("emulator did not exit within %.0f s of SIGTERM" % STOP_TIMEOUT)
        log = self.log_text()
        self.proc = None
        self._cleanup()
        if check and crashed:
            raise EmulatorError("emulator died before it was stopped (status %s)\n%s" % (rc, log))
        if check and rc != 0:
            raise EmulatorError("emulator exited with status %s after SIGTERM\n%s" % (rc, log))
        return rc

    def log_text(self, limit=20000):
        if self._log is not None:
            self._log.flush()
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except (OSError, TypeError):
            return getattr(self, "_saved_log", "")
        return data[-limit:].decode("utf-8", "replace")

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self._cleanup()

    def _cleanup(self):
        self._saved_log = self.log_text() if self.log_path else ""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
            self.log_path = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        # Only insist on a clean exit when the body itself succeeded.
        self.stop(check=exc_type is None)
        return False

    # -- addresses -------------------------------------------------------------------

    @property
    def host(self):
        return "127.0.0.1"

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    # -- plain HTTP ------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=None):
        """One unsigned request on a fresh connection. Returns (status, headers, body)."""
        if isinstance(body, str):
            body = body.encode()
        if timeout is None:
            timeout = scaled(15.0)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, data
        finally:
            conn.close()

    def signed_request(self, method, path, body=b"", headers=None, access_key=ACCESS_KEY,
                       secret_key=SECRET_KEY, token=None, region=REGION):
        """A request signed by botocore's SigV4Auth. Returns (status, headers, body)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        if isinstance(body, str):
            body = body.encode()
        hdrs = {"Host": "%s:%d" % (self.host, self.port)}
        hdrs.update(headers or {})
        req = AWSRequest(method=method, url=self.endpoint + path, data=body, headers=hdrs)
        SigV4Auth(Credentials(access_key, secret_key, token), "lambda", region).add_auth(req)
        return self.request(method, path, body=body or None, headers=dict(req.headers.items()))

    # -- admin API -------------------------------------------------------------------

    def admin(self, method, path, obj=None):
        body = None if obj is None else json.dumps(obj).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        status, hdrs, data = self.request(method, path, body=body, headers=headers)
        if status >= 300:
            raise EmulatorError("%s %s -> %d %r" % (method, path, status, data[:500]))
        return json.loads(data) if data.strip() else None

    def stats(self):
        return self.admin("GET", "/_emulator/stats")

    def reset(self):
        return self.admin("POST", "/_emulator/reset")

    def set_invoke(self, key, payload, function_error=None):
        """What Invoke returns for functions whose image URI or CodeSha256 is key."""
        obj = {"key": key, "payload": payload}
        if function_error is not None:
            obj["function_error"] = function_error
        return self.admin("PUT", "/_emulator/invoke", obj)

    # -- botocore --------------------------------------------------------------------

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, token=None,
               validate=True, region=REGION, read_timeout=None):
        """A botocore Lambda client for this emulator, with retries off so every error shows."""
        import botocore.session
        from botocore.config import Config

        cfg = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            parameter_validation=validate,
            connect_timeout=scaled(5),
            read_timeout=scaled(15) if read_timeout is None else read_timeout,
        )
        session = botocore.session.get_session()
        client = session.create_client(
            "lambda",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            config=cfg,
        )
        self._clients.append(client)  # closed by stop()
        return client


def _read_port(path):
    try:
        with open(path, "r") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    m = re.fullmatch(r"\s*(?:\S*:)?(\d{1,5})\s*", text)
    if not m:
        return None
    port = int(m.group(1))
    if not 0 < port < 65536:
        return None
    # The file is complete once something accepts on the port.
    try:
        socket.create_connection(("127.0.0.1", port), timeout=scaled(1.0)).close()
    except OSError:
        return None
    return port
