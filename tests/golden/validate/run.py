#!/usr/bin/python3
"""Run one `tether validate` golden case and compare its output with the expected file.

A case is a folder holding a desired state (functions/, environments/) and:
  expected  what tether prints on stdout, then a last line "[exit N]"
  args      optional: extra command-line arguments, one per line (e.g. --env, --region)
  setup     optional: files git cannot hold or that would bloat the repository, one per
            line: "symlink PATH TARGET", "bytes PATH HEX", "big PATH SIZE" (a valid YAML
            comment of SIZE bytes), "mkdir PATH"
The case is copied to a private temporary directory (removed afterwards), setup is applied
there, and `$TETHER_BIN validate [args] DIR` runs with no AWS configuration in its
environment, so only args can give it a region. UPDATE=1 rewrites expected instead (review
the diff before committing it).
"""
import os
import shutil
import subprocess
import sys
import tempfile

SPECIAL = {"expected", "args", "setup"}


def apply_setup(root, lines):
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        kind, path = words[0], os.path.join(root, words[1])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "symlink":
            os.symlink(words[2], path)
        elif kind == "bytes":
            with open(path, "wb") as f:
                f.write(bytes.fromhex("".join(words[2:])))
        elif kind == "big":
            size = int(words[2])
            with open(path, "wb") as f:
                f.write(b"#" * (size - 1) + b"\n")
        elif kind == "mkdir":
            os.makedirs(path, exist_ok=True)
        else:
            raise SystemExit("unknown setup line: " + line)


def main():
    case = sys.argv[1]
    tether = os.environ["TETHER_BIN"]
    args = []
    if os.path.exists(os.path.join(case, "args")):
        with open(os.path.join(case, "args")) as f:
            args = [a for a in f.read().splitlines() if a]
    tmp = tempfile.mkdtemp(prefix="tether-golden-validate.")
    try:
        root = os.path.join(tmp, "state")
        shutil.copytree(case, root, symlinks=True,
                        ignore=lambda d, names: [n for n in names if d == case and n in SPECIAL])
        if os.path.exists(os.path.join(case, "setup")):
            with open(os.path.join(case, "setup")) as f:
                apply_setup(root, f.read().splitlines())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["AWS_CONFIG_FILE"] = os.path.join(tmp, "no-config")
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(tmp, "no-credentials")
        env["HOME"] = tmp
        proc = subprocess.run([tether, "validate"] + args + [root], env=env, cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        shutil.rmtree(tmp)
    got = proc.stdout.decode("utf-8", "replace") + "[exit %d]\n" % proc.returncode
    expected_path = os.path.join(case, "expected")
    if os.environ.get("UPDATE") == "1":
        with open(expected_path, "w") as f:
            f.write(got)
        return 0
    with open(expected_path) as f:
        want = f.read()
    if got != want:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True), "expected", "got"))
        sys.stdout.write("--- stderr:\n" + proc.stderr.decode("utf-8", "replace"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
