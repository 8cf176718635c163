"""The fault-injection matrix (docs/reliability.md): each fault of the emulator, and tether
or the emulator killed, combined with four operations (deploy, canary, rollback, prune),
with five invariants checked after every cell.

One ctest entry per fault (test_faults.py). For a fault, the test:

1. starts a fault-free tether-emulator on a fixed loopback port below the ephemeral range,
   with --state, --access-log and --seed, and sets up one function per operation, each in
   its own git repository and state directory, with `tether apply` (and botocore for the
   references tether does not make: an alias, an event source mapping, provisioned
   concurrency);
2. restarts the emulator from --state with the fault, commits each operation's change and
   runs `tether apply` under the fault, one cell after another (a run may exit 1 while
   faults are on); the kill and restart faults act on tether or the emulator mid-run;
3. restarts the emulator from --state without faults and applies each cell until it
   converges, then once more (it must be in sync with no call);
4. checks the invariants of every cell, prints the table and fails if any does not hold.

An AliasWatcher polls the cell's alias the whole time tether runs; the access log and the
manifests are compared line by line. Stdlib and botocore only.
"""
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "apply"))

from applylib import (  # noqa: E402
    TETHER_TIMEOUT, VERSION_MARK, AliasWatcher, ApplyCase, Repo, function_yaml, image,
    manifest_lines, parse_summary)
from emulator import Emulator, EmulatorError  # noqa: E402
from timescale import scaled  # noqa: E402

OPS = ("deploy", "canary", "rollback", "prune")
INVARIANTS = {
    1: "live == desired once faults stop",
    2: "alias only on the spec's or the previous digest",
    3: "no referenced version deleted",
    4: "no digest published twice",
    5: "manifests parse and account for every call",
}
# The calls the accounting covers: the mutating ones, and Invoke (smoke tests and canary
# checks), each with the manifest action that records it.
ACTION_OP = {
    "create_function": "CreateFunction",
    "update_code": "UpdateFunctionCode",
    "update_config": "UpdateFunctionConfiguration",
    "publish": "PublishVersion",
    "create_alias": "CreateAlias",
    "update_alias": "UpdateAlias",
    "delete_version": "DeleteFunction",
    "smoke_test": "Invoke",
    "canary_check": "Invoke",
}
ACCOUNTED = set(ACTION_OP.values())
# Attempts that tether's client retries (aws/retry.h): no answer, throttled, 5xx.
RETRYABLE = {0, 429, 500, 502, 503, 504}
# At most 3 attempts per call (RETRY_MAX_ATTEMPTS), and libcurl sends a request once more
# on a fresh connection when a reused one dies before any byte of the answer (an injected
# reset): up to 2 lines per attempt.
LINES_PER_CALL = 6

SETUP_FLAGS = ("--update-delay-ms", "20", "--create-delay-ms", "20")
FAULT_FREE = ("--update-delay-ms", "150", "--create-delay-ms", "50")
ROLE = "arn:aws:iam::123456789012:role/lambda-exec"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
CANARY = "  live:\n    version: current\n    traffic: {steps: [25, 50], interval: 2s}\n"
SMOKE = "{payload: {ping: 1}, expect: {statusCode: 200}}"
PRUNE_SETUP = 5  # versions published before the prune cell
POLL = 0.05  # seconds between the watcher's GetAlias
SETTLE_TIMEOUT = 10.0  # seconds (scaled) for the emulator to log what it counted
# A report of ASan, LSan or UBSan on a tether's stderr: its exit status (1) alone would
# pass for a run that failed under the fault.
SANITIZER = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|runtime error:")


class Fault:
    """One row of the matrix: emulator flags while the fault is on, the watcher's period
    (the throttle shares the watcher's bucket), and what happens during each cell's runs
    under the fault: acts[op][i] = (trigger, action, argument) for run i, where action is
    "kill" (SIGKILL tether), "restart" (SIGTERM the emulator, keep it down argument
    seconds, start it again from --state) or "late_ref" (another client puts an event
    source mapping on version argument, after tether observed)."""

    def __init__(self, name, flags=(), runs=3, poll=POLL, acts=None, what=""):
        self.name = name
        self.flags = tuple(str(f) for f in flags)
        self.runs = runs
        self.poll = poll
        self.acts = acts or {}
        self.what = what


# Triggers: ("arrive", Op[, n]) fires when the emulator counts the run's n-th (first)
# request of Op, on arrival, before its answer; ("answered", Op, s) s seconds after the
# run's first answered Op. In the canary cell, the second Invoke is the first canary check
# (the first is the smoke test): the emulator then stays down longer than the client's
# three attempts take (at most 1 + 2 s of backoff). In the kill row every answer is 100 ms
# late and the model runs when the answer is due, so a mapping made on the arrival of the
# delete of version 4 exists before the delete of version 5 that follows it runs.
FAULTS = {
    "errors": Fault("errors", ("--error-rate", "0.3"), what="--error-rate 0.3"),
    "resets": Fault("resets", ("--reset-rate", "0.2"), what="--reset-rate 0.2"),
    "throttle": Fault("throttle", ("--throttle-rps", "3"), poll=1.0, what=(
        "--throttle-rps 3, shared with the watcher's GetAlias (1/s); tether's own "
        "budget 15/s (AIMD)")),
    "latency": Fault("latency", ("--latency-ms", "50", "--jitter-ms", "40"),
                     what="--latency-ms 50 --jitter-ms 40"),
    "slow_updates": Fault("slow_updates", ("--update-delay-ms", "3000"),
                          what="--update-delay-ms 3000"),
    "kill": Fault("kill", ("--latency-ms", "100"), runs=4, what=(
        "SIGKILL of tether on a call's arrival (answered 100 ms later) or in a canary "
        "wait; in prune, also a mapping made by another client while tether prunes"),
        acts={
            "deploy": [(("arrive", "UpdateFunctionCode"), "kill", None),
                       (("arrive", "PublishVersion"), "kill", None)],
            "canary": [(("arrive", "PublishVersion"), "kill", None),
                       (("arrive", "UpdateAlias"), "kill", None),
                       (("answered", "UpdateAlias", 0.3), "kill", None)],
            "rollback": [(("arrive", "UpdateAlias"), "kill", None)],
            "prune": [(("arrive", "PublishVersion"), "kill", None),
                      (("arrive", "UpdateAlias"), "kill", None),
                      (("arrive", "DeleteFunction"), "late_ref", "5")],
        }),
    "restart": Fault("restart", ("--latency-ms", "50"), runs=3, what=(
        "emulator SIGTERM mid-run (calls answered 50 ms late), down 1-3.5 s, restarted "
        "from --state on the same port"),
        acts={
            "deploy": [(("arrive", "UpdateFunctionCode"), "restart", 1.0)],
            "canary": [(("arrive", "Invoke", 2), "restart", 3.5)],
            "rollback": [(("arrive", "ListAliases"), "restart", 1.0)],
            "prune": [(("arrive", "DeleteFunction"), "restart", 1.0)],
        }),
    "combined": Fault("combined", ("--error-rate", "0.15", "--reset-rate", "0.1",
                                   "--latency-ms", "20", "--jitter-ms", "20",
                                   "--throttle-rps", "5", "--update-delay-ms", "1000"),
                      poll=0.5, what=(
                          "--error-rate 0.15 --reset-rate 0.1 --latency-ms 20 --jitter-ms "
                          "20 --throttle-rps 5 --update-delay-ms 1000 at once")),
}
FAULT_ORDER = ("errors", "resets", "throttle", "latency", "slow_updates", "kill", "restart",
               "combined")


def free_port():
    """A free loopback port below the ephemeral range (ip_local_port_range starts at 32768
    by default), so that no client socket takes it while the emulator restarts."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError("no free port in 20000..32000")


class Endpoint:
    """The emulator's address, which outlives each process (restarts keep the port): the
    admin API and botocore clients of tests/lib/emulator.py, for that address."""

    host = "127.0.0.1"
    request = Emulator.request
    admin = Emulator.admin
    stats = Emulator.stats
    set_invoke = Emulator.set_invoke
    client = Emulator.client

    def __init__(self, port):
        self.port = port
        self._clients = []

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        for c in self._clients:
            c.close()
        self._clients = []


class Segment:
    """One emulator process: its flags, its lines of the access log, its counters."""

    def __init__(self, flags, first):
        self.flags = flags
        self.first = first  # index of its first access-log line
        self.last = None  # one past its last line
        self.stats = None  # /_emulator/stats just before SIGTERM
        self.quiet = True  # nothing else talked to it between the stats and the SIGTERM


class LambdaProcs:
    """The emulator across restarts: one --state, one --access-log, one port."""

    def __init__(self, tmp, port, seed):
        self.ep = Endpoint(port)
        self.state = os.path.join(tmp, "emulator-state.json")
        self.log = os.path.join(tmp, "access.jsonl")
        self.seed = seed
        self.proc = None
        self.segments = []
        open(self.log, "a").close()

    def start(self, flags):
        argv = ["--listen", "127.0.0.1:%d" % self.ep.port, "--state", self.state,
                "--access-log", self.log, "--seed", str(self.seed), *flags]
        last = None
        # Its lines start here: tether may be calling while it starts (restart row).
        first = len(read_log(self.log))
        for _ in range(20):  # the port may still be held for a moment
            proc = Emulator(*argv)
            try:
                proc.start()
            except EmulatorError as e:
                last = e
                time.sleep(0.1)
                continue
            self.proc = proc
            self.segments.append(Segment(tuple(flags), first))
            return
        raise AssertionError("the emulator could not listen on port %d again: %s"
                             % (self.ep.port, last))

    def stop(self, quiet=True):
        """SIGTERM (the state is saved); it must exit 0. quiet: no tether is running."""
        seg = self.segments[-1]
        seg.quiet = quiet
        seg.stats = self.ep.stats()
        self.proc.stop()  # raises unless the exit status is 0
        self.proc = None
        seg.last = len(read_log(self.log))

    def settle(self):
        """Wait until every accounted call the emulator counted has its access-log line
        (a call answered late, after its client died, is logged when its answer is due)."""
        seg = self.segments[-1]
        deadline = time.monotonic() + scaled(SETTLE_TIMEOUT)
        while True:
            ops = self.ep.stats()["operations"]
            counted = sum(ops.get(op, 0) for op in ACCOUNTED)
            logged = sum(1 for l in read_log(self.log)[seg.first:] if l["op"] in ACCOUNTED)
            if counted == logged:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the emulator counted %d calls but logged %d"
                                     % (counted, logged))
            time.sleep(0.02)


_LOGS = {}  # path -> (bytes read, lines parsed so far)


def read_log(path):
    """The access log's complete lines, parsed (read incrementally: the log only grows)."""
    done, lines = _LOGS.get(path, (0, []))
    with open(path, "rb") as f:
        f.seek(done)
        data = f.read()
    end = data.rfind(b"\n")
    if end >= 0:
        lines.extend(json.loads(l) for l in data[:end + 1].splitlines())
        done += end + 1
    _LOGS[path] = (done, lines)
    return lines


class Watcher(AliasWatcher):
    """AliasWatcher that also counts the polls that got an answer."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.answered = 0

    def _poll(self):
        n = len(self.errors)
        super()._poll()
        if len(self.errors) == n:
            self.answered += 1

    def fresh(self, n=2, timeout=10.0):
        """Wait for n more answered polls: what the alias is now has been seen."""
        goal = self.answered + n
        deadline = time.monotonic() + scaled(timeout)
        while self.answered < goal and time.monotonic() < deadline:
            time.sleep(0.01)


class TetherRun:
    """One `tether apply` of a cell: its access-log lines and manifest records (index
    ranges), how it ended, and what was done to it."""

    def __init__(self, phase):
        self.phase = phase  # "setup", "fault" or "final"
        self.rc = None
        self.stdout = self.stderr = ""
        self.killed = False
        self.restarted = False
        self.lines = None  # (first, end) in the access log
        self.records = None  # (first, end) among the cell's parsed records

    def show(self):
        return "exit %s%s\n--- stdout\n%s--- stderr\n%s" % (
            self.rc, " (killed)" if self.killed else "", self.stdout, self.stderr[-4000:])


class Cell:
    """One operation under one fault: its function, repository, state directory, and
    everything seen while it ran."""

    def __init__(self, test, op):
        self.op = op
        self.name = {"deploy": "dep", "canary": "can", "rollback": "rb", "prune": "pr"}[op]
        self.repo = Repo(test.tmp, "repo-" + self.name)
        self.state = os.path.join(test.tmp, "state-" + self.name)
        self.runs = []
        self.states = []  # the watcher's observations
        self.watch_errors = 0
        self.prev = self.spec = None  # digests (64 hex) before and after the operation
        self.spec_image = self.prev_image = None
        self.setup_versions = {}  # version -> description, after setup
        self.refs = {}  # version -> what references it, made by the test
        self.late_refs = {}  # the same, made while tether ran
        self.partial_ok = set()  # (manifest, line) left partial by a kill
        self.own = set()  # request ids of the test's own mutating calls
        self.final = None  # what is live at the end
        self.failures = {k: [] for k in INVARIANTS}
        self.harness = []  # the cell did not run as planned (a trigger never came)
        self.sanitizer = []  # a tether run reported a sanitizer error
        self.notes = []

    def fail(self, inv, msg):
        self.failures[inv].append(msg)

    def records(self):
        return manifest_records(self.state)[0]

    def img(self, i):
        return image(self.name, "1.0.%d" % i)


def manifest_records(state):
    """(records, problems): every manifest line that parses, in order, and what is wrong
    with the others. A partial last line is reported as ("partial", path, line)."""
    records, problems = [], []
    for path in sorted(glob.glob(os.path.join(state, "manifests", "*.jsonl"))):
        for i, rec, line, unterminated in manifest_lines(path):
            if rec is not None:
                records.append(rec)
            elif unterminated:
                problems.append(("partial", path, i))
            else:
                problems.append(("bad", path, i, line[:200]))
    return records, problems


def digest_of(desc):
    m = VERSION_MARK.match(desc or "")
    return m.group(1) if m else None


class FaultCase(ApplyCase):
    """One row of the matrix. Subclasses set `fault`."""

    fault = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tether-faults.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.procs = []
        self.addCleanup(self._reap)
        seed = int(os.environ.get("TETHER_FAULTS_SEED", "1"))
        self.seed = seed * 100 + FAULT_ORDER.index(self.fault.name)
        self.lam = LambdaProcs(self.tmp, free_port(), self.seed)
        self.emu = self.lam.ep  # what ApplyCase's helpers call the endpoint
        self.addCleanup(self._stop_emulator)
        self.cells = [Cell(self, op) for op in OPS]
        self.watcher = None

    def _stop_emulator(self):
        if self.watcher is not None:
            self.watcher.stop()
        if self.lam.proc is not None:
            self.lam.proc.stop(check=False)
        self.lam.ep.close()

    # -- tether ----------------------------------------------------------------------

    def start_tether(self, cell):
        argv = self.tether_argv("apply", "--repo", cell.repo.path, "--state-dir", cell.state)
        p = subprocess.Popen(argv, env=self.tether_env(), cwd=self.tmp,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def digests(self, cell):
        self.repo = cell.repo
        return self.validate()

    def lam_client(self):
        if not hasattr(self, "_client"):
            self._client = self.lam.ep.client()
        return self._client

    def own(self, cell, resp):
        cell.own.add(resp["ResponseMetadata"]["RequestId"])
        return resp

    # -- the phases ------------------------------------------------------------------

    def test_matrix(self):
        t0 = time.monotonic()
        self.lam.start(SETUP_FLAGS)
        self.setup_cells()
        self.lam.stop()
        t_setup = time.monotonic() - t0

        self.lam.start(FAULT_FREE + self.fault.flags)
        for cell in self.cells:
            self.operation(cell)
            self.watch(cell, self.fault.poll, self.fault_runs)
        self.lam.stop()
        t_fault = time.monotonic() - t0 - t_setup

        self.lam.start(FAULT_FREE)
        for cell in self.cells:
            self.watch(cell, POLL, self.final_runs)
            self.observe_final(cell)
        self.lam.stop()
        for cell in self.cells:
            self.check(cell)
        self.global_failures = self.check_global()
        elapsed = time.monotonic() - t0
        report = self.report(elapsed, t_setup, t_fault)
        print(report, file=sys.stderr)
        failed = [(c.op, k, m) for c in self.cells for k, ms in c.failures.items() for m in ms]
        failed += [(c.op, "harness", m) for c in self.cells for m in c.harness]
        failed += [(c.op, "sanitizer", m) for c in self.cells for m in c.sanitizer]
        self.assertEqual(failed + self.global_failures, [], report)

    def setup_cells(self):
        """Every cell's starting point, with fault-free applies (the cells side by side,
        one commit each per round)."""
        lam = self.lam_client()
        steps = {}
        for cell in self.cells:
            n = {"deploy": 1, "canary": 1, "rollback": 2, "prune": PRUNE_SETUP}[cell.op]
            self.own(cell, lam.create_function(
                FunctionName=cell.name, PackageType="Image", Role=ROLE,
                Code={"ImageUri": cell.img(1)}))
            steps[cell] = list(range(1, n + 1))
            if cell.op == "canary":
                for i in (1, 2):
                    self.emu.set_invoke(cell.img(i), {"statusCode": 200})
        for cell in self.cells:
            lam.get_waiter("function_active_v2").wait(
                FunctionName=cell.name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
        while any(steps.values()):
            batch = []
            for cell in self.cells:
                if steps[cell]:
                    i = steps[cell].pop(0)
                    cell.repo.write("functions/%s.yaml" % cell.name, self.spec_text(cell, i))
                    cell.commit = cell.repo.commit("%s %d" % (cell.name, i))
                    run = TetherRun("setup")
                    run.records = (len(cell.records()), None)
                    batch.append((cell, run, self.start_tether(cell)))
            for cell, run, p in batch:
                run.stdout, run.stderr = p.communicate(timeout=scaled(TETHER_TIMEOUT))
                run.rc = p.returncode
                run.records = (run.records[0], len(cell.records()))
                cell.runs.append(run)
                self.assertEqual(run.rc, 0, "setup of %s: %s" % (cell.op, run.show()))
        for cell in self.cells:
            if cell.op == "prune":
                # References tether did not make: an alias on 1, a mapping on 2,
                # provisioned concurrency on 3. 4 and 5 (live now) are tether's to prune.
                self.own(cell, lam.create_alias(FunctionName=cell.name, Name="old",
                                                FunctionVersion="1"))
                self.own(cell, lam.create_event_source_mapping(
                    EventSourceArn=QUEUE, FunctionName="%s:2" % cell.name))
                self.own(cell, lam.put_provisioned_concurrency_config(
                    FunctionName=cell.name, Qualifier="3", ProvisionedConcurrentExecutions=1))
                cell.refs = {"1": "alias old", "2": "event source mapping",
                             "3": "provisioned concurrency"}
            cell.setup_versions = {v["Version"]: v.get("Description", "")
                                   for v in self.versions_of(cell.name)}
        self.setup_end = len(read_log(self.lam.log))

    def spec_text(self, cell, i, **extra):
        if cell.op == "canary":
            return function_yaml(cell.name, cell.img(i), aliases=CANARY, smoke_test=SMOKE,
                                 **extra)
        return function_yaml(cell.name, cell.img(i), **extra)

    def operation(self, cell):
        """Commit the cell's change (under the fault's emulator, which git does not see)."""
        cell.prev = self.digests(cell)[cell.name]
        if cell.op == "rollback":
            cell.prev_image = cell.img(2)
            cell.spec_image = cell.img(1)
            cell.repo.revert(cell.commit)
        else:
            n = PRUNE_SETUP if cell.op == "prune" else 1
            cell.prev_image = cell.img(n)
            cell.spec_image = cell.img(n + 1)
            extra = {"retain": 1} if cell.op == "prune" else {}
            cell.repo.write("functions/%s.yaml" % cell.name,
                            self.spec_text(cell, n + 1, **extra))
            cell.repo.commit("%s: %s" % (cell.name, cell.op))
        cell.spec = self.digests(cell)[cell.name]

    def watch(self, cell, period, body):
        """Run body(cell) with the watcher polling the cell's alias."""
        self.watcher = Watcher(self.emu, cell.name, "live", period=period).start()
        try:
            body(cell)
        finally:
            self.watcher.stop()
            cell.states += self.watcher.states
            cell.watch_errors += len(self.watcher.errors)
            self.watcher = None

    def apply_run(self, cell, phase, act=None):
        """One apply of the cell, and act (see Fault) at its trigger."""
        run = TetherRun(phase)
        run.lines = (len(read_log(self.lam.log)), None)
        run.records = (len(cell.records()), None)
        base = dict(self.lam.ep.stats()["operations"])
        p = self.start_tether(cell)
        if act is not None:
            trig, action, arg = act
            if not self.wait_trigger(p, trig, base, run.lines[0]):
                cell.harness.append("%s: tether finished before %s, so nothing was done "
                                    "to it" % (run_name(cell, run), trig))
            elif action == "kill":
                p.send_signal(signal.SIGKILL)
                run.killed = True
            elif action == "restart":
                self.lam.stop(quiet=False)
                time.sleep(arg)
                self.lam.start(FAULT_FREE + self.fault.flags)
                run.restarted = True
            else:
                self.late_ref(cell, arg)
        try:
            run.stdout, run.stderr = p.communicate(timeout=scaled(TETHER_TIMEOUT))
        except subprocess.TimeoutExpired:
            p.kill()
            run.stdout, run.stderr = p.communicate()
            cell.fail(1, "a %s run did not finish within %.0f s" % (
                phase, scaled(TETHER_TIMEOUT)))
        run.rc = p.returncode
        self.lam.settle()
        if run.killed and self.watcher is not None:
            self.watcher.fresh()  # what the killed run's last call did is seen
        if run.killed:
            # A kill may leave a partial last line; the next writer starts a new line.
            cell.partial_ok |= {p[1:] for p in manifest_records(cell.state)[1]
                                if p[0] == "partial"}
        run.lines = (run.lines[0], len(read_log(self.lam.log)))
        run.records = (run.records[0], len(cell.records()))
        cell.runs.append(run)
        if SANITIZER.search(run.stderr):
            cell.sanitizer.append("%s: %s" % (run_name(cell, run), run.stderr[-3000:]))
        if not run.killed:
            self.check_outcome(cell, run)
        return run

    def late_ref(self, cell, version):
        """Another client maps an event source to the version while tether prunes (each
        attempt may meet the fault; the emulator drops faulted requests unanswered or
        answers 500 before its model runs, so trying again is safe)."""
        lam = self.lam_client()
        for _ in range(30):
            try:
                self.own(cell, lam.create_event_source_mapping(
                    EventSourceArn=QUEUE + "-late", FunctionName="%s:%s" % (cell.name,
                                                                           version)))
            except Exception as e:  # noqa: BLE001 -- a fault, or the version is gone
                if "ResourceNotFoundException" in repr(e):
                    cell.notes.append("version %s was gone before the mapping" % version)
                    return
                time.sleep(0.05)
                continue
            cell.late_refs[version] = "event source mapping made while tether pruned"
            return
        cell.notes.append("the mapping on version %s could not be made" % version)

    def check_outcome(self, cell, run):
        """A run that was not killed exits 0 or 1 with the documented summary, and 0 only
        when the function converged or was in sync (docs/apply.md)."""
        try:
            rows = parse_summary(run.stdout)[0]
        except AssertionError as e:
            cell.fail(1, "%s: %s" % (run_name(cell, run), e))
            return
        result = rows.get(cell.name, {}).get("result")
        if run.rc not in (0, 1) or (run.rc == 0) != (result in ("converged", "in-sync")):
            cell.fail(1, "%s exited %s with result %s" % (run_name(cell, run), run.rc,
                                                          result))

    def wait_trigger(self, p, trig, base, first_line):
        """Wait for the trigger during tether's run; False if tether ended first."""
        kind, op = trig[0], trig[1]
        answered_at = None
        while p.poll() is None:
            if kind == "arrive":
                ops = self.lam.ep.stats()["operations"]
                if ops.get(op, 0) - base.get(op, 0) >= (trig[2] if len(trig) > 2 else 1):
                    return True
            else:
                if answered_at is None:
                    for l in read_log(self.lam.log)[first_line:]:
                        if l["op"] == op and 200 <= l["status"] < 300:
                            answered_at = time.monotonic()
                            break
                if answered_at is not None and time.monotonic() >= answered_at + trig[2]:
                    return True
            time.sleep(0.005)
        return False

    def fault_runs(self, cell):
        acts = self.fault.acts.get(cell.op, [])
        for i in range(self.fault.runs):
            run = self.apply_run(cell, "fault", acts[i] if i < len(acts) else None)
            if run.rc == 0 and i >= len(acts) - 1:
                break

    def final_runs(self, cell):
        for _ in range(3):
            run = self.apply_run(cell, "final")
            if run.rc == 0:
                break
        else:
            cell.fail(1, "no fault-free apply converged in 3 runs: " + run.show())
            return
        # Once more: in sync, nothing called.
        run = self.apply_run(cell, "final")
        lines = read_log(self.lam.log)[run.lines[0]:run.lines[1]]
        calls = [l["op"] for l in lines if l["op"] in ACCOUNTED]
        try:
            rows = parse_summary(run.stdout)[0]
        except AssertionError as e:
            cell.fail(1, "summary: %s" % e)
            return
        if run.rc != 0 or rows.get(cell.name, {}).get("result") != "in-sync" or calls:
            cell.fail(1, "the apply after convergence was not in sync (calls %s): %s"
                      % (calls, run.show()))
        self.repo = cell.repo
        plan = self.tether("plan", "--repo", cell.repo.path, "--state-dir", cell.state)
        if plan.returncode != 0:
            cell.fail(1, "tether plan exits %d: %s%s" % (plan.returncode, plan.stdout,
                                                          plan.stderr))

    # -- what is live ----------------------------------------------------------------

    def versions_of(self, name):
        lam = self.lam_client()
        out, marker = [], None
        while True:
            kw = {"FunctionName": name}
            if marker:
                kw["Marker"] = marker
            page = lam.list_versions_by_function(**kw)
            out += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
            marker = page.get("NextMarker")
            if not marker:
                return out

    def observe_final(self, cell):
        """Everything the checks need from the fault-free emulator at the end."""
        lam = self.lam_client()
        fin = {}
        fin["versions"] = {v["Version"]: v.get("Description", "")
                           for v in self.versions_of(cell.name)}
        fin["images"] = {v: lam.get_function(FunctionName=cell.name, Qualifier=v)
                         ["Code"]["ImageUri"] for v in fin["versions"]}
        fin["latest"] = lam.get_function(FunctionName=cell.name)["Code"]["ImageUri"]
        fin["aliases"] = {}
        for a in lam.list_aliases(FunctionName=cell.name)["Aliases"]:
            w = dict(a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
            fin["aliases"][a["Name"]] = (a["FunctionVersion"], w, a.get("Description", ""))
        fin["esm"] = [m["FunctionArn"].rsplit(":", 1)[1]
                      for m in lam.list_event_source_mappings(
                          FunctionName=cell.name)["EventSourceMappings"]
                      if m["FunctionArn"].count(":") == 7]
        fin["pc"] = [c["FunctionArn"].rsplit(":", 1)[1]
                     for c in lam.list_provisioned_concurrency_configs(
                         FunctionName=cell.name)["ProvisionedConcurrencyConfigs"]]
        cell.final = fin

    # -- the invariants --------------------------------------------------------------

    def check(self, cell):
        log = read_log(self.lam.log)
        records, problems = manifest_records(cell.state)
        # Every version seen, number -> digest12 (None: not tether's): Lambda's listings
        # after setup and at the end, and tether's publish records for the versions
        # neither listing has.
        lambda_says = {**cell.setup_versions, **cell.final["versions"]}
        known = {v: digest_of(desc) for v, desc in lambda_says.items()}
        for r in records:
            if r["action"] == "publish" and r["outcome"] == "ok" and r["after"]:
                known.setdefault(r["after"]["version"], r["digest"][:12])
        self.check_live(cell)
        self.check_aliases(cell, log, records, known)
        self.check_references(cell, records)
        self.check_digests(cell, records, known, lambda_says)
        self.check_accounting(cell, log, records, problems)

    def check_live(self, cell):
        """1. Aliases on the version holding the spec digest and image, no routing, no
        canary mark; $LATEST has the spec's code (or, after a rollback, the code of the
        version rolled back from); prune left exactly what retain allows."""
        fin = cell.final
        alias = fin["aliases"].get("live")
        if alias is None:
            cell.fail(1, "alias live is missing")
            return
        version, weights, desc = alias
        if weights or "tether canary" in desc:
            cell.fail(1, "alias live still routes %s (%r)" % (weights, desc))
        d = digest_of(fin["versions"].get(version))
        if d != cell.spec[:12]:
            cell.fail(1, "alias live on %s (d=%s), not on d=%s" % (version, d, cell.spec[:12]))
        elif fin["images"][version] != cell.spec_image:
            cell.fail(1, "version %s has image %s" % (version, fin["images"][version]))
        allowed = {cell.spec_image}
        if cell.op == "rollback":
            allowed.add(cell.prev_image)  # docs/plan.md step 5: a rollback keeps $LATEST
        if fin["latest"] not in allowed:
            cell.fail(1, "$LATEST has %s" % fin["latest"])
        if cell.op == "prune":
            mine = sorted((v for v, desc in fin["versions"].items() if digest_of(desc)),
                          key=int)
            want = sorted(set(cell.refs) | set(cell.late_refs) | {version}, key=int)
            if mine != want:
                cell.fail(1, "retain 1 left versions %s, expected %s" % (mine, want))

    def check_aliases(self, cell, log, records, known):
        """2. Every watcher observation and every alias write tether recorded (matched to
        its access-log line) names only versions of the spec's or the previous digest."""
        allowed = {cell.prev[:12], cell.spec[:12]}
        runs = [r for r in cell.runs if r.phase != "setup"]

        def bad(v):
            if v not in known:
                return "version %s, whose description was never seen" % v
            d = known[v]
            return None if d in allowed else "version %s (d=%s)" % (v, d)
        for t, version, weights, desc in cell.states:
            for v in [version, *weights]:
                why = bad(v)
                if why:
                    cell.fail(2, "seen at %.3f: alias live on %s" % (t, why))
        rids = {l["request_id"]: l for r in runs for l in log[r.lines[0]:r.lines[1]]}
        for rec in records:
            if rec["action"] not in ("update_alias", "create_alias") or rec["outcome"] != "ok":
                continue
            line = rids.get(rec["request_id"])
            if line is None or not rec["after"]:
                continue  # setup, or not matched (check 5 says so)
            for v in (rec["after"]["version"], rec["after"]["routing_version"]):
                why = v is not None and bad(v)
                if why:
                    cell.fail(2, "%s %s moved live to %s" % (rec["action"],
                                                           rec["request_id"], why))
        if not cell.states:
            cell.fail(2, "the watcher saw nothing (%d errors)" % cell.watch_errors)

    def check_references(self, cell, records):
        """3. No delete was refused for a reference tether had observed (only for one
        made after it looked); every reference at the end resolves; only the versions
        retain allows were deleted."""
        fin = cell.final
        for rec in records:
            v = (rec["before"] or {}).get("version")
            if (rec["action"] == "delete_version" and rec["outcome"] == "skipped" and
                    v not in cell.late_refs):
                cell.fail(3, "tether tried to delete version %s: %s: %s" % (
                    v, rec["outcome"], rec["error"]))
        for name, (v, w, _) in fin["aliases"].items():
            for x in [v, *w]:
                if x != "$LATEST" and x not in fin["versions"]:
                    cell.fail(3, "alias %s references deleted version %s" % (name, x))
        for what, vs in (("event source mapping", fin["esm"]),
                         ("provisioned concurrency", fin["pc"])):
            for x in vs:
                if x.isdigit() and x not in fin["versions"]:
                    cell.fail(3, "%s references deleted version %s" % (what, x))
        for v, why in {**cell.refs, **cell.late_refs}.items():
            if v not in fin["versions"]:
                cell.fail(3, "version %s (%s) was deleted" % (v, why))
        published = {r["after"]["version"] for r in records
                     if r["action"] == "publish" and r["outcome"] == "ok" and r["after"]}
        gone = (set(cell.setup_versions) | published) - set(fin["versions"])
        if cell.op != "prune":
            if gone:
                cell.fail(3, "versions %s were deleted" % sorted(gone, key=int))
            return
        expect = {str(n) for n in range(1, PRUNE_SETUP + 1)} - set(cell.refs) - set(
            cell.late_refs)
        if not gone <= expect:
            cell.fail(3, "versions %s were deleted, only %s may be" % (
                sorted(gone, key=int), sorted(expect, key=int)))

    def check_digests(self, cell, records, known, lambda_says):
        """4. Each digest is held by at most one version over everything ever seen, and
        every version number the emulator issued was seen (numbers are never reused)."""
        by = {}
        for v, d in known.items():
            if d:
                by.setdefault(d, []).append(v)
        for d, vs in by.items():
            if len(vs) > 1:
                cell.fail(4, "d=%s published as versions %s" % (d, sorted(vs, key=int)))
        top = max((int(v) for v in known), default=0)
        unseen = [n for n in range(1, top + 1) if str(n) not in known]
        if unseen:
            cell.fail(4, "versions %s existed but were never seen" % unseen)
        for r in records:
            if r["action"] == "publish" and r["outcome"] == "ok" and r["after"]:
                v = r["after"]["version"]
                if v in lambda_says and digest_of(lambda_says[v]) != r["digest"][:12]:
                    cell.fail(4, "publish record says %s holds d=%s, Lambda says %r"
                              % (v, r["digest"][:12], lambda_says[v]))

    def check_accounting(self, cell, log, records, problems):
        """5. Every manifest line parses, but a partial last line a kill left (the next
        writer starts a new line), and the calls in the access log and the call records
        match (the rule in docs/reliability.md)."""
        for p in problems:
            if p[1:3] not in cell.partial_ok:
                cell.fail(5, "%s:%d does not parse: %r" % (p[1], p[2], p[3:]))
        for i, rec in enumerate(records):
            try:
                self.check_record(rec, "record %d" % i)
            except AssertionError as e:
                cell.fail(5, "record %d: %s" % (i, str(e).splitlines()[0]))
        stats = {"retries": 0, "orphans": 0, "calls": 0, "max_lines": 0}
        for run in cell.runs:
            if run.phase == "setup":
                continue
            self.account_run(cell, run, log[run.lines[0]:run.lines[1]],
                             records[run.records[0]:run.records[1]], stats)
        cell.accounting = stats

    def check_global(self):
        """5, for the whole log: the setup's calls (the cells side by side) match their
        records or are the test's own; after setup, every call is inside some run; each
        emulator process logged every call it counted."""
        log = read_log(self.lam.log)
        problems = []
        records = {r["request_id"]: r for c in self.cells for r in c.records()
                   if r["request_id"]}
        own = set().union(*(c.own for c in self.cells))
        known = set(records) | own
        for l in log[:self.setup_end]:
            if l["op"] in ACCOUNTED and l["request_id"] not in known:
                problems.append("setup: %s %s answered %s has no record" % (
                    l["op"], l["request_id"], l["status"]))
        rids = {l["request_id"] for l in log}
        for c in self.cells:
            for r in c.runs:
                if r.phase != "setup":
                    continue
                for rec in c.records()[r.records[0]:r.records[1]]:
                    if rec["action"] in ACTION_OP and rec["request_id"] not in rids:
                        problems.append("setup: %s %s is not in the log" % (
                            rec["action"], rec["request_id"]))
        if own - rids:
            problems.append("the test's own calls are missing from the log")
        covered = set()
        for c in self.cells:
            for r in c.runs:
                if r.lines:
                    covered.update(range(*r.lines))
        for i, l in enumerate(log[self.setup_end:], self.setup_end):
            if l["op"] in ACCOUNTED and i not in covered:
                problems.append("line %d: %s %s %s outside every run" % (
                    i + 1, l["op"], l["request_id"], l["status"]))
        for k, seg in enumerate(self.lam.segments):
            lines = log[seg.first:seg.last]
            for op in sorted(ACCOUNTED):
                counted = seg.stats["operations"].get(op, 0)
                logged = sum(1 for l in lines if l["op"] == op)
                if counted != logged if seg.quiet else counted > logged:
                    problems.append("emulator process %d counted %d %s, logged %d" % (
                        k + 1, counted, op, logged))
        return problems

    def account_run(self, cell, run, lines, recs, stats):
        """The calls of one run, in order: each call record is its access-log line (by
        request id) preceded by its retried attempts; a killed run may end with the
        attempts of the call it was killed in."""
        lines = [l for l in lines if l["op"] in ACCOUNTED]
        recs = [r for r in recs if r["action"] in ACTION_OP]
        at = {l["request_id"]: i for i, l in enumerate(lines)}
        claimed = {r["request_id"] for r in recs if r["request_id"]}
        p = 0
        where = run_name(cell, run)
        for rec in recs:
            op = ACTION_OP[rec["action"]]
            rid = rec["request_id"]
            if rid:
                i = at.get(rid)
                if i is None or i < p:
                    cell.fail(5, "%s: %s %s (%s) is not the next call in the access log"
                              % (where, rec["action"], rid, rec["outcome"]))
                    continue
                group, line = lines[p:i], lines[i]
                p = i + 1
                if line["op"] != op:
                    cell.fail(5, "%s: %s %s is a %s in the log" % (where, rec["action"],
                                                                  rid, line["op"]))
                if not consistent(rec, line["status"]):
                    cell.fail(5, "%s: %s %s is %s, the log says %d" % (
                        where, rec["action"], rid, rec["outcome"], line["status"]))
            else:
                group = []
                while (p < len(lines) and lines[p]["op"] == op and
                       lines[p]["status"] in RETRYABLE and lines[p]["request_id"] not in claimed):
                    group.append(lines[p])
                    p += 1
                if rec["outcome"] not in ("failed", "conflict"):
                    cell.fail(5, "%s: %s without a request id is %s" % (
                        where, rec["action"], rec["outcome"]))
            for g in group:
                if g["op"] != op or g["status"] not in RETRYABLE:
                    cell.fail(5, "%s: %s %s answered %d has no record (before %s %s)" % (
                        where, g["op"], g["request_id"], g["status"], rec["action"], rid))
            if len(group) + (1 if rid else 0) > LINES_PER_CALL:
                cell.fail(5, "%s: %s took %d lines of the log" % (
                    where, rec["action"], len(group) + (1 if rid else 0)))
            stats["retries"] += len(group)
            stats["calls"] += 1
            stats["max_lines"] = max(stats["max_lines"], len(group) + (1 if rid else 0))
        tail = lines[p:]
        if not tail:
            return
        if run.killed and len({l["op"] for l in tail}) == 1 and len(tail) <= LINES_PER_CALL:
            stats["orphans"] += 1
            return
        for l in tail:
            cell.fail(5, "%s: %s %s answered %d has no record" % (
                where, l["op"], l["request_id"], l["status"]))

    # -- the report ------------------------------------------------------------------

    def report(self, elapsed, t_setup, t_fault):
        out = ["", "fault matrix: %s (%s), seed %d, %.1f s (setup %.1f s, under the fault "
               "%.1f s)" % (self.fault.name, self.fault.what, self.seed, elapsed, t_setup,
                            t_fault)]
        row = {}
        log = read_log(self.lam.log)
        for cell in self.cells:
            nf = sum(r.phase == "fault" for r in cell.runs)
            nfin = sum(r.phase == "final" for r in cell.runs)
            bad = ["inv %d" % k for k in INVARIANTS if cell.failures[k]]
            if cell.sanitizer:
                bad.append("sanitizer")
            if cell.harness:
                bad.append("harness")
            if bad:
                row[cell.op] = "FAIL " + ",".join(bad)
            else:
                row[cell.op] = "ok %d+%d runs" % (nf, nfin)
        row["whole log"] = "FAIL inv 5" if self.global_failures else "ok"
        out.append(table([(self.fault.name, row)]))
        for cell in self.cells:
            a = getattr(cell, "accounting", {})
            fr = [r for r in cell.runs if r.phase == "fault"]
            reqs = [l for r in fr for l in log[r.lines[0]:r.lines[1]] if l["op"] != "GetAlias"]
            hit = sum(l["status"] in (0, 429, 500) for l in reqs)
            cell.hits = (hit, len(reqs))
            out.append("  %-8s faulted runs exit %s%s%s; tether's requests %d, %d of them "
                       "faulted (0/429/500); %d calls recorded, %d retried attempts (at "
                       "most %d lines for one call), %d orphaned by kills; %d alias states "
                       "seen (%d watcher errors)" % (
                           cell.op, [r.rc for r in fr],
                           "; killed %d" % sum(r.killed for r in fr)
                           if any(r.killed for r in fr) else "",
                           "; emulator restarted %d" % sum(r.restarted for r in fr)
                           if any(r.restarted for r in fr) else "",
                           len(reqs), hit, a.get("calls", 0), a.get("retries", 0),
                           a.get("max_lines", 0), a.get("orphans", 0),
                           len(cell.states), cell.watch_errors))
            if cell.late_refs:
                out.append("           another client mapped version(s) %s while tether "
                           "pruned" % ", ".join(sorted(cell.late_refs)))
            for note in cell.notes:
                out.append("           " + note)
            for r in fr:
                if r.rc == 1:
                    out.append("           a run exited 1: %s" % run_detail(r, cell.name))
            for m in cell.harness:
                out.append("    harness: " + m)
            for m in cell.sanitizer:
                out.append("    sanitizer: " + m)
            for k, msgs in cell.failures.items():
                for m in msgs[:5]:
                    out.append("    invariant %d (%s): %s" % (k, INVARIANTS[k], m))
                if len(msgs) > 5:
                    out.append("    invariant %d: %d more" % (k, len(msgs) - 5))
        for m in self.global_failures[:10]:
            out.append("  invariant 5 (whole access log): %s" % m)
        for k, name in INVARIANTS.items():
            held = sum(not c.failures[k] for c in self.cells)
            out.append("invariant %d, %s: holds in %d/%d cells" % (k, name, held,
                                                                   len(self.cells)))
        result = {"fault": self.fault.name, "what": self.fault.what, "seed": self.seed,
                  "seconds": round(elapsed, 1), "global": self.global_failures,
                  "whole_log": row["whole log"], "cells": {
                      c.op: {"outcome": row[c.op], "hits": c.hits, "harness": c.harness,
                             "failures": {str(k): v for k, v in c.failures.items() if v}}
                      for c in self.cells}}
        out.append("FAULTS-RESULT " + json.dumps(result, sort_keys=True))
        return "\n".join(out)


def run_name(cell, run):
    """"fault run 2": the run's place among the cell's runs of its phase."""
    same = [r for r in cell.runs if r.phase == run.phase]
    n = same.index(run) + 1 if run in same else len(same) + 1
    return "%s run %d" % (run.phase, n)


def run_detail(run, name):
    """The DETAIL of a run's summary row, or its last line of stderr."""
    try:
        return parse_summary(run.stdout)[0][name]["detail"][:160]
    except (AssertionError, KeyError):
        lines = run.stderr.strip().splitlines()
        return lines[-1][:160] if lines else "-"


def consistent(rec, status):
    """Whether a call record's outcome agrees with the status its request got."""
    ok = 200 <= status < 300
    action, outcome = rec["action"], rec["outcome"]
    if outcome == "ok":
        return ok or (action == "delete_version" and status == 404)
    if outcome == "conflict":
        return (status in (409, 412) or (action == "publish" and status == 400) or
                (action in ("update_alias", "create_alias") and status == 404))
    if outcome == "skipped":
        return action == "delete_version" and status == 409
    if outcome == "failed":
        # A check that ran but failed, or a version someone else published, was answered.
        return not ok or action in ("smoke_test", "canary_check", "publish")
    return False


COLUMNS = OPS + ("whole log",)


def table(rows):
    """rows: [(fault, {column: outcome})] -> the matrix as text. The last column is the
    checks of invariant 5 over the whole access log (setup, and each emulator process)."""
    width = max([len("fault")] + [len(f) for f, _ in rows])
    cols = [max([len(c)] + [len(r.get(c, "")) for _, r in rows]) for c in COLUMNS]
    lines = ["  ".join(["fault".ljust(width)] + [c.ljust(w) for c, w in zip(COLUMNS, cols)])]
    for fault, r in rows:
        lines.append("  ".join([fault.ljust(width)] +
                               [r.get(c, "-").ljust(w) for c, w in zip(COLUMNS, cols)]))
    return "\n".join(l.rstrip() for l in lines)
