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

/* The same, for reading only (walks, translation, verification): a watch
 * records the page as reached, not as written. */
const void *hv_pool_ptr_ro(const struct hv_pool *pool, uint64_t hpa);

/* true when hpa lies in a page handed out by this pool */
bool hv_pool_owns(const struct hv_pool *pool, uint64_t hpa);

static inline uint32_t hv_pool_mark(const struct hv_pool *pool)
{
	return pool->used;
}
/* Give back every page allocated after mark (they are zeroed again). */
void hv_pool_release_to(struct hv_pool *pool, uint32_t mark);

#ifndef HV_FREESTANDING
/* Hosted builds only: a record of the pool pages the core reaches. While
 * hv_pool_watch points at a watch of this pool, every page hv_pool_ptr or
 * hv_pool_ptr_ro hands a pointer to, hv_pool_alloc zeroes or
 * hv_pool_release_to gives back is added once to `pages`, before the core
 * touches it, and all but hv_pool_ptr_ro's once to `wpages` too. The core
 * reaches table pages only through those, so a checker (the oracles' pool
 * picture, harness/oracle/oracle_pool.c) compares just the pages reached
 * for writing after an exit, and keeps the pages not reached poisoned for
 * AddressSanitizer meanwhile to catch any access that did not. The
 * freestanding core has none of this. */
struct hv_pool_watch {
	const struct hv_pool *pool; /* the pool watched */
	uint64_t *seen;             /* one bit per page of pool->npages */
	uint32_t *pages;            /* room for pool->npages entries */
	uint32_t npages;            /* entries in pages */
	uint64_t *written;          /* as seen and pages, for the pages */
	uint32_t *wpages;           /* reached for writing */
	uint32_t nwpages;
	/* Called on a page's first entry, before the core touches it (the
	 * oracles unpoison it for AddressSanitizer); may be NULL. */
	void (*reached)(struct hv_pool_watch *w, uint32_t page);
};
extern struct hv_pool_watch *hv_pool_watch;
#endif

#endif
