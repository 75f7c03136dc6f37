/* Private to the second-stage table code (ept.c, ept_walk.c, verify.c):
 * levels, indices, the scan for used entries and the checked step from an
 * entry to its table. */
#ifndef HV_EPT_LEVELS_H
#define HV_EPT_LEVELS_H

#include "hv/pool.h"
#include "hv/s2_entry.h"

#define EPT_ENTRIES 512u
#define EPT_TOP_LEVEL 3u

static inline unsigned level_shift(unsigned level)
{
	return HV_PAGE_SHIFT + 9u * level;
}

static inline uint64_t level_size(unsigned level)
{
	return 1ull << level_shift(level);
}

static inline unsigned level_index(uint64_t gpa, unsigned level)
{
	return (unsigned)(gpa >> level_shift(level)) & (EPT_ENTRIES - 1);
}

/* The first entry at or after index i of a table that is not all zeros,
 * or EPT_ENTRIES (s2_scan.c). */
unsigned hv_s2_next_used(const uint64_t *table, unsigned i);

/* The end of the run of 4 KiB leaves that table[i] starts: the first index
 * j > i whose entry is not the one before it plus one page (same attribute
 * bits, next address), or whose address is at or above limit, or
 * EPT_ENTRIES (s2_scan.c). */
unsigned hv_s2_run_end(const uint64_t *table, unsigned i, uint64_t limit);

/* table[i], ..., table[end - 1] = leaf, leaf plus a page, and so on: a run
 * of 4 KiB leaves whose address stays inside its field (s2_scan.c). */
void hv_s2_fill_run(uint64_t *table, unsigned i, unsigned end, uint64_t leaf);

/* Entry formats: a root with HV_S2_ROOT_NPT set is an AMD nested page
 * table, any other an EPT. Every bit of either is asked of hv/s2_entry.h
 * (hv_s2_present, hv_s2_is_leaf, hv_s2_leaf, ...); the code below is the
 * same for both. */

/* The table a non-leaf entry points to, or NULL when that is not a pool
 * page (never followed then). The _ro forms are for walks that only read:
 * a pool watch (hv/pool.h) tells them from writes. */
static inline uint64_t *entry_table(const struct hv_pool *pool, uint64_t e)
{
	return hv_pool_ptr(pool, e & HV_S2_ADDR_MASK);
}

static inline const uint64_t *entry_table_ro(const struct hv_pool *pool, uint64_t e)
{
	return hv_pool_ptr_ro(pool, e & HV_S2_ADDR_MASK);
}

/* The root table; NULL for low bits other than the format tag or a root
 * outside the pool. */
static inline bool root_ok(uint64_t root)
{
	return (root & (HV_PAGE_SIZE - 1) & ~HV_S2_ROOT_NPT) == 0;
}

static inline uint64_t *root_table(const struct hv_pool *pool, uint64_t root)
{
	return root_ok(root) ? hv_pool_ptr(pool, root & HV_PAGE_MASK) : NULL;
}

static inline const uint64_t *root_table_ro(const struct hv_pool *pool, uint64_t root)
{
	return root_ok(root) ? hv_pool_ptr_ro(pool, root & HV_PAGE_MASK) : NULL;
}

#endif
