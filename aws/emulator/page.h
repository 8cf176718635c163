/*
 * Pagination as Lambda does it: at most EMU_PAGE_MAX items per page whatever MaxItems
 * says, and an opaque NextMarker. A marker here is the base64 of "<list>|<last key>", so a
 * page continues after the last item it returned even when items were added or deleted
 * in between, and a marker from another list (or made up) is refused with 400.
 */
#ifndef TETHER_AWS_EMULATOR_PAGE_H
#define TETHER_AWS_EMULATOR_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "aws/emulator/req.h"

/* The marker that continues list after key (allocated). */
char *page_marker(const char *list, const char *key);
/*
 * The Marker parameter of r decoded for list: *key is NULL without one. Returns 0, or -1
 * after answering 400 InvalidParameterValueException for a marker that is not ours.
 */
int page_start(struct req *r, const char *list, char **key);
/*
 * The page size: MaxItems (1..max, a ValidationException otherwise, collected in r) capped
 * at EMU_PAGE_MAX.
 */
size_t page_size(struct req *r, int64_t max);

#endif
