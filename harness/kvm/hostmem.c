#include "hostmem.h"

#include <string.h>
#include <sys/mman.h>

#include "hx/guest_abi.h"

int hxk_hostmem_map(struct hxk_hostmem *m, uint64_t size, struct hxk_err *err)
{
	memset(m, 0, sizeof(*m));
	if (size == 0 || (size & (HV_PAGE_SIZE - 1)) != 0)
		return hxk_fail(err, "host_memory 0x%llx is not a positive multiple of 4 KiB",
		                (unsigned long long)size);
	if (size > HXK_HOST_MEM_MAX)
		return hxk_fail(err,
		                "host_memory 0x%llx (%llu MiB) exceeds the KVM runner's limit of "
		                "%llu MiB: use a config with at most 8 GiB of host memory",
		                (unsigned long long)size, (unsigned long long)(size >> 20),
		                (unsigned long long)(HXK_HOST_MEM_MAX >> 20));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return hxk_fail_errno(err, "mmap of %llu MiB host memory failed",
		                      (unsigned long long)(size >> 20));
	m->base = p;
	m->size = size;
	return 0;
}

void hxk_hostmem_unmap(struct hxk_hostmem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

void *hxk_hostmem_ptr(const struct hxk_hostmem *m, uint64_t hpa, uint64_t len)
{
	if (!m->base || hpa > m->size || len > m->size - hpa)
		return NULL;
	return m->base + hpa;
}

void hxk_canary_fill(struct hxk_hostmem *m, uint64_t hpa, uint64_t size, uint32_t owner)
{
	uint64_t *w = hxk_hostmem_ptr(m, hpa & ~7ull, size & ~7ull);
	if (!w)
		return;
	uint64_t base = hpa & ~7ull;
	for (uint64_t i = 0; i < size / 8; i++)
		w[i] = hx_canary(owner, base + i * 8);
}

int hxk_pool_place(const struct hv_system_config *cfg, uint64_t *pool_hpa, uint32_t *npages,
                   struct hxk_err *err)
{
	uint64_t pages = (cfg->hv_size >> HV_PAGE_SHIFT) / 2;
	if (pages == 0)
		return hxk_fail(err,
		                "hypervisor range 0x%llx+0x%llx is too small for an EPT pool "
		                "(needs at least 2 pages)",
		                (unsigned long long)cfg->hv_base, (unsigned long long)cfg->hv_size);
	if (pages > UINT32_MAX)
		pages = UINT32_MAX;
	*pool_hpa = cfg->hv_base + cfg->hv_size - (pages << HV_PAGE_SHIFT);
	*npages = (uint32_t)pages;
	return 0;
}

void hxk_fill_all_canaries(struct hxk_hostmem *m, const struct hv_system_config *cfg)
{
	hxk_canary_fill(m, cfg->hv_base, cfg->hv_size, HX_CANARY_OWNER_HV);
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		for (uint32_t r = 0; r < pc->nregions; r++)
			if (pc->regions[r].type == HV_REGION_RAM)
				hxk_canary_fill(m, pc->regions[r].hpa, pc->regions[r].size, p + 1);
	}
}
