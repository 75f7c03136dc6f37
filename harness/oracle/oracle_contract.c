/* Caller contracts of the core, checked by the oracle with its own code
 * (never by calling the core's checks, which would share their mistakes):
 *  - hv/system.h, hv/ept.h: the config passed hv_config_validate, i.e. its
 *    host-physical layout isolates: regions and channels inside host
 *    memory, page aligned, not wrapping, never touching the hypervisor
 *    range and never overlapping each other; counts within the limits of
 *    hv/config.h; every membership names a channel;
 *  - hv/pool.h, hv/config.h (hv_base: "code, data, pool"): the EPT page
 *    pool is page aligned, not at HPA 0, lies inside [hv_base, hv_base +
 *    hv_size) and overlaps no partition RAM/MMIO and no channel (else a
 *    partition could map its own EPT tables);
 *  - oracle.h: every exit is checked against the system the oracle was
 *    made for, whose pool does not move;
 *  - hv/exit.h: exit records name an existing partition and vCPU, a known
 *    reason, insn_len <= 15 and CPL <= 3 (records that do not are refused
 *    by the core; oracle_core.c checks they were).
 * Violations of the system contracts are reported from hx_oracle_new with
 * exit index UINT64_MAX: EPT-OWN for the pool, CONTAIN for the layout. */
#include <stdio.h>
#include <stdlib.h>

#include "oracle_internal.h"

#define PAGE_MASK_LOW 0xfffull
#define CONTRACT_MAX_REPORTS 8u

static bool page_aligned(uint64_t v)
{
	return (v & PAGE_MASK_LOW) == 0;
}

/* [b, b+s) is non-empty and does not wrap. */
static bool span_ok(uint64_t b, uint64_t s)
{
	return s != 0 && b + s > b;
}

static bool spans_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* A host-physical span owned by a partition region or a channel. */
struct owned {
	uint64_t base, size;
	int32_t partition; /* -1 for a channel */
	uint32_t index;    /* region or channel index */
};

static int owned_cmp(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

static void owner_str(const struct hx_oracle *o, const struct owned *w, char *buf, size_t len)
{
	if (w->partition < 0)
		snprintf(buf, len, "channel %u (%.*s)", w->index, HV_NAME_LEN,
		         o->cfg->channels[w->index].name);
	else
		snprintf(buf, len, "partition %d (%.*s) region %u", w->partition, HV_NAME_LEN,
		         o->cfg->partitions[w->partition].name, w->index);
}

struct contract_ctx {
	struct hx_oracle *o;
	uint32_t reports;
};

#define CREPORT(c, inv, ...)                                                                       \
	do {                                                                                       \
		if ((c)->reports++ < CONTRACT_MAX_REPORTS)                                         \
			oracle_report((c)->o, inv, __VA_ARGS__);                                   \
	} while (0)

static void check_counts(struct contract_ctx *c)
{
	const struct hv_system_config *cfg = c->o->cfg;
	if (cfg->npartitions == 0 || cfg->npartitions > HV_MAX_PARTITIONS)
		CREPORT(c, HV_INV_CONTAIN,
		        "caller contract (validated config): %u partitions, not 1..%u",
		        cfg->npartitions, HV_MAX_PARTITIONS);
	if (cfg->nchannels > HV_MAX_CHANNELS)
		CREPORT(c, HV_INV_CONTAIN,
		        "caller contract (validated config): %u channels, over %u", cfg->nchannels,
		        HV_MAX_CHANNELS);
	for (uint32_t p = 0; p < c->o->nparts; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		if (pc->nvcpus == 0 || pc->nvcpus > HV_MAX_VCPUS || pc->nregions > HV_MAX_REGIONS ||
		    pc->ndevices > HV_MAX_DEVICES || pc->nchannels > HV_MAX_CHANNELS ||
		    pc->msr.nrules > HV_MAX_MSR_RULES || pc->cpuid.nrules > HV_MAX_CPUID_RULES)
			CREPORT(c, HV_INV_CONTAIN,
			        "caller contract (validated config): partition %u has a count "
			        "beyond hv/config.h's limits (%u vcpus, %u regions, %u devices, "
			        "%u channels, %u MSR rules, %u CPUID rules)",
			        p, pc->nvcpus, pc->nregions, pc->ndevices, pc->nchannels,
			        pc->msr.nrules, pc->cpuid.nrules);
		for (uint32_t m = 0; m < pc->nchannels && m < HV_MAX_CHANNELS; m++)
			if (pc->channels[m].channel >= cfg->nchannels)
				CREPORT(c, HV_INV_CONTAIN,
				        "caller contract (validated config): partition %u "
				        "membership "
				        "%u names channel %u of %u",
				        p, m, pc->channels[m].channel, cfg->nchannels);
	}
}

/* One owned span: inside host memory, aligned, clear of the hypervisor. */
static void check_span(struct contract_ctx *c, const struct owned *w)
{
	const struct hv_system_config *cfg = c->o->cfg;
	char who[96];
	owner_str(c->o, w, who, sizeof(who));
	if (!span_ok(w->base, w->size) || !page_aligned(w->base) || !page_aligned(w->size) ||
	    w->base + w->size > cfg->host_mem_size) {
		CREPORT(c, HV_INV_CONTAIN,
		        "caller contract (validated config): %s [0x%llx, +0x%llx) is empty, "
		        "unaligned, wraps or leaves host memory (0x%llx)",
		        who, (unsigned long long)w->base, (unsigned long long)w->size,
		        (unsigned long long)cfg->host_mem_size);
		return;
	}
	if (spans_overlap(w->base, w->size, cfg->hv_base, cfg->hv_size))
		CREPORT(c, HV_INV_CONTAIN,
		        "caller contract (validated config): %s [0x%llx, +0x%llx) touches the "
		        "hypervisor range [0x%llx, +0x%llx)",
		        who, (unsigned long long)w->base, (unsigned long long)w->size,
		        (unsigned long long)cfg->hv_base, (unsigned long long)cfg->hv_size);
}

/* Host memory has one owner: sort every owned span by base and compare each
 * with the span reaching furthest before it (O(n log n); configs may hold
 * 64 x 64 regions). */
static void check_layout(struct contract_ctx *c)
{
	const struct hv_system_config *cfg = c->o->cfg;
	if (!span_ok(cfg->hv_base, cfg->hv_size) || !page_aligned(cfg->hv_base) ||
	    !page_aligned(cfg->hv_size) || cfg->hv_base + cfg->hv_size > cfg->host_mem_size) {
		CREPORT(c, HV_INV_CONTAIN,
		        "caller contract (validated config): hypervisor range [0x%llx, +0x%llx) "
		        "is empty, unaligned or outside host memory (0x%llx)",
		        (unsigned long long)cfg->hv_base, (unsigned long long)cfg->hv_size,
		        (unsigned long long)cfg->host_mem_size);
		return;
	}
	size_t n = 0, cap = cfg->nchannels < HV_MAX_CHANNELS ? cfg->nchannels : HV_MAX_CHANNELS;
	for (uint32_t p = 0; p < c->o->nparts; p++)
		cap += cfg->partitions[p].nregions < HV_MAX_REGIONS ? cfg->partitions[p].nregions
		                                                    : HV_MAX_REGIONS;
	struct owned *w = calloc(cap ? cap : 1, sizeof(*w));
	if (!w)
		return;
	for (uint32_t p = 0; p < c->o->nparts; p++)
		for (uint32_t i = 0; i < cfg->partitions[p].nregions && i < HV_MAX_REGIONS; i++)
			w[n++] = (struct owned){cfg->partitions[p].regions[i].hpa,
			                        cfg->partitions[p].regions[i].size, (int32_t)p, i};
	for (uint32_t i = 0; i < cfg->nchannels && i < HV_MAX_CHANNELS; i++)
		w[n++] = (struct owned){cfg->channels[i].hpa, cfg->channels[i].size, -1, i};
	for (size_t i = 0; i < n; i++)
		check_span(c, &w[i]);
	qsort(w, n, sizeof(*w), owned_cmp);
	size_t far = 0; /* the span with the largest end so far */
	for (size_t i = 1; i < n; i++) {
		const struct owned *a = &w[far], *b = &w[i];
		if (span_ok(a->base, a->size) && span_ok(b->base, b->size) &&
		    spans_overlap(a->base, a->size, b->base, b->size)) {
			char x[96], y[96];
			owner_str(c->o, a, x, sizeof(x));
			owner_str(c->o, b, y, sizeof(y));
			CREPORT(c, HV_INV_CONTAIN,
			        "caller contract (validated config): %s and %s share host memory "
			        "at hpa 0x%llx",
			        x, y, (unsigned long long)b->base);
		}
		if (span_ok(b->base, b->size) && b->base + b->size > a->base + a->size)
			far = i;
	}
	/* The pool against every owned span. */
	const struct hv_pool *pool = c->o->pool;
	uint64_t psize = pool ? (uint64_t)pool->npages * HV_PAGE_SIZE : 0;
	for (size_t i = 0; pool && span_ok(pool->hpa, psize) && i < n; i++) {
		if (!span_ok(w[i].base, w[i].size) ||
		    !spans_overlap(pool->hpa, psize, w[i].base, w[i].size))
			continue;
		char x[96];
		owner_str(c->o, &w[i], x, sizeof(x));
		CREPORT(c, HV_INV_EPT_OWN,
		        "caller contract (hv/pool.h): the EPT page pool [0x%llx, +0x%llx) overlaps "
		        "%s [0x%llx, +0x%llx): the partition could reach its EPT tables",
		        (unsigned long long)pool->hpa, (unsigned long long)psize, x,
		        (unsigned long long)w[i].base, (unsigned long long)w[i].size);
	}
	free(w);
}

static void check_pool(struct contract_ctx *c)
{
	const struct hv_pool *pool = c->o->pool;
	const struct hv_system_config *cfg = c->o->cfg;
	if (!pool || !pool->mem || pool->npages == 0) {
		CREPORT(c, HV_INV_EPT_OWN, "caller contract (hv/pool.h): no EPT page pool");
		return;
	}
	uint64_t size = (uint64_t)pool->npages * HV_PAGE_SIZE;
	if (pool->hpa == 0 || !page_aligned(pool->hpa) || ((uintptr_t)pool->mem & PAGE_MASK_LOW) ||
	    !span_ok(pool->hpa, size) || pool->used > pool->npages)
		CREPORT(c, HV_INV_EPT_OWN,
		        "caller contract (hv/pool.h): EPT page pool at hpa 0x%llx (%u pages, %u "
		        "used) is at 0, unaligned, wraps or over-used",
		        (unsigned long long)pool->hpa, pool->npages, pool->used);
	else if (!(pool->hpa >= cfg->hv_base && size <= cfg->hv_size &&
	           pool->hpa - cfg->hv_base <= cfg->hv_size - size))
		CREPORT(c, HV_INV_EPT_OWN,
		        "caller contract (hv/pool.h, hv/config.h hv_base): the EPT page pool "
		        "[0x%llx, +0x%llx) is not inside the hypervisor range [0x%llx, +0x%llx)",
		        (unsigned long long)pool->hpa, (unsigned long long)size,
		        (unsigned long long)cfg->hv_base, (unsigned long long)cfg->hv_size);
}

uint32_t oracle_check_system(struct hx_oracle *o)
{
	struct contract_ctx c = {.o = o};
	o->index = UINT64_MAX;
	o->exit_violations = 0;
	check_counts(&c);
	check_pool(&c);
	check_layout(&c);
	o->stats.checks += 3;
	if (c.reports > CONTRACT_MAX_REPORTS)
		oracle_report(o, HV_INV_CONTAIN, "caller contract: %u more problems not reported",
		              c.reports - CONTRACT_MAX_REPORTS);
	return c.reports;
}

void oracle_check_caller(struct hx_oracle *o, const struct hv_system *sys)
{
	oracle_count(o);
	if (sys->cfg != o->cfg || sys->pool != o->pool)
		oracle_report(o, HV_INV_CONTAIN,
		              "caller contract (oracle.h): exit checked against another system "
		              "than the oracle was made for");
	else if (sys->pool->hpa != o->pool_hpa || sys->pool->npages != o->pool_npages ||
	         sys->pool->used > sys->pool->npages)
		oracle_report(o, HV_INV_EPT_OWN,
		              "caller contract (hv/pool.h): the EPT page pool moved or grew past "
		              "its capacity (hpa 0x%llx, %u of %u pages used)",
		              (unsigned long long)sys->pool->hpa, sys->pool->used,
		              sys->pool->npages);
}

const char *oracle_record_problem(const struct hx_oracle *o, const struct hv_exit *in, char *buf,
                                  size_t len)
{
	if (in->reason >= HV_EXIT_COUNT)
		snprintf(buf, len, "reason %u is not an exit reason", in->reason);
	else if (in->partition >= o->nparts)
		snprintf(buf, len, "partition %u, the system has %u", in->partition, o->nparts);
	else if (in->vcpu >= o->cfg->partitions[in->partition].nvcpus || in->vcpu >= HV_MAX_VCPUS)
		snprintf(buf, len, "vcpu %u, the partition has %u", in->vcpu,
		         o->cfg->partitions[in->partition].nvcpus);
	else if (in->insn_len > 15)
		snprintf(buf, len, "insn_len %u beyond the 15-byte maximum", in->insn_len);
	else if (in->st.cpl > 3)
		snprintf(buf, len, "cpl %u", in->st.cpl);
	else
		return NULL;
	return buf;
}
