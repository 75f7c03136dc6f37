/* EPT oracles: the full verifier (EPT-OWN/FORM/EXACT) and a mapping hash
 * that does not depend on page sizes, so "nothing changed" survives the
 * large-page splits memory-protect may do. */
#include <stdlib.h>

#include "hv/ept.h"
#include "oracle_internal.h"
#include "oracle_s2.h"

struct hash_walk {
	uint64_t skip_lo, skip_hi; /* [lo, hi) left out; lo == hi: nothing */
	struct hv_ept_run pending;
	bool have;
	uint64_t hash;
};

HX_NO_COVERAGE static void flush(struct hash_walk *w)
{
	if (!w->have)
		return;
	w->hash = oracle_mix(w->hash, w->pending.gpa);
	w->hash = oracle_mix(w->hash, w->pending.hpa);
	w->hash = oracle_mix(w->hash, w->pending.size);
	w->hash = oracle_mix(w->hash, (uint64_t)w->pending.perm << 8 | w->pending.memtype);
	w->have = false;
}

HX_NO_COVERAGE static void add_piece(struct hash_walk *w, uint64_t gpa, uint64_t hpa, uint64_t size,
                                     const struct hv_ept_run *run)
{
	struct hv_ept_run *p = &w->pending;
	if (w->have && p->gpa + p->size == gpa && p->hpa + p->size == hpa && p->perm == run->perm &&
	    p->memtype == run->memtype) {
		p->size += size;
		return;
	}
	flush(w);
	*p = (struct hv_ept_run){
	        .gpa = gpa, .hpa = hpa, .size = size, .perm = run->perm, .memtype = run->memtype};
	w->have = true;
}

HX_NO_COVERAGE static void on_run(void *ctx, const struct hv_ept_run *run)
{
	struct hash_walk *w = ctx;
	uint64_t lo = run->gpa, hi = run->gpa + run->size;
	if (w->skip_lo >= w->skip_hi || hi <= w->skip_lo || lo >= w->skip_hi) {
		add_piece(w, lo, run->hpa, run->size, run);
		return;
	}
	if (lo < w->skip_lo)
		add_piece(w, lo, run->hpa, w->skip_lo - lo, run);
	if (hi > w->skip_hi)
		add_piece(w, w->skip_hi, run->hpa + (w->skip_hi - lo), hi - w->skip_hi, run);
}

uint64_t oracle_ept_hash(const struct hv_system *sys, uint32_t p, uint64_t skip_gpa,
                         uint64_t skip_size)
{
	return oracle_ept_hash_pool(sys->pool, sys->parts[p].ept_root, skip_gpa, skip_size);
}

uint64_t oracle_ept_hash_pool(const struct hv_pool *pool, uint64_t root, uint64_t skip_gpa,
                              uint64_t skip_size)
{
	struct hash_walk w = {.skip_lo = skip_gpa,
	                      .skip_hi = skip_gpa + skip_size < skip_gpa ? UINT64_MAX
	                                                                 : skip_gpa + skip_size,
	                      .hash = 0xcbf29ce484222325ull};
	if (hv_ept_walk(pool, root, on_run, &w) != HV_OK)
		return 0;
	flush(&w);
	return w.hash ? w.hash : 1;
}

struct win_walk {
	const struct hv_pool *pool;
	bool npt; /* the root's format */
	uint64_t lo, hi;
	uint32_t tables;
	bool bad;
	struct hash_walk h;
};

/* The table at `level` translating [base, base + 512 slots): visit the
 * entries whose slot meets the window, as hv_ept_walk would (effective
 * permissions along the path, leaves without any left out, a table
 * pointer outside the pool makes the tree malformed). */
HX_NO_COVERAGE static void win_table(struct win_walk *w, const uint64_t *t, unsigned level,
                                     uint64_t base, uint8_t path)
{
	if (++w->tables > w->pool->used) {
		w->bad = true;
		return;
	}
	uint64_t slot = 1ull << (HV_PAGE_SHIFT + 9u * level);
	uint32_t i = w->lo > base ? (uint32_t)((w->lo - base) / slot) : 0;
	for (; i < 512u && !w->bad; i++) {
		uint64_t gpa = base + (uint64_t)i * slot;
		if (gpa >= w->hi)
			break;
		uint64_t e = t[i];
		if (!os2_present(w->npt, e))
			continue;
		uint8_t eff = path & os2_perm(w->npt, e);
		if (os2_leaf(e, level)) {
			if (eff == 0)
				continue;
			uint64_t lo = gpa > w->lo ? gpa : w->lo;
			uint64_t hi = gpa + slot < w->hi ? gpa + slot : w->hi;
			struct hv_ept_run run = {.gpa = lo,
			                         .hpa = os2_leaf_addr(e, level) + (lo - gpa),
			                         .size = hi - lo,
			                         .perm = eff,
			                         .memtype = os2_memtype(w->npt, e, level),
			                         .level = (uint8_t)level};
			on_run(&w->h, &run);
			continue;
		}
		const uint64_t *sub = hv_pool_ptr(w->pool, e & OS2_ADDR);
		if (!sub) {
			w->bad = true;
			return;
		}
		win_table(w, sub, level - 1, gpa, eff);
	}
}

uint64_t oracle_ept_window_hash(const struct hv_pool *pool, uint64_t root, uint64_t lo, uint64_t hi,
                                uint64_t skip_gpa, uint64_t skip_size)
{
	struct win_walk w = {.pool = pool,
	                     .npt = os2_root_npt(root),
	                     .lo = lo,
	                     .hi = hi,
	                     .h = {.skip_lo = skip_gpa,
	                           .skip_hi = skip_gpa + skip_size < skip_gpa
	                                              ? UINT64_MAX
	                                              : skip_gpa + skip_size,
	                           .hash = 0xcbf29ce484222325ull}};
	const uint64_t *pml4 = hv_pool_ptr(pool, os2_root_addr(root));
	if (!pml4)
		return 0;
	win_table(&w, pml4, 3, 0, HV_PERM_RWX);
	if (w.bad)
		return 0;
	flush(&w.h);
	return w.h.hash ? w.h.hash : 1;
}

static void on_violation(void *ctx, const struct hv_violation *v)
{
	struct hx_oracle *o = ctx;
	/* The one-partition view shows partition vpart as its partition 0. */
	uint32_t part = o->vone ? o->vpart : v->partition;
	if (part < o->nparts)
		o->vcount[part]++;
	oracle_report(o, v->inv, "partition %u gpa 0x%llx -> hpa 0x%llx: %s (entry 0x%llx)", part,
	              (unsigned long long)v->gpa, (unsigned long long)v->hpa,
	              hv_verify_reason_str(v->reason), (unsigned long long)v->entry);
}

/* Table bitmap sized for the pool, so any pool the core can use is
 * verified, not only those hv_ept_verify's stack can track. */
static void size_seen(struct hx_oracle *o, const struct hv_system *sys)
{
	uint64_t words = HV_VERIFY_SEEN_WORDS(sys->pool->npages);
	if (words > o->vseen_words) {
		free(o->vseen);
		o->vseen = calloc(words, sizeof(*o->vseen));
		o->vseen_words = o->vseen ? (uint32_t)words : 0;
	}
}

uint32_t oracle_ept_verify(struct hx_oracle *o, const struct hv_system *sys, bool report)
{
	for (uint32_t i = 0; i < o->nparts; i++) {
		o->vparts[i] = (struct hv_verify_part){.root = sys->parts[i].ept_root,
		                                       .protected_ = sys->parts[i].protected_ != 0};
		o->vcount[i] = 0;
	}
	o->stats.checks += 3; /* EPT-OWN, EPT-FORM, EPT-EXACT */
	size_seen(o, sys);
	o->vone = false;
	uint32_t n = hv_ept_verify_ex(o->cfg, sys->pool, o->vparts, report ? on_violation : NULL, o,
	                              ORACLE_MAX_REPORT, o->vseen, o->vseen_words);
	if (report && n > ORACLE_MAX_REPORT)
		oracle_report(o, HV_INV_EPT_EXACT, "%u more EPT violations not listed",
		              n - ORACLE_MAX_REPORT);
	return n;
}

uint32_t oracle_ept_verify_one(struct hx_oracle *o, const struct hv_system *sys, uint32_t p,
                               bool report, uint32_t budget)
{
	/* What hv_ept_verify checks of a partition depends on the config only
	 * through that partition's entry, the channels and the host and
	 * hypervisor ranges: the view holds those and nothing else. */
	o->vcfg->partitions[0] = o->cfg->partitions[p];
	o->vpart = p;
	o->vone = true;
	o->vcount[p] = 0;
	struct hv_verify_part part = {.root = sys->parts[p].ept_root,
	                              .protected_ = sys->parts[p].protected_ != 0};
	size_seen(o, sys);
	uint32_t n = hv_ept_verify_ex(o->vcfg, sys->pool, &part, report ? on_violation : NULL, o,
	                              budget, o->vseen, o->vseen_words);
	o->vone = false;
	o->vcount[p] = n; /* all of them, listed or not */
	return n;
}
