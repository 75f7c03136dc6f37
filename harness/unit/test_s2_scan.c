/* The core's table scans (handlers/src/s2_scan.c): the next used entry,
 * the end of a run of 4 KiB leaves, the filling of one. Their loops are
 * not checked by AddressSanitizer entry by entry; the two ends of what
 * each loop touches are. So a table pointer one entry off, whose last
 * entry lies past its block, must still stop the process with an ASan
 * report: each case runs in a child, whose stderr comes back through a
 * pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan_build.h"
#include "child_stderr.h"
#include "hv/s2_entry.h"

/* Internal to the core (handlers/src/ept_levels.h). */
unsigned hv_s2_next_used(const uint64_t *table, unsigned i);
unsigned hv_s2_run_end(const uint64_t *table, unsigned i, uint64_t limit);
void hv_s2_fill_run(uint64_t *table, unsigned i, unsigned end, uint64_t leaf);

#define ENTRIES 512u
#define PAGE 4096ull
#define LEAF_ATTR 0x7ull /* R, W, X: any bits below 12 */

static uint64_t *table_new(void)
{
	uint64_t *t = calloc(ENTRIES, sizeof(*t));
	assert_non_null(t);
	return t;
}

static void test_next_used(void **state)
{
	(void)state;
	uint64_t *t = table_new();
	assert_int_equal(hv_s2_next_used(t, 0), ENTRIES);
	t[13] = 1;
	t[200] = 1;
	t[511] = 1;
	assert_int_equal(hv_s2_next_used(t, 0), 13);
	assert_int_equal(hv_s2_next_used(t, 13), 13);
	assert_int_equal(hv_s2_next_used(t, 14), 200);
	assert_int_equal(hv_s2_next_used(t, 201), 511);
	assert_int_equal(hv_s2_next_used(t, ENTRIES), ENTRIES);
	free(t);
}

static void test_fill_and_run(void **state)
{
	(void)state;
	uint64_t *t = table_new();
	uint64_t leaf = 0x40000000ull | LEAF_ATTR;
	hv_s2_fill_run(t, 5, 300, leaf);
	assert_int_equal(t[4], 0);
	assert_int_equal(t[300], 0);
	for (unsigned i = 5; i < 300; i++)
		assert_int_equal(t[i], leaf + (i - 5) * PAGE);
	assert_int_equal(hv_s2_run_end(t, 5, UINT64_MAX), 300);
	assert_int_equal(hv_s2_run_end(t, 100, UINT64_MAX), 300);
	/* The limit ends it: entries at or above it are not part of the run. */
	assert_int_equal(hv_s2_run_end(t, 5, 0x40000000ull + 10 * PAGE), 15);
	/* A different attribute bit breaks it. */
	t[77] |= 1ull << 63;
	assert_int_equal(hv_s2_run_end(t, 5, UINT64_MAX), 77);
	/* One entry, and none at all. */
	hv_s2_fill_run(t, 400, 401, leaf);
	assert_int_equal(t[400], leaf);
	hv_s2_fill_run(t, 450, 450, leaf);
	assert_int_equal(t[450], 0);
	/* A run reaching the last entry. */
	hv_s2_fill_run(t, 500, ENTRIES, leaf);
	assert_int_equal(hv_s2_run_end(t, 500, UINT64_MAX), ENTRIES);
	free(t);
}

#ifdef HX_ASAN
enum off_case { OFF_NEXT_USED, OFF_RUN_END, OFF_FILL };

/* The case on a table one entry past the start of its block, so that its
 * entry 511 is the first word after the block (run in a child). */
static void off_by_one(void *arg)
{
	enum off_case c = *(const enum off_case *)arg;
	uint64_t *block = calloc(ENTRIES, sizeof(*block));
	uint64_t *t = block + 1; /* t[510] is the block's last word */
	uint64_t leaf = 0x40000000ull | LEAF_ATTR;
	for (unsigned i = 0; i < ENTRIES - 1; i++)
		t[i] = c == OFF_NEXT_USED ? 0 : leaf + i * PAGE;
	volatile unsigned sink = 0;
	if (c == OFF_NEXT_USED)
		sink = hv_s2_next_used(t, 0);
	else if (c == OFF_RUN_END)
		sink = hv_s2_run_end(t, 0, UINT64_MAX);
	else
		hv_s2_fill_run(t, 0, ENTRIES, leaf);
	(void)sink;
}
#endif

static void test_off_table_is_reported(void **state)
{
	(void)state;
#ifdef HX_ASAN
	static const char *const names[] = {"next_used", "run_end", "fill_run"};
	for (int c = OFF_NEXT_USED; c <= OFF_FILL; c++) {
		char out[8192];
		int status;
		enum off_case oc = (enum off_case)c;
		run_in_child(off_by_one, &oc, out, sizeof(out), &status);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
		    strstr(out, "heap-buffer-overflow"))
			continue;
		fail_msg("%s on a table one entry off: no ASan report (status %d)\n%.2000s",
		         names[c], status, out);
	}
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_next_used),
	        cmocka_unit_test(test_fill_and_run),
	        cmocka_unit_test(test_off_table_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
