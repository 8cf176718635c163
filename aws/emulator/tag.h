/*
 * TagResource, UntagResource and ListTags on the unqualified function ARN. Tags belong to
 * the function (not to versions); changing them moves $LATEST's RevisionId.
 */
#ifndef TETHER_AWS_EMULATOR_TAG_H
#define TETHER_AWS_EMULATOR_TAG_H

#include "aws/emulator/req.h"

void tag_resource(struct req *r);
void tag_untag(struct req *r);
void tag_list(struct req *r);

#endif
