#!/usr/bin/python3
"""Commits tether must refuse (docs/daemon.md): invalid YAML, and with `verify: ssh` an
unsigned commit and one signed by a key allowed_signers does not list. Each is refused with
the last good commit kept enforced, the reason in /status, a metric, a log line and a
notification (a generic target, signed); a commit signed with an allowed key (ssh-keygen,
git -c gpg.format=ssh) is applied."""
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import unittest

from daemonlib import DaemonCase, image, metric_values, wait_until


class Receiver:
    """A loopback HTTP server collecting notification POSTs (headers and JSON bodies)."""

    def __init__(self, test):
        got = self.got = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        test.addCleanup(self.stop)
        self.url = "http://127.0.0.1:%d/tether" % self.srv.server_port

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def events(self, kind):
        return [json.loads(b) for h, b in self.got if h.get("X-Tether-Event") == kind]


class Reject(DaemonCase):
    def ssh_key(self, name):
        path = os.path.join(self.tmp, name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path],
                       check=True)
        with open(path + ".pub") as f:
            return path, f.read().strip()

    def signed_commit(self, key, message):
        self.repo.git("add", "-A")
        self.repo.git("-c", "gpg.format=ssh", "-c", "user.signingkey=" + key, "commit", "-q",
                      "-S", "-m", message)
        return self.push()

    def setUp(self):
        super().setUp()
        self.recv = Receiver(self)
        self.notify_key = os.path.join(self.tmp, "notify-key")
        with open(self.notify_key, "w") as f:
            f.write("nk-" + os.urandom(8).hex())
        os.chmod(self.notify_key, 0o600)

    def notify_yaml(self):
        return ("notify:\n  - url: %s\n    kind: generic\n    secret_file: %s\n" % (
            self.recv.url, self.notify_key))

    def check_signed(self, headers, body):
        with open(self.notify_key) as f:
            key = f.read().strip()
        want = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        self.assertEqual(headers.get("X-Tether-Signature-256"), want)

    def refused(self, d, commit, kind, good):
        s = d.wait_status(lambda s: s["rejected"] is not None and s["rejected"]["commit"] ==
                          commit, 20, "%s refused" % commit[:12])
        self.assertEqual(s["rejected"]["kind"], kind, s["rejected"])
        self.assertEqual(s["commit"]["id"], good, "the last good commit stays enforced")
        self.assertIn("refused (%s)" % kind, d.text())
        m = metric_values(d.metrics(), "tether_commits_rejected_total")
        self.assertGreaterEqual(m.get('{reason="%s"}' % kind, 0), 1, m)
        ev = wait_until(lambda: [e for e in self.recv.events("commit_rejected")
                                 if e["commit"] == commit], 10)
        self.assertTrue(ev, self.recv.got)
        self.assertIsNone(ev[0]["function"])
        return s

    def test_invalid_yaml_is_refused(self):
        url = self.serve_git_daemon()
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        good = self.commit_push("good")
        d = self.start(self.write_config(url, extra=self.notify_yaml()))
        d.wait_applied(good)
        self.repo.write("functions/api.yaml",
                        "function: api\nimage: %s\naliases:\n  live: [current\n" %
                        image("api", "v2"))
        bad = self.commit_push("broken yaml")
        d.hook("generic", b"{}", secret=self.secret)
        s = self.refused(d, bad, "invalid", good)
        self.assertRegex(s["rejected"]["reason"], r"^functions/api\.yaml:\d+:\d+: ")
        self.assertEqual(self.alias("api")[0], "1")
        self.assertEqual(len(self.versions("api")), 1)
        # The deploy was notified, signed; the refusal only once however often fetched.
        self.assertTrue(wait_until(lambda: self.recv.events("deployed"), 10), self.recv.got)
        for h, b in self.recv.got:
            self.check_signed(h, b)
        d.hook("generic", b"{}", secret=self.secret)
        wait_until(lambda: d.status()["fetch"]["count"] >= 3, 10)
        self.assertEqual(len([e for e in self.recv.events("commit_rejected")
                              if e["commit"] == bad]), 1, self.recv.got)
        # Fixing it deploys and clears the refusal.
        self.write_functions(["api"], "v2")
        fixed = self.commit_push("fixed")
        d.hook("generic", b"{}", secret=self.secret)
        s = d.wait_applied(fixed)
        self.assertIsNone(s["rejected"])
        self.assertEqual(self.version_image("api", self.alias("api")[0]), image("api", "v2"))

    def test_signatures(self):
        url = self.serve_git_daemon()
        key, pub = self.ssh_key("deployer")
        other, _ = self.ssh_key("stranger")
        signers = os.path.join(self.tmp, "allowed_signers")
        with open(signers, "w") as f:
            f.write("deployer@example.com namespaces=\"git\" %s\n" % pub)
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        good = self.signed_commit(key, "signed v1")
        d = self.start(self.write_config(url, extra=self.notify_yaml() + (
            "verify:\n  mode: ssh\n  allowed_signers: %s\n" % signers)))
        d.wait_applied(good)
        self.assertIn("signed by deployer@example.com", d.text())

        self.write_functions(["api"], "v2")
        unsigned = self.commit_push("unsigned v2")
        d.hook("generic", b"{}", secret=self.secret)
        self.refused(d, unsigned, "unsigned", good)

        self.write_functions(["api"], "v3")
        stranger = self.signed_commit(other, "v3 by a stranger")
        d.hook("generic", b"{}", secret=self.secret)
        s = self.refused(d, stranger, "unknown-key", good)
        self.assertIn("SHA256:", s["rejected"]["reason"])
        self.assertEqual(self.alias("api")[0], "1")
        self.assertEqual(len(self.versions("api")), 1)

        self.write_functions(["api"], "v4")
        signed = self.signed_commit(key, "signed v4")
        d.hook("generic", b"{}", secret=self.secret)
        s = d.wait_applied(signed)
        self.assertIsNone(s["rejected"])
        self.assertEqual(self.version_image("api", self.alias("api")[0]), image("api", "v4"))


if __name__ == "__main__":
    unittest.main()
