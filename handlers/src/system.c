/* Bringing a validated config to life: second-stage tables from the pool
 * in the configured vendor's format (EPT or NPT), reset state. */
#include "hv/system.h"

#include "hv/ept.h"

static void reset_partition(struct hv_partition *part, const struct hv_partition_config *pc)
{
	hv_memset(part, 0, sizeof(*part));
	for (uint32_t v = 0; v < pc->nvcpus && v < HV_MAX_VCPUS; v++)
		for (uint32_t r = 0; r < pc->msr.nrules && r < HV_MAX_MSR_RULES; r++)
			part->vcpus[v].msr_value[r] = pc->msr.rules[r].init;
	for (uint32_t i = 0; i < pc->nio && i < HV_MAX_IO_DEVICES; i++)
		hv_io_reset(&part->io[i], &pc->io[i]);
}

hv_status hv_system_init(struct hv_system *sys, const struct hv_system_config *cfg,
                         const struct hv_platform_ops *ops, void *ops_ctx, struct hv_pool *pool,
                         struct hv_config_diag *diag)
{
	if (!sys || !cfg || !ops || !pool)
		return HV_ERR_INVAL;
	hv_status s = hv_config_validate(cfg, diag);
	if (s != HV_OK)
		return s;
	/* The pool holds every partition's EPT tables. Validation keeps the
	 * hypervisor range clear of partitions and channels, so a pool inside
	 * it can never be mapped into a partition; a pool anywhere else could
	 * (a partition could then rewrite its own EPT). */
	uint64_t pool_size = (uint64_t)pool->npages << HV_PAGE_SHIFT;
	if (!hv_range_ok(pool->hpa, pool_size) ||
	    !hv_range_inside(pool->hpa, pool_size, cfg->hv_base, cfg->hv_size)) {
		if (diag)
			*diag = (struct hv_config_diag){.error = HV_CFG_POOL_PLACEMENT,
			                                .partition = -1,
			                                .index = -1,
			                                .other_partition = -1,
			                                .other_index = -1,
			                                .addr = pool->hpa};
		return HV_ERR_RANGE;
	}

	hv_memset(sys, 0, sizeof(*sys));
	sys->cfg = cfg;
	sys->ops = ops;
	sys->ops_ctx = ops_ctx;
	sys->pool = pool;

	enum hv_s2_format fmt = hv_s2_vendor_format(cfg->vendor);
	uint32_t mark = hv_pool_mark(pool);
	for (uint32_t i = 0; i < cfg->npartitions; i++) {
		reset_partition(&sys->parts[i], &cfg->partitions[i]);
		s = hv_s2_build(pool, cfg, i, fmt, &sys->parts[i].ept_root);
		if (s != HV_OK) {
			hv_pool_release_to(pool, mark);
			for (uint32_t j = 0; j <= i; j++)
				sys->parts[j].ept_root = 0;
			return s;
		}
	}
	return HV_OK;
}
