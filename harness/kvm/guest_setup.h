/* The machine state hx/guest_abi.h promises at guest entry: GDT, identity
 * page tables and boot info in partition RAM, long mode through
 * KVM_SET_SREGS, entry registers. */
#ifndef HXK_GUEST_SETUP_H
#define HXK_GUEST_SETUP_H

#include <linux/kvm.h>
#include <stdint.h>

#include "elf_load.h"
#include "hv/config.h"
#include "hx/guest_abi.h"
#include "kvm_err.h"

/* Where the initial TSS lives (the guest runtime loads its own). */
#define HXK_GUEST_TSS_GPA HX_GUEST_TSS_GPA

uint64_t hxk_boot_info_gpa(uint32_t vcpu);

/* Copy src[0, len) to guest-physical gpa through ptr, a page at a time; on
 * a GPA ptr does not back, fail with "WHAT at GPA 0x... is not in WHERE". */
int hxk_gpa_put(hxk_gpa_ptr_fn ptr, void *ctx, uint64_t gpa, const void *src, uint64_t len,
                const char *what, const char *where, struct hxk_err *err);

/* GDT + TSS + page tables (shared by the partition's vCPUs). */
int hxk_guest_write_tables(hxk_gpa_ptr_fn ptr, void *ctx, struct hxk_err *err);

/* Boot info of one vCPU: ranges from the config (RAM, channels, MMIO,
 * devices, at most HX_BOOT_MAX_RANGES; *truncated set when more exist). */
int hxk_guest_write_boot_info(hxk_gpa_ptr_fn ptr, void *ctx, const struct hv_system_config *cfg,
                              uint32_t part, uint32_t vcpu, uint64_t image_lo, uint64_t image_hi,
                              int *truncated, struct hxk_err *err);

/* Long mode, CPL 0, the ABI's CR0/CR4/EFER, flat segments. `s` holds the
 * vCPU's current sregs (from KVM_GET_SREGS) and is updated in place. */
void hxk_guest_sregs(struct kvm_sregs *s);

/* RIP = entry, RSP = 0, RDI = partition, RSI = vCPU, RDX = boot info. */
void hxk_guest_regs(struct kvm_regs *r, uint64_t entry, uint32_t part, uint32_t vcpu);

#endif
