/* Multiboot v1 entry of the bootable image (Multiboot Specification 0.6.96,
 * sections 3.1 and 3.2): the loader enters _start in 32-bit protected mode,
 * paging off, EAX = 0x2BADB002, EBX = the multiboot information. This stub
 * builds identity page tables for [0, 4 GiB) in 2 MiB pages, enters long
 * mode (AMD64 APM Vol. 2, 14.6 "Enabling and Activating Long Mode") and
 * calls hv_boot_main(magic, info) on its own stack. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* bit 0: modules page aligned; bit 1: memory map */

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_PS 0x80

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, hv_boot_mb_magic
	movl %ebx, hv_boot_mb_info
	movl $hv_boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	movl $hv_boot_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, hv_boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $hv_boot_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, hv_boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b

	/* 2048 PDEs of 2 MiB: RAM write-back (PAT index 0); the top GiB,
	 * where the local APIC and device MMIO live, uncached (PCD|PWT:
	 * index 3, UC in the PAT the image loads, hv/s2_entry.h). */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl $1536, %ecx
	jb 3f
	orl $(PTE_PCD | PTE_PWT), %eax
3:	movl %eax, hv_boot_pd(, %ecx, 8)
	movl $0, hv_boot_pd+4(, %ecx, 8) /* address bits 63:32: 0 below 4 GiB */
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $hv_boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	lgdt gdt_ptr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $hv_boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl hv_boot_mb_magic, %edi
	movl hv_boot_mb_info, %esi
	call hv_boot_main
4:	cli
	hlt
	jmp 4b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .bss
	.balign 4096
	.globl hv_boot_pml4
hv_boot_pml4:
	.skip 4096
hv_boot_pdpt:
	.skip 4096
hv_boot_pd:
	.skip 4 * 4096
	.balign 16
	.skip 64 * 1024
	.globl hv_boot_stack_top
hv_boot_stack_top:
	.globl hv_boot_mb_magic, hv_boot_mb_info
hv_boot_mb_magic:
	.long 0
hv_boot_mb_info:
	.long 0
	.section .note.GNU-stack, "", @progbits
