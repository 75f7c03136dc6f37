/* Exception entry points for vectors 0-31, hx_try and hx_user_call.
 *
 * User code returns to CPL 0 with a UD2 at hx_user_exit, not with INT n:
 * on these machines KVM emulates software interrupts in some paths and its
 * emulator cannot do INT n in long mode (a CPL 3 INT 0x80 became #UD, a
 * CPL 0 INT3 an internal error). Exceptions are delivered by the CPU. */
#include "percpu.h"

#define KERNEL_DS 0x10
#define USER_CS 0x1b
#define USER_DS 0x23

/* Offsets in the frame hx_isr_common builds (see below). */
#define F_RDI (5 * 8)
#define F_VECTOR (15 * 8)
#define F_RIP (17 * 8)
#define F_CS (18 * 8)

/* RAX = this vCPU's struct hx_percpu (from RSP). */
.macro THIS_CPU reg
	mov %rsp, \reg
	and $~(HX_STACK_SIZE - 1), \reg
.endm

	.text

/* Vectors that push an error code (SDM Vol. 3A, Table 6-1): 8, 10-14, 17,
 * 21, 29, 30. The others push a zero so the frame has one layout. */
.macro ISR n
	.balign 16
hx_isr_\n:
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp hx_isr_common
.endm

	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR \n
	.endr

	.section .rodata
	.balign 8
	.globl hx_isr_table
hx_isr_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad hx_isr_\n
	.endr
	.text

/* Frame handed to hx_exception: 15 GPRs (RAX first), vector, error code,
 * then the CPU's RIP, CS, RFLAGS, RSP, SS. 22 quadwords keep RSP 16-byte
 * aligned for the call (the CPU aligns it before pushing in long mode). */
hx_isr_common:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rbx
	push %rax
	/* #UD at hx_user_exit from CPL 3: hx_user_call's return path. */
	cmpq $6, F_VECTOR(%rsp)
	jne 1f
	lea hx_user_exit(%rip), %rax
	cmp %rax, F_RIP(%rsp)
	jne 1f
	testb $3, F_CS(%rsp)
	jz 1f
	mov F_RDI(%rsp), %rdi
	jmp user_return
1:	mov %rsp, %rdi
	cld
	call hx_exception
	pop %rax
	pop %rbx
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rbp
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	add $16, %rsp
	iretq

/* From the #UD at hx_user_exit: back to hx_user_call's caller with the
 * user's RDI as result. */
user_return:
	THIS_CPU %rax
	mov PC_USER_RSP(%rax), %rsp
	mov %rdi, %rax
	mov $KERNEL_DS, %ecx
	mov %ecx, %ss
	mov %ecx, %ds
	mov %ecx, %es
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* uint64_t hx_user_call(uint64_t (*fn)(uint64_t), uint64_t arg) */
	.globl hx_user_call
	.type hx_user_call, @function
hx_user_call:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	THIS_CPU %rax
	mov %rsp, PC_USER_RSP(%rax)
	mov %rsp, PC_TSS_RSP0(%rax)
	mov PC_USER_STACK(%rax), %rcx
	mov %rdi, %r12
	mov %rsi, %rdi
	pushq $USER_DS
	pushq %rcx
	pushq $0x2
	pushq $USER_CS
	lea hx_user_entry(%rip), %rcx
	pushq %rcx
	iretq
	.size hx_user_call, . - hx_user_call

hx_user_entry:
	call *%r12
	mov %rax, %rdi
	.globl hx_user_exit
hx_user_exit:
	ud2

/* int hx_try(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t *ret) */
	.globl hx_try
	.type hx_try, @function
hx_try:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdx
	THIS_CPU %rax
	mov %rsp, PC_TRY_RSP(%rax)
	movq $-1, PC_VECTOR(%rax)
	lea 1f(%rip), %rcx
	mov %rcx, PC_RESUME(%rax)
	mov %rdi, %r11
	mov %rsi, %rdi
	call *%r11
	THIS_CPU %rcx
	movq $0, PC_RESUME(%rcx)
	mov (%rsp), %rdx
	test %rdx, %rdx
	jz 2f
	mov %rax, (%rdx)
2:	mov $-1, %eax
	jmp 3f
1:	THIS_CPU %rcx
	mov PC_TRY_RSP(%rcx), %rsp
	mov PC_VECTOR(%rcx), %eax
3:	pop %rdx
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size hx_try, . - hx_try

	.section .note.GNU-stack, "", @progbits
