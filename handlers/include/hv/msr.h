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

/* true for MSRs that must never be written on the host by a guest and may
 * not be configured as passthrough (neither PASS_R nor PASS_RW: reading
 * them would reveal the host's memory map, SMM layout or the hypervisor's
 * own addresses). hv_handle_wrmsr never forwards them to ops->wrmsr, and
 * also never forwards IA32_TSC or IA32_MTRRCAP, which may be PASS_R. */
bool hv_msr_is_protected(uint32_t msr);

/* true for MSRs whose value is part of the guest's own architectural state
 * (EFER, FS/GS base, SYSCALL MSRs, PAT, ...): a granted write is reported in
 * hv_result.msr so the platform applies it to the vCPU. */
bool hv_msr_is_guest_state(uint32_t msr);

/* true for MSRs holding a linear address, whose writes #GP when the value
 * is not canonical (SDM Vol. 1 3.3.7.1; Vol. 4 for each MSR). */
bool hv_msr_is_address(uint32_t msr);

#endif
