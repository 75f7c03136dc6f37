/* AMD SVM exits in and out of the core. A VMRUN loop hands the VMCB and
 * the general-purpose registers its entry stub saved to hv_svm_exit_read,
 * which fills an hv_exit; hv_handle_exit handles it; hv_svm_exit_write puts
 * the result back into the VMCB (RIP, RAX, RSP, EVENTINJ, guest MSRs) and
 * says whether the vCPU runs again. Both are freestanding and take the
 * hardware layout (hv/vmcb.h), so firmware uses them unchanged. */
#ifndef HV_SVM_H
#define HV_SVM_H

#include "hv/exit.h"
#include "hv/system.h"
#include "hv/vmcb.h"
#include "hv/xlat.h"

/* Translate the #VMEXIT in vmcb of vCPU `vcpu` of partition `part`.
 * gpr[] holds the registers the entry stub saved; its RAX and RSP slots
 * are ignored (the VMCB holds those). svm_features is CPUID Fn8000_000A
 * EDX: without HV_SVM_FEAT_NRIPS the length of CPUID, RDMSR, WRMSR, VMMCALL
 * and HLT is found by fetching the instruction at RIP through the guest's
 * page tables and the partition's second-stage table (sys must then be the
 * running system; it is not used otherwise). */
enum hv_xlat hv_svm_exit_read(struct hv_system *sys, uint32_t part, uint32_t vcpu,
                              const struct hv_vmcb *vmcb, const uint64_t gpr[HV_GPR_COUNT],
                              uint32_t svm_features, struct hv_exit *out);

/* Apply res (from hv_handle_exit on ex) to the vCPU: registers, RIP, an
 * exception to inject, and a guest MSR write the VMCB holds. TSC_AUX has
 * no VMCB field: when res->msr names it, the platform loads it itself
 * before the next VMRUN (hv_svm_msr_in_vmcb says which ones are done). */
enum hv_verdict hv_svm_exit_write(struct hv_vmcb *vmcb, uint64_t gpr[HV_GPR_COUNT],
                                  const struct hv_exit *ex, const struct hv_result *res);

bool hv_svm_msr_in_vmcb(uint32_t msr);

#endif
