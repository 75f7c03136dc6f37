/* Isolation invariants over second-stage tables, Intel EPT or AMD NPT
 * (DESIGN.md, "Isolation invariants"; the ids say EPT for both). Used by
 * firmware at boot and by every oracle of the harness. */
#ifndef HV_VERIFY_H
#define HV_VERIFY_H

#include "hv/config.h"
#include "hv/pool.h"

enum hv_invariant {
	HV_INV_EPT_OWN = 0,
	HV_INV_EPT_FORM,
	HV_INV_EPT_EXACT,
	HV_INV_CONTAIN,
	HV_INV_RIP,
	HV_INV_CPUID_MASK,
	HV_INV_MSR_GUARD,
	HV_INV_HCALL_BOUNDS,
	HV_INV_TOTAL,
	HV_INV_DET,
	HV_INV_BUILD_EQ,
	HV_INV_DECODE_EQ,
	HV_INV_IO_GUARD, /* no port I/O reaches the host; only configured devices answer */
	HV_INV_CR_GUARD, /* CR writes keep the partition's mode and stay out of host features */
	HV_INV_COUNT
};

/* "EPT-OWN", "CONTAIN", ... */
const char *hv_invariant_id(enum hv_invariant inv);

enum hv_verify_reason {
	HV_VR_HV_MEMORY = 0,      /* leaf maps hypervisor-reserved memory */
	HV_VR_TABLE_PAGE,         /* leaf maps an EPT table page */
	HV_VR_FOREIGN,            /* leaf maps memory the partition does not own */
	HV_VR_OUTSIDE_HOST,       /* leaf maps beyond host memory */
	HV_VR_WRITE_NO_READ,      /* W without R (SDM 29.3.3.1: EPT misconfiguration) */
	HV_VR_BAD_MEMTYPE,        /* memory type 2, 3 or 7 */
	HV_VR_RESERVED_BITS,      /* reserved bits set */
	HV_VR_LARGE_MISALIGNED,   /* large-page address not aligned to its size */
	HV_VR_TABLE_OUTSIDE_POOL, /* table pointer not in the pool */
	HV_VR_TABLE_SHARED,       /* table page reachable twice */
	HV_VR_UNEXPECTED,         /* mapped but not in the config */
	HV_VR_MISSING,            /* configured but not mapped */
	HV_VR_WRONG_HPA,          /* mapped to another HPA than configured */
	HV_VR_PERM_GROWN,         /* permissions beyond the configured ones */
	HV_VR_PERM_CHANGED,       /* permissions differ although never protected */
	HV_VR_WRONG_MEMTYPE,      /* memory type differs from the config */
	HV_VR_POOL_TOO_LARGE,     /* more pool pages in use than the verifier tracks */
	HV_VR_NOT_USER,           /* NPT entry without U/S (APM 15.25.5) */
	HV_VR_WRONG_FORMAT,       /* root's format is not the configured vendor's */
	HV_VR_COUNT
};

const char *hv_verify_reason_str(enum hv_verify_reason r);

struct hv_violation {
	enum hv_invariant inv;
	enum hv_verify_reason reason;
	uint32_t partition;
	uint64_t gpa;
	uint64_t hpa;
	uint64_t entry; /* the offending entry's raw value, where one applies */
};

typedef void (*hv_violation_fn)(void *ctx, const struct hv_violation *v);

/* Per-partition inputs to the verifier. */
struct hv_verify_part {
	uint64_t root;   /* PML4 HPA, HV_S2_ROOT_NPT set for an NPT */
	bool protected_; /* memory-protect was used: perms may be reduced and
	                    RAM pages may be absent */
};

/* Table pages hv_ept_verify can track for "reachable twice" (a bitmap of
 * this many bits lives on its stack: 4 KiB; the whole verifier uses about
 * 8 KiB). A pool with more pages in use is not verified: one EPT-FORM
 * violation HV_VR_POOL_TOO_LARGE (partition 0, gpa 0, hpa = pool base) is
 * reported. Callers with larger pools use hv_ept_verify_ex. */
#define HV_VERIFY_MAX_POOL_PAGES 32768u

/* Words of scratch hv_ept_verify_ex needs for a pool of npages pages. */
#define HV_VERIFY_SEEN_WORDS(npages) (((uint64_t)(npages) + 63u) / 64u)

/* Check EPT-OWN, EPT-FORM and EPT-EXACT for every partition. Calls fn (may be
 * NULL) for each violation, stops after `max_report` of them and returns the
 * total count found (0 = all invariants hold; the count goes on past
 * max_report). Bounded by the pool size: every table is entered once.
 * parts has cfg->npartitions entries. NULL cfg, pool or parts count as one
 * violation (nothing could be checked) without calling fn. */
uint32_t hv_ept_verify(const struct hv_system_config *cfg, const struct hv_pool *pool,
                       const struct hv_verify_part *parts, hv_violation_fn fn, void *ctx,
                       uint32_t max_report);

/* hv_ept_verify with the caller's scratch for the table bitmap: seen holds
 * seen_words words, at least HV_VERIFY_SEEN_WORDS(pool->used) of them (size
 * it for pool->npages and it always suffices); with fewer, or seen NULL,
 * one HV_VR_POOL_TOO_LARGE violation is reported. */
uint32_t hv_ept_verify_ex(const struct hv_system_config *cfg, const struct hv_pool *pool,
                          const struct hv_verify_part *parts, hv_violation_fn fn, void *ctx,
                          uint32_t max_report, uint64_t *seen, uint32_t seen_words);

#endif
