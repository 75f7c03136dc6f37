/* The world of the raw-exit targets (fuzz_vmcb, fuzz_vmcs): one mock
 * partition with identity-mapped guest page tables, the observer and every
 * oracle, built once and reset to its built state before each input.
 * Hypercalls that write guest memory are not allowed in it, so a reset
 * restores the system, the pool and the code pages, and nothing else can
 * have changed. */
#ifndef HX_FUZZ_EXIT_WORLD_H
#define HX_FUZZ_EXIT_WORLD_H

#include "hv/exit.h"
#include "mock_config.h"

#define EW_PT_GPA 0x100000ull
#define EW_CODE_GPA 0x200000ull /* two code pages: instructions may cross */
#define EW_CODE_SIZE 0x2000ull

/* Build the world on the first call, its config of `vendor` (enum
 * hv_vendor: the VMCB target runs an AMD system with nested page tables,
 * the VMCS target an Intel one with EPT); later calls reset it. */
struct mock_env *ew_reset(uint32_t vendor);

/* Put up to n bytes at guest-physical gpa when it lies in the code pages
 * (clipped at their end). */
void ew_code(uint64_t gpa, const uint8_t *bytes, size_t n);

/* hv_handle_exit with the oracles before and after (exit index 0); a
 * broken invariant is reported through fz_fail. */
void ew_handle(struct hv_exit *ex, struct hv_result *res);

#endif
