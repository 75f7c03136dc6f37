/* CPUID-MASK: VMX/SVM hidden, hypervisor bit and leaves present, answers
 * zero-extended, and the same inputs always give the same answer. */
#include <string.h>

#include "hv/cpuid.h"
#include "oracle_internal.h"

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
	if (leaf == 1) {
		if (ans[2] & HV_CPUID1_ECX_VMX)
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 1 ECX.VMX[5] visible (ecx 0x%08x)", ans[2]);
		if (!(ans[2] & HV_CPUID1_ECX_HYPERVISOR))
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 1 ECX.hypervisor[31] not set (ecx 0x%08x)", ans[2]);
	} else if (leaf == 0x80000001u) {
		if (ans[2] & HV_CPUID81_ECX_SVM)
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 0x80000001 ECX.SVM[2] visible (ecx 0x%08x)", ans[2]);
	} else if (leaf == HV_CPUID_LEAF_HV_BASE) {
		if (ans[1] != HV_CPUID_SIG_EBX || ans[2] != HV_CPUID_SIG_ECX ||
		    ans[3] != HV_CPUID_SIG_EDX)
			oracle_report(
			        o, HV_INV_CPUID_MASK,
			        "leaf 0x40000000: signature %08x %08x %08x is not the hypervisor's",
			        ans[1], ans[2], ans[3]);
	} else if (leaf == HV_CPUID_LEAF_HV_INFO) {
		if (ans[0] != in->partition)
			oracle_report(o, HV_INV_CPUID_MASK,
			              "leaf 0x40000001: EAX %u is not the partition index %u",
			              ans[0], in->partition);
	}
	check_consistent(o, log, ans);
}
