#!/usr/bin/python3
"""Run one config golden case and compare its output with the expected file.

A case is a folder holding a config (tether.yaml unless args says otherwise), the files it
names, and:
  expected  what the check prints on stdout, then a last line "[exit N]"; the case's
            private directory is written <case>
  args      optional: the config file to check, relative to the case (default tether.yaml)
  env       optional: NAME=VALUE lines, the environment the check runs with (nothing else
            from the caller's environment is passed, so secrets in variables are the case's)
  setup     optional: what git cannot hold, one per line: "chmod PATH OCTAL",
            "symlink PATH TARGET", "big PATH SIZE" (SIZE bytes of a YAML comment),
            "bytes PATH HEX", "mkdir PATH"
The case is copied to a private temporary directory (removed afterwards), every file made
mode 0600 and every directory 0700 (git does not keep modes: the setup loosens what a case
needs loose), setup is applied, and the check runs there. UPDATE=1 rewrites expected
instead (review the diff before committing it).
"""
import os
import shutil
import subprocess
import sys
import tempfile

SPECIAL = {"expected", "args", "env", "setup"}


def apply_setup(root, lines):
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        kind, path = words[0], os.path.join(root, words[1])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "chmod":
            os.chmod(path, int(words[2], 8))
        elif kind == "symlink":
            os.symlink(words[2], path)
        elif kind == "big":
            size = int(words[2])
            with open(path, "wb") as f:
                f.write(b"#" * (size - 1) + b"\n")
        elif kind == "bytes":
            with open(path, "wb") as f:
                f.write(bytes.fromhex("".join(words[2:])))
        elif kind == "mkdir":
            os.makedirs(path, exist_ok=True)
        else:
            raise SystemExit("unknown setup line: " + line)


def read_lines(case, name):
    path = os.path.join(case, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f.read().splitlines() if line and not line.startswith("#")]


def main():
    case, check = sys.argv[1], sys.argv[2]
    args = read_lines(case, "args") or ["tether.yaml"]
    tmp = tempfile.mkdtemp(prefix="tether-golden-config.")
    try:
        root = os.path.join(os.path.realpath(tmp), "case")
        shutil.copytree(case, root, symlinks=True,
                        ignore=lambda d, names: [n for n in names if d == case and n in SPECIAL])
        for d, dirs, files in os.walk(root):
            os.chmod(d, 0o700)
            for name in files:
                os.chmod(os.path.join(d, name), 0o600)
        apply_setup(root, read_lines(case, "setup"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "LC_ALL": "C"}
        for k, v in os.environ.items():
            if k.startswith(("ASAN_", "UBSAN_", "LSAN_")):
                env[k] = v
        for line in read_lines(case, "env"):
            k, _, v = line.partition("=")
            env[k] = v
        proc = subprocess.run([check, "--config"] + args, env=env, cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        shutil.rmtree(tmp)
    got = proc.stdout.decode("utf-8", "replace").replace(root, "<case>")
    got += "[exit %d]\n" % proc.returncode
    expected_path = os.path.join(case, "expected")
    if os.environ.get("UPDATE") == "1":
        with open(expected_path, "w") as f:
            f.write(got)
        return 0
    with open(expected_path) as f:
        want = f.read()
    if got != want or proc.stderr:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True), "expected", "got"))
        sys.stdout.write("--- stderr:\n" + proc.stderr.decode("utf-8", "replace"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
