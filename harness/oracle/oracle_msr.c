/* MSR-GUARD for RDMSR/WRMSR exits (the host-WRMSR-of-a-protected-MSR rule
 * applies to every exit and is checked in oracle_core.c). */
#include "hv/msr.h"
#include "oracle_internal.h"

static const struct hv_msr_rule *find_rule(const struct hv_partition_config *pc, uint32_t msr)
{
	for (uint32_t i = 0; i < pc->msr.nrules && i < HV_MAX_MSR_RULES; i++)
		if (pc->msr.rules[i].msr == msr)
			return &pc->msr.rules[i];
	return NULL;
}

/* Canonical for the guest's linear-address width (SDM Vol. 3A, 3.3.7.1;
 * 57 bits with CR4.LA57, bit 12). */
static bool canonical(uint64_t v, uint64_t cr4)
{
	unsigned bits = (cr4 & (1ull << 12)) ? 57 : 48;
	return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits)) == v;
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
	if (is_write && res->action == HV_ACT_RESUME && hv_msr_is_address(msr)) {
		uint64_t val = in->st.gpr[HV_RDX] << 32 | (uint32_t)in->st.gpr[HV_RAX];
		if (!canonical(val, in->st.cr4))
			oracle_report(
			        o, HV_INV_MSR_GUARD,
			        "WRMSR of address MSR 0x%x with non-canonical 0x%llx was granted "
			        "(hardware raises #GP)",
			        msr, (unsigned long long)val);
	}
}
