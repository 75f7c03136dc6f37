/* Second-stage entries as the oracles read them, in both formats: Intel
 * EPT (SDM Vol. 3C, 29.3.2) and AMD nested page tables (APM Vol. 2, 5.3
 * and 15.25.5). Written here from the manuals rather than borrowed from
 * the core's encoders (hv/s2_entry.h), so an encoder bug shows up as a
 * disagreement. A root carries its format in bit 0 (the core's contract,
 * hv/s2_entry.h): set for NPT. */
#ifndef HX_ORACLE_S2_H
#define HX_ORACLE_S2_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/types.h"

#define OS2_ADDR 0x000ffffffffff000ull

static inline bool os2_root_npt(uint64_t root)
{
	return (root & 1u) != 0;
}

/* The root table's address, or UINT64_MAX (in no pool) when the low bits
 * hold anything but the tag. */
static inline uint64_t os2_root_addr(uint64_t root)
{
	uint64_t a = root & ~1ull;
	return (a & 0xfffu) ? UINT64_MAX : a;
}

/* EPT: any of R/W/X; NPT: P. */
static inline bool os2_present(bool npt, uint64_t e)
{
	return npt ? (e & 1u) != 0 : (e & 7u) != 0;
}

/* Bit 7 of a PDPTE/PDE is the page-size bit in both formats; every PTE
 * maps a page; a PML4E never does. */
static inline bool os2_leaf(uint64_t e, unsigned level)
{
	return level == 0 || (level < 3 && (e & (1ull << 7)) != 0);
}

/* The rights of a present entry as hv_perm bits: EPT bits 2:0; NPT
 * readable always, R/W bit 1, NX bit 63. */
static inline uint8_t os2_perm(bool npt, uint64_t e)
{
	if (!npt)
		return (uint8_t)(e & 7u);
	return (uint8_t)(HV_PERM_R | ((e & 2u) ? HV_PERM_W : 0) | ((e >> 63) ? 0 : HV_PERM_X));
}

/* The page a leaf maps (bit 12 of a large NPT leaf is its PAT bit). */
static inline uint64_t os2_leaf_addr(uint64_t e, unsigned level)
{
	return e & OS2_ADDR & ~((1ull << (12 + 9 * level)) - 1);
}

/* Memory type of a leaf: EPT bits 5:3; NPT the host PAT entry at index
 * PAT:PCD:PWT (APM 7.8.2), with the core's documented host PAT
 * (PA0 WB 6, PA1 WT 4, PA2 WC 1, PA3 UC 0, PA4 WP 5, PA5..7 UC). */
static inline uint8_t os2_memtype(bool npt, uint64_t e, unsigned level)
{
	if (!npt)
		return (uint8_t)((e >> 3) & 7u);
	static const uint8_t host_pat[8] = {6, 4, 1, 0, 5, 0, 0, 0};
	unsigned pat = level > 0 ? (unsigned)((e >> 12) & 1u) : (unsigned)((e >> 7) & 1u);
	return host_pat[((e >> 3) & 1u) | (((e >> 4) & 1u) << 1) | (pat << 2)];
}

#endif
