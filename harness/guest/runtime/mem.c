/* The few libc functions the compiler may call even in freestanding code. */
#include "hx/guest.h"

/* String instructions with 8-byte elements: every guest instruction (and
 * every iteration of a REP) costs microseconds under the nested KVM here. */
void *memset(void *dst, int c, size_t n)
{
	uint64_t v = 0x0101010101010101ull * (unsigned char)c;
	void *d = dst;
	size_t words = n / 8, rest = n % 8;

	__asm__ volatile("rep stosq\n\t"
	                 "mov %[rest], %%rcx\n\t"
	                 "rep stosb"
	                 : "+D"(d), "+c"(words)
	                 : "a"(v), [rest] "r"(rest)
	                 : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n / 8, rest = n % 8;

	__asm__ volatile("rep movsq\n\t"
	                 "mov %[rest], %%rcx\n\t"
	                 "rep movsb"
	                 : "+D"(d), "+S"(s), "+c"(words)
	                 : [rest] "r"(rest)
	                 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
