/* Containment by halting (CONTAIN), kvm-halt.json with on_violation halt:
 * a write to the read-only region at 0x10000000 must stop the partition
 * before the next instruction. Expected outcome: halted (violation). */
#include "hx/guest.h"

void guest_main(void)
{
	volatile uint64_t *ro = (volatile uint64_t *)0x10000000ull;
	uint64_t before = *ro;

	GUEST_SYNC(1);
	*ro = ~before;
	GUEST_ASSERT(0, "write to a read-only region was not contained (value now %#lx)",
	             (uint64_t)*ro);
}
