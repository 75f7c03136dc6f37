/* The AMD Virtual Machine Control Block (AMD64 APM Vol. 2, Appendix B,
 * "Layout of VMCB"): a 4 KiB page, the control area at offset 0 and the
 * state-save area at 0x400. Only the fields this hypervisor reads or writes
 * are named; the rest is reserved space, so the struct is the page exactly
 * and every named offset is pinned below against the APM's tables. */
#ifndef HV_VMCB_H
#define HV_VMCB_H

#include "hv/types.h"

/* A segment register in the save area (APM Vol. 2, Table B-2). */
struct hv_vmcb_seg {
	uint16_t selector;
	uint16_t attrib; /* bits 7:0 type,S,DPL,P; 11:8 AVL,L,D/B,G */
	uint32_t limit;
	uint64_t base;
};

/* Control area (APM Vol. 2, Table B-1). */
struct hv_vmcb_control {
	uint32_t intercept_cr;  /* 0x000: bits 15:0 reads, 31:16 writes */
	uint32_t intercept_dr;  /* 0x004 */
	uint32_t intercept_exc; /* 0x008: one bit per exception vector */
	uint32_t intercept1;    /* 0x00c: INTR..SHUTDOWN (HV_VMCB_I1_*) */
	uint32_t intercept2;    /* 0x010: VMRUN..XSETBV (HV_VMCB_I2_*) */
	uint32_t intercept3;    /* 0x014 */
	uint8_t rsvd_018[0x03c - 0x018];
	uint16_t pause_filter_thresh; /* 0x03c */
	uint16_t pause_filter_count;  /* 0x03e */
	uint64_t iopm_base_pa;        /* 0x040 */
	uint64_t msrpm_base_pa;       /* 0x048 */
	uint64_t tsc_offset;          /* 0x050 */
	uint32_t guest_asid;          /* 0x058 */
	uint8_t tlb_control;          /* 0x05c */
	uint8_t rsvd_05d[3];
	uint64_t vintr;         /* 0x060 */
	uint64_t int_shadow;    /* 0x068 */
	uint64_t exit_code;     /* 0x070 */
	uint64_t exit_info1;    /* 0x078 */
	uint64_t exit_info2;    /* 0x080 */
	uint64_t exit_int_info; /* 0x088 */
	uint64_t np_enable;     /* 0x090: bit 0 nested paging */
	uint64_t avic_apic_bar; /* 0x098 */
	uint64_t ghcb_pa;       /* 0x0a0 */
	uint64_t event_inj;     /* 0x0a8 */
	uint64_t n_cr3;         /* 0x0b0: nested page table root */
	uint64_t lbr_virt;      /* 0x0b8 */
	uint32_t clean;         /* 0x0c0: VMCB clean bits */
	uint32_t rsvd_0c4;
	uint64_t next_rip;      /* 0x0c8: with NRIPS (CPUID Fn8000_000A EDX[3]) */
	uint8_t insn_fetched;   /* 0x0d0: with decode assists */
	uint8_t insn_bytes[15]; /* 0x0d1 */
	uint8_t rsvd_0e0[0x400 - 0x0e0];
};

/* State-save area (APM Vol. 2, Table B-2), offsets from its start. */
struct hv_vmcb_save {
	struct hv_vmcb_seg es, cs, ss, ds, fs, gs; /* 0x000 .. 0x05f */
	struct hv_vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x060 .. 0x09f */
	uint8_t rsvd_0a0[0x0cb - 0x0a0];
	uint8_t cpl; /* 0x0cb */
	uint32_t rsvd_0cc;
	uint64_t efer; /* 0x0d0 */
	uint8_t rsvd_0d8[0x148 - 0x0d8];
	uint64_t cr4;    /* 0x148 */
	uint64_t cr3;    /* 0x150 */
	uint64_t cr0;    /* 0x158 */
	uint64_t dr7;    /* 0x160 */
	uint64_t dr6;    /* 0x168 */
	uint64_t rflags; /* 0x170 */
	uint64_t rip;    /* 0x178 */
	uint8_t rsvd_180[0x1d8 - 0x180];
	uint64_t rsp; /* 0x1d8 */
	uint8_t rsvd_1e0[0x1f8 - 0x1e0];
	uint64_t rax;            /* 0x1f8 */
	uint64_t star;           /* 0x200 */
	uint64_t lstar;          /* 0x208 */
	uint64_t cstar;          /* 0x210 */
	uint64_t sfmask;         /* 0x218 */
	uint64_t kernel_gs_base; /* 0x220 */
	uint64_t sysenter_cs;    /* 0x228 */
	uint64_t sysenter_esp;   /* 0x230 */
	uint64_t sysenter_eip;   /* 0x238 */
	uint64_t cr2;            /* 0x240 */
	uint8_t rsvd_248[0x268 - 0x248];
	uint64_t g_pat; /* 0x268: guest PAT, with nested paging */
	uint8_t rsvd_270[0xc00 - 0x270];
};

struct hv_vmcb {
	struct hv_vmcb_control ctl;
	struct hv_vmcb_save save;
};

#define HV_VMCB_CTL_AT(f, off) _Static_assert(offsetof(struct hv_vmcb, ctl.f) == (off), #f)
#define HV_VMCB_SAVE_AT(f, off)                                                                    \
	_Static_assert(offsetof(struct hv_vmcb, save.f) == 0x400 + (off), #f)
_Static_assert(sizeof(struct hv_vmcb_seg) == 16, "segment");
_Static_assert(sizeof(struct hv_vmcb) == 4096, "a VMCB is one page");
HV_VMCB_CTL_AT(intercept_exc, 0x008);
HV_VMCB_CTL_AT(intercept1, 0x00c);
HV_VMCB_CTL_AT(intercept2, 0x010);
HV_VMCB_CTL_AT(pause_filter_thresh, 0x03c);
HV_VMCB_CTL_AT(iopm_base_pa, 0x040);
HV_VMCB_CTL_AT(msrpm_base_pa, 0x048);
HV_VMCB_CTL_AT(guest_asid, 0x058);
HV_VMCB_CTL_AT(tlb_control, 0x05c);
HV_VMCB_CTL_AT(exit_code, 0x070);
HV_VMCB_CTL_AT(exit_info1, 0x078);
HV_VMCB_CTL_AT(exit_info2, 0x080);
HV_VMCB_CTL_AT(exit_int_info, 0x088);
HV_VMCB_CTL_AT(np_enable, 0x090);
HV_VMCB_CTL_AT(event_inj, 0x0a8);
HV_VMCB_CTL_AT(n_cr3, 0x0b0);
HV_VMCB_CTL_AT(clean, 0x0c0);
HV_VMCB_CTL_AT(next_rip, 0x0c8);
HV_VMCB_CTL_AT(insn_fetched, 0x0d0);
HV_VMCB_CTL_AT(insn_bytes, 0x0d1);
HV_VMCB_SAVE_AT(cs, 0x010);
HV_VMCB_SAVE_AT(tr, 0x090);
HV_VMCB_SAVE_AT(cpl, 0x0cb);
HV_VMCB_SAVE_AT(efer, 0x0d0);
HV_VMCB_SAVE_AT(cr4, 0x148);
HV_VMCB_SAVE_AT(cr3, 0x150);
HV_VMCB_SAVE_AT(cr0, 0x158);
HV_VMCB_SAVE_AT(rflags, 0x170);
HV_VMCB_SAVE_AT(rip, 0x178);
HV_VMCB_SAVE_AT(rsp, 0x1d8);
HV_VMCB_SAVE_AT(rax, 0x1f8);
HV_VMCB_SAVE_AT(star, 0x200);
HV_VMCB_SAVE_AT(kernel_gs_base, 0x220);
HV_VMCB_SAVE_AT(sysenter_eip, 0x238);
HV_VMCB_SAVE_AT(cr2, 0x240);
HV_VMCB_SAVE_AT(g_pat, 0x268);
#undef HV_VMCB_CTL_AT
#undef HV_VMCB_SAVE_AT

/* Intercept bits (APM Vol. 2, Table B-1, offsets 0x00c and 0x010). */
#define HV_VMCB_I1_INTR (1u << 0) /* physical maskable interrupt */
#define HV_VMCB_I1_CPUID (1u << 18)
#define HV_VMCB_I1_HLT (1u << 24)
#define HV_VMCB_I1_IOIO_PROT (1u << 27)
#define HV_VMCB_I1_MSR_PROT (1u << 28)
#define HV_VMCB_I1_SHUTDOWN (1u << 31)
#define HV_VMCB_I2_VMRUN (1u << 0) /* must be set, or VMRUN fails */
#define HV_VMCB_I2_VMMCALL (1u << 1)
#define HV_VMCB_I2_XSETBV (1u << 13)

/* #VMEXIT codes (APM Vol. 2, Appendix C, Table C-1). */
#define HV_SVM_EXIT_WRITE_CR0 0x010u /* 0x010 + n: a write of CRn */
#define HV_SVM_EXIT_WRITE_CR4 0x014u
#define HV_SVM_EXIT_EXCP_BASE 0x040u /* + vector, 0x040 .. 0x05f */
#define HV_SVM_EXIT_INTR 0x060u
#define HV_SVM_EXIT_CPUID 0x072u
#define HV_SVM_EXIT_HLT 0x078u
#define HV_SVM_EXIT_IOIO 0x07bu
#define HV_SVM_EXIT_MSR 0x07cu /* EXITINFO1: 0 RDMSR, 1 WRMSR */
#define HV_SVM_EXIT_SHUTDOWN 0x07fu
#define HV_SVM_EXIT_VMMCALL 0x081u
#define HV_SVM_EXIT_XSETBV 0x08du
#define HV_SVM_EXIT_NPF 0x400u
/* VMRUN with illegal guest state: -1 in the 64-bit EXITCODE. */
#define HV_SVM_EXIT_INVALID 0xffffffffffffffffull

/* NPF EXITINFO1 (APM Vol. 2, 15.25.6 "Nested versus Guest Page Faults,
 * Fault Ordering"): a #PF error code in bits 31:0, plus where the fault
 * happened in bits 33:32. */
#define HV_NPF_P (1ull << 0)      /* the nested entry was present */
#define HV_NPF_RW (1ull << 1)     /* a write */
#define HV_NPF_US (1ull << 2)     /* user access: nested walks always report 1 */
#define HV_NPF_RSV (1ull << 3)    /* a reserved bit was set in a nested entry */
#define HV_NPF_ID (1ull << 4)     /* an instruction fetch */
#define HV_NPF_FINAL (1ull << 32) /* at the final guest-physical address */
#define HV_NPF_WALK (1ull << 33)  /* at a table of the guest's own page walk */

/* IOIO EXITINFO1 (APM Vol. 2, 15.10.2, Figure 15-2). EXITINFO2 is the RIP
 * of the next instruction, with or without NRIPS. */
#define HV_IOIO_IN (1ull << 0)
#define HV_IOIO_STR (1ull << 2)
#define HV_IOIO_REP (1ull << 3)
#define HV_IOIO_SZ8 (1ull << 4)
#define HV_IOIO_SZ16 (1ull << 5)
#define HV_IOIO_SZ32 (1ull << 6)
#define HV_IOIO_PORT_SHIFT 16

/* EVENTINJ and EXITINTINFO (APM Vol. 2, 15.20, Figure 15-5). */
#define HV_EVTINJ_VEC_MASK 0xffull
#define HV_EVTINJ_TYPE_EXCEPTION (3ull << 8)
#define HV_EVTINJ_EV (1ull << 11) /* an error code is pushed */
#define HV_EVTINJ_V (1ull << 31)
#define HV_EVTINJ_ERR_SHIFT 32

/* Fn8000_000A EDX (APM Vol. 3, Appendix E): NRIPS, bit 3. */
#define HV_SVM_FEAT_NRIPS (1u << 3)
/* Decode assists (CPUID Fn8000_000A EDX bit 7): a MOV-CR intercept's
 * EXITINFO1 has bit 63 set and the GPR in bits 3:0 (APM Vol. 2, 15.33). */
#define HV_SVM_FEAT_DECODE_ASSISTS (1u << 7)
#define HV_SVM_CR_MOV (1ull << 63)

#endif
