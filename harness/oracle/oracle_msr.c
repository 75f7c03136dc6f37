/* MSR-GUARD for RDMSR/WRMSR exits (the rules on host RDMSR/WRMSR apply to
 * every exit and are checked in oracle_core.c); which MSRs hold a linear
 * address comes from the oracle's own spec (spec_msr.c). */
#include <stdlib.h>
#include <string.h>

#include "hv/cpuid.h"
#include "oracle_internal.h"
#include "spec_msr.h"

#define CPUID7_ECX_LA57 (1u << 16) /* SDM Vol. 2A, CPUID leaf 07H, ECX[16] */

static const struct hv_msr_rule *find_rule(const struct hv_partition_config *pc, uint32_t msr)
{
	for (uint32_t i = 0; i < pc->msr.nrules && i < HV_MAX_MSR_RULES; i++)
		if (pc->msr.rules[i].msr == msr)
			return &pc->msr.rules[i];
	return NULL;
}

/* Canonical for a linear-address width of `bits` (SDM Vol. 1, 3.3.7.1). */
static bool canonical(uint64_t v, unsigned bits)
{
	return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits)) == v;
}

/* Platform ops that answer CPUID with what the host answered during the
 * exit being checked (zeros for a leaf the handler did not ask) and do
 * nothing else: the partition's CPUID is recomputed from the exit's own
 * inputs, without a second call to the real platform (replay serves
 * recorded answers only, and the observer would log the calls). */
static void logged_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct hx_obs_view *log = ctx;
	memset(out, 0, 4 * sizeof(out[0]));
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind == HX_OBS_CPUID && e->id == leaf && e->sub == subleaf) {
			memcpy(out, e->regs, sizeof(e->regs));
			return;
		}
	}
}
static int no_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	return -1;
}
static int no_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	return -1;
}
static int no_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	return -1;
}
static int no_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	return -1;
}
static void no_console(void *ctx, uint32_t partition, const char *buf, uint32_t len) {}
static const struct hv_platform_ops logged_cpuid_ops = {
        .cpuid = logged_cpuid,
        .rdmsr = no_rdmsr,
        .wrmsr = no_wrmsr,
        .phys_read = no_phys_read,
        .phys_write = no_phys_write,
        .console = no_console,
};

/* Linear-address width that address MSRs are checked against: 57 when the
 * partition's CPUID shows 5-level paging (leaf 7 subleaf 0 ECX.16, the leaf
 * being within its maximum basic leaf), else 48, whatever CR4.LA57 is
 * (handlers/docs/msr.md; WRMSR's canonical check depends on the processor's
 * address width, not on the paging mode in use). */
static unsigned address_width(struct hx_oracle *o, const struct hx_obs_view *log)
{
	if (!o->cpuid_sys) {
		o->cpuid_sys = calloc(1, sizeof(*o->cpuid_sys));
		if (!o->cpuid_sys)
			return 57; /* out of memory: only the weaker check */
	}
	struct hv_system *s = o->cpuid_sys;
	s->cfg = o->cfg;
	s->ops = &logged_cpuid_ops;
	s->ops_ctx = (void *)log;
	const struct hv_exit *in = &o->in;
	uint32_t out[4];
	hv_cpuid_query(s, in->partition, in->vcpu, in->st.cr4, 0, 0, out);
	if (out[0] < 7)
		return 48;
	hv_cpuid_query(s, in->partition, in->vcpu, in->st.cr4, 7, 0, out);
	return (out[2] & CPUID7_ECX_LA57) ? 57 : 48;
}

static const char *mode_str(const struct hv_msr_rule *r)
{
	if (!r)
		return "unknown";
	switch (r->mode) {
	case HV_MSR_DENY:
		return "denied";
	case HV_MSR_PASS_R:
		return "pass-read";
	case HV_MSR_PASS_RW:
		return "pass-read-write";
	case HV_MSR_EMULATED:
		return "emulated";
	default:
		return "bad-mode";
	}
}

void oracle_check_msr(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                      const struct hx_obs_view *log)
{
	const struct hv_exit *in = &o->in;
	const struct hv_partition_config *pc = &o->cfg->partitions[in->partition];
	bool is_write = in->reason == HV_EXIT_WRMSR;
	const char *op = is_write ? "WRMSR" : "RDMSR";
	uint32_t msr = (uint32_t)in->st.gpr[HV_RCX];
	const struct hv_msr_rule *rule = find_rule(pc, msr);
	uint8_t mode = rule ? rule->mode : HV_MSR_DENY;
	bool gp = res->action == HV_ACT_INJECT && res->vector == HV_VEC_GP;
	uint32_t host_rd = 0, host_wr = 0;
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind == HX_OBS_RDMSR && e->id == msr)
			host_rd++;
		else if (e->kind == HX_OBS_WRMSR && e->id == msr)
			host_wr++;
	}
	oracle_count(o);

	if (mode == HV_MSR_DENY || (is_write && mode == HV_MSR_PASS_R)) {
		if (!gp)
			oracle_report(o, HV_INV_MSR_GUARD, "%s of %s MSR 0x%x: %s instead of #GP",
			              op, mode_str(rule), msr, hv_action_str(res->action));
		if (host_rd || host_wr)
			oracle_report(o, HV_INV_MSR_GUARD,
			              "%s of %s MSR 0x%x reached the host (%u reads, %u writes)",
			              op, mode_str(rule), msr, host_rd, host_wr);
		return;
	}
	if (mode == HV_MSR_EMULATED && host_wr)
		oracle_report(o, HV_INV_MSR_GUARD, "%s of emulated MSR 0x%x wrote it on the host",
		              op, msr);

	if (!is_write && res->action == HV_ACT_RESUME && mode != HV_MSR_PASS_R &&
	    mode != HV_MSR_PASS_RW) {
		uint64_t val = out->st.gpr[HV_RDX] << 32 | (uint32_t)out->st.gpr[HV_RAX];
		for (uint32_t i = 0; i < log->nentries; i++) {
			const struct hx_obs_entry *e = &log->entries[i];
			if (e->kind == HX_OBS_RDMSR && !e->failed && e->value == val) {
				oracle_report(
				        o, HV_INV_MSR_GUARD,
				        "RDMSR of %s MSR 0x%x returned 0x%llx, the host's value "
				        "of MSR 0x%x",
				        mode_str(rule), msr, (unsigned long long)val, e->id);
				break;
			}
		}
	}
	if (is_write && res->action == HV_ACT_RESUME && spec_msr_is_linear_address(msr)) {
		uint64_t val = in->st.gpr[HV_RDX] << 32 | (uint32_t)in->st.gpr[HV_RAX];
		/* Every 48-bit canonical value is 57-bit canonical too: the
		 * partition's CPUID only matters for the others. */
		unsigned width = canonical(val, 48) ? 48 : address_width(o, log);
		if (!canonical(val, width))
			oracle_report(
			        o, HV_INV_MSR_GUARD,
			        "WRMSR of address MSR 0x%x with 0x%llx, not canonical for the "
			        "partition's %u-bit linear addresses, was granted (hardware "
			        "raises #GP)",
			        msr, (unsigned long long)val, width);
	}
}
