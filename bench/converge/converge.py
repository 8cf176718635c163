#!/usr/bin/python3
"""bench/converge: N image functions get a new image in one commit (issue 5).

usage: converge.py --build DIR [--functions N] [--concurrency 8,16] [--baseline]
                   [--baseline-only] [--waiter function-updated|function-updated-v2]
                   [--workdir DIR] [--keep]

1. Setup (emulator without throttles, --state FILE): create N image functions with
   botocore, commit tag A and tag B of the desired state (functions/*.yaml, 50 documents
   a file, `aliases: {live: current}`), run `tether apply --ref A` (the first deploy: it
   publishes version 1, creates `live` and fills the state directory's version cache),
   stop the emulator (it saves the model). The model and the state directory are kept as
   the starting point of every measured run.
2. Change, per --concurrency C: from that starting point, an emulator with
   --throttle-rps 15 --getfunction-rps 100 --latency-ms 30 --update-delay-ms 500, and
   `tether apply --ref B --concurrency C`, timed. Counts from /_emulator/stats.
3. No-op: the emulator is restarted on the model step 2 left (fresh counters, full
   buckets) and `tether apply --ref B` runs again.
4. Baseline (--baseline): from the same starting point, baseline.sh runs what the seed
   write-ups do with /usr/bin/aws for each function in turn: update-function-code,
   wait function-updated, publish-version, update-alias.

After each run the emulator is restarted without throttles and every function is checked
with botocore: `live` on a published version whose image has tag B (A for the no-op's
start), so a run that "converged" without doing the work fails the benchmark.

Prints a figures block; exits 1 when a target is missed, 2 on a setup or run failure.
Stdlib + botocore only; /usr/bin/python3.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))

from emulator import ACCOUNT, REGION, Emulator  # noqa: E402

THROTTLES = ["--throttle-rps", "15", "--getfunction-rps", "100", "--latency-ms", "30",
             "--update-delay-ms", "500"]
SHARED_RPS = 15.0
GETFUNCTION_RPS = 100.0
TAG_A = "20250526-145140-0000000a"
TAG_B = "20250527-091502-0000000b"
PER_FILE = 50
ROLE = "arn:aws:iam::%s:role/bench-converge" % ACCOUNT
UNTHROTTLED = ["GetFunction", "Invoke"]  # everything else shares the 15/s bucket
MUTATING_PREFIXES = ("Create", "Update", "Delete", "Publish", "Put", "Tag", "Untag", "Add",
                     "Remove")
PRUNE_OPS = ["DeleteFunction"]  # version deletions (retain), set aside per the issue

TARGET_RATIO = 1.15
TARGET_CHANGE_PER_FN = 4.0
TARGET_NOOP_PER_FN = 1.05

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_PAGER": "",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class BenchError(Exception):
    pass


def fn_name(i):
    return "svc-%04d" % i


def image(i, tag):
    return "%s.dkr.ecr.%s.amazonaws.com/svc-%04d:%s" % (ACCOUNT, REGION, i, tag)


def log(msg):
    print("converge: " + msg, file=sys.stderr, flush=True)


# -- the desired state ---------------------------------------------------------------------


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_DATE="2025-05-27T09:15:02Z",
               GIT_COMMITTER_DATE="2025-05-27T09:15:02Z", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_CONFIG_NOSYSTEM="1")
    out = subprocess.run(["git", "-C", repo, "-c", "user.name=bench", "-c",
                          "user.email=bench@example.com", "-c", "init.defaultBranch=main"]
                         + list(args), env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    return out.stdout.decode().strip()


def write_desired(repo, n, tag, retain):
    fdir = os.path.join(repo, "functions")
    shutil.rmtree(fdir, ignore_errors=True)
    os.makedirs(fdir)
    for start in range(0, n, PER_FILE):
        docs = []
        for i in range(start, min(n, start + PER_FILE)):
            doc = ("function: %s\nimage: %s\naliases:\n  live: current\n"
                   % (fn_name(i), image(i, tag)))
            if retain:
                doc += "retain: %d\n" % retain
            docs.append(doc)
        with open(os.path.join(fdir, "svc-%04d.yaml" % start), "w") as f:
            f.write("---\n".join(docs))


def make_repo(repo, n, retain):
    os.makedirs(repo)
    git(repo, "init", "-q")
    commits = {}
    for tag in (TAG_A, TAG_B):
        write_desired(repo, n, tag, retain)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "images " + tag)
        commits[tag] = git(repo, "rev-parse", "HEAD")
    return commits


# -- processes -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.tether = os.path.join(args.build, "tether")
        self.emulator_bin = os.path.join(args.build, "tether-emulator")
        for p in (self.tether, self.emulator_bin):
            if not os.access(p, os.X_OK):
                raise BenchError("%s is not executable (build the tether and "
                                 "tether-emulator targets)" % p)
        self.n = args.functions
        self.work = args.workdir
        self.repo = os.path.join(self.work, "repo")
        self.model0 = os.path.join(self.work, "model-A.json")
        self.state0 = os.path.join(self.work, "state-A")
        self.commits = None
        self.failures = []

    def emulator(self, model, *extra, access_log=None):
        args = ["--state", model] + list(extra)
        if access_log:
            args += ["--access-log", access_log]
        return Emulator(*args, binary=self.emulator_bin).start()

    def run_tether(self, emu, ref, state_dir, concurrency, logfile, verbose=False):
        argv = [self.tether, "--endpoint", emu.endpoint, "--state-dir", state_dir,
                "--concurrency", str(concurrency), "--output", "json"]
        if verbose:
            argv.append("-v")
        argv += ["apply", "--repo", self.repo, "--ref", ref]
        env = dict(os.environ, **AWS_ENV)
        with open(logfile, "wb") as err:
            t0 = time.monotonic()
            proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=err)
            wall = time.monotonic() - t0
        if proc.returncode != 0:
            with open(logfile, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            raise BenchError("tether apply --ref %s exited %d\n%s\n%s"
                             % (ref[:12], proc.returncode,
                                proc.stdout[-3000:].decode("utf-8", "replace"), tail))
        try:
            summary = json.loads(proc.stdout)
        except ValueError:
            raise BenchError("tether apply printed no JSON: %r" % proc.stdout[:500])
        return wall, summary

    # -- setup ---------------------------------------------------------------------------

    def setup(self):
        log("setup: %d functions, repository and first deploy (no throttles)" % self.n)
        self.commits = make_repo(self.repo, self.n, self.args.retain)
        emu = self.emulator(self.model0, "--create-delay-ms", "20", "--update-delay-ms", "20")
        try:
            client = emu.client()

            def create(i):
                client.create_function(FunctionName=fn_name(i), Role=ROLE,
                                       PackageType="Image",
                                       Code={"ImageUri": image(i, TAG_A)})

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(self.n)))
            wall, summary = self.run_tether(emu, self.commits[TAG_A], self.state0, 32,
                                            os.path.join(self.work, "apply-A.log"))
            counts = summary.get("counts", {})
            log("setup: first deploy %.1f s, %s" % (wall, json.dumps(counts)))
        finally:
            emu.stop()
        self.verify(self.model0, TAG_A)

    def verify(self, model, tag):
        """Every function's live alias is on a published version holding image:tag."""
        emu = self.emulator(model)
        try:
            client = emu.client()

            def check(i):
                alias = client.get_alias(FunctionName=fn_name(i), Name="live")
                ver = alias["FunctionVersion"]
                if ver == "$LATEST" or alias.get("RoutingConfig", {}).get(
                        "AdditionalVersionWeights"):
                    return "%s: live is %s with routing %r" % (fn_name(i), ver,
                                                                alias.get("RoutingConfig"))
                got = client.get_function(FunctionName=fn_name(i), Qualifier=ver)
                uri = got["Code"].get("ImageUri")
                if uri != image(i, tag):
                    return "%s: live=%s has image %s, expected %s" % (fn_name(i), ver, uri,
                                                                      image(i, tag))
                return None

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                bad = [b for b in pool.map(check, range(self.n)) if b]
        finally:
            emu.stop()
        if bad:
            raise BenchError("%d functions not converged to %s, e.g. %s"
                             % (len(bad), tag, "; ".join(bad[:3])))

    # -- one measured run ----------------------------------------------------------------

    def fresh_copy(self, label):
        model = os.path.join(self.work, "model-%s.json" % label)
        state = os.path.join(self.work, "state-%s" % label)
        shutil.copyfile(self.model0, model)
        shutil.rmtree(state, ignore_errors=True)
        shutil.copytree(self.state0, state)
        return model, state

    def measured(self, model, label, action):
        """Start the throttled emulator on model, run action(emu) -> wall, and return the
        figures of that run from the emulator's counters and access log."""
        access_log = os.path.join(self.work, "access-%s.jsonl" % label)
        emu = self.emulator(model, *THROTTLES, access_log=access_log)
        try:
            wall = action(emu)
            stats = emu.stats()
        finally:
            emu.stop()
        return figures(label, self.n, wall, stats, access_log)

    def tether_change(self, concurrency):
        label = "c%d" % concurrency
        model, state = self.fresh_copy(label)
        ref = self.commits[TAG_B]
        logf = os.path.join(self.work, "apply-%s.log" % label)
        out = {}

        def action(emu):
            wall, summary = self.run_tether(emu, ref, state, concurrency, logf,
                                            verbose=self.args.verbose)
            out["summary"] = summary
            return wall

        log("change: tether apply --concurrency %d" % concurrency)
        change = self.measured(model, "change-" + label, action)
        change["result_counts"] = out["summary"].get("counts")
        self.verify(model, TAG_B)

        log("no-op: tether apply --concurrency %d again" % concurrency)

        def noop_action(emu):
            wall, summary = self.run_tether(emu, ref, state, concurrency,
                                            os.path.join(self.work, "noop-%s.log" % label))
            out["noop"] = summary
            return wall

        noop = self.measured(model, "noop-" + label, noop_action)
        noop["result_counts"] = out["noop"].get("counts")
        self.verify(model, TAG_B)
        return change, noop

    def baseline(self):
        model, _ = self.fresh_copy("baseline")
        names = os.path.join(self.work, "functions.txt")
        with open(names, "w") as f:
            for i in range(self.n):
                f.write("%s %s\n" % (fn_name(i), image(i, TAG_B)))

        def action(emu):
            env = dict(os.environ, **AWS_ENV)
            argv = ["bash", os.path.join(HERE, "baseline.sh"), emu.endpoint, names,
                    self.args.waiter]
            with open(os.path.join(self.work, "baseline.log"), "wb") as err:
                t0 = time.monotonic()
                proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
                wall = time.monotonic() - t0
            if proc.returncode != 0:
                with open(os.path.join(self.work, "baseline.log"), "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
                raise BenchError("baseline.sh exited %d\n%s" % (proc.returncode, tail))
            return wall

        log("baseline: sequential aws-CLI script (%s), this takes a while" % self.args.waiter)
        fig = self.measured(model, "baseline", action)
        self.verify(model, TAG_B)
        return fig


# -- figures -------------------------------------------------------------------------------


def figures(label, n, wall, stats, access_log):
    ops = {k: v for k, v in stats["operations"].items() if v}
    shared = sum(v for k, v in ops.items() if k not in UNTHROTTLED)
    prune = sum(ops.get(k, 0) for k in PRUNE_OPS)
    mutating = sum(v for k, v in ops.items() if k.startswith(MUTATING_PREFIXES))
    lower = shared / SHARED_RPS
    fig = {
        "label": label, "functions": n, "wall_s": wall, "operations": ops,
        "requests": stats["requests"], "throttled": stats["throttled"],
        "shared": shared, "shared_per_fn": shared / n,
        "shared_per_fn_no_prune": (shared - prune) / n, "prune": prune,
        "mutating": mutating, "lower_bound_s": lower,
        "ratio": wall / lower if lower > 0 else float("nan"),
        "getfunction": ops.get("GetFunction", 0),
    }
    fig.update(bucket_use(access_log))
    return fig


def bucket_use(path):
    """Shared-bucket answers per whole second of the run, from the access log: how many
    seconds the bucket was under-used, which is where wall time goes beyond the bound."""
    times = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("op") not in UNTHROTTLED and rec.get("status") != 429:
                times.append(rec["mono_ms"] / 1000.0)
    if not times:
        return {"active_s": 0.0, "seconds_under_12": 0, "seconds_total": 0}
    t0 = min(times)
    per_sec = {}
    for t in times:
        per_sec[int(t - t0)] = per_sec.get(int(t - t0), 0) + 1
    last = max(per_sec)
    # The last second is partial: judge only the whole seconds before it.
    under = [s for s in range(last) if per_sec.get(s, 0) < 12]
    return {"active_s": max(times) - t0, "seconds_total": last,
            "seconds_under_12": len(under),
            "calls_in_under_seconds": sum(per_sec.get(s, 0) for s in under),
            "first_under_seconds": under[:20]}


def op_breakdown(fig):
    n = fig["functions"]
    return ", ".join("%s %.2f" % (k, v / n) for k, v in sorted(fig["operations"].items()))


def print_figures(n, retain, changes, noops, base, ok_list):
    p = print
    p("== bench/converge: N=%d image functions, new image in one commit" % n)
    p("   emulator %s; create-delay-ms 100 (default)" % " ".join(THROTTLES))
    p("   desired: image, aliases {live: current}%s" % (", retain: %d" % retain if retain
                                                        else ", no retain"))
    for fig in changes:
        p("change  %-18s wall %7.2f s  shared %5d (%.3f/fn, prune aside %.3f/fn)  "
          "bound %7.2f s  ratio %.3f  GetFunction %d (%.2f/fn)  429s %d"
          % (fig["label"], fig["wall_s"], fig["shared"], fig["shared_per_fn"],
             fig["shared_per_fn_no_prune"], fig["lower_bound_s"], fig["ratio"],
             fig["getfunction"], fig["getfunction"] / n, fig["throttled"]))
        p("        per function: %s" % op_breakdown(fig))
        p("        shared bucket: active %.1f s, %d of %d whole seconds under 12 calls"
          % (fig["active_s"], fig["seconds_under_12"], fig["seconds_total"]))
        p("        tether: %s" % json.dumps(fig.get("result_counts")))
    for fig in noops:
        p("no-op   %-18s wall %7.2f s  shared %5d (%.3f/fn)  mutating %d  "
          "GetFunction %d  429s %d"
          % (fig["label"], fig["wall_s"], fig["shared"], fig["shared_per_fn"],
             fig["mutating"], fig["getfunction"], fig["throttled"]))
        p("        per function: %s" % op_breakdown(fig))
    if base:
        best = min(changes, key=lambda f: f["wall_s"]) if changes else None
        p("baseline aws-CLI    wall %7.2f s  shared %5d (%.3f/fn)  bound %7.2f s  ratio %.3f  "
          "GetFunction %d  429s %d"
          % (base["wall_s"], base["shared"], base["shared_per_fn"], base["lower_bound_s"],
             base["ratio"], base["getfunction"], base["throttled"]))
        p("        per function: %s" % op_breakdown(base))
        if best:
            p("        baseline / tether (%s) = %.2f" % (best["label"],
                                                      base["wall_s"] / best["wall_s"]))
    for ok, what in ok_list:
        p("%s  %s" % ("PASS" if ok else "MISS", what))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--functions", "-n", type=int, default=100)
    ap.add_argument("--concurrency", default="8,16",
                    help="comma-separated tether --concurrency values (default 8,16)")
    ap.add_argument("--baseline", action="store_true", help="also run the aws-CLI script")
    ap.add_argument("--baseline-only", action="store_true", help="only the aws-CLI script")
    ap.add_argument("--waiter", default="function-updated",
                    choices=["function-updated", "function-updated-v2"],
                    help="aws lambda wait ... in the baseline (the seed uses function-updated)")
    ap.add_argument("--retain", type=int, default=0,
                    help="add retain: K to every function (pruning; deletions are counted "
                    "apart)")
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="tether -v for change runs")
    args = ap.parse_args()
    if args.functions < 1 or args.functions > 9999:
        ap.error("--functions must be 1..9999")
    conc = [int(c) for c in args.concurrency.split(",") if c]

    made_tmp = args.workdir is None
    if made_tmp:
        args.workdir = tempfile.mkdtemp(prefix="tether-bench-converge-")
    else:
        os.makedirs(args.workdir, exist_ok=False)
    try:
        bench = Bench(args)
        bench.setup()
        changes, noops, base = [], [], None
        if not args.baseline_only:
            for c in conc:
                change, noop = bench.tether_change(c)
                changes.append(change)
                noops.append(noop)
        if args.baseline or args.baseline_only:
            base = bench.baseline()
    except BenchError as e:
        print("converge: FAILED: %s" % e, file=sys.stderr)
        return 2
    finally:
        if made_tmp and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
        elif made_tmp:
            log("kept %s" % args.workdir)

    checks = []
    for fig in changes:
        checks.append((fig["ratio"] <= TARGET_RATIO, "%s wall/bound %.3f <= %.2f"
                       % (fig["label"], fig["ratio"], TARGET_RATIO)))
        checks.append((fig["shared_per_fn_no_prune"] <= TARGET_CHANGE_PER_FN,
                       "%s shared calls/function %.3f <= %.0f"
                       % (fig["label"], fig["shared_per_fn_no_prune"], TARGET_CHANGE_PER_FN)))
    for fig in noops:
        checks.append((fig["shared_per_fn"] <= TARGET_NOOP_PER_FN,
                       "%s shared calls/function %.3f <= %.2f"
                       % (fig["label"], fig["shared_per_fn"], TARGET_NOOP_PER_FN)))
        checks.append((fig["mutating"] == 0, "%s mutating calls %d == 0"
                       % (fig["label"], fig["mutating"])))
    print_figures(args.functions, args.retain, changes, noops, base, checks)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"changes": changes, "noops": noops, "baseline": base}, f, indent=1)
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
