/* MSR policy attacks (MSR-GUARD), against the rules of kvm-one.json:
 *   TSC pass-r; SYSENTER_CS emulated (writable 0xffff); SYSENTER_ESP,
 *   LSTAR, FS_BASE emulated (writable all); PAT emulated; EFER emulated
 *   (init 0xd01, writable SCE|NXE); APIC_BASE emulated (writable 0);
 *   TSC_AUX emulated; FEATURE_CONTROL deny; VMX_BASIC and VM_CR emulated
 *   (the policy tries to expose absent MSRs).
 * Every #GP is caught in the guest; a missing or extra #GP fails. */
#include "hx/guest.h"
#include "hv/msr.h"

#define NO HX_NO_FAULT
#define GP HX_VEC_GP
/* Not canonical for 48-bit nor for 57-bit linear addresses, so the #GP is
 * due whether or not the partition's CPUID shows LA57. */
#define NONCANONICAL 0x0100000000000000ull
/* Canonical only with 57-bit linear addresses (CPUID.07H:ECX.LA57[16]). */
#define CANONICAL_57_ONLY 0x0000800000000000ull
#define PAT_INIT 0x0007040600070406ull
#define APIC_INIT 0xfee00900ull

struct wr_case {
	const char *name;
	uint32_t msr;
	uint64_t value;
	int want; /* vector or NO */
};

struct rd_case {
	const char *name;
	uint32_t msr;
	int want;
};

static const struct rd_case reads[] = {
        {"TSC pass-r", HV_MSR_TSC, NO},
        {"SYSENTER_CS emulated", HV_MSR_SYSENTER_CS, NO},
        {"EFER emulated", HV_MSR_EFER, NO},
        {"APIC_BASE emulated", HV_MSR_APIC_BASE, NO},
        {"FEATURE_CONTROL denied", HV_MSR_FEATURE_CONTROL, GP},
        {"MTRR_PHYSBASE0 unknown", HV_MSR_MTRR_PHYSBASE0, GP},
        {"MTRR_DEF_TYPE unknown", HV_MSR_MTRR_DEF_TYPE, GP},
        {"SMRR_PHYSBASE unknown", HV_MSR_SMRR_PHYSBASE, GP},
        {"SMBASE unknown", HV_MSR_SMBASE, GP},
        {"VMX_BASIC absent despite rule", HV_MSR_VMX_BASIC, GP},
        {"VM_CR absent despite rule", HV_MSR_VM_CR, GP},
        {"VM_HSAVE_PA unknown", HV_MSR_VM_HSAVE_PA, GP},
        {"unimplemented 0x12345678", 0x12345678u, GP},
        {"x2APIC ICR unknown", 0x830u, GP},
        {"STAR unknown", HV_MSR_STAR, GP},
};

static const struct wr_case writes[] = {
        {"TSC pass-r write", HV_MSR_TSC, 0, GP},
        {"SYSENTER_CS in mask", HV_MSR_SYSENTER_CS, 0x10, NO},
        {"SYSENTER_CS outside mask", HV_MSR_SYSENTER_CS, 0x10010, GP},
        {"SYSENTER_ESP canonical", HV_MSR_SYSENTER_ESP, 0xffff800000001000ull, NO},
        {"SYSENTER_ESP non-canonical", HV_MSR_SYSENTER_ESP, NONCANONICAL, GP},
        {"LSTAR non-canonical", HV_MSR_LSTAR, 0x8000000000000000ull, GP},
        {"LSTAR canonical", HV_MSR_LSTAR, 0x0000000000101000ull, NO},
        {"FS_BASE non-canonical", HV_MSR_FS_BASE, NONCANONICAL, GP},
        {"FS_BASE non-canonical high", HV_MSR_FS_BASE, 0x7fff800000000000ull, GP},
        {"PAT reserved type 2", HV_MSR_PAT, (PAT_INIT & ~0xffull) | 0x02, GP},
        {"PAT reserved type 3", HV_MSR_PAT, (PAT_INIT & ~0xff00ull) | 0x0300, GP},
        {"PAT reserved type 8", HV_MSR_PAT, (PAT_INIT & ~0xffull) | 0x08, GP},
        {"PAT valid", HV_MSR_PAT, 0x0007010600070106ull, NO},
        {"EFER reserved bit 1", HV_MSR_EFER, 0xd01 | 2, GP},
        {"EFER reserved bit 20", HV_MSR_EFER, 0xd01 | (1ull << 20), GP},
        {"EFER SVME", HV_MSR_EFER, 0xd01 | HV_EFER_SVME, GP},
        {"EFER clear LME under paging", HV_MSR_EFER, 0xd01 & ~HV_EFER_LME, GP},
        {"EFER same value", HV_MSR_EFER, 0xd01, NO},
        {"APIC_BASE relocate", HV_MSR_APIC_BASE, 0xfed00900ull, GP},
        {"APIC_BASE disable", HV_MSR_APIC_BASE, 0xfee00100ull, GP},
        {"APIC_BASE reserved bit 0", HV_MSR_APIC_BASE, APIC_INIT | 1, GP},
        {"APIC_BASE unchanged", HV_MSR_APIC_BASE, APIC_INIT, NO},
        {"TSC_AUX reserved high", HV_MSR_TSC_AUX, 1ull << 32, GP},
        {"TSC_AUX valid", HV_MSR_TSC_AUX, 0x1234, NO},
        {"FEATURE_CONTROL lock", HV_MSR_FEATURE_CONTROL, 1, GP},
        {"FEATURE_CONTROL VMX enable", HV_MSR_FEATURE_CONTROL, 5, GP},
        {"MTRR_PHYSBASE0", HV_MSR_MTRR_PHYSBASE0, 0x6, GP},
        {"MTRR_DEF_TYPE", HV_MSR_MTRR_DEF_TYPE, 0xc06, GP},
        {"MTRR_FIX64K", HV_MSR_MTRR_FIX64K, 0x0606060606060606ull, GP},
        {"SMRR_PHYSBASE", HV_MSR_SMRR_PHYSBASE, 0x6, GP},
        {"VMX_BASIC (absent)", HV_MSR_VMX_BASIC, 0, GP},
        {"VM_CR (absent)", HV_MSR_VM_CR, 0x10, GP},
        {"AMD SMM_ADDR", HV_MSR_AMD_SMM_ADDR, 0, GP},
        {"BIOS_UPDT_TRIG", 0x79, 0x100000, GP},
        {"unimplemented 0x12345678", 0x12345678u, 0, GP},
};

static void check_read(const struct rd_case *c)
{
	uint64_t v = 0;
	int vec = hx_rdmsr_safe(c->msr, &v);

	GUEST_ASSERT_EQ(vec, c->want, "rdmsr %s (%#x)", c->name, c->msr);
}

static void check_write(const struct wr_case *c)
{
	int vec = hx_wrmsr_safe(c->msr, c->value);

	GUEST_ASSERT_EQ(vec, c->want, "wrmsr %s (%#x)", c->name, c->msr);
}

static uint64_t read_ok(uint32_t msr)
{
	uint64_t v = 0;
	int vec = hx_rdmsr_safe(msr, &v);

	GUEST_ASSERT_EQ(vec, NO, "rdmsr %#x", msr);
	return v;
}

/* A load through FS: the base the CPU really uses. */
static uint64_t fs_load(void)
{
	uint64_t v;

	__asm__ volatile("movq %%fs:0, %0" : "=r"(v)::"memory");
	return v;
}

void guest_main(void)
{
	/* Initial values of emulated MSRs come from the policy, not the host. */
	GUEST_ASSERT_EQ(read_ok(HV_MSR_APIC_BASE), APIC_INIT);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_PAT), PAT_INIT);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_EFER), 0xd01);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_SYSENTER_CS), 0);
	GUEST_SYNC(1);

	for (unsigned i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		check_read(&reads[i]);
	GUEST_SYNC(2);
	for (unsigned i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		check_write(&writes[i]);
	/* Canonical with 5-level paging only: #GP exactly when the partition's
	 * CPUID lacks LA57 (handlers/docs/msr.md). */
	{
		uint32_t id[4];
		hx_cpuid(0, 0, id);
		bool la57 = false;
		if (id[0] >= 7) {
			hx_cpuid(7, 0, id);
			la57 = (id[2] >> 16) & 1;
		}
		const struct wr_case c = {"SYSENTER_ESP canonical for LA57 only",
		                          HV_MSR_SYSENTER_ESP, CANONICAL_57_ONLY, la57 ? NO : GP};
		check_write(&c);
		const struct wr_case back = {"SYSENTER_ESP back", HV_MSR_SYSENTER_ESP,
		                             0xffff800000001000ull, NO};
		check_write(&back);
	}
	GUEST_SYNC(3);

	/* Emulated values: writes that succeeded stick, failed ones left
	 * nothing behind. */
	GUEST_ASSERT_EQ(read_ok(HV_MSR_SYSENTER_CS), 0x10);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_SYSENTER_ESP), 0xffff800000001000ull);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_LSTAR), 0x101000);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_PAT), 0x0007010600070106ull);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_EFER), 0xd01);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_APIC_BASE), APIC_INIT);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_TSC_AUX), 0x1234);
	GUEST_ASSERT_EQ(read_ok(HV_MSR_FS_BASE), 0);

	/* The upper halves of RAX/RDX are ignored by WRMSR and cleared by
	 * RDMSR. */
	{
		uint64_t rax, rdx;
		__asm__ volatile("movabs $0xdead000000000020, %%rax\n\t"
		                 "movabs $0xbeef000000000000, %%rdx\n\t"
		                 "wrmsr\n\t"
		                 "movq $-1, %%rax\n\t"
		                 "movq $-1, %%rdx\n\t"
		                 "rdmsr"
		                 : "=&a"(rax), "=&d"(rdx)
		                 : "c"(HV_MSR_SYSENTER_CS)
		                 : "memory");
		GUEST_ASSERT_EQ(rax, 0x20, "WRMSR uses EAX only; RDMSR clears RAX[63:32]");
		GUEST_ASSERT_EQ(rdx, 0, "WRMSR uses EDX only; RDMSR clears RDX[63:32]");
	}
	GUEST_SYNC(4);

	/* A granted write to the guest's own state reaches the vCPU: FS_BASE
	 * set through WRMSR moves what %fs:0 loads. */
	{
		const volatile uint64_t *target = (const volatile uint64_t *)0x100000;
		GUEST_ASSERT_EQ(hx_wrmsr_safe(HV_MSR_FS_BASE, 0x100000), NO);
		GUEST_ASSERT_EQ(read_ok(HV_MSR_FS_BASE), 0x100000);
		GUEST_ASSERT_EQ(fs_load(), *target, "FS_BASE write not applied to the vCPU");
		GUEST_ASSERT_EQ(hx_wrmsr_safe(HV_MSR_FS_BASE, 0), NO);
	}
	GUEST_DONE();
}
