/*
 * One-shot intercepts (emu_add_hook): a test arranges that, just before the model serves
 * the next request of some operation for some function, $LATEST is changed as if another
 * client had updated it and the update had settled. That makes the races a controller must
 * survive (a RevisionId gone stale between its read and its write) reproducible.
 */
#ifndef TETHER_AWS_EMULATOR_HOOK_H
#define TETHER_AWS_EMULATOR_HOOK_H

#include "aws/emulator/model.h"
#include "aws/emulator/req.h"
#include "common/buf.h"
#include "common/err.h"

/*
 * Check a hook against the model and store it (emu_add_hook() has the contract). Returns
 * 0, or -1 with err filled and nothing stored.
 */
int hook_add(struct emu *emu, const char *operation, const char *function, const char *code_json,
    const char *config_json, struct err *err);
/* The stored hooks as {"intercepts": [...]} into out. Returns 0, or -1 over out's cap. */
int hook_list(const struct emu *emu, struct buf *out);
/*
 * Before r runs: fire the first stored hook that waits for r's operation and function and
 * can fire now, then forget it.
 */
void hook_fire(struct req *r);

#endif
