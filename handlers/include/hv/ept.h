/* 4-level second-stage tables: Intel EPT (Intel SDM Vol. 3C, 29.3 "The
 * Extended Page Table Mechanism") or AMD nested page tables (APM Vol. 2,
 * 15.25 "Nested Paging"): PML4 -> PDPT -> PD -> PT, 512 entries of 8 bytes
 * each. Leaves are 1 GiB, 2 MiB or 4 KiB, chosen by the alignment of GPA,
 * HPA and remaining size. One builder serves both formats; the entry bits
 * live in hv/s2_entry.h, and a root carries its format in bit 0
 * (HV_S2_ROOT_NPT), so every function below takes either kind of root. The
 * hv_ept_ names stay for the format-neutral functions. */
#ifndef HV_EPT_H
#define HV_EPT_H

#include "hv/config.h"
#include "hv/pool.h"
#include "hv/s2_entry.h"
#include "hv/status.h"

/* Entry bits (SDM Vol. 3C, Tables 29-1 .. 29-6). */
#define HV_EPTE_R (1ull << 0)
#define HV_EPTE_W (1ull << 1)
#define HV_EPTE_X (1ull << 2)
#define HV_EPTE_PERM_MASK 7ull
#define HV_EPTE_MT_SHIFT 3
#define HV_EPTE_MT_MASK (7ull << 3)
#define HV_EPTE_IGNORE_PAT (1ull << 6)
#define HV_EPTE_LARGE (1ull << 7)
#define HV_EPTE_ACCESSED (1ull << 8)
#define HV_EPTE_DIRTY (1ull << 9)
#define HV_EPTE_ADDR_MASK 0x000ffffffffff000ull

/* EPTP (SDM Vol. 3C, 25.6.11): memory type WB in bits 2:0, walk length - 1
 * in bits 5:3, PML4 address in bits 51:12. */
#define HV_EPTP_WB 6ull
#define HV_EPTP_WALK4 (3ull << 3)

enum hv_page_size { HV_PG_4K = 0, HV_PG_2M = 1, HV_PG_1G = 2 };

/* Result of walking one GPA. */
struct hv_ept_map {
	uint64_t hpa;      /* translated address (GPA offset included) */
	uint64_t page_gpa; /* GPA of the leaf's first byte */
	uint8_t perm;      /* enum hv_perm bits; 0 when not present */
	uint8_t memtype;
	uint8_t level; /* enum hv_page_size of the leaf */
	bool present;
};

/* Map [gpa, gpa+size) -> [hpa, ...) in the tables rooted at *root (a PML4
 * page from pool; allocated when *root has no address: *root == 0 makes an
 * EPT, *root == HV_S2_ROOT_NPT an NPT). An NPT refuses permissions it
 * cannot express (write-only, execute-only: HV_ERR_INVAL). On failure every page taken
 * during the call is given back and the tables are unchanged.
 * Errors: HV_ERR_ALIGN / HV_ERR_RANGE for the span, HV_ERR_INVAL for perm,
 * memtype or a root / table pointer outside the pool, HV_ERR_OVERLAP when a
 * page is mapped already, HV_ERR_NOMEM. */
hv_status hv_ept_map_range(struct hv_pool *pool, uint64_t *root, uint64_t gpa, uint64_t hpa,
                           uint64_t size, uint8_t perm, uint8_t memtype);

/* Build the second-stage tables of partition `index` from cfg (RAM, MMIO,
 * channels; emulated devices stay unmapped) in format fmt; *root comes back
 * tagged with the format (HV_S2_ROOT_NPT). cfg must have passed
 * hv_config_validate. hv_ept_build is hv_s2_build with HV_S2_EPT. */
hv_status hv_s2_build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t index,
                      enum hv_s2_format fmt, uint64_t *root);
hv_status hv_ept_build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t index,
                       uint64_t *root);

/* Walk one GPA. Returns HV_OK with map->present false for unmapped GPAs
 * (and for GPAs beyond HV_GPA_LIMIT), HV_ERR_INVAL for malformed tables
 * (table pointer outside the pool). map->perm is what all four levels
 * allow together. */
hv_status hv_ept_translate(const struct hv_pool *pool, uint64_t root, uint64_t gpa,
                           struct hv_ept_map *map);

/* Reduce permissions of [gpa, gpa+size) to `perm` (a subset of what is
 * mapped on every page; splits large pages as needed). perm == 0 leaves the
 * pages not present. All-or-nothing: on failure nothing changed.
 * Errors: HV_ERR_FAULT (a page is not mapped; with perm == 0 pages not
 * present are skipped, so removing twice succeeds), HV_ERR_PERM (perm would add
 * a right), HV_ERR_INVAL (perm malformed, table outside the pool),
 * HV_ERR_ALIGN / HV_ERR_RANGE, HV_ERR_NOMEM. The caller invalidates cached
 * translations afterwards (INVEPT, SDM Vol. 3C 29.4.3). */
hv_status hv_ept_protect(struct hv_pool *pool, uint64_t root, uint64_t gpa, uint64_t size,
                         uint8_t perm);

/* Callback for each mapped run while walking in GPA order; runs of equal
 * perms/type/page size and contiguous HPA are merged. */
struct hv_ept_run {
	uint64_t gpa;
	uint64_t hpa;
	uint64_t size;
	uint8_t perm;
	uint8_t memtype;
	uint8_t level; /* enum hv_page_size */
};
typedef void (*hv_ept_run_fn)(void *ctx, const struct hv_ept_run *run);
/* HV_ERR_INVAL for a malformed tree (a table outside the pool, or more
 * tables entered than the pool handed out: one reachable twice); runs
 * before the error have been reported. */
hv_status hv_ept_walk(const struct hv_pool *pool, uint64_t root, hv_ept_run_fn fn, void *ctx);

#endif
