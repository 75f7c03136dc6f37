/* Scan everything reachable for foreign canaries (EPT-OWN), in every
 * partition of kvm-two.json: all RAM ranges and channel windows from the
 * boot info. Each word tagged with another owner (another partition, or 0
 * for the hypervisor) is reported with HX_UCALL_FOUND and fails the run.
 * Run with the runner's broken-EPT control, partition 0 must find
 * partition 1's canaries. The scan also checks that our own canaries are
 * there, so an unfilled memory cannot pass for a clean one. */
#include "hx/guest.h"

/* Pages whose first word is our own canary (the image, boot structures
 * and stacks hold other data). */
static uint64_t count_own_pages(uint64_t gpa, uint64_t size)
{
	int own = (int)hx_partition() + 1;
	uint64_t n = 0;

	for (uint64_t a = gpa; a + 8 <= gpa + size; a += 4096)
		n += hx_word_owner(*(const volatile uint64_t *)a) == own;
	return n;
}

void guest_main(void)
{
	const struct hx_boot_info *bi = hx_boot();
	uint64_t foreign = 0, own = 0, scanned = 0;

	for (uint32_t i = 0; i < bi->nranges; i++) {
		const struct hx_boot_range *r = &bi->ranges[i];
		if (r->kind != HX_RANGE_RAM && r->kind != HX_RANGE_CHANNEL)
			continue;
		if (!(r->perm & 1) || r->gpa + r->size > (4ull << 30))
			continue;
		foreign += hx_canary_scan(r->gpa, r->size, 8);
		if (r->kind == HX_RANGE_RAM)
			own += count_own_pages(r->gpa, r->size);
		scanned += r->size;
	}
	GUEST_PRINTF("scanned %lu KiB: %lu pages with our own canaries, %lu foreign words",
	             scanned >> 10, own, foreign);
	GUEST_ASSERT_EQ(foreign, 0, "memory of another owner is visible");
	GUEST_ASSERT(own > 0, "no canaries of our own: memory was not filled");
	GUEST_DONE();
}
