/* Descriptor tables and the exception handler. Each vCPU gets its own GDT
 * and TSS (LTR marks the TSS descriptor busy, so it cannot be shared); the
 * IDT is shared. */
#include "percpu.h"

#define SEL_KCODE 0x08
#define SEL_TSS 0x28
#define GATE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t reserved;
};

struct __attribute__((packed)) table_reg {
	uint16_t limit;
	uint64_t base;
};

extern const uint64_t hx_isr_table[32];

static struct idt_gate hx_idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned vec, uint64_t handler, uint8_t type)
{
	struct idt_gate *g = &hx_idt[vec];

	g->off0 = (uint16_t)handler;
	g->sel = SEL_KCODE;
	g->ist = 0;
	g->type = type;
	g->off1 = (uint16_t)(handler >> 16);
	g->off2 = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

/* Flat descriptors (SDM Vol. 3A, 3.4.5): same selectors as the runner's
 * GDT so code and data stay valid across the switch. */
static void build_gdt(struct hx_percpu *pc)
{
	uint64_t base = (uint64_t)&pc->tss;
	uint64_t limit = sizeof(pc->tss) - 1;

	pc->gdt[0] = 0;
	pc->gdt[1] = 0x00af9a000000ffffull; /* 0x08 64-bit code, DPL 0 */
	pc->gdt[2] = 0x00cf92000000ffffull; /* 0x10 data, DPL 0 */
	pc->gdt[3] = 0x00affa000000ffffull; /* 0x18 64-bit code, DPL 3 */
	pc->gdt[4] = 0x00cff2000000ffffull; /* 0x20 data, DPL 3 */
	/* 0x28: 64-bit available TSS (type 9), 16 bytes (SDM Vol. 3A, 8.2.3) */
	pc->gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
	             ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	pc->gdt[6] = base >> 32;
	pc->gdt[7] = 0;
	pc->tss.iomap_base = sizeof(pc->tss); /* no I/O bitmap: CPL 3 port I/O #GPs */
	pc->tss.rsp[0] = (uint64_t)pc + HX_STACK_SIZE;
}

void hx_trap_init(struct hx_percpu *pc, int first)
{
	struct table_reg gdtr = {sizeof(pc->gdt) - 1, (uint64_t)pc->gdt};
	struct table_reg idtr = {sizeof(hx_idt) - 1, (uint64_t)hx_idt};

	if (first) {
		for (unsigned v = 0; v < 32; v++)
			set_gate(v, hx_isr_table[v], GATE_INTR);
	}
	build_gdt(pc);
	__asm__ volatile("lgdt %0\n\t"
	                 "pushq $0x08\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movl $0x10, %%eax\n\t"
	                 "movl %%eax, %%ds\n\t"
	                 "movl %%eax, %%es\n\t"
	                 "movl %%eax, %%ss\n\t"
	                 "movw %[tss], %%ax\n\t"
	                 "ltr %%ax\n\t"
	                 "lidt %1"
	                 :
	                 : "m"(gdtr), "m"(idtr), [tss] "i"(SEL_TSS)
	                 : "rax", "memory");
}

const struct hx_fault *hx_last_fault(void)
{
	struct hx_percpu *pc = hx_this_cpu();

	pc->last.vector = (int)pc->vector;
	pc->last.error = pc->error;
	pc->last.rip = pc->fault_rip;
	pc->last.cr2 = pc->cr2;
	return &pc->last;
}

/* frame: RAX..R15 (15), vector, error, RIP, CS, RFLAGS, RSP, SS. */
enum { F_VECTOR = 15, F_ERROR, F_RIP, F_CS, F_RFLAGS, F_RSP, F_SS };

void hx_exception(uint64_t *frame)
{
	struct hx_percpu *pc = hx_this_cpu();
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (pc->resume != 0) {
		pc->vector = (int64_t)frame[F_VECTOR];
		pc->error = frame[F_ERROR];
		pc->fault_rip = frame[F_RIP];
		pc->cr2 = cr2;
		frame[F_RIP] = pc->resume;
		pc->resume = 0;
		return;
	}
	hx_ucall(HX_UCALL_EXCEPTION, HX_FILE, __LINE__, "unexpected exception", frame[F_VECTOR],
	         frame[F_ERROR], frame[F_RIP], frame[F_VECTOR] == 14 ? cr2 : frame[F_CS]);
	for (;;)
		__asm__ volatile("cli; hlt");
}
