/* Recorded outputs versus replayed ones, field by field, and the output
 * hash for DET. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "no_coverage.h"
#include "oracle.h"
#include "replay_internal.h"

#define MAX_DIFFS 4u

struct cmp {
	rp_mismatch_fn fail;
	void *ctx;
	uint32_t n;
};

static void diff(struct cmp *c, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void diff(struct cmp *c, const char *field, const char *fmt, ...)
{
	if (c->n++ >= MAX_DIFFS || !c->fail)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->fail(c->ctx, field, msg);
}

static void cmp_u64(struct cmp *c, const char *field, uint64_t rec, uint64_t got)
{
	if (rec != got)
		diff(c, field, "recorded 0x%" PRIx64 ", replayed 0x%" PRIx64, rec, got);
}

static void cmp_result(struct cmp *c, const struct hv_result *a, const struct hv_result *b)
{
	if (a->action != b->action)
		diff(c, "res.action", "recorded %s, replayed %s", hv_action_str(a->action),
		     hv_action_str(b->action));
	if (a->halt_reason != b->halt_reason)
		diff(c, "res.halt_reason", "recorded %s, replayed %s",
		     hv_halt_reason_str(a->halt_reason), hv_halt_reason_str(b->halt_reason));
	cmp_u64(c, "res.vector", a->vector, b->vector);
	cmp_u64(c, "res.has_error_code", a->has_error_code, b->has_error_code);
	cmp_u64(c, "res.error_code", a->error_code, b->error_code);
	cmp_u64(c, "res.insn_len", a->insn_len, b->insn_len);
	cmp_u64(c, "res.has_mmio", a->has_mmio, b->has_mmio);
	cmp_u64(c, "res.mmio.gpa", a->mmio.gpa, b->mmio.gpa);
	cmp_u64(c, "res.mmio.data", a->mmio.data, b->mmio.data);
	cmp_u64(c, "res.mmio.size", a->mmio.size, b->mmio.size);
	cmp_u64(c, "res.mmio.is_write", a->mmio.is_write, b->mmio.is_write);
	cmp_u64(c, "res.mmio.reg", a->mmio.reg, b->mmio.reg);
	cmp_u64(c, "res.mmio.insn_len", a->mmio.insn_len, b->mmio.insn_len);
	cmp_u64(c, "res.msr.valid", a->msr.valid, b->msr.valid);
	cmp_u64(c, "res.msr.msr", a->msr.msr, b->msr.msr);
	cmp_u64(c, "res.msr.value", a->msr.value, b->msr.value);
}

static void cmp_state(struct cmp *c, const struct hv_vcpu_state *a, const struct hv_vcpu_state *b)
{
	static const char *const gpr[HV_GPR_COUNT] = {
	        "st.rax", "st.rcx", "st.rdx", "st.rbx", "st.rsp", "st.rbp", "st.rsi", "st.rdi",
	        "st.r8",  "st.r9",  "st.r10", "st.r11", "st.r12", "st.r13", "st.r14", "st.r15",
	};
	for (int i = 0; i < HV_GPR_COUNT; i++)
		cmp_u64(c, gpr[i], a->gpr[i], b->gpr[i]);
	cmp_u64(c, "st.rip", a->rip, b->rip);
	cmp_u64(c, "st.rflags", a->rflags, b->rflags);
	cmp_u64(c, "st.cr0", a->cr0, b->cr0);
	cmp_u64(c, "st.cr3", a->cr3, b->cr3);
	cmp_u64(c, "st.cr4", a->cr4, b->cr4);
	cmp_u64(c, "st.efer", a->efer, b->efer);
	cmp_u64(c, "st.cpl", a->cpl, b->cpl);
}

/* The i-th output call of `kind` in a log, or NULL. */
static const struct hx_obs_entry *nth(const struct hx_obs_view *v, uint8_t kind, uint32_t i)
{
	for (uint32_t k = 0; k < v->nentries; k++)
		if (v->entries[k].kind == kind && i-- == 0)
			return &v->entries[k];
	return NULL;
}

static uint32_t count(const struct hx_obs_view *v, uint8_t kind)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < v->nentries; k++)
		n += v->entries[k].kind == kind;
	return n;
}

static void cmp_calls(struct cmp *c, const struct hx_obs_view *rec, const struct hx_obs_view *got,
                      uint8_t kind, const char *name)
{
	char field[48];
	uint32_t nr = count(rec, kind), ng = count(got, kind);
	if (nr != ng) {
		snprintf(field, sizeof(field), "%s.count", name);
		diff(c, field, "recorded %u %s calls, replayed %u", nr, name, ng);
	}
	for (uint32_t i = 0; i < nr && i < ng; i++) {
		const struct hx_obs_entry *a = nth(rec, kind, i), *b = nth(got, kind, i);
		if (a->id != b->id || a->addr != b->addr || a->len != b->len ||
		    (kind != HX_OBS_PHYS_WRITE && kind != HX_OBS_CONSOLE && a->value != b->value)) {
			snprintf(field, sizeof(field), "%s[%u]", name, i);
			diff(c, field,
			     "recorded id 0x%x addr 0x%" PRIx64 " len %u value 0x%" PRIx64
			     ", replayed id 0x%x addr 0x%" PRIx64 " len %u value 0x%" PRIx64,
			     a->id, a->addr, a->len, a->value, b->id, b->addr, b->len, b->value);
			continue;
		}
		if (kind != HX_OBS_PHYS_WRITE && kind != HX_OBS_CONSOLE)
			continue;
		const uint8_t *x = hx_obs_bytes(rec, a->data, a->len);
		const uint8_t *y = hx_obs_bytes(got, b->data, b->len);
		if (!x || !y || memcmp(x, y, a->len)) {
			uint32_t at = 0;
			while (x && y && at < a->len && x[at] == y[at])
				at++;
			snprintf(field, sizeof(field), "%s[%u].bytes", name, i);
			diff(c, field, "byte %u differs (recorded 0x%02x, replayed 0x%02x)", at,
			     x && at < a->len ? x[at] : 0, y && at < a->len ? y[at] : 0);
		}
	}
}

uint32_t rp_compare(const struct hx_trace_exit *rec, const struct hv_exit *out,
                    const struct hv_result *res, const struct hx_obs_view *log, rp_mismatch_fn fail,
                    void *ctx)
{
	struct cmp c = {.fail = fail, .ctx = ctx};
	cmp_result(&c, &rec->res, res);
	cmp_state(&c, &rec->out, &out->st);
	cmp_calls(&c, &rec->log, log, HX_OBS_PHYS_WRITE, "write");
	cmp_calls(&c, &rec->log, log, HX_OBS_WRMSR, "wrmsr");
	cmp_calls(&c, &rec->log, log, HX_OBS_CONSOLE, "console");
	cmp_calls(&c, &rec->log, log, HX_OBS_EPT_CHANGED, "ept_changed");
	return c.n;
}

/* The output digest of DET runs twice per exit of every fuzz input; a
 * hash's loops carry nothing for coverage to steer by (no_coverage.h). */
HX_NO_COVERAGE static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

HX_NO_COVERAGE static uint64_t mix_bytes(uint64_t h, const uint8_t *b, uint32_t len)
{
	uint32_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = mix(h, w);
	}
	uint64_t tail = len;
	for (; i < len; i++)
		tail = tail << 8 | b[i];
	return mix(h, tail);
}

HX_NO_COVERAGE uint64_t rp_output_hash(const struct hv_exit *out, const struct hv_result *res,
                                       const struct hx_obs_view *log)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = mix(h, (uint64_t)res->action << 32 | res->halt_reason);
	h = mix(h, (uint64_t)res->vector << 40 | (uint64_t)res->has_error_code << 32 |
	                   res->error_code);
	h = mix(h, (uint64_t)res->insn_len << 8 | res->has_mmio);
	h = mix(h, res->mmio.gpa);
	h = mix(h, res->mmio.data);
	h = mix(h, (uint64_t)res->mmio.size << 24 | (uint64_t)res->mmio.is_write << 16 |
	                   (uint64_t)res->mmio.reg << 8 | res->mmio.insn_len);
	h = mix(h, (uint64_t)res->msr.msr << 32 | res->msr.valid);
	h = mix(h, res->msr.value);
	for (int i = 0; i < HV_GPR_COUNT; i++)
		h = mix(h, out->st.gpr[i]);
	h = mix(h, out->st.rip);
	for (uint32_t k = 0; k < log->nentries; k++) {
		const struct hx_obs_entry *e = &log->entries[k];
		h = mix(h, (uint64_t)e->kind << 32 | e->id);
		h = mix(h, e->addr);
		h = mix(h, e->value);
		h = mix(h, (uint64_t)e->len << 1 | e->failed);
		bool bytes = e->kind == HX_OBS_PHYS_WRITE || e->kind == HX_OBS_CONSOLE ||
		             (e->kind == HX_OBS_PHYS_READ && !e->failed);
		const uint8_t *b = bytes ? hx_obs_bytes(log, e->data, e->len) : NULL;
		if (b)
			h = mix_bytes(h, b, e->len);
	}
	return h;
}
