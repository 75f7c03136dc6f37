/* The one door from the core to hardware and memory. Firmware, the KVM
 * runner, trace replay and the unit-test mocks each provide their own.
 * Guest-physical accesses are translated by the core through the partition's
 * EPT (hv/guest_mem.h) and only then reach phys_read/phys_write. */
#ifndef HV_PLATFORM_H
#define HV_PLATFORM_H

#include "hv/types.h"

enum hv_log_level { HV_LOG_ERROR, HV_LOG_WARN, HV_LOG_INFO, HV_LOG_DEBUG };

struct hv_platform_ops {
	/* Execute CPUID on the host. */
	void (*cpuid)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
	/* Host RDMSR/WRMSR. Return 0, or -1 when the host raised #GP. */
	int (*rdmsr)(void *ctx, uint32_t msr, uint64_t *value);
	int (*wrmsr)(void *ctx, uint32_t msr, uint64_t value);
	/* Host-physical memory. Return 0, or -1 when the range does not exist.
	 * len never exceeds one page and never crosses a page boundary. */
	int (*phys_read)(void *ctx, uint64_t hpa, void *dst, uint32_t len);
	int (*phys_write)(void *ctx, uint64_t hpa, const void *src, uint32_t len);
	/* Console bytes of a partition (hypercall or console device). */
	void (*console)(void *ctx, uint32_t partition, const char *buf, uint32_t len);
	/* Diagnostic log line (no trailing newline). May be NULL. */
	void (*log)(void *ctx, enum hv_log_level level, const char *msg);
	/* The EPT of `partition` lost permissions on [gpa, gpa+size) at run
	 * time (hypercall MEM_PROTECT). Translations cached by the CPU may
	 * still grant the old ones: firmware invalidates them (single-context
	 * INVEPT, Intel SDM Vol. 3C, 29.4.3.3; a TLB flush of the guest's ASID
	 * on AMD), the KVM runner rebuilds its memslots from the EPT. May be
	 * NULL. */
	void (*ept_changed)(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size);
};

#endif
