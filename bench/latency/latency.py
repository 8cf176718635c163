#!/usr/bin/python3
"""bench/latency: tether's own latency from a webhook to its first mutating Lambda call.

usage: latency.py --build DIR [--pushes 50] [--functions 5] [--update-delay-ms 500]
                  [--workdir DIR] [--keep] [--json FILE]

Setup: a tether-emulator (default options plus --update-delay-ms 500), N image functions
created with botocore (tag v0), a working repository and a bare origin served by
`git daemon`, the first desired state (tag v1, `aliases: {live: current}`) committed and
pushed, and `tether run` following it with interval 1h (so only webhooks fetch),
drift_interval off and webhook.rate 600. The first commit is deployed before anything is
measured.

Then, --pushes times: one function (in turn) gets a new image tag; commit; `git push` to
the origin (it has exited, so the origin has the commit); t0 = time.time() just before the
signed generic webhook is sent; /status is polled until that commit is applied and no pass
runs. The emulator's /_emulator/stats then give UpdateFunctionCode's count (it must have
gone up by exactly 1) and t1, the wall time of its last request: the first mutating call
of that push. Latency = t1 - t0. PublishVersion and UpdateAlias must each have gone up by 1
and have come after t1, and the function's `live` alias must be on a version with the new
image (botocore), so a push that did not deploy fails the run.

Prints p50/p90/p99/max of the latency, of webhook-to-converged and push-to-converged;
exits 1 when p99 >= 100 ms, 2 when a run fails.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import (ROLE, UNTHROTTLED, BenchError, Daemon, Emulator, Repo,  # noqa: E402
                      image, is_mutation, metric_values, mutations, percentile,
                      serve_git_daemon, sign, stats_delta, write_config, write_secret)

TARGET_P99_MS = 100.0
APPLY_TIMEOUT = 60.0


def log(msg):
    print("latency: " + msg, file=sys.stderr, flush=True)


def fn_name(i):
    return "lat-%02d" % i


def function_doc(name, tag):
    return "function: %s\nimage: %s\naliases:\n  live: current\n" % (name, image(name, tag))


def push_body(commit):
    return json.dumps({"ref": "refs/heads/main", "after": commit, "before": "0" * 40,
                       "repository": {"default_branch": "main"}}).encode()


class AccessLog:
    """The emulator's --access-log (one JSON line per Lambda request), read as it grows."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def read(self):
        """The records appended since the last read."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        return [json.loads(line) for line in data[:end].splitlines() if line.strip()]


def fetch_seconds(d):
    """(sum, count) of tether_git_fetch_duration_seconds."""
    text = d.metrics()
    s = metric_values(text, "tether_git_fetch_duration_seconds_sum").get("", 0.0)
    c = metric_values(text, "tether_git_fetch_duration_seconds_count").get("", 0.0)
    return s, c


def run(args, work):
    procs = []
    access = AccessLog(os.path.join(work, "access.jsonl"))
    emu = Emulator("--update-delay-ms", str(args.update_delay_ms), "--access-log", access.path,
                   binary=os.path.join(args.build, "tether-emulator")).start()
    try:
        lam = emu.client()
        names = [fn_name(i) for i in range(args.functions)]
        for n in names:
            lam.create_function(FunctionName=n, Role=ROLE, PackageType="Image",
                                Code={"ImageUri": image(n, "v0")})
        for n in names:
            lam.get_waiter("function_active_v2").wait(
                FunctionName=n, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})

        repo = Repo(work)
        for n in names:
            repo.write("functions/%s.yaml" % n, function_doc(n, "v1"))
        first = repo.commit("first")
        repo.push()
        gitd, url = serve_git_daemon(repo, work)
        procs.append(gitd)
        secret_file = os.path.join(work, "hook-secret")
        secret = write_secret(secret_file)
        config = write_config(os.path.join(work, "tether.yaml"), url, emu.endpoint,
                              os.path.join(work, "state"), secret_file, "1h", "off",
                              extra="  rate: 600\n")
        d = Daemon(os.path.join(args.build, "tether"), config, work,
                   args=["-v"] if args.verbose else [])
        procs.append(d.proc)
        d.wait_applied(first, APPLY_TIMEOUT)
        log("first commit %s applied; %d pushes follow" % (first[:12], args.pushes))

        rows = []
        for k in range(args.pushes):
            n = names[k % len(names)]
            tag = "p%03d" % k
            repo.write("functions/%s.yaml" % n, function_doc(n, tag))
            commit = repo.commit("%s %s" % (n, tag))
            tp = time.time()
            repo.push()
            access.read()  # everything before this push
            before = emu.stats()
            fbefore = fetch_seconds(d)
            body = push_body(commit)
            headers = {"Content-Type": "application/json",
                       "X-Tether-Signature-256": sign(secret, body)}
            t0 = time.time()
            st, resp = d.request("POST", "/hooks/generic", body=body, headers=headers)
            if st != 202 or json.loads(resp).get("result") != "trigger":
                raise BenchError("push %d: webhook answered %d %r" % (k, st, resp[:300]))
            d.wait_applied(commit, APPLY_TIMEOUT, period=args.poll)
            tc = time.time()
            after = emu.stats()
            fafter = fetch_seconds(d)
            delta = stats_delta(after, before)
            muts = mutations(delta)
            want = {"UpdateFunctionCode": 1, "PublishVersion": 1, "UpdateAlias": 1}
            if muts != want:
                raise BenchError("push %d (%s): mutating calls %r, expected %r"
                                 % (k, n, muts, want))
            t1 = after["last"]["UpdateFunctionCode"]
            for op in ("PublishVersion", "UpdateAlias"):
                if after["last"][op] < t1:
                    raise BenchError("push %d: %s at %.3f before UpdateFunctionCode at %.3f"
                                     % (k, op, after["last"][op], t1))
            if t1 < t0 - 0.001:
                raise BenchError("push %d: UpdateFunctionCode at %.3f before the webhook at "
                                 "%.3f" % (k, t1, t0))
            alias = lam.get_alias(FunctionName=n, Name="live")
            got = lam.get_function(FunctionName=n, Qualifier=alias["FunctionVersion"])
            if got["Code"].get("ImageUri") != image(n, tag):
                raise BenchError("push %d: %s live=%s has %s, expected %s"
                                 % (k, n, alias["FunctionVersion"], got["Code"].get("ImageUri"),
                                    image(n, tag)))
            fetches = fafter[1] - fbefore[1]
            # The emulator's record of this push's calls up to the first mutating one.
            recs = [r for r in access.read() if r["t"] >= t0 - 0.001]
            first_mut = [i for i, r in enumerate(recs) if is_mutation(r["op"])]
            if not first_mut or recs[first_mut[0]]["op"] != "UpdateFunctionCode":
                raise BenchError("push %d: the access log's first mutating call is not "
                                 "UpdateFunctionCode: %r" % (k, recs[-10:]))
            early = recs[:first_mut[0] + 1]
            before_ufc = early[:-1]
            rows.append({
                "push": k, "function": n, "commit": commit,
                "latency_ms": (t1 - t0) * 1000.0,
                "hook_to_converged_ms": (tc - t0) * 1000.0,
                "push_to_converged_ms": (tc - tp) * 1000.0,
                "push_ms": (t0 - tp) * 1000.0,
                "fetches": fetches,
                "to_first_call_ms": (early[0]["t"] - t0) * 1000.0,
                "first_call_to_mutation_ms": (t1 - early[0]["t"]) * 1000.0,
                "shared_before": sum(1 for r in before_ufc if r["op"] not in UNTHROTTLED),
                "getfunction_before": sum(1 for r in before_ufc if r["op"] == "GetFunction"),
                "fetch_ms": (fafter[0] - fbefore[0]) * 1000.0 / fetches if fetches else None,
                "calls": delta,
            })
            log("push %2d %s: webhook -> UpdateFunctionCode %6.1f ms (fetch %5.1f, first call "
                "%5.1f, then %d shared + %d GetFunction calls), converged %6.0f ms"
                % (k, n, rows[-1]["latency_ms"], rows[-1]["fetch_ms"] or 0,
                   rows[-1]["to_first_call_ms"], rows[-1]["shared_before"],
                   rows[-1]["getfunction_before"], rows[-1]["hook_to_converged_ms"]))
            # Nothing in flight before the next push.
            time.sleep(args.gap)

        d.stop()
        procs.remove(d.proc)
        return rows, emu.stats()
    finally:
        for p in reversed(procs):
            p.stop()
        emu.stop()


def summary(rows, key):
    v = [r[key] for r in rows if r[key] is not None]
    return {"p50": percentile(v, 50), "p90": percentile(v, 90), "p99": percentile(v, 99),
            "max": max(v), "min": min(v), "mean": sum(v) / len(v)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--pushes", type=int, default=50)
    ap.add_argument("--functions", type=int, default=5)
    ap.add_argument("--update-delay-ms", type=int, default=500)
    ap.add_argument("--poll", type=float, default=0.02,
                    help="seconds between /status polls while waiting (default 0.02)")
    ap.add_argument("--gap", type=float, default=1.2,
                    help="seconds of quiet between a push converging and the next one "
                         "(default 1.2: each push finds the API quiet for a second, as "
                         "pushes minutes apart do; 0.2 measures back-to-back pushes)")
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="tether -v (debug log in the work directory; it costs time)")
    ap.add_argument("--json", help="also write every push's figures as JSON to this file")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if not 1 <= args.functions <= 100 or args.pushes < 1:
        ap.error("--functions must be 1..100 and --pushes at least 1")

    made_tmp = args.workdir is None
    work = tempfile.mkdtemp(prefix="tether-bench-latency-") if made_tmp else args.workdir
    if not made_tmp:
        os.makedirs(work, exist_ok=False)
    try:
        rows, _ = run(args, work)
    except BenchError as e:
        print("latency: FAILED: %s" % e, file=sys.stderr)
        return 2
    finally:
        if made_tmp and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif made_tmp:
            log("kept %s" % work)

    lat = summary(rows, "latency_ms")
    hook = summary(rows, "hook_to_converged_ms")
    push = summary(rows, "push_to_converged_ms")
    fetch = summary(rows, "fetch_ms")
    ok = lat["p99"] < TARGET_P99_MS
    print("== bench/latency: %d pushes, %d image functions, emulator --update-delay-ms %d"
          % (len(rows), args.functions, args.update_delay_ms))
    for label, s in (("webhook -> first mutating call", lat),
                     ("  webhook -> first Lambda call", summary(rows, "to_first_call_ms")),
                     ("    of which git fetch (tether metric)", fetch),
                     ("  first Lambda call -> first mutating", summary(
                         rows, "first_call_to_mutation_ms")),
                     ("webhook -> /status applied", hook),
                     ("push -> /status applied", push)):
        print("%-38s p50 %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f ms"
              % (label, s["p50"], s["p90"], s["p99"], s["max"]))
    calls = {}
    for r in rows:
        key = (r["shared_before"], r["getfunction_before"])
        calls.setdefault(key, []).append(r["latency_ms"])
    for (sh, gf), v in sorted(calls.items()):
        print("  %2d pushes with %d shared-bucket + %d GetFunction calls before it: "
              "latency p50 %.1f ms" % (len(v), sh, gf, percentile(v, 50)))
    print("%s  webhook -> first mutating call p99 %.1f ms < %.0f ms"
          % ("PASS" if ok else "MISS", lat["p99"], TARGET_P99_MS))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pushes": rows, "latency": lat, "hook_to_converged": hook,
                       "push_to_converged": push, "fetch": fetch}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
