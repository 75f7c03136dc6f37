/* The bootable image's event stream (hv/boot.h) folded into a run report.
 * Every frame is checked before it is used: lengths, indices and types
 * come from a program under test. Guest text is escaped before printing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_runner.h"
#include "escape.h"
#include "hv/boot.h"
#include "hv/guest_abi.h"
#include "hv/verify.h"
#include "hv/xlat.h"
#include "realeq.h"
#include "run_ucall.h"
#include "trace.h"

struct hxb_events {
	const struct hv_system_config *cfg;
	const struct hxb_options *opt;
	struct hxk_report *rep;
	uint8_t buf[sizeof(struct hv_ev_header) + HV_BOOT_EVENT_MAX];
	size_t have;
	uint64_t offset; /* stream bytes consumed */
	bool done;
	bool hello;
	double t_hello; /* stream time of HELLO, for the TSC rate */
	char fatal[4 * HV_BOOT_EVENT_MAX + 4];
	char con[HV_MAX_PARTITIONS][256];
	struct hx_trace_writer *trace; /* --record: opened at HELLO */
	bool trace_failed;
	char trace_err[512];
	struct hx_realeq_exit rec;
	struct hv_ev_counts counts[HV_MAX_PARTITIONS];
	bool have_counts[HV_MAX_PARTITIONS];
	uint64_t boot_checks; /* HELLO's */
	uint32_t conlen[HV_MAX_PARTITIONS];
};

struct hxb_events *hxb_events_new(const struct hv_system_config *cfg, const struct hxb_options *opt,
                                  struct hxk_report *rep)
{
	struct hxb_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->cfg = cfg;
	ev->opt = opt;
	ev->rep = rep;
	return ev;
}

void hxb_events_free(struct hxb_events *ev)
{
	if (ev && ev->trace)
		hx_trace_writer_abort(ev->trace);
	free(ev);
}

static int open_trace(struct hxb_events *ev, const struct hv_ev_hello *h)
{
	if (!ev->opt->run.record)
		return 0;
	if (h->pool_pages > UINT32_MAX)
		return -1;
	struct hx_trace_meta meta = {
	        .cfg = ev->cfg,
	        .config_name = ev->opt->run.config_name,
	        .note = "recorded by hx boot: the booted image under QEMU TCG (-cpu EPYC, emulated "
	                "SVM with nested paging)",
	        .pool_hpa = h->pool_hpa,
	        .pool_pages = (uint32_t)h->pool_pages};
	ev->trace = hx_trace_writer_open(ev->opt->run.record, &meta, ev->trace_err,
	                                 sizeof(ev->trace_err));
	if (!ev->trace)
		ev->trace_failed = true;
	return 0;
}

/* One REAL-EQ record (harness/equiv/realeq) into the trace. */
static int on_record(struct hxb_events *ev, const uint8_t *b, uint32_t len)
{
	if (!ev->opt->run.record || hx_realeq_decode(b, len, &ev->rec) != 0)
		return -1;
	if (!ev->trace || ev->trace_failed)
		return 0;
	if (hx_trace_writer_add(ev->trace, &ev->rec.in, &ev->rec.log, &ev->rec.res, &ev->rec.out) !=
	    0) {
		ev->trace_failed = true;
		snprintf(ev->trace_err, sizeof(ev->trace_err),
		         "exit %llu could not be added to the trace (a limit of the format)",
		         (unsigned long long)ev->rec.index);
	}
	ev->rep->trace_exits++;
	return 0;
}

int hxb_events_commit_trace(struct hxb_events *ev, struct hxk_err *err)
{
	if (!ev->opt->run.record)
		return 0;
	if (!ev->trace || ev->trace_failed)
		return hxk_fail(err, "--record %s: %s", hx_esc(ev->opt->run.record),
		                ev->trace_err[0] ? ev->trace_err : "no trace was started");
	struct hx_trace_writer *t = ev->trace;
	ev->trace = NULL;
	char msg[512];
	if (hx_trace_writer_commit(t, msg, sizeof(msg)) != 0)
		return hxk_fail(err, "--record %s: %s", hx_esc(ev->opt->run.record), msg);
	ev->rep->recorded = true;
	return 0;
}

const char *hxb_events_fatal(const struct hxb_events *ev)
{
	return ev->fatal[0] ? ev->fatal : NULL;
}

bool hxb_events_done(const struct hxb_events *ev)
{
	return ev->done;
}

void hxb_stats_print(FILE *f, const struct hxk_report *rep)
{
	fprintf(f, "per-exit cost in the booted image, EMULATED: QEMU TCG interprets the guest, "
	           "VMRUN and #VMEXIT\n"
	           "(mean ns per exit; TSC ticks converted at the rate of the run's wall clock):\n"
	           "  round    VMRUN to the result applied: the emulated world switch both ways, "
	           "the guest's own\n"
	           "           instructions since its last exit, the VMCB layer and the handler\n"
	           "  handler  hv_handle_exit\n");
	if (rep->stats_wall_s > 0)
		fprintf(f,
		        "  whole run: %llu core exits in %.3f s from the first VMRUN: %.0f "
		        "exits/s, "
		        "ucalls, the event stream and guest work included\n",
		        (unsigned long long)rep->total_exits, rep->stats_wall_s,
		        (double)rep->total_exits / rep->stats_wall_s);
	fprintf(f, "  %-14s %9s %10s %9s %10s %9s\n", "type", "count", "round", "handler",
	        "exits/s", "handler%");
	for (uint32_t k = 0; k < HXK_K_COUNT; k++) {
		const struct hxk_kind_stats *s = &rep->stats[k];
		if (!s->count)
			continue;
		double n = (double)s->count, round = (double)s->total_ns / n;
		fprintf(f, "  %-14s %9llu %10.0f %9.0f %10.0f %8.2f%%\n", hxk_kind_str(k),
		        (unsigned long long)s->count, round, (double)s->handler_ns / n,
		        round > 0 ? 1e9 / round : 0,
		        s->total_ns ? 100.0 * (double)s->handler_ns / (double)s->total_ns : 0);
	}
}

static FILE *out(const struct hxb_events *ev)
{
	return ev->opt->run.out ? ev->opt->run.out : stdout;
}

static const char *pname(const struct hxb_events *ev, uint32_t p)
{
	return hx_esc(ev->cfg->partitions[p].name);
}

static void violation(struct hxb_events *ev, uint32_t inv, int32_t part, uint64_t exit_index,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void violation(struct hxb_events *ev, uint32_t inv, int32_t part, uint64_t exit_index,
                      const char *fmt, ...)
{
	struct hxk_report *rep = ev->rep;
	rep->nviolations++;
	if (inv < HV_INV_COUNT)
		rep->per_inv[inv]++;
	if (part >= 0 && (uint32_t)part < ev->cfg->npartitions)
		rep->parts[part].violations++;
	if (rep->nstored < HXK_MAX_REPORTED_VIOLATIONS) {
		struct hxk_violation *v = &rep->violations[rep->nstored++];
		v->inv = (enum hv_invariant)inv;
		v->partition = part;
		v->exit_index = exit_index;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
		va_end(ap);
	}
}

static void stop(struct hxb_events *ev, uint32_t p, enum hxk_outcome o, uint32_t halt_reason,
                 double now, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void stop(struct hxb_events *ev, uint32_t p, enum hxk_outcome o, uint32_t halt_reason,
                 double now, const char *fmt, ...)
{
	struct hxk_part_report *pr = &ev->rep->parts[p];
	if (pr->outcome != HXK_OUT_RUNNING)
		return;
	pr->outcome = o;
	pr->halt_reason = halt_reason;
	pr->seconds = now;
	if (fmt && !pr->detail[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pr->detail, sizeof(pr->detail), fmt, ap);
		va_end(ap);
	}
}

static void console_flush(struct hxb_events *ev, uint32_t p)
{
	if (ev->conlen[p] && !ev->opt->run.quiet) {
		char text[4 * sizeof(ev->con[p]) + 4];
		hx_escape_n(ev->con[p], ev->conlen[p], text, sizeof(text));
		fprintf(out(ev), "[%s console] %s\n", pname(ev, p), text);
	}
	ev->conlen[p] = 0;
}

static int on_console(struct hxb_events *ev, const uint8_t *b, uint32_t len)
{
	uint32_t p;
	if (len < 4)
		return -1;
	memcpy(&p, b, 4);
	if (p >= ev->cfg->npartitions)
		return -1;
	for (uint32_t i = 4; i < len; i++) {
		if (b[i] == '\n') {
			console_flush(ev, p);
			continue;
		}
		if (ev->conlen[p] == sizeof(ev->con[p]))
			console_flush(ev, p);
		ev->con[p][ev->conlen[p]++] = (char)b[i];
	}
	return 0;
}

static int on_ucall(struct hxb_events *ev, const uint8_t *b, uint32_t len, double now)
{
	struct hv_ev_ucall e;
	struct hx_ucall uc;
	_Static_assert(sizeof(e.ucall) == sizeof(uc), "ucall bytes");
	if (len != sizeof(e))
		return -1;
	memcpy(&e, b, sizeof(e));
	memcpy(&uc, e.ucall, sizeof(uc));
	uint32_t p = e.partition, v = e.vcpu;
	if (p >= ev->cfg->npartitions || v >= HV_MAX_VCPUS)
		return -1;
	struct hxk_part_report *pr = &ev->rep->parts[p];
	pr->by_kind[HXK_K_UCALL]++;
	struct hxk_ucall_read u;
	hxk_ucall_read(ev->cfg, &uc, v, NULL, &u);
	switch (u.kind) {
	case HXK_UC_SYNC:
		pr->syncs++;
		pr->last_sync = u.stage;
		if (ev->opt->run.verbose)
			fprintf(out(ev), "[%s/%u] %s\n", pname(ev, p), v, u.text);
		break;
	case HXK_UC_PRINT:
		if (!ev->opt->run.quiet)
			fprintf(out(ev), "[%s/%u] %s\n", pname(ev, p), v, u.text);
		break;
	case HXK_UC_DONE:
		break; /* the image stops the partition when its last vCPU is done */
	case HXK_UC_STOP:
		stop(ev, p, u.outcome, 0, now, "%s", u.text);
		break;
	case HXK_UC_FOUND:
		violation(ev, HV_INV_EPT_OWN, (int32_t)p, ev->rep->total_exits, "%s", u.text);
		break;
	}
	return 0;
}

/* A partition's counters replace its previous ones; the report's totals
 * and per-kind statistics are summed again from every partition's. */
static int on_counts(struct hxb_events *ev, const uint8_t *b, uint32_t len)
{
	struct hv_ev_counts c;
	if (len != sizeof(c))
		return -1;
	memcpy(&c, b, sizeof(c));
	if (c.partition >= ev->cfg->npartitions)
		return -1;
	uint64_t sum = 0;
	for (uint32_t k = 0; k < HV_BOOT_KINDS; k++)
		sum += c.count[k];
	if (sum != c.exits || c.mmio_read + c.mmio_write > c.count[HV_EXIT_EPT_VIOLATION] ||
	    c.cpl3_refused > c.count[HV_EXIT_VMCALL])
		return -1; /* counters that do not add up */
	ev->counts[c.partition] = c;
	ev->have_counts[c.partition] = true;
	struct hxk_report *rep = ev->rep;
	struct hxk_part_report *pr = &rep->parts[c.partition];
	pr->exits = c.exits;
	pr->checks = c.checks;
	pr->cpl3_hcalls = c.cpl3_refused;
	pr->ept_kinds[HXK_EPT_MMIO_READ] = c.mmio_read;
	pr->ept_kinds[HXK_EPT_MMIO_WRITE] = c.mmio_write;
	for (uint32_t k = 0; k < HV_EXIT_COUNT; k++)
		pr->by_kind[k] = c.count[k];
	pr->by_kind[HXK_K_OTHER] = c.count[HV_EXIT_COUNT];
	pr->by_kind[HXK_K_INTR] = c.slices;
	rep->total_exits = 0;
	rep->total_checks = ev->boot_checks;
	memset(rep->stats, 0, sizeof(rep->stats));
	for (uint32_t p = 0; p < ev->cfg->npartitions; p++) {
		if (!ev->have_counts[p])
			continue;
		const struct hv_ev_counts *q = &ev->counts[p];
		rep->total_exits += q->exits;
		rep->total_checks += q->checks;
		for (uint32_t k = 0; k < HV_BOOT_KINDS; k++) {
			struct hxk_kind_stats *s = &rep->stats[k < HV_EXIT_COUNT ? k : HXK_K_OTHER];
			s->count += q->count[k];
			s->handler_ns += q->tsc_handler[k]; /* TSC ticks until DONE converts them */
			s->total_ns += q->tsc_round[k];
		}
	}
	return 0;
}

static int on_stop(struct hxb_events *ev, const uint8_t *b, uint32_t len, double now)
{
	struct hv_ev_stop e;
	if (len != sizeof(e))
		return -1;
	memcpy(&e, b, sizeof(e));
	if (e.partition >= ev->cfg->npartitions)
		return -1;
	uint32_t p = e.partition;
	switch (e.why) {
	case HV_STOP_DONE:
		stop(ev, p, HXK_OUT_PASS, 0, now, NULL);
		break;
	case HV_STOP_ASSERT:
		stop(ev, p, HXK_OUT_FAIL, 0, now, "the guest reported a failure");
		break;
	case HV_STOP_HALTED:
		if (e.halt_reason == HV_HALT_NONE || e.halt_reason >= HV_HALT_COUNT)
			return -1;
		stop(ev, p, HXK_OUT_HALTED, e.halt_reason, now, "vCPU %u, exit code 0x%llx", e.vcpu,
		     (unsigned long long)e.exit_code);
		break;
	case HV_STOP_XLAT:
		stop(ev, p, HXK_OUT_HALTED, e.halt_reason < HV_HALT_COUNT ? e.halt_reason : 0, now,
		     "vCPU %u: exit code 0x%llx not translated: %s", e.vcpu,
		     (unsigned long long)e.exit_code,
		     e.detail < HV_XLAT_COUNT ? hv_xlat_str((enum hv_xlat)e.detail) : "?");
		break;
	case HV_STOP_BAD_UCALL:
		stop(ev, p, HXK_OUT_CRASH, 0, now,
		     "ucall struct at GPA 0x%llx is not readable guest memory or of unknown type",
		     (unsigned long long)e.detail);
		break;
	case HV_STOP_HUNG:
		stop(ev, p, HXK_OUT_TIMEOUT, 0, now, "exit budget used up after %llu exits",
		     (unsigned long long)e.detail);
		break;
	default:
		return -1;
	}
	return 0;
}

static int on_violation(struct hxb_events *ev, const uint8_t *b, uint32_t len)
{
	struct hv_ev_violation e;
	if (len != sizeof(e))
		return -1;
	memcpy(&e, b, sizeof(e));
	if (e.inv >= HV_INV_COUNT || e.reason >= HV_VR_COUNT)
		return -1;
	int32_t part = e.partition < ev->cfg->npartitions ? (int32_t)e.partition : -1;
	violation(ev, e.inv, part, e.exit_index,
	          "hv_ept_verify in the booted image: %s at GPA 0x%llx (HPA 0x%llx, entry "
	          "0x%016llx)",
	          hv_verify_reason_str((enum hv_verify_reason)e.reason), (unsigned long long)e.gpa,
	          (unsigned long long)e.hpa, (unsigned long long)e.entry);
	return 0;
}

static int frame(struct hxb_events *ev, uint32_t type, const uint8_t *b, uint32_t len, double now)
{
	switch (type) {
	case HV_EV_HELLO:
		if (len != sizeof(struct hv_ev_hello) || ev->hello)
			return -1;
		ev->hello = true;
		ev->t_hello = now;
		struct hv_ev_hello h;
		memcpy(&h, b, sizeof(h));
		ev->boot_checks = h.checks;
		ev->rep->total_checks = h.checks;
		return open_trace(ev, &h);
	case HV_EV_FATAL: {
		if (len)
			hx_escape_n(b, len, ev->fatal, sizeof(ev->fatal));
		else
			snprintf(ev->fatal, sizeof(ev->fatal), "(no message)");
		return 0;
	}
	case HV_EV_CONSOLE:
		return on_console(ev, b, len);
	case HV_EV_UCALL:
		return on_ucall(ev, b, len, now);
	case HV_EV_COUNTS:
		if (ev->done)
			return -1;
		return on_counts(ev, b, len);
	case HV_EV_STOP:
		return on_stop(ev, b, len, now);
	case HV_EV_VIOLATION:
		return on_violation(ev, b, len);
	case HV_EV_DONE: {
		struct hv_ev_done d;
		if (len != sizeof(d))
			return -1;
		memcpy(&d, b, sizeof(d));
		ev->done = true;
		/* Ticks to nanoseconds at the rate HELLO..DONE shows. */
		double ns_per_tick =
		        d.tsc_total ? (now - ev->t_hello) * 1e9 / (double)d.tsc_total : 0;
		for (uint32_t k = 0; k < HXK_K_COUNT; k++) {
			struct hxk_kind_stats *s = &ev->rep->stats[k];
			s->handler_ns = (uint64_t)((double)s->handler_ns * ns_per_tick);
			s->total_ns = (uint64_t)((double)s->total_ns * ns_per_tick);
		}
		ev->rep->stats_wall_s = now - ev->t_hello;
		return 0;
	}
	case HV_EV_RECORD:
		return on_record(ev, b, len);
	case HV_EV_LOG:
		if (len < 4)
			return -1;
		if (ev->opt->run.verbose) {
			char text[4 * 1024 + 4];
			hx_escape_n(b + 4, len - 4 < 1024 ? len - 4 : 1024, text, sizeof(text));
			fprintf(stderr, "hx boot: core log: %s\n", text);
		}
		return 0;
	default:
		return -1;
	}
}

int hxb_events_feed(struct hxb_events *ev, const uint8_t *buf, size_t len, double now_s,
                    struct hxk_err *err)
{
	const size_t hdr = sizeof(struct hv_ev_header);
	while (len) {
		size_t need = hdr;
		if (ev->have >= hdr) {
			struct hv_ev_header h;
			memcpy(&h, ev->buf, hdr);
			need = hdr + h.len;
		}
		size_t n = need - ev->have < len ? need - ev->have : len;
		memcpy(ev->buf + ev->have, buf, n);
		ev->have += n;
		buf += n;
		len -= n;
		if (ev->have < need)
			continue;
		struct hv_ev_header h;
		memcpy(&h, ev->buf, hdr);
		if (h.magic != HV_BOOT_FRAME_MAGIC || h.len > HV_BOOT_EVENT_MAX)
			return hxk_fail(
			        err, "event stream corrupt at byte %llu (magic 0x%04x, length %u)",
			        (unsigned long long)ev->offset, h.magic, h.len);
		if (ev->have == hdr && h.len)
			continue; /* header complete: now the payload */
		if (ev->done)
			return hxk_fail(err, "event stream: a frame after DONE at byte %llu",
			                (unsigned long long)ev->offset);
		if (frame(ev, h.type, ev->buf + hdr, h.len, now_s) != 0)
			return hxk_fail(
			        err,
			        "event stream: malformed event of type %u (%u bytes) at byte %llu",
			        h.type, h.len, (unsigned long long)ev->offset);
		ev->offset += ev->have;
		ev->have = 0;
	}
	return 0;
}

void hxb_events_finish(struct hxb_events *ev, bool timed_out, double now_s)
{
	for (uint32_t p = 0; p < ev->cfg->npartitions; p++) {
		console_flush(ev, p);
		if (ev->rep->parts[p].outcome == HXK_OUT_RUNNING)
			stop(ev, p, timed_out ? HXK_OUT_TIMEOUT : HXK_OUT_CRASH, 0, now_s,
			     timed_out ? "still running at the timeout"
			               : "the image ended without stopping it");
	}
}
