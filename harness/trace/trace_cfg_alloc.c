/* Config buffers for traces. A struct hv_system_config is about 280 KB:
 * large enough that the allocator (ASan's included) maps it fresh and
 * unmaps it on free, so every parse of a new config paid a page fault per
 * page. A fuzzer parses thousands of new configs a second (every mutation
 * of a CONF record), so the buffers of freed configs are kept for the next
 * one, already zeroed. Per thread, so that two threads never share a
 * buffer.
 *
 * Zeroing all of it was a twentieth of the exit target's time, for configs
 * of two or three partitions out of 64. A config only the reader wrote
 * (tr_cfg_free_parsed) has nothing past its npartitions entries, so only
 * those, the fields before them and the channels are cleared. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

#define TR_CFG_SPARES 4

/* Nothing between the partitions and the channels for a clearing to miss. */
_Static_assert(offsetof(struct hv_system_config, channels) ==
                       offsetof(struct hv_system_config, partitions) +
                               sizeof(((struct hv_system_config *)0)->partitions),
               "the channels follow the partitions");

static _Thread_local struct hv_system_config *spares[TR_CFG_SPARES];
static _Thread_local unsigned nspares;

struct hv_system_config *tr_cfg_new(void)
{
	if (nspares == 0)
		return calloc(1, sizeof(struct hv_system_config));
	return spares[--nspares];
}

static void keep_or_free(struct hv_system_config *cfg, size_t partitions_written)
{
	if (nspares == TR_CFG_SPARES) {
		free(cfg);
		return;
	}
	/* The fields before the partitions, the partitions written, and from
	 * the channels to the end: with all 64 partitions, the whole struct. */
	size_t tail = offsetof(struct hv_system_config, channels);
	memset(cfg, 0, offsetof(struct hv_system_config, partitions));
	memset(cfg->partitions, 0, partitions_written * sizeof(cfg->partitions[0]));
	memset((unsigned char *)cfg + tail, 0, sizeof(*cfg) - tail);
	spares[nspares++] = cfg;
}

void tr_cfg_free(struct hv_system_config *cfg)
{
	if (cfg)
		keep_or_free(cfg, HV_MAX_PARTITIONS);
}

void tr_cfg_free_parsed(struct hv_system_config *cfg)
{
	if (cfg)
		keep_or_free(cfg, cfg->npartitions < HV_MAX_PARTITIONS ? cfg->npartitions
		                                                       : HV_MAX_PARTITIONS);
}
