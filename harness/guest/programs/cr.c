/* Control-register writes under the core's policy (hv/cr.h), for the
 * booted hypervisor, which intercepts CR0 and CR4 writes (KVM here does
 * not report them: this program is not in the KVM suite). Against
 * kvm-amd-one.json (violations inject #GP): allowed writes land and read
 * back, writes the policy or the architecture refuses raise #GP and leave
 * the register as it was. */
#include "hx/guest.h"

#define NO HX_NO_FAULT
#define GP HX_VEC_GP

#define CR0_TS (1ull << 3)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_PKE (1ull << 22)

static uint64_t cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static uint64_t set_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
	return 0;
}

static uint64_t set_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
	return 0;
}

static uint64_t clts(uint64_t unused)
{
	(void)unused;
	__asm__ volatile("clts" ::: "memory");
	return 0;
}

static uint64_t lmsw(uint64_t v)
{
	uint16_t w = (uint16_t)v;
	__asm__ volatile("lmsw %w0" : : "r"(w) : "memory");
	return 0;
}

struct cr_case {
	const char *name;
	uint64_t (*write)(uint64_t);
	uint64_t value;
	int want;       /* vector or NO */
	uint64_t after; /* the register after it */
};

void guest_main(void)
{
	const uint64_t c0 = cr0(), c4 = cr4();
	GUEST_ASSERT(c0 & CR0_WP, "CR0.WP set at start: %#llx", (unsigned long long)c0);
	GUEST_SYNC(1);
	const struct cr_case cases0[] = {
	        {"CR0.TS set", set_cr0, c0 | CR0_TS, NO, c0 | CR0_TS},
	        {"CLTS", clts, 0, NO, c0},
	        {"LMSW sets TS, keeps PE", lmsw, (c0 & 0xe) | CR0_TS, NO, c0 | CR0_TS},
	        {"CR0 back", set_cr0, c0, NO, c0},
	        {"CR0.WP cleared (policy)", set_cr0, c0 & ~CR0_WP, GP, c0},
	        {"CR0 bit 40 (reserved)", set_cr0, c0 | (1ull << 40), GP, c0},
	        {"CR0.PG cleared in long mode", set_cr0, c0 & ~CR0_PG, GP, c0},
	        {"CR0.NW without CD", set_cr0, c0 | (1ull << 29), GP, c0},
	};
	for (unsigned i = 0; i < sizeof(cases0) / sizeof(cases0[0]); i++) {
		const struct cr_case *c = &cases0[i];
		int vec = hx_try(c->write, c->value, NULL);
		GUEST_ASSERT_EQ(vec, c->want, "%s", c->name);
		GUEST_ASSERT_EQ(cr0(), c->after, "CR0 after %s", c->name);
	}
	GUEST_SYNC(2);
	const struct cr_case cases4[] = {
	        {"CR4.PGE set", set_cr4, c4 | CR4_PGE, NO, c4 | CR4_PGE},
	        {"CR4 back", set_cr4, c4, NO, c4},
	        {"CR4.VMXE (policy)", set_cr4, c4 | CR4_VMXE, GP, c4},
	        {"CR4.SMXE (policy)", set_cr4, c4 | CR4_SMXE, GP, c4},
	        {"CR4.PKE (policy)", set_cr4, c4 | CR4_PKE, GP, c4},
	        {"CR4 bit 15 (reserved)", set_cr4, c4 | (1ull << 15), GP, c4},
	        {"CR4.PAE cleared in long mode", set_cr4, c4 & ~CR4_PAE, GP, c4},
	};
	for (unsigned i = 0; i < sizeof(cases4) / sizeof(cases4[0]); i++) {
		const struct cr_case *c = &cases4[i];
		int vec = hx_try(c->write, c->value, NULL);
		GUEST_ASSERT_EQ(vec, c->want, "%s", c->name);
		GUEST_ASSERT_EQ(cr4(), c->after, "CR4 after %s", c->name);
	}
	GUEST_DONE();
}
