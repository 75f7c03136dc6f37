/* The guest runtime: what a guest program (harness/guest/programs/) may
 * use. Freestanding: no libc. The runner's side of the contract is in
 * hx/guest_abi.h.
 *
 * A program defines `void guest_main(void)`; crt0 sets up a stack per vCPU,
 * zeroes .bss, loads the runtime's own GDT/TSS/IDT and calls it on every
 * vCPU. Returning from guest_main() is GUEST_DONE(). */
#ifndef HX_GUEST_H
#define HX_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hx/guest_abi.h"

#define HX_MAX_VCPUS 8

void guest_main(void);

/* ---- identity of this vCPU, boot info ---------------------------------- */

uint32_t hx_partition(void);
uint32_t hx_vcpu(void);
const struct hx_boot_info *hx_boot(void);

/* First boot range of `kind` with index `n` among ranges of that kind, or
 * NULL. */
const struct hx_boot_range *hx_find_range(uint32_t kind, uint32_t n);

/* ---- ucall: reports to the runner --------------------------------------- */

void hx_ucall(uint32_t type, const char *file, uint32_t line, const char *msg, uint64_t a0,
              uint64_t a1, uint64_t a2, uint64_t a3);
__attribute__((noreturn)) void hx_fail(const char *file, uint32_t line, const char *msg, uint64_t a,
                                       uint64_t b);
__attribute__((noreturn)) void hx_done(void);
__attribute__((format(printf, 3, 4))) void hx_printf(const char *file, uint32_t line,
                                                     const char *fmt, ...);
/* Format into buf (at most len-1 characters, always terminated). Knows
 * %d %i %u %x %X %c %s %p %% with the l/ll/z length modifiers and a field
 * width with the # and 0 flags. */
int hx_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int hx_vsnprintf(char *buf, size_t len, const char *fmt, __builtin_va_list ap);

/* Basename of the source file, as reported in ucalls. */
#define HX_FILE __FILE_NAME__

#define GUEST_SYNC(stage) hx_ucall(HX_UCALL_SYNC, HX_FILE, __LINE__, "", (stage), 0, 0, 0)
#define GUEST_DONE() hx_done()
#define GUEST_PRINTF(...) hx_printf(HX_FILE, __LINE__, __VA_ARGS__)

/* GUEST_ASSERT(cond) or GUEST_ASSERT(cond, "fmt", args...): on failure the
 * runner gets file:line and the message, and the guest stops. */
#define GUEST_ASSERT(cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond))                                                                       \
			hx_assert_fail(HX_FILE, __LINE__, "assert " #cond, 0, 0, "" __VA_ARGS__);  \
	} while (0)

/* Compares two integer values; the message carries both. */
#define GUEST_ASSERT_EQ(a, b, ...)                                                                 \
	do {                                                                                       \
		uint64_t hx_a_ = (uint64_t)(a), hx_b_ = (uint64_t)(b);                             \
		if (hx_a_ != hx_b_)                                                                \
			hx_assert_fail(HX_FILE, __LINE__, #a " == " #b, hx_a_, hx_b_,              \
			               "" __VA_ARGS__);                                            \
	} while (0)

__attribute__((noreturn)) void hx_assert_fail(const char *file, uint32_t line, const char *what,
                                              uint64_t a, uint64_t b, const char *fmt, ...);

/* ---- exceptions --------------------------------------------------------- */

/* No exception was raised. */
#define HX_NO_FAULT (-1)
#define HX_VEC_DE 0
#define HX_VEC_UD 6
#define HX_VEC_DF 8
#define HX_VEC_GP 13
#define HX_VEC_PF 14

/* Details of the last exception caught by an armed window on this vCPU. */
struct hx_fault {
	int vector; /* HX_NO_FAULT when none */
	uint32_t pad;
	uint64_t error;
	uint64_t rip; /* where it was raised */
	uint64_t cr2; /* for #PF */
};
const struct hx_fault *hx_last_fault(void);

/* Run fn(arg) with the exception window armed: any exception in vectors
 * 0-31 (at CPL 0 or 3) ends fn at once and hx_try returns the vector;
 * otherwise HX_NO_FAULT. Callee-saved registers and the stack are restored
 * either way. *ret (if not NULL) gets fn's return value when it completed. */
int hx_try(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t *ret);

/* Single instructions under the window (the instruction is skipped when it
 * faults). Each returns the vector or HX_NO_FAULT. */
int hx_rdmsr_safe(uint32_t msr, uint64_t *val);
int hx_wrmsr_safe(uint32_t msr, uint64_t val);
int hx_read8_safe(uint64_t addr, uint8_t *val);
int hx_read64_safe(uint64_t addr, uint64_t *val);
int hx_write8_safe(uint64_t addr, uint8_t val);
int hx_write64_safe(uint64_t addr, uint64_t val);
/* Call the code at addr (a function returning in RAX) under the window. */
int hx_exec_safe(uint64_t addr, uint64_t *ret);

/* ---- CPUID, MSRs, hypercalls: the single trapping sites ---------------- */

/* out = {EAX, EBX, ECX, EDX}. The runtime's only CPUID instruction is at
 * global label hx_cpuid_site. */
void hx_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* RAX = nr, RDI/RSI/RDX/R10 = a1..a4. Returns RAX (status); *rdi_out (if
 * not NULL) gets RDI after the call. The only VMCALL is at hx_vmcall_site,
 * the only VMMCALL at hx_vmmcall_site. */
int64_t hx_vmcall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                  uint64_t *rdi_out);
int64_t hx_vmmcall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                   uint64_t *rdi_out);

/* The same under the exception window; *vector gets the vector raised by
 * the instruction, or HX_NO_FAULT. */
int64_t hx_vmcall_safe(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                       uint64_t *rdi_out, int *vector);
int64_t hx_vmmcall_safe(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint64_t *rdi_out, int *vector);

/* Hypercall with the instruction native to the host vendor (VMMCALL on
 * AMD, VMCALL elsewhere): two args and RDI result, for brevity. */
int64_t hx_hcall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                 uint64_t *rdi_out);
bool hx_host_is_amd(void);

static inline uint64_t hx_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void hx_wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
	                 : "memory");
}

/* ---- CPL 3 --------------------------------------------------------------- */

/* Run fn(arg) at CPL 3 (code 0x1b, data 0x23, own user stack, interrupts
 * off) and return its result; the user code comes back with a UD2 at
 * hx_user_exit that the exception entry recognises (not INT n: see
 * runtime/isr.S).
 * Exceptions at CPL 3 reach the same handlers (and hx_try windows armed by
 * the user code itself). User code may not do ucalls (port I/O #GPs). */
uint64_t hx_user_call(uint64_t (*fn)(uint64_t), uint64_t arg);
/* CPL of the running code. */
static inline uint32_t hx_cpl(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3u;
}

/* ---- memory -------------------------------------------------------------- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Map the 1 GiB-aligned guest-physical block containing gpa at a fixed
 * virtual window (the runner's page tables cover only [0, 4 GiB)); returns
 * the virtual address of gpa. One window per vCPU; each call replaces it.
 * Built from 2 MiB pages. */
uint64_t hx_map_high(uint64_t gpa);

/* Canary scan of [gpa, gpa + size) (identity-mapped, below 4 GiB): words
 * with the canary tag and an owner other than this partition are reported
 * with HX_UCALL_FOUND (gpa, value, owner), at most `max_reports` times.
 * Whole pages are sampled at a few offsets (runtime/canary.c says why),
 * partial pages read word by word. Returns the number of foreign words
 * seen. */
uint64_t hx_canary_scan(uint64_t gpa, uint64_t size, uint32_t max_reports);

/* True when word is a canary of owner `owner`; written without an 8-byte
 * immediate of the tag so the image itself never contains a canary. */
static inline int hx_word_owner(uint64_t word)
{
	if ((uint16_t)(word >> 48) != (uint16_t)(HX_CANARY_TAG >> 48))
		return -1;
	return (int)((word >> 40) & 0xff);
}

#endif
