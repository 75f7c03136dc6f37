/* Names, expectations and the printed report of a run (run_report.h). */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "hv/verify.h"
#include "run_report.h"

static const char *const outcome_names[HXK_OUT_COUNT] = {
        [HXK_OUT_NOT_RUN] = "not run", [HXK_OUT_RUNNING] = "running", [HXK_OUT_PASS] = "pass",
        [HXK_OUT_FAIL] = "fail",       [HXK_OUT_HALTED] = "halted",   [HXK_OUT_TIMEOUT] = "timeout",
        [HXK_OUT_CRASH] = "crash",
};

const char *hxk_outcome_str(enum hxk_outcome o)
{
	return (unsigned)o < HXK_OUT_COUNT ? outcome_names[o] : "unknown";
}

const char *hxk_kind_str(uint32_t kind)
{
	switch (kind) {
	case HXK_K_UCALL:
		return "ucall";
	case HXK_K_STEP:
		return "single-step";
	case HXK_K_INTR:
		return "timer-kick";
	case HXK_K_OTHER:
		return "other";
	default:
		return kind < HV_EXIT_COUNT ? hv_exit_reason_str(kind) : "unknown";
	}
}

bool hxk_expect_parse(const char *text, struct hxk_expect *out)
{
	memset(out, 0, sizeof(*out));
	static const enum hxk_outcome simple[] = {HXK_OUT_PASS, HXK_OUT_FAIL, HXK_OUT_TIMEOUT,
	                                          HXK_OUT_CRASH, HXK_OUT_HALTED};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (!strcmp(text, outcome_names[simple[i]])) {
			out->outcome = simple[i];
			return true;
		}
	}
	if (strncmp(text, "halted:", 7) != 0)
		return false;
	for (uint32_t r = HV_HALT_NONE + 1; r < HV_HALT_COUNT; r++) {
		if (!strcmp(text + 7, hv_halt_reason_str(r))) {
			out->outcome = HXK_OUT_HALTED;
			out->halt_reason = r;
			return true;
		}
	}
	return false;
}

static void print_expect(FILE *f, const struct hxk_expect *e)
{
	fprintf(f, "%s", hxk_outcome_str(e->outcome));
	if (e->outcome == HXK_OUT_HALTED && e->halt_reason != HV_HALT_NONE)
		fprintf(f, ":%s", hv_halt_reason_str(e->halt_reason));
}

static void print_part(FILE *f, const struct hv_system_config *cfg, uint32_t i,
                       const struct hxk_part_report *pr)
{
	fprintf(f, "partition %u \"%s\": ", i, hx_esc(cfg->partitions[i].name));
	if (pr->outcome == HXK_OUT_NOT_RUN) {
		fprintf(f, "not run\n");
		return;
	}
	fprintf(f, "%s", hxk_outcome_str(pr->outcome));
	if (pr->outcome == HXK_OUT_HALTED)
		fprintf(f, ": %s", hv_halt_reason_str(pr->halt_reason));
	if (pr->detail[0])
		fprintf(f, " (%s)", pr->detail);
	if (!pr->as_expected) {
		fprintf(f, " -- expected ");
		print_expect(f, &pr->expect);
	} else if (pr->expect.outcome != HXK_OUT_PASS) {
		fprintf(f, " -- as expected");
	}
	fprintf(f,
	        "\n  exits: %llu core exits on %u vCPU%s in %.3f s:", (unsigned long long)pr->exits,
	        pr->nvcpus, pr->nvcpus == 1 ? "" : "s", pr->seconds);
	bool any = false;
	for (uint32_t k = 0; k < HXK_K_COUNT; k++) {
		if (!pr->by_kind[k] || k == HXK_K_INTR)
			continue;
		fprintf(f, "%s %s %llu", any ? "," : "", hxk_kind_str(k),
		        (unsigned long long)pr->by_kind[k]);
		if (k == HV_EXIT_EPT_VIOLATION)
			fprintf(f, " (mmio read %llu, mmio write %llu, fetch %llu)",
			        (unsigned long long)pr->ept_kinds[HXK_EPT_MMIO_READ],
			        (unsigned long long)pr->ept_kinds[HXK_EPT_MMIO_WRITE],
			        (unsigned long long)pr->ept_kinds[HXK_EPT_FETCH]);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : " none");
	fprintf(f, "  checks: %llu invariant checks, %llu violation%s\n",
	        (unsigned long long)pr->checks, (unsigned long long)pr->violations,
	        pr->violations == 1 ? "" : "s");
	if (pr->cpl3_hcalls)
		fprintf(f, "  CPL 3 hypercalls refused by the core with #UD: %llu\n",
		        (unsigned long long)pr->cpl3_hcalls);
	for (uint32_t b = 0; b < HXK_UNENF_COUNT; b++)
		if (pr->unenforced & (1u << b))
			fprintf(f, "  not enforced by KVM: %s\n", hxk_unenforced_str(1u << b));
}

static void print_stats(FILE *f, const struct hxk_report *rep)
{
	fprintf(f, "per-exit overhead, mean ns per exit:\n"
	           "  kvm      inside KVM_RUN (the exit round trip, plus guest time since the "
	           "previous exit)\n"
	           "  user     userspace, from KVM_RUN's return to the next KVM_RUN, of which:\n"
	           "  handler  hv_handle_exit; oracles: observer + per-exit invariant checks; "
	           "record: trace\n"
	           "  runner   the rest: exit decoding, completion, applying the result\n");
	fprintf(f, "  %-14s %9s %9s %9s %9s %9s %9s %9s %9s\n", "type", "count", "kvm", "user",
	        "handler", "oracles", "record", "runner", "handler%");
	for (uint32_t k = 0; k < HXK_K_COUNT; k++) {
		const struct hxk_kind_stats *s = &rep->stats[k];
		if (!s->count)
			continue;
		double n = (double)s->count;
		double round = (double)(s->kvm_ns + s->total_ns);
		double own = (double)s->total_ns - (double)s->handler_ns - (double)s->oracle_ns -
		             (double)s->record_ns;
		fprintf(f, "  %-14s %9llu %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %8.2f%%\n",
		        hxk_kind_str(k), (unsigned long long)s->count, (double)s->kvm_ns / n,
		        (double)s->total_ns / n, (double)s->handler_ns / n,
		        (double)s->oracle_ns / n, (double)s->record_ns / n, own / n,
		        round > 0 ? 100.0 * (double)s->handler_ns / round : 0);
	}
}

void hxk_report_print(FILE *f, const struct hv_system_config *cfg, const struct hxk_report *rep,
                      bool stats)
{
	uint32_t ran = 0, good = 0;
	for (uint32_t i = 0; i < rep->npartitions; i++) {
		print_part(f, cfg, i, &rep->parts[i]);
		if (rep->parts[i].outcome != HXK_OUT_NOT_RUN) {
			ran++;
			good += rep->parts[i].as_expected;
		}
	}
	if (rep->nviolations) {
		fprintf(f, "violations (%llu):\n", (unsigned long long)rep->nviolations);
		for (uint32_t i = 0; i < rep->nstored; i++) {
			const struct hxk_violation *v = &rep->violations[i];
			fprintf(f, "  %s exit %llu", hv_invariant_id(v->inv),
			        (unsigned long long)v->exit_index);
			if (v->partition >= 0)
				fprintf(f, " partition %d", v->partition);
			fprintf(f, ": %s\n", v->msg);
		}
		if (rep->nviolations > rep->nstored)
			fprintf(f, "  ... %llu more\n",
			        (unsigned long long)(rep->nviolations - rep->nstored));
	}
	if (rep->checks_note)
		fprintf(f, "note: %s\n", rep->checks_note);
	else if (!rep->oracles)
		fprintf(f,
		        "note: built without the per-exit oracles; only hv_ept_verify, DECODE-EQ "
		        "and guest canary reports were checked\n");
	if (rep->recorded)
		fprintf(f, "trace: %llu exits recorded\n", (unsigned long long)rep->trace_exits);
	if (stats)
		print_stats(f, rep);
	fprintf(f,
	        "result: %s (%u of %u partition%s as expected, %llu core exits, %llu invariant "
	        "checks, %llu violation%s",
	        rep->passed ? "PASS" : "FAIL", good, ran, ran == 1 ? "" : "s",
	        (unsigned long long)rep->total_exits, (unsigned long long)rep->total_checks,
	        (unsigned long long)rep->nviolations, rep->nviolations == 1 ? "" : "s");
	bool first = true;
	for (uint32_t inv = 0; inv < HV_INV_COUNT; inv++) {
		if (!rep->per_inv[inv])
			continue;
		fprintf(f, "%s%s %llu", first ? ": " : ", ",
		        hv_invariant_id((enum hv_invariant)inv),
		        (unsigned long long)rep->per_inv[inv]);
		first = false;
	}
	fprintf(f, "; %.2f s)\n", rep->seconds);
}

void hxk_report_finish(struct hxk_report *rep, uint32_t npartitions, const struct hxk_options *opt)
{
	bool ok = true;
	for (uint32_t i = 0; i < npartitions; i++) {
		struct hxk_part_report *pr = &rep->parts[i];
		pr->expect = opt->expect[i];
		if (pr->outcome == HXK_OUT_NOT_RUN) {
			pr->as_expected = true;
			continue;
		}
		pr->as_expected = pr->outcome == pr->expect.outcome &&
		                  (pr->expect.outcome != HXK_OUT_HALTED ||
		                   pr->expect.halt_reason == HV_HALT_NONE ||
		                   pr->expect.halt_reason == pr->halt_reason);
		ok = ok && pr->as_expected;
	}
	for (uint32_t inv = 0; inv < HV_INV_COUNT; inv++) {
		bool expected = (opt->expect_inv >> inv) & 1u;
		if ((rep->per_inv[inv] != 0) != expected)
			ok = false;
	}
	rep->passed = ok;
}

void hxk_options_default(struct hxk_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = 10.0;
	o->max_exits = 1000000;
	o->only_partition = -1;
	for (uint32_t i = 0; i < HV_MAX_PARTITIONS; i++)
		o->expect[i].outcome = HXK_OUT_PASS;
	o->out = stdout;
}

const char *hxk_unenforced_str(uint32_t bit)
{
	switch (bit) {
	case HXK_UNENF_NX_RW:
		return "execute-disable not enforced for RW pages (KVM maps them read-write, "
		       "executable)";
	case HXK_UNENF_NX_R:
		return "execute-disable not enforced for read-only pages (KVM maps them "
		       "read-only, executable)";
	case HXK_UNENF_X_ONLY:
		return "execute-only pages left unmapped (KVM has no execute-only slots): "
		       "fetches from them exit as EPT violations";
	case HXK_UNENF_W_ONLY:
		return "write-without-read pages left unmapped (an EPT misconfiguration)";
	case HXK_UNENF_MEMTYPE:
		return "memory types not enforced (UC/WC/WT/WP pages behave as WB host memory)";
	case HXK_UNENF_OUTSIDE:
		return "runs beyond host memory left unmapped";
	default:
		return "unknown";
	}
}
