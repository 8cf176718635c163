/*
 * PutProvisionedConcurrencyConfig and ListProvisionedConcurrencyConfigs on an alias or a
 * published version. A configuration is IN_PROGRESS for the create window, then READY;
 * a version under one cannot be deleted, and an alias under one cannot take weights.
 */
#ifndef TETHER_AWS_EMULATOR_PC_H
#define TETHER_AWS_EMULATOR_PC_H

#include "aws/emulator/req.h"

void pc_put(struct req *r);
void pc_list(struct req *r);

#endif
