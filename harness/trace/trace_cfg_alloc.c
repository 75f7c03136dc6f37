/* Config buffers for traces. A struct hv_system_config is about 280 KB:
 * large enough that the allocator (ASan's included) maps it fresh and
 * unmaps it on free, so every parse of a new config paid a page fault per
 * page. A fuzzer parses thousands of new configs a second (every mutation
 * of a CONF record), so the buffers of freed configs are kept for the next
 * one. Per thread, so that two threads never share a buffer. */
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

#define TR_CFG_SPARES 4

static _Thread_local struct hv_system_config *spares[TR_CFG_SPARES];
static _Thread_local unsigned nspares;

struct hv_system_config *tr_cfg_new(void)
{
	if (nspares == 0)
		return calloc(1, sizeof(struct hv_system_config));
	struct hv_system_config *cfg = spares[--nspares];
	memset(cfg, 0, sizeof(*cfg));
	return cfg;
}

void tr_cfg_free(struct hv_system_config *cfg)
{
	if (!cfg)
		return;
	if (nspares < TR_CFG_SPARES)
		spares[nspares++] = cfg;
	else
		free(cfg);
}
