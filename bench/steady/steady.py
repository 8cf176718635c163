#!/usr/bin/python3
"""bench/steady: `tether run` in steady state over N functions in sync, drift passes on.

usage: steady.py --build DIR [--functions 1000] [--duration 600] [--drift 60s]
                 [--interval 1m] [--sample 2] [--workdir DIR] [--keep] [--json FILE] [-v]

1. Setup: an emulator without throttles and with --state FILE; N image functions svc-NNNN
   created with botocore (memory 256, timeout 30, STAGE=prod, image tag A); the emulator is
   stopped (it saves the model) and started again on that model with the real quotas,
   --throttle-rps 15 --getfunction-rps 100. A working repository and a bare origin served
   by `git daemon`; the desired state (functions/svc-NNNN.yaml, 50 documents a file: image
   tag B, the same memory, timeout and environment, `aliases: {live: current}`) committed
   and pushed. `tether run` follows it (interval --interval, drift_interval --drift) and
   deploys it: every function gets UpdateFunctionCode, a published version and `live`,
   through tether's 15/s limiter. Nothing is measured until /status shows the commit
   applied and no pass running.
2. Window (--duration seconds, nothing reset): at its start the emulator's counters and
   tether's /proc/PID/stat (utime + stime) and /proc/PID/status (VmRSS, VmHWM); VmRSS is
   sampled every --sample seconds; tether's log is read as it grows, and at the end of each
   drift pass ("drift pass over ... done in S s") the emulator's counters are read again,
   so each pass's calls are known exactly (between passes tether makes no Lambda call).
   Nothing polls tether's HTTP API during the window, so tether's CPU is its own.
3. Figures: drift passes completed in the window and their durations; shared-bucket calls
   (every operation but GetFunction and Invoke) per function per completed pass; CPU
   seconds / wall seconds over the window; peak RSS (VmHWM, the process's lifetime peak,
   the first deploy included) and the highest VmRSS sampled in the window; mutating calls
   in the window (must be 0).

Targets: shared calls per function per pass <= 1.05, CPU < 2 % of one core, peak RSS
< 64 MB. Exit 1 when one is missed, 2 when a run fails. Stdlib + botocore; /usr/bin/python3.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "latency"))

from benchlib import (ROLE, BenchError, Daemon, Emulator, Repo, image,  # noqa: E402
                      metric_values, mutations, proc_usage, serve_git_daemon,
                      shared_calls, stats_delta, wait_until, write_config, write_secret)

THROTTLES = ["--throttle-rps", "15", "--getfunction-rps", "100"]
TAG_A = "20250526-145140-0000000a"
TAG_B = "20250527-091502-0000000b"
PER_FILE = 50
MEMORY = 256
TIMEOUT = 30
TARGET_SHARED_PER_FN = 1.05
TARGET_CPU = 0.02
TARGET_RSS = 64 * 1024 * 1024

PASS_DONE = re.compile(r"^(\S+) info daemon: (drift|commit) pass over ([0-9a-f]+) done in "
                       r"([0-9.]+)s: (.*)$")
PASS_START = re.compile(r"^(\S+) info daemon: idle -> reconciling: (drift pass|new commit)")


def log(msg):
    print("steady: " + msg, file=sys.stderr, flush=True)


def log_time(stamp):
    """Epoch seconds of a log line's "2026-11-22T07:33:39.950Z"."""
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def fn_name(i):
    return "svc-%04d" % i


def write_desired(repo, n):
    for start in range(0, n, PER_FILE):
        docs = []
        for i in range(start, min(n, start + PER_FILE)):
            docs.append("function: %s\nimage: %s\nmemory: %d\ntimeout: %d\n"
                        "environment:\n  STAGE: prod\naliases:\n  live: current\n"
                        % (fn_name(i), image(fn_name(i), TAG_B), MEMORY, TIMEOUT))
        repo.write("functions/svc-%04d.yaml" % start, "---\n".join(docs))


def create_functions(emu, n):
    client = emu.client()

    def create(i):
        client.create_function(FunctionName=fn_name(i), Role=ROLE, PackageType="Image",
                               Code={"ImageUri": image(fn_name(i), TAG_A)},
                               MemorySize=MEMORY, Timeout=TIMEOUT,
                               Environment={"Variables": {"STAGE": "prod"}})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))


class LogTail:
    """tether's log, read as it grows: complete lines only."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def skip(self):
        with open(self.path, "rb") as f:
            f.seek(0, os.SEEK_END)
            self.offset = f.tell()

    def lines(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return data[:end].decode("utf-8", "replace").splitlines()


def run(args, work):
    procs = []
    emu = None
    model = os.path.join(work, "model.json")
    try:
        t = time.monotonic()
        emu = Emulator("--state", model, binary=args.emulator).start()
        create_functions(emu, args.functions)
        emu.stop()
        emu = None
        log("setup: %d functions created in %.1f s" % (args.functions, time.monotonic() - t))
        emu = Emulator("--state", model, *THROTTLES, binary=args.emulator).start()

        repo = Repo(work)
        write_desired(repo, args.functions)
        commit = repo.commit("images " + TAG_B)
        repo.push()
        gitd, url = serve_git_daemon(repo, work)
        procs.append(gitd)
        secret_file = os.path.join(work, "hook-secret")
        write_secret(secret_file)
        config = write_config(os.path.join(work, "tether.yaml"), url, emu.endpoint,
                              os.path.join(work, "state"), secret_file, args.interval,
                              args.drift)
        before = emu.stats()
        t = time.monotonic()
        d = Daemon(args.tether, config, work, args=["-v"] if args.verbose else [])
        procs.append(d.proc)
        log("setup: tether run (pid %d) deploys commit %s; at 15/s this takes a while"
            % (d.pid, commit[:12]))
        s = d.wait_applied(commit, args.deploy_timeout, period=2.0)
        deploy = {"wall_s": time.monotonic() - t, "calls": stats_delta(emu.stats(), before)}
        results = {}
        for f in s["functions"]:
            results[f["result"]] = results.get(f["result"], 0) + 1
        if len(s["functions"]) != args.functions or set(results) - {"converged", "in-sync"}:
            raise BenchError("first deploy: %d functions, results %r"
                             % (len(s["functions"]), results))
        deploy["results"] = results
        deploy["shared_per_fn"] = shared_calls(deploy["calls"]) / args.functions
        log("setup: deployed in %.1f s (%s), %.2f shared calls/function"
            % (deploy["wall_s"], results, deploy["shared_per_fn"]))

        window = measure(args, d, emu)
        metrics = d.metrics()
        window["metric_passes"] = metric_values(
            metrics, "tether_reconcile_duration_seconds_count").get("", 0.0)
        window["metric_fetches"] = metric_values(
            metrics, "tether_git_fetch_duration_seconds_count").get("", 0.0)
        window["status_state"] = d.status()["state"]
        d.stop()
        procs.remove(d.proc)
        return deploy, window
    finally:
        for p in reversed(procs):
            p.stop()
        if emu is not None:
            emu.stop()


def measure(args, d, emu):
    """The steady-state window: see the module's doc, step 2."""
    tail = LogTail(d.log_path)
    opened = {}

    def open_window():
        """Idle when the counters are read, and no pass started around it."""
        tail.skip()
        if d.status()["state"] != "idle":
            return False
        opened["w0"], opened["u0"], opened["s0"] = (time.monotonic(), proc_usage(d.pid),
                                                    emu.stats())
        return not any(PASS_START.match(x) for x in tail.lines())
    if not wait_until(open_window, 600, 0.5):
        raise BenchError("tether was never idle for long enough to open the window")
    w0, u0, s0 = opened["w0"], opened["u0"], opened["s0"]
    log("window: %d s from now (pid %d, VmRSS %.1f MB, VmHWM %.1f MB)"
        % (args.duration, d.pid, u0["rss"] / 2**20, u0["hwm"] / 2**20))

    passes, rss, starts, other = [], [], [], []
    last_stats, last_cpu = s0, u0["cpu"]
    next_sample = w0
    end = w0 + args.duration
    while True:
        now = time.monotonic()
        if not d.proc.alive():
            raise BenchError("tether run exited during the window:\n" + d.text(4000))
        if now >= next_sample:
            u = proc_usage(d.pid)
            rss.append((now - w0, u["rss"], u["hwm"], u["cpu"] - u0["cpu"]))
            next_sample += args.sample
        for line in tail.lines():
            m = PASS_DONE.match(line)
            if m:
                st = emu.stats()
                cpu = proc_usage(d.pid)["cpu"]
                delta = stats_delta(st, last_stats)
                # Exact when no call came after the pass ended (the next pass had not
                # started when the counters were read).
                ended = log_time(m.group(1))
                late = {op: t for op, t in st["last"].items() if t > ended + 0.002
                        and st["operations"][op] != last_stats["operations"].get(op, 0)}
                passes.append({"at_s": time.monotonic() - w0, "kind": m.group(2),
                               "seconds": float(m.group(4)), "results": m.group(5),
                               "calls": delta, "shared": shared_calls(delta),
                               "cpu_s": cpu - last_cpu, "clean": not late})
                last_stats, last_cpu = st, cpu
                log("window: %s pass done in %.1f s at +%.0f s: %d shared calls (%.3f/fn), "
                    "%.2f CPU s%s; %s" % (m.group(2), float(m.group(4)), passes[-1]["at_s"],
                                          passes[-1]["shared"],
                                          passes[-1]["shared"] / args.functions,
                                          passes[-1]["cpu_s"],
                                          "" if not late else " (next pass already started)",
                                          m.group(5)))
                continue
            m = PASS_START.match(line)
            if m:
                starts.append(time.monotonic() - w0)
                continue
            if " warn drift: " in line or " error " in line or "commit pass" in line:
                other.append(line)
        if now >= end:
            break
        time.sleep(min(0.2, max(0.0, end - now)))
    w1 = time.monotonic()
    u1 = proc_usage(d.pid)
    s1 = emu.stats()
    total = stats_delta(s1, s0)
    return {
        "duration_s": w1 - w0, "cpu_s": u1["cpu"] - u0["cpu"],
        "children_cpu_s": u1["children_cpu"] - u0["children_cpu"],
        "hwm_start": u0["hwm"], "hwm_end": u1["hwm"], "rss_start": u0["rss"],
        "rss_end": u1["rss"], "rss_max_sampled": max(r[1] for r in rss),
        "rss_samples": rss, "passes": passes, "pass_starts": starts,
        "calls": total, "mutations": mutations(total), "shared": shared_calls(total),
        "throttled": s1["throttled"] - s0["throttled"], "other_log": other[:20],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--functions", "-n", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=600.0,
                    help="seconds of steady state measured (default 600)")
    ap.add_argument("--drift", default="60s", help="drift_interval (default 60s)")
    ap.add_argument("--interval", default="1m", help="the fetch interval (default 1m)")
    ap.add_argument("--sample", type=float, default=2.0,
                    help="seconds between RSS samples (default 2)")
    ap.add_argument("--deploy-timeout", type=float, default=1800.0,
                    help="seconds the first deploy may take (default 1800)")
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="tether -v (debug logging costs CPU: not for measuring)")
    args = ap.parse_args()
    if not 1 <= args.functions <= 9999 or args.duration <= 0:
        ap.error("--functions must be 1..9999 and --duration positive")
    args.build = os.path.abspath(args.build)
    args.tether = os.path.join(args.build, "tether")
    args.emulator = os.path.join(args.build, "tether-emulator")

    made_tmp = args.workdir is None
    work = tempfile.mkdtemp(prefix="tether-bench-steady-") if made_tmp else args.workdir
    if not made_tmp:
        os.makedirs(work, exist_ok=False)
    try:
        deploy, w = run(args, work)
    except BenchError as e:
        print("steady: FAILED: %s" % e, file=sys.stderr)
        return 2
    finally:
        if made_tmp and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif made_tmp:
            log("kept %s" % work)
    return report(args, deploy, w)


def report(args, deploy, w):
    n = args.functions
    drift = [p for p in w["passes"] if p["kind"] == "drift"]
    clean = [p for p in drift if p["clean"]]
    shared_pp = (sum(p["shared"] for p in clean) / (n * len(clean))) if clean else float("inf")
    cpu = w["cpu_s"] / w["duration_s"]
    peak = w["hwm_end"]
    p = print
    p("== bench/steady: %d functions in sync, drift_interval %s, interval %s, %.0f s window"
      % (n, args.drift, args.interval, w["duration_s"]))
    p("   emulator %s" % " ".join(THROTTLES))
    p("first deploy        %.1f s, %.2f shared calls/function, %s"
      % (deploy["wall_s"], deploy["shared_per_fn"], deploy["results"]))
    p("        per function: %s" % ", ".join(
        "%s %.3f" % (op, v / n) for op, v in sorted(deploy["calls"].items())))
    p("drift passes        %d completed in the window (tether_reconcile_duration_seconds_count "
      "%d at the end, first deploy included), %d started"
      % (len(drift), w["metric_passes"], len(w["pass_starts"])))
    if drift:
        secs = [x["seconds"] for x in drift]
        p("pass duration       min %.1f s, max %.1f s, mean %.1f s"
          % (min(secs), max(secs), sum(secs) / len(secs)))
        ops = {}
        for x in clean:
            for op, v in x["calls"].items():
                ops[op] = ops.get(op, 0) + v
        p("calls per function per pass: %s" % ", ".join(
            "%s %.3f" % (op, v / (n * len(clean))) for op, v in sorted(ops.items())))
        p("CPU per pass        %s s" % ", ".join("%.2f" % x["cpu_s"] for x in drift))
    p("window calls        %s; shared %d; 429s %d; mutating %s"
      % (json.dumps(w["calls"], sort_keys=True), w["shared"], w["throttled"],
         w["mutations"] or "none"))
    p("CPU                 %.2f s over %.0f s = %.3f %% of one core (children %.2f s)"
      % (w["cpu_s"], w["duration_s"], cpu * 100, w["children_cpu_s"]))
    p("memory              VmHWM %.1f MB (at window start %.1f MB), VmRSS %.1f -> %.1f MB, "
      "highest sampled %.1f MB" % (peak / 2**20, w["hwm_start"] / 2**20,
                                    w["rss_start"] / 2**20, w["rss_end"] / 2**20,
                                    w["rss_max_sampled"] / 2**20))
    if w["other_log"]:
        p("log lines of note   %d, e.g. %s" % (len(w["other_log"]), w["other_log"][0][:200]))
    checks = [
        (bool(clean) and shared_pp <= TARGET_SHARED_PER_FN,
         "shared calls per function per drift pass %.3f <= %.2f (%d passes counted)"
         % (shared_pp, TARGET_SHARED_PER_FN, len(clean))),
        (cpu < TARGET_CPU, "CPU %.3f %% < %.0f %% of one core" % (cpu * 100, TARGET_CPU * 100)),
        (peak < TARGET_RSS, "peak RSS (VmHWM) %.1f MB < %d MB" % (peak / 2**20,
                                                              TARGET_RSS // 2**20)),
        (not w["mutations"], "mutating calls in the window: %d == 0"
         % sum(w["mutations"].values())),
    ]
    for ok, what in checks:
        p("%s  %s" % ("PASS" if ok else "MISS", what))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"deploy": deploy, "window": w, "shared_per_fn_pass": shared_pp,
                       "cpu_fraction": cpu}, f, indent=1)
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
