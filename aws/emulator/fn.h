/*
 * The function operations: CreateFunction, GetFunction, GetFunctionConfiguration,
 * ListFunctions, ListVersionsByFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
 * PublishVersion and DeleteFunction, with Lambda's state machine (Pending -> Active,
 * LastUpdateStatus InProgress -> Successful), RevisionId preconditions and versioning.
 */
#ifndef TETHER_AWS_EMULATOR_FN_H
#define TETHER_AWS_EMULATOR_FN_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/emulator/model.h"
#include "aws/emulator/req.h"

void fn_create(struct req *r);
void fn_get(struct req *r);
void fn_get_configuration(struct req *r);
void fn_list(struct req *r);
void fn_list_versions(struct req *r);
void fn_update_code(struct req *r);
void fn_update_configuration(struct req *r);
void fn_publish(struct req *r);
void fn_delete(struct req *r);

/*
 * 409 ResourceConflictException when fn is Pending or an update is InProgress (settled by
 * the caller). Returns true when it answered.
 */
bool fn_busy(struct req *r, const struct model_fn *fn);
/*
 * Refuse a qualifier in the FunctionName of an operation on the function itself
 * ($LATEST is allowed when latest_ok). Returns 0, or -1 after answering 400.
 */
int fn_unqualified(struct req *r, const struct model_name *n, bool latest_ok);
/*
 * The function an operation on the function itself names: n checked (model_check_name),
 * unqualified (fn_unqualified), found and settled (model_fn_lookup). NULL after answering.
 */
struct model_fn *fn_target(struct req *r, const struct model_name *n, bool latest_ok);
/* Answer 412 PreconditionFailedException when revision is set and differs from current. */
bool fn_stale(struct req *r, const char *revision, const char *current);

#endif
