/* Guest page-table walker: 4K/2M/1G pages, not-present entries at every
 * level, reserved bits, canonical addresses, U/S, R/W with CR0.WP, NX,
 * SMEP/SMAP, unsupported modes, tables the EPT does not let the partition
 * read, a self-referencing table, and instruction fetches across pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpt_builder.h"
#include "hv/gpt.h"

/* Linear layout of the standard tables (built in setup). */
#define LA_USER 0x400000ull            /* 4K, user RW          -> 0x100000 */
#define LA_SUP_RO 0x401000ull          /* 4K, supervisor RO    -> 0x101000 */
#define LA_USER_NX 0x402000ull         /* 4K, user RW XD       -> 0x102000 */
#define LA_LAST 0x403000ull            /* 4K, user RW, next page absent -> 0x104000 */
#define LA_ABSENT_PT 0x404000ull       /* PTE not present */
#define LA_2M 0x600000ull              /* 2M, supervisor RW    -> 0x200000 */
#define LA_ABSENT_PD 0x800000ull       /* PDE not present */
#define LA_1G 0x40000000ull            /* 1G, user RW          -> 0 */
#define LA_ABSENT_PDPT 0x80000000ull   /* PDPTE not present */
#define LA_ABSENT_PML4 0x8000000000ull /* PML4E not present */
#define LA_HIGH 0xffff800000001000ull  /* 4K, supervisor RW -> 0x103000 */
#define LA_MMIO 0x405000ull            /* 4K -> passthrough MMIO (EPT RW, no X) */
#define LA_UNMAPPED 0x406000ull        /* 4K -> GPA the EPT does not map */
#define LA_DEVICE_PT 0xc0000000ull     /* PDPTE points into the console device */
#define LA_TOP 0x00007ffffffff000ull   /* last canonical low page -> 0x100000 */

struct fixture {
	struct mock_env *env;
	struct gpt_builder b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->env = calloc(1, sizeof(*f->env));
	if (!f->env)
		return -1;
	mock_config_one(&f->env->cfg);
	if (mock_env_start(f->env) != HV_OK)
		return -1;
	struct gpt_builder *b = &f->b;
	g_init(b, f->env);
	g_map(b, LA_USER, 0x100000, 0, G_RW | G_US);
	g_map(b, LA_SUP_RO, 0x101000, 0, 0);
	g_map(b, LA_USER_NX, 0x102000, 0, G_RW | G_US | G_XD);
	g_map(b, LA_LAST, 0x104000, 0, G_RW | G_US);
	g_map(b, LA_2M, 0x200000, 1, G_RW);
	g_map(b, LA_1G, 0, 2, G_RW | G_US);
	g_map(b, LA_HIGH, 0x103000, 0, G_RW);
	g_map(b, LA_MMIO, MOCK_MMIO_GPA, 0, G_RW);
	g_map(b, LA_UNMAPPED, 0x20000000, 0, G_RW);
	g_map(b, LA_TOP, 0x100000, 0, G_RW);
	/* a page directory "inside" the emulated device */
	g_put(f->env, g_entry(b, LA_DEVICE_PT, 2), MOCK_CONSOLE_GPA | G_P | G_RW);
	/* code/data bytes: each page filled with a pattern of its own */
	for (uint64_t page = 0x100000; page <= 0x104000; page += 0x1000) {
		uint8_t buf[4096];
		for (int i = 0; i < 4096; i++)
			buf[i] = (uint8_t)(page >> 12) ^ (uint8_t)i;
		mock_poke(f->env, MOCK_P0_RAM_HPA + page, buf, sizeof(buf));
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mock_env_stop(f->env);
	free(f->env);
	free(f);
	return 0;
}

/* ---- translation table -------------------------------------------------- */

enum mod {
	M_NONE = 0,
	M_USER = 1 << 0,   /* CPL 3 */
	M_NO_WP = 1 << 1,  /* CR0.WP clear */
	M_NO_NXE = 1 << 2, /* EFER.NXE clear */
	M_SMEP = 1 << 3,
	M_SMAP = 1 << 4,
	M_AC = 1 << 5,     /* RFLAGS.AC */
	M_NO_PG = 1 << 6,  /* CR0.PG clear */
	M_NO_LMA = 1 << 7, /* 32-bit/PAE paging */
	M_LA57 = 1 << 8,
	M_NO_PAE = 1 << 9,
};

struct tr_case {
	const char *name;
	uint64_t la;
	uint8_t access;
	uint32_t mods;
	/* entry patch applied before the walk (level -1: none; 4: CR3) */
	int patch_level;
	uint64_t set, clear;
	enum hv_gpt_fault want;
	uint64_t want_gpa;
};

#define RD HV_PERM_R
#define WR HV_PERM_W
#define EX HV_PERM_X
#define NOP -1, 0, 0
#define CR3 4

static const struct tr_case tr_cases[] = {
        /* page sizes */
        {"4K read", LA_USER + 0x123, RD, M_NONE, NOP, HV_GPT_OK, 0x100123},
        {"4K user write", LA_USER + 0xff8, WR, M_USER, NOP, HV_GPT_OK, 0x100ff8},
        {"4K user fetch", LA_USER, EX, M_USER, NOP, HV_GPT_OK, 0x100000},
        {"2M page", LA_2M + 0xabcde, RD, M_NONE, NOP, HV_GPT_OK, 0x2abcde},
        {"2M page last byte", LA_2M + 0x1fffff, WR, M_NONE, NOP, HV_GPT_OK, 0x3fffff},
        {"1G page", LA_1G + 0x12345678, RD, M_USER, NOP, HV_GPT_OK, 0x12345678},
        {"high canonical half", LA_HIGH + 0x10, RD, M_NONE, NOP, HV_GPT_OK, 0x103010},
        /* canonical addresses */
        {"non-canonical low", 0x0000800000000000ull, RD, M_NONE, NOP, HV_GPT_NON_CANONICAL, 0},
        {"non-canonical high", 0xffff7fffffffffffull, RD, M_NONE, NOP, HV_GPT_NON_CANONICAL, 0},
        {"non-canonical bit 63", 0x8000000000400000ull, EX, M_NONE, NOP, HV_GPT_NON_CANONICAL, 0},
        /* not present at each level */
        {"PML4E not present", LA_ABSENT_PML4, RD, M_NONE, NOP, HV_GPT_NOT_PRESENT, 0},
        {"PDPTE not present", LA_ABSENT_PDPT, RD, M_NONE, NOP, HV_GPT_NOT_PRESENT, 0},
        {"PDE not present", LA_ABSENT_PD, RD, M_NONE, NOP, HV_GPT_NOT_PRESENT, 0},
        {"PTE not present", LA_ABSENT_PT, RD, M_NONE, NOP, HV_GPT_NOT_PRESENT, 0},
        {"not present wins over reserved", LA_USER, RD, M_NONE, 0, 1ull << 50, G_P,
         HV_GPT_NOT_PRESENT, 0},
        /* reserved bits */
        {"PML4E PS", LA_USER, RD, M_NONE, 3, G_PS, 0, HV_GPT_RESERVED, 0},
        {"PML4E bit 51", LA_USER, RD, M_NONE, 3, 1ull << 51, 0, HV_GPT_RESERVED, 0},
        {"PDPTE bit 48", LA_USER, RD, M_NONE, 2, 1ull << 48, 0, HV_GPT_RESERVED, 0},
        {"1G PDPTE bit 13", LA_1G, RD, M_NONE, 2, 1ull << 13, 0, HV_GPT_RESERVED, 0},
        {"1G PDPTE bit 29", LA_1G, RD, M_NONE, 2, 1ull << 29, 0, HV_GPT_RESERVED, 0},
        {"1G PDPTE PAT bit 12 is fine", LA_1G + 5, RD, M_NONE, 2, 1ull << 12, 0, HV_GPT_OK, 5},
        {"2M PDE bit 20", LA_2M, RD, M_NONE, 1, 1ull << 20, 0, HV_GPT_RESERVED, 0},
        {"2M PDE bit 13", LA_2M, RD, M_NONE, 1, 1ull << 13, 0, HV_GPT_RESERVED, 0},
        {"2M PDE PAT bit 12 is fine", LA_2M + 7, RD, M_NONE, 1, 1ull << 12, 0, HV_GPT_OK, 0x200007},
        {"PDE bit 49", LA_USER, RD, M_NONE, 1, 1ull << 49, 0, HV_GPT_RESERVED, 0},
        {"PTE bit 48", LA_USER, RD, M_NONE, 0, 1ull << 48, 0, HV_GPT_RESERVED, 0},
        {"PTE PAT bit 7 is fine", LA_USER, RD, M_NONE, 0, G_PS, 0, HV_GPT_OK, 0x100000},
        {"PTE ignored bits 62:52", LA_USER, RD, M_NONE, 0, 0x7ff0000000000000ull, 0, HV_GPT_OK,
         0x100000},
        {"XD without NXE is reserved", LA_USER_NX, RD, M_NO_NXE, NOP, HV_GPT_RESERVED, 0},
        {"XD in PML4E without NXE", LA_USER, RD, M_NO_NXE, 3, G_XD, 0, HV_GPT_RESERVED, 0},
        {"CR3 bit 48", LA_USER, RD, M_NONE, CR3, 1ull << 48, 0, HV_GPT_RESERVED, 0},
        {"CR3 bit 63", LA_USER, RD, M_NONE, CR3, 1ull << 63, 0, HV_GPT_RESERVED, 0},
        {"CR3 PCID bits are not address", LA_USER + 1, RD, M_NONE, CR3, 0xfff, 0, HV_GPT_OK,
         0x100001},
        /* user/supervisor */
        {"user read of supervisor page", LA_SUP_RO, RD, M_USER, NOP, HV_GPT_PROTECTION, 0},
        {"user read, PDE supervisor", LA_USER, RD, M_USER, 1, 0, G_US, HV_GPT_PROTECTION, 0},
        {"user read, PML4E supervisor", LA_USER, RD, M_USER, 3, 0, G_US, HV_GPT_PROTECTION, 0},
        {"supervisor read of user page", LA_USER, RD, M_NONE, NOP, HV_GPT_OK, 0x100000},
        /* read/write and CR0.WP */
        {"user write to read-only", LA_SUP_RO, WR, M_USER, NOP, HV_GPT_PROTECTION, 0},
        {"user write, PDPTE read-only", LA_USER, WR, M_USER, 2, 0, G_RW, HV_GPT_PROTECTION, 0},
        {"user write, read-only even without WP", LA_USER, WR, M_USER | M_NO_WP, 0, 0, G_RW,
         HV_GPT_PROTECTION, 0},
        {"user read of read-only", LA_USER, RD, M_USER, 0, 0, G_RW, HV_GPT_OK, 0x100000},
        {"supervisor write, WP set", LA_SUP_RO, WR, M_NONE, NOP, HV_GPT_PROTECTION, 0},
        {"supervisor write, WP clear", LA_SUP_RO + 8, WR, M_NO_WP, NOP, HV_GPT_OK, 0x101008},
        /* NX */
        {"fetch from XD page", LA_USER_NX, EX, M_USER, NOP, HV_GPT_PROTECTION, 0},
        {"read from XD page", LA_USER_NX, RD, M_USER, NOP, HV_GPT_OK, 0x102000},
        {"fetch, XD in PML4E", LA_USER, EX, M_NONE, 3, G_XD, 0, HV_GPT_PROTECTION, 0},
        {"fetch, XD in PDE", LA_USER, EX, M_NONE, 1, G_XD, 0, HV_GPT_PROTECTION, 0},
        {"supervisor fetch from XD", LA_USER_NX, EX, M_NONE, NOP, HV_GPT_PROTECTION, 0},
        /* SMEP / SMAP */
        {"user fetch from supervisor page", LA_SUP_RO, EX, M_USER, NOP, HV_GPT_PROTECTION, 0},
        {"supervisor fetch from user page", LA_USER, EX, M_NONE, NOP, HV_GPT_OK, 0x100000},
        {"SMEP: supervisor fetch from user page", LA_USER, EX, M_SMEP, NOP, HV_GPT_PROTECTION, 0},
        {"SMEP: supervisor fetch from supervisor page", LA_SUP_RO, EX, M_SMEP, NOP, HV_GPT_OK,
         0x101000},
        {"SMAP: supervisor read of user page", LA_USER, RD, M_SMAP, NOP, HV_GPT_PROTECTION, 0},
        {"SMAP: supervisor write of user page", LA_USER, WR, M_SMAP, NOP, HV_GPT_PROTECTION, 0},
        {"SMAP with AC", LA_USER, WR, M_SMAP | M_AC, NOP, HV_GPT_OK, 0x100000},
        {"SMAP: supervisor page", LA_SUP_RO, RD, M_SMAP, NOP, HV_GPT_OK, 0x101000},
        {"SMAP: user mode unaffected", LA_USER, RD, M_SMAP | M_USER, NOP, HV_GPT_OK, 0x100000},
        {"SMAP: fetch unaffected", LA_USER, EX, M_SMAP, NOP, HV_GPT_OK, 0x100000},
        /* modes */
        {"paging off: linear is physical", 0x12345, RD, M_NO_PG, NOP, HV_GPT_OK, 0x12345},
        {"paging off, any address", 0xfed00010, WR, M_NO_PG | M_NO_LMA, NOP, HV_GPT_OK, 0xfed00010},
        {"32-bit/PAE paging", LA_USER, RD, M_NO_LMA, NOP, HV_GPT_UNSUPPORTED, 0},
        {"5-level paging", LA_USER, RD, M_LA57, NOP, HV_GPT_UNSUPPORTED, 0},
        {"LMA without PAE", LA_USER, RD, M_NO_PAE, NOP, HV_GPT_UNSUPPORTED, 0},
        /* tables the EPT does not let the partition read */
        {"CR3 in unmapped GPA", LA_USER, RD, M_NONE, CR3, 0x20000000, 0, HV_GPT_TABLE_FAULT, 0},
        {"PD inside the emulated device", LA_DEVICE_PT, RD, M_NONE, NOP, HV_GPT_TABLE_FAULT, 0},
        {"PT beyond guest RAM", LA_USER, RD, M_NONE, 1, 0x30000000, 0, HV_GPT_TABLE_FAULT, 0},
        /* the final GPA is not checked against the EPT by a translation */
        {"leaf to an unmapped GPA", LA_UNMAPPED + 4, RD, M_NONE, NOP, HV_GPT_OK, 0x20000004},
};

static void apply_mods(struct hv_vcpu_state *st, uint32_t mods)
{
	if (mods & M_USER)
		st->cpl = 3;
	if (mods & M_NO_WP)
		st->cr0 &= ~G_CR0_WP;
	if (mods & M_NO_NXE)
		st->efer &= ~G_EFER_NXE;
	if (mods & M_SMEP)
		st->cr4 |= G_CR4_SMEP;
	if (mods & M_SMAP)
		st->cr4 |= G_CR4_SMAP;
	if (mods & M_AC)
		st->rflags |= G_RFLAGS_AC;
	if (mods & M_NO_PG)
		st->cr0 &= ~G_CR0_PG;
	if (mods & M_NO_LMA)
		st->efer &= ~(G_EFER_LMA | G_EFER_LME);
	if (mods & M_LA57)
		st->cr4 |= G_CR4_LA57;
	if (mods & M_NO_PAE)
		st->cr4 &= ~G_CR4_PAE;
}

static void test_gpt_translate_table(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < HV_ARRAY_LEN(tr_cases); i++) {
		const struct tr_case *c = &tr_cases[i];
		struct hv_vcpu_state st;
		g_state(&f->b, &st);
		apply_mods(&st, c->mods);
		uint64_t saved_gpa = 0, saved = 0;
		if (c->patch_level == CR3) {
			st.cr3 = (st.cr3 | c->set) & ~c->clear;
		} else if (c->patch_level >= 0) {
			saved_gpa = g_entry(&f->b, c->la, c->patch_level);
			saved = g_get(f->env, saved_gpa);
			g_put(f->env, saved_gpa, (saved | c->set) & ~c->clear);
		}
		uint64_t gpa = 0xdeadbeef;
		enum hv_gpt_fault got =
		        hv_gpt_translate(&f->env->sys, 0, &st, c->la, c->access, &gpa);
		if (c->patch_level >= 0 && c->patch_level != CR3)
			g_put(f->env, saved_gpa, saved);
		if (got != c->want)
			fail_msg("%s: %s, expected %s", c->name, hv_gpt_fault_str(got),
			         hv_gpt_fault_str(c->want));
		if (gpa != c->want_gpa)
			fail_msg("%s: gpa 0x%llx, expected 0x%llx", c->name,
			         (unsigned long long)gpa, (unsigned long long)c->want_gpa);
	}
}

/* A PML4E that points at its own table: every level reads the same page,
 * the walk still ends after four entries. */
static void test_gpt_self_map_terminates(void **state)
{
	struct fixture *f = *state;
	struct hv_vcpu_state st;
	g_state(&f->b, &st);
	uint64_t pml4 = f->b.cr3;
	/* slot 511 maps the PML4 onto itself */
	g_put(f->env, pml4 + 511 * 8, pml4 | G_P | G_RW);
	uint64_t la = 0xfffffffffffff000ull | 0x10; /* indices 511,511,511,511 */
	uint32_t reads = f->env->plat.calls[MOCK_OP_PHYS_READ];
	uint64_t gpa;
	assert_int_equal(hv_gpt_translate(&f->env->sys, 0, &st, la, HV_PERM_R, &gpa), HV_GPT_OK);
	assert_int_equal(gpa, pml4 + 0x10);
	assert_true(f->env->plat.calls[MOCK_OP_PHYS_READ] - reads <= 4);
	/* the same loop with PS set in the PML4E: reserved, found at once */
	g_put(f->env, pml4 + 511 * 8, pml4 | G_P | G_RW | G_PS);
	assert_int_equal(hv_gpt_translate(&f->env->sys, 0, &st, la, HV_PERM_R, &gpa),
	                 HV_GPT_RESERVED);
	assert_int_equal(gpa, 0);
}

/* The walk never writes guest memory (no accessed/dirty updates). */
static void test_gpt_walk_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct hv_vcpu_state st;
	g_state(&f->b, &st);
	uint32_t writes = f->env->plat.calls[MOCK_OP_PHYS_WRITE];
	uint64_t gpa;
	for (size_t i = 0; i < HV_ARRAY_LEN(tr_cases); i++)
		(void)hv_gpt_translate(&f->env->sys, 0, &st, tr_cases[i].la, HV_PERM_W, &gpa);
	assert_int_equal(f->env->plat.calls[MOCK_OP_PHYS_WRITE], writes);
}

/* A platform read failure while reading a table is a table fault. */
static void test_gpt_platform_failure(void **state)
{
	struct fixture *f = *state;
	struct hv_vcpu_state st;
	g_state(&f->b, &st);
	uint64_t gpa;
	for (uint32_t n = 1; n <= 4; n++) {
		f->env->plat.fail_nth[MOCK_OP_PHYS_READ] =
		        f->env->plat.calls[MOCK_OP_PHYS_READ] + n;
		assert_int_equal(hv_gpt_translate(&f->env->sys, 0, &st, LA_USER, HV_PERM_R, &gpa),
		                 HV_GPT_TABLE_FAULT);
	}
	f->env->plat.fail_nth[MOCK_OP_PHYS_READ] = 0;
	assert_int_equal(hv_gpt_translate(&f->env->sys, 0, &st, LA_USER, HV_PERM_R, &gpa),
	                 HV_GPT_OK);
}

/* ---- fetch ---------------------------------------------------------------- */

static uint8_t pattern(uint64_t gpa)
{
	return (uint8_t)(gpa >> 12) ^ (uint8_t)(gpa & 0xfff);
}

struct fetch_case {
	const char *name;
	uint64_t rip;
	uint32_t len;
	uint32_t mods;
	uint32_t want_n;
	enum hv_gpt_fault want;
	uint64_t first_gpa;  /* GPA of the first byte */
	uint64_t second_gpa; /* GPA of the first byte on the next page */
};

static const struct fetch_case fetch_cases[] = {
        {"inside one page", LA_USER + 0x10, 15, M_NONE, 15, HV_GPT_OK, 0x100010, 0},
        {"length clamped to 15", LA_USER + 0x10, 100, M_NONE, 15, HV_GPT_OK, 0x100010, 0},
        {"nothing asked", LA_USER, 0, M_NONE, 0, HV_GPT_OK, 0, 0},
        {"ends at page end", LA_USER + 0xff1, 15, M_NONE, 15, HV_GPT_OK, 0x100ff1, 0},
        {"across into supervisor page", LA_USER + 0xff8, 15, M_NONE, 15, HV_GPT_OK, 0x100ff8,
         0x101000},
        {"user: second page supervisor", LA_USER + 0xffa, 15, M_USER, 6, HV_GPT_PROTECTION,
         0x100ffa, 0},
        {"second page NX", LA_SUP_RO + 0xff9, 15, M_NONE, 7, HV_GPT_PROTECTION, 0x101ff9, 0},
        {"second page not present", LA_LAST + 0xff8, 15, M_NONE, 8, HV_GPT_NOT_PRESENT, 0x104ff8,
         0},
        {"first page not present", LA_ABSENT_PT, 15, M_NONE, 0, HV_GPT_NOT_PRESENT, 0, 0},
        {"first page NX", LA_USER_NX, 15, M_NONE, 0, HV_GPT_PROTECTION, 0, 0},
        {"non-canonical rip", 0x0000800000000000ull, 15, M_NONE, 0, HV_GPT_NON_CANONICAL, 0, 0},
        {"code in EPT RW page without X", LA_MMIO, 15, M_NONE, 0, HV_GPT_EPT_FAULT, 0, 0},
        {"code in unmapped GPA", LA_UNMAPPED, 15, M_NONE, 0, HV_GPT_EPT_FAULT, 0, 0},
        {"crosses into non-canonical", LA_TOP + 0xff8, 15, M_NONE, 8, HV_GPT_NON_CANONICAL,
         0x100ff8, 0},
        {"paging off", 0x100ff8, 15, M_NO_PG, 15, HV_GPT_OK, 0x100ff8, 0x101000},
        {"paging off, second page unmapped", 0x7ffff8, 15, M_NO_PG, 8, HV_GPT_EPT_FAULT, 0x7ffff8,
         0},
};

static void test_gpt_fetch_table(void **state)
{
	struct fixture *f = *state;
	/* the last RAM page, for the unpaged case */
	uint8_t tail[8];
	for (int i = 0; i < 8; i++)
		tail[i] = pattern(0x7ffff8 + (uint64_t)i);
	mock_poke(f->env, MOCK_P0_RAM_HPA + 0x7ffff8, tail, sizeof(tail));
	for (size_t i = 0; i < HV_ARRAY_LEN(fetch_cases); i++) {
		const struct fetch_case *c = &fetch_cases[i];
		struct hv_vcpu_state st;
		g_state(&f->b, &st);
		apply_mods(&st, c->mods);
		uint8_t buf[16];
		memset(buf, 0xee, sizeof(buf));
		enum hv_gpt_fault fault = HV_GPT_FAULT_COUNT;
		uint32_t n = hv_gpt_fetch(&f->env->sys, 0, &st, c->rip, buf, c->len, &fault);
		if (n != c->want_n || fault != c->want)
			fail_msg("%s: %u bytes, %s; expected %u, %s", c->name, n,
			         hv_gpt_fault_str(fault), c->want_n, hv_gpt_fault_str(c->want));
		for (uint32_t k = 0; k < n; k++) {
			uint64_t off = (c->rip & 0xfff) + k;
			uint64_t gpa =
			        off < 0x1000 ? c->first_gpa + k : c->second_gpa + (off - 0x1000);
			if (buf[k] != pattern(gpa))
				fail_msg("%s: byte %u is 0x%02x, expected 0x%02x (gpa 0x%llx)",
				         c->name, k, buf[k], pattern(gpa), (unsigned long long)gpa);
		}
		for (uint32_t k = n; k < sizeof(buf); k++)
			if (buf[k] != 0xee)
				fail_msg("%s: byte %u written beyond the fetch", c->name, k);
	}
}

static void test_gpt_fetch_null_fault(void **state)
{
	struct fixture *f = *state;
	struct hv_vcpu_state st;
	g_state(&f->b, &st);
	uint8_t buf[15];
	assert_int_equal(hv_gpt_fetch(&f->env->sys, 0, &st, LA_USER, buf, 15, NULL), 15);
	assert_int_equal(hv_gpt_fetch(&f->env->sys, 0, &st, LA_ABSENT_PT, buf, 15, NULL), 0);
}

static void test_gpt_fault_strings(void **state)
{
	(void)state;
	for (int i = 0; i < HV_GPT_FAULT_COUNT; i++) {
		const char *s = hv_gpt_fault_str((enum hv_gpt_fault)i);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown");
	}
	assert_string_equal(hv_gpt_fault_str(HV_GPT_OK), "ok");
	assert_string_equal(hv_gpt_fault_str(HV_GPT_FAULT_COUNT), "unknown");
	assert_string_equal(hv_gpt_fault_str((enum hv_gpt_fault) - 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_gpt_translate_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_gpt_self_map_terminates, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_gpt_walk_writes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_gpt_platform_failure, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_gpt_fetch_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_gpt_fetch_null_fault, setup, teardown),
	        cmocka_unit_test(test_gpt_fault_strings),
	};
	return cmocka_run_group_tests_name("gpt", tests, NULL, NULL);
}
