/* hv_memcpy / hv_memset / hv_memcmp against the C library, in both
 * variants of handlers/src/mem.c (hosted, as linked from hv_test, and
 * freestanding, compiled in here under other names): every alignment of
 * destination and source within a word, lengths around word boundaries and
 * a whole page plus a tail; bytes outside the range are never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/types.h"

/* The freestanding variant under other names (types.h is already in, so
 * its prototypes keep the real names). */
#define HV_FREESTANDING 1
#define hv_memcpy fs_memcpy
#define hv_memset fs_memset
#define hv_memcmp fs_memcmp
#include "../../handlers/src/mem.c"
#undef hv_memcpy
#undef hv_memset
#undef hv_memcmp
#undef HV_FREESTANDING

struct variant {
	const char *name;
	void (*cpy)(void *, const void *, size_t);
	void (*set)(void *, int, size_t);
	int (*cmp)(const void *, const void *, size_t);
};

static const struct variant variants[] = {
        {"hosted", hv_memcpy, hv_memset, hv_memcmp},
        {"freestanding", fs_memcpy, fs_memset, fs_memcmp},
};

#define GUARD 32
#define BUF (4096 + 64 + 2 * GUARD)

static const size_t lengths[] = {0,  1,  2,  3,  7,  8,  9,  15,  16,
                                 17, 23, 24, 25, 63, 64, 65, 200, 4096 + 3};

/* Distinct, non-zero bytes, so a misplaced copy shows. */
static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + 1);
}

static void test_memcpy_alignments(void **state)
{
	(void)state;
	static _Alignas(8) uint8_t src[BUF], got[BUF], want[BUF];
	pattern(src, BUF, 3);
	for (size_t v = 0; v < HV_ARRAY_LEN(variants); v++)
		for (size_t d = 0; d < 8; d++)
			for (size_t s = 0; s < 8; s++)
				for (size_t k = 0; k < HV_ARRAY_LEN(lengths); k++) {
					size_t n = lengths[k];
					pattern(got, BUF, 0x40);
					memcpy(want, got, BUF);
					hv_memcpy(got + GUARD + d, src + GUARD + s, n);
					memcpy(want + GUARD + d, src + GUARD + s, n);
					if (memcmp(got, want, BUF) != 0)
						fail_msg(
						        "hv_memcpy dst+%zu src+%zu len %zu differs",
						        d, s, n);
				}
}

static void test_memset_alignments(void **state)
{
	(void)state;
	static _Alignas(8) uint8_t got[BUF], want[BUF];
	static const int values[] = {0, 0xa5, -1, 0x1ff}; /* only the low byte counts */
	for (size_t x = 0; x < HV_ARRAY_LEN(variants); x++)
		for (size_t v = 0; v < HV_ARRAY_LEN(values); v++)
			for (size_t d = 0; d < 8; d++)
				for (size_t k = 0; k < HV_ARRAY_LEN(lengths); k++) {
					size_t n = lengths[k];
					pattern(got, BUF, 0x11);
					memcpy(want, got, BUF);
					variants[x].set(got + GUARD + d, values[v], n);
					memset(want + GUARD + d, (uint8_t)values[v], n);
					if (memcmp(got, want, BUF) != 0)
						fail_msg("%s memset dst+%zu len %zu value %d "
						         "differs",
						         variants[x].name, d, n, values[v]);
				}
}

static void test_memcmp_sign(void **state)
{
	(void)state;
	for (size_t v = 0; v < HV_ARRAY_LEN(variants); v++) {
		int (*cmp)(const void *, const void *, size_t) = variants[v].cmp;
		uint8_t a[16], b[16];
		pattern(a, sizeof(a), 9);
		memcpy(b, a, sizeof(b));
		assert_int_equal(cmp(a, b, sizeof(a)), 0);
		assert_int_equal(cmp(a, b, 0), 0);
		b[5] = (uint8_t)(a[5] + 1);
		assert_int_equal(cmp(a, b, sizeof(a)), -1);
		assert_int_equal(cmp(b, a, sizeof(a)), 1);
		assert_int_equal(cmp(a, b, 5), 0);
		a[15] = 0xff; /* bytes compare unsigned */
		b[15] = 0x01;
		b[5] = a[5];
		assert_int_equal(cmp(a, b, sizeof(a)), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_memcpy_alignments),
	        cmocka_unit_test(test_memset_alignments),
	        cmocka_unit_test(test_memcmp_sign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
