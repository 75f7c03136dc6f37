/* Bump allocator over caller-provided pages, with roll-back to a mark. */
#include "hv/pool.h"

#ifndef HV_FREESTANDING
struct hv_pool_watch *hv_pool_watch;

/* Page index pg (< pool->used, or < the old used on release) reached,
 * for writing or not. */
static inline void watch_page(const struct hv_pool *pool, uint32_t pg, bool write)
{
	struct hv_pool_watch *w = hv_pool_watch;
	if (!w || w->pool != pool)
		return;
	uint64_t bit = 1ull << (pg & 63);
	if (write && !(w->written[pg >> 6] & bit)) {
		w->written[pg >> 6] |= bit;
		w->wpages[w->nwpages++] = pg;
	}
	if (w->seen[pg >> 6] & bit)
		return;
	w->seen[pg >> 6] |= bit;
	w->pages[w->npages++] = pg;
	if (w->reached)
		w->reached(w, pg);
}
#else
#define watch_page(pool, pg, write) ((void)0)
#endif

hv_status hv_pool_init(struct hv_pool *pool, void *mem, uint64_t hpa, uint32_t npages)
{
	/* HPA 0 is the "no table yet" value of an EPT root (hv_ept_map_range
	 * allocates one when *root == 0), so no pool page may have it: a root
	 * at 0 would be replaced by a new one on the next mapping. */
	if (!pool || !mem || npages == 0 || hpa == 0)
		return HV_ERR_INVAL;
	if (((uintptr_t)mem & (HV_PAGE_SIZE - 1)) != 0 || (hpa & (HV_PAGE_SIZE - 1)) != 0)
		return HV_ERR_ALIGN;
	if (!hv_range_ok(hpa, (uint64_t)npages << HV_PAGE_SHIFT))
		return HV_ERR_RANGE;
	pool->mem = mem;
	pool->hpa = hpa;
	pool->npages = npages;
	pool->used = 0;
	return HV_OK;
}

hv_status hv_pool_alloc(struct hv_pool *pool, uint64_t *hpa)
{
	if (pool->used >= pool->npages)
		return HV_ERR_NOMEM;
	uint64_t off = (uint64_t)pool->used << HV_PAGE_SHIFT;
	watch_page(pool, pool->used, true);
	hv_memset(pool->mem + off, 0, HV_PAGE_SIZE);
	pool->used++;
	*hpa = pool->hpa + off;
	return HV_OK;
}

bool hv_pool_owns(const struct hv_pool *pool, uint64_t hpa)
{
	return hpa >= pool->hpa && hpa - pool->hpa < ((uint64_t)pool->used << HV_PAGE_SHIFT);
}

/* hv_pool_ptr and hv_pool_ptr_ro: the page at hpa, reached for writing or
 * not. */
static uint8_t *page_at(const struct hv_pool *pool, uint64_t hpa, bool write)
{
	if (!hv_pool_owns(pool, hpa))
		return NULL;
	watch_page(pool, (uint32_t)((hpa - pool->hpa) >> HV_PAGE_SHIFT), write);
	return pool->mem + ((hpa - pool->hpa) & HV_PAGE_MASK);
}

void *hv_pool_ptr(const struct hv_pool *pool, uint64_t hpa)
{
	return page_at(pool, hpa, true);
}

const void *hv_pool_ptr_ro(const struct hv_pool *pool, uint64_t hpa)
{
	return page_at(pool, hpa, false);
}

void hv_pool_release_to(struct hv_pool *pool, uint32_t mark)
{
	if (mark >= pool->used)
		return;
	uint64_t off = (uint64_t)mark << HV_PAGE_SHIFT;
	for (uint32_t pg = mark; pg < pool->used; pg++)
		watch_page(pool, pg, true);
	hv_memset(pool->mem + off, 0, (uint64_t)(pool->used - mark) << HV_PAGE_SHIFT);
	pool->used = mark;
}
