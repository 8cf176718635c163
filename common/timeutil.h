/*
 * Clocks and the timestamp formats AWS uses.
 */
#ifndef TETHER_COMMON_TIMEUTIL_H
#define TETHER_COMMON_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC). */
uint64_t timeutil_mono_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t timeutil_wall_ms(void);
/* SigV4's X-Amz-Date: "YYYYMMDDTHHMMSSZ", into out[17]. */
void timeutil_amzdate(time_t t, char out[17]);
/* Parse an X-Amz-Date. Returns 0 or -1. */
int timeutil_parse_amzdate(const char *s, time_t *out);
/* Lambda's LastModified, "2020-04-10T19:06:32.563+0000", into out[29]. */
void timeutil_lambda(uint64_t wall_ms, char out[29]);
/* ISO 8601 UTC, "2025-01-01T12:00:00Z", into out[21]. */
void timeutil_iso8601(time_t t, char out[21]);
/*
 * Parse an ISO 8601 timestamp as AWS sends it: "2025-01-01T12:00:00Z", with optional
 * fractional seconds and a "Z", "+hh:mm" or "+hhmm" offset. Returns 0 or -1.
 */
int timeutil_parse_iso8601(const char *s, time_t *out);

#endif
