/* Smallest guest: every runtime path that needs no special config. */
#include "hx/guest.h"

static uint64_t ud(uint64_t arg)
{
	__asm__ volatile("ud2");
	return arg;
}

void guest_main(void)
{
	uint32_t r[4];

	GUEST_SYNC(1);
	hx_cpuid(0, 0, r);
	GUEST_PRINTF("max basic leaf %#x", r[0]);
	GUEST_ASSERT_EQ(hx_try(ud, 0, NULL), HX_VEC_UD);
	GUEST_DONE();
}
