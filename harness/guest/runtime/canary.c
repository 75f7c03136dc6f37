/* Scanning memory for canaries of other owners (hx/guest_abi.h).
 *
 * The runner fills every word of private RAM and hypervisor memory, and an
 * EPT leaf maps at least a whole 4 KiB page, so memory of another owner
 * shows its canaries at every offset of every page it appears in. The
 * scan therefore reads a few words per page: guest instructions are
 * expensive under the nested KVM of these machines (microseconds each), and
 * a full scan of a few MiB would take tens of seconds. */
#include "percpu.h"

/* Byte offsets read in each page: both ends and the middle. */
static const uint16_t sample_offsets[] = {0, 8, 2048, 4088};

static uint64_t check_word(uint64_t gpa, int own, uint64_t found, uint32_t max_reports)
{
	uint64_t w = *(const volatile uint64_t *)gpa;
	int owner = hx_word_owner(w);

	if (owner < 0 || owner == own)
		return 0;
	if (found < max_reports)
		hx_ucall(HX_UCALL_FOUND, HX_FILE, __LINE__,
		         owner == HX_CANARY_OWNER_HV ? "hypervisor canary"
		                                     : "other partition's canary",
		         gpa, w, (uint64_t)owner, 0);
	return 1;
}

uint64_t hx_canary_scan(uint64_t gpa, uint64_t size, uint32_t max_reports)
{
	int own = (int)hx_partition() + 1;
	uint64_t found = 0, end = gpa + (size & ~7ull);

	for (uint64_t a = gpa; a < end;) {
		uint64_t page = a & ~0xfffull;
		if (a != page || end - a < 4096) {
			/* Partial page: every word. */
			found += check_word(a, own, found, max_reports);
			a += 8;
			continue;
		}
		for (unsigned i = 0; i < sizeof(sample_offsets) / sizeof(sample_offsets[0]); i++)
			found += check_word(page + sample_offsets[i], own, found, max_reports);
		a += 4096;
	}
	return found;
}
