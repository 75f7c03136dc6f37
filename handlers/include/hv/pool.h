/* Page pool: caller-provided, page-aligned memory the core takes EPT table
 * pages from. There is no heap. Pages are handed out in order; a failed
 * multi-page operation rolls back to a mark so no partial state remains. */
#ifndef HV_POOL_H
#define HV_POOL_H

#include "hv/status.h"
#include "hv/types.h"

struct hv_pool {
	uint8_t *mem;    /* host-visible address of the first page */
	uint64_t hpa;    /* host-physical address of the first page */
	uint32_t npages; /* capacity */
	uint32_t used;   /* pages handed out */
};

/* mem must be 4 KiB aligned, hpa 4 KiB aligned and not 0 (the "no root"
 * value of EPT roots), npages > 0. */
hv_status hv_pool_init(struct hv_pool *pool, void *mem, uint64_t hpa, uint32_t npages);

/* Allocate one zeroed page. Returns HV_ERR_NOMEM when exhausted. */
hv_status hv_pool_alloc(struct hv_pool *pool, uint64_t *hpa);

/* Host-visible pointer for a pool page's HPA, or NULL if hpa is not a page
 * handed out by this pool. */
void *hv_pool_ptr(const struct hv_pool *pool, uint64_t hpa);

/* true when hpa lies in a page handed out by this pool */
bool hv_pool_owns(const struct hv_pool *pool, uint64_t hpa);

static inline uint32_t hv_pool_mark(const struct hv_pool *pool)
{
	return pool->used;
}
/* Give back every page allocated after mark (they are zeroed again). */
void hv_pool_release_to(struct hv_pool *pool, uint32_t mark);

#endif
