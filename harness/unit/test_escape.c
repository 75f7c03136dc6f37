/* hx_escape: printable ASCII passes through, every other byte (controls,
 * ESC, DEL, high bytes) becomes \xNN, and a too-small buffer ends in "..."
 * rather than half an escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "escape.h"

static void test_printable_unchanged(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(hx_escape("alpha-1 \"q\" ~", buf, sizeof(buf)), "alpha-1 \"q\" ~");
}

static void test_controls_escaped(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(hx_escape("\x1b[2J", buf, sizeof(buf)), "\\x1b[2J");
	assert_string_equal(hx_escape("a\nok: b\r", buf, sizeof(buf)), "a\\x0aok: b\\x0d");
	assert_string_equal(hx_escape("\x7f\xc3\xa9\t", buf, sizeof(buf)), "\\x7f\\xc3\\xa9\\x09");
	assert_string_equal(hx_escape_n("a\0b", 3, buf, sizeof(buf)), "a\\x00b");
	assert_string_equal(hx_escape(NULL, buf, sizeof(buf)), "(null)");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[8];
	assert_string_equal(hx_escape("abcdefghij", buf, sizeof(buf)), "abcd...");
	/* An escape never gets cut in half. */
	assert_string_equal(hx_escape("ab\x01\x02\x03", buf, sizeof(buf)), "ab...");
	assert_string_equal(hx_escape("abcdefg", buf, sizeof(buf)), "abcdefg");
	char tiny[2];
	assert_string_equal(hx_escape("abc", tiny, sizeof(tiny)), "");
}

static void test_rotating_buffers(void **state)
{
	(void)state;
	const char *a = hx_esc("one\n");
	const char *b = hx_esc("two\x1b");
	assert_string_equal(a, "one\\x0a");
	assert_string_equal(b, "two\\x1b");
	assert_true(hx_is_printable("abc ~", 5));
	assert_false(hx_is_printable("ab\x7f", 3));
	assert_false(hx_is_printable("ab\x80", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_printable_unchanged),
	        cmocka_unit_test(test_controls_escaped),
	        cmocka_unit_test(test_truncation),
	        cmocka_unit_test(test_rotating_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
