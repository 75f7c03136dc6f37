/* EPT builder against an independent reference model. Random partition
 * layouts (biased towards 2 MiB / 1 GiB alignments so every leaf size
 * appears) that pass validation must build into tables where:
 *  - hv_ept_verify finds nothing (EPT-OWN, EPT-FORM, EPT-EXACT);
 *  - every sampled GPA of every configured range translates exactly as the
 *    config says, devices and random other GPAs stay unmapped;
 *  - the walk covers exactly the configured bytes;
 *  - a random hv_ept_protect changes precisely the requested pages, or on
 *    failure nothing at all; a build that runs out of pool leaves the pool
 *    where it was. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "hv/ept.h"
#include "hv/verify.h"

#define POOL_PAGES 1024u
#define POOL_HPA (8ull << 20)
#define HOST_MEM (1ull << 40)

static uint8_t pool_mem[POOL_PAGES * HV_PAGE_SIZE] __attribute__((aligned(4096)));

static uint64_t draw_unit(struct fz *f)
{
	static const uint64_t units[] = {HV_PAGE_SIZE, HV_PAGE_SIZE, HV_SIZE_2M, HV_SIZE_2M,
	                                 HV_SIZE_1G};
	return fz_pick(f, units, HV_ARRAY_LEN(units));
}

/* An address that is a multiple of a drawn unit, below limit. */
static uint64_t draw_addr(struct fz *f, uint64_t limit)
{
	uint64_t unit = draw_unit(f);
	return (fz_u32(f) % (limit / unit)) * unit + (fz_u8(f) & 1 ? 0 : unit * (fz_u8(f) & 3));
}

static uint64_t draw_size(struct fz *f)
{
	uint64_t unit = draw_unit(f);
	uint64_t n = 1 + fz_below(f, unit == HV_SIZE_1G ? 3 : 40);
	/* Sometimes an odd tail so large leaves and 4K leaves mix. */
	return n * unit + (fz_u8(f) & 1 ? HV_PAGE_SIZE * fz_below(f, 8) : 0);
}

/* Partition entries and channels a config can have. */
#define MAX_PARTS 3u
#define MAX_CHANNELS 1u

/* HX_FUZZ_CHECK_RESET: what build_config does not clear is still zero. */
static void check_config_reset(const struct hv_system_config *cfg)
{
	FZ_CHECK(fz_all_zero(&cfg->partitions[MAX_PARTS],
	                     (HV_MAX_PARTITIONS - MAX_PARTS) * sizeof(cfg->partitions[0])),
	         "RESET", "config: a partition entry past %u not zero", MAX_PARTS);
	FZ_CHECK(fz_all_zero(&cfg->channels[MAX_CHANNELS],
	                     (HV_MAX_CHANNELS - MAX_CHANNELS) * sizeof(cfg->channels[0])),
	         "RESET", "config: a channel entry past %u not zero", MAX_CHANNELS);
}

/* cfg is the same static struct for every input, zero but for what the
 * last input wrote: only that is cleared (the whole struct is 272 KiB,
 * clearing it was 8% of the target's time). */
static void build_config(struct fz *f, struct hv_system_config *cfg)
{
	if (fz_check_reset())
		check_config_reset(cfg);
	memset(cfg, 0, offsetof(struct hv_system_config, partitions[MAX_PARTS]));
	memset(cfg->channels, 0, MAX_CHANNELS * sizeof(cfg->channels[0]));
	cfg->host_mem_size = HOST_MEM;
	cfg->hv_base = 0;
	cfg->hv_size = 16ull << 20;
	cfg->npartitions = 1 + fz_below(f, MAX_PARTS);
	static const uint8_t perms[] = {HV_PERM_R, HV_PERM_RW, HV_PERM_RX, HV_PERM_RWX, HV_PERM_X};
	static const uint8_t types[] = {HV_MT_WB, HV_MT_UC, HV_MT_WT, HV_MT_WC, HV_MT_WP};
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		struct hv_partition_config *pc = &cfg->partitions[p];
		pc->name[0] = (char)('a' + p);
		pc->nvcpus = 1;
		pc->nregions = 1 + fz_below(f, 6);
		for (uint32_t r = 0; r < pc->nregions; r++) {
			struct hv_region *rg = &pc->regions[r];
			rg->type = fz_u8(f) & 1 ? HV_REGION_MMIO : HV_REGION_RAM;
			rg->gpa = draw_addr(f, 1ull << 40);
			rg->hpa = (16ull << 20) + draw_addr(f, 1ull << 39);
			rg->size = draw_size(f);
			rg->perm = perms[fz_below(f, sizeof(perms))];
			rg->memtype = rg->type == HV_REGION_MMIO
			                      ? HV_MT_UC
			                      : types[fz_below(f, sizeof(types))];
		}
		if (fz_u8(f) & 1) {
			pc->ndevices = 1;
			pc->devices[0] = (struct hv_device_config){.gpa = draw_addr(f, 1ull << 40),
			                                           .size = HV_PAGE_SIZE,
			                                           .type = HV_DEV_CONSOLE};
		}
	}
	if (cfg->npartitions >= 2 && fz_u8(f) & 1) {
		cfg->nchannels = MAX_CHANNELS;
		strcpy(cfg->channels[0].name, "ch");
		cfg->channels[0].hpa = (1ull << 39) + draw_addr(f, 1ull << 30);
		cfg->channels[0].size = HV_PAGE_SIZE * (1 + fz_below(f, 4));
		for (uint32_t p = 0; p < 2; p++) {
			struct hv_partition_config *pc = &cfg->partitions[p];
			pc->nchannels = 1;
			pc->channels[0] =
			        (struct hv_channel_member){.channel = 0,
			                                   .perm = p == 0 ? HV_PERM_RW : HV_PERM_R,
			                                   .gpa = draw_addr(f, 1ull << 40)};
		}
	}
	/* Drawn last, so the seeds' configs keep their shape: Intel EPT or
	 * AMD nested page tables. */
	cfg->vendor = fz_u8(f) & 1 ? HV_VENDOR_AMD : HV_VENDOR_INTEL;
}

/* Expected translation of gpa in partition p according to the config. */
static bool model_translate(const struct hv_system_config *cfg, uint32_t p, uint64_t gpa,
                            uint64_t *hpa, uint8_t *perm, uint8_t *mt)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t r = 0; r < pc->nregions; r++) {
		const struct hv_region *rg = &pc->regions[r];
		if (gpa >= rg->gpa && gpa - rg->gpa < rg->size) {
			*hpa = rg->hpa + (gpa - rg->gpa);
			*perm = rg->perm;
			*mt = rg->memtype;
			return true;
		}
	}
	for (uint32_t c = 0; c < pc->nchannels; c++) {
		const struct hv_channel_member *m = &pc->channels[c];
		const struct hv_channel_config *ch = &cfg->channels[m->channel];
		if (gpa >= m->gpa && gpa - m->gpa < ch->size) {
			*hpa = ch->hpa + (gpa - m->gpa);
			*perm = m->perm;
			*mt = HV_MT_WB;
			return true;
		}
	}
	return false;
}

/* Protections applied so far; a page's current perms are its configured
 * ones overridden by the last protect covering it. */
struct protect_op {
	uint32_t p;
	uint64_t gpa, size;
	uint8_t perm;
};
static struct protect_op ops_done[8];
static uint32_t nops_done;

static uint8_t model_current_perm(uint32_t p, uint64_t gpa, uint8_t configured)
{
	uint8_t perm = configured;
	for (uint32_t i = 0; i < nops_done; i++)
		if (ops_done[i].p == p && gpa >= ops_done[i].gpa &&
		    gpa - ops_done[i].gpa < ops_done[i].size)
			perm = ops_done[i].perm;
	return perm;
}

static void check_gpa(const struct hv_system_config *cfg, const struct hv_pool *pool, uint64_t root,
                      uint32_t p, uint64_t gpa, const uint8_t *perm_override)
{
	uint64_t hpa = 0;
	uint8_t perm = 0, mt = 0;
	bool mapped = model_translate(cfg, p, gpa, &hpa, &perm, &mt);
	if (perm_override && mapped)
		perm = *perm_override;
	else if (mapped)
		perm = model_current_perm(p, gpa, perm);
	struct hv_ept_map m;
	hv_status s = hv_ept_translate(pool, root, gpa, &m);
	FZ_CHECK(s == HV_OK, "EPT-FORM", "partition %u gpa %#llx: translate failed: %s", p,
	         (unsigned long long)gpa, hv_status_str(s));
	if (!mapped || perm == 0) {
		FZ_CHECK(!m.present, "EPT-EXACT",
		         "partition %u gpa %#llx mapped but not configured", p,
		         (unsigned long long)gpa);
		return;
	}
	FZ_CHECK(m.present, "EPT-EXACT", "partition %u gpa %#llx configured but not mapped", p,
	         (unsigned long long)gpa);
	FZ_CHECK(m.hpa == hpa && m.perm == perm && m.memtype == mt, "EPT-EXACT",
	         "partition %u gpa %#llx: hpa %#llx perm %x type %u, expected %#llx %x %u", p,
	         (unsigned long long)gpa, (unsigned long long)m.hpa, m.perm, m.memtype,
	         (unsigned long long)hpa, perm, mt);
}

struct walk_sum {
	const struct hv_system_config *cfg;
	uint32_t p;
	uint64_t bytes;
};

static void walk_run(void *ctx, const struct hv_ept_run *run)
{
	struct walk_sum *w = ctx;
	uint64_t hpa;
	uint8_t perm, mt;
	w->bytes += run->size;
	FZ_CHECK(model_translate(w->cfg, w->p, run->gpa, &hpa, &perm, &mt) && hpa == run->hpa,
	         "EPT-EXACT", "partition %u: walk run at gpa %#llx not as configured", w->p,
	         (unsigned long long)run->gpa);
	FZ_CHECK(model_translate(w->cfg, w->p, run->gpa + run->size - 1, &hpa, &perm, &mt) &&
	                 hpa == run->hpa + run->size - 1,
	         "EPT-EXACT", "partition %u: walk run ending at gpa %#llx not as configured", w->p,
	         (unsigned long long)(run->gpa + run->size - 1));
}

static uint64_t configured_bytes(const struct hv_system_config *cfg, uint32_t p)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	uint64_t n = 0;
	for (uint32_t r = 0; r < pc->nregions; r++)
		n += pc->regions[r].size;
	for (uint32_t c = 0; c < pc->nchannels; c++)
		n += cfg->channels[pc->channels[c].channel].size;
	return n;
}

static void sample_partition(struct fz *f, const struct hv_system_config *cfg,
                             const struct hv_pool *pool, uint64_t root, uint32_t p)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t r = 0; r < pc->nregions; r++) {
		const struct hv_region *rg = &pc->regions[r];
		uint64_t offs[] = {0, rg->size - 1, rg->size / 2, (fz_u64(f) % rg->size)};
		for (size_t i = 0; i < HV_ARRAY_LEN(offs); i++)
			check_gpa(cfg, pool, root, p, rg->gpa + offs[i], NULL);
		check_gpa(cfg, pool, root, p, rg->gpa + rg->size, NULL);
		if (rg->gpa >= HV_PAGE_SIZE)
			check_gpa(cfg, pool, root, p, rg->gpa - 1, NULL);
	}
	for (uint32_t d = 0; d < pc->ndevices; d++)
		check_gpa(cfg, pool, root, p, pc->devices[d].gpa, NULL);
	for (int i = 0; i < 4; i++)
		check_gpa(cfg, pool, root, p, fz_u64(f) & (HV_GPA_LIMIT - 1), NULL);
	struct walk_sum w = {cfg, p, 0};
	FZ_CHECK(hv_ept_walk(pool, root, walk_run, &w) == HV_OK, "EPT-FORM", "walk failed");
	FZ_CHECK(w.bytes == configured_bytes(cfg, p), "EPT-EXACT",
	         "partition %u: walk maps %#llx bytes, config %#llx", p,
	         (unsigned long long)w.bytes, (unsigned long long)configured_bytes(cfg, p));
}

static void protect_once(struct fz *f, struct hv_system_config *cfg, struct hv_pool *pool,
                         struct hv_verify_part *parts)
{
	uint32_t p = fz_below(f, cfg->npartitions);
	const struct hv_partition_config *pc = &cfg->partitions[p];
	const struct hv_region *rg = &pc->regions[fz_below(f, pc->nregions)];
	/* As the MEM_PROTECT hypercall: only RAM is ever protected. */
	if (rg->type != HV_REGION_RAM)
		return;
	uint64_t pages = rg->size >> HV_PAGE_SHIFT;
	uint64_t first = fz_u64(f) % pages;
	uint64_t count = 1 + fz_u64(f) % (pages - first);
	uint8_t perm = rg->perm & fz_u8(f);
	if ((perm & HV_PERM_W) && !(perm & HV_PERM_R))
		perm &= (uint8_t)~HV_PERM_W;
	uint64_t gpa = rg->gpa + (first << HV_PAGE_SHIFT);
	uint64_t size = count << HV_PAGE_SHIFT;
	/* Current perms are piecewise constant between the edges of earlier
	 * protects: look at the range start and at every edge inside it. */
	bool any_absent = false, grows = false;
	for (uint32_t i = 0; i <= 2 * nops_done; i++) {
		uint64_t at = gpa;
		if (i > 0) {
			const struct protect_op *o = &ops_done[(i - 1) / 2];
			at = (i & 1) ? o->gpa : o->gpa + o->size;
			if (o->p != p || at < gpa || at - gpa >= size)
				continue;
		}
		uint8_t cur = model_current_perm(p, at, rg->perm);
		/* Removing pages that are already gone is a no-op, anything
		 * else on them is a fault. */
		any_absent |= cur == 0 && perm != 0;
		grows |= cur != 0 && (perm & ~cur) != 0;
	}
	uint32_t used = pool->used;
	hv_status s = hv_ept_protect(pool, parts[p].root, gpa, size, perm);
	/* Nested page tables cannot say execute-only (APM Vol. 2, 5.6: a
	 * present entry is readable): refused before anything changes. */
	if (cfg->vendor == HV_VENDOR_AMD && perm != 0 && !(perm & HV_PERM_R)) {
		FZ_CHECK(s == HV_ERR_INVAL, "EPT-EXACT", "NPT protect to perm %x returned %s", perm,
		         hv_status_str(s));
		FZ_CHECK(pool->used == used, "EPT-FORM", "refused protect kept %u pool pages",
		         pool->used - used);
		check_gpa(cfg, pool, parts[p].root, p, gpa, NULL);
		return;
	}
	if (any_absent || grows) {
		FZ_CHECK(s == HV_ERR_FAULT || s == HV_ERR_PERM, "EPT-EXACT",
		         "protect over %s pages returned %s", any_absent ? "absent" : "weaker",
		         hv_status_str(s));
		if (!any_absent)
			FZ_CHECK(s == HV_ERR_PERM, "EPT-EXACT", "protect raising perms returned %s",
			         hv_status_str(s));
	}
	if (s != HV_OK) {
		FZ_CHECK(any_absent || grows || s == HV_ERR_NOMEM, "EPT-EXACT",
		         "protect of a configured range failed: %s", hv_status_str(s));
		FZ_CHECK(pool->used == used, "EPT-FORM", "failed protect kept %u pool pages",
		         pool->used - used);
		check_gpa(cfg, pool, parts[p].root, p, gpa, NULL);
		return;
	}
	if (nops_done < HV_ARRAY_LEN(ops_done))
		ops_done[nops_done++] = (struct protect_op){p, gpa, size, perm};
	parts[p].protected_ = true;
	check_gpa(cfg, pool, parts[p].root, p, gpa, &perm);
	check_gpa(cfg, pool, parts[p].root, p, gpa + size - 1, &perm);
	if (first > 0)
		check_gpa(cfg, pool, parts[p].root, p, gpa - 1, NULL);
	if (first + count < pages)
		check_gpa(cfg, pool, parts[p].root, p, gpa + size, NULL);
}

static void print_violation(void *ctx, const struct hv_violation *v)
{
	(void)ctx;
	fprintf(stderr, "  %s: partition %u gpa %#llx hpa %#llx entry %#llx: %s\n",
	        hv_invariant_id(v->inv), v->partition, (unsigned long long)v->gpa,
	        (unsigned long long)v->hpa, (unsigned long long)v->entry,
	        hv_verify_reason_str(v->reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_system_config cfg;
	struct fz f;
	fz_init(&f, data, size);
	/* Before any check: the model of earlier protects is per input (it
	 * leaked from the previous input into the first samples). */
	nops_done = 0;
	uint32_t pool_pages = 8 + fz_below(&f, POOL_PAGES - 8);
	build_config(&f, &cfg);
	if (hv_config_validate(&cfg, NULL) != HV_OK)
		return 0;

	struct hv_pool pool;
	if (hv_pool_init(&pool, pool_mem, POOL_HPA, pool_pages) != HV_OK)
		abort();
	struct hv_verify_part parts[HV_MAX_PARTITIONS];
	memset(parts, 0, sizeof(parts));
	for (uint32_t p = 0; p < cfg.npartitions; p++) {
		uint32_t mark = pool.used;
		hv_status s = hv_s2_build(&pool, &cfg, p, hv_s2_vendor_format(cfg.vendor),
		                          &parts[p].root);
		if (s == HV_ERR_NOMEM) {
			FZ_CHECK(pool.used == mark, "EPT-FORM",
			         "failed build of partition %u kept %u pool pages", p,
			         pool.used - mark);
			return 0;
		}
		FZ_CHECK(s == HV_OK, "EPT-EXACT", "build of a valid partition %u failed: %s", p,
		         hv_status_str(s));
	}
	uint32_t bad = hv_ept_verify(&cfg, &pool, parts, print_violation, NULL, 8);
	FZ_CHECK(bad == 0, "EPT-OWN", "verifier found %u violations in a fresh build", bad);
	for (uint32_t p = 0; p < cfg.npartitions; p++)
		sample_partition(&f, &cfg, &pool, parts[p].root, p);

	for (int i = 0; i < 3 && f.n > 0; i++)
		protect_once(&f, &cfg, &pool, parts);
	bad = hv_ept_verify(&cfg, &pool, parts, print_violation, NULL, 8);
	FZ_CHECK(bad == 0, "EPT-EXACT", "verifier found %u violations after protect", bad);
	return 0;
}
