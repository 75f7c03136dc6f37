#include "svm.h"

#include "hv/guest_abi.h"
#include "hv/s2_entry.h"
#include "io.h"
#include "trap.h"

#define MSR_EFER 0xc0000080u
#define MSR_VM_CR 0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define MSR_PAT 0x277u
#define EFER_SVME (1ull << 12)
#define VM_CR_SVMDIS (1ull << 4)
#define CPUID_SVM (1u << 2)   /* Fn8000_0001 ECX (APM Vol. 3, E.4.2) */
#define SVM_FEAT_NP (1u << 0) /* Fn8000_000A EDX */
#define VINTR_MASKING (1ull << 24)
#define TLB_FLUSH_ALL 1

void hvb_svm_enable(uint64_t hsave_pa, struct hvb_cpu *cpu)
{
	uint32_t r[4];
	hvb_cpuid(0, 0, r);
	/* "AuthenticAMD" in EBX, EDX, ECX. */
	if (r[1] != 0x68747541u || r[3] != 0x69746e65u || r[2] != 0x444d4163u)
		hvb_fatal("this CPU is not AMD: the image runs on AMD SVM only (QEMU: -cpu EPYC)");
	hvb_cpuid(0x80000000u, 0, r);
	if (r[0] < 0x8000000au)
		hvb_fatal("CPUID has no leaf 0x8000000a: no SVM");
	hvb_cpuid(0x80000001u, 0, r);
	if (!(r[2] & CPUID_SVM))
		hvb_fatal("CPUID Fn8000_0001 ECX.SVM is 0: this CPU has no SVM (APM Vol. 2, 15.4)");
	uint64_t vmcr = 0;
	if (hvb_rdmsr_safe(MSR_VM_CR, &vmcr) != 0)
		hvb_fatal("RDMSR VM_CR raised #GP");
	if (vmcr & VM_CR_SVMDIS)
		hvb_fatal("SVM is disabled by firmware (VM_CR.SVMDIS = 1, APM Vol. 2, 15.30.1)");
	hvb_cpuid(0x8000000au, 0, r);
	cpu->nasids = r[1];
	cpu->svm_features = r[3];
	if (!(r[3] & SVM_FEAT_NP))
		hvb_fatal("CPUID Fn8000_000A EDX.NP is 0: no nested paging (APM Vol. 2, 15.25)");
	uint64_t efer;
	if (hvb_rdmsr_safe(MSR_EFER, &efer) != 0 || hvb_wrmsr_safe(MSR_EFER, efer | EFER_SVME) != 0)
		hvb_fatal("setting EFER.SVME failed");
	if (hvb_wrmsr_safe(MSR_VM_HSAVE_PA, hsave_pa) != 0)
		hvb_fatal("WRMSR VM_HSAVE_PA 0x%lx raised #GP", (unsigned long)hsave_pa);
	/* Nested entries select their memory type through the host PAT
	 * (APM Vol. 2, 15.25.8): load the one the core encodes for. */
	if (hvb_wrmsr_safe(MSR_PAT, HV_S2_NPT_HOST_PAT) != 0)
		hvb_fatal("WRMSR PAT raised #GP");
}

static struct hv_vmcb_seg seg(uint16_t sel, uint16_t attrib, uint32_t limit, uint64_t base)
{
	return (struct hv_vmcb_seg){sel, attrib, limit, base};
}

void hvb_vmcb_init(struct hv_vmcb *vmcb, uint64_t n_cr3, uint32_t asid, uint64_t msrpm_pa,
                   uint64_t iopm_pa, uint64_t entry)
{
	hv_memset(vmcb, 0, sizeof(*vmcb));
	struct hv_vmcb_control *c = &vmcb->ctl;
	c->intercept1 = HV_VMCB_I1_INTR | HV_VMCB_I1_CPUID | HV_VMCB_I1_HLT | HV_VMCB_I1_IOIO_PROT |
	                HV_VMCB_I1_MSR_PROT | HV_VMCB_I1_SHUTDOWN;
	c->intercept2 = HV_VMCB_I2_VMRUN | HV_VMCB_I2_VMMCALL | HV_VMCB_I2_XSETBV;
	/* CR0 and CR4 writes go through the core's policy (hv/cr.h); bits
	 * 31:16 of the CR intercept vector are the writes (APM Vol. 2, 15.9). */
	c->intercept_cr = (1u << (16 + 0)) | (1u << (16 + 4));
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->guest_asid = asid;
	c->tlb_control = TLB_FLUSH_ALL;
	c->vintr = VINTR_MASKING;
	c->np_enable = 1;
	c->n_cr3 = n_cr3;
	/* Segment attributes: type, S, DPL, P in bits 7:0, AVL, L, D/B, G in
	 * 11:8 (APM Vol. 2, Table B-2). */
	struct hv_vmcb_save *s = &vmcb->save;
	s->cs = seg(HX_SEL_CODE, 0xa9b, 0xffffffffu, 0); /* 64-bit code, accessed */
	s->ds = s->es = s->ss = s->fs = s->gs = seg(HX_SEL_DATA, 0xc93, 0xffffffffu, 0);
	s->gdtr = seg(0, 0, HX_GUEST_GDT_ENTRIES * 8 - 1, HX_GUEST_GDT_GPA);
	s->idtr = seg(0, 0, 0, 0);
	s->tr = seg(HX_SEL_TSS, 0x08b, HX_GUEST_TSS_LIMIT, HX_GUEST_TSS_GPA); /* busy TSS */
	s->ldtr = seg(0, 0x082, 0xffff, 0);
	s->cpl = 0;
	/* VMRUN refuses a guest EFER without SVME (APM Vol. 2, 15.5.1). */
	s->efer = HX_GUEST_EFER | EFER_SVME;
	s->cr0 = HX_GUEST_CR0;
	s->cr3 = HX_GUEST_PT_GPA;
	s->cr4 = HX_GUEST_CR4;
	s->dr6 = 0xffff0ff0ull;
	s->dr7 = 0x400ull;
	s->rflags = 0x2;
	s->rip = entry;
	s->rsp = 0;
	s->rax = 0;
	s->g_pat = 0x0007040600070406ull; /* the PAT's reset value (APM Vol. 2, 7.8.2) */
}
