/*
 * How much longer than usual a C test waits for the programs it runs: the valgrind build
 * (tests/valgrind.cmake, docs/memcheck.md) sets TETHER_TEST_TIME_SCALE in every test's
 * environment; other builds leave it unset, which is 1. tests/lib/timescale.py is the same
 * for Python tests.
 */
#ifndef TETHER_TESTS_LIB_TIMESCALE_H
#define TETHER_TESTS_LIB_TIMESCALE_H

/* TETHER_TEST_TIME_SCALE as a number >= 1; 1 when unset. Aborts the test program when it is
 * set to anything else, so a typo does not go unnoticed. */
double timescale_factor(void);

/* seconds x timescale_factor(). */
double timescale_scaled(double seconds);

#endif
