/* Entry stub of the bare-metal image. It references every public entry
 * point of the core so the link pulls in all of it: anything the core needs
 * from outside (a libc function, a compiler helper) becomes an undefined
 * symbol and fails the link. Firmware replaces this stub with its own.
 *
 * HV_IMAGE_VENDOR selects the exit-translation layer a firmware for one
 * vendor links: 1 Intel (VMCS), 2 AMD (VMCB), 3 both (the default). The
 * rest of the core (one second-stage builder for EPT and NPT, handlers,
 * verifier) is the same in all three. */
#include "hv/config.h"
#include "hv/decode.h"
#include "hv/ept.h"
#include "hv/exit.h"
#include "hv/gpt.h"
#include "hv/guest_mem.h"
#include "hv/insn_len.h"
#include "hv/msr.h"
#include "hv/pool.h"
#include "hv/svm.h"
#include "hv/system.h"
#include "hv/verify.h"
#include "hv/vmx.h"

#ifndef HV_IMAGE_VENDOR
#define HV_IMAGE_VENDOR 3
#endif
#if HV_IMAGE_VENDOR < 1 || HV_IMAGE_VENDOR > 3
#error "HV_IMAGE_VENDOR: 1 (Intel), 2 (AMD) or 3 (both)"
#endif

void hv_image_entry(void);

/* Kept by the linker script (KEEP(.hv_entry_points)). */
__attribute__((used, section(".hv_entry_points"))) static const void *const entry_points[] = {
        (const void *)hv_system_init,     (const void *)hv_handle_exit,
        (const void *)hv_config_validate, (const void *)hv_config_error_str,
        (const void *)hv_ept_build,       (const void *)hv_ept_map_range,
        (const void *)hv_ept_translate,   (const void *)hv_ept_protect,
        (const void *)hv_ept_walk,        (const void *)hv_ept_verify,
        (const void *)hv_invariant_id,    (const void *)hv_verify_reason_str,
        (const void *)hv_pool_init,       (const void *)hv_pool_alloc,
        (const void *)hv_pool_release_to, (const void *)hv_status_str,
        (const void *)hv_decode,          (const void *)hv_decode_status_str,
        (const void *)hv_gpt_translate,   (const void *)hv_gpt_fetch,
        (const void *)hv_guest_read,      (const void *)hv_guest_write,
        (const void *)hv_exit_reason_str, (const void *)hv_action_str,
        (const void *)hv_halt_reason_str, (const void *)hv_msr_pass_allowed,
        (const void *)hv_xlat_str,
#if HV_IMAGE_VENDOR & 2
        (const void *)hv_svm_exit_read,   (const void *)hv_svm_exit_write,
        (const void *)hv_svm_msr_in_vmcb, (const void *)hv_insn_len_for_exit,
#endif
#if HV_IMAGE_VENDOR & 1
        (const void *)hv_vmx_exit_read,   (const void *)hv_vmx_exit_write,
        (const void *)hv_vmx_msr_in_vmcs, (const void *)hv_vmcs_fields,
#endif
};

/* Never returns: a real firmware would set up its own stack, page tables and
 * VMX/SVM here before entering its exit loop. */
__attribute__((noreturn, section(".text.entry"))) void hv_image_entry(void)
{
	for (;;)
		__asm__ volatile("hlt");
}
