/*
 * CreateEventSourceMapping and ListEventSourceMappings: enough of event source mappings to
 * reference a function, a version or an alias (which then cannot be deleted under them).
 * Mappings outlive the function they target, as Lambda's do.
 */
#ifndef TETHER_AWS_EMULATOR_ESM_H
#define TETHER_AWS_EMULATOR_ESM_H

#include "aws/emulator/req.h"

void esm_create(struct req *r);
void esm_list(struct req *r);

#endif
