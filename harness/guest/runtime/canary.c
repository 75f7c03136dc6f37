/* Scanning memory for canaries of other owners (hx/guest_abi.h). */
#include "percpu.h"

uint64_t hx_canary_scan(uint64_t gpa, uint64_t size, uint32_t max_reports)
{
	const volatile uint64_t *p = (const volatile uint64_t *)gpa;
	int own = (int)hx_partition() + 1;
	uint64_t n = size / 8, found = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t w = p[i];
		int owner = hx_word_owner(w);

		if (owner < 0 || owner == own)
			continue;
		if (found < max_reports)
			hx_ucall(HX_UCALL_FOUND, HX_FILE, __LINE__,
			         owner == HX_CANARY_OWNER_HV ? "hypervisor canary"
			                                     : "other partition's canary",
			         gpa + i * 8, w, (uint64_t)owner, 0);
		found++;
	}
	return found;
}
