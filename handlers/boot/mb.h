/* The multiboot v1 information the loader hands over (Multiboot
 * Specification 0.6.96, 3.3): the memory map and the modules, read once
 * and checked, so nothing later trusts the loader's pointers. */
#ifndef HV_BOOT_MB_H
#define HV_BOOT_MB_H

#include "hv/types.h"

#define HVB_MAX_MODULES (1 + 64)
#define HVB_MAX_RAM 32

struct hvb_range {
	uint64_t base, size;
};

struct hvb_module {
	uint64_t start, size;
	const char *cmdline; /* "" when none */
};

struct hvb_boot_info {
	uint32_t nram;
	struct hvb_range ram[HVB_MAX_RAM]; /* type-1 (available) ranges, as given */
	uint32_t nmodules;
	struct hvb_module modules[HVB_MAX_MODULES];
	const char *cmdline;
};

/* Fails (hvb_fatal) on a wrong magic, a missing memory map, more modules
 * or RAM ranges than fit, or pointers beyond the identity map. */
void hvb_mb_read(uint32_t magic, uint32_t info_pa, struct hvb_boot_info *out);

/* true when [base, base+size) lies inside one available RAM range */
bool hvb_mb_is_ram(const struct hvb_boot_info *bi, uint64_t base, uint64_t size);

#endif
