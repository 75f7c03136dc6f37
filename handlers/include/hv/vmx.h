/* Intel VMX exits in and out of the core, the twin of hv/svm.h: the exit
 * loop fills struct hv_vmcs_exit by VMREAD (hv_vmcs_fields), hands it to
 * hv_vmx_exit_read, calls hv_handle_exit, and hv_vmx_exit_write sets the
 * entry fields, which the loop VMWRITEs. Freestanding, unchanged in
 * firmware. */
#ifndef HV_VMX_H
#define HV_VMX_H

#include "hv/exit.h"
#include "hv/vmcs.h"
#include "hv/xlat.h"

/* Translate the exit in vmcs of vCPU `vcpu` of partition `part`; gpr[]
 * holds the registers the entry stub saved (its RSP slot is ignored: the
 * VMCS holds RSP). An exit that cannot be translated gets reason
 * HV_EXIT_COUNT, which hv_handle_exit halts as a bad record. */
enum hv_xlat hv_vmx_exit_read(uint32_t part, uint32_t vcpu, const struct hv_vmcs_exit *vmcs,
                              const uint64_t gpr[HV_GPR_COUNT], struct hv_exit *out);

/* Apply res to the vCPU: registers, RIP/RSP, the exception to inject, a
 * guest MSR write the VMCS holds (EFER, PAT, FS/GS base, SYSENTER_*; the
 * others -- STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX -- the
 * platform loads itself, hv_vmx_msr_in_vmcs says which). */
enum hv_verdict hv_vmx_exit_write(struct hv_vmcs_exit *vmcs, uint64_t gpr[HV_GPR_COUNT],
                                  const struct hv_exit *ex, const struct hv_result *res);

bool hv_vmx_msr_in_vmcs(uint32_t msr);

#endif
