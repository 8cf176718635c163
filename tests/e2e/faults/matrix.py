#!/usr/bin/python3
"""Run the whole fault matrix against one build and print it as one table (the table in
docs/reliability.md comes from here). Each row is the ctest entry's own script,
test_faults.py <Class>, run with the environment ctest gives it; rows run -j at a time.

    tests/e2e/faults/matrix.py --build build [-j 2] [--seed N] [--rows errors,kill]

Exit status 0 when every invariant held in every cell, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))

from faultlib import FAULT_ORDER, FAULTS, INVARIANTS, OPS, table  # noqa: E402
from test_faults import _class_name  # noqa: E402


def run_row(args, name):
    build = os.path.abspath(args.build)
    src = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    env = dict(os.environ, TETHER_BIN=os.path.join(build, "tether"),
               TETHER_EMULATOR=os.path.join(build, "tether-emulator"),
               TETHER_SOURCE_DIR=src, TETHER_BUILD_DIR=build, TETHER_PYTHON=sys.executable,
               PYTHONPATH=os.path.join(src, "tests", "lib"), PYTHONDONTWRITEBYTECODE="1",
               TETHER_FAULTS_SEED=str(args.seed))
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(HERE, "test_faults.py"),
                        _class_name(name)], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    result = None
    for line in p.stderr.splitlines():
        if line.startswith("FAULTS-RESULT "):
            result = json.loads(line[len("FAULTS-RESULT "):])
    return name, p, result, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", default=",".join(FAULT_ORDER))
    args = ap.parse_args()
    rows = args.rows.split(",")
    for r in rows:
        if r not in FAULTS:
            ap.error("no row %r (rows: %s)" % (r, ", ".join(FAULT_ORDER)))
    t0 = time.monotonic()
    with ThreadPoolExecutor(args.j) as ex:
        done = list(ex.map(lambda r: run_row(args, r), rows))
    wall = time.monotonic() - t0
    ok = True
    lines, held = [], {k: [0, 0] for k in INVARIANTS}
    for name, p, result, elapsed in done:
        if result is None:
            ok = False
            lines.append((name, {op: "ERROR" for op in OPS}))
            print(p.stderr[-6000:], file=sys.stderr)
            continue
        cells = result["cells"]
        row = {op: cells[op]["outcome"] for op in OPS}
        row["whole log"] = result["whole_log"]
        lines.append((name, row))
        for op in OPS:
            for k in INVARIANTS:
                held[k][1] += 1
                held[k][0] += str(k) not in cells[op]["failures"]
        if p.returncode != 0:
            ok = False
            print(p.stderr[-6000:], file=sys.stderr)
    print(table(lines))
    for k, name in INVARIANTS.items():
        print("invariant %d, %s: holds in %d/%d cells" % (k, name, held[k][0], held[k][1]))
    logs = sum(r is not None and not r["global"] for _, _, r, _ in done)
    print("invariant 5 over each row's whole access log: holds in %d/%d rows" % (
        logs, len(done)))
    hits = []
    for n, _, r, _ in done:
        if r is not None:
            h = [r["cells"][op]["hits"] for op in OPS]
            hits.append("%s %d/%d" % (n, sum(x[0] for x in h), sum(x[1] for x in h)))
    print("tether's requests under the fault that it hit (no answer, 429 or 500): %s"
          % ", ".join(hits))
    print("rows: %s" % ", ".join("%s %.0f s" % (n, e) for n, _, _, e in done))
    print("seed %d, -j %d, %.0f s in all" % (args.seed, args.j, wall))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
