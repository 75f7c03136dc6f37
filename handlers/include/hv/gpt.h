/* Guest page-table walk (4-level IA-32e paging, Intel SDM Vol. 3A, 4.5),
 * used to fetch the faulting instruction of an EPT violation. Every guest
 * paging-structure entry is untrusted: it is read through the EPT, reserved
 * bits and non-canonical addresses fault, and the walk has a fixed bound. */
#ifndef HV_GPT_H
#define HV_GPT_H

#include "hv/exit.h"
#include "hv/status.h"
#include "hv/system.h"

enum hv_gpt_fault {
	HV_GPT_OK = 0,
	HV_GPT_NOT_PAGED, /* (name only) CR0.PG clear: linear == physical, returned as OK */
	HV_GPT_NON_CANONICAL,
	HV_GPT_NOT_PRESENT,
	HV_GPT_RESERVED,    /* reserved bit set in an entry */
	HV_GPT_PROTECTION,  /* user/supervisor or NX or write violation */
	HV_GPT_TABLE_FAULT, /* a table's GPA is not readable through the EPT */
	HV_GPT_UNSUPPORTED, /* 5-level paging, PAE/32-bit */
	HV_GPT_EPT_FAULT,   /* fetch: the code page is not readable+executable through the EPT */
	HV_GPT_FAULT_COUNT
};

const char *hv_gpt_fault_str(enum hv_gpt_fault f);

/* Translate a guest-linear address for an access of kind `access`
 * (HV_PERM_R / HV_PERM_W / HV_PERM_X) at privilege `cpl`. */
enum hv_gpt_fault hv_gpt_translate(struct hv_system *sys, uint32_t part,
                                   const struct hv_vcpu_state *st, uint64_t gla, uint8_t access,
                                   uint64_t *gpa);

/* Fetch up to len (<= 15) instruction bytes at linear address rip,
 * crossing a page boundary if needed. Returns the number of bytes fetched
 * (may be fewer when the second page faults) and the fault that stopped it. */
uint32_t hv_gpt_fetch(struct hv_system *sys, uint32_t part, const struct hv_vcpu_state *st,
                      uint64_t rip, uint8_t *buf, uint32_t len, enum hv_gpt_fault *fault);

#endif
