/* VMCALL / VMMCALL: the hypercall ABI of hv/hcall.h (user documentation in
 * handlers/docs/hypercalls.md).
 *
 * Every call is checked completely before it has any effect: arguments,
 * then guest buffers (against the config: the caller's own RAM or a channel
 * window it belongs to, with the configured permission; then against the
 * EPT as currently mapped, which memory-protect may have reduced), then the
 * state of the object it acts on. Only then is anything copied or changed,
 * so a failing call leaves guest memory, channels, the console and every
 * register but RAX as they were. */
#include "hv/hcall.h"

#include "hv/ept.h"
#include "hv/guest_mem.h"
#include "hv/handlers.h"

/* VMCALL is 0F 01 C1 (Intel SDM Vol. 2B, VMCALL), VMMCALL is 0F 01 D9 (AMD
 * APM Vol. 3, VMMCALL): both 3 bytes, used when the exit does not say. */
#define HCALL_INSN_LEN 3u

/* One hypercall in progress: the caller and its arguments in, results out. */
struct hcall {
	struct hv_system *sys;
	const struct hv_partition_config *pc;
	uint32_t part;
	uint32_t vcpu;
	uint64_t arg[4]; /* RDI, RSI, RDX, R10 */
	uint64_t result; /* returned in RDI when has_result */
	bool has_result;
	uint32_t halt; /* enum hv_halt_reason: the call ends the partition's run */
};

typedef int64_t (*hcall_fn)(struct hcall *hc);

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The GPA window of the caller that contains gpa, if any: one of its RAM
 * regions, or (when with_channels) one of its channel windows. Passthrough
 * MMIO and emulated devices are never windows. */
static bool window_at(const struct hcall *hc, uint64_t gpa, bool with_channels, uint64_t *end,
                      uint8_t *perm)
{
	const struct hv_partition_config *pc = hc->pc;
	for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type == HV_REGION_RAM && gpa >= r->gpa && gpa - r->gpa < r->size) {
			*end = r->gpa + r->size;
			*perm = r->perm;
			return true;
		}
	}
	const struct hv_system_config *cfg = hc->sys->cfg;
	for (uint32_t i = 0; with_channels && i < pc->nchannels && i < HV_MAX_CHANNELS; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		uint64_t size = cfg->channels[m->channel].size;
		if (gpa >= m->gpa && gpa - m->gpa < size) {
			*end = m->gpa + size;
			*perm = m->perm;
			return true;
		}
	}
	return false;
}

/* [gpa, gpa+len) must not wrap and must be covered by consecutive windows of
 * the caller that all grant `need`. Windows never overlap in a validated
 * config, so each step consumes a different one: the walk takes at most as
 * many steps as there are windows. */
static bool inside_windows(const struct hcall *hc, uint64_t gpa, uint64_t len, bool with_channels,
                           uint8_t need)
{
	if (!hv_range_ok(gpa, len))
		return false;
	uint64_t cur = gpa, end = gpa + len;
	for (uint32_t n = 0; n < HV_MAX_REGIONS + HV_MAX_CHANNELS && cur < end; n++) {
		uint64_t wend;
		uint8_t perm;
		if (!window_at(hc, cur, with_channels, &wend, &perm) || (perm & need) != need)
			return false;
		cur = wend;
	}
	return cur >= end;
}

/* A guest buffer of len > 0 bytes: inside the caller's RAM or channels per
 * the config with `need` (HV_PERM_R for inputs, HV_PERM_W for outputs), and
 * mapped with `need` in the EPT right now. */
static int64_t check_buffer(const struct hcall *hc, uint64_t gpa, uint64_t len, uint8_t need)
{
	if (!inside_windows(hc, gpa, len, true, need))
		return HV_HC_EFAULT;
	if (hv_guest_check(hc->sys, hc->part, gpa, len, need) != HV_OK)
		return HV_HC_EFAULT;
	return HV_HC_OK;
}

static int64_t hc_version(struct hcall *hc)
{
	hc->result = HV_HC_ABI_VERSION;
	hc->has_result = true;
	return HV_HC_OK;
}

/* RDI = gpa, RSI = len */
static int64_t hc_console_write(struct hcall *hc)
{
	uint64_t gpa = hc->arg[0], len = hc->arg[1];
	char buf[HV_HC_CONSOLE_MAX];
	if (len > HV_HC_CONSOLE_MAX)
		return HV_HC_E2BIG;
	if (len == 0)
		return HV_HC_OK; /* nothing to read, nothing to write */
	int64_t st = check_buffer(hc, gpa, len, HV_PERM_R);
	if (st != HV_HC_OK)
		return st;
	/* Copy first, so the console gets all bytes or none. */
	if (hv_guest_read(hc->sys, hc->part, gpa, buf, (uint32_t)len) != HV_OK)
		return HV_HC_EFAULT;
	hc->sys->ops->console(hc->sys->ops_ctx, hc->part, buf, (uint32_t)len);
	return HV_HC_OK;
}

/* RDI = gpa, RSI = len (at least sizeof(struct hv_hc_info)) */
static int64_t hc_partition_info(struct hcall *hc)
{
	uint64_t gpa = hc->arg[0], len = hc->arg[1];
	const struct hv_partition_config *pc = hc->pc;
	struct hv_hc_info info;
	if (len < sizeof(info))
		return HV_HC_E2BIG;
	int64_t st = check_buffer(hc, gpa, sizeof(info), HV_PERM_W);
	if (st != HV_HC_OK)
		return st;

	hv_memset(&info, 0, sizeof(info));
	info.partition = hc->part;
	info.vcpu = hc->vcpu;
	info.nvcpus = pc->nvcpus;
	info.nregions = pc->nregions;
	for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++)
		if (pc->regions[i].type == HV_REGION_RAM)
			info.ram_bytes += pc->regions[i].size;
	_Static_assert(sizeof(info.name) == sizeof(pc->name), "names have one size");
	hv_memcpy(info.name, pc->name, sizeof(info.name));
	info.name[sizeof(info.name) - 1] = '\0';

	if (hv_guest_write(hc->sys, hc->part, gpa, &info, sizeof(info)) != HV_OK)
		return HV_HC_EFAULT;
	return HV_HC_OK;
}

/* The caller's membership in channel index ch, after checking the index. */
static int64_t find_member(const struct hcall *hc, uint64_t ch,
                           const struct hv_channel_member **out)
{
	if (ch >= hc->sys->cfg->nchannels)
		return HV_HC_EINVAL;
	for (uint32_t i = 0; i < hc->pc->nchannels && i < HV_MAX_CHANNELS; i++) {
		if (hc->pc->channels[i].channel == ch) {
			*out = &hc->pc->channels[i];
			return HV_HC_OK;
		}
	}
	return HV_HC_EPERM;
}

/* RDI = channel, RSI = gpa, RDX = len. The payload goes to the start of the
 * channel's own pages; the mailbox holds one message at a time. */
static int64_t hc_channel_send(struct hcall *hc)
{
	uint64_t ch = hc->arg[0], gpa = hc->arg[1], len = hc->arg[2];
	const struct hv_channel_member *m = NULL;
	int64_t st = find_member(hc, ch, &m);
	if (st != HV_HC_OK)
		return st;
	if ((m->perm & HV_PERM_W) == 0)
		return HV_HC_EPERM; /* only read-write members send */
	const struct hv_channel_config *cc = &hc->sys->cfg->channels[ch];
	if (len == 0)
		return HV_HC_EINVAL; /* a zero length is the empty mailbox */
	if (len > min_u64(HV_HC_MSG_MAX, cc->size))
		return HV_HC_E2BIG;
	st = check_buffer(hc, gpa, len, HV_PERM_R);
	if (st != HV_HC_OK)
		return st;
	struct hv_channel_state *cs = &hc->sys->channels[ch];
	if (cs->msg_len != 0)
		return HV_HC_EAGAIN;

	/* The whole message is read before anything is stored: the source may
	 * be the channel window itself. The channel is page aligned and the
	 * message at most one page, so one phys_write stores it. */
	uint8_t buf[HV_HC_MSG_MAX];
	if (hv_guest_read(hc->sys, hc->part, gpa, buf, (uint32_t)len) != HV_OK)
		return HV_HC_EFAULT;
	if (hc->sys->ops->phys_write(hc->sys->ops_ctx, cc->hpa, buf, (uint32_t)len) != 0)
		return HV_HC_EFAULT;
	cs->msg_len = (uint32_t)len;
	cs->seq++;
	return HV_HC_OK;
}

/* RDI = channel, RSI = gpa, RDX = maxlen; RDI = length on success. */
static int64_t hc_channel_recv(struct hcall *hc)
{
	uint64_t ch = hc->arg[0], gpa = hc->arg[1], maxlen = hc->arg[2];
	const struct hv_channel_member *m = NULL;
	int64_t st = find_member(hc, ch, &m);
	if (st != HV_HC_OK)
		return st;
	/* The declared buffer is checked whatever the mailbox holds, so the
	 * answer to a bad buffer does not depend on the other partition. */
	uint64_t cap = min_u64(maxlen, HV_HC_MSG_MAX);
	if (cap != 0) {
		st = check_buffer(hc, gpa, cap, HV_PERM_W);
		if (st != HV_HC_OK)
			return st;
	}
	const struct hv_channel_config *cc = &hc->sys->cfg->channels[ch];
	struct hv_channel_state *cs = &hc->sys->channels[ch];
	if (cs->msg_len == 0)
		return HV_HC_EAGAIN;
	if (maxlen < cs->msg_len)
		return HV_HC_E2BIG; /* the message stays for a larger buffer */

	/* Read it whole first: the destination may overlap the channel. */
	uint8_t buf[HV_HC_MSG_MAX];
	uint32_t len = cs->msg_len;
	if (len > sizeof(buf) || hc->sys->ops->phys_read(hc->sys->ops_ctx, cc->hpa, buf, len) != 0)
		return HV_HC_EFAULT;
	if (hv_guest_write(hc->sys, hc->part, gpa, buf, len) != HV_OK)
		return HV_HC_EFAULT;
	cs->msg_len = 0;
	hc->result = len;
	hc->has_result = true;
	return HV_HC_OK;
}

static uint64_t leaf_bytes(uint8_t level)
{
	return level == HV_PG_1G ? HV_SIZE_1G : level == HV_PG_2M ? HV_SIZE_2M : HV_PAGE_SIZE;
}

/* perm must be a subset of the permissions every page of the range has in
 * the EPT now (memory-protect may already have reduced some). Walks leaf by
 * leaf, so a large page costs one step. */
static int64_t check_current_perm(const struct hcall *hc, uint64_t gpa, uint64_t size, uint8_t perm)
{
	const struct hv_system *sys = hc->sys;
	uint64_t root = sys->parts[hc->part].ept_root;
	uint64_t cur = gpa, end = gpa + size;
	for (uint64_t n = 0; n <= (size >> HV_PAGE_SHIFT) && cur < end; n++) {
		struct hv_ept_map map;
		if (hv_ept_translate(sys->pool, root, cur, &map) != HV_OK)
			return HV_HC_EFAULT;
		if (!map.present || (perm & ~map.perm) != 0)
			return HV_HC_EPERM;
		cur = map.page_gpa + leaf_bytes(map.level);
	}
	return cur >= end ? HV_HC_OK : HV_HC_EFAULT;
}

/* RDI = gpa, RSI = size, RDX = perm: reduce the EPT permissions of a range
 * of the caller's own RAM. Never grants anything. */
static int64_t hc_mem_protect(struct hcall *hc)
{
	uint64_t gpa = hc->arg[0], size = hc->arg[1], perm64 = hc->arg[2];
	/* Anything but "no access" must include R, as in configs: W without R
	 * is an EPT misconfiguration (Intel SDM Vol. 3C, 29.3.3.1), and
	 * execute-only exists only on some Intel processors (29.3.2, with
	 * IA32_VMX_EPT_VPID_CAP bit 0) and on no AMD nested page table (APM
	 * Vol. 2, 15.25.5). */
	if ((perm64 & ~(uint64_t)HV_PERM_RWX) != 0 || (perm64 != 0 && !(perm64 & HV_PERM_R)))
		return HV_HC_EINVAL;
	if ((gpa | size) & (HV_PAGE_SIZE - 1) || !hv_range_ok(gpa, size))
		return HV_HC_EINVAL;
	uint8_t perm = (uint8_t)perm64;
	if (!inside_windows(hc, gpa, size, false, 0))
		return HV_HC_EFAULT;
	if (!inside_windows(hc, gpa, size, false, perm))
		return HV_HC_EPERM; /* more than the config ever granted */
	if (perm != 0) {
		int64_t st = check_current_perm(hc, gpa, size, perm);
		if (st != HV_HC_OK)
			return st;
	}

	struct hv_system *sys = hc->sys;
	hv_status s = hv_ept_protect(sys->pool, sys->parts[hc->part].ept_root, gpa, size, perm);
	if (s == HV_ERR_NOMEM)
		return HV_HC_ENOMEM;
	if (s != HV_OK)
		return HV_HC_EFAULT; /* malformed tables: refuse, nothing changed */
	sys->parts[hc->part].protected_ = 1;
	/* Cached translations may still grant the old permissions until the
	 * platform invalidates them (hv/platform.h, ept_changed). */
	if (sys->ops->ept_changed)
		sys->ops->ept_changed(sys->ops_ctx, hc->part, gpa, size);
	return HV_HC_OK;
}

static int64_t hc_yield(struct hcall *hc)
{
	hc->sys->parts[hc->part].yields++;
	return HV_HC_OK;
}

static int64_t hc_shutdown(struct hcall *hc)
{
	hc->halt = HV_HALT_SHUTDOWN;
	return HV_HC_OK;
}

/* The result stays in RDI for the platform: nothing to check. */
static int64_t hc_call_return(struct hcall *hc)
{
	hc->halt = HV_HALT_CALL_RETURN;
	return HV_HC_OK;
}

/* The report must be one an exception can make: a vector of the
 * architecture's 32 and an error code of 32 bits (SDM Vol. 3A, 6.13). */
static int64_t hc_call_fault(struct hcall *hc)
{
	if (hc->arg[0] >= HV_HC_FAULT_VECTORS || hc->arg[1] > 0xffffffffull)
		return HV_HC_EINVAL;
	hc->halt = HV_HALT_CALL_FAULT;
	return HV_HC_OK;
}

hv_status hv_call_rearm(struct hv_system *sys, uint32_t part)
{
	if (!sys || !sys->cfg || part >= sys->cfg->npartitions)
		return HV_ERR_RANGE;
	struct hv_partition *p = &sys->parts[part];
	if (p->halted != HV_HALT_CALL_RETURN && p->halted != HV_HALT_CALL_FAULT)
		return HV_ERR_PERM;
	p->halted = HV_HALT_NONE;
	return HV_OK;
}

static const hcall_fn hcall_table[] = {
        [HV_HC_VERSION] = hc_version,
        [HV_HC_CONSOLE_WRITE] = hc_console_write,
        [HV_HC_PARTITION_INFO] = hc_partition_info,
        [HV_HC_CHANNEL_SEND] = hc_channel_send,
        [HV_HC_CHANNEL_RECV] = hc_channel_recv,
        [HV_HC_MEM_PROTECT] = hc_mem_protect,
        [HV_HC_YIELD] = hc_yield,
        [HV_HC_SHUTDOWN] = hc_shutdown,
        [HV_HC_CALL_RETURN] = hc_call_return,
        [HV_HC_CALL_FAULT] = hc_call_fault,
};
_Static_assert(HV_ARRAY_LEN(hcall_table) == HV_HC_COUNT, "every hypercall has an entry");
_Static_assert(HV_HC_COUNT <= 32, "hcall_allowed has one bit per hypercall");

void hv_handle_vmcall(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	uint64_t *gpr = exit->st.gpr;
	/* VMCALL exits whatever the CPL (Intel SDM Vol. 3C, 26.1.2), VMMCALL
	 * when intercepted (AMD APM Vol. 3, VMMCALL). The ABI is for the guest
	 * kernel only: user code sees what bare metal would do, #UD. */
	if (exit->st.cpl != 0) {
		hv_result_inject(res, HV_VEC_UD, false, 0);
		return;
	}

	struct hcall hc = {
	        .sys = sys,
	        .pc = &sys->cfg->partitions[exit->partition],
	        .part = exit->partition,
	        .vcpu = exit->vcpu,
	        .arg = {gpr[HV_RDI], gpr[HV_RSI], gpr[HV_RDX], gpr[HV_R10]},
	};
	uint64_t nr = gpr[HV_RAX];
	int64_t st;
	if (nr >= HV_HC_COUNT)
		st = HV_HC_ENOSYS;
	else if ((hc.pc->hcall_allowed & (1u << nr)) == 0)
		st = HV_HC_EPERM;
	else
		st = hcall_table[nr](&hc);

	if (hc.halt != HV_HALT_NONE) {
		hv_result_halt(res, hc.halt);
		return;
	}
	gpr[HV_RAX] = (uint64_t)st;
	if (st == HV_HC_OK && hc.has_result)
		gpr[HV_RDI] = hc.result;
	hv_result_resume(res, exit->insn_len ? exit->insn_len : HCALL_INSN_LEN);
}
