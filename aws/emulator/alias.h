/*
 * The alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases,
 * with Lambda's rules for names, target versions, weighted routing (one additional
 * published version, never $LATEST) and the alias's own RevisionId.
 */
#ifndef TETHER_AWS_EMULATOR_ALIAS_H
#define TETHER_AWS_EMULATOR_ALIAS_H

#include "aws/emulator/req.h"

void alias_create(struct req *r);
void alias_get(struct req *r);
void alias_update(struct req *r);
void alias_delete(struct req *r);
void alias_list(struct req *r);

#endif
