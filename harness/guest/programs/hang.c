/* A guest that never finishes: the runner must stop it at its timeout and
 * report it, never hang. Expected outcome: timeout. */
#include "hx/guest.h"

void guest_main(void)
{
	GUEST_SYNC(1);
	for (;;)
		__asm__ volatile("pause");
}
