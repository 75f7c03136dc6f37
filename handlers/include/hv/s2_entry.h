/* Second-stage table entries in both formats: Intel EPT (SDM Vol. 3C,
 * 29.3.2, Tables 29-1 to 29-6) and AMD nested page tables (APM Vol. 2,
 * 15.25.5 "Nested Table Walk": the long-mode page-table format of 5.3 and
 * 5.4, Figures 5-18 to 5-25). The builder, walker and verifier speak hv
 * permissions (enum hv_perm) and memory types (enum hv_memtype); these
 * helpers are the only place either format's bits are known. Inline, so a
 * caller that names the format pays nothing for the choice.
 *
 * Levels as in hv/ept.h: 3 = PML4 (never a leaf), 2 = PDPT (1 GiB leaves),
 * 1 = PD (2 MiB), 0 = PT (4 KiB). */
#ifndef HV_S2_ENTRY_H
#define HV_S2_ENTRY_H

#include "hv/types.h"

enum hv_s2_format {
	HV_S2_EPT = 0,
	HV_S2_NPT = 1,
};

#define HV_S2_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 in both formats */

/* A root (the HPA of the top table, 4 KiB aligned) carries its format in
 * bit 0: set for NPT. Neither hardware pointer is this value: firmware
 * writes root & ~0xfff to VMCB N_CR3 (APM Vol. 2, 15.25.4), or builds an
 * EPTP from it (SDM Vol. 3C, 25.6.11). The tag lets every walker, the
 * verifier and the handlers follow a partition's tables without being told
 * the vendor separately, so the two can never disagree. */
#define HV_S2_ROOT_NPT 1ull

static inline enum hv_s2_format hv_s2_root_format(uint64_t root)
{
	return (root & HV_S2_ROOT_NPT) ? HV_S2_NPT : HV_S2_EPT;
}

static inline uint64_t hv_s2_root_tag(enum hv_s2_format f)
{
	return f == HV_S2_NPT ? HV_S2_ROOT_NPT : 0;
}

/* The format of a vendor's second-stage tables (enum hv_vendor). */
static inline enum hv_s2_format hv_s2_vendor_format(uint32_t vendor)
{
	return vendor == HV_VENDOR_AMD ? HV_S2_NPT : HV_S2_EPT;
}

/* EPT (SDM Vol. 3C, Table 29-6 and the large-page tables). */
#define HV_S2_EPT_PERM 7ull /* R, W, X in bits 2:0, the hv_perm bits */
#define HV_S2_EPT_MT_SHIFT 3
#define HV_S2_EPT_LARGE (1ull << 7)

/* NPT (APM Vol. 2, Figures 5-18 .. 5-25). Every nested access is a user
 * access (15.25.5), so U/S is set in every present entry; execute is
 * refused by NX (bit 63); a present entry is always readable, so NPT has
 * no write-only or execute-only pages. */
#define HV_S2_NPT_P (1ull << 0)
#define HV_S2_NPT_RW (1ull << 1)
#define HV_S2_NPT_US (1ull << 2)
#define HV_S2_NPT_PWT (1ull << 3)
#define HV_S2_NPT_PCD (1ull << 4)
#define HV_S2_NPT_PS (1ull << 7)         /* PDPE/PDE: a 1 GiB / 2 MiB leaf */
#define HV_S2_NPT_PAT_4K (1ull << 7)     /* PTE: PAT index bit 2 */
#define HV_S2_NPT_PAT_LARGE (1ull << 12) /* large leaves: PAT index bit 2 */
#define HV_S2_NPT_NX (1ull << 63)

/* Nested paging takes the memory type from the host PAT, indexed by
 * PAT:PCD:PWT (APM Vol. 2, 7.8.2). The core's host PAT holds one of each
 * type at a fixed index; firmware loads this value into IA32_PAT before
 * the first VMRUN: PA0 WB, PA1 WT, PA2 WC, PA3 UC, PA4 WP, PA5..7 UC. */
#define HV_S2_NPT_HOST_PAT 0x0000000500010406ull

static inline bool hv_s2_memtype_ok(uint8_t mt)
{
	/* SDM 29.3.7: 2, 3 and 7 are reserved; the NPT's host PAT holds the
	 * same five types. */
	return mt == HV_MT_UC || mt == HV_MT_WC || mt == HV_MT_WT || mt == HV_MT_WP ||
	       mt == HV_MT_WB;
}

/* Leaf permissions the format can express. EPT: anything but W without R
 * (an EPT misconfiguration, 29.3.3.1); execute-only is refused by config
 * validation, not by the format. NPT: not present, R, RW, RX or RWX. */
static inline bool hv_s2_perm_ok(enum hv_s2_format f, uint8_t perm)
{
	if ((perm & ~HV_PERM_RWX) != 0)
		return false;
	if (f == HV_S2_NPT)
		return perm == 0 || (perm & HV_PERM_R) != 0;
	return (perm & HV_PERM_RW) != HV_PERM_W;
}

/* PAT index (PAT:PCD:PWT) of a memory type in HV_S2_NPT_HOST_PAT. */
static inline unsigned hv_s2_npt_pat_index(uint8_t mt)
{
	switch (mt) {
	case HV_MT_WB:
		return 0;
	case HV_MT_WT:
		return 1;
	case HV_MT_WC:
		return 2;
	case HV_MT_WP:
		return 4;
	default:
		return 3; /* UC */
	}
}

static inline uint8_t hv_s2_npt_pat_type(unsigned index)
{
	return (uint8_t)(HV_S2_NPT_HOST_PAT >> (8 * (index & 7)));
}

/* A leaf mapping hpa (aligned to the level's size) with perm (non-zero,
 * hv_s2_perm_ok) and memtype (hv_s2_memtype_ok). */
static inline uint64_t hv_s2_leaf(enum hv_s2_format f, uint64_t hpa, uint8_t perm, uint8_t memtype,
                                  unsigned level)
{
	if (f == HV_S2_EPT) {
		/* IPAT (bit 6) clear: the guest PAT still combines (29.3.7.2). */
		uint64_t e = hpa | perm | ((uint64_t)memtype << HV_S2_EPT_MT_SHIFT);
		return level > 0 ? e | HV_S2_EPT_LARGE : e;
	}
	unsigned idx = hv_s2_npt_pat_index(memtype);
	uint64_t e = hpa | HV_S2_NPT_P | HV_S2_NPT_US;
	if (perm & HV_PERM_W)
		e |= HV_S2_NPT_RW;
	if (!(perm & HV_PERM_X))
		e |= HV_S2_NPT_NX;
	if (idx & 1)
		e |= HV_S2_NPT_PWT;
	if (idx & 2)
		e |= HV_S2_NPT_PCD;
	if (idx & 4)
		e |= level > 0 ? HV_S2_NPT_PAT_LARGE : HV_S2_NPT_PAT_4K;
	return level > 0 ? e | HV_S2_NPT_PS : e;
}

/* A non-leaf entry: it allows everything, the leaf alone decides (an
 * access needs every level's permission, SDM 29.3.3 / APM 5.6). */
static inline uint64_t hv_s2_table(enum hv_s2_format f, uint64_t table_hpa)
{
	if (f == HV_S2_EPT)
		return table_hpa | HV_S2_EPT_PERM;
	return table_hpa | HV_S2_NPT_P | HV_S2_NPT_RW | HV_S2_NPT_US;
}

static inline bool hv_s2_present(enum hv_s2_format f, uint64_t e)
{
	return f == HV_S2_EPT ? (e & HV_S2_EPT_PERM) != 0 : (e & HV_S2_NPT_P) != 0;
}

/* A present entry maps a page: every PTE, a PDPE/PDE with the large bit.
 * A PML4 entry never does (its bit 7 is reserved in both formats). */
static inline bool hv_s2_is_leaf(enum hv_s2_format f, uint64_t e, unsigned level)
{
	uint64_t large = f == HV_S2_EPT ? HV_S2_EPT_LARGE : HV_S2_NPT_PS;
	return level == 0 || (level < 3 && (e & large) != 0);
}

/* The hv permissions of a present entry (0 when not present). */
static inline uint8_t hv_s2_perm(enum hv_s2_format f, uint64_t e)
{
	if (f == HV_S2_EPT)
		return (uint8_t)(e & HV_S2_EPT_PERM);
	if (!(e & HV_S2_NPT_P))
		return 0;
	return (uint8_t)(HV_PERM_R | ((e & HV_S2_NPT_RW) ? HV_PERM_W : 0) |
	                 ((e & HV_S2_NPT_NX) ? 0 : HV_PERM_X));
}

/* The page a leaf maps: bits 51:12, 51:21 or 51:30. Bit 12 of a large NPT
 * leaf is its PAT bit, so the address is always masked by the level. */
static inline uint64_t hv_s2_leaf_addr(uint64_t e, unsigned level)
{
	return e & HV_S2_ADDR_MASK & ~((1ull << (12 + 9 * level)) - 1);
}

/* The memory type of a leaf: EPT bits 5:3; NPT through the host PAT. */
static inline uint8_t hv_s2_memtype(enum hv_s2_format f, uint64_t e, unsigned level)
{
	if (f == HV_S2_EPT)
		return (uint8_t)((e >> HV_S2_EPT_MT_SHIFT) & 7);
	uint64_t pat = level > 0 ? HV_S2_NPT_PAT_LARGE : HV_S2_NPT_PAT_4K;
	unsigned idx = ((e & HV_S2_NPT_PWT) ? 1u : 0u) | ((e & HV_S2_NPT_PCD) ? 2u : 0u) |
	               ((e & pat) ? 4u : 0u);
	return hv_s2_npt_pat_type(idx);
}

/* The same leaf with new permissions (perm == 0: not present, all zero). */
static inline uint64_t hv_s2_reperm(enum hv_s2_format f, uint64_t e, uint8_t perm)
{
	if (perm == 0)
		return 0;
	if (f == HV_S2_EPT)
		return (e & ~HV_S2_EPT_PERM) | perm;
	e &= ~(HV_S2_NPT_RW | HV_S2_NPT_NX);
	if (perm & HV_PERM_W)
		e |= HV_S2_NPT_RW;
	if (!(perm & HV_PERM_X))
		e |= HV_S2_NPT_NX;
	return e | HV_S2_NPT_P | HV_S2_NPT_US;
}

/* A large leaf split into the leaves of the next level down keeps its
 * attributes; only the NPT PAT bit moves (bit 12 in large leaves, bit 7 in
 * a PTE). */
static inline uint64_t hv_s2_split_leaf(enum hv_s2_format f, uint64_t e, unsigned level,
                                        uint64_t hpa)
{
	return hv_s2_leaf(f, hpa, hv_s2_perm(f, e), hv_s2_memtype(f, e, level), level - 1);
}

#endif
