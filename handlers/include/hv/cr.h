/* Control-register writes of a partition: MOV to CR0 or CR4, CLTS and LMSW,
 * on platforms that intercept them (the booted SVM hypervisor intercepts
 * CR0 and CR4 writes; KVM here reports none). The value the instruction
 * would load is computed as the SDM defines it (Vol. 2A "CLTS", Vol. 2B
 * "LMSW", "MOV--Move to/from Control Registers"), then checked twice:
 *
 *  - the architecture (SDM Vol. 3A, 2.5; APM Vol. 2, 3.1): reserved bits
 *    set, CR0.NW without CR0.CD, CR0.PG without CR0.PE, clearing CR0.PG or
 *    CR4.PAE in long mode, changing CR4.LA57 in long mode, setting
 *    CR4.PCIDE with CR3[11:0] not zero: #GP, whatever the policy;
 *  - the partition policy, which keeps every partition in the one mode the
 *    core runs it in and out of the host's features: CR0.PE, CR0.PG and
 *    CR0.WP stay set, CR4.PAE stays set, CR4.VMXE and CR4.SMXE stay clear,
 *    and CR4 holds only the bits in HV_CR4_ALLOWED. A write the policy
 *    refuses is contained like any other violation (#GP or halt, the
 *    partition's "on_violation").
 * An allowed write is resumed past with exit->st.cr0 / cr4 set to the new
 * value, which the platform loads (hv_svm_exit_write, hv_vmx_exit_write). */
#ifndef HV_CR_H
#define HV_CR_H

#include "hv/types.h"

#define HV_CR0_PE (1ull << 0)
#define HV_CR0_MP (1ull << 1)
#define HV_CR0_EM (1ull << 2)
#define HV_CR0_TS (1ull << 3)
#define HV_CR0_ET (1ull << 4)
#define HV_CR0_NE (1ull << 5)
#define HV_CR0_WP (1ull << 16)
#define HV_CR0_AM (1ull << 18)
#define HV_CR0_NW (1ull << 29)
#define HV_CR0_CD (1ull << 30)
#define HV_CR0_PG (1ull << 31)
/* Bits 63:32 and the ones no processor defines (SDM Vol. 3A, Figure 2-7). */
#define HV_CR0_DEFINED                                                                             \
	(HV_CR0_PE | HV_CR0_MP | HV_CR0_EM | HV_CR0_TS | HV_CR0_ET | HV_CR0_NE | HV_CR0_WP |       \
	 HV_CR0_AM | HV_CR0_NW | HV_CR0_CD | HV_CR0_PG)

#define HV_CR4_PAE (1ull << 5)
#define HV_CR4_LA57 (1ull << 12)
#define HV_CR4_VMXE (1ull << 13)
#define HV_CR4_SMXE (1ull << 14)
#define HV_CR4_PCIDE (1ull << 17)
/* Bits SDM Vol. 3A, Figure 2-7 defines (0-14, 16-24, up to PKS); the rest
 * is reserved. */
#define HV_CR4_DEFINED 0x1ff7fffull
/* What a partition may hold in CR4: VME PVI TSD DE PSE PAE MCE PGE PCE
 * OSFXSR OSXMMEXCPT UMIP FSGSBASE PCIDE OSXSAVE SMEP SMAP. Not VMXE or SMXE
 * (no nested VMX, no SMX), not LA57 (the core runs 4-level paging), not
 * PKE, CET or PKS (the core's CPUID policy does not offer them). */
#define HV_CR4_ALLOWED 0x370fffull

#define HV_EFER_LMA (1ull << 10)

enum hv_cr_verdict {
	HV_CR_ALLOW = 0,
	HV_CR_FAULT,  /* the architecture refuses it: #GP */
	HV_CR_DENIED, /* the policy refuses it: contained */
};

/* The check, for cr 0 or 4, from old to new (efer and cr3 as the vCPU has
 * them); why names the rule (a static string). */
enum hv_cr_verdict hv_cr_check(uint32_t cr, uint64_t old, uint64_t new_value, uint64_t efer,
                               uint64_t cr3, const char **why);

#endif
