/* The draws run for every byte of every input, and their one branch (is
 * the input exhausted?) says nothing about the handlers: not instrumented
 * for coverage (no_coverage.h). */
#include "fz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan_build.h"
#include "no_coverage.h"

HX_NO_COVERAGE uint8_t fz_u8(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

HX_NO_COVERAGE uint16_t fz_u16(struct fz *f)
{
	/* Separate statements: the order of draws must be defined. */
	uint16_t lo = fz_u8(f);
	uint16_t hi = fz_u8(f);
	return (uint16_t)(lo | hi << 8);
}

HX_NO_COVERAGE uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);
	uint32_t hi = fz_u16(f);
	return lo | hi << 16;
}

HX_NO_COVERAGE uint64_t fz_u64(struct fz *f)
{
	uint64_t lo = fz_u32(f);
	uint64_t hi = fz_u32(f);
	return lo | hi << 32;
}

HX_NO_COVERAGE uint32_t fz_below(struct fz *f, uint32_t n)
{
	return n <= 256 ? fz_u8(f) % n : fz_u32(f) % n;
}

HX_NO_COVERAGE uint64_t fz_pick(struct fz *f, const uint64_t *values, size_t count)
{
	return values[fz_below(f, (uint32_t)count)];
}

HX_NO_COVERAGE size_t fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t k = len < f->n ? len : f->n;
	memcpy(dst, f->p, k);
	f->p += k;
	f->n -= k;
	return k;
}

static void (*fail_hook)(void);

void fz_set_fail_hook(void (*hook)(void))
{
	fail_hook = hook;
}

void fz_fail(const char *invariant, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hx-fuzz: invariant %s violated: ", invariant);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	void (*hook)(void) = fail_hook;
	fail_hook = NULL; /* a failure inside the hook must not recurse */
	if (hook)
		hook();
	abort();
}

bool fz_fence(const void *p, size_t len)
{
#ifdef HX_ASAN
	ASAN_POISON_MEMORY_REGION(p, len);
	return true;
#else
	(void)p;
	(void)len;
	return false;
#endif
}

bool fz_check_reset(void)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("HX_FUZZ_CHECK_RESET");
		on = v && *v && strcmp(v, "0") != 0;
	}
	return on;
}

bool fz_watch_pool(void)
{
	/* Asked once per input by some targets: read once, as fz_check_reset. */
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("HX_FUZZ_FULL_COMPARE");
		on = !v || !*v || strcmp(v, "0") == 0;
	}
	return on;
}

/* The first byte is zero, and each equals the next. */
bool fz_all_zero(const void *p, size_t n)
{
	const uint8_t *m = p;
	return m[0] == 0 && !memcmp(m, m + 1, n - 1);
}
