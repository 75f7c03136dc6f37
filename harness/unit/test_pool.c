/* Page pool: init checks, allocation order and zeroing, ownership, roll-back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/pool.h"

#define PAGES 8u
#define POOL_HPA 0x200000ull

struct fixture {
	uint8_t *mem;
	struct hv_pool pool;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->mem = aligned_alloc(HV_PAGE_SIZE, PAGES * HV_PAGE_SIZE);
	memset(f->mem, 0xa5, PAGES * HV_PAGE_SIZE); /* pages must come back zeroed */
	assert_int_equal(hv_pool_init(&f->pool, f->mem, POOL_HPA, PAGES), HV_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->mem);
	free(f);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < HV_PAGE_SIZE; i++)
		if (p[i] != 0)
			return false;
	return true;
}

struct init_case {
	const char *name;
	bool null_pool, null_mem;
	size_t mem_offset;
	uint64_t hpa;
	uint32_t npages;
	hv_status expect;
};

static void test_init_rejects(void **state)
{
	struct fixture *f = *state;
	static const struct init_case cases[] = {
	        {"ok", false, false, 0, POOL_HPA, PAGES, HV_OK},
	        {"null pool", true, false, 0, POOL_HPA, PAGES, HV_ERR_INVAL},
	        {"null mem", false, true, 0, POOL_HPA, PAGES, HV_ERR_INVAL},
	        {"no pages", false, false, 0, POOL_HPA, 0, HV_ERR_INVAL},
	        {"mem unaligned", false, false, 8, POOL_HPA, 1, HV_ERR_ALIGN},
	        {"hpa unaligned", false, false, 0, POOL_HPA + 0x800, 1, HV_ERR_ALIGN},
	        {"hpa wraps", false, false, 0, ~0ull & HV_PAGE_MASK, 2, HV_ERR_RANGE},
	        /* Found by fuzz_config: a pool at HPA 0 gave its first table
	         * page the "no root" value and the EPT silently lost mappings. */
	        {"hpa zero", false, false, 0, 0, PAGES, HV_ERR_INVAL},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		const struct init_case *c = &cases[i];
		struct hv_pool pool;
		hv_status s = hv_pool_init(c->null_pool ? NULL : &pool,
		                           c->null_mem ? NULL : f->mem + c->mem_offset, c->hpa,
		                           c->npages);
		if (s != c->expect)
			fail_msg("%s: got %s, expected %s", c->name, hv_status_str(s),
			         hv_status_str(c->expect));
	}
}

static void test_alloc_in_order_zeroed_until_exhausted(void **state)
{
	struct fixture *f = *state;
	for (uint32_t i = 0; i < PAGES; i++) {
		uint64_t hpa = 0;
		assert_int_equal(hv_pool_alloc(&f->pool, &hpa), HV_OK);
		assert_int_equal(hpa, POOL_HPA + i * HV_PAGE_SIZE);
		uint8_t *p = hv_pool_ptr(&f->pool, hpa);
		assert_ptr_equal(p, f->mem + i * HV_PAGE_SIZE);
		assert_true(page_is_zero(p));
		assert_int_equal(f->pool.used, i + 1);
	}
	uint64_t hpa = 0x1234;
	assert_int_equal(hv_pool_alloc(&f->pool, &hpa), HV_ERR_NOMEM);
	assert_int_equal(hpa, 0x1234);
	assert_int_equal(f->pool.used, PAGES);
}

static void test_owns_only_handed_out_pages(void **state)
{
	struct fixture *f = *state;
	uint64_t a, b;
	assert_int_equal(hv_pool_alloc(&f->pool, &a), HV_OK);
	assert_int_equal(hv_pool_alloc(&f->pool, &b), HV_OK);
	assert_true(hv_pool_owns(&f->pool, a));
	assert_true(hv_pool_owns(&f->pool, b + HV_PAGE_SIZE - 1));
	assert_false(hv_pool_owns(&f->pool, b + HV_PAGE_SIZE)); /* not handed out yet */
	assert_false(hv_pool_owns(&f->pool, POOL_HPA - 1));
	assert_null(hv_pool_ptr(&f->pool, b + HV_PAGE_SIZE));
	assert_null(hv_pool_ptr(&f->pool, 0));
	/* an address inside a page gives that page's start */
	assert_ptr_equal(hv_pool_ptr(&f->pool, b + 0x10), f->mem + HV_PAGE_SIZE);
}

static void test_release_to_mark_zeroes_and_reuses(void **state)
{
	struct fixture *f = *state;
	uint64_t hpa;
	assert_int_equal(hv_pool_alloc(&f->pool, &hpa), HV_OK);
	uint32_t mark = hv_pool_mark(&f->pool);
	assert_int_equal(mark, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hv_pool_alloc(&f->pool, &hpa), HV_OK);
		memset(hv_pool_ptr(&f->pool, hpa), 0x5a, HV_PAGE_SIZE);
	}
	memset(f->mem, 0x77, 16); /* the page before the mark stays as it is */
	hv_pool_release_to(&f->pool, mark);
	assert_int_equal(f->pool.used, mark);
	assert_int_equal(f->mem[0], 0x77);
	for (uint32_t i = mark; i < 4; i++)
		assert_true(page_is_zero(f->mem + i * HV_PAGE_SIZE));
	/* a mark at or beyond used changes nothing */
	hv_pool_release_to(&f->pool, 5);
	assert_int_equal(f->pool.used, mark);
	assert_int_equal(hv_pool_alloc(&f->pool, &hpa), HV_OK);
	assert_int_equal(hpa, POOL_HPA + HV_PAGE_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_init_rejects, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_alloc_in_order_zeroed_until_exhausted, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_owns_only_handed_out_pages, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_release_to_mark_zeroes_and_reuses, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
