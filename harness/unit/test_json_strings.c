/* hx_json_check_strings: escaped NULs and raw control characters inside
 * JSON strings are found with the path of their string (keys, indices,
 * nesting), escaped backslashes are not mistaken for escapes, and clean
 * or unterminated text passes (syntax is the parser's business). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strings.h"

static struct hx_json_string_error check_bad(const char *text)
{
	struct hx_json_string_error e;
	if (hx_json_check_strings(text, strlen(text), &e))
		fail_msg("accepted: %s", text);
	return e;
}

static void check_good(const char *text)
{
	struct hx_json_string_error e;
	if (!hx_json_check_strings(text, strlen(text), &e))
		fail_msg("refused (%s: %s): %s", e.path, e.reason, text);
}

static void test_clean_text_passes(void **state)
{
	(void)state;
	check_good("{\"a\": \"b\", \"c\": [1, \"x\\ty\", {\"d\": null}], \"e\": \"\\u0001\"}");
	check_good("\"\\\\u0000\""); /* an escaped backslash, then text */
	check_good("{\"a\": \"unterminated");
	check_good("");
	check_good("{\"a\": \"\\\\\", \"b\": \"\\u0041\\u0100\"}");
}

static void test_nul_escape_paths(void **state)
{
	(void)state;
	struct hx_json_string_error e =
	        check_bad("{\"partitions\": [{\"name\": \"alpha\\u0000evil\"}]}");
	assert_string_equal(e.path, "partitions[0].name");
	assert_false(e.in_key);
	assert_string_equal(e.reason, "string contains a NUL character (\\u0000)");
	assert_int_equal(e.offset, 31);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 32);

	e = check_bad("{\"a\": [1, 2, [\"x\", \"y\\u0000\"]], \"b\": 1}");
	assert_string_equal(e.path, "a[2][1]");
	e = check_bad("{\"a\": 1, \"b\": {\"c\": \"\\\"\", \"d\": \"\\u0000\"}}");
	assert_string_equal(e.path, "b.d");
	e = check_bad("[\"\\u00001\"]"); /* NUL, then '1' */
	assert_string_equal(e.path, "[0]");
	e = check_bad("\"\\u0000\"");
	assert_string_equal(e.path, "");
}

static void test_key_errors(void **state)
{
	(void)state;
	struct hx_json_string_error e = check_bad("{\"p\": [{\"na\\u0000me\": 1}]}");
	assert_true(e.in_key);
	assert_string_equal(e.path, "p[0]");
	assert_string_equal(e.key, "na");
}

static void test_raw_controls(void **state)
{
	(void)state;
	struct hx_json_string_error e = check_bad("{\n  \"name\": \"a\tb\"\n}");
	assert_string_equal(e.path, "name");
	assert_non_null(strstr(e.reason, "raw control character 0x09 (tab)"));
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 13);
	e = check_bad("[\"ok\", \"a\nb\"]");
	assert_string_equal(e.path, "[1]");
	assert_non_null(strstr(e.reason, "0x0a (newline)"));
	e = check_bad("[\"\x1f\"]");
	assert_non_null(strstr(e.reason, "0x1f"));
	/* Whitespace outside strings is fine. */
	check_good("{\t\"a\"\r\n:\t\"b\"}");
}

static void test_deep_nesting_is_bounded(void **state)
{
	(void)state;
	/* 200 levels: deeper than the path bookkeeping, still scanned. */
	char text[1024];
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		text[n++] = '[';
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\"\\u0000\"");
	text[n] = '\0';
	struct hx_json_string_error e = check_bad(text);
	assert_non_null(strstr(e.path, "..."));
	assert_int_equal(strncmp(e.path, "[0][0][0]", 9), 0);
	/* Unbalanced closers do not underflow. */
	check_good("]]]}}}\"a\"");
}

static void test_long_keys_are_cut_in_paths(void **state)
{
	(void)state;
	char text[512];
	snprintf(text, sizeof(text), "{\"%0100d\": \"\\u0000\"}", 7);
	struct hx_json_string_error e = check_bad(text);
	assert_true(strlen(e.path) < 60);
	assert_non_null(strstr(e.path, "..."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_clean_text_passes),
	        cmocka_unit_test(test_nul_escape_paths),
	        cmocka_unit_test(test_key_errors),
	        cmocka_unit_test(test_raw_controls),
	        cmocka_unit_test(test_deep_nesting_is_bounded),
	        cmocka_unit_test(test_long_keys_are_cut_in_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
