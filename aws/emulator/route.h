/*
 * The routing table: which operation a method, raw path and raw query name, and where that
 * operation's path labels sit. The paths are the service model's (lambda-api.md §1.1), plus
 * ListFunctions and the event source mapping collection with and without their trailing '/'.
 */
#ifndef TETHER_AWS_EMULATOR_ROUTE_H
#define TETHER_AWS_EMULATOR_ROUTE_H

#include <stddef.h>

#include "aws/emulator/emu.h"

/* emu_route(): EMU_OP_NONE when nothing matches. */
enum emu_op route_match(const char *method, const char *path, const char *query);
/*
 * Percent-decode the path labels of op (FunctionName, alias Name, LayerName, VersionNumber,
 * ARN) from path into allocated strings. Returns 0, or -1 on a malformed or NUL escape.
 */
int route_labels(enum emu_op op, const char *path, char **labels, size_t *n);

#endif
