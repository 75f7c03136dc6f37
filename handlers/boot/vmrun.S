/* void hv_boot_vmrun(uint64_t vmcb_pa, uint64_t host_save_pa, uint64_t gpr[16])
 *
 * One guest run: the guest's general-purpose registers (all but RAX and
 * RSP, which the VMCB holds; enum hv_gpr order) are loaded from gpr[],
 * VMLOAD/VMRUN/VMSAVE run the guest until its next #VMEXIT, and the
 * registers are stored back. The host runs with interrupts off; IF is set
 * only for the guest's run (GIF = 0 holds them until VMRUN, and with
 * V_INTR_MASKING the host's IF lets a timer interrupt end the guest's run,
 * APM Vol. 2, 15.21.1), and the interrupt that ended it is taken between
 * STGI and CLI, after the guest's state is saved. VMRUN saves and restores only part of the
 * host state (AMD64 APM Vol. 2, 15.5.1 and 15.5.2): FS, GS, TR, LDTR and
 * the SYSCALL/SYSENTER MSRs are exchanged by VMSAVE/VMLOAD on the host save
 * page; the callee-saved registers of the SysV ABI are pushed here. GIF is
 * cleared around the whole sequence so nothing interrupts the host while
 * guest state is loaded (APM Vol. 2, 15.17). */
	.text
	.code64
	.globl hv_boot_vmrun
	.type hv_boot_vmrun, @function
hv_boot_vmrun:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx /* gpr[] */
	pushq %rsi /* host save page */
	pushq %rdi /* VMCB */
	clgi
	sti
	movq %rsi, %rax
	vmsave %rax
	movq %rdx, %rax
	movq 1*8(%rax), %rcx
	movq 2*8(%rax), %rdx
	movq 3*8(%rax), %rbx
	movq 5*8(%rax), %rbp
	movq 6*8(%rax), %rsi
	movq 7*8(%rax), %rdi
	movq 8*8(%rax), %r8
	movq 9*8(%rax), %r9
	movq 10*8(%rax), %r10
	movq 11*8(%rax), %r11
	movq 12*8(%rax), %r12
	movq 13*8(%rax), %r13
	movq 14*8(%rax), %r14
	movq 15*8(%rax), %r15
	movq (%rsp), %rax
	vmload %rax
	vmrun %rax
	/* #VMEXIT: RAX is the VMCB address again, RSP the host stack. */
	vmsave %rax
	movq 16(%rsp), %rax
	movq %rcx, 1*8(%rax)
	movq %rdx, 2*8(%rax)
	movq %rbx, 3*8(%rax)
	movq %rbp, 5*8(%rax)
	movq %rsi, 6*8(%rax)
	movq %rdi, 7*8(%rax)
	movq %r8, 8*8(%rax)
	movq %r9, 9*8(%rax)
	movq %r10, 10*8(%rax)
	movq %r11, 11*8(%rax)
	movq %r12, 12*8(%rax)
	movq %r13, 13*8(%rax)
	movq %r14, 14*8(%rax)
	movq %r15, 15*8(%rax)
	movq 8(%rsp), %rax
	vmload %rax
	stgi
	nop /* the timer interrupt, if it ended the run, is delivered here */
	cli
	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size hv_boot_vmrun, . - hv_boot_vmrun
	.section .note.GNU-stack, "", @progbits
