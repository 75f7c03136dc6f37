/* Hostile firmware functions for the sandbox: each tries one thing a
 * firmware call must never get away with. Called by name through hx call
 * (SysV), each is contained and reported: ci/call-tests.sh. */
#include "fw.h"

FW_NO_ENTRY

uint64_t write_lstar(void);
uint64_t write_lstar(void)
{
	__asm__ volatile("wrmsr" : : "c"(0xc0000082u), "a"(0x1000u), "d"(0u));
	return 0;
}

uint64_t write_efer(void);
uint64_t write_efer(void)
{
	__asm__ volatile("wrmsr" : : "c"(0xc0000080u), "a"(0u), "d"(0u));
	return 0;
}

uint64_t read_host_msr(void);
uint64_t read_host_msr(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x3au)); /* FEATURE_CONTROL */
	return (uint64_t)hi << 32 | lo;
}

uint64_t wild_read(uint64_t addr);
uint64_t wild_read(uint64_t addr)
{
	return *(volatile uint64_t *)addr;
}

uint64_t wild_write(uint64_t addr);
uint64_t wild_write(uint64_t addr)
{
	*(volatile uint64_t *)addr = 0x4141414141414141ull;
	return 0;
}

/* Recurses until the stack is gone; the depth limit only keeps the
 * compiler from calling it infinite (no stack is that deep). */
static uint64_t deep(uint64_t n)
{
	volatile uint8_t pad[512];
	pad[0] = (uint8_t)n;
	if (n > (1ull << 40))
		return pad[0];
	return deep(n + 1) + pad[0];
}

uint64_t stack_overflow(void);
uint64_t stack_overflow(void)
{
	return deep(0);
}

uint64_t spin(void);
uint64_t spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

uint64_t undefined_insn(void);
uint64_t undefined_insn(void)
{
	__asm__ volatile("ud2");
	return 0;
}

uint64_t divide_by_zero(uint64_t zero);
uint64_t divide_by_zero(uint64_t zero)
{
	uint64_t q;
	__asm__ volatile("xorl %%edx, %%edx; movl $1, %%eax; divq %1"
	                 : "=a"(q)
	                 : "r"(zero)
	                 : "rdx");
	return q;
}

uint64_t halt(void);
uint64_t halt(void)
{
	__asm__ volatile("hlt");
	return 0;
}

uint64_t pci_config(void);
uint64_t pci_config(void)
{
	hv_outl(0xcf8, 0x80000000u);
	return hv_inl(0xcfc);
}

uint64_t smi(void);
uint64_t smi(void)
{
	hv_outb(0xb2, 0x42);
	return 0;
}

/* Writes over its own code: the page is RWX in the sandbox config, so it
 * succeeds and the call returns what the rewritten code computes. */
uint64_t self_modify(void);
__attribute__((noinline)) static uint64_t patched(void)
{
	return 1;
}
uint64_t self_modify(void)
{
	volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)patched;
	/* mov $2, %eax; ret */
	code[0] = 0xb8;
	code[1] = 2;
	code[2] = 0;
	code[3] = 0;
	code[4] = 0;
	code[5] = 0xc3;
	return patched();
}

uint64_t add(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f, uint64_t g,
             uint64_t h);
uint64_t add(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f, uint64_t g,
             uint64_t h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

__attribute__((ms_abi)) uint64_t add_ms(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                        uint64_t f);
__attribute__((ms_abi)) uint64_t add_ms(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                        uint64_t f)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

/* Writes one byte more than the buffer it was given holds. */
uint64_t overflow_buffer(uint8_t *buf, uint64_t len);
uint64_t overflow_buffer(uint8_t *buf, uint64_t len)
{
	for (uint64_t i = 0; i <= len; i++)
		((volatile uint8_t *)buf)[i] = 0x42;
	return len;
}
