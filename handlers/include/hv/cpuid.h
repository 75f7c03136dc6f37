/* CPUID policy constants (Intel SDM Vol. 2A, CPUID; AMD APM Vol. 3, E.3). */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include "hv/types.h"

#define HV_CPUID_LEAF_HV_BASE 0x40000000u /* hypervisor leaves */
#define HV_CPUID_LEAF_HV_INFO 0x40000001u /* EAX partition, EBX vCPU, ECX nvcpus */
#define HV_CPUID_LEAF_HV_MAX HV_CPUID_LEAF_HV_INFO
/* Signature in EBX, ECX, EDX of leaf 0x40000000: "hxhxHVhxhxHV". */
#define HV_CPUID_SIG_EBX 0x78687868u /* "hxhx" */
#define HV_CPUID_SIG_ECX 0x78685648u /* "HVhx" */
#define HV_CPUID_SIG_EDX 0x56487868u /* "hxHV" */

#define HV_CPUID1_ECX_VMX (1u << 5)         /* leaf 1 ECX bit 5 */
#define HV_CPUID1_ECX_HYPERVISOR (1u << 31) /* leaf 1 ECX bit 31 */
#define HV_CPUID81_ECX_SVM (1u << 2)        /* leaf 0x80000001 ECX bit 2 */

struct hv_system;

/* The answer vCPU `vcpu` of `partition` gets for CPUID(leaf, subleaf) when
 * its CR4 is `cr4` (which only feeds OSXSAVE/OSPKE): host values through
 * sys->ops, the partition's rules, then the fixed rules. out = EAX, EBX,
 * ECX, EDX. partition < npartitions and vcpu < nvcpus are the caller's to
 * guarantee (hv_handle_cpuid checks); a partition or a vCPU index beyond
 * the tables gets all zeros and nothing is read. Also used by the MSR
 * handler for
 * the features the partition sees (LA57, x2APIC, MAXPHYADDR). */
void hv_cpuid_query(const struct hv_system *sys, uint32_t partition, uint32_t vcpu, uint64_t cr4,
                    uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
