/* CPUID exits: host values, then the partition's rules, then fixed rules no
 * policy can undo (hv/cpuid.h). The whole answer is a pure function of
 * (config, partition, vCPU, CR4, leaf, subleaf, host answers), so the same
 * input always gives the same output (CPUID-MASK).
 *
 * Section references: Intel SDM Vol. 2A, "CPUID—CPU Identification" (the
 * tables of information returned per leaf) and AMD APM Vol. 3, Appendix E
 * ("Obtaining Processor Information Via the CPUID Instruction"). */
#include "hv/cpuid.h"

#include "hv/handlers.h"
#include "hv/system.h"

enum { EAX = 0, EBX = 1, ECX = 2, EDX = 3 };

#define LEAF_EXT_BASE 0x80000000u

/* Vendor strings of leaf 0 (EBX, EDX, ECX). */
#define INTEL_EBX 0x756e6547u /* "Genu" */
#define INTEL_EDX 0x49656e69u /* "ineI" */
#define INTEL_ECX 0x6c65746eu /* "ntel" */
#define AMD_EBX 0x68747541u   /* "Auth" */
#define AMD_EDX 0x69746e65u   /* "enti" */
#define AMD_ECX 0x444d4163u   /* "cAMD" */
#define HYGON_EBX 0x6f677948u /* "Hygo" */
#define HYGON_EDX 0x6e65476eu /* "nGen" */
#define HYGON_ECX 0x656e6975u /* "uine" */

/* Leaf 1 bits beyond hv/cpuid.h (SDM Vol. 2A, Tables 3-10 and 3-11). */
#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_SMX (1u << 6)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_EDX_HTT (1u << 28)
/* Leaf 7 subleaf 0 ECX (SDM Vol. 2A, Table 3-8). */
#define CPUID7_ECX_PKU (1u << 3)
#define CPUID7_ECX_OSPKE (1u << 4)
/* Leaf 0x80000001 ECX (APM Vol. 3, E.4.2). */
#define CPUID81_ECX_SKINIT (1u << 12)
#define CPUID81_ECX_MONITORX (1u << 29)

#define CR4_OSXSAVE (1ull << 18) /* SDM Vol. 3A, 2.5 */
#define CR4_PKE (1ull << 22)

/* Topology level types of leaves 0xB/0x1F, ECX[15:8] (SDM Vol. 2A). */
#define TOPO_LEVEL_INVALID 0u
#define TOPO_LEVEL_SMT 1u
#define TOPO_LEVEL_CORE 2u

struct cpuid_view {
	const struct hv_system *sys;
	const struct hv_partition_config *pc;
	uint32_t partition;
	uint32_t vcpu;
	uint32_t nvcpus; /* 1..HV_MAX_VCPUS */
	uint64_t cr4;
	bool intel;         /* out-of-range leaves return the highest basic leaf */
	bool amd;           /* AMD topology leaves (AMD and Hygon) */
	uint32_t max_basic; /* the partition's, after the policy clamp */
	uint32_t max_ext;   /* the partition's; 0 when there are none (or not asked) */
};

static void host_cpuid(const struct cpuid_view *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	hv_memset(out, 0, 4 * sizeof(out[0]));
	v->sys->ops->cpuid(v->sys->ops_ctx, leaf, subleaf, out);
}

/* Leaves whose output depends on ECX. For every other leaf the hardware
 * ignores ECX, so the subleaf is normalised to 0: the host is asked one way
 * and rules match whatever the guest left in ECX. */
static bool leaf_has_subleaves(uint32_t leaf)
{
	static const uint32_t with_subleaves[] = {
	        0x4,  0x7,  0xb,  0xd,  0xf,  0x10, 0x12, 0x14,       0x17,       0x18,
	        0x1b, 0x1d, 0x1e, 0x1f, 0x20, 0x23, 0x24, 0x8000001d, 0x80000020, 0x80000026,
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(with_subleaves); i++)
		if (with_subleaves[i] == leaf)
			return true;
	return false;
}

/* Smallest power of two >= n, and its log2. n is a vCPU count, clamped to
 * [1, HV_MAX_VCPUS] by view_init, which bounds both loops. */
static uint32_t pow2_ceil(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t log2_ceil(uint32_t n)
{
	uint32_t bits = 0;
	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* with_ext: the extended maximum is needed (an extended leaf was asked);
 * a basic leaf never depends on it, which saves a host CPUID per exit --
 * each one a trap to the outer hypervisor when the host is itself a VM. */
static void view_init(struct cpuid_view *v, const struct hv_system *sys, uint32_t partition,
                      uint32_t vcpu, uint64_t cr4, bool with_ext)
{
	uint32_t out[4];
	v->sys = sys;
	v->pc = &sys->cfg->partitions[partition];
	v->partition = partition;
	v->vcpu = vcpu;
	v->nvcpus = v->pc->nvcpus;
	if (v->nvcpus == 0)
		v->nvcpus = 1;
	if (v->nvcpus > HV_MAX_VCPUS)
		v->nvcpus = HV_MAX_VCPUS;
	v->cr4 = cr4;

	host_cpuid(v, 0, 0, out);
	v->intel = out[EBX] == INTEL_EBX && out[EDX] == INTEL_EDX && out[ECX] == INTEL_ECX;
	v->amd = (out[EBX] == AMD_EBX && out[EDX] == AMD_EDX && out[ECX] == AMD_ECX) ||
	         (out[EBX] == HYGON_EBX && out[EDX] == HYGON_EDX && out[ECX] == HYGON_ECX);
	/* A policy can only lower the maximum: leaves the host lacks cannot be
	 * invented. */
	v->max_basic = out[EAX];
	if (v->pc->cpuid.max_basic_leaf != 0 && v->pc->cpuid.max_basic_leaf < v->max_basic)
		v->max_basic = v->pc->cpuid.max_basic_leaf;
	/* Leaf 1 exists on every processor with long mode; keeping it in
	 * range keeps its fixed rules (hypervisor bit, no VMX) unconditional. */
	if (v->max_basic < 1)
		v->max_basic = 1;

	/* Extended leaves exist only if 0x80000000 reports a maximum in its own
	 * range (an Intel CPU without them returns basic-leaf data there). */
	v->max_ext = 0;
	if (!with_ext)
		return;
	host_cpuid(v, LEAF_EXT_BASE, 0, out);
	if ((out[EAX] & LEAF_EXT_BASE) != 0) {
		uint32_t pol = v->pc->cpuid.max_ext_leaf;
		v->max_ext = out[EAX];
		/* A value below the extended range leaves only 0x80000000. */
		if (pol != 0 && pol < LEAF_EXT_BASE)
			pol = LEAF_EXT_BASE;
		if (pol != 0 && pol < v->max_ext)
			v->max_ext = pol;
	}
}

static bool leaf_in_range(const struct cpuid_view *v, uint32_t leaf)
{
	if (leaf < LEAF_EXT_BASE)
		return leaf <= v->max_basic;
	return v->max_ext != 0 && leaf <= v->max_ext;
}

/* out = (out & and_mask) | or_bits for every rule of the leaf, in order. For
 * leaves without subleaves the rule's subleaf is not compared. */
static void apply_rules(const struct cpuid_view *v, uint32_t leaf, uint32_t subleaf,
                        uint32_t out[4])
{
	const struct hv_cpuid_policy *pol = &v->pc->cpuid;
	bool sub = leaf_has_subleaves(leaf);
	for (uint32_t i = 0; i < pol->nrules && i < HV_MAX_CPUID_RULES; i++) {
		const struct hv_cpuid_rule *r = &pol->rules[i];
		if (r->leaf != leaf)
			continue;
		if (sub && !r->any_subleaf && r->subleaf != subleaf)
			continue;
		for (int reg = 0; reg < 4; reg++)
			out[reg] = (out[reg] & r->and_mask[reg]) | r->or_bits[reg];
	}
}

/* Host value with the partition's rules: what the partition may see before
 * the fixed rules. subleaf must already be normalised. */
static void policy_value(const struct cpuid_view *v, uint32_t leaf, uint32_t subleaf,
                         uint32_t out[4])
{
	host_cpuid(v, leaf, subleaf, out);
	apply_rules(v, leaf, subleaf, out);
}

static void zero(uint32_t out[4])
{
	hv_memset(out, 0, 4 * sizeof(out[0]));
}

/* Leaf 1 (SDM Vol. 2A, Tables 3-10/3-11). */
static void fix_leaf1(const struct cpuid_view *v, uint32_t out[4])
{
	/* VMX (ECX.5): no nested virtualisation; the VMX instructions and
	 * capability MSRs are refused (hv/msr.h). SMX (ECX.6): GETSEC causes a
	 * VM exit unconditionally in VMX non-root operation (SDM Vol. 3C,
	 * "Instructions That Cause VM Exits Unconditionally") and hx has no exit for it, so SMX
	 * cannot work in a partition; it would also promise a measured launch of the whole
	 * platform. MONITOR (ECX.3): MONITOR/MWAIT have no exit in hx (they are
	 * conditional exits, SDM Vol. 3C "Instructions That Cause VM Exits
	 * Conditionally") and no interrupt ever wakes a
	 * partition (exit.c), so a guest must fall back to HLT/PAUSE. */
	out[ECX] &= ~(HV_CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_MONITOR);
	/* Hypervisor present (ECX.31): reserved for this use by both vendors. */
	out[ECX] |= HV_CPUID1_ECX_HYPERVISOR;
	/* OSXSAVE (ECX.27) mirrors the guest's own CR4.OSXSAVE, not the host's. */
	out[ECX] &= ~CPUID1_ECX_OSXSAVE;
	if ((out[ECX] & CPUID1_ECX_XSAVE) && (v->cr4 & CR4_OSXSAVE))
		out[ECX] |= CPUID1_ECX_OSXSAVE;
	/* EBX[31:24] initial APIC ID = vCPU index; EBX[23:16] the addressable
	 * logical processor IDs of the package, valid when EDX.HTT is set. */
	out[EBX] = (out[EBX] & 0x0000ffffu) | (v->vcpu << 24) | (pow2_ceil(v->nvcpus) << 16);
	if (v->nvcpus > 1)
		out[EDX] |= CPUID1_EDX_HTT;
	else
		out[EDX] &= ~CPUID1_EDX_HTT;
}

/* Deterministic cache parameters: leaf 4 (Intel) and 0x8000001D (AMD),
 * EAX[4:0] type (0 = no more caches), EAX[7:5] level, EAX[25:14] logical
 * processors sharing the cache - 1; leaf 4 EAX[31:26] cores per package - 1.
 * The partition's topology is one package of nvcpus single-thread cores:
 * L1/L2 private to a vCPU, L3 and beyond shared by all of them. */
static void fix_cache_leaf(const struct cpuid_view *v, uint32_t leaf, uint32_t out[4])
{
	if ((out[EAX] & 0x1fu) == 0)
		return;
	uint32_t level = (out[EAX] >> 5) & 0x7u;
	uint32_t sharing = level >= 3 ? pow2_ceil(v->nvcpus) - 1 : 0;
	out[EAX] = (out[EAX] & ~(0xfffu << 14)) | (sharing << 14);
	if (leaf == 4)
		out[EAX] = (out[EAX] & 0x03ffffffu) | ((pow2_ceil(v->nvcpus) - 1) << 26);
}

/* Extended topology, leaves 0xB and 0x1F (SDM Vol. 2A): an SMT level of one
 * thread and a core level of nvcpus cores; EDX is always the x2APIC ID (the
 * vCPU index); subleaves past the core level report the invalid level type
 * with ECX[7:0] = the subleaf. Present only if the host implements the
 * leaf (its subleaf 0 reports a level). */
static void topology_leaf(const struct cpuid_view *v, uint32_t leaf, uint32_t subleaf,
                          uint32_t out[4])
{
	uint32_t host0[4];
	host_cpuid(v, leaf, 0, host0);
	if (((host0[ECX] >> 8) & 0xffu) == TOPO_LEVEL_INVALID) {
		zero(out);
		return;
	}
	switch (subleaf) {
	case 0:
		out[EAX] = 0;
		out[EBX] = 1;
		out[ECX] = (TOPO_LEVEL_SMT << 8) | 0;
		break;
	case 1:
		out[EAX] = log2_ceil(v->nvcpus);
		out[EBX] = v->nvcpus;
		out[ECX] = (TOPO_LEVEL_CORE << 8) | 1;
		break;
	default:
		out[EAX] = 0;
		out[EBX] = 0;
		out[ECX] = subleaf & 0xffu;
		break;
	}
	out[EDX] = v->vcpu;
}

/* Leaf 7: a subleaf above the maximum (subleaf 0 EAX, as the partition
 * sees it) returns zeros (SDM Vol. 2A, leaf 07H). OSPKE (subleaf 0
 * ECX.4) mirrors the guest's CR4.PKE. */
static void fix_leaf7(const struct cpuid_view *v, uint32_t subleaf, uint32_t out[4])
{
	if (subleaf == 0) {
		out[ECX] &= ~CPUID7_ECX_OSPKE;
		if ((out[ECX] & CPUID7_ECX_PKU) && (v->cr4 & CR4_PKE))
			out[ECX] |= CPUID7_ECX_OSPKE;
		return;
	}
	uint32_t sub0[4];
	policy_value(v, 7, 0, sub0);
	if (subleaf > sub0[EAX])
		zero(out);
}

/* Leaf 0xD (SDM Vol. 2A, leaf 0DH; Vol. 1, "Enumeration of CPU Support
 * for XSAVE Instructions and XSAVE-Supported Features"): nothing without XSAVE;
 * subleaf n >= 2 describes state component n only if the partition sees it
 * as supported in XCR0 (subleaf 0 EDX:EAX) or IA32_XSS (subleaf 1 EDX:ECX). */
static void fix_leaf_d(const struct cpuid_view *v, uint32_t subleaf, uint32_t out[4])
{
	uint32_t tmp[4];
	policy_value(v, 1, 0, tmp);
	if (!(tmp[ECX] & CPUID1_ECX_XSAVE)) {
		zero(out);
		return;
	}
	if (subleaf < 2)
		return;
	if (subleaf >= 64) {
		zero(out);
		return;
	}
	uint64_t supported;
	policy_value(v, 0xd, 0, tmp);
	supported = ((uint64_t)tmp[EDX] << 32) | tmp[EAX];
	policy_value(v, 0xd, 1, tmp);
	supported |= ((uint64_t)tmp[EDX] << 32) | tmp[ECX];
	if (!((supported >> subleaf) & 1))
		zero(out);
}

/* The fixed rules of a leaf inside the partition's range. */
static void apply_fixed(const struct cpuid_view *v, uint32_t leaf, uint32_t subleaf,
                        uint32_t out[4])
{
	switch (leaf) {
	case 0:
		out[EAX] = v->max_basic;
		break;
	case 1:
		fix_leaf1(v, out);
		break;
	case 4:
		fix_cache_leaf(v, leaf, out);
		break;
	case 5:
		/* MONITOR/MWAIT leaf: hidden with CPUID.1:ECX.MONITOR. */
		zero(out);
		break;
	case 7:
		fix_leaf7(v, subleaf, out);
		break;
	case 0xb:
	case 0x1f:
		topology_leaf(v, leaf, subleaf, out);
		break;
	case 0xd:
		fix_leaf_d(v, subleaf, out);
		break;
	case LEAF_EXT_BASE:
		out[EAX] = v->max_ext;
		break;
	case 0x80000001:
		/* SVM (ECX.2) hidden like VMX. SKINIT (ECX.12) means SKINIT and
		 * STGI work even with EFER.SVME clear (APM Vol. 3, E.4.2): a
		 * secure re-initialisation of the processor, never for a
		 * partition. MONITORX (ECX.29): MONITORX/MWAITX, hidden for the
		 * same reasons as MONITOR/MWAIT. */
		out[ECX] &= ~(HV_CPUID81_ECX_SVM | CPUID81_ECX_SKINIT | CPUID81_ECX_MONITORX);
		break;
	case 0x80000008:
		/* AMD: ECX[7:0] NC = cores - 1, ECX[15:12] ApicIdSize = APIC ID
		 * bits for the core (APM Vol. 3, E.4.7). Reserved on Intel. */
		if (v->amd)
			out[ECX] = (out[ECX] & ~0xf0ffu) | (log2_ceil(v->nvcpus) << 12) |
			           (v->nvcpus - 1);
		break;
	case 0x8000000a:
		/* SVM revision and features: SVM is hidden (APM Vol. 3, E.4.9). */
		zero(out);
		break;
	case 0x8000001d:
		if (v->amd)
			fix_cache_leaf(v, leaf, out);
		break;
	case 0x8000001e:
		/* AMD: EAX extended APIC ID, EBX[7:0] core ID and EBX[15:8]
		 * threads per core - 1, ECX node ID / nodes per package - 1
		 * (APM Vol. 3, E.4.15): one thread per core, one node. */
		if (v->amd) {
			out[EAX] = v->vcpu;
			out[EBX] = v->vcpu & 0xffu;
			out[ECX] = 0;
			out[EDX] = 0;
		}
		break;
	default:
		break;
	}
}

/* The hypervisor leaves (hv/cpuid.h) exist whatever the policy; leaves
 * above HV_CPUID_LEAF_HV_MAX in their range are out of range. */
static bool hypervisor_leaf(const struct hv_system *sys, uint32_t partition, uint32_t vcpu,
                            uint32_t leaf, uint32_t out[4])
{
	if (leaf == HV_CPUID_LEAF_HV_BASE) {
		out[EAX] = HV_CPUID_LEAF_HV_MAX;
		out[EBX] = HV_CPUID_SIG_EBX;
		out[ECX] = HV_CPUID_SIG_ECX;
		out[EDX] = HV_CPUID_SIG_EDX;
		return true;
	}
	if (leaf == HV_CPUID_LEAF_HV_INFO) {
		out[EAX] = partition;
		out[EBX] = vcpu;
		out[ECX] = sys->cfg->partitions[partition].nvcpus;
		out[EDX] = 0;
		return true;
	}
	return false;
}

void hv_cpuid_query(const struct hv_system *sys, uint32_t partition, uint32_t vcpu, uint64_t cr4,
                    uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	/* The caller's contract, checked where it is cheap: an index out of
	 * range would read past the config's and the system's tables. Such a
	 * caller gets zeros, as for a leaf no processor has. (A vCPU count
	 * outside 1..HV_MAX_VCPUS is clamped by the topology leaves.) */
	if (partition >= sys->cfg->npartitions || partition >= HV_MAX_PARTITIONS ||
	    vcpu >= HV_MAX_VCPUS) {
		out[0] = out[1] = out[2] = out[3] = 0;
		return;
	}
	if (hypervisor_leaf(sys, partition, vcpu, leaf, out))
		return;

	struct cpuid_view v;
	view_init(&v, sys, partition, vcpu, cr4, leaf >= LEAF_EXT_BASE);
	uint32_t asked = leaf;
	if (!leaf_in_range(&v, leaf)) {
		/* Intel: "If a value entered for CPUID.EAX is higher than the
		 * maximum input value for basic or extended function for that
		 * processor then the data for the highest basic information leaf
		 * is returned" (SDM Vol. 2A, CPUID), ECX honoured if that leaf
		 * has subleaves. AMD (and every vendor but GenuineIntel): zeros
		 * for any function above the maximum (APM Vol. 3, E.2). */
		if (!v.intel) {
			zero(out);
			return;
		}
		leaf = v.max_basic;
	}
	if (!leaf_has_subleaves(leaf))
		subleaf = 0;
	policy_value(&v, leaf, subleaf, out);
	apply_fixed(&v, leaf, subleaf, out);
	/* An Intel answer to an out-of-range 0x80000001 is basic-leaf data;
	 * its ECX.2 must still not read as SVM to a guest that skipped the
	 * range check. */
	if (asked == 0x80000001)
		out[ECX] &= ~HV_CPUID81_ECX_SVM;
}

void hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	if (exit->partition >= sys->cfg->npartitions ||
	    exit->vcpu >= sys->cfg->partitions[exit->partition].nvcpus ||
	    exit->vcpu >= HV_MAX_VCPUS) {
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	uint32_t out[4];
	hv_cpuid_query(sys, exit->partition, exit->vcpu, exit->st.cr4,
	               (uint32_t)exit->st.gpr[HV_RAX], (uint32_t)exit->st.gpr[HV_RCX], out);
	/* CPUID clears the upper halves of RAX/RBX/RCX/RDX (SDM Vol. 2A). */
	exit->st.gpr[HV_RAX] = out[EAX];
	exit->st.gpr[HV_RBX] = out[EBX];
	exit->st.gpr[HV_RCX] = out[ECX];
	exit->st.gpr[HV_RDX] = out[EDX];
	hv_result_resume(res, exit->insn_len ? exit->insn_len : 2);
}
