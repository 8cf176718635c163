/*
 * Small language helpers shared by every module.
 */
#ifndef TETHER_COMMON_COMPAT_H
#define TETHER_COMMON_COMPAT_H

#include <stddef.h>

/* Recover the object that embeds a member (libev watchers live inside their owners). */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTFLIKE(f, a)
#define NORETURN
#endif

#endif
