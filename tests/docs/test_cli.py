"""The command line as the documentation shows it.

1. docs/cli.md holds every help text verbatim: each fenced block that starts with
   `$ tether ... --help` must equal what that command prints, and every command of
   `tether --help` has such a block. UPDATE=1 rewrites the blocks from the binary.
2. Every `tether COMMAND ...` the README, docs/ and examples/ show (in shell blocks and in
   inline code) names a real command and only options that command's --help lists. A
   line that is runnable as written (no placeholders such as FILE or [--ref REF]) must
   also be accepted by the parser: `tether <that line> --help` exits 0.

What each command then does is the business of the tests of that command, the README
tour (test_readme_tour.py) and the quickstart (e2e.quickstart).
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import unittest

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLI_MD = os.path.join(TOP, "docs", "cli.md")
HELP_BLOCK = re.compile(r"```text\n\$ (tether(?: [a-z-]+)? --help)\n(.*?)```\n", re.S)
FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```$", re.S | re.M)
SHELL_LANGS = ("", "sh", "bash", "shell", "console")
# A tether invocation: the program (maybe with a path), then its words up to a shell
# separator, a comment, a closing parenthesis or backtick, or a redirection.
INVOCATION = re.compile(r"(?:^|(?<=[\s($`=]))(?:[\w./-]*/)?tether((?: +[^\s|;&#)`<>]+)*)")
# Where a shell line can start a command: at the start, after VAR=value words, after
# `$(`, a backtick, `&&`, `||`, `|`, `;`, sudo or exec, or in a unit's ExecStart=.
COMMAND_POSITION = re.compile(
    r"(?:^|\$\(|`|&&|\|\||[;|]|\bsudo|\bexec|ExecStart=)\s*(?:\w+=\S*\s+)*$")
PLACEHOLDER = re.compile(r"[\[\]<>]|\.\.\.|^[A-Z][A-Z_|]*$|[A-Z]{2,}")


def run(*args):
    p = subprocess.run([os.environ["TETHER_BIN"], *args], text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    return p.returncode, p.stdout, p.stderr


def commands():
    """The command names `tether --help` lists."""
    rc, out, _ = run("--help")
    assert rc == 0
    listing = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in listing.splitlines()]


def options_of(command):
    """The long options `tether COMMAND --help` lists."""
    rc, out, _ = run(command, "--help")
    assert rc == 0, command
    return set(re.findall(r"^  (?:-\w, )?(--[a-z-]+)", out, re.M))


def documents():
    paths = [os.path.join(TOP, "README.md")]
    paths += sorted(glob.glob(os.path.join(TOP, "docs", "*.md")))
    paths += sorted(glob.glob(os.path.join(TOP, "examples", "**", "*.md"), recursive=True))
    return paths


def shown_invocations(path):
    """(line number, words after `tether`, runnable-as-shell) for every invocation the
    document shows: in shell blocks (comments cut) and in inline code spans."""
    with open(path) as f:
        text = f.read()
    found = []
    for m in FENCE.finditer(text):
        if m.group(1) not in SHELL_LANGS:
            continue
        first = text.count("\n", 0, m.start(2)) + 1
        for i, line in enumerate(m.group(2).splitlines()):
            line = re.sub(r"(^|\s)#.*$", "", line)
            if line.startswith("$ "):
                line = line[2:]
            for inv in INVOCATION.finditer(line):
                if COMMAND_POSITION.search(line[:inv.start()]):
                    found.append((first + i, inv.group(1).strip(), True))
    prose = FENCE.sub("", text)
    for m in re.finditer(r"`([^`\n]*)`", prose):
        for inv in INVOCATION.finditer(m.group(1)):
            line = text.count("\n", 0, text.find(m.group(0))) + 1
            found.append((line, inv.group(1).strip(), False))
    return found


class HelpMatchesDocs(unittest.TestCase):
    def test_help_blocks(self):
        with open(CLI_MD) as f:
            text = f.read()
        blocks = HELP_BLOCK.findall(text)
        documented = set()
        for cmdline, body in blocks:
            args = cmdline.split()[1:]
            rc, out, err = run(*args)
            self.assertEqual((rc, err), (0, ""), cmdline)
            if os.environ.get("UPDATE") == "1":
                text = text.replace("$ %s\n%s```" % (cmdline, body),
                                    "$ %s\n%s```" % (cmdline, out), 1)
            else:
                self.assertEqual(out, body, "docs/cli.md's `%s` differs from the binary's "
                                 "(UPDATE=1 rewrites it)" % cmdline)
            documented.add(args[0] if len(args) > 1 else "")
        if os.environ.get("UPDATE") == "1":
            with open(CLI_MD, "w") as f:
                f.write(text)
        self.assertEqual(documented, set([""] + commands()))

    def test_help_of_every_command(self):
        """`tether help CMD` is `tether CMD --help`; an unknown command is a usage error."""
        for c in commands():
            self.assertEqual(run("help", c), run(c, "--help"), c)
        self.assertEqual(run("help")[:2], run("--help")[:2])
        rc, out, err = run("help", "deploy")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn('unknown command "deploy"', err)


class DocumentedCommands(unittest.TestCase):
    def test_documented_invocations(self):
        known = commands()
        opts = {c: options_of(c) for c in known}
        checked = 0
        problems = []
        for path in documents():
            rel = os.path.relpath(path, TOP)
            for line, words, shell in shown_invocations(path):
                try:
                    argv = shlex.split(words)
                except ValueError:
                    argv = words.split()
                if not argv or not re.match(r"^[a-z][a-z-]*$", argv[0]):
                    continue  # prose such as "tether's", or a description string
                command = next((w for w in argv if not w.startswith("-")), None)
                if command not in known:
                    if shell and command is not None and re.match(r"^[a-z-]+$", command):
                        problems.append("%s:%d: unknown command in `tether %s`" % (
                            rel, line, words))
                    continue
                for w in argv:
                    opt = re.sub(r"[\[\]]", "", w).split("=", 1)[0]
                    if opt.startswith("--") and opt not in opts[command]:
                        problems.append("%s:%d: `tether %s`: %s is not an option of %s" % (
                            rel, line, words, opt, command))
                checked += 1
                if shell and not any(PLACEHOLDER.search(w) for w in argv) and \
                        "$" not in words:
                    rc, _, err = run(*argv, "--help")
                    if rc != 0:
                        problems.append("%s:%d: `tether %s` does not parse: %s" % (
                            rel, line, words, err.strip()))
        self.assertEqual(problems, [])
        self.assertGreater(checked, 50)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=2))
