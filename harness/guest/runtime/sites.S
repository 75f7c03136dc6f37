/* The runtime's only CPUID, VMCALL and VMMCALL instructions. The runner
 * puts hardware breakpoints on the global *_site labels, so every such
 * instruction a guest executes must go through these functions. */

	.text

/* void hx_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]) */
	.globl hx_cpuid, hx_cpuid_site
	.type hx_cpuid, @function
hx_cpuid:
	push %rbx
	mov %rdx, %r8
	mov %edi, %eax
	mov %esi, %ecx
hx_cpuid_site:
	cpuid
	mov %eax, 0(%r8)
	mov %ebx, 4(%r8)
	mov %ecx, 8(%r8)
	mov %edx, 12(%r8)
	pop %rbx
	ret
	.size hx_cpuid, . - hx_cpuid

/* int64_t hx_vmcall(nr, a1, a2, a3, a4, uint64_t *rdi_out): SysV passes
 * RDI, RSI, RDX, RCX, R8, R9; the hypercall ABI wants RAX, RDI, RSI, RDX,
 * R10. hx_vmcall_resume is where an exception raised by the instruction
 * resumes (hx_vmcall_safe). */
	.globl hx_vmcall, hx_vmcall_site, hx_vmcall_resume
	.type hx_vmcall, @function
hx_vmcall:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
hx_vmcall_site:
	vmcall
hx_vmcall_resume:
	test %r9, %r9
	jz 1f
	mov %rdi, (%r9)
1:	ret
	.size hx_vmcall, . - hx_vmcall

	.globl hx_vmmcall, hx_vmmcall_site, hx_vmmcall_resume
	.type hx_vmmcall, @function
hx_vmmcall:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
hx_vmmcall_site:
	vmmcall
hx_vmmcall_resume:
	test %r9, %r9
	jz 1f
	mov %rdi, (%r9)
1:	ret
	.size hx_vmmcall, . - hx_vmmcall

	.section .note.GNU-stack, "", @progbits
