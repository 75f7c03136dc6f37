/* The exit path of the KVM runner: one platform exit, one straight line
 * (runner_int.h): translated (exits.c), answered by the guest's ucall or by
 * the core with the oracles and the trace around it, applied back into the
 * vCPU (exits.c), and then, here and only here, counted, its findings
 * reported and its verdict carried out. */
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "runner_int.h"

#ifdef HXK_HAVE_ORACLE
static uint64_t oracle_checks(struct hxk_runner *R)
{
	struct hx_oracle_stats st;
	hx_oracle_stats(R->oracle, &st);
	return st.checks;
}
#endif

/* hv_handle_exit between the observer and the oracles, then the trace:
 * the core's part of the path. */
static void core_exit(struct hxk_runner *R, struct hxk_vstate *v, struct hv_exit *ex,
                      struct hv_result *res)
{
	struct hxk_pstate *p = v->p;
	struct hxk_kind_stats *ks = &R->rep->stats[ex->reason < HV_EXIT_COUNT ? ex->reason : 0];
	(void)p;
	R->cur = v;
	R->blame_index = R->exit_index;
	struct hv_exit in = *ex;
	uint64_t t0 = hxk_now_ns(), t1, t2, t3, t4;
#ifdef HXK_HAVE_ORACLE
	uint64_t checks0 = oracle_checks(R);
	hx_observer_begin_exit(R->obs);
	hx_oracle_before(R->oracle, R->sys, ex);
#endif
	t1 = hxk_now_ns();
	hv_handle_exit(R->sys, ex, res);
	t2 = hxk_now_ns();
#ifdef HXK_HAVE_ORACLE
	struct hx_obs_view view = hx_observer_view(R->obs);
	hx_oracle_after(R->oracle, R->sys, R->exit_index, ex, res, &view);
	uint64_t dchecks = oracle_checks(R) - checks0;
	p->rep->checks += dchecks;
	R->rep->total_checks += dchecks;
#endif
	t3 = hxk_now_ns();
#ifdef HXK_HAVE_TRACE
	if (R->tw && !R->trace_failed) {
#ifdef HXK_HAVE_ORACLE
		const struct hx_obs_view *lv = &view;
#else
		const struct hx_obs_view *lv = NULL;
#endif
		if (hx_trace_writer_add(R->tw, &in, lv, res, ex) != 0) {
			R->trace_failed = true;
			hxk_violation(R, HV_INV_TOTAL, -1,
			              "recording stopped at exit %llu: the trace writer refused it "
			              "(limit of %u exits or I/O error)",
			              (unsigned long long)R->exit_index, HX_TRACE_MAX_EXITS);
		}
	}
#endif
	(void)in;
	t4 = hxk_now_ns();
	R->cur = NULL;
	R->exit_index++;
	R->rep->total_exits++;
	p->rep->exits++;
	ks->oracle_ns += (t1 - t0) + (t3 - t2);
	ks->handler_ns += t2 - t1;
	ks->record_ns += t4 - t3;
	/* A handler that allocated from the pool may have changed any EPT:
	 * rebuild every partition's memslots from its EPT before it runs on. */
	if (R->pool.used != R->pool_used_seen) {
		R->pool_used_seen = R->pool.used;
		for (uint32_t i = 0; i < R->cfg->npartitions; i++)
			R->parts[i].slots_dirty = true;
	}
}

uint32_t hxk_exit_path(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct hxk_pstate *p = v->p;
	hxk_count(p, x->kind);
	if (x->ept_kind >= 0 && x->ept_kind < HXK_EPT_KINDS)
		p->rep->ept_kinds[x->ept_kind]++;
	if (x->kind == HXK_K_STEP)
		v->steps++;
	if (x->verdict.next != HXK_NEXT_STOP) {
		if (x->is_ucall) {
			hxk_ucall(R, v, x);
		} else if (x->to_core) {
			struct hv_result res;
			core_exit(R, v, &x->ex, &res);
			hxk_exit_apply(v, x, &res);
		}
	}
	if (R->opt->single_step && x->from_kvm && x->verdict.next != HXK_NEXT_STOP &&
	    x->verdict.next != HXK_NEXT_DONE)
		hxk_exit_finish_step(v, x);
	for (uint32_t i = 0; i < x->nfindings; i++)
		hxk_violation(R, x->findings[i].inv, (int32_t)p->index, "%s", x->findings[i].msg);
	switch (x->verdict.next) {
	case HXK_NEXT_RUN:
		break;
	case HXK_NEXT_YIELD:
		v->yield = true;
		break;
	case HXK_NEXT_DONE:
		hxk_vcpu_done(v);
		break;
	case HXK_NEXT_STOP:
		if (R->cur_call && p->index == 0 && x->to_core)
			hxk_call_ended(R->cur_call, &x->ex, x->verdict.halt_reason);
		hxk_stop_partition(p, x->verdict.outcome, x->verdict.halt_reason, "%s",
		                   x->verdict.why);
		break;
	}
	return x->kind < HXK_K_COUNT ? x->kind : HXK_K_OTHER;
}
