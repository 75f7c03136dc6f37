/* The SHUTDOWN hypercall halts the partition; nothing after it runs.
 * Expected outcome: halted (shutdown). */
#include "hx/guest.h"
#include "hv/hcall.h"

void guest_main(void)
{
	GUEST_SYNC(1);
	hx_hcall(HV_HC_SHUTDOWN, 0, 0, 0, 0, NULL);
	GUEST_ASSERT(0, "still running after SHUTDOWN");
}
