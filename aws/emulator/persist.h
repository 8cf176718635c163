/*
 * The model as one JSON document (emu_save, emu_load): functions with their $LATEST and
 * version configurations, aliases, tags, provisioned concurrency, counters, layers, event
 * source mappings, invoke results and update-failure rules (intercept hooks are not saved:
 * they wait for requests of this run). Open Pending/InProgress windows are completed before
 * saving, so a loaded model is settled and keeps its RevisionIds and version counters.
 */
#ifndef TETHER_AWS_EMULATOR_PERSIST_H
#define TETHER_AWS_EMULATOR_PERSIST_H

#include <stdint.h>

#include "aws/emulator/model.h"
#include "common/err.h"

#define PERSIST_FORMAT "tether-emulator-model/1"
#define PERSIST_FILE_MAX (256 * 1024 * 1024)

/* Write the model to path (through a temporary file and rename). Returns 0 or -1. */
int persist_save(struct emu *emu, const char *path, struct err *err);
/* Read path into an empty model. Returns 0, or -1 with err filled (the model is partial). */
int persist_load(struct emu *emu, const char *path, struct err *err);

#endif
