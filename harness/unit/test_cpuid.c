/* CPUID exits (handlers/src/cpuid.c) on a mocked system of two partitions
 * with two vCPUs each, against an AMD-like host (mock_cpuid_typical_host,
 * VMX and SVM both set on purpose), an Intel-like host and a Hygon one.
 * Each row: the host, a setup (policy rules, host tweaks), the exiting
 * vCPU and its registers, and the bits expected in EAX..EDX. Every row also
 * checks RIP, the action, cleared upper halves and that the same input
 * gives the same answer (CPUID-MASK). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hv/cpuid.h"
#include "hv/exit.h"
#include "hv/handlers.h"
#include "mock_config.h"

enum host { HOST_AMD = 0, HOST_INTEL, HOST_HYGON };

#define RIP0 0x401000ull

/* Leaf 0 vendor registers (EBX, ECX, EDX as returned). */
#define AMD_EBX 0x68747541u
#define AMD_ECX 0x444d4163u
#define AMD_EDX 0x69746e65u
#define INTEL_EBX 0x756e6547u
#define INTEL_ECX 0x6c65746eu
#define INTEL_EDX 0x49656e69u

#define VMX (1u << 5)
#define SMX (1u << 6)
#define MONITOR (1u << 3)
#define HYPERVISOR (1u << 31)
#define OSXSAVE (1u << 27)
#define XSAVE (1u << 26)
#define X2APIC (1u << 21)
#define HTT (1u << 28)
#define SVM (1u << 2)
#define SKINIT (1u << 12)
#define MONITORX (1u << 29)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)

/* ---- hosts --------------------------------------------------------------- */

/* A Skylake-like Intel host with max basic leaf 0x1F: VMX, SMX and MONITOR
 * set, x2APIC, XSAVE; topology leaves 0xB and 0x1F (with a die level). */
static void intel_host(struct mock_platform *m)
{
	m->ncpuid = 0;
	mock_set_cpuid(m, 0, 0, 0x1f, INTEL_EBX, INTEL_ECX, INTEL_EDX);
	mock_set_cpuid(m, 1, 0, 0x000906ea, 0x0a100800, 0x7ffafbff, 0xbfebfbff);
	mock_set_cpuid(m, 4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0);
	mock_set_cpuid(m, 4, 1, 0x1c004122, 0x01c0003f, 0x3f, 0);
	mock_set_cpuid(m, 4, 2, 0x1c004143, 0x00c0003f, 0x3ff, 0);
	mock_set_cpuid(m, 4, 3, 0x1c03c163, 0x03c0003f, 0x3fff, 6);
	mock_set_cpuid(m, 5, 0, 0x40, 0x40, 3, 0x11142120);
	mock_set_cpuid(m, 7, 0, 0, 0x029c6fbf, 0x40000018, 0xbc000400);
	mock_set_cpuid(m, 0xb, 0, 1, 2, 0x100, 10);
	mock_set_cpuid(m, 0xb, 1, 4, 8, 0x201, 10);
	mock_set_cpuid(m, 0xd, 0, 0x1f, 0x440, 0x440, 0);
	mock_set_cpuid(m, 0xd, 1, 0xf, 0x440, 0x100, 0);
	mock_set_cpuid(m, 0xd, 2, 0x100, 0x240, 0, 0);
	mock_set_cpuid(m, 0xd, 8, 0x80, 0, 1, 0);
	mock_set_cpuid(m, 0xd, 9, 8, 0xa80, 0, 0);
	mock_set_cpuid(m, 0x16, 0, 0xe10, 0x1324, 0x64, 0);
	mock_set_cpuid(m, 0x1f, 0, 1, 2, 0x100, 10);
	mock_set_cpuid(m, 0x1f, 1, 4, 8, 0x201, 10);
	mock_set_cpuid(m, 0x1f, 2, 6, 16, 0x502, 10);
	mock_set_cpuid(m, 0x80000000, 0, 0x80000008, 0, 0, 0);
	mock_set_cpuid(m, 0x80000001, 0, 0, 0, 0x121, 0x2c100800);
	mock_set_cpuid(m, 0x80000008, 0, 0x3027, 0, 0, 0);
}

static void hygon_host(struct mock_platform *m)
{
	/* "HygonGenuine" on top of the AMD-like table. */
	mock_set_cpuid(m, 0, 0, 0x10, 0x6f677948, 0x656e6975, 0x6e65476e);
}

static struct mock_env *env_new(enum host host, void (*setup)(struct mock_env *))
{
	struct mock_env *env = mock_env_new(mock_config_two);
	assert_non_null(env);
	if (host == HOST_INTEL)
		intel_host(&env->plat);
	else if (host == HOST_HYGON)
		hygon_host(&env->plat);
	if (setup)
		setup(env);
	return env;
}

/* ---- policy helpers ------------------------------------------------------ */

static struct hv_cpuid_rule *add_rule(struct mock_env *env, uint32_t part, uint32_t leaf,
                                      uint32_t subleaf, bool any)
{
	struct hv_cpuid_policy *pol = &env->cfg.partitions[part].cpuid;
	assert_true(pol->nrules < HV_MAX_CPUID_RULES);
	struct hv_cpuid_rule *r = &pol->rules[pol->nrules++];
	memset(r, 0, sizeof(*r));
	r->leaf = leaf;
	r->subleaf = subleaf;
	r->any_subleaf = any;
	for (int i = 0; i < 4; i++)
		r->and_mask[i] = ~0u;
	return r;
}

/* Host value of (leaf, subleaf) in the mock, for tweaking. */
static uint32_t *host_regs(struct mock_env *env, uint32_t leaf, uint32_t subleaf)
{
	for (uint32_t i = 0; i < env->plat.ncpuid; i++)
		if (env->plat.cpuid[i].leaf == leaf && env->plat.cpuid[i].subleaf == subleaf)
			return env->plat.cpuid[i].out;
	mock_set_cpuid(&env->plat, leaf, subleaf, 0, 0, 0, 0);
	return host_regs(env, leaf, subleaf);
}

/* ---- running one CPUID exit ---------------------------------------------- */

struct answer {
	uint32_t action;
	uint64_t regs[4];
	uint64_t rip;
};

static struct answer run_cpuid(struct mock_env *env, uint32_t part, uint32_t vcpu, uint64_t rax,
                               uint64_t rcx, uint64_t cr4)
{
	struct hv_exit ex;
	struct hv_result res;
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_CPUID;
	ex.partition = part;
	ex.vcpu = vcpu;
	ex.st.rip = RIP0;
	ex.st.cr4 = cr4;
	ex.st.gpr[HV_RAX] = rax;
	ex.st.gpr[HV_RCX] = rcx;
	ex.st.gpr[HV_RBX] = 0x1111111111111111ull;
	ex.st.gpr[HV_RDX] = 0x2222222222222222ull;
	hv_handle_exit(&env->sys, &ex, &res);
	struct answer a = {
	        res.action,
	        {ex.st.gpr[HV_RAX], ex.st.gpr[HV_RBX], ex.st.gpr[HV_RCX], ex.st.gpr[HV_RDX]},
	        ex.st.rip};
	return a;
}

/* ---- setups -------------------------------------------------------------- */

static void pol_max_basic_7(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_basic_leaf = 7;
}
static void pol_max_basic_0x40(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_basic_leaf = 0x40;
}
static void pol_max_basic_0x16(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_basic_leaf = 0x16;
}
static void pol_max_ext_81(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_ext_leaf = 0x80000001;
}
static void pol_max_ext_big(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_ext_leaf = 0x8fffffff;
}
static void pol_max_ext_5(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_ext_leaf = 5;
}
static void pol_max_1_ext_80(struct mock_env *env)
{
	env->cfg.partitions[0].cpuid.max_basic_leaf = 1;
	env->cfg.partitions[0].cpuid.max_ext_leaf = 0x80000000;
}
static void rule_show_virt(struct mock_env *env)
{
	/* A policy that tries everything a config could do wrong. */
	struct hv_cpuid_rule *r = add_rule(env, 0, 1, 0, true);
	r->or_bits[2] = VMX | SMX | MONITOR;
	r->and_mask[2] = ~HYPERVISOR;
	r->or_bits[1] = 0xff000000u; /* APIC ID */
	r = add_rule(env, 0, 0x80000001, 0, true);
	r->or_bits[2] = ~0u;
	r = add_rule(env, 0, 0x8000000a, 0, true);
	r->or_bits[0] = r->or_bits[1] = r->or_bits[3] = ~0u;
	r = add_rule(env, 0, 5, 0, true);
	r->or_bits[0] = ~0u;
	r = add_rule(env, 0, 0x40000000, 0, true);
	r->and_mask[1] = 0;
	r = add_rule(env, 0, 0xb, 0, true);
	r->or_bits[3] = 0xf0;
}
static void rule_hide_avx(struct mock_env *env)
{
	add_rule(env, 0, 1, 0, false)->and_mask[2] = ~(1u << 28);
}
static void rule_leaf1_subleaf3(struct mock_env *env)
{
	/* Leaf 1 has no subleaves: the rule's subleaf is not compared. */
	add_rule(env, 0, 1, 3, false)->and_mask[0] = 0;
}
static void p1_single_vcpu(struct mock_env *env)
{
	env->cfg.partitions[1].nvcpus = 1;
}
static void host_leaf5(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 5, 0, 0x40, 0x40, 3, 0x11142120);
}
static void host_leaf7_sub1(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 7, 1, 0, 0x10, 0, 0);
}
static void host_leaf7_sub2(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 7, 2, 0, 0, 0, 0x3f);
}
static void rule_leaf7_max0(struct mock_env *env)
{
	host_leaf7_sub1(env);
	add_rule(env, 0, 7, 0, false)->and_mask[0] = 0;
}
static void rule_leaf7_any(struct mock_env *env)
{
	add_rule(env, 0, 7, 0, true)->or_bits[3] = 0x100;
}
static void rule_leaf7_sub1(struct mock_env *env)
{
	add_rule(env, 0, 7, 1, false)->or_bits[3] = 0x100;
}
static void host_pku(struct mock_env *env)
{
	host_regs(env, 7, 0)[2] |= (1u << 3) | (1u << 4);
}
static void host_leafb_absent(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 0xb, 0, 0, 0, 0, 0);
}
static void rule_hide_avx_state(struct mock_env *env)
{
	add_rule(env, 0, 0xd, 0, false)->and_mask[0] = ~(1u << 2);
}
static void host_leafd_5_and_64(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 0xd, 5, 0x40, 0x440, 0, 0);
	mock_set_cpuid(&env->plat, 0xd, 64, 1, 1, 1, 1);
}
static void rule_hide_xsave(struct mock_env *env)
{
	add_rule(env, 0, 1, 0, false)->and_mask[2] = ~XSAVE;
}
static void host_xss_component(struct mock_env *env)
{
	host_regs(env, 0xd, 1)[2] |= 1u << 11;
	mock_set_cpuid(&env->plat, 0xd, 11, 0x10, 0, 1, 0);
}
static void host_leaf11(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 0x11, 0, 1, 2, 3, 4);
	mock_set_cpuid(&env->plat, 0x80000022, 0, 1, 2, 3, 4);
}
static void host_svm_leaf(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 0x8000000a, 0, 1, 0x8000, 0, 0x1ebfbff);
}
static void host_amd_topology(struct mock_env *env)
{
	mock_set_cpuid(&env->plat, 0x8000001e, 0, 0x0a, 0x0105, 0x0300, 0);
	mock_set_cpuid(&env->plat, 0x8000001d, 3, 0x0003c163, 0x03c0003f, 0x7fff, 1);
	mock_set_cpuid(&env->plat, 0x8000001d, 0, 0x00004121, 0x01c0003f, 0x3f, 0);
}
static void host_intel_no_ext(struct mock_env *env)
{
	/* An Intel host without extended leaves answers 0x80000000 with the
	 * highest basic leaf's data. */
	mock_set_cpuid(&env->plat, 0x80000000, 0, 1, 2, 0x100, 0);
}
static void host_max_basic_0(struct mock_env *env)
{
	host_regs(env, 0, 0)[0] = 0;
}
static void pol_max_basic_7_leaf_b(struct mock_env *env)
{
	pol_max_basic_7(env);
}

/* ---- the table ----------------------------------------------------------- */

struct cpuid_row {
	const char *name;
	enum host host;
	void (*setup)(struct mock_env *env);
	uint32_t part, vcpu;
	uint64_t rax, rcx, cr4;
	uint32_t mask[4];
	uint32_t want[4];
};

#define ALL                                                                                        \
	{                                                                                          \
		~0u, ~0u, ~0u, ~0u                                                                 \
	}
#define ONLY_EAX(m)                                                                                \
	{                                                                                          \
		(m), 0, 0, 0                                                                       \
	}
#define ONLY_EBX(m)                                                                                \
	{                                                                                          \
		0, (m), 0, 0                                                                       \
	}
#define ONLY_ECX(m)                                                                                \
	{                                                                                          \
		0, 0, (m), 0                                                                       \
	}
#define ONLY_EDX(m)                                                                                \
	{                                                                                          \
		0, 0, 0, (m)                                                                       \
	}
#define ZERO                                                                                       \
	{                                                                                          \
		0, 0, 0, 0                                                                         \
	}

static const struct cpuid_row cpuid_rows[] = {
        /* leaf 0 and the maximum basic leaf */
        {"amd leaf 0: max and vendor",
         HOST_AMD,
         NULL,
         0,
         0,
         0,
         0,
         0,
         ALL,
         {0x10, AMD_EBX, AMD_ECX, AMD_EDX}},
        {"policy lowers the max basic leaf",
         HOST_AMD,
         pol_max_basic_7,
         0,
         0,
         0,
         0,
         0,
         ONLY_EAX(~0u),
         {7, 0, 0, 0}},
        {"policy cannot raise the max basic leaf",
         HOST_AMD,
         pol_max_basic_0x40,
         0,
         0,
         0,
         0,
         0,
         ONLY_EAX(~0u),
         {0x10, 0, 0, 0}},
        {"host max basic 0 still has leaf 1",
         HOST_AMD,
         host_max_basic_0,
         0,
         1,
         1,
         0,
         0,
         ONLY_ECX(HYPERVISOR | VMX),
         {0, 0, HYPERVISOR, 0}},
        {"host max basic 0 reads as 1",
         HOST_AMD,
         host_max_basic_0,
         0,
         1,
         0,
         0,
         0,
         ONLY_EAX(~0u),
         {1, 0, 0, 0}},
        /* leaf 1: fixed bits, APIC IDs, topology count, OSXSAVE */
        {"amd leaf 1 vcpu 0, whole answer",
         HOST_AMD,
         NULL,
         0,
         0,
         1,
         0,
         0,
         ALL,
         {0x00a00f11, 0x00020800, 0xf6d83203, 0x178bfbff}},
        {"leaf 1 vcpu 1 APIC ID",
         HOST_AMD,
         NULL,
         0,
         1,
         1,
         0,
         0,
         ONLY_EBX(0xffff0000u),
         {0, 0x01020000, 0, 0}},
        {"leaf 1 of partition 1 vcpu 1",
         HOST_AMD,
         NULL,
         1,
         1,
         1,
         0,
         0,
         {0, 0xff000000u, VMX | HYPERVISOR, 0},
         {0, 0x01000000, HYPERVISOR, 0}},
        {"leaf 1 OSXSAVE follows the guest CR4",
         HOST_AMD,
         NULL,
         0,
         0,
         1,
         0,
         CR4_OSXSAVE,
         ONLY_ECX(OSXSAVE | XSAVE),
         {0, 0, OSXSAVE | XSAVE, 0}},
        {"leaf 1 ignores upper halves and ECX",
         HOST_AMD,
         NULL,
         0,
         0,
         0xffffffff00000001ull,
         0x1234567800000005ull,
         0,
         ALL,
         {0x00a00f11, 0x00020800, 0xf6d83203, 0x178bfbff}},
        {"rules cannot show VMX/SMX/MONITOR or hide the hypervisor bit",
         HOST_AMD,
         rule_show_virt,
         0,
         1,
         1,
         0,
         0,
         {0, 0xff000000u, VMX | SMX | MONITOR | HYPERVISOR, 0},
         {0, 0x01000000, HYPERVISOR, 0}},
        {"rule hides AVX, keeps SSE3",
         HOST_AMD,
         rule_hide_avx,
         0,
         0,
         1,
         0,
         0,
         ONLY_ECX((1u << 28) | 1u),
         {0, 0, 1, 0}},
        {"rule subleaf ignored for leaf 1", HOST_AMD, rule_leaf1_subleaf3, 0, 0, 1, 0, 0,
         ONLY_EAX(~0u), ZERO},
        {"single-vCPU partition: HTT clear, one ID",
         HOST_AMD,
         p1_single_vcpu,
         1,
         0,
         1,
         0,
         0,
         {0, 0x00ff0000u, 0, HTT},
         {0, 0x00010000, 0, 0}},
        {"intel leaf 1 vcpu 1: x2APIC kept, VMX/SMX/MONITOR hidden",
         HOST_INTEL,
         NULL,
         0,
         1,
         1,
         0,
         0,
         {0, 0xffff0000u, VMX | SMX | MONITOR | HYPERVISOR | X2APIC, HTT},
         {0, 0x01020000, HYPERVISOR | X2APIC, HTT}},
        /* leaf 4: deterministic cache parameters */
        {"intel leaf 4 L1 private, cores of the partition",
         HOST_INTEL,
         NULL,
         0,
         0,
         4,
         0,
         0,
         ALL,
         {0x04000121, 0x01c0003f, 0x3f, 0}},
        {"intel leaf 4 L3 shared by the partition",
         HOST_INTEL,
         NULL,
         0,
         0,
         4,
         3,
         0,
         ONLY_EAX(~0u),
         {0x04004163, 0, 0, 0}},
        {"intel leaf 4 past the last cache", HOST_INTEL, NULL, 0, 0, 4, 4, 0, ALL, ZERO},
        {"intel leaf 4 single-vCPU partition",
         HOST_INTEL,
         p1_single_vcpu,
         1,
         0,
         4,
         3,
         0,
         ONLY_EAX(~0u),
         {0x00000163, 0, 0, 0}},
        /* leaf 5 */
        {"leaf 5 hidden with MONITOR", HOST_AMD, host_leaf5, 0, 0, 5, 0, 0, ALL, ZERO},
        /* leaf 7 */
        {"leaf 7 subleaf 0 from the host",
         HOST_AMD,
         NULL,
         0,
         0,
         7,
         0,
         0,
         ALL,
         {1, 0x219c91a9, 0x00400004, 0}},
        {"leaf 7 subleaf 1 within the max",
         HOST_AMD,
         host_leaf7_sub1,
         0,
         0,
         7,
         1,
         0,
         ALL,
         {0, 0x10, 0, 0}},
        {"leaf 7 subleaf above the max is zero", HOST_AMD, host_leaf7_sub2, 0, 0, 7, 2, 0, ALL,
         ZERO},
        {"rule lowering leaf 7 max subleaf hides subleaf 1", HOST_AMD, rule_leaf7_max0, 0, 0, 7, 1,
         0, ALL, ZERO},
        {"any-subleaf rule reaches leaf 7 subleaf 1",
         HOST_AMD,
         rule_leaf7_any,
         0,
         0,
         7,
         1,
         0,
         ONLY_EDX(~0u),
         {0, 0, 0, 0x100}},
        {"subleaf-1 rule misses leaf 7 subleaf 0", HOST_AMD, rule_leaf7_sub1, 0, 0, 7, 0, 0,
         ONLY_EDX(~0u), ZERO},
        {"subleaf-1 rule hits leaf 7 subleaf 1",
         HOST_AMD,
         rule_leaf7_sub1,
         0,
         0,
         7,
         1,
         0,
         ONLY_EDX(~0u),
         {0, 0, 0, 0x100}},
        {"OSPKE clear without CR4.PKE",
         HOST_AMD,
         host_pku,
         0,
         0,
         7,
         0,
         0,
         ONLY_ECX(0x18),
         {0, 0, 0x08, 0}},
        {"OSPKE set with CR4.PKE",
         HOST_AMD,
         host_pku,
         0,
         0,
         7,
         0,
         CR4_PKE,
         ONLY_ECX(0x18),
         {0, 0, 0x18, 0}},
        /* leaves 0xB / 0x1F: topology of the partition */
        {"leaf 0xB SMT level, vcpu 0", HOST_AMD, NULL, 0, 0, 0xb, 0, 0, ALL, {0, 1, 0x100, 0}},
        {"leaf 0xB core level, vcpu 1", HOST_AMD, NULL, 0, 1, 0xb, 1, 0, ALL, {1, 2, 0x201, 1}},
        {"leaf 0xB subleaf 2 invalid level", HOST_AMD, NULL, 0, 1, 0xb, 2, 0, ALL, {0, 0, 2, 1}},
        {"leaf 0xB subleaf 0x1ff", HOST_AMD, NULL, 0, 0, 0xb, 0x1ff, 0, ALL, {0, 0, 0xff, 0}},
        {"leaf 0xB absent on the host", HOST_AMD, host_leafb_absent, 0, 1, 0xb, 1, 0, ALL, ZERO},
        {"leaf 0xB single-vCPU partition",
         HOST_AMD,
         p1_single_vcpu,
         1,
         0,
         0xb,
         1,
         0,
         ALL,
         {0, 1, 0x201, 0}},
        {"rules cannot change leaf 0xB",
         HOST_AMD,
         rule_show_virt,
         0,
         1,
         0xb,
         0,
         0,
         ALL,
         {0, 1, 0x100, 1}},
        {"intel leaf 0x1F core level", HOST_INTEL, NULL, 0, 1, 0x1f, 1, 0, ALL, {1, 2, 0x201, 1}},
        {"intel leaf 0x1F die level hidden", HOST_INTEL, NULL, 0, 1, 0x1f, 2, 0, ALL, {0, 0, 2, 1}},
        /* leaf 0xD */
        {"leaf 0xD subleaf 0 from the host",
         HOST_AMD,
         NULL,
         0,
         0,
         0xd,
         0,
         0,
         ALL,
         {0x207, 0x340, 0x988, 0}},
        {"leaf 0xD subleaf 1 from the host",
         HOST_AMD,
         NULL,
         0,
         0,
         0xd,
         1,
         0,
         ALL,
         {0xf, 0x340, 0, 0}},
        {"leaf 0xD AVX component", HOST_AMD, NULL, 0, 0, 0xd, 2, 0, ALL, {0x100, 0x240, 0, 0}},
        {"leaf 0xD AVX component hidden by rule", HOST_AMD, rule_hide_avx_state, 0, 0, 0xd, 2, 0,
         ALL, ZERO},
        {"leaf 0xD unsupported component", HOST_AMD, host_leafd_5_and_64, 0, 0, 0xd, 5, 0, ALL,
         ZERO},
        {"leaf 0xD subleaf 64", HOST_AMD, host_leafd_5_and_64, 0, 0, 0xd, 64, 0, ALL, ZERO},
        {"leaf 0xD without XSAVE", HOST_AMD, rule_hide_xsave, 0, 0, 0xd, 0, 0, ALL, ZERO},
        {"leaf 0xD supervisor component via XSS",
         HOST_AMD,
         host_xss_component,
         0,
         0,
         0xd,
         11,
         0,
         ALL,
         {0x10, 0, 1, 0}},
        {"intel leaf 0xD supervisor component 8",
         HOST_INTEL,
         NULL,
         0,
         0,
         0xd,
         8,
         0,
         ALL,
         {0x80, 0, 1, 0}},
        {"intel leaf 0xD component 9 not supported", HOST_INTEL, NULL, 0, 0, 0xd, 9, 0, ALL, ZERO},
        /* hypervisor leaves */
        {"hypervisor leaf: signature and max",
         HOST_AMD,
         NULL,
         0,
         0,
         0x40000000,
         0,
         0,
         ALL,
         {0x40000001, HV_CPUID_SIG_EBX, HV_CPUID_SIG_ECX, HV_CPUID_SIG_EDX}},
        {"hypervisor info: partition 1 vcpu 1",
         HOST_AMD,
         NULL,
         1,
         1,
         0x40000001,
         0,
         0,
         ALL,
         {1, 1, 2, 0}},
        {"hypervisor leaf ignores rules",
         HOST_AMD,
         rule_show_virt,
         0,
         0,
         0x40000000,
         0,
         0,
         ALL,
         {0x40000001, HV_CPUID_SIG_EBX, HV_CPUID_SIG_ECX, HV_CPUID_SIG_EDX}},
        {"intel hypervisor leaf", HOST_INTEL, NULL, 0, 1, 0x40000001, 0, 0, ALL, {0, 1, 2, 0}},
        /* extended leaves */
        {"amd 0x80000000",
         HOST_AMD,
         NULL,
         0,
         0,
         0x80000000,
         0,
         0,
         ALL,
         {0x80000021, AMD_EBX, AMD_ECX, AMD_EDX}},
        {"amd 0x80000001: SVM, SKINIT, MONITORX hidden",
         HOST_AMD,
         NULL,
         0,
         0,
         0x80000001,
         0,
         0,
         ONLY_ECX(SVM | SKINIT | MONITORX | 1u),
         {0, 0, 1, 0}},
        {"rules cannot show SVM", HOST_AMD, rule_show_virt, 0, 0, 0x80000001, 0, 0,
         ONLY_ECX(SVM | SKINIT | MONITORX), ZERO},
        {"0x8000000A zeroed", HOST_AMD, host_svm_leaf, 0, 0, 0x8000000a, 0, 0, ALL, ZERO},
        {"0x8000000A zeroed despite rules", HOST_AMD, rule_show_virt, 0, 0, 0x8000000a, 0, 0, ALL,
         ZERO},
        {"amd 0x80000008 core count",
         HOST_AMD,
         NULL,
         0,
         0,
         0x80000008,
         0,
         0,
         ALL,
         {0x3030, 0, 0x1001, 0}},
        {"amd 0x80000008 single vCPU",
         HOST_AMD,
         p1_single_vcpu,
         1,
         0,
         0x80000008,
         0,
         0,
         ALL,
         {0x3030, 0, 0, 0}},
        {"amd 0x8000001E per vCPU",
         HOST_AMD,
         host_amd_topology,
         0,
         1,
         0x8000001e,
         0,
         0,
         ALL,
         {1, 1, 0, 0}},
        {"amd 0x8000001D L3 shared",
         HOST_AMD,
         host_amd_topology,
         0,
         0,
         0x8000001d,
         3,
         0,
         ALL,
         {0x00004163, 0x03c0003f, 0x7fff, 1}},
        {"amd 0x8000001D L1 private",
         HOST_AMD,
         host_amd_topology,
         0,
         0,
         0x8000001d,
         0,
         0,
         ONLY_EAX(~0u),
         {0x121, 0, 0, 0}},
        {"intel 0x80000008 ECX untouched",
         HOST_INTEL,
         NULL,
         0,
         1,
         0x80000008,
         0,
         0,
         ALL,
         {0x3027, 0, 0, 0}},
        {"intel 0x80000001 in range",
         HOST_INTEL,
         NULL,
         0,
         1,
         0x80000001,
         0,
         0,
         ALL,
         {0, 0, 0x121, 0x2c100800}},
        /* out-of-range leaves: AMD zeros */
        {"amd leaf above max basic", HOST_AMD, host_leaf11, 0, 0, 0x11, 0, 0, ALL, ZERO},
        {"amd leaf above policy max basic", HOST_AMD, pol_max_basic_7_leaf_b, 0, 0, 0xb, 0, 0, ALL,
         ZERO},
        {"amd hypervisor range above its max", HOST_AMD, NULL, 0, 0, 0x40000002, 0, 0, ALL, ZERO},
        {"amd leaf above max extended", HOST_AMD, host_leaf11, 0, 0, 0x80000022, 0, 0, ALL, ZERO},
        {"amd leaf 0xffffffff", HOST_AMD, NULL, 0, 0, 0xffffffff, 0, 0, ALL, ZERO},
        {"amd leaf 0x50000000", HOST_AMD, NULL, 0, 0, 0x50000000, 0, 0, ALL, ZERO},
        {"policy cannot raise max extended leaf",
         HOST_AMD,
         pol_max_ext_big,
         0,
         0,
         0x80000000,
         0,
         0,
         ONLY_EAX(~0u),
         {0x80000021, 0, 0, 0}},
        {"policy lowers max extended leaf",
         HOST_AMD,
         pol_max_ext_81,
         0,
         0,
         0x80000000,
         0,
         0,
         ONLY_EAX(~0u),
         {0x80000001, 0, 0, 0}},
        {"amd leaf above policy max extended", HOST_AMD, pol_max_ext_81, 0, 0, 0x80000008, 0, 0,
         ALL, ZERO},
        {"policy max extended below the range",
         HOST_AMD,
         pol_max_ext_5,
         0,
         0,
         0x80000000,
         0,
         0,
         ONLY_EAX(~0u),
         {0x80000000, 0, 0, 0}},
        {"policy max extended below the range hides 0x80000001", HOST_AMD, pol_max_ext_5, 0, 0,
         0x80000001, 0, 0, ALL, ZERO},
        {"hygon behaves like AMD out of range", HOST_HYGON, host_leaf11, 0, 0, 0x11, 0, 0, ALL,
         ZERO},
        {"hygon topology leaf",
         HOST_HYGON,
         NULL,
         0,
         1,
         0x80000008,
         0,
         0,
         ONLY_ECX(0xf0ff),
         {0, 0, 0x1001, 0}},
        /* out-of-range leaves: Intel returns the highest basic leaf */
        {"intel leaf 0",
         HOST_INTEL,
         NULL,
         0,
         0,
         0,
         0,
         0,
         ALL,
         {0x1f, INTEL_EBX, INTEL_ECX, INTEL_EDX}},
        {"intel above max basic: leaf 0x1F with ECX honoured",
         HOST_INTEL,
         NULL,
         0,
         1,
         0x20,
         1,
         0,
         ALL,
         {1, 2, 0x201, 1}},
        {"intel above max extended: highest basic leaf",
         HOST_INTEL,
         NULL,
         0,
         1,
         0x80000009,
         0,
         0,
         ALL,
         {0, 1, 0x100, 1}},
        {"intel hypervisor range above its max",
         HOST_INTEL,
         NULL,
         0,
         0,
         0x40000002,
         1,
         0,
         ALL,
         {1, 2, 0x201, 0}},
        {"intel leaf 0x50000000", HOST_INTEL, NULL, 0, 1, 0x50000000, 0, 0, ALL, {0, 1, 0x100, 1}},
        {"intel policy max 0x16",
         HOST_INTEL,
         pol_max_basic_0x16,
         0,
         0,
         0,
         0,
         0,
         ONLY_EAX(~0u),
         {0x16, 0, 0, 0}},
        {"intel leaf above policy max returns leaf 0x16",
         HOST_INTEL,
         pol_max_basic_0x16,
         0,
         0,
         0x1f,
         1,
         0,
         ALL,
         {0xe10, 0x1324, 0x64, 0}},
        {"intel above policy max, ECX ignored for leaf 0x16",
         HOST_INTEL,
         pol_max_basic_0x16,
         0,
         0,
         0x17,
         5,
         0,
         ALL,
         {0xe10, 0x1324, 0x64, 0}},
        {"intel without extended leaves",
         HOST_INTEL,
         host_intel_no_ext,
         0,
         1,
         0x80000000,
         0,
         0,
         ALL,
         {0, 1, 0x100, 1}},
        {"intel out-of-range 0x80000001 never shows bit 2",
         HOST_INTEL,
         pol_max_1_ext_80,
         0,
         0,
         0x80000001,
         0,
         0,
         ONLY_ECX(SVM | HYPERVISOR | VMX),
         {0, 0, HYPERVISOR, 0}},
};

static void check_row(const struct cpuid_row *row, const struct answer *a)
{
	if (a->action != HV_ACT_RESUME)
		fail_msg("%s: action %s, want resume", row->name, hv_action_str(a->action));
	if (a->rip != RIP0 + 2)
		fail_msg("%s: rip advanced by %llu, want 2", row->name,
		         (unsigned long long)(a->rip - RIP0));
	static const char *const names[] = {"eax", "ebx", "ecx", "edx"};
	for (int i = 0; i < 4; i++) {
		if (a->regs[i] >> 32)
			fail_msg("%s: upper half of r%s not cleared: %#llx", row->name,
			         names[i] + 1, (unsigned long long)a->regs[i]);
		uint32_t got = (uint32_t)a->regs[i] & row->mask[i];
		if (got != row->want[i])
			fail_msg("%s: %s & %#x = %#x, want %#x (full %#x)", row->name, names[i],
			         row->mask[i], got, row->want[i], (uint32_t)a->regs[i]);
	}
}

static void test_cpuid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(cpuid_rows); i++) {
		const struct cpuid_row *row = &cpuid_rows[i];
		struct mock_env *env = env_new(row->host, row->setup);
		struct answer a =
		        run_cpuid(env, row->part, row->vcpu, row->rax, row->rcx, row->cr4);
		check_row(row, &a);
		/* CPUID-MASK: the same input gives the same answer, in the same
		 * system and in a fresh one. */
		struct answer b =
		        run_cpuid(env, row->part, row->vcpu, row->rax, row->rcx, row->cr4);
		mock_env_free(env);
		env = env_new(row->host, row->setup);
		struct answer c =
		        run_cpuid(env, row->part, row->vcpu, row->rax, row->rcx, row->cr4);
		mock_env_free(env);
		if (memcmp(a.regs, b.regs, sizeof(a.regs)) ||
		    memcmp(a.regs, c.regs, sizeof(a.regs)))
			fail_msg("%s: answer not deterministic", row->name);
	}
}

/* ---- sweeps: invariants over every leaf ---------------------------------- */

static const uint32_t sweep_leaves[] = {
        0,          1,          2,          4,          5,          6,          7,
        0xb,        0xd,        0x10,       0x11,       0x16,       0x1f,       0x20,
        0x3fffffff, 0x40000000, 0x40000001, 0x40000002, 0x4fffffff, 0x7fffffff, 0x80000000,
        0x80000001, 0x80000002, 0x80000008, 0x8000000a, 0x8000001d, 0x8000001e, 0x80000021,
        0x80000022, 0x8fffffff, 0xc0000000, 0xffffffff,
};

/* For hosts of both vendors, with a policy that tries to show everything:
 * VMX/SVM never visible, the hypervisor bit always set, APIC IDs per vCPU,
 * upper halves clear, and identical answers on a repeat. */
static void sweep(enum host host, void (*setup)(struct mock_env *), bool full_range)
{
	struct mock_env *env = env_new(host, setup);
	for (size_t l = 0; l < HV_ARRAY_LEN(sweep_leaves); l++) {
		uint32_t leaf = sweep_leaves[l];
		for (uint32_t sub = 0; sub < 3; sub++) {
			for (uint32_t p = 0; p < 2; p++) {
				for (uint32_t v = 0; v < 2; v++) {
					uint64_t cr4 = (sub & 1) ? ~0ull : 0;
					struct answer a = run_cpuid(env, p, v, leaf, sub, cr4);
					struct answer b = run_cpuid(env, p, v, leaf, sub, cr4);
					assert_int_equal(a.action, HV_ACT_RESUME);
					assert_int_equal(a.rip, RIP0 + 2);
					assert_memory_equal(a.regs, b.regs, sizeof(a.regs));
					for (int r = 0; r < 4; r++)
						assert_int_equal(a.regs[r] >> 32, 0);
					if (leaf == 1) {
						assert_int_equal(a.regs[2] & (VMX | SMX | MONITOR),
						                 0);
						assert_int_equal(a.regs[2] & HYPERVISOR,
						                 HYPERVISOR);
						assert_int_equal(a.regs[1] >> 24, v);
					}
					/* SVM never; SKINIT only where 0x80000001 is in
					 * range (else bit 12 is basic-leaf data). */
					if (leaf == 0x80000001)
						assert_int_equal(a.regs[2] & SVM, 0);
					if (leaf == 0x80000001 && full_range)
						assert_int_equal(a.regs[2] & SKINIT, 0);
					if (leaf == 0x8000000a && host != HOST_INTEL)
						assert_memory_equal(a.regs, (uint64_t[4]){0},
						                    sizeof(a.regs));
					if (full_range &&
					    (leaf == 0xb || (leaf == 0x1f && host == HOST_INTEL)))
						assert_int_equal(a.regs[3], v);
					if (leaf == 0x40000001) {
						assert_int_equal(a.regs[0], p);
						assert_int_equal(a.regs[1], v);
					}
				}
			}
		}
	}
	mock_env_free(env);
}

static void test_cpuid_sweep_amd(void **state)
{
	(void)state;
	sweep(HOST_AMD, NULL, true);
	sweep(HOST_AMD, rule_show_virt, true);
}

static void test_cpuid_sweep_intel(void **state)
{
	(void)state;
	sweep(HOST_INTEL, NULL, true);
	sweep(HOST_INTEL, rule_show_virt, true);
	sweep(HOST_INTEL, pol_max_1_ext_80, false);
}

/* A host CPUID that answers zeros (the mock fails the Nth call) still never
 * yields VMX/SVM and always yields the hypervisor bit on leaf 1. */
static void test_cpuid_host_failure(void **state)
{
	(void)state;
	static const uint32_t leaves[] = {1, 0x80000001, 0xb, 0xd, 0x8000000a};
	for (size_t l = 0; l < HV_ARRAY_LEN(leaves); l++) {
		for (uint32_t n = 1; n <= 8; n++) {
			struct mock_env *env = env_new(HOST_AMD, NULL);
			env->plat.fail_nth[MOCK_OP_CPUID] = n;
			struct answer a = run_cpuid(env, 0, 1, leaves[l], 2, 0);
			assert_int_equal(a.action, HV_ACT_RESUME);
			assert_int_equal(a.rip, RIP0 + 2);
			if (leaves[l] == 1) {
				assert_int_equal(a.regs[2] & (VMX | HYPERVISOR), HYPERVISOR);
				assert_int_equal(a.regs[1] >> 24, 1);
			}
			if (leaves[l] == 0x80000001)
				assert_int_equal(a.regs[2] & SVM, 0);
			if (leaves[l] == 0x8000000a)
				assert_memory_equal(a.regs, (uint64_t[4]){0}, sizeof(a.regs));
			mock_env_free(env);
		}
	}
}

/* The handler's own record checks (the dispatcher checks first; direct
 * callers such as fuzzers rely on these). */
static void test_cpuid_bad_record(void **state)
{
	(void)state;
	struct mock_env *env = env_new(HOST_AMD, NULL);
	struct {
		uint32_t part, vcpu, nvcpus_p0;
	} cases[] = {{2, 0, 2}, {0, 2, 2}, {0, 8, 12}};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		env->cfg.partitions[0].nvcpus = cases[i].nvcpus_p0;
		struct hv_exit ex;
		struct hv_result res;
		memset(&ex, 0, sizeof(ex));
		memset(&res, 0, sizeof(res));
		ex.reason = HV_EXIT_CPUID;
		ex.partition = cases[i].part;
		ex.vcpu = cases[i].vcpu;
		ex.st.gpr[HV_RAX] = 1;
		hv_handle_cpuid(&env->sys, &ex, &res);
		assert_int_equal(res.action, HV_ACT_HALT);
		assert_int_equal(res.halt_reason, HV_HALT_BAD_EXIT);
		assert_int_equal(ex.st.gpr[HV_RAX], 1);
	}
	mock_env_free(env);
}

/* Instruction length from the record (e.g. a prefixed CPUID). */
static void test_cpuid_insn_len(void **state)
{
	(void)state;
	struct mock_env *env = env_new(HOST_AMD, NULL);
	struct hv_exit ex;
	struct hv_result res;
	memset(&ex, 0, sizeof(ex));
	ex.reason = HV_EXIT_CPUID;
	ex.insn_len = 3;
	ex.st.rip = RIP0;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(ex.st.rip, RIP0 + 3);
	mock_env_free(env);
}

/* hv_cpuid_query with a vCPU count outside [1, HV_MAX_VCPUS] (a config that
 * was never validated) still gives a sane topology. */
static void test_cpuid_query_clamps_vcpus(void **state)
{
	(void)state;
	struct mock_env *env = env_new(HOST_AMD, NULL);
	uint32_t out[4];
	env->cfg.partitions[0].nvcpus = 0;
	hv_cpuid_query(&env->sys, 0, 0, 0, 0xb, 1, out);
	assert_int_equal(out[1], 1);
	hv_cpuid_query(&env->sys, 0, 0, 0, 0x80000008, 0, out);
	assert_int_equal(out[2] & 0xf0ff, 0);
	env->cfg.partitions[0].nvcpus = 40;
	hv_cpuid_query(&env->sys, 0, 0, 0, 0xb, 1, out);
	assert_int_equal(out[1], HV_MAX_VCPUS);
	assert_int_equal(out[0], 3);
	mock_env_free(env);
}

/* Indices beyond the tables (the caller's contract broken): zeros, and
 * nothing past the config or the system is read (ASan would say). */
static void test_cpuid_query_bad_indices(void **state)
{
	(void)state;
	struct mock_env *env = env_new(HOST_AMD, NULL);
	static const uint32_t bad[][2] = {{2, 0},
	                                  {HV_MAX_PARTITIONS, 0},
	                                  {UINT32_MAX, 0},
	                                  {0, HV_MAX_VCPUS},
	                                  {0, UINT32_MAX}};
	for (size_t i = 0; i < HV_ARRAY_LEN(bad); i++) {
		uint32_t out[4] = {1, 2, 3, 4};
		hv_cpuid_query(&env->sys, bad[i][0], bad[i][1], 0, 1, 0, out);
		for (int r = 0; r < 4; r++)
			assert_int_equal(out[r], 0);
		hv_cpuid_query(&env->sys, bad[i][0], bad[i][1], 0, 0x40000001, 0, out);
		assert_int_equal(out[0], 0);
	}
	uint32_t out[4];
	hv_cpuid_query(&env->sys, 1, 1, 0, 0x40000001, 0, out);
	assert_int_equal(out[0], 1); /* a valid index still answers */
	mock_env_free(env);
}

/* More rules than a policy can hold (a config never validated): only the
 * first HV_MAX_CPUID_RULES are looked at. */
static void test_cpuid_rule_count_bounded(void **state)
{
	(void)state;
	struct mock_env *env = env_new(HOST_AMD, NULL);
	for (uint32_t i = 0; i < HV_MAX_CPUID_RULES; i++)
		add_rule(env, 0, 6, 0, false)->or_bits[0] |= 1u << i;
	/* Past the array: the count says 17 but the 17th slot is the next
	 * member of the struct, and must not be read as a rule. */
	env->cfg.partitions[0].cpuid.nrules = HV_MAX_CPUID_RULES + 1;
	uint32_t out[4];
	hv_cpuid_query(&env->sys, 0, 0, 0, 6, 0, out);
	assert_int_equal(out[0], (1u << HV_MAX_CPUID_RULES) - 1);
	mock_env_free(env);
}

/* Vendor detection compares all twelve characters: a near miss of either
 * vendor gets the non-Intel out-of-range behaviour and no AMD topology. */
static void test_cpuid_vendor_strings(void **state)
{
	(void)state;
	static const struct {
		const char *vendor; /* 12 characters: EBX, EDX, ECX */
		bool intel, amd;
	} rows[] = {
	        {"GenuineIntel", true, false},  {"GenuineIntex", false, false},
	        {"GenuineXntel", false, false}, {"GenuXneIntel", false, false},
	        {"AuthenticAMD", false, true},  {"AuthenticAMX", false, false},
	        {"AuthentXcAMD", false, false}, {"AuthXnticAMD", false, false},
	        {"HygonGenuine", false, true},  {"HygonGenuinX", false, false},
	        {"HygonGeXuine", false, false}, {"HygoXGenuine", false, false},
	        {"CentaurHauls", false, false},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		struct mock_env *env = env_new(HOST_AMD, NULL);
		uint32_t regs[3];
		memcpy(regs, rows[i].vendor, sizeof(regs));
		/* leaf 0 returns the string in EBX, EDX, ECX order */
		mock_set_cpuid(&env->plat, 0, 0, 0x10, regs[0], regs[2], regs[1]);
		mock_set_cpuid(&env->plat, 0x10, 0, 0x10, 0x10, 0x10, 0x10);
		mock_set_cpuid(&env->plat, 0x11, 0, 0x11, 0x11, 0x11, 0x11);
		host_amd_topology(env);
		struct answer a = run_cpuid(env, 0, 1, 0x11, 0, 0);
		assert_int_equal(a.regs[0], rows[i].intel ? 0x10 : 0);
		a = run_cpuid(env, 0, 1, 0x80000008, 0, 0);
		assert_int_equal(a.regs[2], rows[i].amd ? 0x1001 : 0x7007);
		a = run_cpuid(env, 0, 1, 0x8000001e, 0, 0);
		assert_int_equal(a.regs[0], rows[i].amd ? 1 : 0x0a);
		a = run_cpuid(env, 0, 1, 0x8000001d, 3, 0);
		assert_int_equal(a.regs[0], rows[i].amd ? 0x4163 : 0x3c163);
		mock_env_free(env);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cpuid_table),
	        cmocka_unit_test(test_cpuid_sweep_amd),
	        cmocka_unit_test(test_cpuid_sweep_intel),
	        cmocka_unit_test(test_cpuid_host_failure),
	        cmocka_unit_test(test_cpuid_bad_record),
	        cmocka_unit_test(test_cpuid_insn_len),
	        cmocka_unit_test(test_cpuid_query_clamps_vcpus),
	        cmocka_unit_test(test_cpuid_query_bad_indices),
	        cmocka_unit_test(test_cpuid_rule_count_bounded),
	        cmocka_unit_test(test_cpuid_vendor_strings),
	};
	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
