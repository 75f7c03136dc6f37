/* Builds 4-level guest page tables in the RAM of mock partition 0 for the
 * page-walker and EPT-violation tests. Tables are taken from a bump
 * allocator in guest RAM; entries can be read and patched afterwards to
 * create faults at any level. Header-only: each test includes it once. */
#ifndef GPT_BUILDER_H
#define GPT_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/exit.h"
#include "mock_config.h"

#define G_P (1ull << 0)
#define G_RW (1ull << 1)
#define G_US (1ull << 2)
#define G_PS (1ull << 7)
#define G_XD (1ull << 63)
#define G_ADDR 0x000ffffffffff000ull

#define G_CR0_PE (1ull << 0)
#define G_CR0_WP (1ull << 16)
#define G_CR0_PG (1ull << 31)
#define G_CR4_PAE (1ull << 5)
#define G_CR4_LA57 (1ull << 12)
#define G_CR4_SMEP (1ull << 20)
#define G_CR4_SMAP (1ull << 21)
#define G_EFER_LME (1ull << 8)
#define G_EFER_LMA (1ull << 10)
#define G_EFER_NXE (1ull << 11)
#define G_RFLAGS_AC (1ull << 18)

/* Table pages come from [G_TABLES, G_TABLES_END) of partition 0's RAM. */
#define G_TABLES 0x10000ull
#define G_TABLES_END 0x80000ull

struct gpt_builder {
	struct mock_env *env;
	uint64_t cr3;  /* GPA of the PML4 */
	uint64_t next; /* next free table page */
};

static inline uint64_t g_get(struct mock_env *env, uint64_t gpa)
{
	uint64_t v;
	mock_peek(env, MOCK_P0_RAM_HPA + gpa, &v, sizeof(v));
	return v;
}

static inline void g_put(struct mock_env *env, uint64_t gpa, uint64_t v)
{
	mock_poke(env, MOCK_P0_RAM_HPA + gpa, &v, sizeof(v));
}

static inline uint64_t g_alloc(struct gpt_builder *b)
{
	if (b->next >= G_TABLES_END)
		abort();
	uint64_t gpa = b->next;
	b->next += 0x1000;
	static const uint8_t zero[4096];
	mock_poke(b->env, MOCK_P0_RAM_HPA + gpa, zero, sizeof(zero));
	return gpa;
}

static inline void g_init(struct gpt_builder *b, struct mock_env *env)
{
	b->env = env;
	b->next = G_TABLES;
	b->cr3 = g_alloc(b);
}

/* GPA of the entry for `la` at `level` (3 PML4E, 2 PDPTE, 1 PDE, 0 PTE);
 * missing tables above it are created present, writable and user. */
static inline uint64_t g_entry(struct gpt_builder *b, uint64_t la, int level)
{
	uint64_t table = b->cr3;
	for (int l = 3; l > level; l--) {
		uint64_t e_gpa = table + ((la >> (12 + 9 * l)) & 511) * 8;
		uint64_t e = g_get(b->env, e_gpa);
		if (!(e & G_P)) {
			e = g_alloc(b) | G_P | G_RW | G_US;
			g_put(b->env, e_gpa, e);
		}
		table = e & G_ADDR;
	}
	return table + ((la >> (12 + 9 * level)) & 511) * 8;
}

/* Map the page containing la at `level` (0 4K, 1 2M, 2 1G) to gpa. */
static inline void g_map(struct gpt_builder *b, uint64_t la, uint64_t gpa, int level,
                         uint64_t flags)
{
	uint64_t e = (gpa & G_ADDR) | flags | G_P | (level ? G_PS : 0);
	g_put(b->env, g_entry(b, la, level), e);
}

static inline void g_patch(struct gpt_builder *b, uint64_t la, int level, uint64_t set,
                           uint64_t clear)
{
	uint64_t gpa = g_entry(b, la, level);
	g_put(b->env, gpa, (g_get(b->env, gpa) | set) & ~clear);
}

/* A 64-bit supervisor vCPU using the builder's tables. */
static inline void g_state(const struct gpt_builder *b, struct hv_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->cr0 = G_CR0_PE | G_CR0_PG | G_CR0_WP;
	st->cr4 = G_CR4_PAE;
	st->efer = G_EFER_LME | G_EFER_LMA | G_EFER_NXE;
	st->cr3 = b->cr3;
	st->rflags = 2;
}

#endif
