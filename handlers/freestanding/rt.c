/* The few symbols a C compiler may emit calls to even in freestanding mode
 * (GCC documents memcpy, memmove, memset and memcmp as required of the
 * environment). They forward to the core's own helpers. */
#include "hv/types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	hv_memcpy(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d < s) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		for (size_t i = n; i > 0; i--)
			d[i - 1] = s[i - 1];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	hv_memset(dst, c, n);
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	return hv_memcmp(a, b, n);
}
