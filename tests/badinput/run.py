#!/usr/bin/python3
"""Feed the bad-input corpus to the real binary and hold every case to the same rules.

  run.py desired   every desired-state case: corpus/desired/ and the desired cases of
                   tree-cases, each read from a directory (tether validate DIR) and from a
                   commit of a real git repository (tether validate --repo ... --ref ...)
  run.py config    every config case: corpus/config/ and the config cases of tree-cases,
                   checked with tether run --check --config tether.yaml

A run passes when it
  - exits with status 1 (not 0, not 2, not killed by a signal),
  - ends within HANG_S seconds (else it is killed and reported as a hang),
  - prints on stdout an error line "PATH:LINE:COL: MESSAGE" (LINE, COL >= 1, not a
    warning) for the case's file whose MESSAGE contains the case's expected text
    (generate.py's case list, tree-cases), and no line starting with an expect-absent text,
  - prints only UTF-8 text without control characters on stdout (but line feeds):
    a hostile file name or value cannot forge a line or reach the terminal as an escape,
  - prints no sanitizer report on stderr,
  - takes less CPU time (user + system, the child's own, from wait4) than the bound:
    BOUND_S (100 ms) in a normal build, SANITIZED_BOUND_S under ASan+UBSan
    (TETHER_SANITIZE=1, passed by CMakeLists.txt); and less wall time than WALL_FACTOR
    times that, which catches a run that waits (on a FIFO, a lock, the network) rather
    than computes. CPU time is what the loader costs; wall time on a shared 2-core CI
    machine is mostly the wait for a CPU. A run over either bound is tried again, alone
    (the first pass runs in parallel), up to TRIES times in all, and its fastest try
    counts: a slow loader is slow every time. When run.py may (as root), the runs get nice
    value BOOST.

The cases come from generate.py (imported: one source of truth). The first check is that
corpus/ holds exactly what generate.py writes (the files up to its CHECKED_IN_MAX and
corpus/expect), so the checked-in corpus and the cases run cannot drift apart; the bigger
cases are made at run time from the same script. Tree cases (tree-cases) are built at run
time in a temporary directory, and committed with the git CLI for the commit runs.

Runs go through a small thread pool (TETHER_BADINPUT_JOBS, default 2); each run's time is
its own subprocess's wall time. Environment: TETHER_BIN (the binary), TETHER_SANITIZE,
TETHER_TEST_TIME_SCALE (valgrind builds: no time bound, longer hang limit),
TETHER_BADINPUT_EVERY=N (every N-th corpus case only), TETHER_BADINPUT_ONLY=REGEX (the
cases whose name matches), TETHER_BADINPUT_JOBS=N.
"""
import concurrent.futures
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402

HANG_S = 10
TRIES = 8
BOOST = -10  # the nice value of the runs, when run.py may set it (root)
BOUND_S = 0.100
SANITIZED_BOUND_S = 2.0  # ASan+UBSan: 2-3 times the CPU, and far more memory to map
WALL_FACTOR = 10  # wall time may be this many times the CPU bound before it is a wait
NOBODY = 65534
SANITIZER = re.compile(rb"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                       rb"SUMMARY: (Address|Undefined|Leak)Sanitizer")
CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
BASE_FUNCTION = b"function: base\nregion: us-east-1\nmemory: 512\n"
# The environment of every config check: PATH, HOME and these (the secrets cases use them).
CONFIG_ENV = {
    "LC_ALL": "C",
    "TETHER_GOOD": "a-secret-value",
    "TETHER_BAD_EMPTY": "",
    "TETHER_BAD_LONG": "x" * 5000,
    "TETHER_BAD_NEWLINE": "first\nsecond",
    "TETHER_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "badinput", "GIT_AUTHOR_EMAIL": "badinput@example.com",
    "GIT_COMMITTER_NAME": "badinput", "GIT_COMMITTER_EMAIL": "badinput@example.com",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}
STEPS = ("file", "base", "bytes", "symlink", "mkdir", "fifo", "socket", "submodule", "deep",
         "repeat", "chmod", "big", "sparse")


class Case:
    def __init__(self, area, name):
        self.area = area             # "desired" or "config"
        self.name = name
        self.expect_path = None      # the path as the output names it
        self.expect_text = None      # what the error's message contains ("" for any)
        self.absent = []             # no output line may start with one of these
        self.env = None              # --env for desired cases
        self.steps = []              # tree cases: how to build the files
        self.data = None             # corpus cases: the file's bytes
        self.where = None            # corpus cases: where the file goes
        self.git = True              # desired: also run from a git commit
        self.dir = True              # desired: run from a directory
        self.nobody = False          # run as an unprivileged user when run.py is root


class Job:
    """One run of the binary: which case, how (dir, git, check), and the result."""

    def __init__(self, case, how, argv, cwd):
        self.case = case
        self.how = how
        self.argv = argv
        self.cwd = cwd
        self.seconds = None          # wall time of the fastest try
        self.cpu = None              # CPU time (user + system) of that try
        self.tries = 0
        self.result = None
        self.problems = []


def unescape(s):
    """tree-cases text: \\n, \\t, \\\\, \\s (a space) and \\xNN are bytes; the rest UTF-8."""
    out = bytearray()
    i = 0
    b = s.encode("utf-8")
    while i < len(b):
        c = b[i:i + 1]
        if c == b"\\" and i + 1 < len(b):
            n = b[i + 1:i + 2]
            if n == b"x":
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
            out += {b"n": b"\n", b"t": b"\t", b"\\": b"\\", b"s": b" "}[n]
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


def corpus_cases(area):
    cases = []
    for path, (data, expect) in sorted(generate.cases.items()):
        parts = path.split("/")
        if parts[0] != area:
            continue
        c = Case(area, parts[-1][:-len(".yaml")])
        if area == "desired":
            c.where = "/".join(parts[1:])
            if parts[1] == "environments":
                c.env = c.name
        else:
            c.where = "tether.yaml"
        c.expect_path = c.where
        c.expect_text = expect
        c.data = data
        cases.append(c)
    return cases


def tree_cases(area):
    """The cases of tree-cases for an area (see the top of that file for its format)."""
    cases = []
    names = set()
    current = None
    with open(os.path.join(HERE, "tree-cases"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(None, 1)
            verb, rest = words[0], words[1] if len(words) > 1 else ""
            where = "tree-cases:%d: " % number
            if verb == "case":
                a, name = rest.split()
                if a not in ("desired", "config") or name in names:
                    raise SystemExit(where + "bad or repeated case %r" % rest)
                names.add(name)
                current = Case(a, name)
                if a == area:
                    cases.append(current)
            elif current is None:
                raise SystemExit(where + "a step before any case")
            elif verb == "expect":
                p, _, text = rest.partition(" ")
                current.expect_path = unescape(p).decode("utf-8", "replace")
                current.expect_text = text
            elif verb == "expect-absent":
                current.absent.append(unescape(rest).decode("utf-8", "replace"))
            elif verb == "env":
                current.env = rest
            elif verb == "dir-only":
                current.git = False
            elif verb == "git-only":
                current.dir = False
            elif verb == "as-nobody":
                current.nobody = True
            elif verb in STEPS:
                current.steps.append((verb, rest.split(" ", 1 if verb == "file" else 2)))
            else:
                raise SystemExit(where + "unknown step %r" % verb)
    for c in cases:
        if c.expect_text is None:
            raise SystemExit("tree-cases: case %s has no expect line" % c.name)
    return cases


def git(args, cwd, env):
    subprocess.run(["git"] + args, cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def build_tree(case, root, env):
    """Apply a tree case's steps under root."""
    os.makedirs(root, exist_ok=True)
    for verb, args in case.steps:
        path = os.path.join(root.encode(), unescape(args[0]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if verb == "file":
            with open(path, "wb") as f:
                f.write(unescape(args[1]) if len(args) > 1 else b"")
        elif verb == "bytes":
            with open(path, "wb") as f:
                f.write(bytes.fromhex(args[1]))
        elif verb == "base":
            with open(path, "wb") as f:
                f.write(BASE_FUNCTION)
        elif verb == "big":
            # A YAML comment of SIZE bytes: valid text, only its size is wrong.
            size = int(args[1])
            with open(path, "wb") as f:
                f.write(b"#" * (size - 1) + b"\n")
        elif verb == "repeat":
            text = unescape(args[2])
            with open(path, "ab") as f:
                f.write(b"".join(text.replace(b"{i}", b"%d" % i) for i in range(int(args[1]))))
        elif verb == "sparse":
            with open(path, "wb") as f:
                f.truncate(int(args[1]))
        elif verb == "symlink":
            os.symlink(unescape(args[1]), path)
        elif verb == "mkdir":
            os.makedirs(path, exist_ok=True)
        elif verb == "fifo":
            os.mkfifo(path)
        elif verb == "socket":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()
        elif verb == "chmod":
            os.chmod(path, int(args[1], 8))
        elif verb == "submodule":
            # A repository of its own: a checked-out submodule in a directory, a gitlink
            # (mode 160000) once the outer repository commits it.
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, b"inner.yaml"), "wb") as f:
                f.write(b"function: inner\nregion: us-east-1\n")
            git(["init", "-q"], path, env)
            git(["add", "-A"], path, env)
            git(["commit", "-q", "-m", "inner"], path, env)
        elif verb == "deep":
            depth, content = int(args[1]), unescape(args[2])
            d = path
            os.makedirs(d, exist_ok=True)
            for _ in range(depth):
                d = os.path.join(d, b"d")
                os.mkdir(d)
            with open(os.path.join(d, b"f.yaml"), "wb") as f:
                f.write(content)


def fast_import_tree(case, repo, env):
    """Commit a git-only case's files, base and deep steps to a new bare repository."""
    files = []
    for verb, args in case.steps:
        path = unescape(args[0])
        if verb == "file":
            files.append((path, unescape(args[1]) if len(args) > 1 else b""))
        elif verb == "base":
            files.append((path, BASE_FUNCTION))
        elif verb == "deep":
            files.append((path + b"/d" * int(args[1]) + b"/f.yaml", unescape(args[2])))
        else:
            raise SystemExit("case %s: git-only takes file, base and deep steps, not %s"
                             % (case.name, verb))
    stream = bytearray(b"commit refs/heads/main\ncommitter b <b@example.com> 0 +0000\n"
                       b"data 1\nc\n")
    for path, data in files:
        stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(data), data)
    git(["init", "-q", "--bare", repo], os.path.dirname(repo), env)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, env=env, input=bytes(stream),
                   check=True)


def commit_tree(root, env):
    git(["init", "-q", "-b", "main"], root, env)
    git(["add", "-A"], root, env)
    git(["commit", "-q", "-m", "bad input"], root, env)


class Runner:
    def __init__(self, area):
        self.area = area
        self.tether = os.environ["TETHER_BIN"]
        self.sanitized = os.environ.get("TETHER_SANITIZE", "0") not in ("", "0", "OFF")
        self.bound = SANITIZED_BOUND_S if self.sanitized else BOUND_S
        # Under memcheck (TETHER_VALGRIND builds) a run takes seconds: hangs are given the
        # build's time scale, and wall time says nothing about the loader, so it has no
        # bound there; only every EVERY-th corpus case runs.
        self.scale = float(os.environ.get("TETHER_TEST_TIME_SCALE", "1"))
        self.hang = HANG_S * self.scale
        if self.scale > 1:
            self.bound = float("inf")
        self.every = int(os.environ.get("TETHER_BADINPUT_EVERY", "1"))
        self.boost = True
        self.jobs = int(os.environ.get("TETHER_BADINPUT_JOBS", "2"))
        self.root = os.geteuid() == 0
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="tether-badinput."))
        # as-nobody runs must reach their case directory.
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        passed = {k: v for k, v in os.environ.items()
                  if k.startswith(("ASAN_", "UBSAN_", "LSAN_"))}
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
                    "LC_ALL": "C"}
        self.env.update(passed)
        self.env["AWS_CONFIG_FILE"] = os.path.join(self.tmp, "no-aws-config")
        self.env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.tmp, "no-aws-credentials")
        self.git_env = dict(self.env)
        self.git_env.update(GIT_ENV)
        self.git_env["GIT_CONFIG_GLOBAL"] = os.path.join(self.tmp, "no-gitconfig")
        if area == "config":
            self.env.update(CONFIG_ENV)
        self.runs = []
        self.counter = 0

    def fresh(self):
        self.counter += 1
        d = os.path.join(self.tmp, "case%d" % self.counter)
        os.mkdir(d)
        os.chmod(d, 0o755)
        return d

    def timed(self, job):
        """Run the job's argv once: (returncode or None on a hang, stdout, stderr, wall
        seconds, CPU seconds). The child is reaped with wait4 for its own CPU time."""
        extra = {}
        if job.case.nobody and self.root:
            extra = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        start = time.monotonic()
        p = subprocess.Popen(job.argv, cwd=job.cwd, env=self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, **extra)
        if self.boost:
            # Ahead of whatever else keeps a shared machine busy, so that the wall time is
            # the run's own; without the privilege, runs keep the normal priority.
            try:
                os.setpriority(os.PRIO_PROCESS, p.pid, BOOST)
            except OSError:
                self.boost = False
        out = {p.stdout: bytearray(), p.stderr: bytearray()}
        hung = False
        with selectors.DefaultSelector() as sel:
            for f in out:
                sel.register(f, selectors.EVENT_READ)
            while sel.get_map():
                left = start + self.hang - time.monotonic()
                if left <= 0:
                    hung = True
                    p.kill()
                    break
                for key, _ in sel.select(left):
                    chunk = os.read(key.fileobj.fileno(), 65536)
                    if chunk:
                        out[key.fileobj] += chunk
                    else:
                        sel.unregister(key.fileobj)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        p.stdout.close()
        p.stderr.close()
        cpu = usage.ru_utime + usage.ru_stime
        return (None if hung else p.returncode, bytes(out[p.stdout]), bytes(out[p.stderr]),
                wall, cpu)

    def attempt(self, job):
        """Run the job once more; keep the result of its fastest try."""
        r = self.timed(job)
        job.tries += 1
        if job.result is None or (r[0] is not None and r[4] < job.result[4]):
            job.result = r

    def over(self, job):
        rc, _, _, wall, cpu = job.result
        return rc is not None and (cpu >= self.bound or wall >= self.bound * WALL_FACTOR)

    def judge(self, job):
        case = job.case
        rc, out, err, job.seconds, job.cpu = job.result
        problems = job.problems
        if rc is None:
            problems.append("hang: no exit within %.0f s" % self.hang)
        elif rc < 0:
            problems.append("crash: killed by signal %d" % -rc)
        elif rc != 1:
            problems.append("exit status %d, want 1" % rc)
        if SANITIZER.search(err):
            problems.append("sanitizer report on stderr")
        if self.over(job):
            problems.append("CPU %.0f ms (wall %.0f ms), over the bound of %.0f ms CPU or "
                            "%.0f ms wall in %d tries" % (
                                job.cpu * 1000, job.seconds * 1000, self.bound * 1000,
                                self.bound * WALL_FACTOR * 1000, job.tries))
        # What a hostile file holds must not reach the terminal raw: one UTF-8 line per
        # diagnostic, no control characters (escape sequences, forged line breaks).
        try:
            out.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("stdout is not UTF-8 (%s)" % e)
        m = CONTROL.search(out)
        if m:
            problems.append("stdout holds the control character %r" % m.group(0))
        text = out.decode("utf-8", "replace")
        lines = text.splitlines()
        pattern = re.compile(r"^%s:([0-9]+):([0-9]+): (?!warning: )(.*)$" %
                             re.escape(case.expect_path))
        if not any(m is not None and int(m.group(1)) >= 1 and int(m.group(2)) >= 1 and
                   case.expect_text in m.group(3) for m in map(pattern.match, lines)):
            problems.append("no error %s:LINE:COL: ...%s..." % (case.expect_path,
                                                              case.expect_text))
        for a in case.absent:
            if any(line.startswith(a) for line in lines):
                problems.append("a line starts with %r" % a)
        if problems:
            shown = text if len(text) < 3000 else text[:1500] + "\n...\n" + text[-1500:]
            problems.append("argv: %s" % " ".join(a if len(a) < 200 else a[:200] + "..."
                                                    for a in job.argv))
            problems.append("stdout:\n" + shown)
            e = err.decode("utf-8", "replace")
            problems.append("stderr:\n" + (e if len(e) < 3000 else e[:3000] + "..."))

    def validate_argv(self, case, source):
        argv = [self.tether, "validate", "--region", "us-east-1"]
        if case.env is not None:
            argv += ["--env", case.env]
        return argv + source

    # Desired state.

    def desired_corpus(self, cases):
        """Each case in a directory of its own, and as a branch of one git repository."""
        repo = os.path.join(self.tmp, "corpus.git")
        git(["init", "-q", "--bare", repo], self.tmp, self.git_env)
        stream = bytearray()
        for i, c in enumerate(cases):
            files = [(c.where.encode(), c.data)]
            if c.env is not None:
                files.append((b"functions/base.yaml", BASE_FUNCTION))
            stream += b"commit refs/heads/c%d\ncommitter b <b@example.com> 0 +0000\n" % i
            stream += b"data 1\nc\n"
            for path, data in files:
                stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(data), data)
        subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, env=self.git_env,
                       input=bytes(stream), check=True)
        for i, c in enumerate(cases):
            root = self.fresh()
            full = os.path.join(root, c.where)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(c.data)
            if c.env is not None:
                os.makedirs(os.path.join(root, "functions"), exist_ok=True)
                with open(os.path.join(root, "functions", "base.yaml"), "wb") as f:
                    f.write(BASE_FUNCTION)
            self.runs.append(Job(c, "dir", self.validate_argv(c, [root]), self.tmp))
            self.runs.append(Job(c, "git", self.validate_argv(
                c, ["--repo", repo, "--ref", "c%d" % i]), self.tmp))

    def desired_tree(self, cases):
        for c in cases:
            if not c.dir:
                repo = self.fresh()
                fast_import_tree(c, os.path.join(repo, "r.git"), self.git_env)
                self.runs.append(Job(c, "git", self.validate_argv(
                    c, ["--repo", os.path.join(repo, "r.git"), "--ref", "main"]), self.tmp))
                continue
            root = self.fresh()
            build_tree(c, root, self.git_env)
            self.runs.append(Job(c, "dir", self.validate_argv(c, [root]), self.tmp))
            if c.git:
                # Built again, so that the directory run does not see .git.
                repo = self.fresh()
                build_tree(c, repo, self.git_env)
                commit_tree(repo, self.git_env)
                self.runs.append(Job(c, "git", self.validate_argv(c, ["--repo", repo]),
                                     self.tmp))

    # Configs.

    def config_cases(self, cases):
        for c in cases:
            root = self.fresh()
            os.mkdir(os.path.join(root, "repo"), 0o700)
            if c.data is not None:
                with open(os.path.join(root, "tether.yaml"), "wb") as f:
                    f.write(c.data)
                os.chmod(os.path.join(root, "tether.yaml"), 0o600)
            else:
                build_tree(c, root, self.git_env)
            self.runs.append(Job(c, "check", [self.tether, "run", "--check", "--config",
                                              "tether.yaml"], root))

    def main(self):
        problems = generate.check()
        if problems:
            print("corpus/ is not what generate.py writes (run it and commit the result):")
            for p in problems:
                print("  " + p)
            return 1
        corpus, tree = corpus_cases(self.area), tree_cases(self.area)
        corpus = corpus[::self.every]
        only = os.environ.get("TETHER_BADINPUT_ONLY")
        if only:
            corpus = [c for c in corpus if re.search(only, c.name)]
            tree = [c for c in tree if re.search(only, c.name)]
            if not corpus and not tree:
                print("TETHER_BADINPUT_ONLY=%s matches no case" % only)
                return 1
        start = time.monotonic()
        try:
            if self.area == "desired":
                self.desired_corpus(corpus)
                self.desired_tree(tree)
            else:
                self.config_cases(corpus + tree)
            built = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
                list(pool.map(self.attempt, self.runs))
            # A run over the bound is tried again, alone, up to TRIES times in all: the
            # fastest try counts, so that a busy machine is not taken for a slow loader.
            for job in self.runs:
                while self.over(job) and job.tries < TRIES:
                    time.sleep(0.05)
                    self.attempt(job)
            for job in self.runs:
                self.judge(job)
        finally:
            # Unreadable and unwritable entries are the tests' own: make them removable.
            for d, dirs, files in os.walk(self.tmp):
                for name in dirs:
                    p = os.path.join(d, name)
                    if not os.path.islink(p):
                        os.chmod(p, 0o700)
            shutil.rmtree(self.tmp)
        end = time.monotonic()
        return self.report(len(corpus), len(tree), built - start, end - built)

    def report(self, ncorpus, ntree, build_s, run_s):
        def stats(values):
            v = sorted(values)
            p99 = v[min(len(v) - 1, int(len(v) * 0.99))]
            return "median %.1f ms, p99 %.1f ms, max %.1f ms" % (
                v[len(v) // 2] * 1000, p99 * 1000, v[-1] * 1000)

        print("badinput.%s: %d corpus cases, %d tree cases, %d runs (%s build, bound %.0f ms, "
              "%d jobs)" % (self.area, ncorpus, ntree, len(self.runs),
                            "valgrind" if self.scale > 1 else
                            "sanitizer" if self.sanitized else "normal", self.bound * 1000,
                            self.jobs))
        print("wall time per run: " + stats(r.seconds for r in self.runs))
        print("CPU time per run:  " + stats(r.cpu for r in self.runs))
        print("building %.1f s, running %.1f s; %d runs tried again (over the bound once); "
              "priority %s" % (build_s, run_s, sum(1 for r in self.runs if r.tries > 1),
                               "nice %d" % BOOST if self.boost else "normal"))
        print("slowest:")
        for r in sorted(self.runs, key=lambda r: -r.seconds)[:5]:
            print("  %7.1f ms (CPU %5.1f ms)  %s (%s)" % (r.seconds * 1000, r.cpu * 1000,
                                                        r.case.name, r.how))
        failed = [r for r in self.runs if r.problems]
        for r in failed:
            print("FAIL %s (%s):" % (r.case.name, r.how))
            for p in r.problems:
                print("  " + p.replace("\n", "\n    "))
        print("%d of %d runs failed" % (len(failed), len(self.runs)))
        return 1 if failed else 0


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("desired", "config"):
        raise SystemExit("usage: run.py desired|config")
    return Runner(sys.argv[1]).main()


if __name__ == "__main__":
    sys.exit(main())
