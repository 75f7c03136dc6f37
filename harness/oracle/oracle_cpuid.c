/* CPUID-MASK: the bits of the oracle's own CPUID specification
 * (spec_cpuid.c: VMX/SMX/SVM/MONITOR hidden, hypervisor bit set, SVM leaf
 * absent), the hypervisor leaves, answers zero-extended, and the same
 * inputs always give the same answer. */
#include <string.h>

#include "oracle_internal.h"
#include "spec_cpuid.h"

/* Everything the answer may depend on: who asks, what, the vCPU's control
 * state and emulated MSRs, and what the host answered during the exit. */
static uint64_t input_key(const struct hx_oracle *o, const struct hx_obs_view *log)
{
	const struct hv_exit *in = &o->in;
	uint64_t h = 0xcbf29ce484222325ull;
	h = oracle_mix(h, (uint64_t)in->partition << 32 | in->vcpu);
	h = oracle_mix(h,
	               (uint64_t)(uint32_t)in->st.gpr[HV_RAX] << 32 | (uint32_t)in->st.gpr[HV_RCX]);
	h = oracle_mix(h, in->st.cr4);
	h = oracle_mix(h, in->st.efer);
	const struct hv_vcpu *v = &o->parts_before[in->partition].vcpus[in->vcpu];
	for (uint32_t i = 0; i < HV_MAX_MSR_RULES; i++)
		h = oracle_mix(h, v->msr_value[i]);
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind == HX_OBS_CPUID) {
			h = oracle_mix(h, (uint64_t)e->id << 32 | e->sub);
			h = oracle_mix(h, (uint64_t)e->regs[0] << 32 | e->regs[1]);
			h = oracle_mix(h, (uint64_t)e->regs[2] << 32 | e->regs[3]);
		} else if (e->kind == HX_OBS_RDMSR) {
			h = oracle_mix(h, (uint64_t)e->id << 1 | e->failed);
			h = oracle_mix(h, e->value);
		}
	}
	return h ? h : 1;
}

static void check_consistent(struct hx_oracle *o, const struct hx_obs_view *log,
                             const uint32_t ans[4])
{
	const struct hv_exit *in = &o->in;
	uint32_t leaf = (uint32_t)in->st.gpr[HV_RAX], sub = (uint32_t)in->st.gpr[HV_RCX];
	uint64_t key = input_key(o, log);
	struct oracle_cpuid_slot *s = &o->cpuid[key & (ORACLE_CPUID_CACHE - 1)];
	oracle_count(o);
	if (s->key == key && s->partition == in->partition && s->vcpu == in->vcpu &&
	    s->leaf == leaf && s->subleaf == sub) {
		if (memcmp(s->answer, ans, sizeof(s->answer)))
			oracle_report(
			        o, HV_INV_CPUID_MASK,
			        "leaf 0x%x subleaf 0x%x: answer %08x %08x %08x %08x differs from "
			        "%08x %08x %08x %08x given earlier for the same inputs",
			        leaf, sub, ans[0], ans[1], ans[2], ans[3], s->answer[0],
			        s->answer[1], s->answer[2], s->answer[3]);
		return;
	}
	*s = (struct oracle_cpuid_slot){.key = key,
	                                .partition = in->partition,
	                                .vcpu = in->vcpu,
	                                .leaf = leaf,
	                                .subleaf = sub};
	memcpy(s->answer, ans, sizeof(s->answer));
}

/* The host's answer to leaf (subleaf 0) as logged during the exit. */
static bool logged_host(const struct hx_obs_view *log, uint32_t leaf, uint32_t *eax)
{
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind == HX_OBS_CPUID && e->id == leaf && e->sub == 0) {
			*eax = e->regs[0];
			return true;
		}
	}
	return false;
}

/* Is leaf within the partition's range? Computed from the host maxima the
 * handler asked for during the exit and the partition's policy. A maximum
 * the handler did not ask for counts as in range, so the in-range rules
 * still apply (the stricter reading). */
static bool leaf_in_range(const struct hx_oracle *o, const struct hx_obs_view *log, uint32_t leaf)
{
	const struct hv_cpuid_policy *pol = &o->cfg->partitions[o->in.partition].cpuid;
	uint32_t host_basic = 0, host_ext = 0, max_basic = 0, max_ext = 0;
	bool ext = leaf >= SPEC_CPUID_EXT_BASE;
	if (!logged_host(log, ext ? SPEC_CPUID_EXT_BASE : 0, ext ? &host_ext : &host_basic))
		return true;
	if (ext)
		host_basic = 1;
	else
		host_ext = 0;
	spec_cpuid_range(host_basic, host_ext, pol->max_basic_leaf, pol->max_ext_leaf, &max_basic,
	                 &max_ext);
	if (!ext)
		return leaf <= max_basic;
	return max_ext != 0 && leaf <= max_ext;
}

static void spec_failed(void *ctx, const struct spec_cpuid_rule *r, const uint32_t ans[4])
{
	struct hx_oracle *o = ctx;
	static const char *const need[] = {"visible", "not set", "not all zeros"};
	oracle_report(o, HV_INV_CPUID_MASK, "leaf 0x%x %s %s (answer %08x %08x %08x %08x): %s (%s)",
	              r->leaf, r->what, need[r->need < 3 ? r->need : 2], ans[0], ans[1], ans[2],
	              ans[3], r->why, r->ref);
}

/* Little-endian word i of the signature string. */
static uint32_t sig_word(int i)
{
	const char *s = SPEC_CPUID_HV_SIGNATURE;
	uint32_t w = 0;
	for (int b = 3; b >= 0; b--)
		w = w << 8 | (uint8_t)s[4 * i + b];
	return w;
}

static void check_hv_leaves(struct hx_oracle *o, uint32_t leaf, const uint32_t ans[4])
{
	const struct hv_exit *in = &o->in;
	if (leaf == SPEC_CPUID_HV_BASE) {
		if (ans[0] != SPEC_CPUID_HV_INFO)
			oracle_report(
			        o, HV_INV_CPUID_MASK,
			        "leaf 0x40000000: EAX 0x%x is not the highest hypervisor leaf "
			        "0x40000001",
			        ans[0]);
		if (ans[1] != sig_word(0) || ans[2] != sig_word(1) || ans[3] != sig_word(2))
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 0x40000000: signature %08x %08x %08x is not \"%s\"",
			              ans[1], ans[2], ans[3], SPEC_CPUID_HV_SIGNATURE);
	} else if (leaf == SPEC_CPUID_HV_INFO) {
		uint32_t n = o->cfg->partitions[in->partition].nvcpus;
		if (ans[0] != in->partition || ans[1] != in->vcpu || ans[2] != n || ans[3] != 0)
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 0x40000001: %08x %08x %08x %08x is not (partition %u, "
			              "vcpu %u, %u vcpus, 0)",
			              ans[0], ans[1], ans[2], ans[3], in->partition, in->vcpu, n);
	}
}

void oracle_check_cpuid(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                        const struct hx_obs_view *log)
{
	if (res->action != HV_ACT_RESUME)
		return;
	const struct hv_exit *in = &o->in;
	uint32_t leaf = (uint32_t)in->st.gpr[HV_RAX];
	static const uint8_t regs[4] = {HV_RAX, HV_RBX, HV_RCX, HV_RDX};
	uint32_t ans[4];
	oracle_count(o);
	for (int i = 0; i < 4; i++) {
		uint64_t r = out->st.gpr[regs[i]];
		ans[i] = (uint32_t)r;
		/* CPUID clears the upper halves in 64-bit mode (SDM Vol. 2A, CPUID). */
		if (r >> 32)
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 0x%x: upper half of %s not cleared (0x%llx)", leaf,
			              hx_gpr_names[regs[i]], (unsigned long long)r);
	}
	/* Only leaves with a rule need the range (and the log scan). */
	bool has_rule = false;
	for (size_t i = 0; i < spec_cpuid_nrules && !has_rule; i++)
		has_rule = spec_cpuid_rules[i].leaf == leaf;
	if (has_rule)
		spec_cpuid_check(leaf, leaf_in_range(o, log, leaf), ans, spec_failed, o);
	check_hv_leaves(o, leaf, ans);
	check_consistent(o, log, ans);
}
