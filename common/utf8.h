/*
 * UTF-8 as RFC 3629 defines it: the one check every reader and writer of text uses.
 */
#ifndef TETHER_COMMON_UTF8_H
#define TETHER_COMMON_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed UTF-8 sequence at s, which has n >= 1 bytes left; 0 when
 * it is not one: a stray continuation byte, an overlong form, a surrogate, a code point
 * past U+10FFFF, or a sequence cut short by the end. */
size_t utf8_len(const unsigned char *s, size_t n);

#endif
