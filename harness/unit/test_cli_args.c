/* hx_arg_uint: exactly a decimal or 0x-hex number within the bound; the
 * forms strtoul() lets through (blanks, signs, octal, "", suffixes,
 * wrap-around of "-1") are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_args.h"

static void test_accepted(void **state)
{
	(void)state;
	uint64_t v = 99;
	assert_true(hx_arg_uint("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(hx_arg_uint("010", 100, &v));
	assert_int_equal(v, 10); /* decimal, not octal */
	assert_true(hx_arg_uint("0x3F", 100, &v));
	assert_int_equal(v, 63);
	assert_true(hx_arg_uint("18446744073709551615", UINT64_MAX, &v));
	assert_int_equal(v, UINT64_MAX);
	assert_true(hx_arg_uint("63", 63, &v));
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        " 5",
	        "5 ",
	        "+5",
	        "-1",
	        "-0",
	        "0x",
	        "5k",
	        "1e3",
	        "0x1g",
	        "0b1",
	        "1.5",
	        "\t7",
	        "five",
	        "18446744073709551616",
	        "0x10000000000000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 42;
		if (hx_arg_uint(bad[i], UINT64_MAX, &v))
			fail_msg("accepted \"%s\" as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42); /* untouched */
	}
	uint64_t v;
	assert_false(hx_arg_uint(NULL, 10, &v));
	assert_false(hx_arg_uint("64", 63, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_accepted),
	        cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
