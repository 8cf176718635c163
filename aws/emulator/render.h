/*
 * The response shapes: FunctionConfiguration, GetFunction's Code, AliasConfiguration, layer
 * versions, written straight into the reply with jsonw (no intermediate tree), so that the
 * hot GetFunction path costs one pass over the configuration.
 */
#ifndef TETHER_AWS_EMULATOR_RENDER_H
#define TETHER_AWS_EMULATOR_RENDER_H

#include <stdbool.h>

#include "aws/emulator/model.h"
#include "common/jsonw.h"

struct render_config {
	const struct model_fn *fn;
	const struct model_ver *ver; /* NULL: $LATEST */
	const char *arn_qualifier;   /* appended to FunctionArn; NULL: unqualified */
	bool status;                 /* the six State / LastUpdateStatus fields (not in lists) */
};

/* A FunctionConfiguration object. */
void render_config(struct jsonw *w, const struct emu *emu, const struct render_config *rc);
/* GetFunction's Code object (FunctionCodeLocation) for cfg. */
void render_code(struct jsonw *w, const struct emu *emu, const struct model_cfg *cfg);
/* An AliasConfiguration object. */
void render_alias(
    struct jsonw *w, const struct emu *emu, const struct model_fn *fn, const struct model_alias *a);
/* A layer version: full (GetLayerVersion, PublishLayerVersion) or a list item. */
void render_layer_version(struct jsonw *w, const struct emu *emu, const struct model_layer *layer,
    const struct model_layer_ver *lv, bool full);

#endif
