/* The leaf entry that maps a GPA in a second-stage table (EPT or NPT, by
 * the root's tag). For tools that must point at one entry: the negative
 * controls that break a table on purpose (harness/kvm/break_ept.c, the
 * test-only boot image). The core itself walks through hv/ept.h. */
#ifndef HV_S2_LEAF_H
#define HV_S2_LEAF_H

#include "hv/pool.h"
#include "hv/s2_entry.h"

/* The entry, its level (0: 4 KiB) and the size it maps; NULL when gpa is
 * not mapped or a table is not in the pool. */
static inline uint64_t *hv_s2_leaf_of(const struct hv_pool *pool, uint64_t root, uint64_t gpa,
                                      unsigned *level, uint64_t *leaf_size)
{
	enum hv_s2_format f = hv_s2_root_format(root);
	uint64_t table = root & HV_S2_ADDR_MASK;
	for (unsigned lvl = 4; lvl-- > 0;) {
		unsigned shift = 12 + 9 * lvl;
		uint64_t *t = (uint64_t *)hv_pool_ptr(pool, table);
		if (!t)
			return 0;
		uint64_t *e = &t[(gpa >> shift) & 511];
		if (!hv_s2_present(f, *e))
			return 0;
		if (hv_s2_is_leaf(f, *e, lvl)) {
			*level = lvl;
			*leaf_size = 1ull << shift;
			return e;
		}
		table = *e & HV_S2_ADDR_MASK;
	}
	return 0;
}

#endif
