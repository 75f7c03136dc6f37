/* The run's bookkeeping: counts, violations, partitions stopping, vCPUs
 * done. Called by the exit path and the loop, never from inside exit
 * translation. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "runner_int.h"

uint64_t hxk_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- bookkeeping shared by the runner's files ------------------------------ */

void hxk_count(struct hxk_pstate *p, uint32_t kind)
{
	if (kind < HXK_K_COUNT)
		p->rep->by_kind[kind]++;
}

void hxk_violation(struct hxk_runner *R, enum hv_invariant inv, int32_t part, const char *fmt, ...)
{
	struct hxk_report *rep = R->rep;
	rep->nviolations++;
	if ((unsigned)inv < HV_INV_COUNT)
		rep->per_inv[inv]++;
	if (part >= 0 && (uint32_t)part < R->cfg->npartitions)
		rep->parts[part].violations++;
	if (rep->nstored < HXK_MAX_REPORTED_VIOLATIONS) {
		struct hxk_violation *v = &rep->violations[rep->nstored++];
		v->inv = inv;
		v->partition = part;
		v->exit_index = R->blame_index;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
		va_end(ap);
		if (R->opt->verbose)
			fprintf(stderr, "hx run: %s at exit %llu: %s\n", hv_invariant_id(inv),
			        (unsigned long long)v->exit_index, v->msg);
	}
}

void hxk_stop_partition(struct hxk_pstate *p, enum hxk_outcome o, uint32_t halt_reason,
                        const char *fmt, ...)
{
	if (!p->active)
		return;
	p->active = false;
	for (uint32_t i = 0; i < p->nvcpus; i++)
		p->v[i].stopped = true;
	p->rep->outcome = o;
	p->rep->halt_reason = halt_reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->rep->detail, sizeof(p->rep->detail), fmt, ap);
	va_end(ap);
	hxk_console_flush(p);
}

void hxk_vcpu_done(struct hxk_vstate *v)
{
	struct hxk_pstate *p = v->p;
	if (v->stopped)
		return;
	v->stopped = true;
	if (++p->vcpus_done == p->nvcpus)
		hxk_stop_partition(p, HXK_OUT_PASS, 0, "all %u vCPU%s reported GUEST_DONE",
		                   p->nvcpus, p->nvcpus == 1 ? "" : "s");
}
