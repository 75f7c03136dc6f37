/* RDMSR/WRMSR exits: the partition's per-MSR policy (hv/config.h), with
 * fixed rules no policy can undo:
 *  - absent MSRs (those of features the partition never sees, or of SMM)
 *    #GP on read and write whatever the policy;
 *  - only MSRs on the passthrough allow-list (msr_pass.c) reach the host,
 *    in the mode the list names (defence in depth: the config validator
 *    already refuses other passthrough rules);
 *  - architectural #GP conditions of emulated writes (reserved bits,
 *    canonical addresses, EFER, APIC base, PAT) are enforced.
 * Section references: Intel SDM Vol. 4 (MSR tables), Vol. 3A/3C, AMD APM
 * Vol. 2. */
#include "hv/msr.h"

#include "hv/cpuid.h"
#include "hv/handlers.h"
#include "hv/system.h"

struct msr_range {
	uint32_t first;
	uint32_t last;
};

static bool in_ranges(const struct msr_range *r, size_t n, uint32_t msr)
{
	for (size_t i = 0; i < n; i++)
		if (msr >= r[i].first && msr <= r[i].last)
			return true;
	return false;
}

/* MSRs a partition can never access: reads and writes #GP whatever the
 * policy, exactly as on a processor without the feature. */
static const struct msr_range absent_msrs[] = {
        /* IA32_SMM_MONITOR_CTL exists "if CPUID.01H:ECX.[5] = 1 or
         * CPUID.01H:ECX.[6] = 1" (SDM Vol. 4, Table 2-2): VMX and SMX are
         * hidden from every partition. */
        {0x9b, 0x9b},
        /* IA32_SMBASE is readable only in SMM (SDM Vol. 4, Table 2-2); a
         * partition never runs in SMM. */
        {HV_MSR_SMBASE, HV_MSR_SMBASE},
        /* IA32_VMX_BASIC .. IA32_VMX_EXIT_CTLS2 exist only if
         * CPUID.01H:ECX.[5] (VMX) = 1 (SDM Vol. 4, Table 2-2; Vol. 3D,
         * Appendix A), which no partition sees. */
        {HV_MSR_VMX_BASIC, HV_MSR_VMX_LAST},
        /* MSR_SMM_FEATURE_CONTROL, MSR_SMM_DELAYED, MSR_SMM_BLOCKED: "An
         * attempt to access ... outside of SMM will cause a #GP" (SDM Vol.
         * 3C, "SMM Handler Code Access Control" and following). */
        {0x4e0, 0x4e3},
        /* VM_CR, VM_HSAVE_PA and SVM_KEY belong to SVM (APM Vol. 2, "SVM Related MSRs"),
         * hidden from every partition like VMX. */
        {HV_MSR_VM_CR, HV_MSR_VM_CR},
        {HV_MSR_VM_HSAVE_PA, HV_MSR_VM_HSAVE_PA + 1},
};

static const struct msr_range guest_state_msrs[] = {
        {HV_MSR_SYSENTER_CS, HV_MSR_SYSENTER_EIP},
        {HV_MSR_PAT, HV_MSR_PAT},
        {HV_MSR_EFER, HV_MSR_SFMASK},
        {HV_MSR_FS_BASE, HV_MSR_TSC_AUX},
};

/* MSRs holding a linear address: WRMSR of a non-canonical value #GPs (SDM
 * Vol. 2B, WRMSR; Vol. 4 per MSR). */
static const struct msr_range address_msrs[] = {
        {HV_MSR_SYSENTER_ESP, HV_MSR_SYSENTER_EIP},
        {0x580, 0x587}, /* IA32_RTIT_ADDR0_A .. ADDR3_B (SDM Vol. 3C, Intel PT) */
        {0x600, 0x600}, /* IA32_DS_AREA */
        /* IA32_U_CET, IA32_S_CET: bits 63:12 are the legacy code-page
         * bitmap's linear address, the flags below bit 12 cannot make a
         * value non-canonical (SDM Vol. 1, CET; Vol. 4). */
        {0x6a0, 0x6a0},
        {0x6a2, 0x6a2},
        {0x6a4, 0x6a8}, /* IA32_PL0..3_SSP, IA32_INTERRUPT_SSP_TABLE_ADDR */
        {0xd90, 0xd90}, /* IA32_BNDCFGS: bits 63:12 the MPX bound directory base */
        {HV_MSR_LSTAR, HV_MSR_CSTAR},
        {HV_MSR_FS_BASE, HV_MSR_KERNEL_GS_BASE},
};

bool hv_msr_is_guest_state(uint32_t msr)
{
	return in_ranges(guest_state_msrs, HV_ARRAY_LEN(guest_state_msrs), msr);
}

bool hv_msr_is_address(uint32_t msr)
{
	return in_ranges(address_msrs, HV_ARRAY_LEN(address_msrs), msr);
}

static bool msr_is_absent(uint32_t msr)
{
	return in_ranges(absent_msrs, HV_ARRAY_LEN(absent_msrs), msr);
}

/* The partition's rule for msr, or NULL (unknown MSR). */
static const struct hv_msr_rule *find_rule(const struct hv_partition_config *pc, uint32_t msr,
                                           uint32_t *index)
{
	for (uint32_t i = 0; i < pc->msr.nrules && i < HV_MAX_MSR_RULES; i++) {
		if (pc->msr.rules[i].msr == msr) {
			*index = i;
			return &pc->msr.rules[i];
		}
	}
	return NULL;
}

static bool exit_record_ok(const struct hv_system *sys, const struct hv_exit *exit)
{
	return exit->partition < sys->cfg->npartitions &&
	       exit->vcpu < sys->cfg->partitions[exit->partition].nvcpus &&
	       exit->vcpu < HV_MAX_VCPUS;
}

enum { EAX = 0, EBX = 1, ECX = 2, EDX = 3 };

/* One register of the CPUID leaf the partition sees, or 0 when the leaf is
 * beyond its maximum (so an Intel host's out-of-range answer is not read
 * as feature bits). */
static uint32_t guest_cpuid(const struct hv_system *sys, const struct hv_exit *exit, uint32_t leaf,
                            int reg)
{
	uint32_t out[4];
	hv_cpuid_query(sys, exit->partition, exit->vcpu, exit->st.cr4, leaf & 0x80000000u, 0, out);
	if (leaf > out[EAX])
		return 0;
	hv_cpuid_query(sys, exit->partition, exit->vcpu, exit->st.cr4, leaf, 0, out);
	return out[reg];
}

/* Canonical: bits 63:w-1 all equal (SDM Vol. 1, 3.3.7.1). */
static bool canonical(uint64_t value, uint32_t width)
{
	uint64_t upper = value >> (width - 1);
	return upper == 0 || upper == (~0ull >> (width - 1));
}

/* Address MSRs are checked against the processor's linear-address width:
 * 57 bits when the partition sees 5-level paging (CPUID.07H:ECX.LA57),
 * whatever CR4.LA57 says, else 48. */
static bool address_ok(const struct hv_system *sys, const struct hv_exit *exit, uint64_t value)
{
	if (canonical(value, 48))
		return true;
	return (guest_cpuid(sys, exit, 7, ECX) & (1u << 16)) && canonical(value, 57);
}

/* MAXPHYADDR the partition sees: CPUID.80000008H:EAX[7:0], 36 without the
 * leaf (SDM Vol. 3A, "Enumeration of Paging Features by CPUID"). */
static uint32_t guest_maxphyaddr(const struct hv_system *sys, const struct hv_exit *exit)
{
	uint32_t bits = guest_cpuid(sys, exit, 0x80000008u, EAX) & 0xffu;
	if (bits < 32 || bits > 52)
		bits = 36;
	return bits;
}

#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE (1ull << 15)
/* Every EFER bit either vendor defines for the features hx can expose
 * (SDM Vol. 4, IA32_EFER; APM Vol. 2, 3.1.7); the rest is reserved. */
#define EFER_DEFINED                                                                               \
	(HV_EFER_SCE | HV_EFER_LME | HV_EFER_LMA | HV_EFER_NXE | HV_EFER_SVME | EFER_LMSLE |       \
	 EFER_FFXSR | EFER_TCE)
#define CR0_PG (1ull << 31)

/* Reserved bits #GP. SVME #GP always: SVM is hidden, and on Intel bit 12 is
 * reserved (APM Vol. 2, "Enabling SVM"; SDM Vol. 4, IA32_EFER). */
static bool efer_bits_ok(uint64_t v)
{
	return (v & ~EFER_DEFINED) == 0 && (v & HV_EFER_SVME) == 0;
}

/* EFER write rules. *value may be adjusted (LMA is not written). */
static bool efer_write_ok(const struct hv_exit *exit, uint64_t cur, uint64_t *value)
{
	uint64_t v = *value;
	if (!efer_bits_ok(v))
		return false;
	/* Changing LME while paging is enabled #GPs (SDM Vol. 3A,
	 * "Initializing IA-32e Mode"; APM Vol. 2, "Enabling and Activating
	 * Long Mode"). */
	if (((v ^ cur) & HV_EFER_LME) && (exit->st.cr0 & CR0_PG))
		return false;
	/* LMA is set by the processor, not by WRMSR (SDM Vol. 4: IA32_EFER
	 * bit 10 is read-only): the written bit is ignored. */
	*value = (v & ~HV_EFER_LMA) | (cur & HV_EFER_LMA);
	return true;
}

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

/* IA32_APIC_BASE (SDM Vol. 3A, "Local APIC Status and
 * Location" and "x2APIC State Transitions"): bits 7:0 and 9 and
 * bits at or above MAXPHYADDR are reserved, EXTD needs x2APIC support; the
 * state EXTD without EN is invalid, and x2APIC -> xAPIC and disabled ->
 * x2APIC are illegal transitions. */
static bool apic_base_write_ok(const struct hv_system *sys, const struct hv_exit *exit,
                               uint64_t cur, uint64_t v)
{
	if (v & 0x2ffull)
		return false;
	/* guest_maxphyaddr is at least 32: a value below 2^32 needs no
	 * CPUID query. */
	if ((v >> 32) != 0 && (v >> guest_maxphyaddr(sys, exit)) != 0)
		return false;
	uint64_t new_mode = v & (APIC_BASE_EN | APIC_BASE_EXTD);
	uint64_t old_mode = cur & (APIC_BASE_EN | APIC_BASE_EXTD);
	if (new_mode & APIC_BASE_EXTD) {
		if (!(guest_cpuid(sys, exit, 1, ECX) & (1u << 21)))
			return false;
		if (!(new_mode & APIC_BASE_EN))
			return false;
		if (old_mode == 0)
			return false;
	} else if (new_mode == APIC_BASE_EN && old_mode == (APIC_BASE_EN | APIC_BASE_EXTD)) {
		return false;
	}
	return true;
}

/* IA32_PAT: each entry holds a memory type; 2, 3 and 8..0xff are reserved
 * and #GP (SDM Vol. 3A, "IA32_PAT MSR"). */
static bool pat_ok(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(v >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* Architectural #GP conditions of a write to an emulated msr, whatever the
 * policy's writable mask says. */
static bool arch_write_ok(const struct hv_system *sys, const struct hv_exit *exit, uint32_t msr,
                          uint64_t cur, uint64_t *value)
{
	switch (msr) {
	case HV_MSR_EFER:
		return efer_write_ok(exit, cur, value);
	case HV_MSR_APIC_BASE:
		return apic_base_write_ok(sys, exit, cur, *value);
	case HV_MSR_PAT:
		return pat_ok(*value);
	case HV_MSR_TSC_AUX:
		/* Bits 63:32 reserved (SDM Vol. 4, IA32_TSC_AUX). */
		return (*value >> 32) == 0;
	default:
		return true;
	}
}

bool hv_msr_init_ok(uint32_t msr, uint64_t value)
{
	/* 48 bits: canonical on every processor, whether or not the
	 * partition's CPUID shows LA57. */
	if (hv_msr_is_address(msr))
		return canonical(value, 48);
	switch (msr) {
	case HV_MSR_EFER:
		return efer_bits_ok(value);
	case HV_MSR_APIC_BASE:
		/* Reserved bits 7:0 and 9; below 4 GiB, under the smallest
		 * MAXPHYADDR a partition can report (guest_maxphyaddr); and in
		 * xAPIC mode, where reset leaves the local APIC (SDM Vol. 3A,
		 * "x2APIC State Transitions"), so EXTD needs no CPUID check. */
		return (value & 0x2ffull) == 0 && (value >> 32) == 0 &&
		       (value & APIC_BASE_EXTD) == 0;
	case HV_MSR_PAT:
		return pat_ok(value);
	case HV_MSR_TSC_AUX:
		return (value >> 32) == 0;
	default:
		return true;
	}
}

void hv_handle_rdmsr(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	if (!exit_record_ok(sys, exit)) {
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	const struct hv_partition_config *pc = &sys->cfg->partitions[exit->partition];
	uint32_t msr = (uint32_t)exit->st.gpr[HV_RCX];
	uint32_t idx = 0;
	const struct hv_msr_rule *rule = find_rule(pc, msr, &idx);
	uint64_t value = 0;

	/* Unknown MSRs #GP like an unimplemented one (SDM Vol. 2B, RDMSR). */
	if (!rule || msr_is_absent(msr))
		goto gp;
	switch (rule->mode) {
	case HV_MSR_EMULATED:
		value = sys->parts[exit->partition].vcpus[exit->vcpu].msr_value[idx];
		break;
	case HV_MSR_PASS_R:
	case HV_MSR_PASS_RW:
		/* Defence in depth: a rule that slipped past validation
		 * still cannot read an MSR off the allow-list; and a
		 * write-only command (PRED_CMD, FLUSH_CMD) is not read on the
		 * host, where RDMSR of it #GPs in the hypervisor itself. */
		if (!hv_msr_pass_readable(msr))
			goto gp;
		if (sys->ops->rdmsr(sys->ops_ctx, msr, &value) != 0)
			goto gp;
		break;
	default: /* HV_MSR_DENY and anything unknown */
		goto gp;
	}
	/* RDMSR loads EDX:EAX and clears the upper halves of RAX/RDX. */
	exit->st.gpr[HV_RAX] = (uint32_t)value;
	exit->st.gpr[HV_RDX] = value >> 32;
	hv_result_resume(res, exit->insn_len ? exit->insn_len : 2);
	return;
gp:
	hv_result_inject(res, HV_VEC_GP, true, 0);
}

void hv_handle_wrmsr(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	if (!exit_record_ok(sys, exit)) {
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	const struct hv_partition_config *pc = &sys->cfg->partitions[exit->partition];
	uint32_t msr = (uint32_t)exit->st.gpr[HV_RCX];
	/* WRMSR takes EDX:EAX; the upper halves of RAX/RDX are ignored. */
	uint64_t value = (exit->st.gpr[HV_RDX] << 32) | (uint32_t)exit->st.gpr[HV_RAX];
	uint32_t idx = 0;
	const struct hv_msr_rule *rule = find_rule(pc, msr, &idx);

	if (!rule || msr_is_absent(msr))
		goto gp;
	if (rule->mode != HV_MSR_EMULATED && rule->mode != HV_MSR_PASS_RW)
		goto gp; /* HV_MSR_DENY, HV_MSR_PASS_R, anything unknown */
	/* A non-canonical address #GPs on hardware, so it is refused before
	 * it can reach either an emulated value or the host. */
	if (hv_msr_is_address(msr) && !address_ok(sys, exit, value))
		goto gp;
	if (rule->mode == HV_MSR_EMULATED) {
		uint64_t *slot = &sys->parts[exit->partition].vcpus[exit->vcpu].msr_value[idx];
		if (!arch_write_ok(sys, exit, msr, *slot, &value))
			goto gp;
		/* Bits outside writable_mask must keep their current value, so
		 * a read-modify-write of the whole MSR succeeds. */
		if ((value ^ *slot) & ~rule->writable_mask)
			goto gp;
		*slot = value;
		if (hv_msr_is_guest_state(msr))
			res->msr = (struct hv_msr_apply){.msr = msr, .valid = 1, .value = value};
	} else {
		/* MSR-GUARD: whatever the policy says, only MSRs the
		 * allow-list names as writable reach the host. */
		if (!hv_msr_pass_allowed(msr, HV_MSR_PASS_RW))
			goto gp;
		if (sys->ops->wrmsr(sys->ops_ctx, msr, value) != 0)
			goto gp;
	}
	hv_result_resume(res, exit->insn_len ? exit->insn_len : 2);
	return;
gp:
	hv_result_inject(res, HV_VEC_GP, true, 0);
}
