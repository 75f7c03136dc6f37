#include "gwalk.h"

#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

static bool canonical48(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

bool hxk_gva_to_gpa(hxk_gpa_read_fn rd, void *ctx, const struct hxk_paging *pg, uint64_t gva,
                    uint64_t *gpa)
{
	if (!(pg->cr0 & CR0_PG)) {
		*gpa = gva & 0xffffffffull;
		return true;
	}
	if (!(pg->efer & EFER_LMA) || !(pg->cr4 & CR4_PAE) || (pg->cr4 & CR4_LA57))
		return false;
	if (!canonical48(gva))
		return false;
	uint64_t table = pg->cr3 & PTE_ADDR;
	/* Levels: PML4 (shift 39), PDPT (30, may map 1 GiB), PD (21, 2 MiB), PT (12). */
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t idx = (gva >> shift) & 511;
		uint64_t e;
		if (!rd(ctx, table + idx * 8, &e, sizeof(e)) || !(e & PTE_P))
			return false;
		if (shift == 12 || ((shift == 30 || shift == 21) && (e & PTE_PS))) {
			uint64_t mask = (1ull << shift) - 1;
			*gpa = (e & PTE_ADDR & ~mask) | (gva & mask);
			return true;
		}
		table = e & PTE_ADDR;
	}
	return false;
}

uint32_t hxk_read_linear(hxk_gpa_read_fn rd, void *ctx, const struct hxk_paging *pg, uint64_t gva,
                         uint8_t *buf, uint32_t len)
{
	uint32_t done = 0;
	while (done < len) {
		uint64_t va = gva + done;
		uint32_t chunk = 4096 - (uint32_t)(va & 4095);
		if (chunk > len - done)
			chunk = len - done;
		uint64_t gpa;
		if (!hxk_gva_to_gpa(rd, ctx, pg, va, &gpa) || !rd(ctx, gpa, buf + done, chunk))
			break;
		done += chunk;
	}
	return done;
}
