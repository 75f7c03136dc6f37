/* Host exception entry: one stub per vector 0..31 pushes a uniform frame
 * (error code or 0, vector, the general-purpose registers) and calls
 * hvb_trap(frame); on return the registers are restored and IRETQ resumes
 * at frame->rip (AMD64 APM Vol. 2, 8.9 "Long-Mode Interrupt Control
 * Transfers"). Vectors with an error code: 8, 10-14, 17, 21, 29, 30. */
	.text
	.code64
.macro stub vec
	.balign 16
trap_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub \v
	.endr

trap_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call hvb_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl hvb_trap_stubs
hvb_trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_\v
	.endr

/* int hvb_rdmsr_safe(uint32_t msr, uint64_t *value): 0, or -1 on #GP.
 * int hvb_wrmsr_safe(uint32_t msr, uint64_t value). The trap handler moves
 * a #GP at the *_insn labels to the *_fault labels. */
	.text
	.globl hvb_rdmsr_safe, hvb_rdmsr_insn, hvb_rdmsr_fault
hvb_rdmsr_safe:
	movl %edi, %ecx
hvb_rdmsr_insn:
	rdmsr
	shlq $32, %rdx
	movl %eax, %eax
	orq %rdx, %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret
hvb_rdmsr_fault:
	movl $-1, %eax
	ret
	.globl hvb_wrmsr_safe, hvb_wrmsr_insn, hvb_wrmsr_fault
hvb_wrmsr_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
hvb_wrmsr_insn:
	wrmsr
	xorl %eax, %eax
	ret
hvb_wrmsr_fault:
	movl $-1, %eax
	ret
	.section .note.GNU-stack, "", @progbits
