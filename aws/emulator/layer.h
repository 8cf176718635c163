/*
 * The layer operations: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn and
 * ListLayerVersions. Versions are numbered per layer from 1 and never reused.
 */
#ifndef TETHER_AWS_EMULATOR_LAYER_H
#define TETHER_AWS_EMULATOR_LAYER_H

#include "aws/emulator/req.h"

void layer_publish(struct req *r);
void layer_get(struct req *r);
void layer_get_by_arn(struct req *r);
void layer_list_versions(struct req *r);

#endif
