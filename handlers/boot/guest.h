/* Partitions as the guest ABI (hv/guest_abi.h) promises them: RAM filled
 * with canaries, the initial GDT, page tables and boot info, and the
 * partition's ELF loaded, all through the partition's own RAM regions. */
#ifndef HV_BOOT_GUEST_H
#define HV_BOOT_GUEST_H

#include "hv/config.h"
#include "mb.h"

struct hvb_image {
	uint64_t entry;
	uint64_t lo, hi; /* GPA range the loaded segments occupy */
};

/* Host pointer to [gpa, gpa+len) of partition part's RAM, or NULL when the
 * range is not inside one RAM region. */
void *hvb_gpa_ptr(const struct hv_system_config *cfg, uint32_t part, uint64_t gpa, uint64_t len);

/* Canaries into every RAM region, then the ELF in mod (fails, naming the
 * partition and the defect, on a malformed or misplaced image), then the
 * tables and the boot info of each of nvcpus vCPUs. */
void hvb_guest_prepare(const struct hv_system_config *cfg, uint32_t part, uint32_t nvcpus,
                       const struct hvb_module *mod, struct hvb_image *img);

#endif
