/* ucalls: a struct hx_ucall on the stack, its GPA written to the ucall
 * port with a 32-bit OUT (hx/guest_abi.h). The runner reads it while the
 * vCPU is stopped at the OUT, so a stack buffer is enough. */
#include <stdarg.h>

#include "percpu.h"

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < len; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static void send(struct hx_ucall *uc)
{
	uint32_t gpa = (uint32_t)(uintptr_t)uc;

	__asm__ volatile("outl %0, %1" ::"a"(gpa), "Nd"((uint16_t)HX_UCALL_PORT) : "memory");
}

static __attribute__((noreturn)) void stop(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hx_ucall(uint32_t type, const char *file, uint32_t line, const char *msg, uint64_t a0,
              uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hx_ucall uc;

	memset(&uc, 0, sizeof(uc));
	uc.type = type;
	uc.line = line;
	uc.args[0] = a0;
	uc.args[1] = a1;
	uc.args[2] = a2;
	uc.args[3] = a3;
	copy_str(uc.file, sizeof(uc.file), file);
	copy_str(uc.msg, sizeof(uc.msg), msg);
	send(&uc);
	/* A canary scan must not find the values it reported in a dead frame. */
	memset((void *)(volatile void *)&uc, 0, sizeof(uc));
	__asm__ volatile("" ::"r"(&uc) : "memory");
}

void hx_fail(const char *file, uint32_t line, const char *msg, uint64_t a, uint64_t b)
{
	hx_ucall(HX_UCALL_ASSERT, file, line, msg, a, b, 0, 0);
	stop();
}

void hx_assert_fail(const char *file, uint32_t line, const char *what, uint64_t a, uint64_t b,
                    const char *fmt, ...)
{
	char msg[HX_UCALL_MSG_LEN];
	va_list ap;
	int n;

	n = hx_snprintf(msg, sizeof(msg), "%s", what);
	if (fmt && fmt[0] && n >= 0 && (size_t)n + 2 < sizeof(msg)) {
		msg[n++] = ':';
		msg[n++] = ' ';
		va_start(ap, fmt);
		hx_vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	hx_ucall(HX_UCALL_ASSERT, file, line, msg, a, b, 0, 0);
	stop();
}

void hx_printf(const char *file, uint32_t line, const char *fmt, ...)
{
	char msg[HX_UCALL_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	hx_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hx_ucall(HX_UCALL_PRINT, file, line, msg, 0, 0, 0, 0);
}

void hx_done(void)
{
	struct hx_percpu *pc = hx_this_cpu();

	if (pc->guard != HX_PERCPU_GUARD)
		hx_fail(HX_FILE, __LINE__, "kernel or user stack overflowed into per-vCPU state",
		        pc->guard, HX_PERCPU_GUARD);
	hx_ucall(HX_UCALL_DONE, HX_FILE, __LINE__, "", 0, 0, 0, 0);
	stop();
}
