/* The sandbox's in-VM stub (call.c): copied into the partition at
 * HXK_STUB_GPA, position-independent, never run on the host. It is the
 * caller of the firmware function and the catcher of its exceptions:
 *
 *   entry: LIDT its own IDT (the host filled the gates and the IDTR), then
 *          CALL *R11, the function, with the arguments the host put in the
 *          registers and on the stack (SysV or MS x64); on return RAX is
 *          the result: CALL_RETURN with it in RDI.
 *   vector n (0..31): a frame on the IST1 stack (the host set IST1 in the
 *          guest ABI's TSS, so a stack overflow of the function still
 *          lands here); CALL_FAULT with RDI = n, RSI = the error code (0
 *          when the vector has none), RDX = the faulting RIP, R10 = CR2.
 *   hc:    the one hypercall instruction, VMCALL; the host patches it to
 *          VMMCALL for an AMD partition and watches it with a hardware
 *          breakpoint (hv/hcall.h: CALL_RETURN 8, CALL_FAULT 9). It never
 *          returns; the HLT after it only guards a host that resumed it.
 *   unsupported: what every service of an EFI image's system table points
 *          at (efi_start.h): returns EFI_UNSUPPORTED. */
	.section .rodata.hxk_stub, "a"
	.balign 16
	.globl hxk_stub_start, hxk_stub_end, hxk_stub_entry_off, hxk_stub_hc_off
	.globl hxk_stub_idtr_off, hxk_stub_vec_off, hxk_stub_unsupported_off
hxk_stub_start:
stub_entry:
	lidt stub_idtr(%rip)
	call *%r11
	movq %rax, %rdi
	movl $8, %eax
stub_hc:
	vmcall
1:	hlt
	jmp 1b

.macro vec n
	.balign 8
stub_vec_\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp stub_fault
.endm
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vec \v
	.endr

	.balign 8
stub_unsupported:
	movabsq $0x8000000000000003, %rax
	ret

/* Frame: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
stub_fault:
	popq %rdi
	popq %rsi
	movq (%rsp), %rdx
	movq %cr2, %r10
	movl $9, %eax
	jmp stub_hc

	.balign 16
stub_idtr:
	.word 0 /* limit: filled by the host */
	.quad 0 /* base */
	.balign 16
hxk_stub_end:

	.balign 8
hxk_stub_entry_off:
	.quad stub_entry - hxk_stub_start
hxk_stub_hc_off:
	.quad stub_hc - hxk_stub_start
hxk_stub_idtr_off:
	.quad stub_idtr - hxk_stub_start
hxk_stub_unsupported_off:
	.quad stub_unsupported - hxk_stub_start
hxk_stub_vec_off:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad stub_vec_\v - hxk_stub_start
	.endr
	.section .note.GNU-stack, "", @progbits
