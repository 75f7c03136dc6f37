/* Entry of the freestanding replay image (beq_abi.h): long mode, CPL 0,
 * linked in the upper 2 GiB. Loads its own stack and IDT and enters the
 * driver; exceptions end in beq_exception, which reports them to the host.
 * The 32 architectural vectors get a stub each; the CPU pushes an error
 * code only for 8, 10-14, 17, 21, 29 and 30 (Intel SDM Vol. 3A, 6.13,
 * Table 6-1), the others push 0 so the frame is the same. */

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	lea beq_stack_top(%rip), %rsp
	xor %ebp, %ebp
	call beq_idt_install
	call beq_main
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.text
.macro STUB vec, has_error
	.balign 16
beq_vec_\vec:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp beq_exc_common
.endm

	STUB 0, 0
	STUB 1, 0
	STUB 2, 0
	STUB 3, 0
	STUB 4, 0
	STUB 5, 0
	STUB 6, 0
	STUB 7, 0
	STUB 8, 1
	STUB 9, 0
	STUB 10, 1
	STUB 11, 1
	STUB 12, 1
	STUB 13, 1
	STUB 14, 1
	STUB 15, 0
	STUB 16, 0
	STUB 17, 1
	STUB 18, 0
	STUB 19, 0
	STUB 20, 0
	STUB 21, 1
	STUB 22, 0
	STUB 23, 0
	STUB 24, 0
	STUB 25, 0
	STUB 26, 0
	STUB 27, 0
	STUB 28, 0
	STUB 29, 1
	STUB 30, 1
	STUB 31, 0

/* Frame: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
beq_exc_common:
	mov %rsp, %rdi
	and $-16, %rsp
	call beq_exception
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 8
	.globl beq_vectors
beq_vectors:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad beq_vec_\v
	.endr

/* 64 KiB: the core's deepest frames are a few KiB (hv_ept_verify ~7 KiB,
 * channel hypercalls ~4 KiB, gcc -fstack-usage); the driver checks a
 * canary at the bottom after every exit. */
	.section .bss
	.balign 16
	.globl beq_stack
beq_stack:
	.skip 0x10000
beq_stack_top:

	.section .note.GNU-stack, "", @progbits
