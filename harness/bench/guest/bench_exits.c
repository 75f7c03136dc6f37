/* Guest for the KVM round-trip benchmark (hx-bench-kvm): a fixed number of
 * exits of each kind the runner turns into a core exit, in tight loops, so
 * the runner's per-kind statistics are steady-state figures:
 *   - stores to the console device's SCRATCH register (EPT violation ->
 *     KVM_EXIT_MMIO, emulated by the core);
 *   - CPUID at the runtime's trapping site (hardware breakpoint);
 *   - hypercall YIELD at the runtime's trapping site.
 * kvm-bench.json places the device at hx_console_link. */
#include "hv/device.h"
#include "hv/hcall.h"
#include "hx/guest.h"

extern char hx_console_link[];

#define EXITS_PER_KIND 20000u

void guest_main(void)
{
	volatile uint64_t *scratch = (volatile uint64_t *)(hx_console_link + HV_CONSOLE_SCRATCH);
	for (uint32_t i = 0; i < EXITS_PER_KIND; i++)
		*scratch = i;
	GUEST_ASSERT(*scratch == EXITS_PER_KIND - 1, "scratch lost a store");

	uint32_t r[4];
	for (uint32_t i = 0; i < EXITS_PER_KIND; i++)
		hx_cpuid(1, 0, r);
	GUEST_ASSERT(r[2] & (1u << 31), "hypervisor bit clear");

	for (uint32_t i = 0; i < EXITS_PER_KIND; i++)
		GUEST_ASSERT(hx_hcall(HV_HC_YIELD, 0, 0, 0, 0, NULL) == 0, "yield failed");
}
