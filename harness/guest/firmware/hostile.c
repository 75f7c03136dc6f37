/* Hostile firmware functions for the sandbox: each tries one thing a
 * firmware call must never get away with. Called by name through hx call
 * (SysV), each is contained and reported: ci/call-tests.sh. Built as a
 * static ELF and, like the runtime-services image, as a PE32+ driver. */
#include "fw.h"

#ifndef HX_FW_EFI
FW_NO_ENTRY
#else
/* The PE32+ build (gnu-efi): its crt0 relocates the image and calls this
 * when the sandbox starts it; it installs nothing. */
uint64_t efi_main(void *image, void *system_table);
uint64_t efi_main(void *image, void *system_table)
{
	(void)image;
	(void)system_table;
	return EFI_SUCCESS;
}
#endif

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

/* Zeroes the sandbox stub's IDT (harness/kvm/call.h: HXK_STUB_IDT_GPA,
 * in the partition's own RAM) and returns normally: the next call's
 * exceptions must still be reported, so hx writes the stub again. */
uint64_t smash_idt(void);
uint64_t smash_idt(void)
{
	volatile uint64_t *idt = (volatile uint64_t *)0xf000;
	for (int i = 0; i < 64; i++)
		idt[i] = 0;
	return 0;
}

/* Loads an IDT of its own, empty, then takes #UD: #UD and the #GP it
 * raises find no gate, the #DF neither, and the vCPU shuts down (SDM Vol.
 * 3A, 6.15, "Interrupt 8"): the stub never sees it, the core contains it. */
uint64_t own_idt(void);
uint64_t own_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {0, 0};
	__asm__ volatile("lidt %0\n\tud2" : : "m"(idtr));
	return 0;
}

/* Loads an IDT of its own whose #UD gate resumes after the UD2: it handles
 * its own exception and returns, and the sandbox sees a normal return. */
uint64_t own_idt_handled(void);
extern char own_ud_handler[];
__asm__(".text\n"
        "own_ud_handler:\n"
        "\taddq $2, (%rsp)\n" /* past the 2-byte UD2 */
        "\tiretq\n");
uint64_t own_idt_handled(void)
{
	static uint64_t idt[2 * 32] __attribute__((aligned(16)));
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} mine = {sizeof(idt) - 1, (uint64_t)idt}, saved;
	uint64_t a = (uint64_t)own_ud_handler;
	idt[2 * 6] = (a & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | ((a >> 16) & 0xffff) << 48;
	idt[2 * 6 + 1] = a >> 32;
	__asm__ volatile("sidt %0\n\tlidt %1\n\tud2\n\tlidt %0"
	                 : "=m"(saved)
	                 : "m"(mine)
	                 : "memory");
	return 0x1d7;
}

/* Control registers (SDM Vol. 3A, 2.5): clearing CR0.WP lets ring 0
 * write read-only pages; setting CR4.VMXE asks for VMX; clearing CR0.PG
 * in long mode is refused by the CPU itself with #GP. */
uint64_t clear_cr0_wp(void);
uint64_t clear_cr0_wp(void)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ull << 16)));
	return 0;
}

uint64_t set_cr4_vmxe(void);
uint64_t set_cr4_vmxe(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1ull << 13)));
	return 0;
}

uint64_t clear_cr0_pg(void);
uint64_t clear_cr0_pg(void)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ull << 31)));
	return 0;
}
