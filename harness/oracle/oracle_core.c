/* Oracle state, snapshots and the checks that apply to every exit: the
 * record, registers, RIP, platform calls (memory, console, host MSRs, EPT
 * notices) and hypervisor state. Family-specific checks live in
 * oracle_cpuid.c, oracle_msr.c and oracle_hcall.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hcall.h"
#include "oracle_internal.h"
#include "spec_msr.h"

const char *const hx_gpr_names[HV_GPR_COUNT] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

void oracle_report(struct hx_oracle *o, enum hv_invariant inv, const char *fmt, ...)
{
	o->stats.violations++;
	if ((unsigned)inv < HV_INV_COUNT)
		o->stats.per_inv[inv]++;
	o->exit_violations++;
	if (!o->fn)
		return;
	char msg[HX_ORACLE_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->fn(o->ctx, inv, o->index, msg);
}

/* ---- ownership of host memory ---- */

static void add_span(struct hx_oracle *o, uint32_t *n, uint64_t base, uint64_t size)
{
	o->wspans[(*n)++] = (struct oracle_span){base, size};
}

/* Writable spans: RAM regions with W, channels the partition is an RW member
 * of. Readable spans (for reads) are every RAM region and every channel it is
 * a member of; they are looked up directly in the config. */
static bool build_spans(struct hx_oracle *o)
{
	const struct hv_system_config *cfg = o->cfg;
	uint32_t total = 0;
	for (uint32_t p = 0; p < o->nparts; p++)
		total += cfg->partitions[p].nregions + cfg->partitions[p].nchannels;
	o->wspans = calloc(total ? total : 1, sizeof(*o->wspans));
	o->wspan_first = calloc(o->nparts ? o->nparts : 1, sizeof(uint32_t));
	o->wspan_count = calloc(o->nparts ? o->nparts : 1, sizeof(uint32_t));
	if (!o->wspans || !o->wspan_first || !o->wspan_count)
		return false;
	uint32_t n = 0;
	for (uint32_t p = 0; p < o->nparts; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		o->wspan_first[p] = n;
		for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++) {
			const struct hv_region *r = &pc->regions[i];
			if (r->type == HV_REGION_RAM && (r->perm & HV_PERM_W))
				add_span(o, &n, r->hpa, r->size);
		}
		for (uint32_t i = 0; i < pc->nchannels && i < HV_MAX_CHANNELS; i++) {
			const struct hv_channel_member *m = &pc->channels[i];
			if ((m->perm & HV_PERM_W) && m->channel < cfg->nchannels)
				add_span(o, &n, cfg->channels[m->channel].hpa,
				         cfg->channels[m->channel].size);
		}
		o->wspan_count[p] = n - o->wspan_first[p];
	}
	return true;
}

bool oracle_writable(const struct hx_oracle *o, uint32_t p, uint64_t hpa, uint64_t len)
{
	if (p >= o->nparts)
		return false;
	const struct oracle_span *s = &o->wspans[o->wspan_first[p]];
	for (uint32_t i = 0; i < o->wspan_count[p]; i++)
		if (hv_range_ok(hpa, len ? len : 1) &&
		    hv_range_inside(hpa, len ? len : 1, s[i].base, s[i].size))
			return true;
	return false;
}

static bool readable(const struct hx_oracle *o, uint32_t p, uint64_t hpa, uint64_t len)
{
	if (p >= o->nparts)
		return false;
	const struct hv_system_config *cfg = o->cfg;
	const struct hv_partition_config *pc = &cfg->partitions[p];
	if (!hv_range_ok(hpa, len ? len : 1))
		return false;
	for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type == HV_REGION_RAM &&
		    hv_range_inside(hpa, len ? len : 1, r->hpa, r->size))
			return true;
	}
	for (uint32_t i = 0; i < pc->nchannels && i < HV_MAX_CHANNELS; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		if (m->channel < cfg->nchannels &&
		    hv_range_inside(hpa, len ? len : 1, cfg->channels[m->channel].hpa,
		                    cfg->channels[m->channel].size))
			return true;
	}
	return false;
}

void oracle_describe_hpa(const struct hx_oracle *o, uint64_t hpa, char *buf, size_t len)
{
	const struct hv_system_config *cfg = o->cfg;
	if (hpa >= cfg->hv_base && hpa - cfg->hv_base < cfg->hv_size) {
		snprintf(buf, len, "%s",
		         o->pool && hv_pool_owns(o->pool, hpa) ? "an EPT table page"
		                                               : "hypervisor memory");
		return;
	}
	for (uint32_t p = 0; p < o->nparts; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++) {
			const struct hv_region *r = &pc->regions[i];
			if (hpa >= r->hpa && hpa - r->hpa < r->size) {
				snprintf(buf, len, "partition %u (%.*s) %s region %u", p,
				         HV_NAME_LEN, pc->name,
				         r->type == HV_REGION_RAM ? "RAM" : "MMIO", i);
				return;
			}
		}
	}
	for (uint32_t c = 0; c < cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		const struct hv_channel_config *ch = &cfg->channels[c];
		if (hpa >= ch->hpa && hpa - ch->hpa < ch->size) {
			snprintf(buf, len, "channel %u (%.*s)", c, HV_NAME_LEN, ch->name);
			return;
		}
	}
	snprintf(buf, len, "%s",
	         hpa >= cfg->host_mem_size ? "beyond host memory" : "unowned memory");
}

/* ---- life cycle ---- */

struct hx_oracle *hx_oracle_new(const struct hv_system *sys, hx_oracle_report_fn fn, void *ctx)
{
	struct hx_oracle *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->cfg = sys->cfg;
	o->pool = sys->pool;
	o->fn = fn;
	o->ctx = ctx;
	o->nparts = sys->cfg->npartitions > HV_MAX_PARTITIONS ? HV_MAX_PARTITIONS
	                                                      : sys->cfg->npartitions;
	o->parts_before = calloc(o->nparts ? o->nparts : 1, sizeof(*o->parts_before));
	o->vparts = calloc(o->nparts ? o->nparts : 1, sizeof(*o->vparts));
	if (!o->parts_before || !o->vparts || !build_spans(o)) {
		hx_oracle_free(o);
		return NULL;
	}
	o->pool_hpa = sys->pool ? sys->pool->hpa : 0;
	o->pool_npages = sys->pool ? sys->pool->npages : 0;
	o->sys = sys;
	if (!sys->pool || !oracle_pool_init(o, sys)) {
		hx_oracle_free(o);
		return NULL;
	}
	oracle_check_system(o);
	return o;
}

void hx_oracle_free(struct hx_oracle *o)
{
	if (!o)
		return;
	free(o->wspans);
	free(o->wspan_first);
	free(o->wspan_count);
	free(o->parts_before);
	free(o->vparts);
	free(o->vseen);
	free(o->cpuid_sys);
	oracle_pool_free(o);
	free(o);
}

void hx_oracle_reset(struct hx_oracle *o)
{
	memset(o->cpuid, 0, sizeof(o->cpuid));
	memset(&o->stats, 0, sizeof(o->stats));
	oracle_sync(o, o->sys);
}

void hx_oracle_reset_restored(struct hx_oracle *o)
{
	memset(o->cpuid, 0, sizeof(o->cpuid));
	memset(&o->stats, 0, sizeof(o->stats));
	oracle_sync_restored(o, o->sys);
}

void hx_oracle_sync(struct hx_oracle *o, const struct hv_system *sys)
{
	oracle_sync(o, sys);
}

void hx_oracle_stats(const struct hx_oracle *o, struct hx_oracle_stats *out)
{
	*out = o->stats;
}

void hx_oracle_before(struct hx_oracle *o, const struct hv_system *sys, const struct hv_exit *in)
{
	/* The partitions' state and the pool are not copied: the oracle's
	 * picture of them (oracle_pool.c) is what they were when the exit
	 * began. */
	o->in = *in;
	o->in_valid = !oracle_record_problem(o, in, o->in_problem, sizeof(o->in_problem));
	memcpy(o->chans_before, sys->channels, sizeof(o->chans_before));
	o->pool_used_before = sys->pool->used;
	oracle_watch_arm(o, sys);
}

/* ---- generic checks ---- */

static void check_total(struct hx_oracle *o, const struct hx_obs_view *log)
{
	oracle_count(o);
	if (log->overflow)
		oracle_report(o, HV_INV_TOTAL,
		              "%u platform calls not recorded: more than %u calls or %u bytes of "
		              "data in one exit",
		              log->overflow, HX_OBS_MAX_ENTRIES, HX_OBS_MAX_DATA);
}

static void check_record(struct hx_oracle *o, const struct hv_exit *out)
{
	const struct hv_exit *in = &o->in;
	oracle_count(o);
	if (out->reason != in->reason || out->partition != in->partition || out->vcpu != in->vcpu ||
	    out->insn_len != in->insn_len || out->qual != in->qual || out->gpa != in->gpa ||
	    out->gla != in->gla)
		oracle_report(
		        o, HV_INV_CONTAIN,
		        "the exit record itself (reason/partition/vcpu/insn_len/qual/gpa/gla) "
		        "was changed by the handler");
}

/* GPRs an exit of this kind may change when it completes (RESUME). */
static uint32_t gpr_allow_mask(const struct hv_exit *in, const struct hv_result *res)
{
	if (res->action != HV_ACT_RESUME)
		return 0;
	switch (in->reason) {
	case HV_EXIT_CPUID:
		return 1u << HV_RAX | 1u << HV_RBX | 1u << HV_RCX | 1u << HV_RDX;
	case HV_EXIT_RDMSR:
		return 1u << HV_RAX | 1u << HV_RDX;
	case HV_EXIT_VMCALL:
		return 1u << HV_RAX | 1u << HV_RDI;
	case HV_EXIT_EPT_VIOLATION:
		if (res->has_mmio && !res->mmio.is_write && res->mmio.reg < HV_GPR_COUNT)
			return 1u << res->mmio.reg;
		return 0;
	case HV_EXIT_IO: /* IN: the width is IO-GUARD's (oracle_io.c) */
		return (in->qual & HV_QUAL_IO_IN) ? 1u << HV_RAX : 0;
	default:
		return 0;
	}
}

static void check_regs(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res)
{
	const struct hv_vcpu_state *a = &o->in.st, *b = &out->st;
	const char *why = hv_exit_reason_str(o->in.reason);
	oracle_count(o);
	uint32_t allow = o->in_valid ? gpr_allow_mask(&o->in, res) : 0;
	for (uint32_t r = 0; r < HV_GPR_COUNT; r++) {
		if (a->gpr[r] == b->gpr[r] || (allow & (1u << r)))
			continue;
		oracle_report(o, HV_INV_CONTAIN,
		              "%s exit (%s) changed %s: 0x%llx -> 0x%llx, which it may not", why,
		              hv_action_str(res->action), hx_gpr_names[r],
		              (unsigned long long)a->gpr[r], (unsigned long long)b->gpr[r]);
	}
	static const struct {
		const char *name;
		size_t off;
	} ctl[] = {
	        {"rflags", offsetof(struct hv_vcpu_state, rflags)},
	        {"cr0", offsetof(struct hv_vcpu_state, cr0)},
	        {"cr3", offsetof(struct hv_vcpu_state, cr3)},
	        {"cr4", offsetof(struct hv_vcpu_state, cr4)},
	        {"efer", offsetof(struct hv_vcpu_state, efer)},
	};
	/* A CR write that was resumed may change CR0 or CR4: CR-GUARD judges
	 * how (oracle_cr.c). */
	bool cr_write = o->in.reason == HV_EXIT_CR_WRITE && res->action == HV_ACT_RESUME;
	for (size_t i = 0; i < HV_ARRAY_LEN(ctl); i++) {
		uint64_t x, y;
		memcpy(&x, (const uint8_t *)a + ctl[i].off, sizeof(x));
		memcpy(&y, (const uint8_t *)b + ctl[i].off, sizeof(y));
		if (cr_write && (ctl[i].off == offsetof(struct hv_vcpu_state, cr0) ||
		                 ctl[i].off == offsetof(struct hv_vcpu_state, cr4)))
			continue;
		if (x != y)
			oracle_report(
			        o, HV_INV_CONTAIN,
			        "%s exit changed %s: 0x%llx -> 0x%llx (control state is never "
			        "changed by a handler)",
			        why, ctl[i].name, (unsigned long long)x, (unsigned long long)y);
	}
	if (a->cpl != b->cpl)
		oracle_report(o, HV_INV_CONTAIN, "%s exit changed the CPL: %u -> %u", why, a->cpl,
		              b->cpl);
}

/* Length of the instruction that caused the exit, 0 when it has none. */
static uint32_t expected_len(const struct hv_exit *in, const struct hv_result *res)
{
	switch (in->reason) {
	case HV_EXIT_CPUID: /* 0F A2 (SDM Vol. 2A, CPUID) */
	case HV_EXIT_RDMSR: /* 0F 32 (SDM Vol. 2B, RDMSR) */
	case HV_EXIT_WRMSR: /* 0F 30 (SDM Vol. 2B, WRMSR) */
		return in->insn_len ? in->insn_len : 2;
	case HV_EXIT_VMCALL: /* 0F 01 C1 / 0F 01 D9 */
		return in->insn_len ? in->insn_len : 3;
	case HV_EXIT_EPT_VIOLATION:
		return res->has_mmio ? res->mmio.insn_len : 0;
	case HV_EXIT_IO:       /* IN/OUT come in several lengths: the platform's */
	case HV_EXIT_CR_WRITE: /* MOV CR 3 or more, CLTS 2, LMSW 3 or more: the platform's */
		return in->insn_len;
	default:
		return 0;
	}
}

static void check_rip(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res)
{
	const struct hv_exit *in = &o->in;
	oracle_count(o);
	if (res->action >= HV_ACT_COUNT) {
		oracle_report(o, HV_INV_RIP, "unknown action %u", res->action);
		return;
	}
	if (res->action != HV_ACT_RESUME) {
		if (out->st.rip != in->st.rip)
			oracle_report(o, HV_INV_RIP,
			              "%s: rip moved 0x%llx -> 0x%llx although the "
			              "instruction did not complete",
			              hv_action_str(res->action), (unsigned long long)in->st.rip,
			              (unsigned long long)out->st.rip);
		return;
	}
	if (out->st.rip != in->st.rip + res->insn_len)
		oracle_report(o, HV_INV_RIP, "resume: rip 0x%llx, expected 0x%llx + insn_len %u",
		              (unsigned long long)out->st.rip, (unsigned long long)in->st.rip,
		              res->insn_len);
	if (!o->in_valid)
		return;
	uint32_t want = expected_len(in, res);
	if (want == 0)
		oracle_report(o, HV_INV_RIP,
		              "%s exit resumed past an instruction it cannot have "
		              "completed (insn_len %u)",
		              hv_exit_reason_str(in->reason), res->insn_len);
	else if (res->insn_len != want || want > 15)
		oracle_report(o, HV_INV_RIP,
		              "%s exit advanced rip by %u bytes, the instruction is "
		              "%u bytes",
		              hv_exit_reason_str(in->reason), res->insn_len, want);
}

/* Is gpa inside an emulated console device of partition p? */
static bool in_console_device(const struct hx_oracle *o, uint32_t p, uint64_t gpa)
{
	const struct hv_partition_config *pc = &o->cfg->partitions[p];
	for (uint32_t i = 0; i < pc->ndevices && i < HV_MAX_DEVICES; i++)
		if (pc->devices[i].type == HV_DEV_CONSOLE && gpa >= pc->devices[i].gpa &&
		    gpa - pc->devices[i].gpa < pc->devices[i].size)
			return true;
	return false;
}

static void check_calls(struct hx_oracle *o, const struct hx_obs_view *log)
{
	const struct hv_exit *in = &o->in;
	uint32_t p = in->partition;
	const char *why = hv_exit_reason_str(in->reason);
	char owner[96];
	oracle_count(o);
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		switch (e->kind) {
		case HX_OBS_PHYS_READ:
			if (!readable(o, p, e->addr, e->len)) {
				oracle_describe_hpa(o, e->addr, owner, sizeof(owner));
				oracle_report(
				        o, HV_INV_CONTAIN,
				        "%s exit of partition %u read %u bytes at hpa 0x%llx (%s), "
				        "outside its own memory",
				        why, p, e->len, (unsigned long long)e->addr, owner);
			}
			break;
		case HX_OBS_PHYS_WRITE:
			if (!oracle_writable(o, p, e->addr, e->len)) {
				oracle_describe_hpa(o, e->addr, owner, sizeof(owner));
				oracle_report(o, HV_INV_CONTAIN,
				              "%s exit of partition %u wrote %u bytes at hpa "
				              "0x%llx (%s), "
				              "outside its own writable memory",
				              why, p, e->len, (unsigned long long)e->addr, owner);
			} else if (in->reason != HV_EXIT_VMCALL) {
				oracle_report(
				        o, HV_INV_CONTAIN,
				        "%s exit wrote guest memory (%u bytes at hpa 0x%llx); only "
				        "hypercalls write guest memory",
				        why, e->len, (unsigned long long)e->addr);
			}
			break;
		case HX_OBS_WRMSR:
			/* The oracle's own MSR spec decides, not the handlers'
			 * tables: only MSRs it classifies as safe may be written on
			 * the host for a partition; unknown ones are unsafe. */
			if (!spec_msr_host_write_ok(e->id))
				oracle_report(o, HV_INV_MSR_GUARD,
				              "%s exit wrote MSR 0x%x (%s) on the host (value "
				              "0x%llx%s): %s",
				              why, e->id, spec_msr_name(e->id),
				              (unsigned long long)e->value,
				              e->failed ? ", the host refused it" : "",
				              spec_msr_write_reason(e->id));
			break;
		case HX_OBS_RDMSR:
			if (!spec_msr_host_read_ok(e->id))
				oracle_report(o, HV_INV_MSR_GUARD,
				              "%s exit read MSR 0x%x (%s) on the host: %s", why,
				              e->id, spec_msr_name(e->id),
				              spec_msr_read_reason(e->id));
			break;
		case HX_OBS_CONSOLE:
			if (e->id != p)
				oracle_report(o, HV_INV_CONTAIN,
				              "console output tagged partition %u from an exit of "
				              "partition %u",
				              e->id, p);
			else if (in->reason != HV_EXIT_VMCALL &&
			         in->reason != HV_EXIT_IO && /* a UART: IO-GUARD judges it */
			         !(in->reason == HV_EXIT_EPT_VIOLATION && p < o->nparts &&
			           in_console_device(o, p, in->gpa)))
				oracle_report(o, HV_INV_CONTAIN,
				              "%s exit produced console output (%u bytes)", why,
				              e->len);
			break;
		case HX_OBS_EPT_CHANGED:
			if (e->id != p || in->reason != HV_EXIT_VMCALL)
				oracle_report(o, HV_INV_CONTAIN,
				              "%s exit of partition %u announced an EPT change of "
				              "partition %u",
				              why, p, e->id);
			break;
		default:
			break;
		}
	}
}

/* Name the first field of a partition's state that differs. */
static const char *partition_diff(const struct hv_partition *a, const struct hv_partition *b)
{
	if (a->ept_root != b->ept_root)
		return "ept_root";
	if (a->halted != b->halted)
		return "halted";
	if (a->protected_ != b->protected_)
		return "protected_";
	if (a->yields != b->yields)
		return "yields";
	if (memcmp(a->vcpus, b->vcpus, sizeof(a->vcpus)))
		return "vcpus[].msr_value";
	if (memcmp(a->devices, b->devices, sizeof(a->devices)))
		return "devices[]";
	return NULL;
}

static bool hcall_ok(const struct hx_oracle *o, const struct hv_exit *out,
                     const struct hv_result *res, uint64_t nr)
{
	return o->in_valid && o->in.reason == HV_EXIT_VMCALL && o->in.st.cpl == 0 &&
	       o->in.st.gpr[HV_RAX] == nr && res->action == HV_ACT_RESUME &&
	       out->st.gpr[HV_RAX] == 0;
}

static void check_own_partition(struct hx_oracle *o, const struct hv_system *sys,
                                const struct hv_exit *out, const struct hv_result *res)
{
	const struct hv_exit *in = &o->in;
	uint32_t p = in->partition;
	const struct hv_partition *a = &o->parts_before[p], *b = &sys->parts[p];
	/* Changes allowed only to a successful hypercall are hypercall-bounds
	 * violations when the exit was a hypercall, containment otherwise. */
	enum hv_invariant hinv =
	        in->reason == HV_EXIT_VMCALL ? HV_INV_HCALL_BOUNDS : HV_INV_CONTAIN;
	const char *why = hv_exit_reason_str(in->reason);

	/* Nothing to compare when oracle_pool_diff found every partition
	 * byte for byte unchanged; only a halt must show in the state. */
	if (!o->parts_changed && res->action != HV_ACT_HALT)
		return;
	if (a->ept_root != b->ept_root)
		oracle_report(o, HV_INV_CONTAIN, "%s exit replaced the EPT root of partition %u",
		              why, p);
	if (res->action == HV_ACT_HALT) {
		if (b->halted != res->halt_reason && a->halted == HV_HALT_NONE)
			oracle_report(o, HV_INV_CONTAIN,
			              "partition %u halted (%s) but its state says %s", p,
			              hv_halt_reason_str(res->halt_reason),
			              hv_halt_reason_str(b->halted));
	} else if (a->halted != b->halted) {
		oracle_report(o, HV_INV_CONTAIN,
		              "%s exit changed partition %u's halt state to %s "
		              "without halting it",
		              why, p, hv_halt_reason_str(b->halted));
	}
	if (a->protected_ != b->protected_ && !hcall_ok(o, out, res, HV_HC_MEM_PROTECT))
		oracle_report(o, hinv, "%s exit changed the protected flag of partition %u", why,
		              p);
	if (a->yields != b->yields && !hcall_ok(o, out, res, HV_HC_YIELD))
		oracle_report(o, hinv, "%s exit changed the yield count of partition %u", why, p);
	bool vcpus_same = !memcmp(a->vcpus, b->vcpus, sizeof(a->vcpus));
	for (uint32_t v = 0; v < HV_MAX_VCPUS && !vcpus_same; v++) {
		if (!memcmp(&a->vcpus[v], &b->vcpus[v], sizeof(a->vcpus[v])))
			continue;
		if (v == in->vcpu && in->reason == HV_EXIT_WRMSR && res->action == HV_ACT_RESUME)
			continue;
		oracle_report(o, v == in->vcpu ? HV_INV_MSR_GUARD : HV_INV_CONTAIN,
		              "%s exit (%s) of vcpu %u changed emulated MSR state of vcpu %u", why,
		              hv_action_str(res->action), in->vcpu, v);
	}
	if (memcmp(a->devices, b->devices, sizeof(a->devices)) &&
	    in->reason != HV_EXIT_EPT_VIOLATION)
		oracle_report(o, HV_INV_CONTAIN, "%s exit changed emulated device state", why);
	if (memcmp(a->io, b->io, sizeof(a->io)) &&
	    (in->reason != HV_EXIT_IO || res->action != HV_ACT_RESUME))
		oracle_report(o, in->reason == HV_EXIT_IO ? HV_INV_IO_GUARD : HV_INV_CONTAIN,
		              "%s exit (%s) changed port-I/O device state", why,
		              hv_action_str(res->action));
}

static void check_state(struct hx_oracle *o, const struct hv_system *sys, const struct hv_exit *out,
                        const struct hv_result *res)
{
	const struct hv_exit *in = &o->in;
	const char *why = hv_exit_reason_str(in->reason);
	oracle_count(o);
	if (in->partition < o->nparts)
		check_own_partition(o, sys, out, res);
	/* Other partitions are looked at only when the state compare found
	 * a difference (oracle_pool_diff: every partition, byte for byte). */
	for (uint32_t q = 0; q < o->nparts && o->parts_changed; q++) {
		if (q == in->partition)
			continue;
		const char *f = partition_diff(&o->parts_before[q], &sys->parts[q]);
		if (f)
			oracle_report(o, HV_INV_CONTAIN,
			              "%s exit of partition %u changed the state of partition %u "
			              "(%.*s): %s",
			              why, in->partition, q, HV_NAME_LEN,
			              o->cfg->partitions[q].name, f);
	}

	/* Channel mailboxes: only the one a successful send/recv used. */
	uint64_t ch = in->st.gpr[HV_RDI];
	bool mail_ok = hcall_ok(o, out, res, HV_HC_CHANNEL_SEND) ||
	               hcall_ok(o, out, res, HV_HC_CHANNEL_RECV);
	/* One compare of all 16 first: most exits change none, and each
	 * memcmp is a call through the sanitizers' interceptors (16 of them
	 * were a twelfth of the hypercall target's time). */
	bool chans_same = !memcmp(o->chans_before, sys->channels, sizeof(o->chans_before));
	for (uint32_t c = 0; c < HV_MAX_CHANNELS && !chans_same; c++) {
		if (!memcmp(&o->chans_before[c], &sys->channels[c], sizeof(sys->channels[c])))
			continue;
		if (mail_ok && c == ch)
			continue;
		oracle_report(o,
		              in->reason == HV_EXIT_VMCALL ? HV_INV_HCALL_BOUNDS : HV_INV_CONTAIN,
		              "%s exit of partition %u changed the mailbox of channel %u", why,
		              in->partition, c);
	}

	/* The page pool grows only when memory-protect splits a large page. */
	uint32_t used = sys->pool->used;
	if (used != o->pool_used_before &&
	    !(hcall_ok(o, out, res, HV_HC_MEM_PROTECT) && used > o->pool_used_before)) {
		enum hv_invariant inv = in->reason == HV_EXIT_EPT_VIOLATION ? HV_INV_EPT_EXACT
		                        : in->reason == HV_EXIT_VMCALL      ? HV_INV_HCALL_BOUNDS
		                                                            : HV_INV_CONTAIN;
		oracle_report(o, inv, "%s exit changed the EPT page pool: %u -> %u pages used", why,
		              o->pool_used_before, used);
	}
}

/* The EPT tables may change only by a successful memory-protect, and then
 * the exiting partition's mapping only inside the range it named. Every
 * exit is checked, byte for byte over the pool pages in use (the picture
 * of oracle_pool.c holds them as they were when the exit began). */
static void check_ept_change(struct hx_oracle *o, const struct hv_system *sys,
                             const struct hv_exit *out, const struct hv_result *res)
{
	const struct hv_exit *in = &o->in;
	oracle_count(o);
	if (!o->tables_changed)
		return;
	/* Whatever the exit, the tables of another partition are never its
	 * to change (a memory-protect that also reduces another partition's
	 * permissions passes that partition's verification once it is
	 * protected: only the owner map shows it). */
	uint32_t pg, q = oracle_foreign_change(o, in->partition, &pg);
	if (q != ORACLE_OWNER_NONE) {
		oracle_count(o);
		oracle_report(o, HV_INV_CONTAIN,
		              "%s exit of partition %u changed EPT table page %u (hpa 0x%llx) of "
		              "partition %u (%.*s)",
		              hv_exit_reason_str(in->reason), in->partition, pg,
		              (unsigned long long)(o->pool_hpa + ((uint64_t)pg << HV_PAGE_SHIFT)),
		              q, HV_NAME_LEN, o->cfg->partitions[q].name);
	}
	if (in->reason == HV_EXIT_EPT_VIOLATION) {
		oracle_report(
		        o, HV_INV_EPT_EXACT,
		        "EPT tables changed while handling an EPT violation of partition %u at "
		        "gpa 0x%llx",
		        in->partition, (unsigned long long)in->gpa);
		return;
	}
	if (in->reason != HV_EXIT_VMCALL) {
		oracle_report(o, HV_INV_CONTAIN,
		              "%s exit of partition %u changed EPT tables (%u pool pages)",
		              hv_exit_reason_str(in->reason), in->partition, o->nchanged);
		return;
	}
	if (!hcall_ok(o, out, res, HV_HC_MEM_PROTECT)) {
		oracle_report(
		        o, HV_INV_HCALL_BOUNDS,
		        "hypercall %llu (status %lld) changed EPT tables (exit of partition %u)",
		        (unsigned long long)in->st.gpr[HV_RAX], (long long)out->st.gpr[HV_RAX],
		        in->partition);
		return;
	}
	/* The mapping before the exit is walked in the picture of the pool,
	 * with the root the partition had then. */
	uint32_t p = in->partition;
	uint64_t gpa = in->st.gpr[HV_RDI], size = in->st.gpr[HV_RSI];
	if (oracle_protect_outside(o, sys, p, gpa, size))
		oracle_report(o, HV_INV_HCALL_BOUNDS,
		              "memory-protect of [0x%llx, +0x%llx) changed the EPT of partition %u "
		              "outside that range",
		              (unsigned long long)gpa, (unsigned long long)size, p);
}

uint32_t hx_oracle_after(struct hx_oracle *o, const struct hv_system *sys, uint64_t exit_index,
                         const struct hv_exit *out, const struct hv_result *res,
                         const struct hx_obs_view *log)
{
	oracle_watch_stop(o);
	o->index = exit_index;
	o->exit_violations = 0;
	o->stats.exits++;

	oracle_check_caller(o, sys);
	check_total(o, log);
	check_record(o, out);
	check_regs(o, out, res);
	check_rip(o, out, res);
	check_calls(o, log);
	oracle_pool_diff_exit(o, sys);
	check_state(o, sys, out, res);
	check_ept_change(o, sys, out, res);

	const struct hv_exit *in = &o->in;
	bool was_halted = o->in_valid && o->parts_before[in->partition].halted != HV_HALT_NONE;
	if (!o->in_valid || was_halted) {
		oracle_count(o);
		if (res->action != HV_ACT_HALT && was_halted)
			oracle_report(o, HV_INV_CONTAIN,
			              "exit of a halted partition (%s) was not refused: action %s",
			              hv_exit_reason_str(in->reason), hv_action_str(res->action));
		else if (res->action != HV_ACT_HALT)
			oracle_report(o, HV_INV_CONTAIN,
			              "malformed exit record (%s: %s; hv/exit.h) was not refused: "
			              "action %s",
			              hv_exit_reason_str(in->reason), o->in_problem,
			              hv_action_str(res->action));
		if (log->nentries)
			oracle_report(o, HV_INV_CONTAIN, "%s made %u platform calls",
			              was_halted ? "exit of a halted partition"
			                         : "malformed exit record",
			              log->nentries);
		oracle_ept_after(o, sys, false);
		return o->exit_violations;
	}
	switch (in->reason) {
	case HV_EXIT_CPUID:
		oracle_check_cpuid(o, out, res, log);
		break;
	case HV_EXIT_RDMSR:
	case HV_EXIT_WRMSR:
		oracle_check_msr(o, out, res, log);
		break;
	case HV_EXIT_VMCALL:
		oracle_check_hcall(o, sys, out, res, log);
		break;
	case HV_EXIT_IO:
		oracle_check_io(o, out, res, log);
		break;
	case HV_EXIT_CR_WRITE:
		oracle_check_cr(o, out, res);
		break;
	case HV_EXIT_EPT_VIOLATION:
		if (res->action == HV_ACT_RESUME && !in_console_device(o, in->partition, in->gpa)) {
			oracle_count(o);
			oracle_report(
			        o, HV_INV_CONTAIN,
			        "EPT violation at gpa 0x%llx outside every emulated device was "
			        "resumed instead of contained",
			        (unsigned long long)in->gpa);
		}
		break;
	default:
		break;
	}
	/* EPT-OWN/FORM/EXACT for the partitions whose tables, root or flag
	 * this exit changed, then the picture takes the new state. */
	oracle_ept_after(o, sys, in->reason == HV_EXIT_VMCALL);
	return o->exit_violations;
}

uint32_t hx_oracle_verify_all(struct hx_oracle *o, const struct hv_system *sys, uint64_t exit_index)
{
	o->index = exit_index;
	o->exit_violations = 0;
	return oracle_verify_all(o, sys);
}
