/* Triple fault: with an empty IDT, #UD cannot be delivered, nor the #GP
 * and #DF that follow (SDM Vol. 3A, 6.15 "Interrupt 8"), so the vCPU
 * shuts down. Expected outcome: triple fault, reported, never a hang. */
#include "hx/guest.h"

void guest_main(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {0, 0};

	GUEST_SYNC(1);
	__asm__ volatile("lidt %0\n\tud2" ::"m"(idtr));
	GUEST_ASSERT(0, "survived a triple fault");
}
