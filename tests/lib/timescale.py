"""How much longer than usual a test waits for the programs it runs.

The valgrind build (tests/valgrind.cmake, docs/memcheck.md) runs every program of the
project under memcheck, several times slower, and puts TETHER_TEST_TIME_SCALE in every
test's environment; other builds leave it unset, which is 1. The shared helpers scale
their waits for a process or a condition with scaled(); a test that waits on its own
does the same. A bound that measures speed, which is what a test of a deadline checks,
is not a wait and is not scaled.
"""

import os


def _scale():
    text = os.environ.get("TETHER_TEST_TIME_SCALE", "")
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError("TETHER_TEST_TIME_SCALE=%r is not a number" % text) from None
    if not value >= 1.0:
        raise ValueError("TETHER_TEST_TIME_SCALE=%r is below 1" % text)
    return value


SCALE = _scale()


def scaled(seconds):
    """seconds x TETHER_TEST_TIME_SCALE."""
    return seconds * SCALE
