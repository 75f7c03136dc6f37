/* The scans of a second-stage table shared by the walks over whole tables
 * (ept_walk.c, verify.c): for used entries, and along a run of 4 KiB
 * leaves. */
#include "ept_levels.h"

/* Clang's coverage builds (the fuzzers): not instrumented, the scan has no
 * branch worth a coverage edge and runs over every entry of every table. */
#if defined(__clang__) && __clang_major__ >= 13
#define S2_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define S2_NO_COVERAGE
#endif

/* An all-zero entry is not present in either format (EPT: R, W and X clear,
 * SDM Vol. 3C 29.3.2; NPT: P clear, APM Vol. 2 5.3), and most entries of a
 * partition's tables are: skipped eight at a time. */
S2_NO_COVERAGE unsigned hv_s2_next_used(const uint64_t *table, unsigned i)
{
	while (i < EPT_ENTRIES) {
		if ((i & 7) == 0) {
			const uint64_t *g = table + i;
			if ((g[0] | g[1] | g[2] | g[3] | g[4] | g[5] | g[6] | g[7]) == 0) {
				i += 8;
				continue;
			}
		}
		if (table[i] != 0)
			return i;
		i++;
	}
	return EPT_ENTRIES;
}

/* Most leaves of a partition's 4 KiB tables continue the one before them:
 * the next host page with the same attribute bits, so decoding the entry
 * gives what the one before gave. Such an entry is exactly the one before
 * plus a page, one compare each here instead of a decode and a step of the
 * caller's loop. Adding a page to an entry changes no attribute bit as
 * long as the address stays inside its field (bits 51:12 in both
 * formats): the run stops where it would leave the field, or reach
 * `limit`, instead. */
S2_NO_COVERAGE unsigned hv_s2_run_end(const uint64_t *table, unsigned i, uint64_t limit)
{
	uint64_t e = table[i];
	uint64_t addr = e & HV_S2_ADDR_MASK;
	uint64_t top = HV_S2_ADDR_MASK + HV_PAGE_SIZE; /* 2^52: the field's end */
	if (limit > top)
		limit = top;
	if (addr >= limit)
		return i + 1;
	/* Entries after i whose address is still below limit. */
	uint64_t more = ((limit - addr) >> HV_PAGE_SHIFT) - 1;
	unsigned end = more < EPT_ENTRIES - 1u - i ? i + 1u + (unsigned)more : EPT_ENTRIES;
	unsigned j = i + 1;
	for (e += HV_PAGE_SIZE; j < end && table[j] == e; j++)
		e += HV_PAGE_SIZE;
	return j;
}
