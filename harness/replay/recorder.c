/* In-process recording of exits into a trace (recorder.h). */
#include "recorder.h"

#include <stdlib.h>

struct hx_recorder {
	struct hv_system *sys;
	struct hx_observer obs;
	struct hx_oracle *orc;
	struct hx_trace *trace;
	uint64_t index;
	hx_oracle_report_fn fn;
	void *ctx;
};

struct hx_recorder *hx_recorder_new(struct hv_system *sys, const char *config_name,
                                    const char *note, hx_oracle_report_fn fn, void *ctx)
{
	struct hx_recorder *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->sys = sys;
	r->fn = fn;
	r->ctx = ctx;
	struct hx_trace_meta meta = {.cfg = sys->cfg,
	                             .config_name = config_name,
	                             .note = note,
	                             .pool_hpa = sys->pool->hpa,
	                             .pool_pages = sys->pool->npages};
	r->trace = hx_trace_new(&meta);
	r->orc = hx_oracle_new(sys, fn, ctx);
	if (!r->trace || !r->orc) {
		hx_trace_free(r->trace);
		hx_oracle_free(r->orc);
		free(r);
		return NULL;
	}
	hx_observer_init(&r->obs, sys->ops, sys->ops_ctx);
	hx_observer_install(&r->obs, sys);
	return r;
}

uint32_t hx_recorder_exit(struct hx_recorder *r, struct hv_exit *exit, struct hv_result *res)
{
	struct hv_exit in = *exit;
	hx_observer_begin_exit(&r->obs);
	hx_oracle_before(r->orc, r->sys, exit);
	hv_handle_exit(r->sys, exit, res);
	struct hx_obs_view view = hx_observer_view(&r->obs);
	uint32_t n = hx_oracle_after(r->orc, r->sys, r->index, exit, res, &view);
	if (hx_trace_append(r->trace, &in, &view, res, exit) != 0) {
		if (r->fn)
			r->fn(r->ctx, HV_INV_TOTAL, r->index,
			      "the exit could not be recorded: trace limits exceeded");
		n++;
	}
	r->index++;
	return n;
}

const struct hx_trace *hx_recorder_trace(const struct hx_recorder *r)
{
	return r->trace;
}

void hx_recorder_stats(const struct hx_recorder *r, struct hx_oracle_stats *st)
{
	hx_oracle_stats(r->orc, st);
}

void hx_recorder_free(struct hx_recorder *r)
{
	if (!r)
		return;
	hx_observer_uninstall(&r->obs, r->sys);
	hx_oracle_free(r->orc);
	hx_trace_free(r->trace);
	free(r);
}
