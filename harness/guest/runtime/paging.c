/* A 1 GiB window onto any guest-physical address: the runner's page tables
 * cover [0, 4 GiB) only, and a guest that wants to touch GPAs above that
 * (as an attacker would) builds its own mapping. */
#include "percpu.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define WINDOW_PML4_SLOT 128 /* VA 0x400000000000 + vCPU * 512 GiB */

static uint64_t hx_pdpt[HX_MAX_VCPUS][512] __attribute__((aligned(4096)));
static uint64_t hx_pd[HX_MAX_VCPUS][512] __attribute__((aligned(4096)));

uint64_t hx_map_high(uint64_t gpa)
{
	uint32_t vcpu = hx_vcpu();
	uint64_t slot = WINDOW_PML4_SLOT + vcpu;
	uint64_t va = slot << 39;
	uint64_t base = gpa & ~((1ull << 30) - 1);
	uint64_t *pml4, cr3;

	/* 2 MiB pages: 1 GiB pages need CPUID.80000001H:EDX.26, which a
	 * partition may not see. */
	for (uint64_t i = 0; i < 512; i++)
		hx_pd[vcpu][i] = (base + (i << 21)) | PTE_P | PTE_RW | PTE_US | PTE_PS;
	hx_pdpt[vcpu][0] = (uint64_t)hx_pd[vcpu] | PTE_P | PTE_RW | PTE_US;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & 0x000ffffffffff000ull);
	pml4[slot] = (uint64_t)hx_pdpt[vcpu] | PTE_P | PTE_RW | PTE_US;
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
	return va + (gpa - base);
}
