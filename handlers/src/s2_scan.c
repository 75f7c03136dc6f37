/* The scans of a second-stage table shared by the walks over whole tables
 * (ept_walk.c, verify.c) and the builder (ept.c): for used entries, along
 * a run of 4 KiB leaves, and the filling of one. */
#include "ept_levels.h"

/* Clang's coverage builds (the fuzzers): not instrumented, the scan has no
 * branch worth a coverage edge and runs over every entry of every table. */
#if defined(__clang__) && __clang_major__ >= 13
#define S2_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define S2_NO_COVERAGE
#endif

/* AddressSanitizer builds check every load and store of these loops, one
 * check per entry for a loop that does one compare per entry: that was an
 * eighth of the EPT fuzz target's time. Each loop stays inside one table,
 * a 4 KiB pool page, at indices [lo, hi), and s2_check_ends first makes
 * the accesses to table[lo] and table[hi - 1] with ASan's checks. Nothing
 * poisons part of a pool page (the oracles' pool watch poisons whole
 * pages), so when both ends may be touched every entry between them may,
 * and the loops themselves go unchecked. A table pointer that is off (not
 * a page, or past the pool) still fails at one of the two ends. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S2_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(S2_ASAN)
#define S2_ASAN 1
#endif
#ifdef S2_ASAN
#define S2_UNCHECKED __attribute__((no_sanitize("address"), noinline))
#else
#define S2_UNCHECKED
#endif

static inline void s2_check_ends(const uint64_t *table, unsigned lo, unsigned hi)
{
#ifdef S2_ASAN
	(void)*(const volatile uint64_t *)&table[lo];
	(void)*(const volatile uint64_t *)&table[hi - 1];
#else
	(void)table;
	(void)lo;
	(void)hi;
#endif
}

/* An all-zero entry is not present in either format (EPT: R, W and X clear,
 * SDM Vol. 3C 29.3.2; NPT: P clear, APM Vol. 2 5.3), and most entries of a
 * partition's tables are: skipped eight at a time. */
S2_NO_COVERAGE S2_UNCHECKED static unsigned next_used_from(const uint64_t *table, unsigned i)
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

S2_NO_COVERAGE unsigned hv_s2_next_used(const uint64_t *table, unsigned i)
{
	if (i >= EPT_ENTRIES)
		return EPT_ENTRIES;
	s2_check_ends(table, i, EPT_ENTRIES);
	return next_used_from(table, i);
}

/* From j up to end, while table[j] is e, then e plus a page, and so on:
 * the index where that stops. */
S2_NO_COVERAGE S2_UNCHECKED static unsigned run_from(const uint64_t *table, unsigned j,
                                                     unsigned end, uint64_t e)
{
	for (; j < end && table[j] == e; j++)
		e += HV_PAGE_SIZE;
	return j;
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
	if (end <= i + 1)
		return i + 1;
	s2_check_ends(table, i, end);
	return run_from(table, i + 1, end, e + HV_PAGE_SIZE);
}

S2_NO_COVERAGE S2_UNCHECKED static void fill_from(uint64_t *table, unsigned i, unsigned end,
                                                  uint64_t leaf)
{
	for (; i < end; i++, leaf += HV_PAGE_SIZE)
		table[i] = leaf;
}

S2_NO_COVERAGE void hv_s2_fill_run(uint64_t *table, unsigned i, unsigned end, uint64_t leaf)
{
	if (i >= end)
		return;
	/* The two ends written first, with ASan's checks. */
	table[i] = leaf;
	table[end - 1] = leaf + (uint64_t)(end - 1 - i) * HV_PAGE_SIZE;
	fill_from(table, i + 1, end - 1, leaf + HV_PAGE_SIZE);
}
