#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/timescale.h"

double
timescale_factor(void)
{
	const char *text = getenv("TETHER_TEST_TIME_SCALE");
	char *end = NULL;
	double v;

	if (text == NULL || *text == '\0')
		return 1.0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || !(v >= 1.0)) {
		fprintf(stderr, "TETHER_TEST_TIME_SCALE=\"%s\" is not a number >= 1\n", text);
		abort();
	}
	return v;
}

double
timescale_scaled(double seconds)
{
	return seconds * timescale_factor();
}
