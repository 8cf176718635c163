"""Crash safety: tether apply killed with SIGKILL at random moments, then a normal apply.

Over commits that change the images of a few functions, with updates InProgress for a while
so that something is in flight, each apply is killed after a random delay (seeded: the
seed is printed; TETHER_TEST_SEED repeats a run), and a normal apply follows. It must exit
0, and after it:
- live equals git: each alias is on the version that holds the commit's digest, and that
  version's image is the committed one; `tether plan` says in sync;
- no two tether-published versions of a function carry the same digest, and every one of
  them has the image of the spec its digest names;
- every manifest line parses, except at most one partial last line per file left by a kill
  (and a later writer starts on a new line); `tether history` exits 0.
"""
import os
import random
import signal
import sys
import time

from applylib import (VERSION_MARK, ApplyCase, function_yaml, image, is_mutation, main,
                      manifest_lines)
from timescale import SCALE, scaled

FUNCTIONS = ("red", "green", "blue")
KILLS = int(os.environ.get("TETHER_CRASH_KILLS", "20"))
MAX_DELAY = scaled(1.5)  # a run's startup takes longer under valgrind


class Crash(ApplyCase):
    update_delay_ms = 250

    def check_manifests(self, partial, after_kill):
        """Every line parses, but for partial last lines left by kills. partial: the
        (path, line number) of the ones seen so far; a new one is only allowed as the last
        line right after a kill."""
        for path in self.manifest_files():
            lines = manifest_lines(path)
            for i, rec, line, unterminated in lines:
                if rec is not None:
                    self.check_record(rec, "%s:%d" % (path, i))
                    continue
                if (path, i) in partial:
                    continue
                self.assertTrue(after_kill and unterminated,
                                "%s:%d does not parse: %r" % (path, i, line[:200]))
                partial.add((path, i))
            if not after_kill:
                self.assertFalse(lines and lines[-1][3],
                                 "%s: a finished apply left no newline" % path)

    def test_kill_anywhere(self):
        seed = int(os.environ.get("TETHER_TEST_SEED", "0")) or random.randrange(1, 2**31)
        print("\ncrash test seed=%d (TETHER_TEST_SEED=%d repeats it)" % (seed, seed),
              file=sys.stderr)
        rng = random.Random(seed)
        current = {}
        for name in FUNCTIONS:
            current[name] = image(name, "1.0.0")
            self.create_image_function(name, current[name])
        images = {}  # (function, digest12) -> image of that spec
        partial = set()
        known = {}  # (function, version) -> its image
        kills = in_flight = rounds = 0
        max_delay = None
        min_delay = 0.0
        report = []
        while kills < KILLS:
            rounds += 1
            self.assertLessEqual(rounds, 2 * KILLS + 12, "too few runs could be killed")
            changed = rng.sample(FUNCTIONS, rng.randint(1, len(FUNCTIONS)))
            if rounds <= 2:
                changed = list(FUNCTIONS)
            for name in changed:
                current[name] = image(name, "1.%d.0" % rounds)
            for name in FUNCTIONS:
                self.repo.write("functions/%s.yaml" % name, function_yaml(name, current[name]))
            commit = self.repo.commit("round %d: %s" % (rounds, " ".join(sorted(changed))))
            digests = self.validate()
            for name in FUNCTIONS:
                images[(name, digests[name][:12])] = current[name]

            # Round 1 deploys without a kill. Round 2 changes every image, not killed
            # either, to see how long a run takes: kills are spread over that time (at most
            # MAX_DELAY), so that most land inside a run. Then every round kills.
            if rounds == 2:
                t0 = time.monotonic()
                self.apply()
                max_delay = min(MAX_DELAY, time.monotonic() - t0)
                print("crash test: an apply of 3 new images takes %.2f s; kills within "
                      "0..%.2f s" % (time.monotonic() - t0, max_delay), file=sys.stderr)
            elif rounds > 2:
                delay = rng.uniform(min_delay, max_delay)
                before = self.emu.stats()["operations"]
                proc = self.start_apply()
                time.sleep(delay)
                killed = proc.poll() is None
                if killed:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                out, err = proc.communicate(timeout=60)
                after = self.emu.stats()["operations"]
                calls = sum(after[op] - before.get(op, 0) for op in after if is_mutation(op))
                if not killed:
                    self.assertEqual(proc.returncode, 0, out + err)
                elif calls > 0:
                    in_flight += 1
                # The window follows how long runs take on this machine now (another test,
                # a sanitizer or memcheck slow them down): a kill before any mutating call
                # raises its start, a run that ended before its kill lowers its end.
                if killed and calls == 0:
                    min_delay = max(min_delay, delay)
                    if min_delay > 0.8 * max_delay:
                        max_delay = 1.5 * min_delay
                elif not killed:
                    max_delay = max(delay, 0.1)
                    min_delay = min(min_delay, max_delay / 2)
                report.append("%.3f%s" % (delay, ("k%d" % calls) if killed else ""))
                self.check_manifests(partial, after_kill=killed)

            t0 = time.monotonic()
            run = self.apply()
            if rounds == 2 and SCALE > 1:
                # Under valgrind a run spends seconds starting and observing before its
                # first mutating call, which is what this apply, with nothing to do, does:
                # kills come after that, or too few would land inside a run.
                min_delay = min(time.monotonic() - t0, max_delay / 2)
                print("crash test: under valgrind, kills within %.2f..%.2f s"
                      % (min_delay, max_delay), file=sys.stderr)
            self.assertEqual(run.counts["converged"] + run.counts["in sync"], len(FUNCTIONS),
                             run.show())
            self.check_manifests(partial, after_kill=False)
            for name in FUNCTIONS:
                version, weights, _ = self.alias(name)
                self.assertEqual(weights, {}, name)
                cfg = self.lam.get_function_configuration(FunctionName=name, Qualifier=version)
                mark = VERSION_MARK.match(cfg["Description"])
                self.assertIsNotNone(mark, (name, rounds, cfg))
                self.assertEqual(mark.group(1), digests[name][:12], (name, rounds, cfg))
                if name in changed:
                    self.assertEqual(mark.group(2), commit[:12], (name, rounds, cfg))
                self.assertEqual(self.version_image(name, version), current[name],
                                 (name, rounds))
                seen = {}
                for number, (d12, desc) in self.tether_versions(name).items():
                    self.assertNotIn(d12, seen, "%s: versions %s and %s both carry d=%s"
                                     % (name, seen.get(d12), number, d12))
                    seen[d12] = number
                    self.assertIn((name, d12), images, desc)
                    if (name, number) not in known:  # versions never change: read once
                        known[(name, number)] = self.version_image(name, number)
                    self.assertEqual(known[(name, number)], images[(name, d12)],
                                     (name, number, desc))
            plan = self.tether("plan", "--repo", self.repo.path)
            self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)
            self.history()
        print("crash test: %d rounds, %d killed, %d of them after a mutating call; delays "
              "(kN: killed after N mutating calls): %s"
              % (rounds, kills, in_flight, " ".join(report)), file=sys.stderr)
        self.assertGreaterEqual(in_flight, KILLS // 3, "too few kills landed inside a run")
        if partial:
            p = self.history()
            self.assertIn("skipped a partial record", p.stderr)


if __name__ == "__main__":
    main()
