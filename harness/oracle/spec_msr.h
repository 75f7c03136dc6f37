/* The oracle's own MSR specification, written from the manuals (Intel SDM
 * Vol. 4 "Model-Specific Registers", Vol. 3A-3D; AMD APM Vol. 2) and kept
 * apart from the handlers' tables (handlers/src/msr.c): a wrong entry there
 * must not be invisible to the oracle by construction. See SPEC.md.
 *
 * One row per MSR range, sorted, no overlaps; lookups are binary searches.
 * An MSR in no row is unknown, and unknown counts as unsafe (fail closed):
 * never safe to write on the host, never safe to read on the host. */
#ifndef HX_SPEC_MSR_H
#define HX_SPEC_MSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which processors share one instance of the register (SDM Vol. 4, the
 * "Scope" column of its tables; APM Vol. 2 per MSR). */
enum spec_msr_scope {
	SPEC_SCOPE_THREAD = 0, /* one per logical processor */
	SPEC_SCOPE_CORE,       /* shared by the threads of a core */
	SPEC_SCOPE_PACKAGE,    /* shared by every core of a package (or die) */
};

/* What kind of address the register holds, if any. */
enum spec_msr_addr {
	SPEC_ADDR_NONE = 0,
	SPEC_ADDR_LINEAR, /* a linear address: WRMSR #GPs when not canonical */
	SPEC_ADDR_PHYS,   /* a physical address */
	SPEC_ADDR_MIXED,  /* a range whose members hold either kind */
};

/* A write changes architectural state beyond the logical processor: the
 * sibling thread, the core, the package or the platform. */
#define SPEC_W_BEYOND_THREAD (1u << 0)
/* A host write changes state the partition does not own: the hypervisor's
 * own state on that thread (its entry points, memory types, time base),
 * other partitions, or the platform. */
#define SPEC_W_BEYOND_PARTITION (1u << 1)
/* Reading the host's register reveals host state: an address, the memory
 * map, the hypervisor's own configuration, or what other software does
 * (counters, traces, energy). */
#define SPEC_R_HOST (1u << 2)
/* Safe for a partition to write on the host (passthrough): the write
 * leaves no architectural state behind and reaches nothing beyond the
 * thread but performance (command MSRs). Only these may appear in a host
 * WRMSR. */
#define SPEC_W_SAFE (1u << 3)
#define SPEC_READ_ONLY (1u << 4)  /* WRMSR #GPs */
#define SPEC_WRITE_ONLY (1u << 5) /* RDMSR #GPs */
/* Per-thread architectural state a partition owns when it is emulated
 * (the host's copy is the hypervisor's own). */
#define SPEC_GUEST_STATE (1u << 6)

struct spec_msr {
	uint32_t first, last; /* inclusive */
	uint8_t scope;        /* enum spec_msr_scope */
	uint8_t addr;         /* enum spec_msr_addr */
	uint16_t flags;       /* SPEC_* */
	const char *name;
	const char *ref; /* manual section */
};

extern const struct spec_msr spec_msr_table[];
extern const size_t spec_msr_count;

/* The row holding msr, or NULL when the spec does not know it. */
const struct spec_msr *spec_msr_find(uint32_t msr);

/* A host WRMSR of msr on behalf of a partition is allowed: known and
 * SPEC_W_SAFE. */
bool spec_msr_host_write_ok(uint32_t msr);
/* A host RDMSR of msr on behalf of a partition is allowed: known, readable
 * and not SPEC_R_HOST. */
bool spec_msr_host_read_ok(uint32_t msr);
/* msr holds a linear address (WRMSR checks it is canonical). */
bool spec_msr_is_linear_address(uint32_t msr);

/* For messages: the row's name, or "an MSR unknown to the spec". */
const char *spec_msr_name(uint32_t msr);
/* Why a host write is not allowed, e.g. "write reaches beyond the
 * partition; SDM Vol. 3B ..." (static text). */
const char *spec_msr_write_reason(uint32_t msr);
const char *spec_msr_read_reason(uint32_t msr);

#endif
