/* The host IDT: a host exception is a bug of the image or a #GP of a
 * guarded RDMSR/WRMSR; the first is reported and ends the run, the second
 * returns -1 to the core's MSR handler. */
#include "trap.h"

#include "io.h"
#include "lapic.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

extern const uint64_t hvb_trap_stubs[256];
extern char hvb_rdmsr_insn[], hvb_rdmsr_fault[], hvb_wrmsr_insn[], hvb_wrmsr_fault[];

/* 64-bit interrupt gate (AMD64 APM Vol. 2, 4.8.4, Figure 4-24). */
struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, rsvd;
};
_Static_assert(sizeof(struct idt_gate) == 16, "long-mode gate");

static struct idt_gate idt[256];

void hvb_trap_init(void)
{
	for (uint32_t v = 0; v < 256; v++) {
		uint64_t a = hvb_trap_stubs[v];
		idt[v] = (struct idt_gate){(uint16_t)a,         0x08, 0, 0x8e, (uint16_t)(a >> 16),
		                           (uint32_t)(a >> 32), 0};
	}
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void hvb_trap(struct trap_frame *f);
void hvb_trap(struct trap_frame *f)
{
	/* The timer only ends a guest's time slice (#VMEXIT INTR, run.c); it
	 * is taken here, after the exit, when STGI opens the window. */
	if (f->vector == HVB_TIMER_VECTOR) {
		hvb_lapic_eoi();
		return;
	}
	if (f->vector == HVB_SPURIOUS_VECTOR)
		return; /* no EOI for a spurious interrupt (Intel SDM Vol. 3A, 11.9) */
	if (f->vector == 13 && f->rip == (uint64_t)(uintptr_t)hvb_rdmsr_insn) {
		f->rip = (uint64_t)(uintptr_t)hvb_rdmsr_fault;
		return;
	}
	if (f->vector == 13 && f->rip == (uint64_t)(uintptr_t)hvb_wrmsr_insn) {
		f->rip = (uint64_t)(uintptr_t)hvb_wrmsr_fault;
		return;
	}
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vector >= 32)
		hvb_fatal("unexpected host interrupt %lu at RIP 0x%lx", (unsigned long)f->vector,
		          (unsigned long)f->rip);
	hvb_fatal("host exception %lu (error 0x%lx) at RIP 0x%lx, RSP 0x%lx, CR2 0x%lx",
	          (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip,
	          (unsigned long)f->rsp, (unsigned long)cr2);
}
