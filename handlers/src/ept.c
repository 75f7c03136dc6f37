/* 4-level second-stage tables, Intel EPT or AMD NPT: builder, single-GPA
 * walk and permission reduction; the run walk is in ept_walk.c (Intel SDM Vol. 3C, 29.3 "The
 * Extended Page Table Mechanism"; AMD APM Vol. 2, 15.25 "Nested Paging").
 *
 * Levels are numbered by what they translate: 3 = PML4 (512 GiB per entry),
 * 2 = PDPT (1 GiB), 1 = PD (2 MiB), 0 = PT (4 KiB). Every table is one pool
 * page of 512 eight-byte entries. Which entries are present, which are
 * leaves and what they allow is asked of hv/s2_entry.h in the root's format
 * (EPT: present when any of R/W/X is set, SDM 29.3.2; NPT: the P bit, APM
 * 5.3); a PDPTE or PDE with bit 7 set is a 1 GiB or 2 MiB leaf in both, a
 * PTE is always a leaf.
 *
 * All-or-nothing: map and protect first walk the affected part of the tree
 * without writing anything, checking it and counting the table pages they
 * will need; then they reserve exactly that many pages (giving them all back
 * if the pool runs short) and only then write. The writing pass cannot
 * fail, so no entry of an existing tree is ever left half changed.
 *
 * Every table pointer is checked to lie in a page handed out by the pool
 * before it is followed (hv_pool_ptr), and every loop is bounded by the 512
 * entries of a table and the four levels. */
#include "hv/ept.h"

#include "ept_levels.h"

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* [gpa, gpa+size) must be page aligned, non-empty, not wrap and stay below
 * `limit`. */
static hv_status check_span(uint64_t addr, uint64_t size, uint64_t limit)
{
	if (((addr | size) & (HV_PAGE_SIZE - 1)) != 0)
		return HV_ERR_ALIGN;
	if (!hv_range_ok(addr, size) || addr + size > limit)
		return HV_ERR_RANGE;
	return HV_OK;
}

/* Pages reserved for the writing pass: taken in one go after counting, so
 * a short pool fails before anything is written. The pool hands pages out
 * in order (hv/pool.h), so the reservation is one contiguous run. */
struct reserve {
	struct hv_pool *pool;
	uint64_t next; /* HPA of the next reserved page */
};

static hv_status reserve_pages(struct reserve *res, struct hv_pool *pool, uint64_t count)
{
	uint32_t mark = hv_pool_mark(pool);
	res->pool = pool;
	res->next = pool->hpa + ((uint64_t)mark << HV_PAGE_SHIFT);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t hpa;
		if (hv_pool_alloc(pool, &hpa) != HV_OK) {
			hv_pool_release_to(pool, mark);
			return HV_ERR_NOMEM;
		}
	}
	return HV_OK;
}

/* Next reserved (zeroed) page; its HPA in *hpa. */
static uint64_t *take_page(struct reserve *res, uint64_t *hpa)
{
	*hpa = res->next;
	res->next += HV_PAGE_SIZE;
	return hv_pool_ptr(res->pool, *hpa);
}

/* ---- hv_ept_map_range ---------------------------------------------------- */

struct map_req {
	uint64_t gpa; /* start of the whole request */
	uint64_t hpa;
	uint8_t perm;
	uint8_t memtype;
	enum hv_s2_format fmt;
	/* hv_s2_leaf(fmt, 0, perm, memtype, level) for levels 0..2: every leaf
	 * of the request is its HPA OR this (the attribute bits lie outside a
	 * level-aligned address in both formats), encoded once per request. */
	uint64_t leaf_attr[EPT_TOP_LEVEL];
};

/* A leaf may cover the whole slot [lo, hi) of `level` when the request
 * covers all of it and the HPA there is aligned to the slot size: alignment
 * of GPA, HPA and remaining size decide (4-level EPT has leaves at levels
 * 0, 1 and 2 only). */
static bool can_leaf(const struct map_req *r, unsigned level, uint64_t lo, uint64_t hi)
{
	if (level == 0)
		return true;
	if (level == EPT_TOP_LEVEL || hi - lo != level_size(level))
		return false;
	uint64_t hpa = r->hpa + (lo - r->gpa);
	return (hpa & (level_size(level) - 1)) == 0;
}

/* Counting pass over [lo, hi) inside `table` (NULL: a table still to be
 * created, all entries empty). Adds the table pages the writing pass will
 * take to *need; fails with HV_ERR_OVERLAP where something is mapped
 * already and HV_ERR_INVAL on a table pointer outside the pool. */
static hv_status map_count(const struct hv_pool *pool, const struct map_req *r,
                           const uint64_t *table, unsigned level, uint64_t lo, uint64_t hi,
                           uint64_t *need)
{
	if (!table && level == 0)
		return HV_OK; /* a new PT holds only leaves */
	uint64_t slot = level_size(level);
	unsigned first = level_index(lo, level), last = level_index(hi - 1, level);
	for (unsigned i = first; i <= last; i++) {
		uint64_t base = (lo & ~(level_size(level + 1) - 1)) + (uint64_t)i * slot;
		uint64_t s_lo = max_u64(lo, base), s_hi = min_u64(hi, base + slot);
		uint64_t e = table ? table[i] : 0;
		if (!hv_s2_present(r->fmt, e)) {
			if (can_leaf(r, level, s_lo, s_hi))
				continue;
			*need += 1;
			hv_status s = map_count(pool, r, NULL, level - 1, s_lo, s_hi, need);
			if (s != HV_OK)
				return s;
			continue;
		}
		if (hv_s2_is_leaf(r->fmt, e, level))
			return HV_ERR_OVERLAP;
		const uint64_t *sub = entry_table_ro(pool, e);
		if (!sub)
			return HV_ERR_INVAL;
		hv_status s = map_count(pool, r, sub, level - 1, s_lo, s_hi, need);
		if (s != HV_OK)
			return s;
	}
	return HV_OK;
}

/* Writing pass; the counting pass has vetted the same range and reserved
 * its pages, so nothing here can fail. A new table is filled before the
 * entry pointing to it is written. */
static void map_write(struct reserve *res, const struct map_req *r, uint64_t *table, unsigned level,
                      uint64_t lo, uint64_t hi)
{
	uint64_t slot = level_size(level);
	unsigned first = level_index(lo, level), last = level_index(hi - 1, level);
	if (level == 0) {
		/* 4 KiB leaves, none present (the counting pass refuses a range
		 * that meets one): page after page of the request. The address
		 * stays below HV_HPA_LIMIT (check_span), so adding a page never
		 * carries into the attribute bits. */
		hv_s2_fill_run(table, first, last + 1, (r->hpa + (lo - r->gpa)) | r->leaf_attr[0]);
		return;
	}
	for (unsigned i = first; i <= last; i++) {
		uint64_t base = (lo & ~(level_size(level + 1) - 1)) + (uint64_t)i * slot;
		uint64_t s_lo = max_u64(lo, base), s_hi = min_u64(hi, base + slot);
		uint64_t e = table[i];
		if (hv_s2_present(r->fmt, e)) {
			map_write(res, r, entry_table(res->pool, e), level - 1, s_lo, s_hi);
			continue;
		}
		if (can_leaf(r, level, s_lo, s_hi)) {
			table[i] = (r->hpa + (s_lo - r->gpa)) | r->leaf_attr[level];
			continue;
		}
		uint64_t sub_hpa;
		uint64_t *sub = take_page(res, &sub_hpa);
		map_write(res, r, sub, level - 1, s_lo, s_hi);
		table[i] = hv_s2_table(r->fmt, sub_hpa);
	}
}

hv_status hv_ept_map_range(struct hv_pool *pool, uint64_t *root, uint64_t gpa, uint64_t hpa,
                           uint64_t size, uint8_t perm, uint8_t memtype)
{
	if (!pool || !root)
		return HV_ERR_INVAL;
	enum hv_s2_format fmt = hv_s2_root_format(*root);
	if (perm == 0 || !hv_s2_perm_ok(fmt, perm) || !hv_s2_memtype_ok(memtype))
		return HV_ERR_INVAL;
	hv_status s = check_span(gpa, size, HV_GPA_LIMIT);
	if (s == HV_OK)
		s = check_span(hpa, size, HV_HPA_LIMIT);
	if (s != HV_OK)
		return s;

	struct map_req r = {.gpa = gpa, .hpa = hpa, .perm = perm, .memtype = memtype, .fmt = fmt};
	for (unsigned level = 0; level < EPT_TOP_LEVEL; level++)
		r.leaf_attr[level] = hv_s2_leaf(fmt, 0, perm, memtype, level);
	const uint64_t *pml4 = NULL;
	uint64_t need = 0;
	if ((*root & HV_PAGE_MASK) != 0) {
		pml4 = root_table_ro(pool, *root);
		if (!pml4)
			return HV_ERR_INVAL;
	} else {
		need = 1;
	}
	s = map_count(pool, &r, pml4, EPT_TOP_LEVEL, gpa, gpa + size, &need);
	if (s != HV_OK)
		return s;

	struct reserve res;
	s = reserve_pages(&res, pool, need);
	if (s != HV_OK)
		return s;
	uint64_t root_hpa = *root & HV_PAGE_MASK;
	uint64_t *table = root_hpa ? root_table(pool, root_hpa) : take_page(&res, &root_hpa);
	map_write(&res, &r, table, EPT_TOP_LEVEL, gpa, gpa + size);
	*root = root_hpa | hv_s2_root_tag(fmt);
	return HV_OK;
}

/* ---- hv_ept_build -------------------------------------------------------- */

hv_status hv_ept_build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t index,
                       uint64_t *root)
{
	return hv_s2_build(pool, cfg, index, HV_S2_EPT, root);
}

hv_status hv_s2_build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t index,
                      enum hv_s2_format fmt, uint64_t *root)
{
	if (!pool || !cfg || !root || index >= cfg->npartitions || index >= HV_MAX_PARTITIONS)
		return HV_ERR_INVAL;
	const struct hv_partition_config *pc = &cfg->partitions[index];
	if (pc->nregions > HV_MAX_REGIONS || pc->nchannels > HV_MAX_CHANNELS)
		return HV_ERR_INVAL;

	/* Every page of the new tree comes after the mark and nothing older
	 * points into it, so giving them back undoes a failed build exactly. */
	uint32_t mark = hv_pool_mark(pool);
	const uint64_t tag = hv_s2_root_tag(fmt);
	uint64_t new_root = tag;
	hv_status s = HV_OK;
	for (uint32_t i = 0; i < pc->nregions && s == HV_OK; i++) {
		const struct hv_region *rg = &pc->regions[i];
		s = hv_ept_map_range(pool, &new_root, rg->gpa, rg->hpa, rg->size, rg->perm,
		                     rg->memtype);
	}
	/* Channel windows: the member's permissions, write-back like RAM. */
	for (uint32_t i = 0; i < pc->nchannels && s == HV_OK; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		if (m->channel >= cfg->nchannels || m->channel >= HV_MAX_CHANNELS) {
			s = HV_ERR_INVAL;
			break;
		}
		const struct hv_channel_config *ch = &cfg->channels[m->channel];
		s = hv_ept_map_range(pool, &new_root, m->gpa, ch->hpa, ch->size, m->perm, HV_MT_WB);
	}
	/* A partition with nothing mapped still gets an (empty) root. */
	if (s == HV_OK && new_root == tag) {
		s = hv_pool_alloc(pool, &new_root);
		new_root |= tag;
	}
	if (s != HV_OK) {
		hv_pool_release_to(pool, mark);
		return s;
	}
	*root = new_root;
	return HV_OK;
}

/* ---- hv_ept_translate ---------------------------------------------------- */

hv_status hv_ept_translate(const struct hv_pool *pool, uint64_t root, uint64_t gpa,
                           struct hv_ept_map *map)
{
	if (!pool || !map)
		return HV_ERR_INVAL;
	hv_memset(map, 0, sizeof(*map));
	const uint64_t *table = root_table_ro(pool, root);
	if (!table)
		return HV_ERR_INVAL;
	if (gpa >= HV_GPA_LIMIT)
		return HV_OK; /* beyond what a 4-level walk translates */
	enum hv_s2_format f = hv_s2_root_format(root);
	uint8_t perm = HV_PERM_RWX;
	uint64_t e = 0;
	unsigned level = EPT_TOP_LEVEL + 1;
	while (level-- > 0) {
		e = table[level_index(gpa, level)];
		if (!hv_s2_present(f, e))
			return HV_OK;
		perm &= hv_s2_perm(f, e);
		if (hv_s2_is_leaf(f, e, level))
			break; /* always by level 0: every PTE is a leaf */
		table = entry_table_ro(pool, e);
		if (!table)
			return HV_ERR_INVAL;
	}
	uint64_t size = level_size(level);
	map->page_gpa = gpa & ~(size - 1);
	map->hpa = hv_s2_leaf_addr(e, level) + (gpa & (size - 1));
	map->perm = perm;
	map->memtype = hv_s2_memtype(f, e, level);
	map->level = (uint8_t)level;
	map->present = perm != 0;
	return HV_OK;
}

/* ---- hv_ept_protect ------------------------------------------------------ */

/* Tables needed to split a leaf of `level` of which only [lo, hi) changes:
 * one table for the level below, and recursively one for each of its slots
 * still only partly covered. */
static uint64_t split_count(unsigned level, uint64_t lo, uint64_t hi)
{
	uint64_t n = 1;
	unsigned child = level - 1;
	if (child == 0)
		return n;
	uint64_t slot = level_size(child);
	uint64_t c_lo = lo & ~(slot - 1);
	/* A contiguous range is partial in at most its first and last slot. */
	for (int k = 0; k < 2; k++) {
		uint64_t base = k == 0 ? c_lo : (hi - 1) & ~(slot - 1);
		if (k == 1 && base == c_lo)
			break;
		uint64_t s_lo = max_u64(lo, base), s_hi = min_u64(hi, base + slot);
		if (s_hi - s_lo != slot)
			n += split_count(child, s_lo, s_hi);
	}
	return n;
}

/* Checking pass: every page of [lo, hi) mapped (else HV_ERR_FAULT) with at
 * least `perm` (else HV_ERR_PERM); counts the table pages splitting needs.
 * path_perm is what the levels above allow. With perm == 0 pages that are
 * not present already are simply skipped: removing nothing maps nothing. */
static hv_status protect_count(enum hv_s2_format f, const struct hv_pool *pool,
                               const uint64_t *table, unsigned level, uint64_t lo, uint64_t hi,
                               uint8_t perm, uint8_t path_perm, uint64_t *need)
{
	uint64_t slot = level_size(level);
	unsigned first = level_index(lo, level), last = level_index(hi - 1, level);
	for (unsigned i = first; i <= last; i++) {
		uint64_t base = (lo & ~(level_size(level + 1) - 1)) + (uint64_t)i * slot;
		uint64_t s_lo = max_u64(lo, base), s_hi = min_u64(hi, base + slot);
		uint64_t e = table[i];
		if (!hv_s2_present(f, e)) {
			/* Already nothing: fine when nothing is asked for. */
			if (perm == 0)
				continue;
			return HV_ERR_FAULT;
		}
		uint8_t eff = path_perm & hv_s2_perm(f, e);
		if (!hv_s2_is_leaf(f, e, level)) {
			const uint64_t *sub = entry_table_ro(pool, e);
			if (!sub)
				return HV_ERR_INVAL;
			hv_status s =
			        protect_count(f, pool, sub, level - 1, s_lo, s_hi, perm, eff, need);
			if (s != HV_OK)
				return s;
			continue;
		}
		if (eff == 0 && perm != 0)
			return HV_ERR_FAULT;
		if ((perm & ~eff) != 0)
			return HV_ERR_PERM;
		bool unchanged = hv_s2_perm(f, e) == perm;
		if (!unchanged && s_hi - s_lo != slot)
			*need += split_count(level, s_lo, s_hi);
	}
	return HV_OK;
}

/* Writing pass, after protect_count vetted the range and reserved pages. A
 * large leaf only partly in the range becomes a table of smaller leaves
 * with the same attributes; the new table is complete before it replaces
 * the leaf. */
static void protect_write(enum hv_s2_format f, struct reserve *res, uint64_t *table, unsigned level,
                          uint64_t lo, uint64_t hi, uint8_t perm)
{
	uint64_t slot = level_size(level);
	unsigned first = level_index(lo, level), last = level_index(hi - 1, level);
	for (unsigned i = first; i <= last; i++) {
		uint64_t base = (lo & ~(level_size(level + 1) - 1)) + (uint64_t)i * slot;
		uint64_t s_lo = max_u64(lo, base), s_hi = min_u64(hi, base + slot);
		uint64_t e = table[i];
		if (!hv_s2_present(f, e))
			continue; /* perm == 0: already not present */
		if (!hv_s2_is_leaf(f, e, level)) {
			protect_write(f, res, entry_table(res->pool, e), level - 1, s_lo, s_hi,
			              perm);
			continue;
		}
		if (hv_s2_perm(f, e) == perm)
			continue;
		if (s_hi - s_lo == slot) {
			table[i] = hv_s2_reperm(f, e, perm);
			continue;
		}
		uint64_t sub_hpa;
		uint64_t *sub = take_page(res, &sub_hpa);
		unsigned child = level - 1;
		/* Encode the first child once; the others differ only in their
		 * address, and adding a multiple of the child size never reaches
		 * an attribute bit (all below bit 12 + 9 * child or above 51). */
		uint64_t first_child = hv_s2_split_leaf(f, e, level, hv_s2_leaf_addr(e, level));
		for (unsigned k = 0; k < EPT_ENTRIES; k++)
			sub[k] = first_child + (uint64_t)k * level_size(child);
		protect_write(f, res, sub, child, s_lo, s_hi, perm);
		table[i] = hv_s2_table(f, sub_hpa);
	}
}

hv_status hv_ept_protect(struct hv_pool *pool, uint64_t root, uint64_t gpa, uint64_t size,
                         uint8_t perm)
{
	enum hv_s2_format f = hv_s2_root_format(root);
	if (!pool || !hv_s2_perm_ok(f, perm))
		return HV_ERR_INVAL;
	uint64_t *pml4 = root_table(pool, root);
	if (!pml4)
		return HV_ERR_INVAL;
	hv_status s = check_span(gpa, size, HV_GPA_LIMIT);
	if (s != HV_OK)
		return s;
	uint64_t need = 0;
	s = protect_count(f, pool, pml4, EPT_TOP_LEVEL, gpa, gpa + size, perm, HV_PERM_RWX, &need);
	if (s != HV_OK)
		return s;
	struct reserve res;
	s = reserve_pages(&res, pool, need);
	if (s != HV_OK)
		return s;
	protect_write(f, &res, pml4, EPT_TOP_LEVEL, gpa, gpa + size, perm);
	return HV_OK;
}
