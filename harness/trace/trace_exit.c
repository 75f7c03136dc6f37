/* EXIT records: the input record, the platform-call log, the outputs. */
#include <stdlib.h>
#include <string.h>

#include "no_coverage.h"
#include "trace_internal.h"

static const char *const in_gpr[HV_GPR_COUNT] = {
        "in.st.rax", "in.st.rcx", "in.st.rdx", "in.st.rbx", "in.st.rsp", "in.st.rbp",
        "in.st.rsi", "in.st.rdi", "in.st.r8",  "in.st.r9",  "in.st.r10", "in.st.r11",
        "in.st.r12", "in.st.r13", "in.st.r14", "in.st.r15",
};
static const char *const out_gpr[HV_GPR_COUNT] = {
        "out.st.rax", "out.st.rcx", "out.st.rdx", "out.st.rbx", "out.st.rsp", "out.st.rbp",
        "out.st.rsi", "out.st.rdi", "out.st.r8",  "out.st.r9",  "out.st.r10", "out.st.r11",
        "out.st.r12", "out.st.r13", "out.st.r14", "out.st.r15",
};

/* ---- writing ---- */

static void put_state(struct wbuf *w, const struct hv_vcpu_state *st)
{
	for (int i = 0; i < HV_GPR_COUNT; i++)
		wb_u64(w, st->gpr[i]);
	wb_u64(w, st->rip);
	wb_u64(w, st->rflags);
	wb_u64(w, st->cr0);
	wb_u64(w, st->cr3);
	wb_u64(w, st->cr4);
	wb_u64(w, st->efer);
	wb_u8(w, st->cpl);
}

static bool op_has_bytes(const struct hx_obs_entry *e)
{
	return e->kind == HX_OBS_CONSOLE || e->kind == HX_OBS_PHYS_WRITE ||
	       (e->kind == HX_OBS_PHYS_READ && !e->failed);
}

bool tr_log_ok(const struct hx_obs_view *log)
{
	if (log->nentries > HX_TRACE_MAX_OPS)
		return false;
	uint64_t total = 0;
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		if (e->kind < HX_OBS_CPUID || e->kind > HX_OBS_KIND_MAX)
			return false;
		if (!op_has_bytes(e))
			continue;
		if (e->len > HX_TRACE_MAX_OP_LEN || !hx_obs_bytes(log, e->data, e->len))
			return false;
		total += e->len;
		if (e->kind == HX_OBS_PHYS_WRITE && e->has_before) {
			if (!hx_obs_bytes(log, e->before, e->len))
				return false;
			total += e->len;
		}
	}
	return total <= HX_TRACE_MAX_EXIT_DATA;
}

static void put_op(struct wbuf *w, const struct hx_obs_view *log, const struct hx_obs_entry *e)
{
	bool before = e->kind == HX_OBS_PHYS_WRITE && e->has_before;
	wb_u8(w, e->kind);
	wb_u8(w, (uint8_t)((e->failed ? TR_OP_FAILED : 0) | (before ? TR_OP_BEFORE : 0)));
	switch (e->kind) {
	case HX_OBS_CPUID:
		wb_u32(w, e->id);
		wb_u32(w, e->sub);
		for (int k = 0; k < 4; k++)
			wb_u32(w, e->regs[k]);
		break;
	case HX_OBS_RDMSR:
	case HX_OBS_WRMSR:
		wb_u32(w, e->id);
		wb_u64(w, e->value);
		break;
	case HX_OBS_PHYS_READ:
	case HX_OBS_PHYS_WRITE:
		wb_u64(w, e->addr);
		wb_u32(w, e->len);
		if (op_has_bytes(e))
			wb_bytes(w, log->data + e->data, e->len);
		if (before)
			wb_bytes(w, log->data + e->before, e->len);
		break;
	case HX_OBS_CONSOLE:
		wb_u32(w, e->id);
		wb_u32(w, e->len);
		wb_bytes(w, log->data + e->data, e->len);
		break;
	case HX_OBS_EPT_CHANGED:
		wb_u32(w, e->id);
		wb_u64(w, e->addr);
		wb_u64(w, e->value);
		break;
	default:
		break;
	}
}

void tr_put_exit(struct wbuf *w, const struct hv_exit *in, const struct hx_obs_view *log,
                 const struct hv_result *res, const struct hv_vcpu_state *out)
{
	size_t rec = wb_begin_record(w, TR_TAG_EXIT);
	wb_u32(w, in->reason);
	wb_u32(w, in->partition);
	wb_u32(w, in->vcpu);
	wb_u32(w, in->insn_len);
	wb_u64(w, in->qual);
	wb_u64(w, in->gpa);
	wb_u64(w, in->gla);
	put_state(w, &in->st);
	wb_u8(w, res && out ? HX_TREC_OUTPUTS : 0);
	wb_u32(w, log->overflow);
	wb_u32(w, log->nentries);
	for (uint32_t i = 0; i < log->nentries; i++)
		put_op(w, log, &log->entries[i]);
	if (res && out) {
		wb_u32(w, res->action);
		wb_u8(w, res->vector);
		wb_u8(w, res->has_error_code);
		wb_u32(w, res->error_code);
		wb_u32(w, res->halt_reason);
		wb_u32(w, res->insn_len);
		wb_u8(w, res->has_mmio);
		wb_u64(w, res->mmio.gpa);
		wb_u64(w, res->mmio.data);
		wb_u8(w, res->mmio.size);
		wb_u8(w, res->mmio.is_write);
		wb_u8(w, res->mmio.reg);
		wb_u8(w, res->mmio.insn_len);
		wb_u32(w, res->msr.msr);
		wb_u32(w, res->msr.valid);
		wb_u64(w, res->msr.value);
		put_state(w, out);
	}
	wb_end_record(w, rec);
}

/* ---- reading ---- */

/* A vCPU state as put_state writes it: 22 fields, the same length in every
 * version. */
#define TR_STATE_BYTES (8u * (HV_GPR_COUNT + 6u) + 1u)
_Static_assert(TR_EXIT_INPUT - TR_EXIT_GPR == TR_STATE_BYTES, "state layout");

/* The whole state at once, from bytes known to be there: an exit's two
 * states are most of its record, and field by field each is 23 bounds
 * checks. get_state below is what names the field a record is cut in. */
HX_NO_COVERAGE_LOOP static void decode_state(const uint8_t *p, struct hv_vcpu_state *st)
{
	for (int i = 0; i < HV_GPR_COUNT; i++)
		st->gpr[i] = tr_get_le(p + 8 * i, 8);
	p += 8 * HV_GPR_COUNT;
	st->rip = tr_get_le(p, 8);
	st->rflags = tr_get_le(p + 8, 8);
	st->cr0 = tr_get_le(p + 16, 8);
	st->cr3 = tr_get_le(p + 24, 8);
	st->cr4 = tr_get_le(p + 32, 8);
	st->efer = tr_get_le(p + 40, 8);
	st->cpl = p[48];
}

static bool get_state(struct rd *r, struct hv_vcpu_state *st, const char *const gpr[], bool is_in)
{
	if (rd_left(r) >= TR_STATE_BYTES && !r->failed) {
		decode_state(rd_bytes(r, "state", TR_STATE_BYTES), st);
		return true;
	}
	for (int i = 0; i < HV_GPR_COUNT; i++)
		if (!rd_u64(r, gpr[i], &st->gpr[i]))
			return false;
	return rd_u64(r, is_in ? "in.st.rip" : "out.st.rip", &st->rip) &&
	       rd_u64(r, is_in ? "in.st.rflags" : "out.st.rflags", &st->rflags) &&
	       rd_u64(r, is_in ? "in.st.cr0" : "out.st.cr0", &st->cr0) &&
	       rd_u64(r, is_in ? "in.st.cr3" : "out.st.cr3", &st->cr3) &&
	       rd_u64(r, is_in ? "in.st.cr4" : "out.st.cr4", &st->cr4) &&
	       rd_u64(r, is_in ? "in.st.efer" : "out.st.efer", &st->efer) &&
	       rd_u8(r, is_in ? "in.st.cpl" : "out.st.cpl", &st->cpl);
}

/* Length and placement of a phys op: within one page, as the platform
 * contract (hv/platform.h) guarantees. */
static bool phys_len_ok(const struct hx_obs_entry *e)
{
	return e->len != 0 && e->len <= HX_TRACE_MAX_OP_LEN &&
	       (e->addr & (HV_PAGE_SIZE - 1)) + e->len <= HV_PAGE_SIZE;
}

static bool get_phys(struct rd *r, struct hx_obs_entry *e)
{
	if (!rd_u64(r, "hpa", &e->addr) || !rd_u32(r, "len", &e->len))
		return false;
	if (!phys_len_ok(e)) {
		r->pos -= 4;
		rd_fail(r, "len", "%u bytes at hpa 0x%llx: zero, over %u or crossing a page",
		        e->len, (unsigned long long)e->addr, HX_TRACE_MAX_OP_LEN);
		return false;
	}
	return true;
}

/* Bytes of an op: copied into the exit's data area (within budget). */
static bool get_payload(struct rd *r, const char *field, uint32_t len, uint8_t *data,
                        uint32_t *used, uint32_t *off)
{
	if (len > HX_TRACE_MAX_EXIT_DATA - *used) {
		rd_fail(r, field, "the exit's calls carry more than %u bytes",
		        HX_TRACE_MAX_EXIT_DATA);
		return false;
	}
	const uint8_t *p = rd_bytes(r, field, len);
	if (!p)
		return false;
	memcpy(data + *used, p, len);
	*off = *used;
	*used += len;
	return true;
}

static bool get_op(struct rd *r, struct hx_obs_entry *e, uint8_t *data, uint32_t *used)
{
	uint8_t flags;
	memset(e, 0, sizeof(*e));
	if (!rd_u8(r, "kind", &e->kind))
		return false;
	if (e->kind < HX_OBS_CPUID || e->kind > HX_OBS_KIND_MAX) {
		r->pos -= 1;
		rd_fail(r, "kind", "unknown platform call kind %u", e->kind);
		return false;
	}
	if (!rd_u8(r, "flags", &flags))
		return false;
	uint8_t allowed = TR_OP_FAILED | (e->kind == HX_OBS_PHYS_WRITE ? TR_OP_BEFORE : 0);
	if (flags & ~allowed) {
		r->pos -= 1;
		rd_fail(r, "flags", "flags 0x%x not valid for a %s call", flags,
		        hx_obs_kind_str(e->kind));
		return false;
	}
	e->failed = (flags & TR_OP_FAILED) != 0;
	e->has_before = (flags & TR_OP_BEFORE) != 0;
	switch (e->kind) {
	case HX_OBS_CPUID:
		if (!rd_u32(r, "leaf", &e->id) || !rd_u32(r, "subleaf", &e->sub))
			return false;
		for (int k = 0; k < 4; k++)
			if (!rd_u32(r, "answer", &e->regs[k]))
				return false;
		return true;
	case HX_OBS_RDMSR:
	case HX_OBS_WRMSR:
		return rd_u32(r, "msr", &e->id) && rd_u64(r, "value", &e->value);
	case HX_OBS_PHYS_READ:
		if (!get_phys(r, e))
			return false;
		return e->failed || get_payload(r, "data", e->len, data, used, &e->data);
	case HX_OBS_PHYS_WRITE:
		if (!get_phys(r, e) || !get_payload(r, "data", e->len, data, used, &e->data))
			return false;
		return !e->has_before || get_payload(r, "before", e->len, data, used, &e->before);
	case HX_OBS_CONSOLE:
		if (!rd_u32(r, "partition", &e->id) || !rd_u32(r, "len", &e->len))
			return false;
		if (e->len > HX_TRACE_MAX_OP_LEN) {
			r->pos -= 4;
			rd_fail(r, "len", "%u console bytes, over the limit of %u", e->len,
			        HX_TRACE_MAX_OP_LEN);
			return false;
		}
		return get_payload(r, "data", e->len, data, used, &e->data);
	case HX_OBS_EPT_CHANGED:
		return rd_u32(r, "partition", &e->id) && rd_u64(r, "gpa", &e->addr) &&
		       rd_u64(r, "size", &e->value);
	default:
		return false;
	}
}

static bool get_result(struct rd *r, struct hv_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!rd_u32(r, "res.action", &res->action))
		return false;
	if (res->action >= HV_ACT_COUNT) {
		r->pos -= 4;
		rd_fail(r, "res.action", "unknown action %u", res->action);
		return false;
	}
	return rd_u8(r, "res.vector", &res->vector) &&
	       rd_u8(r, "res.has_error_code", &res->has_error_code) &&
	       rd_u32(r, "res.error_code", &res->error_code) &&
	       rd_u32(r, "res.halt_reason", &res->halt_reason) &&
	       rd_u32(r, "res.insn_len", &res->insn_len) &&
	       rd_u8(r, "res.has_mmio", &res->has_mmio) &&
	       rd_u64(r, "res.mmio.gpa", &res->mmio.gpa) &&
	       rd_u64(r, "res.mmio.data", &res->mmio.data) &&
	       rd_u8(r, "res.mmio.size", &res->mmio.size) &&
	       rd_u8(r, "res.mmio.is_write", &res->mmio.is_write) &&
	       rd_u8(r, "res.mmio.reg", &res->mmio.reg) &&
	       rd_u8(r, "res.mmio.insn_len", &res->mmio.insn_len) &&
	       rd_u32(r, "res.msr.msr", &res->msr.msr) &&
	       rd_u32(r, "res.msr.valid", &res->msr.valid) &&
	       rd_u64(r, "res.msr.value", &res->msr.value);
}

/* One call whole, from bytes known to be there, with every check get_op
 * makes; false when any would fail or the record is cut short: get_op then
 * reads the same call again and names the field. A call is most of a
 * log, and field by field it is up to ten bounds checks. */
HX_NO_COVERAGE_LOOP static bool get_op_at_once(struct rd *r, struct hx_obs_entry *e, uint8_t *data,
                                               uint32_t *used)
{
	size_t left = rd_left(r);
	if (r->failed || left < 2)
		return false;
	const uint8_t *p = r->buf + (r->pos - r->base);
	uint8_t kind = p[0], flags = p[1];
	uint8_t allowed = TR_OP_FAILED | (kind == HX_OBS_PHYS_WRITE ? TR_OP_BEFORE : 0);
	if (kind < HX_OBS_CPUID || kind > HX_OBS_KIND_MAX || (flags & ~allowed))
		return false;
	*e = (struct hx_obs_entry){.kind = kind,
	                           .failed = (flags & TR_OP_FAILED) != 0,
	                           .has_before = (flags & TR_OP_BEFORE) != 0};
	const uint8_t *f = p + 2;
	size_t n = 2, bytes = 0;
	switch (kind) {
	case HX_OBS_CPUID:
		if (left < (n += 24))
			return false;
		e->id = (uint32_t)tr_get_le(f, 4);
		e->sub = (uint32_t)tr_get_le(f + 4, 4);
		for (int k = 0; k < 4; k++)
			e->regs[k] = (uint32_t)tr_get_le(f + 8 + 4 * k, 4);
		break;
	case HX_OBS_RDMSR:
	case HX_OBS_WRMSR:
		if (left < (n += 12))
			return false;
		e->id = (uint32_t)tr_get_le(f, 4);
		e->value = tr_get_le(f + 4, 8);
		break;
	case HX_OBS_EPT_CHANGED:
		if (left < (n += 20))
			return false;
		e->id = (uint32_t)tr_get_le(f, 4);
		e->addr = tr_get_le(f + 4, 8);
		e->value = tr_get_le(f + 12, 8);
		break;
	case HX_OBS_CONSOLE:
		if (left < (n += 8))
			return false;
		e->id = (uint32_t)tr_get_le(f, 4);
		e->len = (uint32_t)tr_get_le(f + 4, 4);
		if (e->len > HX_TRACE_MAX_OP_LEN)
			return false;
		bytes = e->len;
		break;
	default: /* PHYS_READ, PHYS_WRITE */
		if (left < (n += 12))
			return false;
		e->addr = tr_get_le(f, 8);
		e->len = (uint32_t)tr_get_le(f + 8, 4);
		if (!phys_len_ok(e))
			return false;
		bytes = op_has_bytes(e) ? e->len : 0;
		if (e->has_before)
			bytes += e->len;
		break;
	}
	if (bytes > left - n || bytes > HX_TRACE_MAX_EXIT_DATA - *used)
		return false;
	/* Offsets as get_payload sets them: a call with bytes gets one even
	 * when it carries none (an empty console write). */
	if (op_has_bytes(e)) {
		memcpy(data + *used, p + n, bytes);
		e->data = *used;
		if (e->has_before)
			e->before = *used + e->len;
		*used += (uint32_t)bytes;
	}
	r->pos += n + bytes;
	return true;
}

/* The count > 0 platform calls of an exit's log, into one block of the
 * trace's arena: room for as many bytes as the record has left, then cut
 * to what the calls carry. */
static bool get_log(struct rd *r, struct hx_trace *t, struct hx_trace_exit *e, uint32_t count)
{
	size_t data_cap = rd_left(r) < HX_TRACE_MAX_EXIT_DATA ? rd_left(r) : HX_TRACE_MAX_EXIT_DATA;
	size_t ents = (size_t)count * sizeof(struct hx_obs_entry);
	uint8_t *block = tr_arena_alloc(t, ents + data_cap);
	if (!block) {
		rd_fail(r, "log", "out of memory");
		return false;
	}
	struct hx_obs_entry *entries = (struct hx_obs_entry *)block;
	uint8_t *data = block + ents;
	uint32_t used = 0;
	for (uint32_t i = 0; i < count; i++) {
		r->scope1 = "op";
		r->idx1 = i;
		if (!get_op_at_once(r, &entries[i], data, &used) &&
		    !get_op(r, &entries[i], data, &used))
			return false;
	}
	tr_arena_trim(t, block, ents + used);
	r->scope1 = NULL;
	e->log.entries = entries;
	e->log.nentries = count;
	e->log.data = data;
	e->log.data_len = used;
	return true;
}

/* The exit's fields before its state; at once when they are all there, as
 * decode_state does. */
HX_NO_COVERAGE_LOOP static void decode_input(const uint8_t *p, struct hv_exit *in)
{
	in->reason = (uint32_t)tr_get_le(p + TR_EXIT_REASON, 4);
	in->partition = (uint32_t)tr_get_le(p + TR_EXIT_PARTITION, 4);
	in->vcpu = (uint32_t)tr_get_le(p + TR_EXIT_VCPU, 4);
	in->insn_len = (uint32_t)tr_get_le(p + TR_EXIT_INSN_LEN, 4);
	in->qual = tr_get_le(p + TR_EXIT_QUAL, 8);
	in->gpa = tr_get_le(p + TR_EXIT_GPA, 8);
	in->gla = tr_get_le(p + TR_EXIT_GLA, 8);
}

static bool get_input(struct rd *r, struct hv_exit *in)
{
	if (rd_left(r) >= TR_EXIT_GPR && !r->failed) {
		decode_input(rd_bytes(r, "in", TR_EXIT_GPR), in);
		return true;
	}
	return rd_u32(r, "in.reason", &in->reason) && rd_u32(r, "in.partition", &in->partition) &&
	       rd_u32(r, "in.vcpu", &in->vcpu) && rd_u32(r, "in.insn_len", &in->insn_len) &&
	       rd_u64(r, "in.qual", &in->qual) && rd_u64(r, "in.gpa", &in->gpa) &&
	       rd_u64(r, "in.gla", &in->gla);
}

bool tr_get_exit(struct rd *r, struct hx_trace *t, struct hx_trace_exit *e)
{
	struct hv_exit *in = &e->in;
	memset(e, 0, sizeof(*e));
	e->offset = r->pos;
	uint8_t flags;
	uint32_t count;
	if (!get_input(r, in) || !get_state(r, &in->st, in_gpr, true) || !rd_u8(r, "flags", &flags))
		return false;
	if (flags & ~HX_TREC_OUTPUTS) {
		r->pos -= 1;
		rd_fail(r, "flags", "unknown exit flags 0x%x", flags);
		return false;
	}
	e->flags = flags;
	if (!rd_u32(r, "log.overflow", &e->log.overflow) || !rd_u32(r, "log.count", &count))
		return false;
	if (count > HX_TRACE_MAX_OPS) {
		r->pos -= 4;
		rd_fail(r, "log.count", "%u platform calls, over the limit of %u", count,
		        HX_TRACE_MAX_OPS);
		return false;
	}
	/* Every op takes at least 2 bytes: a count the record cannot hold is
	 * refused before anything is allocated for it. */
	if ((uint64_t)count * 2 > rd_left(r)) {
		r->pos -= 4;
		rd_fail(r, "log.count", "%u platform calls cannot fit in the %zu bytes left", count,
		        rd_left(r));
		return false;
	}
	/* No calls (two exits in five of the exit corpus): nothing to store;
	 * the log's arrays stay NULL with their counts 0. */
	if (count > 0 && !get_log(r, t, e, count))
		return false;
	if (flags & HX_TREC_OUTPUTS)
		return get_result(r, &e->res) && get_state(r, &e->out, out_gpr, false);
	return true;
}
