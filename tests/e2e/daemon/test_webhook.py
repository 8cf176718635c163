#!/usr/bin/python3
"""Webhooks (docs/webhooks.md) on a running `tether run`: a wrong signature or token is 401
and fetches nothing; a push to another ref is ignored; a flood of 1,000 valid deliveries
causes a bounded number of fetches (the limiter: a burst of 3, then webhook.rate a
minute); the body cap answers 413."""
import http.client
import json
import threading
import time
import unittest

from daemonlib import DaemonCase, metric_values, push_body, sign, wait_until

FLOOD = 1000
THREADS = 8


class Webhook(DaemonCase):
    def setUp(self):
        super().setUp()
        url = self.serve_git_daemon()
        self.seed_functions(["api"])
        self.write_functions(["api"], "v1")
        self.first = self.commit_push("first")
        self.d = self.start(self.write_config(url, extra="  rate: 30\n  max_body: 4KiB\n"))
        self.d.wait_applied(self.first)

    def fetches(self):
        return self.d.status()["fetch"]["count"]

    def test_bad_signatures_fetch_nothing(self):
        d = self.d
        n = self.fetches()
        body = push_body("refs/heads/main", self.first)
        cases = [
            ("github", {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign("wrong", body)}),
            ("github", {"X-GitHub-Event": "push"}),
            ("github", {"X-GitHub-Event": "push",
                        "X-Hub-Signature-256": sign(self.secret, body + b" ")}),
            ("gitlab", {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "nope"}),
            ("generic", {"X-Tether-Signature-256": "sha256=" + "0" * 64}),
        ]
        for provider, headers in cases:
            headers["Content-Type"] = "application/json"
            st, _, resp = d.request("POST", "/hooks/" + provider, body=body, headers=headers)
            self.assertEqual(st, 401, (provider, headers, resp))
            self.assertEqual(json.loads(resp)["result"], "unauthorized")
        # Another branch: authentic, ignored.
        st, _, resp = d.hook("github", push_body("refs/heads/dev", self.first), self.secret)
        self.assertEqual((st, json.loads(resp)["result"]), (200, "ignored"))
        # Over the body cap (4 KiB): 413 before any hashing.
        big = b"{" + b" " * 8192 + b"}"
        st, _, _ = d.hook("generic", big, secret=self.secret)
        self.assertEqual(st, 413)
        time.sleep(1.0)
        self.assertEqual(self.fetches(), n, "a refused delivery caused a fetch")
        m = metric_values(d.metrics(), "tether_webhook_deliveries_total")
        self.assertEqual(m.get('{provider="github",result="unauthorized"}'), 3.0, m)
        self.assertEqual(m.get('{provider="gitlab",result="unauthorized"}'), 1.0, m)
        self.assertEqual(m.get('{provider="github",result="ignored"}'), 1.0, m)
        # And a good token is accepted.
        st, _, resp = d.hook("gitlab", push_body("refs/heads/main", self.first), self.secret)
        self.assertEqual(st, 202, resp)
        self.assertTrue(wait_until(lambda: self.fetches() == n + 1, 10))

    def test_flood_is_bounded(self):
        d = self.d
        n0 = self.fetches()
        body = push_body("refs/heads/main", self.first)
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "push",
                   "X-Hub-Signature-256": sign(self.secret, body)}
        host, port = d.addr.split(":")
        statuses = []
        lock = threading.Lock()

        def send(count):
            c = http.client.HTTPConnection(host, int(port), timeout=10)
            got = []
            for _ in range(count):
                c.request("POST", "/hooks/github", body=body, headers=headers)
                r = c.getresponse()
                r.read()
                got.append(r.status)
            c.close()
            with lock:
                statuses.extend(got)
        t0 = time.monotonic()
        threads = [threading.Thread(target=send, args=(FLOOD // THREADS,))
                   for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        took = time.monotonic() - t0
        self.assertEqual(statuses, [202] * FLOOD)
        time.sleep(2.5)
        fetched = self.fetches() - n0
        # A burst of 3, then 30 a minute (one per 2 s) while the flood lasts, and one more
        # queued after it; polls (every minute) may add one.
        bound = 3 + int(took / 2.0) + 2
        self.assertGreaterEqual(fetched, 1)
        self.assertLessEqual(fetched, bound, "%d fetches for %d deliveries in %.1fs" % (
            fetched, FLOOD, took))
        m = metric_values(d.metrics(), "tether_webhook_deliveries_total")
        self.assertEqual(m.get('{provider="github",result="trigger"}'), float(FLOOD), m)
        print("flood: %d deliveries in %.2fs -> %d fetches (bound %d)" % (
            FLOOD, took, fetched, bound))


if __name__ == "__main__":
    unittest.main()
