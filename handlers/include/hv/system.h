/* Run-time state of the hypervisor: the config it runs, the platform, the
 * page pool and per-partition state. One struct, owned by the caller; the
 * core has no globals. */
#ifndef HV_SYSTEM_H
#define HV_SYSTEM_H

#include "hv/config.h"
#include "hv/device.h"
#include "hv/platform.h"
#include "hv/pool.h"
#include "hv/status.h"

struct hv_vcpu {
	uint64_t msr_value[HV_MAX_MSR_RULES]; /* emulated MSRs, by rule index */
};

struct hv_partition {
	uint64_t ept_root;   /* PML4 HPA; HV_S2_ROOT_NPT set on AMD (hv/s2_entry.h) */
	uint32_t halted;     /* enum hv_halt_reason, HV_HALT_NONE while running */
	uint32_t protected_; /* memory-protect has reduced a permission */
	uint64_t yields;
	struct hv_vcpu vcpus[HV_MAX_VCPUS];
	struct hv_device_state devices[HV_MAX_DEVICES];
	struct hv_io_state io[HV_MAX_IO_DEVICES];
};

/* Hypervisor-side state of a channel's mailbox; the payload lives in the
 * channel's own pages. */
struct hv_channel_state {
	uint32_t msg_len; /* 0: empty */
	uint32_t seq;
};

struct hv_system {
	const struct hv_system_config *cfg;
	const struct hv_platform_ops *ops;
	void *ops_ctx;
	struct hv_pool *pool;
	struct hv_partition parts[HV_MAX_PARTITIONS];
	struct hv_channel_state channels[HV_MAX_CHANNELS];
};

/* Validate cfg, build every partition's EPT from pool and reset all state.
 * The pool must lie inside the hypervisor range [cfg->hv_base, +hv_size):
 * otherwise HV_ERR_RANGE with diag error HV_CFG_POOL_PLACEMENT (addr = pool
 * HPA). On failure nothing is left allocated in the pool; *diag says why
 * when the config or the pool placement was rejected. */
hv_status hv_system_init(struct hv_system *sys, const struct hv_system_config *cfg,
                         const struct hv_platform_ops *ops, void *ops_ctx, struct hv_pool *pool,
                         struct hv_config_diag *diag);

#endif
