/* The run walk of a second-stage table (hv_ept_walk): every mapping as
 * merged runs, for the tools and oracles that list or compare mappings
 * (no exit handler calls it). Levels and entry formats as in ept.c (Intel
 * SDM Vol. 3C, 29.3; AMD APM Vol. 2, 15.25). */
#include "hv/ept.h"

#include "ept_levels.h"

/* ---- hv_ept_walk --------------------------------------------------------- */

struct walk {
	const struct hv_pool *pool;
	enum hv_s2_format fmt;
	hv_ept_run_fn fn;
	void *ctx;
	struct hv_ept_run run;
	bool have_run;
	uint32_t tables; /* tables entered so far */
};

static void walk_emit(struct walk *w, uint64_t gpa, uint64_t hpa, uint64_t size, uint8_t perm,
                      uint8_t memtype, uint8_t level)
{
	struct hv_ept_run *r = &w->run;
	if (w->have_run && r->gpa + r->size == gpa && r->hpa + r->size == hpa && r->perm == perm &&
	    r->memtype == memtype && r->level == level) {
		r->size += size;
		return;
	}
	if (w->have_run)
		w->fn(w->ctx, r);
	*r = (struct hv_ept_run){gpa, hpa, size, perm, memtype, level};
	w->have_run = true;
}

static hv_status walk_table(struct walk *w, const uint64_t *table, unsigned level, uint64_t base,
                            uint8_t path_perm)
{
	/* A well-formed tree enters each pool page at most once; more means a
	 * table is reachable twice, and following it could multiply the work
	 * without bound. */
	if (++w->tables > w->pool->used)
		return HV_ERR_INVAL;
	uint64_t slot = level_size(level);
	for (unsigned i = hv_s2_next_used(table, 0); i < EPT_ENTRIES;
	     i = hv_s2_next_used(table, i + 1)) {
		uint64_t e = table[i];
		if (!hv_s2_present(w->fmt, e))
			continue;
		uint64_t gpa = base + (uint64_t)i * slot;
		uint8_t eff = path_perm & hv_s2_perm(w->fmt, e);
		if (hv_s2_is_leaf(w->fmt, e, level)) {
			if (eff != 0) {
				walk_emit(w, gpa, hv_s2_leaf_addr(e, level), slot, eff,
				          hv_s2_memtype(w->fmt, e, level), (uint8_t)level);
				/* The next pages with the same attribute bits: what
				 * walk_emit would do with each is extend the run. */
				if (level == 0) {
					unsigned end = hv_s2_run_end(table, i, UINT64_MAX);
					w->run.size += (uint64_t)(end - i - 1) * HV_PAGE_SIZE;
					i = end - 1;
				}
			}
			continue;
		}
		const uint64_t *sub = entry_table_ro(w->pool, e);
		if (!sub)
			return HV_ERR_INVAL;
		hv_status s = walk_table(w, sub, level - 1, gpa, eff);
		if (s != HV_OK)
			return s;
	}
	return HV_OK;
}

hv_status hv_ept_walk(const struct hv_pool *pool, uint64_t root, hv_ept_run_fn fn, void *ctx)
{
	if (!pool || !fn)
		return HV_ERR_INVAL;
	const uint64_t *pml4 = root_table_ro(pool, root);
	if (!pml4)
		return HV_ERR_INVAL;
	struct walk w = {.pool = pool, .fmt = hv_s2_root_format(root), .fn = fn, .ctx = ctx};
	hv_status s = walk_table(&w, pml4, EPT_TOP_LEVEL, 0, HV_PERM_RWX);
	if (s != HV_OK)
		return s;
	if (w.have_run)
		fn(ctx, &w.run);
	return HV_OK;
}
