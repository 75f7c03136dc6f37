/* HCALL-BOUNDS: a hypercall touches only what the ABI of hv/hcall.h lets
 * it touch, and a refused one touches nothing. (Mailbox, pool and EPT
 * changes are checked with the rest of the state in oracle_core.c.) */
#include <stdio.h>

#include "hv/ept.h"
#include "hv/hcall.h"
#include "oracle_internal.h"

#define MAX_PIECES 4u /* a window of at most one page + offset spans 2 pages */

/* Host pieces of the caller's GPA window [gpa, gpa+len), each page mapped
 * writable in its EPT now. Unmapped or read-only pages give no piece. */
static uint32_t window_pieces(const struct hv_system *sys, uint32_t p, uint64_t gpa, uint64_t len,
                              struct oracle_span *out)
{
	uint32_t n = 0;
	if (!hv_range_ok(gpa, len))
		return 0;
	uint64_t cur = gpa, end = gpa + len;
	for (uint32_t i = 0; i < MAX_PIECES && cur < end; i++) {
		uint64_t page_end = (cur & HV_PAGE_MASK) + HV_PAGE_SIZE;
		uint64_t stop = page_end < end && page_end > cur ? page_end : end;
		struct hv_ept_map map;
		if (hv_ept_translate(sys->pool, sys->parts[p].ept_root, cur, &map) == HV_OK &&
		    map.present && (map.perm & HV_PERM_W))
			out[n++] = (struct oracle_span){map.hpa, stop - cur};
		cur = stop;
	}
	return n;
}

static bool in_pieces(const struct oracle_span *s, uint32_t n, uint64_t hpa, uint64_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (hv_range_ok(hpa, len ? len : 1) &&
		    hv_range_inside(hpa, len ? len : 1, s[i].base, s[i].size))
			return true;
	return false;
}

static const char *hc_name(uint64_t nr)
{
	static const char *const names[HV_HC_COUNT] = {
	        "VERSION",     "CONSOLE_WRITE", "PARTITION_INFO", "CHANNEL_SEND", "CHANNEL_RECV",
	        "MEM_PROTECT", "YIELD",         "SHUTDOWN",       "CALL_RETURN",  "CALL_FAULT",
	};
	return nr < HV_HC_COUNT ? names[nr] : "unknown";
}

static const struct hv_channel_member *member_of(const struct hv_partition_config *pc, uint64_t ch)
{
	for (uint32_t i = 0; i < pc->nchannels && i < HV_MAX_CHANNELS; i++)
		if (pc->channels[i].channel == ch)
			return &pc->channels[i];
	return NULL;
}

/* A refused call (status != 0 or #UD) has no effect at all besides RAX. */
static void check_refused(struct hx_oracle *o, const struct hv_exit *out,
                          const struct hx_obs_view *log, const char *what)
{
	const struct hv_exit *in = &o->in;
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind == HX_OBS_PHYS_WRITE)
			oracle_report(o, HV_INV_HCALL_BOUNDS, "%s wrote %u bytes at hpa 0x%llx",
			              what, e->len, (unsigned long long)e->addr);
		else if (e->kind == HX_OBS_CONSOLE)
			oracle_report(o, HV_INV_HCALL_BOUNDS, "%s produced %u console bytes", what,
			              e->len);
		else if (e->kind == HX_OBS_EPT_CHANGED || e->kind == HX_OBS_WRMSR)
			oracle_report(o, HV_INV_HCALL_BOUNDS, "%s made a %s call", what,
			              hx_obs_kind_str(e->kind));
	}
	if (out->st.gpr[HV_RDI] != in->st.gpr[HV_RDI])
		oracle_report(o, HV_INV_HCALL_BOUNDS, "%s changed RDI 0x%llx -> 0x%llx", what,
		              (unsigned long long)in->st.gpr[HV_RDI],
		              (unsigned long long)out->st.gpr[HV_RDI]);
}

/* What a successful call may write: returns the number of pieces. */
static uint32_t allowed_writes(struct hx_oracle *o, const struct hv_system *sys, uint64_t nr,
                               struct oracle_span *s)
{
	const struct hv_exit *in = &o->in;
	const uint64_t *g = in->st.gpr;
	uint32_t p = in->partition;
	switch (nr) {
	case HV_HC_PARTITION_INFO:
		return window_pieces(sys, p, g[HV_RDI], sizeof(struct hv_hc_info), s);
	case HV_HC_CHANNEL_RECV: {
		uint64_t cap = g[HV_RDX] < HV_HC_MSG_MAX ? g[HV_RDX] : HV_HC_MSG_MAX;
		return window_pieces(sys, p, g[HV_RSI], cap, s);
	}
	case HV_HC_CHANNEL_SEND: {
		uint64_t ch = g[HV_RDI];
		const struct hv_channel_member *m = member_of(&o->cfg->partitions[p], ch);
		if (ch >= o->cfg->nchannels || !m || !(m->perm & HV_PERM_W)) {
			oracle_report(
			        o, HV_INV_HCALL_BOUNDS,
			        "CHANNEL_SEND to channel %llu succeeded although partition %u "
			        "is not a read-write member",
			        (unsigned long long)ch, p);
			return 0;
		}
		s[0] = (struct oracle_span){o->cfg->channels[ch].hpa, o->cfg->channels[ch].size};
		return 1;
	}
	default:
		return 0;
	}
}

static void check_success(struct hx_oracle *o, const struct hv_system *sys,
                          const struct hx_obs_view *log, uint64_t nr)
{
	const struct hv_exit *in = &o->in;
	const uint64_t *g = in->st.gpr;
	struct oracle_span pieces[MAX_PIECES];
	uint32_t npieces = allowed_writes(o, sys, nr, pieces);
	uint64_t console = 0;
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		switch (e->kind) {
		case HX_OBS_PHYS_WRITE:
			if (!in_pieces(pieces, npieces, e->addr, e->len))
				oracle_report(o, HV_INV_HCALL_BOUNDS,
				              "%s wrote %u bytes at hpa 0x%llx, outside what the "
				              "call may "
				              "write",
				              hc_name(nr), e->len, (unsigned long long)e->addr);
			break;
		case HX_OBS_CONSOLE:
			console += e->len;
			if (nr != HV_HC_CONSOLE_WRITE)
				oracle_report(o, HV_INV_HCALL_BOUNDS,
				              "%s produced %u console bytes", hc_name(nr), e->len);
			break;
		case HX_OBS_EPT_CHANGED:
			if (nr != HV_HC_MEM_PROTECT || e->addr != g[HV_RDI] ||
			    e->value != g[HV_RSI])
				oracle_report(o, HV_INV_HCALL_BOUNDS,
				              "%s announced an EPT change of [0x%llx, +0x%llx)",
				              hc_name(nr), (unsigned long long)e->addr,
				              (unsigned long long)e->value);
			break;
		case HX_OBS_WRMSR:
			oracle_report(o, HV_INV_HCALL_BOUNDS, "%s wrote MSR 0x%x on the host",
			              hc_name(nr), e->id);
			break;
		default:
			break;
		}
	}
	if (nr == HV_HC_CONSOLE_WRITE && (console != g[HV_RSI] || console > HV_HC_CONSOLE_MAX))
		oracle_report(o, HV_INV_HCALL_BOUNDS,
		              "CONSOLE_WRITE of %llu bytes produced %llu console bytes (limit %u)",
		              (unsigned long long)g[HV_RSI], (unsigned long long)console,
		              HV_HC_CONSOLE_MAX);
}

void oracle_check_hcall(struct hx_oracle *o, const struct hv_system *sys, const struct hv_exit *out,
                        const struct hv_result *res, const struct hx_obs_view *log)
{
	const struct hv_exit *in = &o->in;
	uint64_t nr = in->st.gpr[HV_RAX];
	int64_t status = (int64_t)out->st.gpr[HV_RAX];
	uint32_t allowed = o->cfg->partitions[in->partition].hcall_allowed;
	char what[96];
	oracle_count(o);

	if (in->st.cpl != 0) {
		if (res->action != HV_ACT_INJECT || res->vector != HV_VEC_UD)
			oracle_report(o, HV_INV_HCALL_BOUNDS,
			              "hypercall from CPL %u: %s instead of #UD", in->st.cpl,
			              hv_action_str(res->action));
		snprintf(what, sizeof(what), "hypercall from CPL %u", in->st.cpl);
		check_refused(o, out, log, what);
		return;
	}
	if (res->action == HV_ACT_HALT) {
		/* Only the three calls that end a run may halt, each with its
		 * own reason, and CALL_FAULT only with a report an exception
		 * can make (hv/hcall.h). */
		uint32_t want = nr == HV_HC_SHUTDOWN      ? HV_HALT_SHUTDOWN
		                : nr == HV_HC_CALL_RETURN ? HV_HALT_CALL_RETURN
		                : nr == HV_HC_CALL_FAULT  ? HV_HALT_CALL_FAULT
		                                          : HV_HALT_NONE;
		bool report_ok =
		        nr != HV_HC_CALL_FAULT || (in->st.gpr[HV_RDI] < HV_HC_FAULT_VECTORS &&
		                                   in->st.gpr[HV_RSI] <= 0xffffffffull);
		if (want == HV_HALT_NONE || !(allowed & (1u << nr)) || res->halt_reason != want ||
		    !report_ok)
			oracle_report(o, HV_INV_HCALL_BOUNDS,
			              "hypercall %llu (%s) halted the partition (%s)",
			              (unsigned long long)nr, hc_name(nr),
			              hv_halt_reason_str(res->halt_reason));
		snprintf(what, sizeof(what), "%s", hc_name(nr));
		check_refused(o, out, log, what);
		return;
	}
	if (res->action != HV_ACT_RESUME) {
		snprintf(what, sizeof(what), "hypercall %llu (%s) answered with %s",
		         (unsigned long long)nr, hc_name(nr), hv_action_str(res->action));
		check_refused(o, out, log, what);
		return;
	}
	if (nr >= HV_HC_COUNT && status != HV_HC_ENOSYS)
		oracle_report(o, HV_INV_HCALL_BOUNDS,
		              "unknown hypercall %llu returned %lld, not ENOSYS",
		              (unsigned long long)nr, (long long)status);
	else if (nr < HV_HC_COUNT && !(allowed & (1u << nr)) && status != HV_HC_EPERM)
		oracle_report(o, HV_INV_HCALL_BOUNDS,
		              "hypercall %s not allowed for partition %u returned %lld, not EPERM",
		              hc_name(nr), in->partition, (long long)status);
	if (status != 0) {
		snprintf(what, sizeof(what), "failed hypercall %llu (%s, status %lld)",
		         (unsigned long long)nr, hc_name(nr), (long long)status);
		check_refused(o, out, log, what);
		return;
	}
	check_success(o, sys, log, nr);
}
