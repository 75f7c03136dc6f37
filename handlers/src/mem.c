/* Byte helpers for a core that links no libc.
 *
 * Freestanding (firmware): whole 8-byte words where the addresses allow
 * it. Byte by byte, zeroing an EPT table page or the result record of
 * every exit was most of the work of the cheap exits (4 instructions a
 * byte); the build disables the optimisation that would turn these loops
 * into calls, so they stay loops. Word accesses go through a may_alias
 * type, so the compiler treats them like the byte accesses they replace
 * (C11 6.5p7 allows character types only; the attribute is the GCC/Clang
 * spelling of the same promise).
 *
 * Hosted: the C library's memset/memcpy/memcmp, called directly. Byte
 * loops would become those calls in an optimised build anyway, but not in
 * the fuzzers' coverage-instrumented ones, where zeroing one EPT page was a
 * 4096-step instrumented loop (most of the time of the EPT target); the
 * sanitizers check a libc call's whole range at once. Both variants are
 * unit-tested (harness/unit/test_mem.c). */
#include "hv/types.h"

#ifndef HV_FREESTANDING
#include <string.h>
#endif

#ifdef HV_FREESTANDING

typedef uint64_t __attribute__((may_alias)) hv_word;

#define WORD_MASK (sizeof(hv_word) - 1)

void hv_memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t i = 0;
	/* Words only when both sides can be aligned at the same time. */
	if ((((uintptr_t)d ^ (uintptr_t)s) & WORD_MASK) == 0) {
		for (; i < n && ((uintptr_t)(d + i) & WORD_MASK) != 0; i++)
			d[i] = s[i];
		for (; n - i >= sizeof(hv_word); i += sizeof(hv_word))
			*(hv_word *)(void *)(d + i) = *(const hv_word *)(const void *)(s + i);
	}
	for (; i < n; i++)
		d[i] = s[i];
}

void hv_memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	uint8_t b = (uint8_t)c;
	hv_word w = 0x0101010101010101ull * b;
	size_t i = 0;
	for (; i < n && ((uintptr_t)(d + i) & WORD_MASK) != 0; i++)
		d[i] = b;
	for (; n - i >= sizeof(hv_word); i += sizeof(hv_word))
		*(hv_word *)(void *)(d + i) = w;
	for (; i < n; i++)
		d[i] = b;
}

int hv_memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

#else

void hv_memcpy(void *dst, const void *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

void hv_memset(void *dst, int c, size_t n)
{
	if (n)
		memset(dst, c, n);
}

int hv_memcmp(const void *a, const void *b, size_t n)
{
	int d = n ? memcmp(a, b, n) : 0;
	return d < 0 ? -1 : d > 0;
}

#endif
