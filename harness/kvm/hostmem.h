/* Host physical memory of the modelled machine: one anonymous mapping
 * [0, host_memory) of the config. The hypervisor's EPT page pool lives in
 * it (inside the hypervisor-reserved range), guest RAM is backed by it
 * through memslots, and canaries (hx/guest_abi.h) mark who owns what. */
#ifndef HXK_HOSTMEM_H
#define HXK_HOSTMEM_H

#include <stdint.h>

#include "hv/config.h"
#include "kvm_err.h"

/* Largest host memory the runner maps. */
#define HXK_HOST_MEM_MAX (8ull << 30)

struct hxk_hostmem {
	uint8_t *base;
	uint64_t size;
};

/* Map size bytes (MAP_NORESERVE, zero-filled on first touch). */
int hxk_hostmem_map(struct hxk_hostmem *m, uint64_t size, struct hxk_err *err);
void hxk_hostmem_unmap(struct hxk_hostmem *m);

/* Pointer to [hpa, hpa+len) or NULL when it does not lie inside. */
void *hxk_hostmem_ptr(const struct hxk_hostmem *m, uint64_t hpa, uint64_t len);

/* Fill [hpa, hpa+size) (8-byte aligned, inside) with owner's canaries. */
void hxk_canary_fill(struct hxk_hostmem *m, uint64_t hpa, uint64_t size, uint32_t owner);

/* Where the EPT page pool goes: the upper half of the hypervisor-reserved
 * range (the lower half stands for the hypervisor's code and data). */
int hxk_pool_place(const struct hv_system_config *cfg, uint64_t *pool_hpa, uint32_t *npages,
                   struct hxk_err *err);

/* Canaries into the whole hypervisor range (owner 0; pool pages handed
 * out later are zeroed by the pool) and every RAM region of every
 * partition (owner = index + 1). Channels and passthrough MMIO are shared
 * or device memory: left zero. */
void hxk_fill_all_canaries(struct hxk_hostmem *m, const struct hv_system_config *cfg);

#endif
