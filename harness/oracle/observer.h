/* Observer: a struct hv_platform_ops that wraps another one (the KVM
 * runner's, replay's, a mock's) and logs every call the core makes during
 * one exit, with its data. The log is what the oracles judge and what a
 * trace records: host CPUID/MSR answers and guest memory read are the
 * exit's inputs; memory written (with the bytes that were there before),
 * host MSR writes, console bytes and EPT-changed notices are its outputs.
 *
 * The log is bounded (HX_OBS_MAX_ENTRIES calls, HX_OBS_MAX_DATA bytes per
 * exit). A call that does not fit is still passed to the base ops (the
 * observer never changes behaviour) but counted in log.overflow, which the
 * oracles report (TOTAL) and traces record: never silent.
 *
 * Typical use (hv_system_init stores the ops pointer, so install after it):
 *
 *   hv_system_init(sys, cfg, base_ops, base_ctx, pool, &diag);
 *   hx_observer_install(obs, sys);        // sys->ops now logs into obs
 *   for each exit:
 *       hx_observer_begin_exit(obs);
 *       hv_handle_exit(sys, &exit, &res);
 *       ... obs->log holds this exit's calls ...
 */
#ifndef HX_OBSERVER_H
#define HX_OBSERVER_H

#include "hv/platform.h"
#include "hv/system.h"

#define HX_OBS_MAX_ENTRIES 1024u
#define HX_OBS_MAX_DATA (64u * 1024u)

enum hx_obs_kind {
	HX_OBS_CPUID = 1,
	HX_OBS_RDMSR = 2,
	HX_OBS_WRMSR = 3,
	HX_OBS_PHYS_READ = 4,
	HX_OBS_PHYS_WRITE = 5,
	HX_OBS_CONSOLE = 6,
	HX_OBS_EPT_CHANGED = 7,
	HX_OBS_KIND_MAX = HX_OBS_EPT_CHANGED
};

/* One platform call. Byte payloads live in the owning log's data buffer
 * (or a trace's payload), addressed by offset. Field use by kind:
 *   CPUID       id = leaf, sub = subleaf, regs = answer (EAX EBX ECX EDX)
 *   RDMSR       id = msr, value = value read (0 when failed)
 *   WRMSR       id = msr, value = value written
 *   PHYS_READ   addr = hpa, len, data = bytes read (absent when failed)
 *   PHYS_WRITE  addr = hpa, len, data = bytes written,
 *               before = bytes there before (when has_before)
 *   CONSOLE     id = partition, len, data = bytes
 *   EPT_CHANGED id = partition, addr = gpa, value = size */
struct hx_obs_entry {
	uint8_t kind;       /* enum hx_obs_kind */
	uint8_t failed;     /* the base op returned -1 (#GP / range missing) */
	uint8_t has_before; /* PHYS_WRITE: `before` is valid */
	uint8_t pad;
	uint32_t id;
	uint32_t sub;
	uint32_t len;
	uint64_t addr;
	uint64_t value;
	uint32_t regs[4];
	uint32_t data;   /* offset of `len` bytes in the data buffer */
	uint32_t before; /* offset of `len` bytes in the data buffer */
};

/* A read-only view of a log: the observer's own, or one exit of a parsed
 * trace (whose entries point into the trace payload). */
struct hx_obs_view {
	const struct hx_obs_entry *entries;
	uint32_t nentries;
	uint32_t overflow; /* calls that were not logged */
	const uint8_t *data;
	uint64_t data_len;
};

struct hx_obs_log {
	uint32_t nentries;
	uint32_t data_len;
	uint32_t overflow;
	uint32_t pad;
	struct hx_obs_entry entries[HX_OBS_MAX_ENTRIES];
	uint8_t data[HX_OBS_MAX_DATA];
};

struct hx_observer {
	const struct hv_platform_ops *base;
	void *base_ctx;
	/* Read the old bytes through base->phys_read before each phys_write
	 * (default true). Turn off when the base cannot read what it writes. */
	bool capture_before;
	struct hx_obs_log log;
};

/* The wrapper ops; their ctx is a struct hx_observer *. */
extern const struct hv_platform_ops hx_observer_ops;

/* Prepare obs (large: allocate with calloc or make it static) to wrap
 * base/base_ctx. The log starts empty. */
void hx_observer_init(struct hx_observer *obs, const struct hv_platform_ops *base, void *base_ctx);

/* Wrap whatever sys->ops/ops_ctx are now and make sys call through obs. */
void hx_observer_install(struct hx_observer *obs, struct hv_system *sys);
/* Undo hx_observer_install (sys->ops/ops_ctx back to the base). */
void hx_observer_uninstall(struct hx_observer *obs, struct hv_system *sys);

/* Start a new exit: empty the log. */
void hx_observer_begin_exit(struct hx_observer *obs);

/* View of the current log. */
struct hx_obs_view hx_observer_view(const struct hx_observer *obs);

/* Bytes of an entry's payload (data or before) in a view; NULL when the
 * offset/len do not lie inside the view's data. */
const uint8_t *hx_obs_bytes(const struct hx_obs_view *v, uint32_t off, uint32_t len);

/* The e->len bytes host memory held at e->addr just before call e, as far
 * as e shows them: what a successful PHYS_READ got, or what a PHYS_WRITE
 * replaced (when has_before). NULL for every other call or when the
 * payload is not in the view. Taken over a log backwards, the last bytes
 * kept for an address are its value when the exit began: replay and
 * BUILD-EQ rebuild the memory an exit saw that way. */
const uint8_t *hx_obs_seen_bytes(const struct hx_obs_view *v, const struct hx_obs_entry *e);

/* "cpuid", "rdmsr", ... ; "unknown" otherwise. */
const char *hx_obs_kind_str(uint32_t kind);

#endif
