/* The CPUID specification table (spec_cpuid.h, SPEC.md). Bit positions from
 * Intel SDM Vol. 2A, CPUID, Table 3-10 "Feature Information Returned in the
 * ECX Register" and AMD APM Vol. 3, Appendix E.4 (Fn8000_0001_ECX,
 * Fn8000_000A); what is hidden and why from handlers/docs/cpuid.md. */
#include "spec_cpuid.h"

enum { EAX = 0, EBX = 1, ECX = 2, EDX = 3 };

const struct spec_cpuid_rule spec_cpuid_rules[] = {
        {1, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_ALWAYS, 1u << 3, "ECX.MONITOR[3]",
         "MONITOR/MWAIT exit conditionally and no interrupt ever wakes an MWAIT in a partition",
         "SDM Vol. 2A, Table 3-10; Vol. 3C, Instructions That Cause VM Exits Conditionally"},
        {1, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_ALWAYS, 1u << 5, "ECX.VMX[5]",
         "no nested virtualisation",
         "SDM Vol. 2A, Table 3-10; Vol. 3C, Discovering Support for VMX"},
        {1, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_ALWAYS, 1u << 6, "ECX.SMX[6]",
         "GETSEC exits unconditionally and a measured launch concerns the whole platform",
         "SDM Vol. 2A, Table 3-10; Vol. 3C, Instructions That Cause VM Exits Unconditionally"},
        {1, ECX, SPEC_CPUID_SET, SPEC_CPUID_ALWAYS, 1u << 31, "ECX.hypervisor[31]",
         "reserved by both vendors to tell a guest it runs under a hypervisor",
         "SDM Vol. 2A, Table 3-10 (bit 31 not used); APM Vol. 3, E.3.2 Fn0000_0001_ECX[31]"},
        /* The MONITOR/MWAIT leaf describes a feature that is hidden. */
        {5, 0, SPEC_CPUID_ZERO, SPEC_CPUID_IN_RANGE, 0, "leaf 5 (MONITOR/MWAIT)",
         "MONITOR is hidden", "SDM Vol. 2A, CPUID leaf 05H; APM Vol. 3, E.3.5"},
        /* SVM stays hidden even when Intel answers the leaf out of range
         * with basic-leaf data (cpuid.md makes this one unconditional). */
        {0x80000001u, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_ALWAYS, 1u << 2, "ECX.SVM[2]",
         "no nested virtualisation", "APM Vol. 3, E.4.2 Fn8000_0001_ECX; APM Vol. 2, 15.4"},
        {0x80000001u, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_IN_RANGE, 1u << 12, "ECX.SKINIT[12]",
         "SKINIT/STGI work with EFER.SVME clear: a secure re-initialisation of the processor",
         "APM Vol. 3, E.4.2 Fn8000_0001_ECX; APM Vol. 2, 15.27 Security"},
        {0x80000001u, ECX, SPEC_CPUID_CLEAR, SPEC_CPUID_IN_RANGE, 1u << 29, "ECX.MONITORX[29]",
         "MONITORX/MWAITX as MONITOR", "APM Vol. 3, E.4.2 Fn8000_0001_ECX"},
        /* SVM revision and features: must read as absent when SVM is. */
        {0x8000000au, 0, SPEC_CPUID_ZERO, SPEC_CPUID_IN_RANGE, 0, "leaf 0x8000000A (SVM features)",
         "SVM is hidden", "APM Vol. 3, E.4.9 Fn8000_000A"},
};

const size_t spec_cpuid_nrules = sizeof(spec_cpuid_rules) / sizeof(spec_cpuid_rules[0]);

void spec_cpuid_range(uint32_t host_max_basic, uint32_t host_max_ext, uint32_t policy_basic,
                      uint32_t policy_ext, uint32_t *max_basic, uint32_t *max_ext)
{
	/* A policy only lowers the host's maximum; leaf 1 always stays. */
	uint32_t b = host_max_basic;
	if (policy_basic != 0 && policy_basic < b)
		b = policy_basic;
	*max_basic = b < 1 ? 1 : b;
	/* Extended leaves exist only when 0x80000000 answers within its own
	 * range (bit 31 set); a policy below the range keeps 0x80000000. */
	uint32_t e = 0;
	if (host_max_ext & SPEC_CPUID_EXT_BASE) {
		e = host_max_ext;
		uint32_t pol = policy_ext;
		if (pol != 0 && pol < SPEC_CPUID_EXT_BASE)
			pol = SPEC_CPUID_EXT_BASE;
		if (pol != 0 && pol < e)
			e = pol;
	}
	*max_ext = e;
}

static bool rule_holds(const struct spec_cpuid_rule *r, const uint32_t ans[4])
{
	switch (r->need) {
	case SPEC_CPUID_CLEAR:
		return (ans[r->reg] & r->mask) == 0;
	case SPEC_CPUID_SET:
		return (ans[r->reg] & r->mask) == r->mask;
	default:
		return (ans[EAX] | ans[EBX] | ans[ECX] | ans[EDX]) == 0;
	}
}

uint32_t spec_cpuid_check(uint32_t leaf, bool in_range, const uint32_t ans[4],
                          spec_cpuid_fail_fn fn, void *ctx)
{
	uint32_t broken = 0;
	for (size_t i = 0; i < spec_cpuid_nrules; i++) {
		const struct spec_cpuid_rule *r = &spec_cpuid_rules[i];
		if (r->leaf != leaf || (r->when == SPEC_CPUID_IN_RANGE && !in_range))
			continue;
		if (rule_holds(r, ans))
			continue;
		broken++;
		if (fn)
			fn(ctx, r, ans);
	}
	return broken;
}
