/* The VMCS fields an Intel VMX exit loop reads after a VM exit and writes
 * before the next VM entry (Intel SDM Vol. 3C, Chapter 25 and Appendix B).
 * The VMCS itself has no architectural memory layout: it is reached only
 * through VMREAD/VMWRITE by field encoding. hv_vmcs_fields[] is therefore
 * the contract: for every member of struct hv_vmcs_exit, its encoding, its
 * offset and its width, so a firmware's VMREAD loop fills the struct
 * without knowing it. The encodings are SDM Appendix B's; each one's width
 * and type bits (SDM Vol. 3C, 25.11.2, Table 25-21: bits 14:13 width,
 * 11:10 type) are checked against the member's size below. */
#ifndef HV_VMCS_H
#define HV_VMCS_H

#include "hv/types.h"

/* Field encodings (SDM Vol. 3D, Appendix B). */
#define HV_VMCS_GUEST_PHYS_ADDR 0x2400u   /* 64-bit read-only data */
#define HV_VMCS_GUEST_IA32_PAT 0x2804u    /* 64-bit guest state */
#define HV_VMCS_GUEST_IA32_EFER 0x2806u   /* 64-bit guest state */
#define HV_VMCS_ENTRY_INTR_INFO 0x4016u   /* 32-bit control */
#define HV_VMCS_ENTRY_EXC_ERROR 0x4018u   /* 32-bit control */
#define HV_VMCS_ENTRY_INSN_LEN 0x401au    /* 32-bit control */
#define HV_VMCS_EXIT_REASON 0x4402u       /* 32-bit read-only data */
#define HV_VMCS_EXIT_INTR_INFO 0x4404u    /* 32-bit read-only data */
#define HV_VMCS_EXIT_INTR_ERROR 0x4406u   /* 32-bit read-only data */
#define HV_VMCS_EXIT_INSN_LEN 0x440cu     /* 32-bit read-only data */
#define HV_VMCS_GUEST_SS_AR 0x4818u       /* 32-bit guest state */
#define HV_VMCS_GUEST_SYSENTER_CS 0x482au /* 32-bit guest state */
#define HV_VMCS_EXIT_QUAL 0x6400u         /* natural-width read-only data */
#define HV_VMCS_GUEST_LINEAR 0x640au      /* natural-width read-only data */
#define HV_VMCS_GUEST_CR0 0x6800u         /* natural-width guest state */
#define HV_VMCS_GUEST_CR3 0x6802u
#define HV_VMCS_GUEST_CR4 0x6804u
#define HV_VMCS_GUEST_FS_BASE 0x680eu
#define HV_VMCS_GUEST_GS_BASE 0x6810u
#define HV_VMCS_GUEST_RSP 0x681cu
#define HV_VMCS_GUEST_RIP 0x681eu
#define HV_VMCS_GUEST_RFLAGS 0x6820u
#define HV_VMCS_GUEST_SYSENTER_ESP 0x6824u
#define HV_VMCS_GUEST_SYSENTER_EIP 0x6826u

/* Width (bits 14:13) and type (bits 11:10) of an encoding. */
#define HV_VMCS_WIDTH(enc) (((enc) >> 13) & 3u) /* 0 16, 1 64, 2 32, 3 natural */
#define HV_VMCS_TYPE(enc) (((enc) >> 10) & 3u)  /* 0 control, 1 exit info, 2 guest, 3 host */
#define HV_VMCS_WIDTH_BYTES(enc) (HV_VMCS_WIDTH(enc) == 0 ? 2u : HV_VMCS_WIDTH(enc) == 2 ? 4u : 8u)

/* What the exit loop VMREADs after an exit (HV_VMCS_F_EXIT fields) and
 * VMWRITEs before the next entry (HV_VMCS_F_ENTRY fields). The general-
 * purpose registers other than RSP are not in the VMCS: the entry stub
 * saves them. */
struct hv_vmcs_exit {
	uint32_t exit_reason; /* bits 15:0 basic reason, bit 31 VM-entry failure */
	uint32_t exit_intr_info;
	uint32_t exit_intr_error;
	uint32_t exit_insn_len;
	uint64_t exit_qual;
	uint64_t guest_linear;
	uint64_t guest_phys;
	uint64_t rip, rsp, rflags, cr0, cr3, cr4, efer;
	uint32_t ss_ar; /* access rights: DPL in bits 6:5 is the CPL (SDM 3C 25.4.1) */
	/* Written before entry: */
	uint32_t entry_intr_info;
	uint32_t entry_exc_error;
	uint32_t entry_insn_len;
	uint64_t pat, fs_base, gs_base, sysenter_esp, sysenter_eip;
	uint32_t sysenter_cs;
	uint32_t pad;
};

#define HV_VMCS_F_EXIT 1u  /* VMREAD after the exit */
#define HV_VMCS_F_ENTRY 2u /* VMWRITE before the entry */

struct hv_vmcs_field {
	uint32_t encoding;
	uint16_t offset; /* in struct hv_vmcs_exit */
	uint8_t size;    /* bytes: the member's, which is the encoding's width */
	uint8_t flags;   /* HV_VMCS_F_* */
};

/* Every field of struct hv_vmcs_exit; *n gets the count. */
const struct hv_vmcs_field *hv_vmcs_fields(uint32_t *n);

/* Basic exit reasons (SDM Vol. 3D, Appendix C). */
#define HV_VMX_EXIT_EXCEPTION_NMI 0u
#define HV_VMX_EXIT_EXT_INTR 1u
#define HV_VMX_EXIT_TRIPLE_FAULT 2u
#define HV_VMX_EXIT_CPUID 10u
#define HV_VMX_EXIT_HLT 12u
#define HV_VMX_EXIT_VMCALL 18u
#define HV_VMX_EXIT_CR_ACCESS 28u
#define HV_VMX_EXIT_IO 30u
#define HV_VMX_EXIT_RDMSR 31u
#define HV_VMX_EXIT_WRMSR 32u
#define HV_VMX_EXIT_INVALID_STATE 33u
#define HV_VMX_EXIT_MSR_LOADING 34u
#define HV_VMX_EXIT_EPT_VIOLATION 48u
#define HV_VMX_EXIT_EPT_MISCONFIG 49u
#define HV_VMX_EXIT_XSETBV 55u
#define HV_VMX_EXIT_ENTRY_FAILURE (1u << 31)

/* VM-exit and VM-entry interruption information (SDM Vol. 3C, 25.9.2 and
 * 25.8.3): vector 7:0, type 10:8, bit 11 error code, bit 31 valid. */
#define HV_VMX_INTR_TYPE_MASK (7u << 8)
#define HV_VMX_INTR_TYPE_HW_EXC (3u << 8)
#define HV_VMX_INTR_ERROR (1u << 11)
#define HV_VMX_INTR_VALID (1u << 31)

#endif
