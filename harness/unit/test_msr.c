/* RDMSR/WRMSR exits (handlers/src/msr.c) on a mocked system of two
 * partitions (mock_config_two: TSC_AUX, EFER, PAT, FS/GS base emulated,
 * MTRRCAP pass-read, IA32_PRED_CMD pass-read/write, everything else denied).
 * Each row: a setup (extra rules, possibly ones the validator would refuse,
 * to prove the handler's own guard), the exit, and the expected #GP or
 * value, host accesses and vCPU update. Every #GP row also checks that no
 * register, no emulated value and no host MSR changed (MSR-GUARD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hv/config.h"
#include "hv/exit.h"
#include "hv/handlers.h"
#include "hv/msr.h"
#include "mock_config.h"

#define RIP0 0x401000ull
#define CR0_PG (1ull << 31)
#define EFER_INIT (HV_EFER_LME | HV_EFER_LMA)
#define PAT_INIT 0x0007040600070406ull

static struct mock_env *env_new(void (*setup)(struct mock_env *))
{
	struct mock_env *env = mock_env_new(mock_config_two);
	assert_non_null(env);
	if (setup)
		setup(env);
	return env;
}

static struct hv_msr_rule *find_rule(struct mock_env *env, uint32_t part, uint32_t msr)
{
	struct hv_partition_config *pc = &env->cfg.partitions[part];
	for (uint32_t i = 0; i < pc->msr.nrules; i++)
		if (pc->msr.rules[i].msr == msr)
			return &pc->msr.rules[i];
	return NULL;
}

/* Add a rule after start (so it can be one hv_config_validate refuses)
 * and reset its per-vCPU values like hv_system_init does. */
static void add_rule(struct mock_env *env, uint32_t part, uint32_t msr, uint8_t mode, uint64_t init,
                     uint64_t writable)
{
	struct hv_partition_config *pc = &env->cfg.partitions[part];
	assert_true(pc->msr.nrules < HV_MAX_MSR_RULES);
	uint32_t i = pc->msr.nrules++;
	pc->msr.rules[i] = (struct hv_msr_rule){
	        .msr = msr, .mode = mode, .init = init, .writable_mask = writable};
	for (uint32_t v = 0; v < pc->nvcpus; v++)
		env->sys.parts[part].vcpus[v].msr_value[i] = init;
}

static struct hv_msr_rule *rule_of(struct mock_env *env, uint32_t part, uint32_t msr)
{
	struct hv_msr_rule *r = find_rule(env, part, msr);
	if (!r)
		fail_msg("no rule for MSR %#x", msr);
	return r;
}

static void host_cpuid_or(struct mock_env *env, uint32_t leaf, int reg, uint32_t bits)
{
	for (uint32_t i = 0; i < env->plat.ncpuid; i++) {
		if (env->plat.cpuid[i].leaf == leaf && env->plat.cpuid[i].subleaf == 0) {
			env->plat.cpuid[i].out[reg] |= bits;
			return;
		}
	}
	fail_msg("host has no CPUID leaf %#x", leaf);
}

/* ---- setups -------------------------------------------------------------- */

static void deny_1235(struct mock_env *env)
{
	add_rule(env, 0, 0x1235, HV_MSR_DENY, 0, 0);
	mock_set_msr(&env->plat, 0x1235, 0x99);
}
/* Allow-listed MSRs the mock host does not have. */
#define MPERF 0xe7u
#define FLUSH_CMD 0x10bu
static void pass_r_missing(struct mock_env *env)
{
	add_rule(env, 0, MPERF, HV_MSR_PASS_R, 0, 0);
}
static void pass_rw_missing(struct mock_env *env)
{
	add_rule(env, 0, FLUSH_CMD, HV_MSR_PASS_RW, 0, 0);
}
static void emu_masked(struct mock_env *env)
{
	add_rule(env, 0, 0x1237, HV_MSR_EMULATED, 0xff00, 0xff);
}
static void mode_bogus(struct mock_env *env)
{
	add_rule(env, 0, 0x1238, 7, 0, ~0ull);
	mock_set_msr(&env->plat, 0x1238, 1);
}
static void apic_xapic(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_APIC_BASE, HV_MSR_EMULATED, 0xfee00900, ~0ull);
}
static void apic_xapic_x2(struct mock_env *env)
{
	apic_xapic(env);
	host_cpuid_or(env, 1, 2, 1u << 21);
}
static void apic_x2apic(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_APIC_BASE, HV_MSR_EMULATED, 0xfee00d00, ~0ull);
	host_cpuid_or(env, 1, 2, 1u << 21);
}
static void apic_disabled_x2(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_APIC_BASE, HV_MSR_EMULATED, 0xfee00000, ~0ull);
	host_cpuid_or(env, 1, 2, 1u << 21);
}
static void apic_xapic_36bit(struct mock_env *env)
{
	apic_xapic(env);
	/* No leaf 0x80000008 for the partition: MAXPHYADDR is 36. */
	env->cfg.partitions[0].cpuid.max_ext_leaf = 0x80000007;
}
static void apic_xapic_32bit(struct mock_env *env)
{
	apic_xapic(env);
	/* The partition's leaf 0x80000008 reports a 32-bit MAXPHYADDR. */
	struct hv_cpuid_policy *pol = &env->cfg.partitions[0].cpuid;
	pol->rules[pol->nrules++] = (struct hv_cpuid_rule){
	        .leaf = 0x80000008, .and_mask = {~0xffu, ~0u, ~0u, ~0u}, .or_bits = {32, 0, 0, 0}};
}
static void efer_wide(struct mock_env *env)
{
	rule_of(env, 0, HV_MSR_EFER)->writable_mask = ~0ull;
}
static void la57(struct mock_env *env)
{
	host_cpuid_or(env, 7, 2, 1u << 16);
}
static void sysenter(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_SYSENTER_EIP, HV_MSR_EMULATED, 0, ~0ull);
}
static void vmx_emulated(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_VMX_BASIC, HV_MSR_EMULATED, 0x1234, ~0ull);
}
static void vmx_pass_r(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_VMX_BASIC, HV_MSR_PASS_R, 0, 0);
	mock_set_msr(&env->plat, HV_MSR_VMX_BASIC, 0xda040000000012ull);
}
static void smbase_emulated(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_SMBASE, HV_MSR_EMULATED, 0x30000, ~0ull);
}
static void vm_cr_emulated(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_VM_CR, HV_MSR_EMULATED, 0, ~0ull);
}
static void lstar_pass_r(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_LSTAR, HV_MSR_PASS_R, 0, 0);
	mock_set_msr(&env->plat, HV_MSR_LSTAR, 0xffffffff81000000ull);
}
static void lstar_pass_rw(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_LSTAR, HV_MSR_PASS_RW, 0, 0);
	mock_set_msr(&env->plat, HV_MSR_LSTAR, 0xffffffff81000000ull);
}
static void tsc_pass_r(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_TSC, HV_MSR_PASS_R, 0, 0);
	mock_set_msr(&env->plat, HV_MSR_TSC, 0x123456789ull);
}
static void tsc_pass_rw(struct mock_env *env)
{
	add_rule(env, 0, HV_MSR_TSC, HV_MSR_PASS_RW, 0, 0);
	mock_set_msr(&env->plat, HV_MSR_TSC, 0x123456789ull);
}
static void mtrrcap_rw(struct mock_env *env)
{
	rule_of(env, 0, HV_MSR_MTRRCAP)->mode = HV_MSR_PASS_RW;
}
static void ds_area_rw(struct mock_env *env)
{
	add_rule(env, 0, 0x600, HV_MSR_PASS_RW, 0, 0);
	mock_set_msr(&env->plat, 0x600, 0);
}

static void pass_flush_cmd(struct mock_env *env)
{
	add_rule(env, 0, FLUSH_CMD, HV_MSR_PASS_RW, 0, 0);
	mock_set_msr(&env->plat, FLUSH_CMD, 0);
}

/* ---- the table ----------------------------------------------------------- */

struct msr_row {
	const char *name;
	void (*setup)(struct mock_env *env);
	uint32_t part, vcpu;
	bool write;
	uint64_t rcx, rax, rdx, cr0;
	bool gp;          /* #GP(0) expected */
	uint64_t value;   /* read: EDX:EAX; write: the value read back after */
	uint32_t apply;   /* write: MSR expected in res.msr (0: none) */
	uint32_t host_rd; /* host RDMSR calls expected (by the exit itself) */
	uint32_t host_wr; /* host WRMSR calls expected */
};

#define RD(n, s, msr) .name = n, .setup = s, .rcx = (msr)
#define WR(n, s, msr, lo, hi)                                                                      \
	.name = n, .setup = s, .write = true, .rcx = (msr), .rax = (lo), .rdx = (hi)

static const struct msr_row msr_rows[] = {
        /* reads */
        {RD("read of an unknown MSR", NULL, 0x12345678), .gp = true},
        {RD("read of a denied MSR never reaches the host", deny_1235, 0x1235), .gp = true},
        {RD("pass-r MTRRCAP", NULL, HV_MSR_MTRRCAP), .rax = 0xdeadbeef00000000ull, .value = 0x508,
         .host_rd = 1},
        /* PRED_CMD is a write-only command: RDMSR #GPs on hardware (SDM
         * Vol. 4, Table 2-2), and would #GP in the hypervisor if forwarded. */
        {RD("pass-rw read of a write-only command never reaches the host", NULL, MOCK_PASS_RW_MSR),
         .gp = true},
        {RD("pass-rw read of IA32_FLUSH_CMD never reaches the host", pass_flush_cmd, FLUSH_CMD),
         .gp = true},
        {RD("pass-r MSR the host lacks", pass_r_missing, MPERF), .gp = true, .host_rd = 1},
        {RD("emulated PAT in EDX:EAX", NULL, HV_MSR_PAT), .value = PAT_INIT},
        {RD("emulated EFER initial value", NULL, HV_MSR_EFER), .value = EFER_INIT},
        {RD("upper half of RCX ignored", NULL, 0xffffffff00000000ull | HV_MSR_PAT),
         .value = PAT_INIT},
        {RD("partition 1 vcpu 1 PAT", NULL, HV_MSR_PAT), .part = 1, .vcpu = 1, .value = PAT_INIT},
        {RD("VMX capability, even emulated, #GP", vmx_emulated, HV_MSR_VMX_BASIC), .gp = true},
        {RD("VMX capability pass-r (slipped) never read", vmx_pass_r, HV_MSR_VMX_BASIC),
         .gp = true},
        {RD("LSTAR pass-r (slipped) never read on the host", lstar_pass_r, HV_MSR_LSTAR),
         .gp = true},
        {RD("SMBASE emulated #GP outside SMM", smbase_emulated, HV_MSR_SMBASE), .gp = true},
        {RD("VM_CR emulated #GP (SVM hidden)", vm_cr_emulated, HV_MSR_VM_CR), .gp = true},
        {RD("rule with an unknown mode", mode_bogus, 0x1238), .gp = true},
        {RD("pass-r TSC", tsc_pass_r, HV_MSR_TSC), .value = 0x123456789ull, .host_rd = 1},
        /* writes: policy modes */
        {WR("write of an unknown MSR", NULL, 0x12345678, 0, 0), .gp = true},
        {WR("write of a denied MSR", deny_1235, 0x1235, 1, 0), .gp = true},
        {WR("write of a pass-r MSR", NULL, HV_MSR_MTRRCAP, 0, 0), .gp = true},
        {WR("pass-rw write reaches the host, upper halves ignored", NULL, MOCK_PASS_RW_MSR,
            0xffffffff00000077ull, 0xaaaaaaaa00000001ull),
         .value = 0x100000077ull, .host_wr = 1, .host_rd = 0},
        {WR("pass-rw write the host refuses", pass_rw_missing, FLUSH_CMD, 1, 0), .gp = true,
         .host_wr = 1},
        {WR("rule with an unknown mode", mode_bogus, 0x1238, 1, 0), .gp = true},
        /* writes: emulated values and masks */
        {WR("TSC_AUX", NULL, HV_MSR_TSC_AUX, 0x1234, 0), .value = 0x1234, .apply = HV_MSR_TSC_AUX},
        {WR("TSC_AUX reserved high half", NULL, HV_MSR_TSC_AUX, 0x1234, 1), .gp = true},
        {WR("TSC_AUX partition 1 vcpu 1", NULL, HV_MSR_TSC_AUX, 7, 0), .part = 1, .vcpu = 1,
         .value = 7, .apply = HV_MSR_TSC_AUX},
        {WR("bits outside the mask keep their value", emu_masked, 0x1237, 0xff12, 0),
         .value = 0xff12},
        {WR("changing a bit outside the mask", emu_masked, 0x1237, 0x12, 0), .gp = true},
        /* EFER */
        {WR("EFER SCE and NXE", NULL, HV_MSR_EFER, 0xd01, 0), .cr0 = CR0_PG, .value = 0xd01,
         .apply = HV_MSR_EFER},
        {WR("EFER.SVME", NULL, HV_MSR_EFER, 0x1500, 0), .gp = true},
        {WR("EFER.SVME even when the mask allows it", efer_wide, HV_MSR_EFER, 0x1500, 0),
         .gp = true},
        {WR("EFER reserved bit 9", efer_wide, HV_MSR_EFER, 0x700, 0), .gp = true},
        {WR("EFER reserved bit 32", efer_wide, HV_MSR_EFER, 0x500, 1), .gp = true},
        {WR("EFER.FFXSR allowed by a wide mask", efer_wide, HV_MSR_EFER, 0x4500, 0),
         .value = 0x4500, .apply = HV_MSR_EFER},
        {WR("EFER.FFXSR outside the mask", NULL, HV_MSR_EFER, 0x4500, 0), .gp = true},
        {WR("EFER.LME change with paging on", NULL, HV_MSR_EFER, 0x400, 0), .cr0 = CR0_PG,
         .gp = true},
        {WR("EFER.LME change with paging off", NULL, HV_MSR_EFER, 0x400, 0), .value = 0x400,
         .apply = HV_MSR_EFER},
        {WR("EFER.LMA is not written", NULL, HV_MSR_EFER, 0x100, 0), .cr0 = CR0_PG, .value = 0x500,
         .apply = HV_MSR_EFER},
        /* PAT */
        {WR("PAT valid types", NULL, HV_MSR_PAT, 0x00070106, 0x00050406),
         .value = 0x0005040600070106ull, .apply = HV_MSR_PAT},
        {WR("PAT type 2", NULL, HV_MSR_PAT, 0x02, 0), .gp = true},
        {WR("PAT type 8", NULL, HV_MSR_PAT, 0x06, 0x08000000), .gp = true},
        /* canonical addresses */
        {WR("FS_BASE top of the lower half", NULL, HV_MSR_FS_BASE, 0xffffffff, 0x00007fff),
         .value = 0x00007fffffffffffull, .apply = HV_MSR_FS_BASE},
        {WR("FS_BASE bottom of the upper half", NULL, HV_MSR_FS_BASE, 0, 0xffff8000),
         .value = 0xffff800000000000ull, .apply = HV_MSR_FS_BASE},
        {WR("FS_BASE non-canonical", NULL, HV_MSR_FS_BASE, 0, 0x00008000), .gp = true},
        {WR("GS_BASE 57-bit address without LA57", NULL, HV_MSR_GS_BASE, 0, 0x00ff8000),
         .gp = true},
        {WR("GS_BASE 57-bit address with LA57", la57, HV_MSR_GS_BASE, 0, 0x00ff8000),
         .value = 0x00ff800000000000ull, .apply = HV_MSR_GS_BASE},
        {WR("GS_BASE beyond 57 bits with LA57", la57, HV_MSR_GS_BASE, 0, 0x01000000), .gp = true},
        {WR("SYSENTER_EIP non-canonical", sysenter, HV_MSR_SYSENTER_EIP, 0, 0x80000000),
         .gp = true},
        {WR("SYSENTER_EIP canonical", sysenter, HV_MSR_SYSENTER_EIP, 0x81000000, 0xffffffff),
         .value = 0xffffffff81000000ull, .apply = HV_MSR_SYSENTER_EIP},
        {WR("DS_AREA pass-rw non-canonical never reaches the host", ds_area_rw, 0x600, 0,
            0x00008000),
         .gp = true},
        {WR("DS_AREA pass-rw (slipped) canonical never reaches the host", ds_area_rw, 0x600, 0x1000,
            0),
         .gp = true},
        /* IA32_APIC_BASE */
        {WR("APIC base rewritten unchanged", apic_xapic, HV_MSR_APIC_BASE, 0xfee00900, 0),
         .value = 0xfee00900},
        {WR("APIC base reserved bit 0", apic_xapic, HV_MSR_APIC_BASE, 0xfee00901, 0), .gp = true},
        {WR("APIC base reserved bit 9", apic_xapic, HV_MSR_APIC_BASE, 0xfee00b00, 0), .gp = true},
        {WR("APIC base moved (emulated, mask allows)", apic_xapic, HV_MSR_APIC_BASE, 0xfed00900, 0),
         .value = 0xfed00900},
        {WR("APIC base above MAXPHYADDR 48", apic_xapic, HV_MSR_APIC_BASE, 0xfee00900, 0x10000),
         .gp = true},
        {WR("APIC base bit 40 below MAXPHYADDR 48", apic_xapic, HV_MSR_APIC_BASE, 0xfee00900,
            0x100),
         .value = 0x100fee00900ull},
        {WR("APIC base bit 40 with MAXPHYADDR 36", apic_xapic_36bit, HV_MSR_APIC_BASE, 0xfee00900,
            0x100),
         .gp = true},
        {WR("APIC base bit 33 with MAXPHYADDR 32", apic_xapic_32bit, HV_MSR_APIC_BASE, 0xfee00900,
            0x2),
         .gp = true},
        {WR("APIC base bit 31 with MAXPHYADDR 32", apic_xapic_32bit, HV_MSR_APIC_BASE, 0x80000900,
            0),
         .value = 0x80000900},
        {WR("x2APIC mode without CPUID x2APIC", apic_xapic, HV_MSR_APIC_BASE, 0xfee00d00, 0),
         .gp = true},
        {WR("xAPIC to x2APIC", apic_xapic_x2, HV_MSR_APIC_BASE, 0xfee00d00, 0),
         .value = 0xfee00d00},
        {WR("EXTD without EN", apic_xapic_x2, HV_MSR_APIC_BASE, 0xfee00500, 0), .gp = true},
        {WR("x2APIC to xAPIC", apic_x2apic, HV_MSR_APIC_BASE, 0xfee00900, 0), .gp = true},
        {WR("x2APIC to disabled", apic_x2apic, HV_MSR_APIC_BASE, 0xfee00100, 0),
         .value = 0xfee00100},
        {WR("disabled to x2APIC", apic_disabled_x2, HV_MSR_APIC_BASE, 0xfee00d00, 0), .gp = true},
        {WR("disabled to xAPIC", apic_disabled_x2, HV_MSR_APIC_BASE, 0xfee00900, 0),
         .value = 0xfee00900},
        /* MSR-GUARD: configs that slipped through still never write the host */
        {WR("VMX capability emulated write", vmx_emulated, HV_MSR_VMX_BASIC, 0, 0), .gp = true},
        {WR("LSTAR pass-rw (slipped)", lstar_pass_rw, HV_MSR_LSTAR, 0x1000, 0xffffffff),
         .gp = true},
        {WR("TSC pass-rw", tsc_pass_rw, HV_MSR_TSC, 0, 0), .gp = true},
        {WR("MTRRCAP pass-rw", mtrrcap_rw, HV_MSR_MTRRCAP, 0, 0), .gp = true},
};

struct snapshot {
	uint64_t gpr[HV_GPR_COUNT];
	struct hv_partition parts[2];
	uint32_t nmsr_writes;
	struct mock_msr_entry msrs[MOCK_MAX_MSRS];
};

static void take(struct snapshot *s, const struct mock_env *env, const struct hv_exit *ex)
{
	memcpy(s->gpr, ex->st.gpr, sizeof(s->gpr));
	memcpy(s->parts, env->sys.parts, sizeof(s->parts));
	s->nmsr_writes = env->plat.nmsr_writes;
	memcpy(s->msrs, env->plat.msrs, sizeof(s->msrs));
}

static void init_exit(struct hv_exit *ex, uint32_t reason, uint32_t part, uint32_t vcpu)
{
	memset(ex, 0, sizeof(*ex));
	ex->reason = reason;
	ex->partition = part;
	ex->vcpu = vcpu;
	ex->st.rip = RIP0;
	for (int r = 0; r < HV_GPR_COUNT; r++)
		ex->st.gpr[r] = 0x0101010101010101ull * (uint64_t)(r + 1);
}

/* RDMSR of msr through the dispatcher; returns EDX:EAX, fails on #GP. */
static uint64_t read_back(struct mock_env *env, const struct msr_row *row)
{
	struct hv_exit ex;
	struct hv_result res;
	init_exit(&ex, HV_EXIT_RDMSR, row->part, row->vcpu);
	ex.st.gpr[HV_RCX] = row->rcx;
	hv_handle_exit(&env->sys, &ex, &res);
	if (res.action != HV_ACT_RESUME)
		fail_msg("%s: read back got %s", row->name, hv_action_str(res.action));
	return (ex.st.gpr[HV_RDX] << 32) | (uint32_t)ex.st.gpr[HV_RAX];
}

static void run_row(const struct msr_row *row)
{
	struct mock_env *env = env_new(row->setup);
	struct hv_exit ex;
	struct hv_result res;
	init_exit(&ex, row->write ? HV_EXIT_WRMSR : HV_EXIT_RDMSR, row->part, row->vcpu);
	ex.st.gpr[HV_RCX] = row->rcx;
	ex.st.gpr[HV_RAX] = row->rax;
	ex.st.gpr[HV_RDX] = row->rdx;
	ex.st.cr0 = row->cr0;
	struct snapshot before, after;
	take(&before, env, &ex);
	memset(env->plat.calls, 0, sizeof(env->plat.calls));
	hv_handle_exit(&env->sys, &ex, &res);
	take(&after, env, &ex);

	if (env->plat.calls[MOCK_OP_RDMSR] != row->host_rd)
		fail_msg("%s: %u host RDMSR, want %u", row->name, env->plat.calls[MOCK_OP_RDMSR],
		         row->host_rd);
	if (env->plat.calls[MOCK_OP_WRMSR] != row->host_wr)
		fail_msg("%s: %u host WRMSR, want %u", row->name, env->plat.calls[MOCK_OP_WRMSR],
		         row->host_wr);
	if (row->gp) {
		if (res.action != HV_ACT_INJECT || res.vector != HV_VEC_GP || !res.has_error_code ||
		    res.error_code != 0)
			fail_msg("%s: got %s vector %u, want #GP(0)", row->name,
			         hv_action_str(res.action), res.vector);
		if (ex.st.rip != RIP0)
			fail_msg("%s: RIP moved on #GP", row->name);
		if (memcmp(before.gpr, after.gpr, sizeof(before.gpr)))
			fail_msg("%s: registers changed on #GP", row->name);
		if (memcmp(before.parts, after.parts, sizeof(before.parts)))
			fail_msg("%s: emulated state changed on #GP", row->name);
		if (memcmp(before.msrs, after.msrs, sizeof(before.msrs)))
			fail_msg("%s: a host MSR changed on #GP", row->name);
		if (res.msr.valid)
			fail_msg("%s: MSR apply on #GP", row->name);
		mock_env_free(env);
		return;
	}
	if (res.action != HV_ACT_RESUME)
		fail_msg("%s: got %s vector %u, want resume", row->name, hv_action_str(res.action),
		         res.vector);
	if (ex.st.rip != RIP0 + 2)
		fail_msg("%s: RIP advanced by %llu", row->name,
		         (unsigned long long)(ex.st.rip - RIP0));
	for (int r = 0; r < HV_GPR_COUNT; r++) {
		if (!row->write && (r == HV_RAX || r == HV_RDX))
			continue;
		if (before.gpr[r] != after.gpr[r])
			fail_msg("%s: register %d changed", row->name, r);
	}
	if (!row->write) {
		if (ex.st.gpr[HV_RAX] != (uint32_t)row->value ||
		    ex.st.gpr[HV_RDX] != (row->value >> 32))
			fail_msg("%s: RDX:RAX %#llx:%#llx, want %#llx", row->name,
			         (unsigned long long)ex.st.gpr[HV_RDX],
			         (unsigned long long)ex.st.gpr[HV_RAX],
			         (unsigned long long)row->value);
		if (res.msr.valid)
			fail_msg("%s: MSR apply on a read", row->name);
		mock_env_free(env);
		return;
	}
	if (row->host_wr) {
		if (env->plat.msr_writes[0].msr != (uint32_t)row->rcx ||
		    env->plat.msr_writes[0].value != row->value)
			fail_msg("%s: host write %#x=%#llx", row->name, env->plat.msr_writes[0].msr,
			         (unsigned long long)env->plat.msr_writes[0].value);
	}
	if (row->apply) {
		if (!res.msr.valid || res.msr.msr != row->apply || res.msr.value != row->value)
			fail_msg("%s: apply {%#x, %u, %#llx}", row->name, res.msr.msr,
			         res.msr.valid, (unsigned long long)res.msr.value);
	} else if (res.msr.valid) {
		fail_msg("%s: unexpected MSR apply of %#x", row->name, res.msr.msr);
	}
	/* A host write was checked above; the only pass-rw MSRs are
	 * write-only commands, which cannot be read back. */
	uint64_t got = row->host_wr ? row->value : read_back(env, row);
	if (got != row->value)
		fail_msg("%s: read back %#llx, want %#llx", row->name, (unsigned long long)got,
		         (unsigned long long)row->value);
	/* Only the exiting vCPU's value changed. */
	for (uint32_t p = 0; p < 2; p++)
		for (uint32_t v = 0; v < HV_MAX_VCPUS; v++)
			if ((p != row->part || v != row->vcpu) &&
			    memcmp(&before.parts[p].vcpus[v], &after.parts[p].vcpus[v],
			           sizeof(struct hv_vcpu)))
				fail_msg("%s: vCPU %u of partition %u changed", row->name, v, p);
	mock_env_free(env);
}

static void test_msr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(msr_rows); i++)
		run_row(&msr_rows[i]);
}

/* ---- MSR-GUARD: nothing off the allow-list reaches the host --------------- */

/* The MSRs the protected list used to name, the host-wide and
 * address-bearing ones a deny-list let through (TSC_ADJUST, DS_AREA, Intel
 * PT, CET, MMIO_CFG_BASE, DEBUGCTL, XSS, TSC_DEADLINE, SPEC_CTRL, MC banks,
 * PMU), and MSRs nobody named at all. */
static const uint32_t guarded[] = {
        0x3b,       0x48,       0xc1,       0x186,      0x1d9,      0x3f1,      0x401,
        0x560,      0x561,      0x570,      0x571,      0x580,      0x600,      0x6a0,
        0x6a2,      0x6a4,      0x6a8,      0x6e0,      0xda0,      0x1234,     0xc0010000,
        0xc0010020, 0xc0010058, 0xc0010200, 0x40000000, 0x1b,       0x3a,       0x79,
        0x9b,       0x9e,       0x174,      0x175,      0x176,      0x1a0,      0x1f2,
        0x1f3,      0x200,      0x213,      0x21f,      0x250,      0x258,      0x259,
        0x268,      0x26f,      0x277,      0x2ff,      0x480,      0x48c,      0x493,
        0x4e0,      0x4e3,      0x800,      0x830,      0x8ff,      0xc0000080, 0xc0000081,
        0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
        0xc0010010, 0xc0010015, 0xc0010016, 0xc0010019, 0xc001001a, 0xc001001d, 0xc0010111,
        0xc0010112, 0xc0010113, 0xc0010114, 0xc0010117, 0xc0010118,
};

/* A pass-rw rule for an MSR off the allow-list (one hv_config_validate
 * refuses) must still never reach the host, for reads or writes, whatever
 * the value. */
static void test_msr_guard_protected(void **state)
{
	(void)state;
	static const uint64_t values[] = {0, 0x1000, 0xfee00900, 0xffffffffffffffffull};
	for (size_t i = 0; i < HV_ARRAY_LEN(guarded); i++) {
		uint32_t msr = guarded[i];
		assert_false(hv_msr_pass_allowed(msr, HV_MSR_PASS_R));
		struct mock_env *env = env_new(NULL);
		struct hv_msr_rule *r = find_rule(env, 0, msr);
		if (r)
			r->mode = HV_MSR_PASS_RW; /* EFER, PAT, FS/GS base, TSC_AUX */
		else
			add_rule(env, 0, msr, HV_MSR_PASS_RW, 0, 0);
		mock_set_msr(&env->plat, msr, 0x1111);
		for (size_t v = 0; v < HV_ARRAY_LEN(values); v++) {
			struct hv_exit ex;
			struct hv_result res;
			init_exit(&ex, HV_EXIT_WRMSR, 0, 0);
			ex.st.gpr[HV_RCX] = msr;
			ex.st.gpr[HV_RAX] = (uint32_t)values[v];
			ex.st.gpr[HV_RDX] = values[v] >> 32;
			hv_handle_exit(&env->sys, &ex, &res);
			if (res.action != HV_ACT_INJECT || res.vector != HV_VEC_GP)
				fail_msg("MSR %#x: write not refused", msr);
		}
		struct hv_exit ex;
		struct hv_result res;
		init_exit(&ex, HV_EXIT_RDMSR, 0, 1);
		ex.st.gpr[HV_RCX] = msr;
		hv_handle_exit(&env->sys, &ex, &res);
		if (res.action != HV_ACT_INJECT || res.vector != HV_VEC_GP)
			fail_msg("MSR %#x: host value read", msr);
		if (mock_msr_written(&env->plat, msr) || env->plat.calls[MOCK_OP_WRMSR] ||
		    env->plat.calls[MOCK_OP_RDMSR])
			fail_msg("MSR %#x reached the host", msr);
		mock_env_free(env);
	}
}

/* The allow-list is also what hv_config_validate accepts: nothing else may
 * be passed through, and read-only entries may not be pass-rw. */
static void test_msr_validator_agrees(void **state)
{
	(void)state;
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	struct hv_config_diag diag;
	for (size_t i = 0; i < HV_ARRAY_LEN(guarded); i++) {
		for (uint8_t mode = HV_MSR_PASS_R; mode <= HV_MSR_PASS_RW; mode++) {
			mock_config_one(cfg);
			struct hv_msr_policy *pol = &cfg->partitions[0].msr;
			pol->rules[pol->nrules++] =
			        (struct hv_msr_rule){.msr = guarded[i], .mode = mode};
			if (guarded[i] == HV_MSR_EFER || guarded[i] == HV_MSR_PAT ||
			    guarded[i] == HV_MSR_FS_BASE || guarded[i] == HV_MSR_GS_BASE ||
			    guarded[i] == HV_MSR_TSC_AUX)
				continue; /* already emulated in mock_config_one: duplicate */
			assert_int_not_equal(hv_config_validate(cfg, &diag), HV_OK);
			assert_int_equal(diag.error, HV_CFG_MSR_PROTECTED);
			assert_int_equal(diag.addr, guarded[i]);
		}
	}
	/* Every allow-list entry may be pass-r; pass-rw only where it says. */
	uint32_t n;
	const struct hv_msr_pass_entry *list = hv_msr_pass_list(&n);
	assert_true(n > 0);
	for (uint32_t i = 0; i < n; i++) {
		for (uint8_t mode = HV_MSR_PASS_R; mode <= HV_MSR_PASS_RW; mode++) {
			mock_config_one(cfg);
			struct hv_msr_policy *pol = &cfg->partitions[0].msr;
			uint32_t k = 0; /* replace the mock's own rule for it, if any */
			while (k < pol->nrules && pol->rules[k].msr != list[i].msr)
				k++;
			if (k == pol->nrules)
				pol->nrules++;
			pol->rules[k] = (struct hv_msr_rule){.msr = list[i].msr, .mode = mode};
			hv_status s = hv_config_validate(cfg, &diag);
			if (mode == HV_MSR_PASS_R || list[i].mode == HV_MSR_PASS_RW) {
				assert_int_equal(s, HV_OK);
			} else {
				assert_int_equal(s, HV_ERR_PERM);
				assert_int_equal(diag.error, HV_CFG_MSR_PASS_READ_ONLY);
				assert_int_equal(diag.addr, list[i].msr);
			}
		}
	}
	free(cfg);
}

struct pred_row {
	uint32_t msr;
	bool pass_r, guest, address;
};

static void test_msr_predicates(void **state)
{
	(void)state;
	static const struct pred_row rows[] = {
	        {HV_MSR_TSC, true, false, false},
	        {HV_MSR_MTRRCAP, true, false, false},
	        {0x1234, false, false, false},
	        {HV_MSR_APIC_BASE, false, false, false},
	        {HV_MSR_FEATURE_CONTROL, false, false, false},
	        {HV_MSR_SYSENTER_CS, false, true, false},
	        {HV_MSR_SYSENTER_ESP, false, true, true},
	        {HV_MSR_SYSENTER_EIP, false, true, true},
	        {0x177, false, false, false},
	        {0x1f1, false, false, false},
	        {0x1f4, false, false, false},
	        {0x1ff, false, false, false},
	        {0x220, false, false, false},
	        {0x24f, false, false, false},
	        {0x251, false, false, false},
	        {0x25a, false, false, false},
	        {0x267, false, false, false},
	        {0x270, false, false, false},
	        {HV_MSR_PAT, false, true, false},
	        {0x2fe, false, false, false},
	        {0x47f, false, false, false},
	        {0x494, false, false, false},
	        {0x4e4, false, false, false},
	        {0x57f, false, false, false},
	        {0x580, false, false, true},
	        {0x587, false, false, true},
	        {0x588, false, false, false},
	        {0x600, false, false, true},
	        {0x69f, false, false, false},
	        {0x6a0, false, false, true},
	        {0x6a1, false, false, false},
	        {0x6a2, false, false, true},
	        {0x6a3, false, false, false},
	        {0x6a4, false, false, true},
	        {0x6a8, false, false, true},
	        {0x6a9, false, false, false},
	        {0xd8f, false, false, false},
	        {0xd90, false, false, true},
	        {0xd91, false, false, false},
	        {0x7ff, false, false, false},
	        {0x900, false, false, false},
	        {HV_MSR_EFER, false, true, false},
	        {HV_MSR_STAR, false, true, false},
	        {HV_MSR_LSTAR, false, true, true},
	        {HV_MSR_CSTAR, false, true, true},
	        {HV_MSR_SFMASK, false, true, false},
	        {0xc0000085, false, false, false},
	        {0xc00000ff, false, false, false},
	        {HV_MSR_FS_BASE, false, true, true},
	        {HV_MSR_GS_BASE, false, true, true},
	        {HV_MSR_KERNEL_GS_BASE, false, true, true},
	        {HV_MSR_TSC_AUX, false, true, false},
	        {0xc0000104, false, false, false},
	        {0xc001000f, false, false, false},
	        {0xc0010011, false, false, false},
	        {0xc001001b, false, false, false},
	        {0xc001001e, false, false, false},
	        {0xc0010110, false, false, false},
	        {0xc0010119, false, false, false},
	        {0xffffffff, false, false, false},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		if (hv_msr_pass_allowed(rows[i].msr, HV_MSR_PASS_R) != rows[i].pass_r ||
		    hv_msr_is_guest_state(rows[i].msr) != rows[i].guest ||
		    hv_msr_is_address(rows[i].msr) != rows[i].address)
			fail_msg("MSR %#x: pass-r %d guest %d address %d", rows[i].msr,
			         hv_msr_pass_allowed(rows[i].msr, HV_MSR_PASS_R),
			         hv_msr_is_guest_state(rows[i].msr),
			         hv_msr_is_address(rows[i].msr));
	}
}

/* ---- platform failures, record checks, instruction length ----------------- */

static void test_msr_host_failure(void **state)
{
	(void)state;
	struct mock_env *env = env_new(NULL);
	struct hv_exit ex;
	struct hv_result res;
	env->plat.fail_nth[MOCK_OP_RDMSR] = 1;
	init_exit(&ex, HV_EXIT_RDMSR, 0, 0);
	ex.st.gpr[HV_RCX] = HV_MSR_MTRRCAP;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_INJECT);
	assert_int_equal(res.vector, HV_VEC_GP);
	assert_int_equal(ex.st.rip, RIP0);
	/* The second read succeeds. */
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(ex.st.gpr[HV_RAX], 0x508);

	env->plat.fail_nth[MOCK_OP_WRMSR] = 1;
	init_exit(&ex, HV_EXIT_WRMSR, 0, 0);
	ex.st.gpr[HV_RCX] = MOCK_PASS_RW_MSR;
	ex.st.gpr[HV_RAX] = 0x77;
	ex.st.gpr[HV_RDX] = 0;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_INJECT);
	assert_int_equal(res.vector, HV_VEC_GP);
	assert_int_equal(ex.st.rip, RIP0);
	assert_false(mock_msr_written(&env->plat, MOCK_PASS_RW_MSR));
	mock_env_free(env);
}

static void test_msr_bad_record(void **state)
{
	(void)state;
	struct mock_env *env = env_new(NULL);
	struct {
		uint32_t part, vcpu, nvcpus_p0;
	} cases[] = {{2, 0, 2}, {0, 2, 2}, {0, 8, 12}};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		env->cfg.partitions[0].nvcpus = cases[i].nvcpus_p0;
		for (int w = 0; w < 2; w++) {
			struct hv_exit ex;
			struct hv_result res;
			init_exit(&ex, w ? HV_EXIT_WRMSR : HV_EXIT_RDMSR, cases[i].part,
			          cases[i].vcpu);
			ex.st.gpr[HV_RCX] = HV_MSR_PAT;
			memset(&res, 0, sizeof(res));
			if (w)
				hv_handle_wrmsr(&env->sys, &ex, &res);
			else
				hv_handle_rdmsr(&env->sys, &ex, &res);
			assert_int_equal(res.action, HV_ACT_HALT);
			assert_int_equal(res.halt_reason, HV_HALT_BAD_EXIT);
		}
	}
	mock_env_free(env);
}

/* A rule count beyond the table (a config never validated) is bounded:
 * the last slot is found, nothing past it is read. */
static void test_msr_rule_count_bounded(void **state)
{
	(void)state;
	struct mock_env *env = env_new(NULL);
	struct hv_partition_config *pc = &env->cfg.partitions[0];
	while (pc->msr.nrules < HV_MAX_MSR_RULES)
		add_rule(env, 0, 0x2000 + pc->msr.nrules, HV_MSR_EMULATED, pc->msr.nrules, 0);
	pc->msr.nrules = HV_MAX_MSR_RULES + 12;
	struct hv_exit ex;
	struct hv_result res;
	init_exit(&ex, HV_EXIT_RDMSR, 0, 1);
	ex.st.gpr[HV_RCX] = 0x2000 + HV_MAX_MSR_RULES - 1;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(ex.st.gpr[HV_RAX], HV_MAX_MSR_RULES - 1);
	init_exit(&ex, HV_EXIT_RDMSR, 0, 1);
	ex.st.gpr[HV_RCX] = 0x2000 + HV_MAX_MSR_RULES;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_INJECT);
	mock_env_free(env);
}

static void test_msr_insn_len(void **state)
{
	(void)state;
	struct mock_env *env = env_new(NULL);
	struct hv_exit ex;
	struct hv_result res;
	init_exit(&ex, HV_EXIT_RDMSR, 0, 0);
	ex.insn_len = 3;
	ex.st.gpr[HV_RCX] = HV_MSR_PAT;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(ex.st.rip, RIP0 + 3);
	init_exit(&ex, HV_EXIT_WRMSR, 0, 0);
	ex.insn_len = 4;
	ex.st.gpr[HV_RCX] = HV_MSR_TSC_AUX;
	ex.st.gpr[HV_RAX] = 1;
	ex.st.gpr[HV_RDX] = 0;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(ex.st.rip, RIP0 + 4);
	mock_env_free(env);
}

/* ---- emulated init values ------------------------------------------------- */

struct init_row {
	uint32_t msr;
	uint64_t value;
	bool ok;
};

static const struct init_row init_rows[] = {
        {HV_MSR_EFER, 0x500, true},
        {HV_MSR_EFER, 0xd01, true},
        {HV_MSR_EFER, 0x1500, false}, /* SVME */
        {HV_MSR_EFER, 0x200, false},  /* reserved bit 9 */
        {HV_MSR_EFER, 1ull << 32, false},
        {HV_MSR_PAT, PAT_INIT, true},
        {HV_MSR_PAT, 0x0007040600070402ull, false}, /* type 2 */
        {HV_MSR_PAT, 0x0007040600070408ull, false}, /* type 8 */
        {HV_MSR_PAT, 0x0307040600070406ull, false}, /* type 3 in entry 7 */
        {HV_MSR_FS_BASE, 0x00007ffffffff000ull, true},
        {HV_MSR_FS_BASE, 0xffff800000000000ull, true},
        {HV_MSR_FS_BASE, 0x0000800000000000ull, false},
        {HV_MSR_LSTAR, 0x00ff000000000000ull, false}, /* 57-bit canonical only */
        {HV_MSR_SYSENTER_EIP, 0x8000000000000000ull, false},
        {HV_MSR_TSC_AUX, 0xffffffffull, true},
        {HV_MSR_TSC_AUX, 0x100000000ull, false},
        {HV_MSR_APIC_BASE, 0xfee00900ull, true},
        {HV_MSR_APIC_BASE, 0xfee00800ull, true},
        {HV_MSR_APIC_BASE, 0xfee00901ull, false},  /* bit 0 */
        {HV_MSR_APIC_BASE, 0xfee00b00ull, false},  /* bit 9 */
        {HV_MSR_APIC_BASE, 0xfee00d00ull, false},  /* x2APIC at reset */
        {HV_MSR_APIC_BASE, 0x1fee00900ull, false}, /* above 4 GiB */
        {0x2000, ~0ull, true},                     /* no architectural rule */
};

/* The validator refuses an init value hv_msr_init_ok refuses, with the MSR
 * named; and every accepted one survives what a guest does at boot: read
 * the MSR and write the value back, on every vCPU, without #GP. */
static void test_msr_init_values(void **state)
{
	(void)state;
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	for (size_t i = 0; i < HV_ARRAY_LEN(init_rows); i++) {
		const struct init_row *row = &init_rows[i];
		if (hv_msr_init_ok(row->msr, row->value) != row->ok)
			fail_msg("MSR %#x init 0x%llx: hv_msr_init_ok says %d", row->msr,
			         (unsigned long long)row->value, !row->ok);
		mock_config_one(cfg);
		struct hv_msr_policy *pol = &cfg->partitions[0].msr;
		struct hv_msr_rule *r = NULL;
		for (uint32_t k = 0; k < pol->nrules; k++)
			if (pol->rules[k].msr == row->msr)
				r = &pol->rules[k];
		if (!r)
			r = &pol->rules[pol->nrules++];
		*r = (struct hv_msr_rule){
		        .msr = row->msr, .mode = HV_MSR_EMULATED, .init = row->value};
		struct hv_config_diag diag;
		hv_status s = hv_config_validate(cfg, &diag);
		if (!row->ok) {
			assert_int_equal(s, HV_ERR_INVAL);
			assert_int_equal(diag.error, HV_CFG_MSR_INIT);
			assert_int_equal(diag.addr, row->msr);
			continue;
		}
		assert_int_equal(s, HV_OK);
		struct mock_env *env = env_new(NULL);
		struct hv_msr_rule *er = find_rule(env, 0, row->msr);
		if (er) {
			*er = *r;
			for (uint32_t v = 0; v < env->cfg.partitions[0].nvcpus; v++)
				env->sys.parts[0]
				        .vcpus[v]
				        .msr_value[er - env->cfg.partitions[0].msr.rules] =
				        row->value;
		} else {
			add_rule(env, 0, row->msr, HV_MSR_EMULATED, row->value, 0);
		}
		for (uint32_t v = 0; v < env->cfg.partitions[0].nvcpus; v++) {
			struct hv_exit ex;
			struct hv_result res;
			init_exit(&ex, HV_EXIT_RDMSR, 0, v);
			ex.st.gpr[HV_RCX] = row->msr;
			hv_handle_exit(&env->sys, &ex, &res);
			assert_int_equal(res.action, HV_ACT_RESUME);
			uint64_t got = ex.st.gpr[HV_RDX] << 32 | (uint32_t)ex.st.gpr[HV_RAX];
			assert_int_equal(got, row->value);
			init_exit(&ex, HV_EXIT_WRMSR, 0, v);
			ex.st.cr0 = CR0_PG;
			ex.st.gpr[HV_RCX] = row->msr;
			ex.st.gpr[HV_RAX] = (uint32_t)got;
			ex.st.gpr[HV_RDX] = got >> 32;
			hv_handle_exit(&env->sys, &ex, &res);
			if (res.action != HV_ACT_RESUME)
				fail_msg("MSR %#x init 0x%llx: writing it back gives %s", row->msr,
				         (unsigned long long)row->value, hv_action_str(res.action));
		}
		mock_env_free(env);
	}
	free(cfg);
}

/* ---- the allow-list and its documentation ---------------------------------- */

/* handlers/docs/msr.md lists the allow-list as table rows
 * "| 0xNN | NAME | pass-r(w) | scope | ...": the same MSRs, names, modes and
 * scopes as hv_msr_pass_list, and nothing else. */
static void test_msr_pass_list_documented(void **state)
{
	(void)state;
	static const char *const scopes[] = {"thread", "core", "package"};
	FILE *f = fopen(HX_SOURCE_DIR "/handlers/docs/msr.md", "r");
	assert_non_null(f);
	uint32_t n;
	const struct hv_msr_pass_entry *list = hv_msr_pass_list(&n);
	bool seen[64] = {false};
	assert_true(n <= HV_ARRAY_LEN(seen));
	uint32_t rows = 0;
	char line[1024];
	bool in_table = false;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "<!-- allow-list -->"))
			in_table = true;
		else if (strstr(line, "<!-- /allow-list -->"))
			in_table = false;
		if (!in_table || strncmp(line, "| 0x", 4) != 0)
			continue;
		unsigned msr;
		char name[64], mode[16], scope[16];
		if (sscanf(line, "| 0x%x | %63s | %15s | %15s |", &msr, name, mode, scope) != 4)
			fail_msg("malformed allow-list row: %s", line);
		rows++;
		uint32_t k = 0;
		while (k < n && list[k].msr != msr)
			k++;
		if (k == n)
			fail_msg("msr.md lists MSR %#x, which the allow-list lacks", msr);
		assert_string_equal(name, list[k].name);
		assert_string_equal(mode, list[k].mode == HV_MSR_PASS_RW ? "pass-rw" : "pass-r");
		assert_string_equal(scope, scopes[list[k].scope]);
		assert_false(seen[k]);
		seen[k] = true;
	}
	fclose(f);
	for (uint32_t k = 0; k < n; k++)
		if (!seen[k])
			fail_msg("allow-list entry %#x (%s) is not in msr.md", list[k].msr,
			         list[k].name);
	assert_int_equal(rows, n);
	for (uint32_t k = 0; k < n; k++) {
		assert_true(hv_msr_pass_allowed(list[k].msr, HV_MSR_PASS_R));
		assert_int_equal(hv_msr_pass_allowed(list[k].msr, HV_MSR_PASS_RW),
		                 list[k].mode == HV_MSR_PASS_RW);
		assert_false(hv_msr_pass_allowed(list[k].msr, HV_MSR_EMULATED));
		/* Readable unless the manual calls it a write-only command,
		 * which the row's reason says in the same words. */
		assert_int_equal(hv_msr_pass_readable(list[k].msr),
		                 strncmp(list[k].why, "write-only", 10) != 0);
		assert_true(strlen(list[k].why) > 10 && strlen(list[k].ref) > 5);
	}
}

/* The refusal names the hazard of the MSRs a deny-list used to let
 * through. */
static void test_msr_refusal_reasons(void **state)
{
	(void)state;
	static const struct {
		uint32_t msr;
		const char *fragment;
	} rows[] = {
	        {0x3b, "TSC_ADJUST"},    {0x600, "DS_AREA"},       {0x560, "Intel PT"},
	        {0x570, "Intel PT"},     {0x6a2, "CET"},           {0xc0010058, "PCIe"},
	        {0x1d9, "DEBUGCTL"},     {0xda0, "XSS"},           {0x6e0, "TSC_DEADLINE"},
	        {0x48, "SPEC_CTRL"},     {0x40a, "machine-check"}, {0x186, "PERFEVTSEL"},
	        {0x12345, "shown safe"},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		const char *why = hv_msr_pass_refusal(rows[i].msr);
		if (!strstr(why, rows[i].fragment))
			fail_msg("MSR %#x: refusal \"%s\" lacks \"%s\"", rows[i].msr, why,
			         rows[i].fragment);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_msr_table),
	        cmocka_unit_test(test_msr_guard_protected),
	        cmocka_unit_test(test_msr_validator_agrees),
	        cmocka_unit_test(test_msr_predicates),
	        cmocka_unit_test(test_msr_host_failure),
	        cmocka_unit_test(test_msr_bad_record),
	        cmocka_unit_test(test_msr_rule_count_bounded),
	        cmocka_unit_test(test_msr_insn_len),
	        cmocka_unit_test(test_msr_init_values),
	        cmocka_unit_test(test_msr_pass_list_documented),
	        cmocka_unit_test(test_msr_refusal_reasons),
	};
	return cmocka_run_group_tests_name("msr", tests, NULL, NULL);
}
