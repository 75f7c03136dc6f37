/* SVM on the boot CPU: checks, enable, and the VMCB of a vCPU as the guest
 * ABI wants it at entry. AMD64 APM Vol. 2, chapter 15. */
#ifndef HV_BOOT_SVM_H
#define HV_BOOT_SVM_H

#include "hv/config.h"
#include "hv/vmcb.h"

struct hvb_cpu {
	uint32_t svm_features; /* CPUID Fn8000_000A EDX */
	uint32_t nasids;       /* CPUID Fn8000_000A EBX */
};

/* Refuses (hvb_fatal) a CPU that is not AMD, has no SVM or no nested
 * paging, or where firmware disabled SVM (VM_CR.SVMDIS); then sets
 * EFER.SVME, VM_HSAVE_PA = hsave_pa and the host PAT the nested tables'
 * memory types index (hv/s2_entry.h). */
void hvb_svm_enable(uint64_t hsave_pa, struct hvb_cpu *cpu);

/* A vCPU at the guest ABI's entry state: long mode, CPL 0, RIP = entry,
 * RAX = 0; every exit the core handles intercepted (CPUID, HLT, all MSRs
 * through msrpm_pa, all ports through iopm_pa, VMMCALL, shutdown), and
 * physical interrupts (the time-slice timer), with V_INTR_MASKING so the
 * host's RFLAGS.IF, not the guest's, decides whether one ends the run
 * (APM Vol. 2, 15.21.1); nested paging on n_cr3 with ASID asid. */
void hvb_vmcb_init(struct hv_vmcb *vmcb, uint64_t n_cr3, uint32_t asid, uint64_t msrpm_pa,
                   uint64_t iopm_pa, uint64_t entry);

static inline void hvb_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

#endif
