/* CPUID probe (CPUID-MASK). Runs on every vCPU of kvm-smp.json, whose
 * policy tries to switch VMX and SVM on and the hypervisor bit off; the
 * fixed rules must win:
 *  - VMX (1:ECX.5) and SVM (80000001:ECX.2) hidden, hypervisor bit set;
 *  - leaf 0x40000000 signature and maximum, 0x40000001 partition/vCPU;
 *  - APIC IDs: leaf 1 EBX[31:24] and leaf 0xB EDX are the vCPU index;
 *  - the policy's max_basic_leaf lowers the maximum;
 *  - leaves above the maxima answer as the vendor's hardware does;
 *  - every answer is the same every time it is asked. */
#include "hx/guest.h"
#include "hv/cpuid.h"

#define POLICY_MAX_BASIC 0x10u /* kvm-smp.json cpuid.max_basic_leaf */

static void same_answer(uint32_t leaf, uint32_t subleaf, const uint32_t want[4])
{
	uint32_t r[4];

	hx_cpuid(leaf, subleaf, r);
	for (int i = 0; i < 4; i++)
		GUEST_ASSERT_EQ(r[i], want[i], "leaf %#x.%u reg %d changed", leaf, subleaf, i);
}

void guest_main(void)
{
	uint32_t r0[4], r1[4], r[4], ext[4];
	uint32_t vcpu = hx_vcpu();
	bool amd = hx_host_is_amd();

	hx_cpuid(0, 0, r0);
	GUEST_ASSERT(r0[0] >= 1 && r0[0] <= POLICY_MAX_BASIC, "max basic leaf %#x", r0[0]);

	hx_cpuid(1, 0, r1);
	GUEST_ASSERT(!(r1[2] & HV_CPUID1_ECX_VMX), "VMX visible: ecx %#x", r1[2]);
	GUEST_ASSERT(r1[2] & HV_CPUID1_ECX_HYPERVISOR, "hypervisor bit clear: ecx %#x", r1[2]);
	GUEST_ASSERT_EQ(r1[1] >> 24, vcpu, "leaf 1 initial APIC ID");

	hx_cpuid(0x80000000u, 0, ext);
	if (ext[0] >= 0x80000001u) {
		hx_cpuid(0x80000001u, 0, r);
		GUEST_ASSERT(!(r[2] & HV_CPUID81_ECX_SVM), "SVM visible: ecx %#x", r[2]);
	}

	hx_cpuid(HV_CPUID_LEAF_HV_BASE, 0, r);
	GUEST_ASSERT_EQ(r[0], HV_CPUID_LEAF_HV_MAX);
	GUEST_ASSERT_EQ(r[1], HV_CPUID_SIG_EBX);
	GUEST_ASSERT_EQ(r[2], HV_CPUID_SIG_ECX);
	GUEST_ASSERT_EQ(r[3], HV_CPUID_SIG_EDX);
	hx_cpuid(HV_CPUID_LEAF_HV_INFO, 0, r);
	GUEST_ASSERT_EQ(r[0], hx_partition(), "0x40000001 partition");
	GUEST_ASSERT_EQ(r[1], vcpu, "0x40000001 vCPU");
	GUEST_ASSERT(r[2] > vcpu, "0x40000001 nvcpus %u <= vcpu %u", r[2], vcpu);

	/* x2APIC ID in leaf 0xB EDX for every subleaf, where the leaf exists. */
	if (r0[0] >= 0xb) {
		hx_cpuid(0xb, 0, r);
		if (r[1] != 0) {
			for (uint32_t sub = 0; sub < 4; sub++) {
				hx_cpuid(0xb, sub, r);
				GUEST_ASSERT_EQ(r[3], vcpu, "leaf 0xb.%u x2APIC ID", sub);
				GUEST_ASSERT_EQ(r[2] & 0xff, sub, "leaf 0xb.%u ECX[7:0]", sub);
			}
		}
	}

	/* Subleaf handling: leaf 7 subleaf above its maximum is all zeros. */
	if (r0[0] >= 7) {
		hx_cpuid(7, 0, r);
		uint32_t max7 = r[0];
		hx_cpuid(7, max7 + 1, r);
		for (int i = 0; i < 4; i++)
			GUEST_ASSERT_EQ(r[i], 0, "leaf 7 subleaf %u above max reg %d", max7 + 1, i);
	}
	/* Leaf 0xD subleaves 0 and 1 differ from each other but not in time. */
	if (r0[0] >= 0xd) {
		uint32_t d0[4], d1[4];
		hx_cpuid(0xd, 0, d0);
		hx_cpuid(0xd, 1, d1);
		same_answer(0xd, 0, d0);
		same_answer(0xd, 1, d1);
	}

	/* Out of range: AMD returns zeros; Intel the highest basic leaf. */
	{
		uint32_t top[4];
		const uint32_t probes[] = {r0[0] + 1, 0x40000002u, ext[0] + 1, 0x7fffffffu,
		                           0xffffffffu};
		hx_cpuid(r0[0], 0, top);
		for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			hx_cpuid(probes[i], 0, r);
			for (int k = 0; k < 4; k++)
				GUEST_ASSERT_EQ(r[k], amd ? 0 : top[k], "leaf %#x reg %d",
				                probes[i], k);
		}
	}

	/* Determinism: every leaf in range, asked again, in another order. */
	for (uint32_t leaf = 0; leaf <= r0[0]; leaf++) {
		uint32_t a[4];
		hx_cpuid(leaf, 0, a);
		for (int n = 0; n < 3; n++)
			same_answer(leaf, 0, a);
	}
	for (uint32_t leaf = 0x80000000u; leaf <= ext[0] && leaf < 0x80000030u; leaf++) {
		uint32_t a[4];
		hx_cpuid(leaf, 0, a);
		same_answer(leaf, 0, a);
	}
	same_answer(1, 0, r1);
	GUEST_PRINTF("vcpu %u: max basic %#x, max ext %#x, %s", vcpu, r0[0], ext[0],
	             amd ? "AMD" : "Intel");
	GUEST_DONE();
}
