/* Hosted platform ops for benchmarks: host memory is one page-aligned
 * buffer, host CPUID and MSRs are answered from tables captured once.
 *
 * Why tables and not the real instructions: this machine is itself a VM, so
 * a real CPUID or RDMSR here is a trap to the outer hypervisor costing
 * microseconds, which would measure the cloud's hypervisor instead of ours.
 * Firmware on bare metal pays ~100-200 cycles for a host CPUID; a table
 * lookup is the cheap end of that and keeps instruction counts exact.
 *
 * Every op is as cheap as it can be while still doing its job (bounds
 * checks, copies), so a handler's measured cost is the core's own. */
#ifndef HXB_PLATFORM_H
#define HXB_PLATFORM_H

#include <stdint.h>

#include "hv/platform.h"

#define HXB_CPUID_BASIC 0x24u /* basic leaves 0 .. 0x23 */
#define HXB_CPUID_EXT 0x28u   /* extended leaves 0x80000000 .. 0x80000027 */
#define HXB_CPUID_SUB 8u      /* subleaves 0 .. 7 of every leaf */
#define HXB_MAX_MSRS 16u

struct hxb_platform {
	uint8_t *mem; /* host-physical memory [0, mem_size) */
	uint64_t mem_size;
	uint32_t basic[HXB_CPUID_BASIC][HXB_CPUID_SUB][4];
	uint32_t ext[HXB_CPUID_EXT][HXB_CPUID_SUB][4];
	uint32_t nmsrs;
	uint32_t msr[HXB_MAX_MSRS];
	uint64_t msr_value[HXB_MAX_MSRS];
	uint64_t console_bytes; /* console output is counted, not kept */
	uint64_t ept_changes;
};

extern const struct hv_platform_ops hxb_platform_ops;

/* Allocates zeroed, page-aligned host memory. Returns 0, or -1 (errno). */
int hxb_platform_init(struct hxb_platform *p, uint64_t mem_size);
void hxb_platform_free(struct hxb_platform *p);

/* Fill the CPUID tables like a typical AMD EPYC host (with SVM visible, and
 * VMX in leaf 1 so masking has work to do); same values on every machine,
 * so instruction counts do not depend on where the benchmark runs. */
void hxb_platform_typical_cpuid(struct hxb_platform *p);
void hxb_platform_set_msr(struct hxb_platform *p, uint32_t msr, uint64_t value);

#endif
