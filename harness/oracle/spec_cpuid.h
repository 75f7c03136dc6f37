/* The oracle's own CPUID specification: the bits a partition must never
 * see and the ones it must always see, from the manuals (Intel SDM Vol. 2A
 * "CPUID"; AMD APM Vol. 3 Appendix E) and handlers/docs/cpuid.md, kept apart
 * from hv/cpuid.h so a wrong constant there is not invisible to the oracle.
 * See SPEC.md. */
#ifndef HX_SPEC_CPUID_H
#define HX_SPEC_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum spec_cpuid_need {
	SPEC_CPUID_CLEAR = 0, /* every bit of mask clear */
	SPEC_CPUID_SET,       /* every bit of mask set */
	SPEC_CPUID_ZERO,      /* all four registers zero (mask, reg unused) */
};

enum spec_cpuid_when {
	SPEC_CPUID_ALWAYS = 0, /* whatever the partition's range */
	/* only when the leaf is within the partition's range: out of range an
	 * Intel host answers with the highest basic leaf's data, in which the
	 * same bit positions mean other things (cpuid.md, "Leaves out of
	 * range") */
	SPEC_CPUID_IN_RANGE,
};

struct spec_cpuid_rule {
	uint32_t leaf;
	uint8_t reg;  /* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
	uint8_t need; /* enum spec_cpuid_need */
	uint8_t when; /* enum spec_cpuid_when */
	uint32_t mask;
	const char *what; /* "ECX.VMX[5]" */
	const char *why;
	const char *ref;
};

extern const struct spec_cpuid_rule spec_cpuid_rules[];
extern const size_t spec_cpuid_nrules;

/* Hypervisor leaves (handlers/docs/cpuid.md, "Fixed rules"). */
#define SPEC_CPUID_HV_BASE 0x40000000u
#define SPEC_CPUID_HV_INFO 0x40000001u
#define SPEC_CPUID_EXT_BASE 0x80000000u
/* EBX, ECX, EDX of the signature leaf spell this, four bytes each, low byte
 * first. */
#define SPEC_CPUID_HV_SIGNATURE "hxhxHVhxhxHV"

/* The partition's maximum leaves from the host's answers and its policy
 * (cpuid.md, "Maximum leaves"): host_max_ext is the host's leaf 0x80000000
 * EAX; *max_ext is 0 when the partition has no extended leaves. */
void spec_cpuid_range(uint32_t host_max_basic, uint32_t host_max_ext, uint32_t policy_basic,
                      uint32_t policy_ext, uint32_t *max_basic, uint32_t *max_ext);

/* Called for each rule an answer breaks. */
typedef void (*spec_cpuid_fail_fn)(void *ctx, const struct spec_cpuid_rule *rule,
                                   const uint32_t ans[4]);

/* Check the answer to `leaf` against every rule of that leaf; in_range says
 * whether the leaf is within the partition's range. Returns the number of
 * rules broken. */
uint32_t spec_cpuid_check(uint32_t leaf, bool in_range, const uint32_t ans[4],
                          spec_cpuid_fail_fn fn, void *ctx);

#endif
