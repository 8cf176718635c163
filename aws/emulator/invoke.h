/*
 * Invoke: resolve the qualifier (an alias with routing picks its primary or additional
 * version by weight), refuse a function or version that is Pending or Failed or, for
 * $LATEST, updating, check the payload (6 MB, JSON), and answer the result configured with
 * emu_set_invoke() for the executed code's image URI or CodeSha256, with Lambda's headers.
 * After a failed update, $LATEST executes the configuration that last deployed.
 */
#ifndef TETHER_AWS_EMULATOR_INVOKE_H
#define TETHER_AWS_EMULATOR_INVOKE_H

#include "aws/emulator/req.h"

#define INVOKE_SYNC_MAX (6 * 1024 * 1024)
#define INVOKE_ASYNC_MAX (1024 * 1024)
#define INVOKE_DEFAULT_RESULT "{\"statusCode\":200}"

void invoke_run(struct req *r);

#endif
