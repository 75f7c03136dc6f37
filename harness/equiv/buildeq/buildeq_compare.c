/* BUILD-EQ comparison: the hosted run's outputs for one exit (the exit
 * record after hv_handle_exit, the result, the observer log) against what
 * the freestanding image wrote (struct beq_out), field by field, and the
 * run-time state after the last exit. Every field is compared, explicit
 * padding included: "bit for bit". */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buildeq_internal.h"

static bool differ(struct beq_diff *d, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static bool differ(struct beq_diff *d, const char *field, const char *fmt, ...)
{
	snprintf(d->field, sizeof(d->field), "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return false;
}

#define CMP(d, field, h, g)                                                                        \
	do {                                                                                       \
		uint64_t h_ = (uint64_t)(h), g_ = (uint64_t)(g);                                   \
		if (h_ != g_)                                                                      \
			return differ(d, field,                                                    \
			              "%s: hosted 0x%" PRIx64 ", freestanding 0x%" PRIx64, field,  \
			              h_, g_);                                                     \
	} while (0)

static bool cmp_exit(const struct hv_exit *h, const struct hv_exit *g, struct beq_diff *d)
{
	static const char *const gpr[HV_GPR_COUNT] = {
	        "st.rax", "st.rcx", "st.rdx", "st.rbx", "st.rsp", "st.rbp", "st.rsi", "st.rdi",
	        "st.r8",  "st.r9",  "st.r10", "st.r11", "st.r12", "st.r13", "st.r14", "st.r15",
	};
	CMP(d, "exit.reason", h->reason, g->reason);
	CMP(d, "exit.partition", h->partition, g->partition);
	CMP(d, "exit.vcpu", h->vcpu, g->vcpu);
	CMP(d, "exit.insn_len", h->insn_len, g->insn_len);
	CMP(d, "exit.qual", h->qual, g->qual);
	CMP(d, "exit.gpa", h->gpa, g->gpa);
	CMP(d, "exit.gla", h->gla, g->gla);
	for (int i = 0; i < HV_GPR_COUNT; i++)
		CMP(d, gpr[i], h->st.gpr[i], g->st.gpr[i]);
	CMP(d, "st.rip", h->st.rip, g->st.rip);
	CMP(d, "st.rflags", h->st.rflags, g->st.rflags);
	CMP(d, "st.cr0", h->st.cr0, g->st.cr0);
	CMP(d, "st.cr3", h->st.cr3, g->st.cr3);
	CMP(d, "st.cr4", h->st.cr4, g->st.cr4);
	CMP(d, "st.efer", h->st.efer, g->st.efer);
	CMP(d, "st.cpl", h->st.cpl, g->st.cpl);
	for (int i = 0; i < 7; i++)
		CMP(d, "st.pad", h->st.pad[i], g->st.pad[i]);
	return true;
}

static bool cmp_result(const struct hv_result *h, const struct hv_result *g, struct beq_diff *d)
{
	if (h->action != g->action)
		return differ(d, "res.action", "res.action: hosted %s, freestanding %s",
		              hv_action_str(h->action), hv_action_str(g->action));
	if (h->halt_reason != g->halt_reason)
		return differ(d, "res.halt_reason", "res.halt_reason: hosted %s, freestanding %s",
		              hv_halt_reason_str(h->halt_reason),
		              hv_halt_reason_str(g->halt_reason));
	CMP(d, "res.vector", h->vector, g->vector);
	CMP(d, "res.has_error_code", h->has_error_code, g->has_error_code);
	CMP(d, "res.has_mmio", h->has_mmio, g->has_mmio);
	CMP(d, "res.pad", h->pad, g->pad);
	CMP(d, "res.error_code", h->error_code, g->error_code);
	CMP(d, "res.insn_len", h->insn_len, g->insn_len);
	CMP(d, "res.pad2", h->pad2, g->pad2);
	CMP(d, "res.mmio.gpa", h->mmio.gpa, g->mmio.gpa);
	CMP(d, "res.mmio.data", h->mmio.data, g->mmio.data);
	CMP(d, "res.mmio.size", h->mmio.size, g->mmio.size);
	CMP(d, "res.mmio.is_write", h->mmio.is_write, g->mmio.is_write);
	CMP(d, "res.mmio.reg", h->mmio.reg, g->mmio.reg);
	CMP(d, "res.mmio.insn_len", h->mmio.insn_len, g->mmio.insn_len);
	CMP(d, "res.msr.msr", h->msr.msr, g->msr.msr);
	CMP(d, "res.msr.valid", h->msr.valid, g->msr.valid);
	CMP(d, "res.msr.value", h->msr.value, g->msr.value);
	return true;
}

/* Bytes of a guest call's payload, or NULL when out of the data area. */
static const uint8_t *guest_bytes(const struct beq_out *g, uint32_t off, uint32_t len)
{
	if (g->data_len > BEQ_MAX_DATA || off > g->data_len || len > g->data_len - off)
		return NULL;
	return g->data + off;
}

static bool cmp_bytes(const char *field, const uint8_t *h, const uint8_t *g, uint32_t len,
                      struct beq_diff *d)
{
	if (!h || !g) {
		if (!h && !g)
			return true;
		return differ(d, field, "%s: payload missing in the %s log", field,
		              h ? "freestanding" : "hosted");
	}
	for (uint32_t i = 0; i < len; i++)
		if (h[i] != g[i])
			return differ(d, field,
			              "%s: byte %u of %u: hosted 0x%02x, freestanding 0x%02x",
			              field, i, len, h[i], g[i]);
	return true;
}

static bool cmp_call(uint32_t k, const struct hx_obs_view *log, const struct hx_obs_entry *h,
                     const struct beq_out *g_out, const struct beq_call *g, struct beq_diff *d)
{
	char f[64];
#define FIELD(name) (snprintf(f, sizeof(f), "call[%u].%s", k, name), f)
	if (h->kind != g->kind)
		return differ(d, FIELD("kind"), "call[%u].kind: hosted %s, freestanding %s", k,
		              hx_obs_kind_str(h->kind), hx_obs_kind_str(g->kind));
	CMP(d, FIELD("failed"), h->failed, g->failed);
	CMP(d, FIELD("has_before"), h->has_before, g->has_before);
	CMP(d, FIELD("id"), h->id, g->id);
	CMP(d, FIELD("sub"), h->sub, g->sub);
	CMP(d, FIELD("len"), h->len, g->len);
	CMP(d, FIELD("addr"), h->addr, g->addr);
	CMP(d, FIELD("value"), h->value, g->value);
	for (int r = 0; r < 4; r++)
		CMP(d, FIELD("regs"), h->regs[r], g->regs[r]);
	/* Payloads: bytes read (unless failed), written (+ before), console. */
	bool has_data = (h->kind == HX_OBS_PHYS_READ && !h->failed) ||
	                h->kind == HX_OBS_PHYS_WRITE || h->kind == HX_OBS_CONSOLE;
	if (has_data && !cmp_bytes(FIELD("data"), hx_obs_bytes(log, h->data, h->len),
	                           guest_bytes(g_out, g->data, g->len), h->len, d))
		return false;
	if (h->kind == HX_OBS_PHYS_WRITE && h->has_before &&
	    !cmp_bytes(FIELD("before"), hx_obs_bytes(log, h->before, h->len),
	               guest_bytes(g_out, g->before, g->len), h->len, d))
		return false;
#undef FIELD
	return true;
}

bool beq_compare_exit(uint32_t index, const struct hv_exit *out, const struct hv_result *res,
                      const struct hx_obs_view *log, const struct beq_out *g, uint64_t *calls,
                      struct beq_diff *d)
{
	if (g->index != index)
		return differ(d, "out.index", "the image answered for exit %u, not %u", g->index,
		              index);
	if (!cmp_result(res, &g->res, d) || !cmp_exit(out, &g->exit, d))
		return false;
	CMP(d, "calls.overflow", log->overflow, g->overflow);
	uint32_t n = log->nentries < g->ncalls ? log->nentries : g->ncalls;
	if (g->ncalls > BEQ_MAX_CALLS)
		return differ(d, "calls.count", "the image logged %u calls, over the limit of %u",
		              g->ncalls, BEQ_MAX_CALLS);
	for (uint32_t k = 0; k < n; k++) {
		if (!cmp_call(k, log, &log->entries[k], g, &g->calls[k], d))
			return false;
		(*calls)++;
	}
	if (log->nentries != g->ncalls) {
		const struct hx_obs_entry *h = log->nentries > n ? &log->entries[n] : NULL;
		const struct beq_call *x = g->ncalls > n ? &g->calls[n] : NULL;
		return differ(d, "calls.count",
		              "calls.count: hosted %u platform calls, freestanding %u (first extra "
		              "call: %s %s)",
		              log->nentries, g->ncalls, h ? "hosted" : "freestanding",
		              hx_obs_kind_str(h ? h->kind : x->kind));
	}
	return true;
}

/* Raw bytes of pointer-free state; the first differing 8-byte word. */
static bool cmp_raw(const char *field, const void *hv, const void *xv, size_t len,
                    struct beq_diff *d)
{
	const uint8_t *h = hv, *x = xv;
	if (memcmp(h, x, len) == 0)
		return true;
	size_t i = 0;
	while (h[i] == x[i])
		i++;
	size_t w = i & ~(size_t)7;
	uint64_t hw = 0, xw = 0;
	memcpy(&hw, h + w, len - w < 8 ? len - w : 8);
	memcpy(&xw, x + w, len - w < 8 ? len - w : 8);
	return differ(d, field,
	              "%s: bytes %zu..%zu: hosted 0x%016" PRIx64 ", freestanding 0x%016" PRIx64,
	              field, w, w + 7, hw, xw);
}

bool beq_compare_final(const struct hv_system *sys, const struct hv_system *g, uint32_t g_pool_used,
                       const uint8_t *g_pool, struct beq_diff *d)
{
	const struct hv_pool *pool = sys->pool;
	CMP(d, "pool.used", pool->used, g_pool_used);
	for (uint32_t p = 0; p < pool->used; p++) {
		const uint8_t *h = pool->mem + (uint64_t)p * HV_PAGE_SIZE;
		const uint8_t *x = g_pool + (uint64_t)p * HV_PAGE_SIZE;
		if (memcmp(h, x, HV_PAGE_SIZE) == 0)
			continue;
		uint32_t i = 0;
		while (h[i] == x[i])
			i++;
		uint32_t e = i / 8;
		uint64_t he, xe;
		memcpy(&he, h + e * 8, 8);
		memcpy(&xe, x + e * 8, 8);
		char f[64];
		snprintf(f, sizeof(f), "pool[%u]", p);
		return differ(d, f,
		              "EPT pool page %u (hpa 0x%" PRIx64 "), entry %u: hosted 0x%016" PRIx64
		              ", freestanding 0x%016" PRIx64,
		              p, (uint64_t)(pool->hpa + (uint64_t)p * HV_PAGE_SIZE), e, he, xe);
	}
	char f[64];
	for (uint32_t p = 0; p < sys->cfg->npartitions && p < HV_MAX_PARTITIONS; p++) {
		const struct hv_partition *h = &sys->parts[p], *x = &g->parts[p];
#define PF(name) (snprintf(f, sizeof(f), "part[%u].%s", p, name), f)
		CMP(d, PF("ept_root"), h->ept_root, x->ept_root);
		CMP(d, PF("halted"), h->halted, x->halted);
		CMP(d, PF("protected"), h->protected_, x->protected_);
		CMP(d, PF("yields"), h->yields, x->yields);
		for (uint32_t v = 0; v < HV_MAX_VCPUS; v++)
			for (uint32_t r = 0; r < HV_MAX_MSR_RULES; r++) {
				snprintf(f, sizeof(f), "part[%u].vcpu[%u].msr_value[%u]", p, v, r);
				CMP(d, f, h->vcpus[v].msr_value[r], x->vcpus[v].msr_value[r]);
			}
		for (uint32_t i = 0; i < HV_MAX_DEVICES; i++) {
			snprintf(f, sizeof(f), "part[%u].device[%u]", p, i);
			if (!cmp_raw(f, &h->devices[i], &x->devices[i], sizeof(h->devices[i]), d))
				return false;
		}
		/* Anything added to the partition state later. */
		if (!cmp_raw(PF("bytes"), h, x, sizeof(*h), d))
			return false;
#undef PF
	}
	for (uint32_t c = 0; c < sys->cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		snprintf(f, sizeof(f), "channel[%u].msg_len", c);
		CMP(d, f, sys->channels[c].msg_len, g->channels[c].msg_len);
		snprintf(f, sizeof(f), "channel[%u].seq", c);
		CMP(d, f, sys->channels[c].seq, g->channels[c].seq);
	}
	return true;
}
