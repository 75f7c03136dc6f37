/* Entry from the runner (hx/guest_abi.h): long mode, CPL 0, RSP = 0,
 * RDI = partition, RSI = vCPU, RDX = boot info GPA. Picks the vCPU's stack
 * block and enters the C runtime. */
#include "percpu.h"

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	cmp $HX_CPU_BLOCKS, %rsi
	jae 9f
	lea hx_cpu_blocks(%rip), %rsp
	mov %rsi, %rax
	inc %rax
	shl $HX_STACK_SHIFT, %rax
	add %rax, %rsp
	xor %ebp, %ebp
	call hx_runtime_start
9:	cli
	hlt
	jmp 9b
	.size _start, . - _start

/* Per-vCPU blocks: not part of .bss (vCPU 0 zeroes .bss while the others
 * may already run on their stacks). */
	.section .stacks, "aw", @nobits
	.balign HX_STACK_SIZE
	.globl hx_cpu_blocks
hx_cpu_blocks:
	.skip HX_STACK_SIZE * HX_CPU_BLOCKS
	.size hx_cpu_blocks, . - hx_cpu_blocks

	.section .note.GNU-stack, "", @progbits
