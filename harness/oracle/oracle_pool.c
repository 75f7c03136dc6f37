/* The oracle's picture of the system, and EPT verification that costs
 * what an exit changed.
 *
 * Every EPT write of the core lands in the pool's pages in use (table
 * pages are written through hv_pool_ptr, new ones come from hv_pool_alloc,
 * hv_pool_release_to zeroes what it gives back), and the verifier's verdict
 * on a partition is a function of the config, the pool's place and used
 * count, the partition's root and protected_ flag and the bytes of the
 * table pages its root reaches. So:
 *  - the oracle keeps a copy (the shadow) of the pool pages in use and of
 *    every partition's struct hv_partition, taken when the oracle is made,
 *    reset, synced or verifies everything, and brought up to date after
 *    each exit. An exit then costs one memcmp of the pages in use and one
 *    of the partition array, no copy; whatever differs afterwards is what
 *    the exit changed, byte for byte, whatever the pool size;
 *  - an owner map says which partition's tables reach each pool page. The
 *    partitions whose verdict may have moved are the owners of changed
 *    pages and those whose root or protected_ flag changed; only those
 *    (and those not known clean) are verified again, one at a time
 *    through a one-partition view of the config. hv_ept_verify's verdict
 *    on a partition does not depend on the others except through tables
 *    shared between partitions: the owner walk finds any such page (a
 *    page reached from a second partition), and then the full verifier
 *    over every partition runs instead, exactly as before;
 *  - a full verification that would see the same tables as the checks so
 *    far (every partition verified clean in its current state, no table
 *    shared) cannot find anything, and is counted but not run.
 * Changes made outside exits (a harness restoring a snapshot) must be
 * announced with hx_oracle_reset or hx_oracle_sync; one that is not is
 * reported against the next exit: the oracle fails closed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan_build.h"
#include "hv/ept.h"
#include "oracle_internal.h"
#include "oracle_s2.h"

#define EPT_ENTRIES 512u
#define EPT_TOP_LEVEL 3u

/* Pages of the pool the picture covers: the pool's count, bounded by the
 * capacity the oracle was made for (a pool past it is a caller-contract
 * violation, reported by oracle_check_caller). */
static uint32_t pool_used(const struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t used = sys->pool->used;
	return used < o->pool_npages ? used : o->pool_npages;
}

/* The full verifier is the only judge when the system is not the one the
 * oracle was made for. */
static bool same_pool(const struct hx_oracle *o, const struct hv_system *sys)
{
	return sys->pool == o->pool && sys->pool->hpa == o->pool_hpa &&
	       sys->pool->npages == o->pool_npages && sys->pool->used <= o->pool_npages;
}

/* Room for `pages` pages in the shadow. Out of memory there ends the
 * process: an oracle without its picture could neither check nor stay
 * quiet, and the shadow is never larger than the pool itself. */
static void shadow_reserve(struct hx_oracle *o, uint32_t pages)
{
	if (pages <= o->shadow_cap)
		return;
	uint64_t cap = (uint64_t)o->shadow_cap * 2;
	if (cap < pages)
		cap = pages;
	if (cap > o->pool_npages)
		cap = o->pool_npages;
	uint8_t *m = realloc(o->shadow, (size_t)cap * HV_PAGE_SIZE);
	if (!m) {
		fprintf(stderr, "hx oracle: out of memory for a copy of %u pool pages\n", pages);
		abort();
	}
	o->shadow = m;
	o->shadow_cap = (uint32_t)cap;
}

static void rebuild_map(struct hx_oracle *o, const struct hv_system *sys);

/* Nothing known of any verdict; the owner map is made again from the
 * system as it is, so the next exit can still be judged per partition. */
static void forget_verdicts(struct hx_oracle *o, const struct hv_system *sys)
{
	memset(o->vstate, ORACLE_V_UNKNOWN, o->nparts);
	rebuild_map(o, sys);
}

/* Take the whole system as the picture. */
static void take_all(struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t used = pool_used(o, sys);
	shadow_reserve(o, used);
	if (used)
		memcpy(o->shadow, sys->pool->mem, (size_t)used * HV_PAGE_SIZE);
	o->shadow_used = used;
	memcpy(o->parts_before, sys->parts, o->nparts * sizeof(*o->parts_before));
	o->nchanged = 0;
	o->tables_changed = false;
	o->parts_changed = false;
}

/* The verifier's view is a whole struct hv_system_config, about 280 KB:
 * large enough that the allocator (ASan's included) maps it afresh and
 * unmaps it on free, a page fault for each page touched. The exit target
 * makes an oracle for every world it builds, thousands in a minute, so
 * the view of a freed oracle is kept for the next one (per thread). It
 * needs no clearing: init copies in everything the view holds but
 * partition 0, which each verification fills. */
static _Thread_local struct hv_system_config *spare_vcfg;

static struct hv_system_config *view_new(void)
{
	struct hv_system_config *v = spare_vcfg;
	spare_vcfg = NULL;
	return v ? v : malloc(sizeof(*v));
}

static void view_free(struct hv_system_config *v)
{
	if (!spare_vcfg)
		spare_vcfg = v;
	else
		free(v);
}

bool oracle_pool_init(struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t np = o->pool_npages ? o->pool_npages : 1;
	uint32_t nparts = o->nparts ? o->nparts : 1;
	o->changed = calloc(np, sizeof(*o->changed));
	o->owner = malloc(np);
	o->plevel = malloc(np);
	o->pbase = malloc((size_t)np * sizeof(*o->pbase));
	o->vdangling = calloc(nparts, sizeof(*o->vdangling));
	o->vstate = calloc(nparts, 1);
	o->vroot = calloc(nparts, sizeof(*o->vroot));
	o->vprot = calloc(nparts, sizeof(*o->vprot));
	o->vcount = calloc(nparts, sizeof(*o->vcount));
	o->vcfg = view_new();
	o->watch.seen = calloc((np + 63) / 64, sizeof(*o->watch.seen));
	o->watch.pages = malloc((size_t)np * sizeof(*o->watch.pages));
	o->watch.written = calloc((np + 63) / 64, sizeof(*o->watch.written));
	o->watch.wpages = malloc((size_t)np * sizeof(*o->watch.wpages));
	o->touched = malloc((size_t)np * sizeof(*o->touched));
	o->touched_bits = calloc((np + 63) / 64, sizeof(*o->touched_bits));
	if (!o->changed || !o->owner || !o->plevel || !o->pbase || !o->vdangling || !o->vstate ||
	    !o->vroot || !o->vprot || !o->vcount || !o->vcfg || !o->watch.seen || !o->watch.pages ||
	    !o->watch.written || !o->watch.wpages || !o->touched || !o->touched_bits)
		return false;
	memset(o->owner, ORACLE_OWNER_NONE, np);
	/* The view: everything but the partitions (its partition 0 is filled
	 * per verification). Not a copy of the whole config: 64 partition
	 * entries are most of its 272 KiB, and an oracle is made per replay. */
	memcpy(o->vcfg, o->cfg, offsetof(struct hv_system_config, partitions));
	memcpy(o->vcfg->channels, o->cfg->channels, sizeof(o->vcfg->channels));
	o->vcfg->npartitions = 1;
	forget_verdicts(o, sys);
	take_all(o, sys);
	return true;
}

void oracle_pool_free(struct hx_oracle *o)
{
	oracle_watch_stop(o);
	free(o->watch.seen);
	free(o->watch.pages);
	free(o->watch.written);
	free(o->watch.wpages);
	free(o->touched);
	free(o->touched_bits);
	free(o->shadow);
	free(o->changed);
	free(o->owner);
	free(o->plevel);
	free(o->pbase);
	free(o->vdangling);
	free(o->vstate);
	free(o->vroot);
	free(o->vprot);
	free(o->vcount);
	view_free(o->vcfg);
}

/* The exit's pages in index order, as the full compare lists them (the
 * first foreign page found is the one reported). */
static void sort_pages(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* What differs from the picture: among the n `pages` (any order) or, when
 * pages is NULL, among every page in use; then every page handed out or
 * given back, and whether any partition's state changed. */
HX_NO_COVERAGE_LOOP static void diff_pages(struct hx_oracle *o, const struct hv_system *sys,
                                           const uint32_t *pages, uint32_t n)
{
	uint32_t used = pool_used(o, sys);
	uint32_t common = used < o->shadow_used ? used : o->shadow_used;
	uint32_t top = used > o->shadow_used ? used : o->shadow_used;
	const uint8_t *mem = sys->pool->mem;
	o->nchanged = 0;
	if (pages) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t pg = pages[i];
			if (pg < common &&
			    memcmp(mem + (size_t)pg * HV_PAGE_SIZE,
			           o->shadow + (size_t)pg * HV_PAGE_SIZE, HV_PAGE_SIZE) != 0)
				o->changed[o->nchanged++] = pg;
		}
		sort_pages(o->changed, o->nchanged);
	} else if (common && memcmp(mem, o->shadow, (size_t)common * HV_PAGE_SIZE) != 0) {
		/* One memcmp over everything in use; page by page only when
		 * it differs, to know which pages. */
		for (uint32_t pg = 0; pg < common; pg++)
			if (memcmp(mem + (size_t)pg * HV_PAGE_SIZE,
			           o->shadow + (size_t)pg * HV_PAGE_SIZE, HV_PAGE_SIZE) != 0)
				o->changed[o->nchanged++] = pg;
	}
	/* Handed out or given back during the exit. */
	for (uint32_t pg = common; pg < top; pg++)
		o->changed[o->nchanged++] = pg;
	o->tables_changed = o->nchanged != 0;
	o->parts_changed =
	        memcmp(sys->parts, o->parts_before, o->nparts * sizeof(*o->parts_before)) != 0;
}

void oracle_pool_diff(struct hx_oracle *o, const struct hv_system *sys)
{
	diff_pages(o, sys, NULL, 0);
}

/* ---- the pool watch (hx_oracle_watch_pool) ---- */

/* What makes the watch as strict as the full compare: during an exit the
 * pool pages in use are poisoned for AddressSanitizer, and a page is
 * unpoisoned only when the core reaches it through the pool's functions
 * (hv_pool_watch.reached). A read or write of any other pool page by the
 * core (a stray pointer, an index past a table's end) is then an ASan
 * report at the very instruction, where the full compare would have found
 * the write after the exit: the oracle names it a CONTAIN violation. So
 * the watch exists only in ASan builds (the fuzzers'); elsewhere
 * hx_oracle_watch_pool keeps the full compare. */
#ifdef HX_ASAN
static void on_reached(struct hv_pool_watch *w, uint32_t pg)
{
	ASAN_UNPOISON_MEMORY_REGION(w->pool->mem + (size_t)pg * HV_PAGE_SIZE, HV_PAGE_SIZE);
}

/* Called by ASan at the end of any report, before it ends the process:
 * name the invariant when the access was to a poisoned pool page. Nothing
 * here allocates (ASan is in the middle of its report). */
static void on_asan_report(const char *report)
{
	(void)report;
	const struct hv_pool_watch *w = hv_pool_watch;
	const uint8_t *a = __asan_get_report_address();
	if (!w || !w->pool || !a || a < w->pool->mem ||
	    a >= w->pool->mem + (size_t)w->pool->npages * HV_PAGE_SIZE)
		return;
	char line[256];
	int n = snprintf(line, sizeof(line),
	                 "hx oracle: invariant CONTAIN violated: the core %s pool page %zu, which "
	                 "it did not reach through hv_pool_ptr/alloc/release during this exit "
	                 "(hv/pool.h)\n",
	                 __asan_get_report_access_type() ? "wrote" : "read",
	                 (size_t)(a - w->pool->mem) >> HV_PAGE_SHIFT);
	if (n > 0)
		(void)!fwrite(line, 1, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
		              stderr);
}
#endif

void hx_oracle_watch_pool(struct hx_oracle *o, bool on)
{
#ifdef HX_ASAN
	static bool hooked;
	if (on && !hooked) {
		__asan_set_error_report_callback(on_asan_report);
		hooked = true;
	}
	o->watch.reached = on_reached;
	o->watching = on;
#else
	(void)on;
	o->watching = false;
#endif
	if (!o->watching)
		oracle_watch_stop(o);
}

bool hx_oracle_pool_watched(const struct hx_oracle *o)
{
	return o->watching;
}

/* Empty a set of pages kept as a bitmap and a list of its members: only
 * the words of listed pages hold bits. */
static void clear_listed(uint64_t *bits, const uint32_t *list, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		bits[list[i] >> 6] = 0;
}

void oracle_watch_arm(struct hx_oracle *o, const struct hv_system *sys)
{
	struct hv_pool_watch *w = &o->watch;
	oracle_watch_stop(o);
	clear_listed(w->seen, w->pages, w->npages);
	clear_listed(w->written, w->wpages, w->nwpages);
	w->npages = 0;
	w->nwpages = 0;
	w->pool = sys->pool;
	o->watch_armed = o->watching && same_pool(o, sys);
	if (!o->watch_armed)
		return;
	o->watch_poisoned = sys->pool->used;
	o->watch_mem = sys->pool->mem;
	ASAN_POISON_MEMORY_REGION(o->watch_mem, (size_t)o->watch_poisoned * HV_PAGE_SIZE);
	hv_pool_watch = w;
}

void oracle_watch_stop(struct hx_oracle *o)
{
	/* Armed and still ours: the watch saw the whole exit. Someone else's
	 * watch installed meanwhile means it did not. */
	o->watch_armed = o->watch_armed && hv_pool_watch == &o->watch;
	if (hv_pool_watch == &o->watch)
		hv_pool_watch = NULL;
	if (o->watch_poisoned)
		ASAN_UNPOISON_MEMORY_REGION(o->watch_mem, (size_t)o->watch_poisoned * HV_PAGE_SIZE);
	o->watch_poisoned = 0;
}

void oracle_pool_diff_exit(struct hx_oracle *o, const struct hv_system *sys)
{
	const struct hv_pool_watch *w = &o->watch;
	bool watched = o->watch_armed && same_pool(o, sys);
	o->watch_armed = false;
	/* The pages the core reached for writing: one it only read (through
	 * hv_pool_ptr_ro) and changed all the same is found by the whole
	 * compare at the end of the run (hx_oracle_verify_all). */
	diff_pages(o, sys, watched ? w->wpages : NULL, watched ? w->nwpages : 0);
}

/* Bring the picture up to date: the changed pages and partitions only. */
static void commit(struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t used = pool_used(o, sys);
	if (o->tables_changed) {
		shadow_reserve(o, used);
		for (uint32_t i = 0; i < o->nchanged; i++) {
			uint32_t pg = o->changed[i];
			if (pg < used)
				memcpy(o->shadow + (size_t)pg * HV_PAGE_SIZE,
				       sys->pool->mem + (size_t)pg * HV_PAGE_SIZE, HV_PAGE_SIZE);
			uint64_t bit = 1ull << (pg & 63);
			if (pg < o->pool_npages && !(o->touched_bits[pg >> 6] & bit)) {
				o->touched_bits[pg >> 6] |= bit;
				o->touched[o->ntouched++] = pg;
			}
		}
		o->shadow_used = used;
	}
	if (o->parts_changed)
		for (uint32_t q = 0; q < o->nparts; q++)
			if (memcmp(&o->parts_before[q], &sys->parts[q], sizeof(sys->parts[q])))
				o->parts_before[q] = sys->parts[q];
	o->nchanged = 0;
	o->tables_changed = false;
	o->parts_changed = false;
}

/* ---- owner map ---- */

static bool root_moved(const struct hx_oracle *o, const struct hv_system *sys, uint32_t q)
{
	return sys->parts[q].ept_root != o->vroot[q] ||
	       (sys->parts[q].protected_ != 0) != (o->vprot[q] != 0);
}

/* Mark the tables reachable from table `hpa` at `level` as partition q's,
 * following entries as hv_ept_verify does (present, not a leaf, inside
 * the pages handed out). A page reached twice within q is the verifier's
 * to report; false when a page is another partition's. Every page is
 * entered once per partition: bounded by the pool. */
HX_NO_COVERAGE static bool own_table(struct hx_oracle *o, const struct hv_pool *pool, uint32_t q,
                                     bool npt, uint64_t hpa, unsigned level, uint64_t base)
{
	const uint64_t *t = hv_pool_ptr(pool, hpa);
	if (!t) {
		o->vdangling[q] = true;
		return true;
	}
	uint64_t pg = (hpa - pool->hpa) >> HV_PAGE_SHIFT;
	if (pg >= o->pool_npages)
		return true;
	if (o->owner[pg] == q) {
		o->plevel[pg] = ORACLE_LEVEL_AMBIGUOUS;
		return true;
	}
	if (o->owner[pg] != ORACLE_OWNER_NONE) {
		o->owner[pg] = ORACLE_OWNER_SHARED;
		return false;
	}
	o->owner[pg] = (uint8_t)q;
	o->plevel[pg] = (uint8_t)level;
	o->pbase[pg] = base;
	if (level == 0)
		return true;
	uint64_t slot = 1ull << (HV_PAGE_SHIFT + 9u * level);
	for (uint32_t i = 0; i < EPT_ENTRIES; i++) {
		/* Upper-level tables are mostly empty: eight zero entries (not
		 * present in either format) are skipped at once. */
		if ((i & 7) == 0 && (t[i] | t[i + 1] | t[i + 2] | t[i + 3] | t[i + 4] | t[i + 5] |
		                     t[i + 6] | t[i + 7]) == 0) {
			i += 7;
			continue;
		}
		uint64_t e = t[i];
		if (!os2_present(npt, e) || os2_leaf(e, level))
			continue;
		if (!own_table(o, pool, q, npt, e & OS2_ADDR, level - 1, base + (uint64_t)i * slot))
			return false;
	}
	return true;
}

static bool own_partition(struct hx_oracle *o, const struct hv_system *sys, uint32_t q)
{
	uint64_t root = sys->parts[q].ept_root;
	o->vroot[q] = root;
	o->vprot[q] = sys->parts[q].protected_ != 0;
	o->vdangling[q] = false;
	uint64_t addr = os2_root_addr(root);
	if (addr == UINT64_MAX) {
		o->vdangling[q] = true;
		return true; /* the verifier refuses it without following */
	}
	return own_table(o, sys->pool, q, os2_root_npt(root), addr, EPT_TOP_LEVEL, 0);
}

/* Walk the partitions of `set` again (their old marks dropped). false:
 * a table is shared between partitions, the map is given up. */
HX_NO_COVERAGE_LOOP static bool rewalk(struct hx_oracle *o, const struct hv_system *sys,
                                       uint64_t set)
{
	for (uint32_t pg = 0; pg < o->pool_npages; pg++) {
		uint8_t w = o->owner[pg];
		if (w < HV_MAX_PARTITIONS && (set >> w & 1))
			o->owner[pg] = ORACLE_OWNER_NONE;
	}
	for (uint32_t q = 0; q < o->nparts; q++)
		if ((set >> q & 1) && !own_partition(o, sys, q)) {
			o->owner_shared = true;
			return false;
		}
	return true;
}

/* Partitions whose verdict may differ from the one remembered: owners of
 * the changed pages, those whose root or protected_ flag moved, those not
 * known clean. false when only the full verifier can tell. */
static bool affected(const struct hx_oracle *o, const struct hv_system *sys, uint64_t *set)
{
	*set = 0;
	if (!o->owner_valid || o->owner_shared || !same_pool(o, sys))
		return false;
	for (uint32_t i = 0; i < o->nchanged; i++) {
		uint8_t w = o->owner[o->changed[i]];
		if (w == ORACLE_OWNER_SHARED)
			return false;
		if (w < HV_MAX_PARTITIONS)
			*set |= 1ull << w;
	}
	for (uint32_t q = 0; q < o->nparts; q++)
		if (root_moved(o, sys, q) || o->vstate[q] != ORACLE_V_CLEAN)
			*set |= 1ull << q;
	return true;
}

static bool ept_inputs_changed(const struct hx_oracle *o, const struct hv_system *sys)
{
	if (o->tables_changed)
		return true;
	for (uint32_t q = 0; q < o->nparts; q++)
		if (sys->parts[q].ept_root != o->parts_before[q].ept_root ||
		    (sys->parts[q].protected_ != 0) != (o->parts_before[q].protected_ != 0) ||
		    (o->owner_valid && root_moved(o, sys, q)))
			return true;
	return false;
}

static void rebuild_map(struct hx_oracle *o, const struct hv_system *sys)
{
	memset(o->owner, ORACLE_OWNER_NONE, o->pool_npages);
	o->owner_valid = same_pool(o, sys);
	o->owner_shared = false;
	if (o->owner_valid)
		for (uint32_t q = 0; q < o->nparts; q++)
			if (!own_partition(o, sys, q)) {
				o->owner_shared = true;
				break;
			}
}

void oracle_full_verified(struct hx_oracle *o, const struct hv_system *sys, bool listed_all)
{
	for (uint32_t q = 0; q < o->nparts; q++)
		o->vstate[q] = o->vcount[q] ? ORACLE_V_DIRTY
		               : listed_all ? ORACLE_V_CLEAN
		                            : ORACLE_V_UNKNOWN;
	rebuild_map(o, sys);
}

uint32_t oracle_foreign_change(const struct hx_oracle *o, uint32_t p, uint32_t *pg)
{
	if (!o->owner_valid || o->owner_shared)
		return ORACLE_OWNER_NONE;
	for (uint32_t i = 0; i < o->nchanged; i++) {
		uint8_t w = o->owner[o->changed[i]];
		if (w < HV_MAX_PARTITIONS && w != p) {
			*pg = o->changed[i];
			return w;
		}
	}
	return ORACLE_OWNER_NONE;
}

/* Does the exit's tree still reach page pg where the owner map placed it
 * (same level, same first GPA)? Then an entry of pg that did not change
 * translates as before, down to changed pages below it. */
HX_NO_COVERAGE_LOOP static bool on_new_path(const struct hx_oracle *o, const struct hv_pool *pool,
                                            uint64_t root, uint32_t pg)
{
	uint64_t hpa = os2_root_addr(root);
	bool npt = os2_root_npt(root);
	for (unsigned level = EPT_TOP_LEVEL; level > o->plevel[pg]; level--) {
		const uint64_t *t = hv_pool_ptr(pool, hpa);
		if (!t)
			return false;
		uint64_t e = t[(o->pbase[pg] >> (HV_PAGE_SHIFT + 9u * level)) & (EPT_ENTRIES - 1)];
		if (!os2_present(npt, e) || os2_leaf(e, level))
			return false;
		hpa = e & OS2_ADDR;
	}
	return hpa == o->pool_hpa + ((uint64_t)pg << HV_PAGE_SHIFT);
}

HX_NO_COVERAGE bool oracle_protect_outside(const struct hx_oracle *o, const struct hv_system *sys,
                                           uint32_t p, uint64_t gpa, uint64_t size)
{
	struct hv_pool old = {.mem = o->shadow,
	                      .hpa = sys->pool->hpa,
	                      .npages = sys->pool->npages,
	                      .used = o->shadow_used};
	uint64_t root = sys->parts[p].ept_root, old_root = o->parts_before[p].ept_root;
	bool windows = o->owner_valid && !o->owner_shared && !o->vdangling[p] && root == old_root &&
	               same_pool(o, sys);
	for (uint32_t i = 0; windows && i < o->nchanged; i++) {
		uint32_t pg = o->changed[i];
		if (o->owner[pg] == p && o->plevel[pg] == ORACLE_LEVEL_AMBIGUOUS)
			windows = false;
	}
	if (!windows)
		return oracle_ept_hash_pool(sys->pool, root, gpa, size) !=
		       oracle_ept_hash_pool(&old, old_root, gpa, size);
	/* Pages of no partition are new or unreachable: they matter only
	 * through a changed entry that points to them, whose slot holds them.
	 * Pages of other partitions are reported on their own. */
	uint64_t skip_hi = gpa + size < gpa ? UINT64_MAX : gpa + size;
	for (uint32_t i = 0; i < o->nchanged; i++) {
		uint32_t pg = o->changed[i];
		if (o->owner[pg] != p)
			continue;
		unsigned level = o->plevel[pg];
		uint64_t base = o->pbase[pg];
		uint64_t slot = 1ull << (HV_PAGE_SHIFT + 9u * level);
		bool whole = !on_new_path(o, sys->pool, root, pg);
		const uint64_t *was = (const uint64_t *)(o->shadow + (size_t)pg * HV_PAGE_SIZE);
		const uint64_t *now =
		        (const uint64_t *)(sys->pool->mem + (size_t)pg * HV_PAGE_SIZE);
		for (uint32_t k = 0; k < EPT_ENTRIES; k++) {
			uint64_t lo = base + (whole ? 0 : (uint64_t)k * slot);
			uint64_t hi = lo + (whole ? slot * EPT_ENTRIES : slot);
			if (!whole && (was[k] == now[k] || (lo >= gpa && hi <= skip_hi)))
				continue;
			if (oracle_ept_window_hash(sys->pool, root, lo, hi, gpa, size) !=
			    oracle_ept_window_hash(&old, old_root, lo, hi, gpa, size))
				return true;
			if (whole)
				break;
		}
	}
	return false;
}

/* Verify the partitions whose verdict may have moved, reporting like
 * hx_oracle_verify_all: the partitions of `set` in index order, one
 * budget of ORACLE_MAX_REPORT listed violations, then how many more. */
static void verify_set(struct hx_oracle *o, const struct hv_system *sys, uint64_t set)
{
	uint32_t budget = ORACLE_MAX_REPORT, total = 0;
	o->stats.checks += 3; /* EPT-OWN, EPT-FORM, EPT-EXACT */
	for (uint32_t q = 0; q < o->nparts; q++) {
		if (!(set >> q & 1))
			continue;
		uint32_t n = oracle_ept_verify_one(o, sys, q, true, budget);
		budget -= n < budget ? n : budget;
		total += n;
		o->vstate[q] = n ? ORACLE_V_DIRTY : ORACLE_V_CLEAN;
	}
	if (total > ORACLE_MAX_REPORT)
		oracle_report(o, HV_INV_EPT_EXACT, "%u more EPT violations not listed",
		              total - ORACLE_MAX_REPORT);
}

static void verify_full(struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t n = oracle_ept_verify(o, sys, true);
	oracle_full_verified(o, sys, n <= ORACLE_MAX_REPORT);
}

static bool any_unknown(const struct hx_oracle *o)
{
	for (uint32_t q = 0; q < o->nparts; q++)
		if (o->vstate[q] == ORACLE_V_UNKNOWN)
			return true;
	return false;
}

void oracle_ept_after(struct hx_oracle *o, const struct hv_system *sys, bool vmcall)
{
	/* Hypercalls have always been followed by a verification: one whose
	 * tables were never judged (a system handed over with broken tables)
	 * is judged at the first one, whether or not it changed anything. */
	if (ept_inputs_changed(o, sys) || (vmcall && any_unknown(o))) {
		uint64_t set;
		if (affected(o, sys, &set) && rewalk(o, sys, set))
			verify_set(o, sys, set);
		else
			verify_full(o, sys);
	} else {
		/* The verifier is a function of the tables, roots and flags:
		 * byte for byte what the last check saw, same verdict. */
		o->stats.checks += 3;
	}
	commit(o, sys);
}

/* The picture is now the system as it is: nothing touched since. */
static void untouch_all(struct hx_oracle *o)
{
	clear_listed(o->touched_bits, o->touched, o->ntouched);
	o->ntouched = 0;
}

/* oracle_sync after the compare. */
static void sync_diffed(struct hx_oracle *o, const struct hv_system *sys)
{
	if (ept_inputs_changed(o, sys)) {
		/* Nothing is reported here: the partitions the change touched
		 * are only no longer known clean, and the next verification
		 * judges them. */
		uint64_t set;
		if (affected(o, sys, &set) && rewalk(o, sys, set)) {
			for (uint32_t q = 0; q < o->nparts; q++)
				if (set >> q & 1)
					o->vstate[q] = ORACLE_V_UNKNOWN;
		} else {
			forget_verdicts(o, sys);
		}
	}
	commit(o, sys);
}

void oracle_sync(struct hx_oracle *o, const struct hv_system *sys)
{
	oracle_pool_diff(o, sys);
	sync_diffed(o, sys);
	untouch_all(o);
}

void oracle_sync_restored(struct hx_oracle *o, const struct hv_system *sys)
{
	diff_pages(o, sys, o->touched, o->ntouched);
	sync_diffed(o, sys);
	untouch_all(o);
}

bool oracle_verified_clean(const struct hx_oracle *o, const struct hv_system *sys)
{
	if (!o->owner_valid || o->owner_shared || !same_pool(o, sys))
		return false;
	for (uint32_t q = 0; q < o->nparts; q++)
		if (o->vstate[q] != ORACLE_V_CLEAN || root_moved(o, sys, q))
			return false;
	return true;
}

/* hx_oracle_verify_all: the partitions not known clean, or all of them
 * with the full verifier when the map cannot tell. */
uint32_t oracle_verify_all(struct hx_oracle *o, const struct hv_system *sys)
{
	uint32_t before = o->exit_violations;
	oracle_pool_diff(o, sys);
	if (o->watching && o->nchanged) {
		/* Every exit compared the pages it reached for writing; these
		 * differ from the picture all the same. The partitions whose
		 * tables they are are no longer known clean and are verified
		 * below. */
		oracle_count(o);
		oracle_report(o, HV_INV_CONTAIN,
		              "pool page %u%s changed where no exit reached it for writing "
		              "through hv_pool_ptr/alloc/release (a write through a stray or "
		              "read-only pointer, or a change between exits not announced with "
		              "hx_oracle_sync)",
		              o->changed[0], o->nchanged > 1 ? " and others" : "");
	}
	sync_diffed(o, sys);
	uint64_t set;
	if (oracle_verified_clean(o, sys)) {
		o->stats.checks += 3;
		return o->exit_violations - before;
	}
	if (affected(o, sys, &set) && rewalk(o, sys, set))
		verify_set(o, sys, set);
	else
		verify_full(o, sys);
	return o->exit_violations - before;
}
