/* Per-vCPU state of the guest runtime. Exception handlers run on the
 * kernel stack of the vCPU (at CPL 0 directly, from CPL 3 through
 * TSS.RSP0) and find their state by masking RSP. Offsets used from
 * assembly are checked with static asserts in start.c. */
#ifndef HX_GUEST_PERCPU_H
#define HX_GUEST_PERCPU_H

/* One block per vCPU: struct hx_percpu at its base, the user stack
 * growing down from base + HX_USER_STACK_TOP, the kernel stack from the
 * block's end. Both stacks are inside the block, so masking RSP finds the
 * per-vCPU state at CPL 0 and at CPL 3 alike. */
#define HX_STACK_SIZE 0x8000
#define HX_STACK_SHIFT 15
#define HX_USER_STACK_TOP 0x2000
#define HX_CPU_BLOCKS 8

/* Offsets into struct hx_percpu for the assembly files. */
#define PC_RESUME 0x00    /* resume RIP of the armed window, 0 when disarmed */
#define PC_TRY_RSP 0x08   /* RSP to restore at the resume point (hx_try) */
#define PC_VECTOR 0x10    /* int: vector caught, -1 none */
#define PC_ERROR 0x18     /* error code */
#define PC_FAULT_RIP 0x20 /* RIP of the fault */
#define PC_CR2 0x28
#define PC_USER_RSP 0x30   /* kernel RSP to return to from CPL 3 */
#define PC_USER_STACK 0x38 /* top of this vCPU's user stack */
#define PC_TSS 0x40        /* struct hx_tss (104 bytes) */
#define PC_TSS_RSP0 (PC_TSS + 4)

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "hx/guest.h"

struct __attribute__((packed)) hx_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct hx_percpu {
	uint64_t resume;
	uint64_t try_rsp;
	int64_t vector;
	uint64_t error;
	uint64_t fault_rip;
	uint64_t cr2;
	uint64_t user_rsp;
	uint64_t user_stack;
	struct hx_tss tss;
	uint8_t pad0[8];
	uint64_t gdt[8];
	uint32_t partition;
	uint32_t vcpu;
	const struct hx_boot_info *boot;
	struct hx_fault last; /* copy for hx_last_fault() */
	uint64_t guard;       /* overwritten when the stack overflows */
	uint64_t *high_pdpt;  /* hx_map_high's table */
};

#define HX_PERCPU_GUARD 0x5afe57ac5afe57acull

static inline struct hx_percpu *hx_this_cpu(void)
{
	uint64_t rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (struct hx_percpu *)(rsp & ~(uint64_t)(HX_STACK_SIZE - 1));
}

/* Arm the window: an exception resumes at `resume`. */
static inline void hx_arm(struct hx_percpu *pc, uint64_t resume)
{
	pc->vector = HX_NO_FAULT;
	pc->resume = resume;
}

void hx_runtime_start(uint64_t partition, uint64_t vcpu, uint64_t boot_gpa);
void hx_trap_init(struct hx_percpu *pc, int first);
void hx_exception(uint64_t *frame);
#endif

#endif
