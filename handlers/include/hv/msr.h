/* MSR numbers and the protected list (Intel SDM Vol. 4; AMD APM Vol. 2). */
#ifndef HV_MSR_H
#define HV_MSR_H

#include "hv/types.h"

#define HV_MSR_TSC 0x10u
#define HV_MSR_APIC_BASE 0x1bu
#define HV_MSR_FEATURE_CONTROL 0x3au
#define HV_MSR_SMBASE 0x9eu /* read-only from SMM only */
#define HV_MSR_MTRRCAP 0xfeu
#define HV_MSR_SMRR_PHYSBASE 0x1f2u
#define HV_MSR_SMRR_PHYSMASK 0x1f3u
#define HV_MSR_SYSENTER_CS 0x174u
#define HV_MSR_SYSENTER_ESP 0x175u
#define HV_MSR_SYSENTER_EIP 0x176u
#define HV_MSR_MTRR_PHYSBASE0 0x200u /* 0x200..0x21f variable MTRRs */
#define HV_MSR_MTRR_FIX64K 0x250u
#define HV_MSR_PAT 0x277u
#define HV_MSR_MTRR_DEF_TYPE 0x2ffu
#define HV_MSR_VMX_BASIC 0x480u /* 0x480..0x493 VMX capability MSRs */
#define HV_MSR_VMX_LAST 0x493u
#define HV_MSR_EFER 0xc0000080u
#define HV_MSR_STAR 0xc0000081u
#define HV_MSR_LSTAR 0xc0000082u
#define HV_MSR_CSTAR 0xc0000083u
#define HV_MSR_SFMASK 0xc0000084u
#define HV_MSR_FS_BASE 0xc0000100u
#define HV_MSR_GS_BASE 0xc0000101u
#define HV_MSR_KERNEL_GS_BASE 0xc0000102u
#define HV_MSR_TSC_AUX 0xc0000103u
#define HV_MSR_VM_CR 0xc0010114u /* AMD SVM control */
#define HV_MSR_VM_HSAVE_PA 0xc0010117u
#define HV_MSR_AMD_SMM_ADDR 0xc0010112u
#define HV_MSR_AMD_SMM_MASK 0xc0010113u

#define HV_EFER_SCE (1ull << 0)
#define HV_EFER_LME (1ull << 8)
#define HV_EFER_LMA (1ull << 10)
#define HV_EFER_NXE (1ull << 11)
#define HV_EFER_SVME (1ull << 12)

/* Where an MSR's state lives (SDM Vol. 4, the "Scope" column). */
enum hv_msr_scope {
	HV_MSR_SCOPE_THREAD = 0,
	HV_MSR_SCOPE_CORE = 1,
	HV_MSR_SCOPE_PACKAGE = 2,
};

/* One MSR that may be passed through (msr_pass.c, handlers/docs/msr.md). */
struct hv_msr_pass_entry {
	uint32_t msr;
	uint8_t mode;  /* HV_MSR_PASS_R: reads only; HV_MSR_PASS_RW: reads and writes */
	uint8_t scope; /* enum hv_msr_scope */
	/* A write-only command register: RDMSR of it #GPs on hardware (SDM
	 * Vol. 4, Table 2-2), so a read is never forwarded, whatever the mode. */
	uint8_t write_only;
	const char *name;
	const char *why; /* one line: why passing it through is safe */
	const char *ref; /* manual section */
};

/* The passthrough allow-list; *n gets its length. */
const struct hv_msr_pass_entry *hv_msr_pass_list(uint32_t *n);

/* true when msr may be passed through in mode (HV_MSR_PASS_R or
 * HV_MSR_PASS_RW; an entry allowing PASS_RW allows PASS_R too). Every other
 * MSR, and every other mode, never reaches ops->rdmsr / ops->wrmsr. */
bool hv_msr_pass_allowed(uint32_t msr, uint8_t mode);

/* true when a guest RDMSR of msr may reach the host: on the allow-list and
 * not a write-only command (hv_msr_pass_entry.write_only). */
bool hv_msr_pass_readable(uint32_t msr);

/* Why msr is not on the allow-list: a specific hazard for well-known MSRs,
 * else a generic text. Never NULL. */
const char *hv_msr_pass_refusal(uint32_t msr);

/* true when value is an acceptable reset value (init) of an emulated msr:
 * one that a WRMSR of it onto itself passes on every partition, whatever
 * its CPUID (address MSRs 48-bit canonical, EFER, APIC base, PAT and
 * TSC_AUX reserved bits clear; handlers/docs/msr.md). */
bool hv_msr_init_ok(uint32_t msr, uint64_t value);

/* true for MSRs whose value is part of the guest's own architectural state
 * (EFER, FS/GS base, SYSCALL MSRs, PAT, ...): a granted write is reported in
 * hv_result.msr so the platform applies it to the vCPU. */
bool hv_msr_is_guest_state(uint32_t msr);

/* true for MSRs holding a linear address, whose writes #GP when the value
 * is not canonical (SDM Vol. 1 3.3.7.1; Vol. 4 for each MSR). */
bool hv_msr_is_address(uint32_t msr);

#endif
