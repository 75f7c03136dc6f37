/* Touching memory that is not ours (EPT-OWN, CONTAIN), kvm-one.json with
 * on_violation inject-gp. Hypervisor memory, EPT tables and other
 * partitions' RAM must be reachable through no GPA: every GPA outside the
 * boot info's ranges is probed, below 4 GiB in 16 MiB steps (1 MiB steps in
 * the first 64 MiB, where the hypervisor's own host range lies in the
 * suite's configs) and above 4 GiB through the guest's own page tables up
 * to MAXPHYADDR. Each load, store and fetch must raise #GP. */
#include "hx/guest.h"

#define APIC_LOW 0xfec00000ull /* IOAPIC/LAPIC/HPET: KVM may emulate these */
#define APIC_HIGH 0xff000000ull

static uint64_t probes;

static bool in_boot_ranges(uint64_t gpa, uint64_t len)
{
	const struct hx_boot_info *bi = hx_boot();

	for (uint32_t i = 0; i < bi->nranges; i++) {
		const struct hx_boot_range *r = &bi->ranges[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + len)
			return true;
	}
	return false;
}

/* va maps gpa; both loads and stores must be contained. */
static void probe(uint64_t va, uint64_t gpa)
{
	uint64_t v = 0;

	GUEST_ASSERT_EQ(hx_read64_safe(va, &v), HX_VEC_GP, "load from GPA %#lx", gpa);
	if (hx_word_owner(v) >= 0)
		hx_ucall(HX_UCALL_FOUND, HX_FILE, __LINE__, "canary at an unmapped GPA", gpa, v,
		         (uint64_t)hx_word_owner(v), 0);
	GUEST_ASSERT_EQ(hx_write64_safe(va, 0x5a5a5a5a5a5a5a5aull), HX_VEC_GP, "store to GPA %#lx",
	                gpa);
	probes++;
}

static void probe_low(uint64_t gpa)
{
	if (gpa >= APIC_LOW && gpa < APIC_HIGH)
		return;
	if (in_boot_ranges(gpa, 8))
		return;
	probe(gpa, gpa);
}

void guest_main(void)
{
	const struct hx_boot_info *bi = hx_boot();
	uint32_t r[4];
	uint32_t maxphy;

	for (uint64_t gpa = 0; gpa < (64ull << 20); gpa += 1ull << 20)
		probe_low(gpa);
	for (uint64_t gpa = 64ull << 20; gpa < (4ull << 30); gpa += 16ull << 20)
		probe_low(gpa);
	/* The first and last word past every range of ours. */
	for (uint32_t i = 0; i < bi->nranges; i++) {
		uint64_t end = bi->ranges[i].gpa + bi->ranges[i].size;
		if (end < (4ull << 30)) {
			probe_low(end);
			probe_low((end | 0xfff) - 7 + 0x1000);
		}
		if (bi->ranges[i].gpa >= 0x1000)
			probe_low(bi->ranges[i].gpa - 8);
	}
	GUEST_SYNC(1);

	/* Fetches. */
	GUEST_ASSERT_EQ(hx_exec_safe(0x01000000ull, NULL), HX_VEC_GP, "fetch at 16 MiB");
	GUEST_ASSERT_EQ(hx_exec_safe(0xc0000000ull, NULL), HX_VEC_GP, "fetch at 3 GiB");
	GUEST_SYNC(2);

	/* Above 4 GiB, through our own page tables. */
	hx_cpuid(0x80000000u, 0, r);
	maxphy = 36;
	if (r[0] >= 0x80000008u) {
		hx_cpuid(0x80000008u, 0, r);
		maxphy = r[0] & 0xff;
	}
	for (uint32_t bit = 32; bit < maxphy; bit++) {
		uint64_t gpa = 1ull << bit;
		probe(hx_map_high(gpa), gpa);
		probe(hx_map_high(gpa + (1ull << 30) - 8), gpa + (1ull << 30) - 8);
	}
	{
		uint64_t top = (1ull << maxphy) - 8;
		probe(hx_map_high(top), top);
	}
	GUEST_PRINTF("%lu unmapped GPAs probed, all contained (MAXPHYADDR %u)", probes, maxphy);
	GUEST_DONE();
}
