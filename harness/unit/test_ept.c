/* Second-stage builder, translate, protect and walk (handlers/src/ept.c).
 * Table-driven: leaf sizes at alignment edges and 1G/2M boundaries, the
 * largest region, argument checks, overlaps, pool exhaustion at every step
 * (the tables and the pool must be exactly as before), protect splitting
 * and its roll-back, translate of unmapped GPAs, malformed tables.
 *
 * Every test runs twice, once on Intel EPT and once on AMD nested page
 * tables (groups "ept" and "npt"): the builder is one, so are its tests.
 * Where the formats differ (raw entry bits, NPT having no write-only or
 * execute-only pages) the test says what each format must do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/ept.h"
#include "mock_config.h"

#define POOL_HPA (2ull << 20)
#define G1 HV_SIZE_1G
#define M2 HV_SIZE_2M
#define K4 HV_PAGE_SIZE

/* The format under test, set by the group's setup. */
static enum hv_s2_format g_fmt;

static int setup_ept(void **state)
{
	(void)state;
	g_fmt = HV_S2_EPT;
	return 0;
}

static int setup_npt(void **state)
{
	(void)state;
	g_fmt = HV_S2_NPT;
	return 0;
}

/* An empty root of the format under test: map_range allocates the table. */
#define ROOT0 (g_fmt == HV_S2_NPT ? HV_S2_ROOT_NPT : 0ull)

/* Permissions NPT can express (APM Vol. 2, 15.25.5 and 5.6): a present
 * entry is readable, so not present, R, RW, RX or RWX. Written here from
 * the manual rather than taken from hv/s2_entry.h. */
static bool npt_expressible(uint8_t perm)
{
	return perm == 0 || (perm & HV_PERM_R) != 0;
}

/* The status map_range / protect must return for perm in the format under
 * test, when on EPT it would be `ept`. */
static hv_status expect_for_perm(uint8_t perm, hv_status ept)
{
	if (g_fmt == HV_S2_NPT && (perm & ~HV_PERM_RWX) == 0 && !npt_expressible(perm))
		return HV_ERR_INVAL;
	return ept;
}

/* Set the permissions of a table entry by hand, in the format's bits:
 * EPT bits 2:0; NPT P, R/W and NX (a non-leaf NPT entry with NX set takes
 * execute away from everything below, APM 5.6). */
static uint64_t with_perm(uint64_t e, uint8_t perm)
{
	if (g_fmt == HV_S2_EPT)
		return (e & ~7ull) | perm;
	e &= ~(HV_S2_NPT_RW | HV_S2_NPT_NX);
	if (perm & HV_PERM_W)
		e |= HV_S2_NPT_RW;
	if (!(perm & HV_PERM_X))
		e |= HV_S2_NPT_NX;
	return e;
}

static uint8_t perm_of(uint64_t e)
{
	if (g_fmt == HV_S2_EPT)
		return (uint8_t)(e & 7);
	if (!(e & HV_S2_NPT_P))
		return 0;
	return (uint8_t)(HV_PERM_R | ((e & HV_S2_NPT_RW) ? HV_PERM_W : 0) |
	                 ((e & HV_S2_NPT_NX) ? 0 : HV_PERM_X));
}

static hv_status build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t p,
                       uint64_t *root)
{
	if (g_fmt == HV_S2_EPT)
		return hv_ept_build(pool, cfg, p, root);
	return hv_s2_build(pool, cfg, p, g_fmt, root);
}

/* ---- helpers -------------------------------------------------------------- */

struct tpool {
	uint8_t *mem;
	uint32_t cap; /* pages allocated for mem */
	struct hv_pool pool;
};

static void tpool_init(struct tpool *t, uint32_t pages)
{
	t->cap = pages;
	t->mem = aligned_alloc(HV_PAGE_SIZE, (size_t)pages * HV_PAGE_SIZE);
	assert_non_null(t->mem);
	memset(t->mem, 0, (size_t)pages * HV_PAGE_SIZE);
	assert_int_equal(hv_pool_init(&t->pool, t->mem, POOL_HPA, pages), HV_OK);
}

static void tpool_free(struct tpool *t)
{
	free(t->mem);
	t->mem = NULL;
}

/* A copy of the whole pool memory and its counter, to prove "unchanged". */
struct snap {
	uint8_t *mem;
	size_t bytes;
	uint32_t used;
};

static void snap_take(struct snap *s, const struct tpool *t)
{
	s->bytes = (size_t)t->cap * HV_PAGE_SIZE;
	s->mem = malloc(s->bytes);
	memcpy(s->mem, t->mem, s->bytes);
	s->used = t->pool.used;
}

static void snap_check_and_free(struct snap *s, const struct tpool *t, const char *what)
{
	if (t->pool.used != s->used)
		fail_msg("%s: pool used %u, was %u", what, t->pool.used, s->used);
	if (memcmp(s->mem, t->mem, s->bytes) != 0)
		fail_msg("%s: tables changed", what);
	free(s->mem);
}

static uint64_t *table_at(const struct tpool *t, uint64_t e)
{
	uint64_t *p = hv_pool_ptr(&t->pool, e & HV_S2_ADDR_MASK);
	assert_non_null(p);
	return p;
}

/* Entry of the table at `level` (3 = PML4) on the way to gpa. */
static uint64_t *entry_for(const struct tpool *t, uint64_t root, uint64_t gpa, unsigned level)
{
	uint64_t *table = table_at(t, root);
	for (unsigned l = 3; l > level; l--)
		table = table_at(t, table[(gpa >> (12 + 9 * l)) & 511]);
	return &table[(gpa >> (12 + 9 * level)) & 511];
}

struct walk_acc {
	uint64_t bytes[3];
	uint32_t runs;
	uint64_t last_end;
	bool ordered;
	struct hv_ept_run first, list[16];
};

static void acc_run(void *ctx, const struct hv_ept_run *r)
{
	struct walk_acc *a = ctx;
	if (a->runs == 0)
		a->first = *r;
	if (a->runs < HV_ARRAY_LEN(a->list))
		a->list[a->runs] = *r;
	if (a->runs > 0 && r->gpa < a->last_end)
		a->ordered = false;
	a->last_end = r->gpa + r->size;
	a->runs++;
	assert_true(r->level <= HV_PG_1G);
	a->bytes[r->level] += r->size;
}

static void walk_into(const struct tpool *t, uint64_t root, struct walk_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->ordered = true;
	assert_int_equal(hv_ept_walk(&t->pool, root, acc_run, a), HV_OK);
}

static void expect_map(const struct tpool *t, uint64_t root, uint64_t gpa, bool present,
                       uint64_t hpa, uint8_t perm, uint8_t mt, const char *what)
{
	struct hv_ept_map m;
	hv_status s = hv_ept_translate(&t->pool, root, gpa, &m);
	if (s != HV_OK)
		fail_msg("%s: translate %#llx: %s", what, (unsigned long long)gpa,
		         hv_status_str(s));
	if (m.present != present)
		fail_msg("%s: gpa %#llx present %d, expected %d", what, (unsigned long long)gpa,
		         m.present, present);
	if (present && (m.hpa != hpa || m.perm != perm || m.memtype != mt))
		fail_msg("%s: gpa %#llx -> %#llx perm %x mt %u, expected %#llx %x %u", what,
		         (unsigned long long)gpa, (unsigned long long)m.hpa, m.perm, m.memtype,
		         (unsigned long long)hpa, perm, mt);
}

static uint8_t level_of(const struct tpool *t, uint64_t root, uint64_t gpa)
{
	struct hv_ept_map m;
	assert_int_equal(hv_ept_translate(&t->pool, root, gpa, &m), HV_OK);
	assert_true(m.present);
	return m.level;
}

/* ---- mapping: leaf sizes by alignment ------------------------------------ */

struct map_case {
	const char *name;
	uint64_t gpa, hpa, size;
	uint64_t n1g, n2m, n4k; /* leaves expected */
	uint32_t tables;        /* pool pages expected, root included */
};

static const struct map_case map_cases[] = {
        {"one 4K page", 0x1000, 0x200000, K4, 0, 0, 1, 4},
        {"2M aligned both", M2, 2 * M2, M2, 0, 1, 0, 3},
        {"2M size, hpa off by 4K", M2, 2 * M2 + K4, M2, 0, 0, 512, 4},
        {"2M size, gpa off by 4K", M2 + K4, 2 * M2 + K4, M2, 0, 0, 512, 5},
        {"4K around a 2M leaf", M2 - K4, 2 * M2 - K4, M2 + 2 * K4, 0, 1, 2, 5},
        {"2M just short", M2, 2 * M2, M2 - K4, 0, 0, 511, 4},
        {"1G aligned both", G1, G1, G1, 1, 0, 0, 2},
        {"1G gpa, 2M hpa", G1, G1 + M2, G1, 0, 512, 0, 3},
        {"1G + 2M + 4K", 0, 0, G1 + M2 + K4, 1, 1, 1, 4},
        {"4K + 2M + 1G tail first", G1 - M2 - K4, 3 * G1 - M2 - K4, G1 + M2 + K4, 1, 1, 1, 4},
        {"across 512G", 512 * G1 - G1, G1, 2 * G1, 2, 0, 0, 3},
        {"last page of GPA space", HV_GPA_LIMIT - K4, 0x1000, K4, 0, 0, 1, 4},
        {"largest region, 1G leaves", 0, 1ull << 40, HV_MAX_REGION_SIZE, 1024, 0, 0, 3},
        /* [1G, 1T + 1G) touches three PML4 slots: root + 3 PDPTs + 1024 PDs */
        {"largest region, 2M leaves", G1, (1ull << 40) + M2, HV_MAX_REGION_SIZE, 0, 524288, 0,
         1 + 3 + 1024},
};

static void test_map_leaf_sizes(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(map_cases); i++) {
		const struct map_case *c = &map_cases[i];
		struct tpool t;
		tpool_init(&t, c->tables + 4);
		uint64_t root = ROOT0;
		hv_status s = hv_ept_map_range(&t.pool, &root, c->gpa, c->hpa, c->size, HV_PERM_RWX,
		                               HV_MT_WB);
		if (s != HV_OK)
			fail_msg("%s: %s", c->name, hv_status_str(s));
		assert_int_equal(root, POOL_HPA | ROOT0);
		if (t.pool.used != c->tables)
			fail_msg("%s: %u tables, expected %u", c->name, t.pool.used, c->tables);
		struct walk_acc a;
		walk_into(&t, root, &a);
		if (a.bytes[HV_PG_1G] != c->n1g * G1 || a.bytes[HV_PG_2M] != c->n2m * M2 ||
		    a.bytes[HV_PG_4K] != c->n4k * K4)
			fail_msg("%s: leaves 1G %llu 2M %llu 4K %llu", c->name,
			         (unsigned long long)(a.bytes[2] / G1),
			         (unsigned long long)(a.bytes[1] / M2),
			         (unsigned long long)(a.bytes[0] / K4));
		assert_true(a.ordered);
		assert_int_equal(a.first.gpa, c->gpa);
		assert_int_equal(a.first.hpa, c->hpa);
		uint64_t probes[] = {0, c->size / 2 + 0x123, c->size - 1};
		for (size_t p = 0; p < HV_ARRAY_LEN(probes); p++)
			expect_map(&t, root, c->gpa + probes[p], true, c->hpa + probes[p],
			           HV_PERM_RWX, HV_MT_WB, c->name);
		if (c->gpa > 0)
			expect_map(&t, root, c->gpa - 1, false, 0, 0, 0, c->name);
		if (c->gpa + c->size < HV_GPA_LIMIT)
			expect_map(&t, root, c->gpa + c->size, false, 0, 0, 0, c->name);
		tpool_free(&t);
	}
}

/* EPT: leaf entries carry the type in bits 5:3, IPAT clear, perms in 2:0,
 * and non-leaf entries allow RWX (SDM Vol. 3C, 29.3.2).
 * NPT (APM Vol. 2, Figures 5-18 .. 5-25): every present entry has P (bit
 * 0) and U/S (bit 2, nested accesses are user accesses, 15.25.5); R/W is
 * bit 1, NX bit 63, PS bit 7 marks a large leaf; the memory type is the
 * host-PAT index PAT:PCD:PWT, the PAT bit being bit 12 in a large leaf and
 * bit 7 in a PTE. The core's host PAT: 0 WB, 1 WT, 2 WC, 3 UC, 4 WP. */
static void test_map_entry_format(void **state)
{
	struct tpool t;
	tpool_init(&t, 8);
	uint64_t root = ROOT0;
	assert_int_equal(
	        hv_ept_map_range(&t.pool, &root, 0, 4 * G1, G1 + M2 + K4, HV_PERM_RX, HV_MT_WT),
	        HV_OK);
	uint64_t pml4e = *entry_for(&t, root, 0, 3);
	uint64_t pdpte = *entry_for(&t, root, 0, 2);
	uint64_t pde = *entry_for(&t, root, G1, 1);
	uint64_t pte = *entry_for(&t, root, G1 + M2, 0);
	if (g_fmt == HV_S2_EPT) {
		assert_int_equal(pml4e & 0xfff, HV_EPTE_R | HV_EPTE_W | HV_EPTE_X);
		assert_int_equal(pdpte, 4 * G1 | HV_EPTE_LARGE | (HV_MT_WT << 3) | HV_PERM_RX);
		assert_int_equal(pde, (5 * G1) | HV_EPTE_LARGE | (HV_MT_WT << 3) | HV_PERM_RX);
		assert_int_equal(pte, (5 * G1 + M2) | (HV_MT_WT << 3) | HV_PERM_RX);
		assert_int_equal(*entry_for(&t, root, G1, 2) & 0xff, HV_PERM_RWX);
		tpool_free(&t);
		return;
	}
	/* RX WT: P | US | PWT, PS on the large ones, R/W and NX clear */
	assert_int_equal(pml4e & ~HV_S2_ADDR_MASK, 0x7); /* P | RW | US */
	assert_int_equal(pdpte, 4 * G1 | 0x80 | 0x08 | 0x04 | 0x01);
	assert_int_equal(pde, 5 * G1 | 0x80 | 0x08 | 0x04 | 0x01);
	assert_int_equal(pte, (5 * G1 + M2) | 0x08 | 0x04 | 0x01);
	assert_int_equal(*entry_for(&t, root, G1, 2) & ~HV_S2_ADDR_MASK, 0x7);
	tpool_free(&t);

	/* Each memory type and permission, on a 2M leaf and on a PTE (R alone
	 * comes from the protect below). */
	static const struct {
		uint8_t mt, perm;
		uint64_t large, small; /* attribute bits expected */
	} rows[] = {
	        {HV_MT_WB, HV_PERM_RWX, 0x87, 0x07},
	        {HV_MT_WT, HV_PERM_RX, 0x8d, 0x0d},
	        {HV_MT_WC, HV_PERM_RW, 0x97 | 1ull << 63, 0x17 | 1ull << 63},
	        {HV_MT_UC, HV_PERM_RX, 0x9d, 0x1d},
	        {HV_MT_WP, HV_PERM_RW, 0x1087 | 1ull << 63, 0x87 | 1ull << 63},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		tpool_init(&t, 8);
		root = ROOT0;
		assert_int_equal(hv_ept_map_range(&t.pool, &root, M2, 4 * G1, M2 + K4, rows[i].perm,
		                                  rows[i].mt),
		                 HV_OK);
		uint64_t big = *entry_for(&t, root, M2, 1);
		uint64_t small = *entry_for(&t, root, 2 * M2, 0);
		if (big != (4 * G1 | rows[i].large) || small != ((4 * G1 + M2) | rows[i].small))
			fail_msg("row %zu: 2M %#llx 4K %#llx", i, (unsigned long long)big,
			         (unsigned long long)small);
		expect_map(&t, root, M2 + 5, true, 4 * G1 + 5, rows[i].perm, rows[i].mt, "2M");
		expect_map(&t, root, 2 * M2 + 5, true, 4 * G1 + M2 + 5, rows[i].perm, rows[i].mt,
		           "4K");
		/* A split keeps type and rights: the PAT bit moves from bit 12 to
		 * bit 7, and the 4K leaves' addresses have bit 12 of their own. */
		assert_int_equal(hv_ept_protect(&t.pool, root, M2 + K4, K4, HV_PERM_R), HV_OK);
		uint64_t first = *entry_for(&t, root, M2, 0);
		uint64_t second = *entry_for(&t, root, M2 + K4, 0);
		if (first != (4 * G1 | rows[i].small))
			fail_msg("row %zu: split PTE %#llx", i, (unsigned long long)first);
		assert_int_equal(second & ~HV_S2_ADDR_MASK & ~(1ull << 63) & ~2ull,
		                 rows[i].small & ~(1ull << 63) & ~2ull);
		assert_int_equal(second & HV_S2_ADDR_MASK, 4 * G1 + K4);
		expect_map(&t, root, M2 + K4, true, 4 * G1 + K4, HV_PERM_R, rows[i].mt, "split");
		tpool_free(&t);
	}
}

/* ---- argument checks -------------------------------------------------------- */

struct arg_case {
	const char *name;
	uint64_t gpa, hpa, size;
	uint8_t perm, mt;
	hv_status expect;
};

static void test_map_rejects_bad_arguments(void **state)
{
	static const struct arg_case cases[] = {
	        {"gpa unaligned", 0x800, 0, K4, HV_PERM_R, HV_MT_WB, HV_ERR_ALIGN},
	        {"hpa unaligned", 0, 0x10, K4, HV_PERM_R, HV_MT_WB, HV_ERR_ALIGN},
	        {"size unaligned", 0, 0, 100, HV_PERM_R, HV_MT_WB, HV_ERR_ALIGN},
	        {"size zero", 0, 0, 0, HV_PERM_R, HV_MT_WB, HV_ERR_RANGE},
	        {"gpa beyond 48 bits", HV_GPA_LIMIT - K4, 0, 2 * K4, HV_PERM_R, HV_MT_WB,
	         HV_ERR_RANGE},
	        {"gpa wraps", ~0ull & HV_PAGE_MASK, 0, 2 * K4, HV_PERM_R, HV_MT_WB, HV_ERR_RANGE},
	        {"hpa beyond limit", 0, HV_HPA_LIMIT - K4, 2 * K4, HV_PERM_R, HV_MT_WB,
	         HV_ERR_RANGE},
	        {"hpa wraps", 0, ~0ull & HV_PAGE_MASK, 2 * K4, HV_PERM_R, HV_MT_WB, HV_ERR_RANGE},
	        {"no permission", 0, 0, K4, 0, HV_MT_WB, HV_ERR_INVAL},
	        {"write without read", 0, 0, K4, HV_PERM_W, HV_MT_WB, HV_ERR_INVAL},
	        {"write+exec without read", 0, 0, K4, HV_PERM_W | HV_PERM_X, HV_MT_WB,
	         HV_ERR_INVAL},
	        {"unknown perm bit", 0, 0, K4, HV_PERM_R | 8, HV_MT_WB, HV_ERR_INVAL},
	        {"memtype 2", 0, 0, K4, HV_PERM_R, 2, HV_ERR_INVAL},
	        {"memtype 3", 0, 0, K4, HV_PERM_R, 3, HV_ERR_INVAL},
	        {"memtype 7", 0, 0, K4, HV_PERM_R, 7, HV_ERR_INVAL},
	        {"memtype 8", 0, 0, K4, HV_PERM_R, 8, HV_ERR_INVAL},
	        {"execute only: EPT yes, NPT no", 0, 0, K4, HV_PERM_X, HV_MT_UC, HV_OK},
	        {"read+exec is fine", 0, 0, K4, HV_PERM_RX, HV_MT_WT, HV_OK},
	        {"WC is fine", 0, 0, K4, HV_PERM_R, HV_MT_WC, HV_OK},
	        {"WP is fine", 0, 0, K4, HV_PERM_R, HV_MT_WP, HV_OK},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		const struct arg_case *c = &cases[i];
		struct tpool t;
		tpool_init(&t, 8);
		uint64_t root = ROOT0;
		hv_status s =
		        hv_ept_map_range(&t.pool, &root, c->gpa, c->hpa, c->size, c->perm, c->mt);
		hv_status want = expect_for_perm(c->perm, c->expect);
		if (s != want)
			fail_msg("%s: got %s, expected %s", c->name, hv_status_str(s),
			         hv_status_str(want));
		if (s != HV_OK) {
			assert_int_equal(root, ROOT0);
			assert_int_equal(t.pool.used, 0);
		}
		tpool_free(&t);
	}
	struct tpool t;
	tpool_init(&t, 8);
	uint64_t root = ROOT0;
	assert_int_equal(hv_ept_map_range(NULL, &root, 0, 0, K4, HV_PERM_R, HV_MT_WB),
	                 HV_ERR_INVAL);
	assert_int_equal(hv_ept_map_range(&t.pool, NULL, 0, 0, K4, HV_PERM_R, HV_MT_WB),
	                 HV_ERR_INVAL);
	root = POOL_HPA | ROOT0; /* not handed out yet */
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 0, 0, K4, HV_PERM_R, HV_MT_WB),
	                 HV_ERR_INVAL);
	root = ROOT0;
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 0, 0, K4, HV_PERM_R, HV_MT_WB), HV_OK);
	root += 8; /* a root must be a page address */
	assert_int_equal(hv_ept_map_range(&t.pool, &root, K4, 0, K4, HV_PERM_R, HV_MT_WB),
	                 HV_ERR_INVAL);
	tpool_free(&t);
}

/* ---- mapping into an existing tree ------------------------------------------ */

struct range {
	uint64_t gpa, hpa, size;
};

struct overlap_case {
	const char *name;
	struct range base, next;
	hv_status expect;
};

static void test_map_overlap_leaves_tables_alone(void **state)
{
	static const struct overlap_case cases[] = {
	        {"same 4K page", {0, 0, K4}, {0, 0x5000, K4}, HV_ERR_OVERLAP},
	        {"4K inside a 2M leaf", {0, 0, M2}, {0x3000, 0x5000, K4}, HV_ERR_OVERLAP},
	        {"2M over a 1G leaf", {0, 0, G1}, {M2, 0, M2}, HV_ERR_OVERLAP},
	        {"tail overlaps, head is free", {M2, 0, K4}, {0, 0, M2 + K4}, HV_ERR_OVERLAP},
	        {"adjacent below", {M2, 0, K4}, {0, 0, M2}, HV_OK},
	        {"adjacent above", {0, 0, K4}, {K4, K4, G1}, HV_OK},
	        {"next PML4 slot", {0, 0, K4}, {512 * G1, 0, G1}, HV_OK},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		const struct overlap_case *c = &cases[i];
		struct tpool t;
		tpool_init(&t, 16);
		uint64_t root = ROOT0;
		assert_int_equal(hv_ept_map_range(&t.pool, &root, c->base.gpa, c->base.hpa,
		                                  c->base.size, HV_PERM_RW, HV_MT_WB),
		                 HV_OK);
		struct snap sn;
		snap_take(&sn, &t);
		uint64_t r = root;
		hv_status s = hv_ept_map_range(&t.pool, &r, c->next.gpa, c->next.hpa, c->next.size,
		                               HV_PERM_R, HV_MT_UC);
		if (s != c->expect)
			fail_msg("%s: got %s", c->name, hv_status_str(s));
		assert_int_equal(r, root);
		if (s != HV_OK) {
			snap_check_and_free(&sn, &t, c->name);
		} else {
			free(sn.mem);
			expect_map(&t, root, c->base.gpa, true, c->base.hpa, HV_PERM_RW, HV_MT_WB,
			           c->name);
			expect_map(&t, root, c->next.gpa + c->next.size - K4, true,
			           c->next.hpa + c->next.size - K4, HV_PERM_R, HV_MT_UC, c->name);
		}
		tpool_free(&t);
	}
}

/* A table emptied by protect (perm 0) stays in place; mapping there again
 * reuses it with small leaves instead of calling it an overlap. */
static void test_map_again_after_unmap(void **state)
{
	struct tpool t;
	tpool_init(&t, 16);
	uint64_t root = ROOT0;
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 0, 0, K4, HV_PERM_RW, HV_MT_WB), HV_OK);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0, K4, 0), HV_OK);
	uint32_t used = t.pool.used;
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 0, M2, M2, HV_PERM_R, HV_MT_WB), HV_OK);
	assert_int_equal(t.pool.used, used);
	assert_int_equal(level_of(&t, root, 0x1000), HV_PG_4K);
	expect_map(&t, root, M2 - 1, true, 2 * M2 - 1, HV_PERM_R, HV_MT_WB, "remap");
	tpool_free(&t);
}

/* ---- pool exhaustion at every step -------------------------------------------- */

struct exhaust_case {
	const char *name;
	struct range base; /* size 0: start from an empty tree */
	struct range next;
};

static const struct exhaust_case exhaust_cases[] = {
        {"fresh 4K", {0, 0, 0}, {0x1000, 0x3000, K4}},
        {"fresh 4K/2M/4K", {0, 0, 0}, {M2 - K4, 2 * M2 - K4, M2 + 2 * K4}},
        {"fresh across 512G", {0, 0, 0}, {511 * G1 - K4, G1 - K4, G1 + 2 * K4}},
        {"existing PT, PD and PDPT", {0, 0, K4}, {K4, K4, G1}},
        {"existing tree, new PML4 slot", {0, 0, K4}, {512 * G1 - K4, 0, 2 * K4}},
        {"existing tree, 4K all over", {0, 0, K4}, {K4, 3 * K4, 3 * M2}},
};

static void test_map_exhaustion_every_step(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(exhaust_cases); i++) {
		const struct exhaust_case *c = &exhaust_cases[i];
		/* First learn how many pages the mapping takes. */
		struct tpool t;
		tpool_init(&t, 64);
		uint64_t root = ROOT0;
		if (c->base.size)
			assert_int_equal(hv_ept_map_range(&t.pool, &root, c->base.gpa, c->base.hpa,
			                                  c->base.size, HV_PERM_RWX, HV_MT_WB),
			                 HV_OK);
		uint32_t base_used = t.pool.used;
		uint64_t r = root;
		assert_int_equal(hv_ept_map_range(&t.pool, &r, c->next.gpa, c->next.hpa,
		                                  c->next.size, HV_PERM_RW, HV_MT_UC),
		                 HV_OK);
		uint32_t need = t.pool.used - base_used;
		assert_true(need > 0);
		hv_pool_release_to(&t.pool, base_used);
		/* the release zeroed the new pages, not the entries pointing to them:
		 * rebuild the base from scratch for each attempt */
		tpool_free(&t);

		for (uint32_t n = 0; n <= need; n++) {
			tpool_init(&t, 64);
			root = ROOT0;
			if (c->base.size)
				assert_int_equal(hv_ept_map_range(&t.pool, &root, c->base.gpa,
				                                  c->base.hpa, c->base.size,
				                                  HV_PERM_RWX, HV_MT_WB),
				                 HV_OK);
			t.pool.npages = t.pool.used + n;
			struct snap sn;
			snap_take(&sn, &t);
			r = root;
			hv_status s = hv_ept_map_range(&t.pool, &r, c->next.gpa, c->next.hpa,
			                               c->next.size, HV_PERM_RW, HV_MT_UC);
			if (n < need) {
				if (s != HV_ERR_NOMEM)
					fail_msg("%s: %u of %u pages: %s", c->name, n, need,
					         hv_status_str(s));
				assert_int_equal(r, root);
				snap_check_and_free(&sn, &t, c->name);
			} else {
				free(sn.mem);
				assert_int_equal(s, HV_OK);
				expect_map(&t, r, c->next.gpa, true, c->next.hpa, HV_PERM_RW,
				           HV_MT_UC, c->name);
				if (c->base.size)
					expect_map(&t, r, c->base.gpa, true, c->base.hpa,
					           HV_PERM_RWX, HV_MT_WB, c->name);
			}
			tpool_free(&t);
		}
	}
}

/* ---- hv_ept_build --------------------------------------------------------------- */

struct build_probe {
	uint32_t part;
	uint64_t gpa;
	bool present;
	uint64_t hpa;
	uint8_t perm, mt;
};

static void test_build_mock_config(void **state)
{
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	mock_config_two(cfg);
	struct tpool t;
	tpool_init(&t, 32);
	uint64_t roots[2] = {ROOT0, ROOT0};
	for (uint32_t p = 0; p < 2; p++)
		assert_int_equal(build(&t.pool, cfg, p, &roots[p]), HV_OK);
	static const struct build_probe probes[] = {
	        {0, 0, true, MOCK_P0_RAM_HPA, HV_PERM_RWX, HV_MT_WB},
	        {0, MOCK_RAM_SIZE - 1, true, MOCK_P0_RAM_HPA + MOCK_RAM_SIZE - 1, HV_PERM_RWX,
	         HV_MT_WB},
	        {0, MOCK_RAM_SIZE, false, 0, 0, 0},
	        {0, MOCK_MMIO_GPA, true, MOCK_MMIO_HPA, HV_PERM_RW, HV_MT_UC},
	        {0, MOCK_MMIO_GPA + K4, false, 0, 0, 0},
	        {0, MOCK_CONSOLE_GPA, false, 0, 0, 0}, /* emulated: never mapped */
	        {0, MOCK_CHAN_GPA + K4, true, MOCK_CHAN_HPA + K4, HV_PERM_RW, HV_MT_WB},
	        {0, MOCK_CHAN_GPA + MOCK_CHAN_SIZE, false, 0, 0, 0},
	        {1, 0x1000, true, MOCK_P1_RAM_HPA + 0x1000, HV_PERM_RWX, HV_MT_WB},
	        {1, MOCK_CHAN_GPA, true, MOCK_CHAN_HPA, HV_PERM_R, HV_MT_WB},
	        {1, MOCK_MMIO_GPA, false, 0, 0, 0},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(probes); i++) {
		const struct build_probe *pr = &probes[i];
		expect_map(&t, roots[pr->part], pr->gpa, pr->present, pr->hpa, pr->perm, pr->mt,
		           "mock config");
	}
	/* RAM is 2M-aligned on both sides: 2M leaves */
	assert_int_equal(level_of(&t, roots[0], 0x300000), HV_PG_2M);
	tpool_free(&t);
	free(cfg);
}

static void spoil_too_many_regions(struct hv_system_config *c)
{
	c->partitions[0].nregions = HV_MAX_REGIONS + 1;
}
static void spoil_too_many_memberships(struct hv_system_config *c)
{
	c->partitions[0].nchannels = HV_MAX_CHANNELS + 1;
}
static void spoil_unknown_channel(struct hv_system_config *c)
{
	c->partitions[0].channels[0].channel = 1;
}
static void spoil_channel_beyond_table(struct hv_system_config *c)
{
	c->nchannels = 100;
	c->partitions[0].channels[0].channel = HV_MAX_CHANNELS;
}
static void spoil_region_overlap(struct hv_system_config *c)
{
	c->partitions[0].regions[1].gpa = 0x5000;
}
static void spoil_region_perm(struct hv_system_config *c)
{
	c->partitions[0].regions[1].perm = 0;
}
static void spoil_channel_overlap(struct hv_system_config *c)
{
	c->partitions[0].channels[0].gpa = MOCK_MMIO_GPA;
}

static void test_build_rejects_and_rolls_back(void **state)
{
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct tpool t;
	tpool_init(&t, 32);
	uint64_t root = 0x77, scratch;

	mock_config_two(cfg);
	assert_int_equal(build(NULL, cfg, 0, &root), HV_ERR_INVAL);
	assert_int_equal(build(&t.pool, NULL, 0, &root), HV_ERR_INVAL);
	assert_int_equal(build(&t.pool, cfg, 0, NULL), HV_ERR_INVAL);
	assert_int_equal(build(&t.pool, cfg, 2, &root), HV_ERR_INVAL);
	cfg->npartitions = HV_MAX_PARTITIONS + 1;
	assert_int_equal(build(&t.pool, cfg, HV_MAX_PARTITIONS, &root), HV_ERR_INVAL);

	static const struct {
		const char *name;
		void (*spoil)(struct hv_system_config *);
		hv_status expect;
	} cases[] = {
	        {"too many regions", spoil_too_many_regions, HV_ERR_INVAL},
	        {"too many memberships", spoil_too_many_memberships, HV_ERR_INVAL},
	        {"unknown channel", spoil_unknown_channel, HV_ERR_INVAL},
	        {"channel index beyond the table", spoil_channel_beyond_table, HV_ERR_INVAL},
	        {"regions overlap", spoil_region_overlap, HV_ERR_OVERLAP},
	        {"region without permission", spoil_region_perm, HV_ERR_INVAL},
	        {"channel window overlaps MMIO", spoil_channel_overlap, HV_ERR_OVERLAP},
	};
	/* a page taken before: the roll-back must stop at it */
	assert_int_equal(hv_pool_alloc(&t.pool, &scratch), HV_OK);
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		mock_config_two(cfg);
		cases[i].spoil(cfg);
		struct snap sn;
		snap_take(&sn, &t);
		hv_status s = build(&t.pool, cfg, 0, &root);
		if (s != cases[i].expect)
			fail_msg("%s: got %s", cases[i].name, hv_status_str(s));
		assert_int_equal(root, 0x77);
		snap_check_and_free(&sn, &t, cases[i].name);
	}
	tpool_free(&t);
	free(cfg);
}

/* A partition with nothing to map still gets a root page. */
static void test_build_empty_partition(void **state)
{
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	mock_config_one(cfg);
	cfg->partitions[0].nregions = 0;
	struct tpool t;
	tpool_init(&t, 1);
	uint64_t root = ROOT0;
	assert_int_equal(build(&t.pool, cfg, 0, &root), HV_OK);
	assert_int_equal(root, POOL_HPA | ROOT0);
	struct walk_acc a;
	walk_into(&t, root, &a);
	assert_int_equal(a.runs, 0);
	root = ROOT0;
	assert_int_equal(build(&t.pool, cfg, 0, &root), HV_ERR_NOMEM);
	assert_int_equal(root, ROOT0);
	assert_int_equal(t.pool.used, 1);
	tpool_free(&t);
	free(cfg);
}

static void test_build_exhaustion_every_step(void **state)
{
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	mock_config_two(cfg);
	struct tpool t;
	tpool_init(&t, 32);
	uint64_t r0 = ROOT0, r1 = ROOT0;
	assert_int_equal(build(&t.pool, cfg, 0, &r0), HV_OK);
	uint32_t base = t.pool.used;
	assert_int_equal(build(&t.pool, cfg, 1, &r1), HV_OK);
	uint32_t need = t.pool.used - base;
	assert_true(need >= 4);
	hv_pool_release_to(&t.pool, base);
	for (uint32_t n = 0; n <= need; n++) {
		t.pool.npages = base + n;
		struct snap sn;
		snap_take(&sn, &t);
		r1 = 0x55;
		hv_status s = build(&t.pool, cfg, 1, &r1);
		if (n < need) {
			if (s != HV_ERR_NOMEM)
				fail_msg("%u of %u pages: %s", n, need, hv_status_str(s));
			assert_int_equal(r1, 0x55);
			snap_check_and_free(&sn, &t, "build p1");
		} else {
			free(sn.mem);
			assert_int_equal(s, HV_OK);
			expect_map(&t, r1, MOCK_CHAN_GPA, true, MOCK_CHAN_HPA, HV_PERM_R, HV_MT_WB,
			           "p1 built");
		}
	}
	expect_map(&t, r0, MOCK_CHAN_GPA, true, MOCK_CHAN_HPA, HV_PERM_RW, HV_MT_WB, "p0 kept");
	tpool_free(&t);
	free(cfg);
}

/* ---- translate ------------------------------------------------------------------- */

static void test_translate_leaves_and_holes(void **state)
{
	struct tpool t;
	tpool_init(&t, 16);
	uint64_t root = ROOT0;
	/* 1G at gpa 1G, 2M at gpa 2G, 4K at gpa 2G + 4M */
	assert_int_equal(hv_ept_map_range(&t.pool, &root, G1, 4 * G1, G1, HV_PERM_RX, HV_MT_WB),
	                 HV_OK);
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 2 * G1, 6 * G1, M2, HV_PERM_RW, HV_MT_UC),
	                 HV_OK);
	assert_int_equal(
	        hv_ept_map_range(&t.pool, &root, 2 * G1 + 2 * M2, 7 * G1, K4, HV_PERM_R, HV_MT_WT),
	        HV_OK);
	static const struct {
		uint64_t gpa;
		bool present;
		uint64_t hpa, page_gpa;
		uint8_t perm, mt, level;
	} rows[] = {
	        {G1 + 0x12345, true, 4 * G1 + 0x12345, G1, HV_PERM_RX, HV_MT_WB, HV_PG_1G},
	        {2 * G1 + 0x1fffff, true, 6 * G1 + 0x1fffff, 2 * G1, HV_PERM_RW, HV_MT_UC,
	         HV_PG_2M},
	        {2 * G1 + 2 * M2 + 0xabc, true, 7 * G1 + 0xabc, 2 * G1 + 2 * M2, HV_PERM_R,
	         HV_MT_WT, HV_PG_4K},
	        {2 * G1 + 2 * M2 + K4, false, 0, 0, 0, 0, 0}, /* empty PTE */
	        {2 * G1 + M2, false, 0, 0, 0, 0, 0},          /* empty PDE */
	        {0, false, 0, 0, 0, 0, 0},                    /* empty PDPTE */
	        {512 * G1, false, 0, 0, 0, 0, 0},             /* empty PML4E */
	        {HV_GPA_LIMIT, false, 0, 0, 0, 0, 0},         /* beyond 48 bits */
	        {~0ull, false, 0, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		struct hv_ept_map m;
		memset(&m, 0xff, sizeof(m));
		assert_int_equal(hv_ept_translate(&t.pool, root, rows[i].gpa, &m), HV_OK);
		assert_int_equal(m.present, rows[i].present);
		if (!rows[i].present) {
			assert_int_equal(m.perm, 0);
			continue;
		}
		assert_int_equal(m.hpa, rows[i].hpa);
		assert_int_equal(m.page_gpa, rows[i].page_gpa);
		assert_int_equal(m.perm, rows[i].perm);
		assert_int_equal(m.memtype, rows[i].mt);
		assert_int_equal(m.level, rows[i].level);
	}
	tpool_free(&t);
}

static void test_translate_malformed(void **state)
{
	struct tpool t;
	tpool_init(&t, 16);
	uint64_t root = ROOT0;
	assert_int_equal(hv_ept_map_range(&t.pool, &root, 0, 0, K4, HV_PERM_RW, HV_MT_WB), HV_OK);
	struct hv_ept_map m;
	assert_int_equal(hv_ept_translate(NULL, root, 0, &m), HV_ERR_INVAL);
	assert_int_equal(hv_ept_translate(&t.pool, root, 0, NULL), HV_ERR_INVAL);
	assert_int_equal(hv_ept_translate(&t.pool, 0, 0, &m), HV_ERR_INVAL);
	assert_int_equal(hv_ept_translate(&t.pool, root + 8, 0, &m), HV_ERR_INVAL);
	assert_int_equal(hv_ept_translate(&t.pool, (POOL_HPA + 4 * K4) | ROOT0, 0, &m),
	                 HV_ERR_INVAL);
	/* a table pointer outside the pool, at each level, is never followed */
	for (unsigned level = 3; level >= 1; level--) {
		uint64_t *e = entry_for(&t, root, 0, level);
		uint64_t saved = *e;
		*e = (saved & ~HV_S2_ADDR_MASK) | 0x10000000;
		assert_int_equal(hv_ept_translate(&t.pool, root, 0, &m), HV_ERR_INVAL);
		*e = saved;
	}
	/* the levels above restrict the leaf: effective perms are the AND */
	uint64_t *pml4e = entry_for(&t, root, 0, 3);
	*pml4e = with_perm(*pml4e, HV_PERM_R);
	expect_map(&t, root, 0, true, 0, HV_PERM_R, HV_MT_WB, "restricted by PML4E");
	*pml4e = with_perm(*pml4e, HV_PERM_RX);
	expect_map(&t, root, 0, true, 0, HV_PERM_R, HV_MT_WB, "RX above, RW below");
	if (g_fmt == HV_S2_EPT) {
		/* X above, RW below: nothing left. NPT cannot say X alone. */
		*pml4e = with_perm(*pml4e, HV_PERM_X);
		assert_int_equal(hv_ept_translate(&t.pool, root, 0, &m), HV_OK);
		assert_false(m.present);
	}
	tpool_free(&t);
}
/* ---- protect ----------------------------------------------------------------------- */

/* Base tree for the protect cases:
 *   A gpa 0   -> hpa 1G, 2G, RWX WB: two 1G leaves
 *   B gpa 2G  -> hpa 4G, 4M + 8K, RWX WB: two 2M and two 4K leaves
 *   C gpa 3G  -> hpa 8G, 2M, R UC: one 2M leaf */
static const struct {
	uint64_t gpa, hpa, size;
	uint8_t perm, mt;
} prot_base[] = {
        {0, G1, 2 * G1, HV_PERM_RWX, HV_MT_WB},
        {2 * G1, 4 * G1, 2 * M2 + 2 * K4, HV_PERM_RWX, HV_MT_WB},
        {3 * G1, 8 * G1, M2, HV_PERM_R, HV_MT_UC},
};

static uint64_t prot_base_init(struct tpool *t)
{
	tpool_init(t, 32);
	uint64_t root = ROOT0;
	for (size_t i = 0; i < HV_ARRAY_LEN(prot_base); i++)
		assert_int_equal(hv_ept_map_range(&t->pool, &root, prot_base[i].gpa,
		                                  prot_base[i].hpa, prot_base[i].size,
		                                  prot_base[i].perm, prot_base[i].mt),
		                 HV_OK);
	return root;
}

static uint64_t prot_base_hpa(uint64_t gpa, uint8_t *mt)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(prot_base); i++)
		if (gpa >= prot_base[i].gpa && gpa - prot_base[i].gpa < prot_base[i].size) {
			*mt = prot_base[i].mt;
			return prot_base[i].hpa + (gpa - prot_base[i].gpa);
		}
	fail_msg("gpa %#llx not in the base tree", (unsigned long long)gpa);
	return 0;
}

#define RWX HV_PERM_RWX
#define NP 0xff /* probe: not present */

struct prot_probe {
	uint64_t gpa;
	uint8_t perm; /* NP: not present */
	uint8_t level;
};

struct prot_case {
	const char *name;
	uint64_t gpa, size;
	uint8_t perm;
	hv_status expect;
	uint32_t tables;
	struct prot_probe probes[6];
};

static const struct prot_case prot_cases[] = {
        {"4K inside 1G: 1G -> 2M -> 4K",
         0x12345000,
         K4,
         HV_PERM_R,
         HV_OK,
         2,
         {{0x12345000, HV_PERM_R, HV_PG_4K},
          {0x12346000, RWX, HV_PG_4K},
          {0x12344000, RWX, HV_PG_4K},
          {0x121ff000, RWX, HV_PG_2M},
          {0x12400000, RWX, HV_PG_2M},
          {G1, RWX, HV_PG_1G}}},
        {"2M chunk of a 1G leaf",
         M2,
         M2,
         HV_PERM_RX,
         HV_OK,
         1,
         {{M2, HV_PERM_RX, HV_PG_2M}, {0, RWX, HV_PG_2M}, {2 * M2, RWX, HV_PG_2M}}},
        {"whole 1G leaf",
         G1,
         G1,
         HV_PERM_R,
         HV_OK,
         0,
         {{G1, HV_PERM_R, HV_PG_1G}, {0, RWX, HV_PG_1G}}},
        {"across a 1G boundary",
         G1 - K4,
         2 * K4,
         HV_PERM_R,
         HV_OK,
         4,
         {{G1 - K4, HV_PERM_R, HV_PG_4K},
          {G1, HV_PERM_R, HV_PG_4K},
          {G1 - 2 * K4, RWX, HV_PG_4K},
          {G1 + K4, RWX, HV_PG_4K},
          {G1 + M2, RWX, HV_PG_2M},
          {G1 - 2 * M2, RWX, HV_PG_2M}}},
        {"same perms: nothing to split", K4, K4, RWX, HV_OK, 0, {{K4, RWX, HV_PG_1G}}},
        {"remove one page",
         5 * K4,
         K4,
         0,
         HV_OK,
         2,
         {{5 * K4, NP, 0}, {4 * K4, RWX, HV_PG_4K}, {6 * K4, RWX, HV_PG_4K}}},
        {"2M leaf to 4K",
         2 * G1 + K4,
         K4,
         HV_PERM_R,
         HV_OK,
         1,
         {{2 * G1 + K4, HV_PERM_R, HV_PG_4K},
          {2 * G1, RWX, HV_PG_4K},
          {2 * G1 + M2, RWX, HV_PG_2M}}},
        {"4K leaves only",
         2 * G1 + 2 * M2,
         2 * K4,
         0,
         HV_OK,
         0,
         {{2 * G1 + 2 * M2, NP, 0}, {2 * G1 + 2 * M2 + K4, NP, 0}, {2 * G1, RWX, HV_PG_2M}}},
        {"all of B",
         2 * G1,
         2 * M2 + 2 * K4,
         HV_PERM_RX,
         HV_OK,
         0,
         {{2 * G1, HV_PERM_RX, HV_PG_2M}, {2 * G1 + 2 * M2 + K4, HV_PERM_RX, HV_PG_4K}}},
        {"2M .. 2G - 2M over two 1G leaves",
         M2,
         2 * G1 - 2 * M2,
         HV_PERM_RX,
         HV_OK,
         2,
         {{M2, HV_PERM_RX, HV_PG_2M},
          {0, RWX, HV_PG_2M},
          {2 * G1 - M2, RWX, HV_PG_2M},
          {G1, HV_PERM_RX, HV_PG_2M}}},
        {"R to R is fine", 3 * G1 + K4, K4, HV_PERM_R, HV_OK, 0, {{3 * G1, HV_PERM_R, HV_PG_2M}}},
        {"raise R to RW", 3 * G1, K4, HV_PERM_RW, HV_ERR_PERM, 0, {{0}}},
        {"raise R to X", 3 * G1, M2, HV_PERM_X, HV_ERR_PERM, 0, {{0}}},
        {"raise after a good part", 2 * G1 - K4, G1 + K4, HV_PERM_R, HV_ERR_FAULT, 0, {{0}}},
        {"unmapped tail", 2 * G1 + 2 * M2, 3 * K4, HV_PERM_R, HV_ERR_FAULT, 0, {{0}}},
        {"remove up to a hole: the hole needs nothing",
         2 * G1 + 2 * M2,
         3 * K4,
         0,
         HV_OK,
         0,
         {{2 * G1 + 2 * M2, NP, 0}, {2 * G1 + 2 * M2 + K4, NP, 0}, {2 * G1, RWX, HV_PG_2M}}},
        {"remove where nothing is", 4 * G1, 2 * M2, 0, HV_OK, 0, {{4 * G1, NP, 0}}},
        {"remove in an empty PML4 slot", 512 * G1, K4, 0, HV_OK, 0, {{512 * G1, NP, 0}}},
        {"unmapped head", 3 * G1 - K4, 2 * K4, HV_PERM_R, HV_ERR_FAULT, 0, {{0}}},
        {"unmapped PDPTE", 4 * G1, K4, HV_PERM_R, HV_ERR_FAULT, 0, {{0}}},
        {"unmapped PML4E", 512 * G1, K4, HV_PERM_R, HV_ERR_FAULT, 0, {{0}}},
        {"gpa unaligned", 0x800, K4, HV_PERM_R, HV_ERR_ALIGN, 0, {{0}}},
        {"size unaligned", 0, 0x800, HV_PERM_R, HV_ERR_ALIGN, 0, {{0}}},
        {"size zero", 0, 0, HV_PERM_R, HV_ERR_RANGE, 0, {{0}}},
        {"beyond 48 bits", HV_GPA_LIMIT - K4, 2 * K4, HV_PERM_R, HV_ERR_RANGE, 0, {{0}}},
        {"wraps", ~0ull & HV_PAGE_MASK, 2 * K4, HV_PERM_R, HV_ERR_RANGE, 0, {{0}}},
        {"write without read", 0, K4, HV_PERM_W, HV_ERR_INVAL, 0, {{0}}},
        {"unknown perm bit", 0, K4, HV_PERM_R | 0x10, HV_ERR_INVAL, 0, {{0}}},
};

static uint64_t mapped_bytes(const struct tpool *t, uint64_t root)
{
	struct walk_acc a;
	walk_into(t, root, &a);
	return a.bytes[0] + a.bytes[1] + a.bytes[2];
}

static void test_protect_cases(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(prot_cases); i++) {
		const struct prot_case *c = &prot_cases[i];
		struct tpool t;
		uint64_t root = prot_base_init(&t);
		uint64_t before = mapped_bytes(&t, root);
		uint64_t in_range = 0; /* mapped bytes the call may remove */
		for (uint64_t g = c->gpa; c->perm == 0 && g - c->gpa < c->size; g += K4) {
			struct hv_ept_map m;
			assert_int_equal(hv_ept_translate(&t.pool, root, g, &m), HV_OK);
			in_range += m.present ? K4 : 0;
		}
		struct snap sn;
		snap_take(&sn, &t);
		hv_status s = hv_ept_protect(&t.pool, root, c->gpa, c->size, c->perm);
		hv_status want = expect_for_perm(c->perm, c->expect);
		if (s != want)
			fail_msg("%s: got %s, expected %s", c->name, hv_status_str(s),
			         hv_status_str(want));
		if (s != HV_OK) {
			snap_check_and_free(&sn, &t, c->name);
			tpool_free(&t);
			continue;
		}
		free(sn.mem);
		if (t.pool.used - sn.used != c->tables)
			fail_msg("%s: %u new tables, expected %u", c->name, t.pool.used - sn.used,
			         c->tables);
		for (size_t p = 0; p < HV_ARRAY_LEN(c->probes) && (p == 0 || c->probes[p].gpa);
		     p++) {
			const struct prot_probe *pr = &c->probes[p];
			uint8_t mt = 0;
			uint64_t hpa = pr->perm == NP ? 0 : prot_base_hpa(pr->gpa, &mt);
			expect_map(&t, root, pr->gpa, pr->perm != NP, hpa, pr->perm, mt, c->name);
			if (pr->perm != NP && level_of(&t, root, pr->gpa) != pr->level)
				fail_msg("%s: gpa %#llx level %u, expected %u", c->name,
				         (unsigned long long)pr->gpa, level_of(&t, root, pr->gpa),
				         pr->level);
		}
		uint64_t after = mapped_bytes(&t, root);
		assert_int_equal(after, before - in_range);
		tpool_free(&t);
	}
}

static void test_protect_exhaustion_every_step(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(prot_cases); i++) {
		const struct prot_case *c = &prot_cases[i];
		if (expect_for_perm(c->perm, c->expect) != HV_OK || c->tables == 0)
			continue;
		for (uint32_t n = 0; n < c->tables; n++) {
			struct tpool t;
			uint64_t root = prot_base_init(&t);
			t.pool.npages = t.pool.used + n;
			struct snap sn;
			snap_take(&sn, &t);
			hv_status s = hv_ept_protect(&t.pool, root, c->gpa, c->size, c->perm);
			if (s != HV_ERR_NOMEM)
				fail_msg("%s: %u of %u pages: %s", c->name, n, c->tables,
				         hv_status_str(s));
			snap_check_and_free(&sn, &t, c->name);
			tpool_free(&t);
		}
	}
}

/* Protecting inside an already split range reuses its tables; a page made
 * not present cannot be protected again. */
static void test_protect_again(void **state)
{
	struct tpool t;
	uint64_t root = prot_base_init(&t);
	/* RX, then narrower still, then something the narrower page lacks:
	 * EPT goes RX -> X and R is a raise; NPT (no X alone) RX -> R and RW. */
	uint8_t narrower = g_fmt == HV_S2_EPT ? HV_PERM_X : HV_PERM_R;
	uint8_t raise = g_fmt == HV_S2_EPT ? HV_PERM_R : HV_PERM_RW;
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, HV_PERM_RX), HV_OK);
	uint32_t used = t.pool.used;
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, narrower), HV_OK);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12346000, 2 * K4, HV_PERM_R), HV_OK);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, raise), HV_ERR_PERM);
	assert_int_equal(t.pool.used, used);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, 0), HV_OK);
	/* removing twice is fine; anything else on a removed page is a fault */
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, 0), HV_OK);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, narrower), HV_ERR_FAULT);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12344000, 2 * K4, HV_PERM_R),
	                 HV_ERR_FAULT);
	expect_map(&t, root, 0x12344000, true, G1 + 0x12344000, RWX, HV_MT_WB, "left alone");
	expect_map(&t, root, 0x12346000, true, G1 + 0x12346000, HV_PERM_R, HV_MT_WB, "R");
	tpool_free(&t);
}

static void test_protect_malformed(void **state)
{
	struct tpool t;
	uint64_t root = prot_base_init(&t);
	assert_int_equal(hv_ept_protect(NULL, root, 0, K4, HV_PERM_R), HV_ERR_INVAL);
	assert_int_equal(hv_ept_protect(&t.pool, 0, 0, K4, HV_PERM_R), HV_ERR_INVAL);
	assert_int_equal(hv_ept_protect(&t.pool, root + 0x10, 0, K4, HV_PERM_R), HV_ERR_INVAL);
	/* table pointer outside the pool: refused before anything changes */
	uint64_t *pdpte = entry_for(&t, root, 2 * G1, 2);
	uint64_t saved = *pdpte;
	*pdpte = (saved & ~HV_S2_ADDR_MASK) | 0x40000000;
	struct snap sn;
	snap_take(&sn, &t);
	assert_int_equal(hv_ept_protect(&t.pool, root, G1, G1 + K4, HV_PERM_R), HV_ERR_INVAL);
	snap_check_and_free(&sn, &t, "bad pointer");
	*pdpte = saved;
	/* what the levels above allow bounds what protect may keep */
	uint64_t *pml4e = entry_for(&t, root, 0, 3);
	*pml4e = with_perm(*pml4e, HV_PERM_R);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0, K4, HV_PERM_RW), HV_ERR_PERM);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0, G1, HV_PERM_R), HV_OK);
	assert_int_equal(perm_of(*entry_for(&t, root, 0, 2)), HV_PERM_R);
	if (g_fmt == HV_S2_EPT) {
		/* leaf R below a PML4E of X: nothing is reachable; R is a fault, 0
		 * is allowed and clears the leaf */
		*pml4e = with_perm(*pml4e, HV_PERM_X);
		assert_int_equal(hv_ept_protect(&t.pool, root, 0, K4, HV_PERM_R), HV_ERR_FAULT);
	}
	assert_int_equal(hv_ept_protect(&t.pool, root, 0, K4, 0), HV_OK);
	*pml4e = with_perm(*pml4e, HV_PERM_R);
	struct hv_ept_map m;
	assert_int_equal(hv_ept_translate(&t.pool, root, 0, &m), HV_OK);
	assert_false(m.present);
	expect_map(&t, root, K4, true, G1 + K4, HV_PERM_R, HV_MT_WB, "next page kept");
	tpool_free(&t);
}

/* ---- walk ------------------------------------------------------------------------ */

static void test_walk_runs_merged_in_order(void **state)
{
	struct tpool t;
	uint64_t root = prot_base_init(&t);
	assert_int_equal(hv_ept_protect(&t.pool, root, 0x12345000, K4, HV_PERM_R), HV_OK);
	static const struct hv_ept_run want[] = {
	        {0, G1, 0x12200000, RWX, HV_MT_WB, HV_PG_2M},
	        {0x12200000, G1 + 0x12200000, 0x145000, RWX, HV_MT_WB, HV_PG_4K},
	        {0x12345000, G1 + 0x12345000, K4, HV_PERM_R, HV_MT_WB, HV_PG_4K},
	        {0x12346000, G1 + 0x12346000, 0xba000, RWX, HV_MT_WB, HV_PG_4K},
	        {0x12400000, G1 + 0x12400000, G1 - 0x12400000, RWX, HV_MT_WB, HV_PG_2M},
	        {G1, 2 * G1, G1, RWX, HV_MT_WB, HV_PG_1G},
	        {2 * G1, 4 * G1, 2 * M2, RWX, HV_MT_WB, HV_PG_2M},
	        {2 * G1 + 2 * M2, 4 * G1 + 2 * M2, 2 * K4, RWX, HV_MT_WB, HV_PG_4K},
	        {3 * G1, 8 * G1, M2, HV_PERM_R, HV_MT_UC, HV_PG_2M},
	};
	struct walk_acc a;
	walk_into(&t, root, &a);
	assert_int_equal(a.runs, HV_ARRAY_LEN(want));
	for (size_t i = 0; i < HV_ARRAY_LEN(want); i++) {
		const struct hv_ept_run *w = &want[i], *g = &a.list[i];
		if (g->gpa != w->gpa || g->hpa != w->hpa || g->size != w->size ||
		    g->perm != w->perm || g->memtype != w->memtype || g->level != w->level)
			fail_msg("run %zu: %#llx %#llx %#llx %x %u %u", i,
			         (unsigned long long)g->gpa, (unsigned long long)g->hpa,
			         (unsigned long long)g->size, g->perm, g->memtype, g->level);
	}
	if (g_fmt == HV_S2_EPT) {
		/* effective perms: a PML4E that allows only X hides RW leaves */
		*entry_for(&t, root, 0, 3) = with_perm(*entry_for(&t, root, 0, 3), HV_PERM_X);
		walk_into(&t, root, &a);
		for (uint32_t i = 0; i < a.runs && i < HV_ARRAY_LEN(a.list); i++)
			assert_int_equal(a.list[i].perm, HV_PERM_X);
		/* A without its R page, and B; C (R only) is gone */
		assert_int_equal(a.bytes[0] + a.bytes[1] + a.bytes[2],
		                 2 * G1 - K4 + 2 * M2 + 2 * K4);
	} else {
		/* NPT: a PML4E without R/W and with NX leaves R on every leaf */
		*entry_for(&t, root, 0, 3) = with_perm(*entry_for(&t, root, 0, 3), HV_PERM_R);
		walk_into(&t, root, &a);
		for (uint32_t i = 0; i < a.runs && i < HV_ARRAY_LEN(a.list); i++)
			assert_int_equal(a.list[i].perm, HV_PERM_R);
		assert_int_equal(a.bytes[0] + a.bytes[1] + a.bytes[2],
		                 2 * G1 + 2 * M2 + 2 * K4 + M2);
	}
	tpool_free(&t);
}

/* A 4 KiB leaf at the last page of the 52-bit address field, and after it
 * the same entry plus a page: its address wraps to 0 and the carry lands in
 * bit 52, an ignored / available bit in both formats. Two pages far apart
 * in host memory, never one run. */
static void test_walk_run_ends_at_address_field(void **state)
{
	(void)state;
	struct tpool t;
	uint64_t root = prot_base_init(&t);
	uint64_t gpa = 2 * G1 + 2 * M2;
	uint64_t *a = entry_for(&t, root, gpa, 0), *b = entry_for(&t, root, gpa + K4, 0);
	uint64_t top = HV_S2_ADDR_MASK & ~(K4 - 1);
	*a = (*a & ~HV_S2_ADDR_MASK) | top;
	*b = *a + K4;
	assert_int_equal(*b & HV_S2_ADDR_MASK, 0);
	struct walk_acc w;
	walk_into(&t, root, &w);
	bool seen_top = false, seen_zero = false;
	for (uint32_t i = 0; i < w.runs && i < HV_ARRAY_LEN(w.list); i++) {
		const struct hv_ept_run *r = &w.list[i];
		if (r->gpa == gpa) {
			assert_int_equal(r->hpa, top);
			assert_int_equal(r->size, K4);
			seen_top = true;
		}
		if (r->gpa == gpa + K4) {
			assert_int_equal(r->hpa, 0);
			assert_int_equal(r->size, K4);
			seen_zero = true;
		}
	}
	assert_true(seen_top && seen_zero);
	tpool_free(&t);
}

static void count_run(void *ctx, const struct hv_ept_run *r)
{
	(void)r;
	(*(uint32_t *)ctx)++;
}

static void test_walk_malformed(void **state)
{
	struct tpool t;
	uint64_t root = prot_base_init(&t);
	uint32_t n = 0;
	assert_int_equal(hv_ept_walk(NULL, root, count_run, &n), HV_ERR_INVAL);
	assert_int_equal(hv_ept_walk(&t.pool, root, NULL, &n), HV_ERR_INVAL);
	assert_int_equal(hv_ept_walk(&t.pool, 0, count_run, &n), HV_ERR_INVAL);
	uint64_t *pdpte = entry_for(&t, root, 2 * G1, 2);
	uint64_t saved = *pdpte;
	*pdpte = (saved & ~HV_S2_ADDR_MASK) | 0x40000000;
	assert_int_equal(hv_ept_walk(&t.pool, root, count_run, &n), HV_ERR_INVAL);
	*pdpte = saved;
	/* the same PD under two PDPTEs: more tables entered than the pool
	 * ever handed out, so the walk stops instead of multiplying */
	*entry_for(&t, root, 5 * G1, 2) = saved;
	assert_int_equal(hv_ept_walk(&t.pool, root, count_run, &n), HV_ERR_INVAL);
	tpool_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_map_leaf_sizes),
	        cmocka_unit_test(test_map_entry_format),
	        cmocka_unit_test(test_map_rejects_bad_arguments),
	        cmocka_unit_test(test_map_overlap_leaves_tables_alone),
	        cmocka_unit_test(test_map_again_after_unmap),
	        cmocka_unit_test(test_map_exhaustion_every_step),
	        cmocka_unit_test(test_build_mock_config),
	        cmocka_unit_test(test_build_rejects_and_rolls_back),
	        cmocka_unit_test(test_build_empty_partition),
	        cmocka_unit_test(test_build_exhaustion_every_step),
	        cmocka_unit_test(test_translate_leaves_and_holes),
	        cmocka_unit_test(test_translate_malformed),
	        cmocka_unit_test(test_protect_cases),
	        cmocka_unit_test(test_protect_exhaustion_every_step),
	        cmocka_unit_test(test_protect_again),
	        cmocka_unit_test(test_protect_malformed),
	        cmocka_unit_test(test_walk_runs_merged_in_order),
	        cmocka_unit_test(test_walk_malformed),
	        cmocka_unit_test(test_walk_run_ends_at_address_field),
	};
	int failed = cmocka_run_group_tests_name("ept", tests, setup_ept, NULL);
	failed += cmocka_run_group_tests_name("npt", tests, setup_npt, NULL);
	return failed;
}
