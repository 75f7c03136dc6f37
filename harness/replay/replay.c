/* The replay engine: build the system from the trace's config on the
 * replay platform, run every exit through hv_handle_exit with the observer
 * and the oracles, compare with the recorded outputs, then run again and
 * compare the two runs (DET). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "replay_internal.h"

struct hx_replay {
	struct rp_platform plat;
	struct hx_observer obs;
	struct hv_system sys;
	struct hv_pool pool;
	uint8_t *pool_mem;
	uint32_t pool_cap; /* pages allocated at pool_mem */
	uint64_t *hashes;  /* per-exit output hash of the first run */
	uint32_t hashes_cap;
	struct hx_trace_cache *tcache; /* configs shared between inputs */

	/* Systems as built, to reset to instead of building again
	 * (replay_world.c); opts.check_reset proves each reset exact. */
	struct rp_worlds worlds;
	struct hx_oracle *orc;     /* the oracle of a run whose world is not kept */
	struct hv_system *chk_sys; /* check_reset: the fresh build compared with */
	uint8_t *chk_pool;
	uint32_t chk_cap;

	/* the run in progress */
	const struct hx_replay_opts *opts;
	struct hx_replay_result *res;
	const struct hx_trace_exit *cur;
	uint64_t cur_index;
	bool failed_exit; /* the current exit failed */
};

void hx_replay_opts_default(struct hx_replay_opts *opts)
{
	*opts = (struct hx_replay_opts){
	        .compare_outputs = true,
	        .check_det = true,
	        .stop_at_first = true,
	        .verify_start_end = true,
	};
}

struct hx_replay *hx_replay_new(void)
{
	struct hx_replay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->tcache = hx_trace_cache_new();
	r->worlds.active = -1;
	if (!r->tcache || !rp_mem_init(&r->plat.mem)) {
		hx_replay_free(r);
		return NULL;
	}
	return r;
}

void hx_replay_free(struct hx_replay *r)
{
	if (!r)
		return;
	rp_mem_free(&r->plat.mem);
	free(r->pool_mem);
	free(r->hashes);
	rp_worlds_free(&r->worlds);
	hx_oracle_free(r->orc);
	hx_trace_cache_free(r->tcache);
	free(r->chk_sys);
	free(r->chk_pool);
	free(r);
}

struct hx_trace_cache *hx_replay_trace_cache(struct hx_replay *r)
{
	return r->tcache;
}

void hx_replay_world_stats(const struct hx_replay *r, uint64_t *builds, uint64_t *resets)
{
	*builds = r->worlds.builds;
	*resets = r->worlds.resets + r->worlds.switches;
}

/* ---- failures ---- */

static void record_failure(struct hx_replay *r, const struct hx_replay_failure *f)
{
	struct hx_replay_result *res = r->res;
	if (res->first.kind == HX_RF_NONE)
		res->first = *f;
	if (f->kind == HX_RF_BAD_INPUT)
		res->status = HX_REPLAY_BAD_INPUT;
	else if (res->status == HX_REPLAY_PASS)
		res->status = HX_REPLAY_FAIL;
	r->failed_exit = true;
	if (r->opts->report)
		r->opts->report(r->opts->report_ctx, f);
}

static void fill_where(struct hx_replay *r, struct hx_replay_failure *f, int64_t index)
{
	f->exit_index = index;
	f->exit_reason = HV_EXIT_COUNT;
	if (index >= 0 && r->cur)
		f->exit_reason = r->cur->in.reason;
}

static void fail_invariant(struct hx_replay *r, enum hv_invariant inv, int64_t index,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail_invariant(struct hx_replay *r, enum hv_invariant inv, int64_t index,
                           const char *fmt, ...)
{
	struct hx_replay_failure f = {.kind = HX_RF_INVARIANT, .inv = inv};
	fill_where(r, &f, index);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	r->res->violations++;
	record_failure(r, &f);
}

static void fail_bad_input(struct hx_replay *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void fail_bad_input(struct hx_replay *r, const char *fmt, ...)
{
	struct hx_replay_failure f = {
	        .kind = HX_RF_BAD_INPUT, .exit_index = -1, .exit_reason = HV_EXIT_COUNT};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	record_failure(r, &f);
}

static void on_violation(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct hx_replay *r = ctx;
	fail_invariant(r, inv, index == UINT64_MAX ? -1 : (int64_t)index, "%s", msg);
}

static void on_mismatch(void *ctx, const char *field, const char *msg)
{
	struct hx_replay *r = ctx;
	struct hx_replay_failure f = {.kind = HX_RF_MISMATCH};
	fill_where(r, &f, (int64_t)r->cur_index);
	snprintf(f.field, sizeof(f.field), "%s", field);
	snprintf(f.msg, sizeof(f.msg), "%s: %s", field, msg);
	r->res->mismatches++;
	record_failure(r, &f);
}

/* ---- one run ---- */

/* ---- the world: built once per config, reset between runs ---- */

/* opts->check_reset: the reset system must equal a fresh build byte for
 * byte (pool pages and count, every partition, the mailboxes); a
 * difference is state leaking from one input into the next. */
static void world_check(struct hx_replay *r, const struct hx_trace *t)
{
	uint32_t pages = t->pool_pages;
	if (!r->chk_sys)
		r->chk_sys = calloc(1, sizeof(*r->chk_sys));
	if (pages > r->chk_cap) {
		free(r->chk_pool);
		r->chk_pool = aligned_alloc(HV_PAGE_SIZE, (size_t)pages << HV_PAGE_SHIFT);
		r->chk_cap = r->chk_pool ? pages : 0;
	}
	struct hv_system *fresh = r->chk_sys;
	uint8_t *mem = r->chk_pool;
	struct hv_pool pool;
	struct hv_config_diag diag;
	const char *what = NULL;
	if (!fresh || !mem || hv_pool_init(&pool, mem, t->pool_hpa, pages) != HV_OK ||
	    hv_system_init(fresh, t->cfg, &replay_platform_ops, &r->plat, &pool, &diag) != HV_OK)
		what = "a fresh build for the comparison failed";
	else if (pool.used != r->pool.used)
		what = "pool pages in use";
	else if (memcmp(pool.mem, r->pool.mem, (size_t)pool.used << HV_PAGE_SHIFT) != 0)
		what = "EPT pool contents";
	else if (memcmp(fresh->parts, r->sys.parts, t->cfg->npartitions * sizeof(fresh->parts[0])))
		what = "partition state";
	else if (memcmp(fresh->channels, r->sys.channels, sizeof(fresh->channels)) != 0)
		what = "channel mailboxes";
	if (what)
		fail_invariant(r, HV_INV_DET, -1,
		               "state reset between inputs differs from a fresh build: %s", what);
}

static bool setup(struct hx_replay *r, const struct hx_trace *t, bool *reused)
{
	*reused = false;
	rp_mem_reset(&r->plat.mem, t->cfg->host_mem_size);
	rp_platform_start(&r->plat, t);
	if (rp_world_enter(&r->worlds, t, &r->sys, &r->pool, r->pool_mem, r->pool_cap) >= 0) {
		*reused = true;
		if (r->opts->check_reset)
			world_check(r, t);
		hx_observer_init(&r->obs, &replay_platform_ops, &r->plat);
		hx_observer_install(&r->obs, &r->sys);
		return true;
	}
	/* Building overwrites whatever world the system held. */
	r->worlds.active = -1;
	r->worlds.dirty_parts = HV_MAX_PARTITIONS;
	uint32_t pages = t->pool_pages;
	if (pages == 0 || pages > HX_TRACE_MAX_POOL_PAGES) {
		fail_bad_input(r, "page pool of %u pages is outside 1..%u", pages,
		               HX_TRACE_MAX_POOL_PAGES);
		return false;
	}
	if (pages > r->pool_cap) {
		free(r->pool_mem);
		r->pool_cap = 0;
		r->pool_mem = aligned_alloc(HV_PAGE_SIZE, (size_t)pages * HV_PAGE_SIZE);
		if (!r->pool_mem) {
			fail_bad_input(r, "cannot allocate a page pool of %u pages", pages);
			return false;
		}
		r->pool_cap = pages;
	}
	if (hv_pool_init(&r->pool, r->pool_mem, t->pool_hpa, pages) != HV_OK) {
		fail_bad_input(r, "page pool at hpa 0x%llx (%u pages) is unusable",
		               (unsigned long long)t->pool_hpa, pages);
		return false;
	}
	struct hv_config_diag diag;
	hv_status s =
	        hv_system_init(&r->sys, t->cfg, &replay_platform_ops, &r->plat, &r->pool, &diag);
	if (s != HV_OK) {
		if (s == HV_ERR_NOMEM)
			fail_bad_input(
			        r, "building the EPTs needs more than the trace's %u pool pages",
			        pages);
		else if (diag.error == HV_CFG_POOL_PLACEMENT)
			fail_bad_input(r,
			               "hv_system_init: %s (pool [0x%llx, +0x%llx), hypervisor "
			               "[0x%llx, +0x%llx))",
			               hv_config_error_str(diag.error),
			               (unsigned long long)t->pool_hpa,
			               (unsigned long long)pages << HV_PAGE_SHIFT,
			               (unsigned long long)t->cfg->hv_base,
			               (unsigned long long)t->cfg->hv_size);
		else
			fail_bad_input(r, "hv_system_init failed: %s (%s)", hv_status_str(s),
			               hv_config_error_str(diag.error));
		return false;
	}
	rp_world_keep(&r->worlds, t, &r->sys, &r->pool);
	hx_observer_init(&r->obs, &replay_platform_ops, &r->plat);
	hx_observer_install(&r->obs, &r->sys);
	return true;
}

static bool hashes_reserve(struct hx_replay *r, uint32_t n)
{
	if (n <= r->hashes_cap)
		return true;
	uint64_t *h = realloc(r->hashes, (size_t)n * sizeof(*h));
	if (!h)
		return false;
	r->hashes = h;
	r->hashes_cap = n;
	return true;
}

/* pass 0: oracles, comparison, hashes recorded; pass 1: hashes compared. */
static void run_pass(struct hx_replay *r, const struct hx_trace *t, uint32_t nexits, int pass)
{
	const struct hx_replay_opts *o = r->opts;
	r->cur = NULL;
	bool reused;
	if (!setup(r, t, &reused))
		return;
	struct hx_oracle *orc = NULL;
	if (pass == 0) {
		/* A reset world keeps its oracle (the caller contracts it checked
		 * at creation hold for the same config and pool) and its start
		 * state, verified when it was built. */
		struct hx_oracle **slot = rp_world_oracle(&r->worlds);
		if (!slot) {
			hx_oracle_free(r->orc);
			r->orc = NULL;
			slot = &r->orc; /* a world not kept: its own oracle */
		}
		if (reused && *slot) {
			/* The reset put back every pool page an input may have
			 * changed, or left it as the last run did: the oracle
			 * compares only those it saw change (check_reset proves
			 * the reset against a fresh build). */
			hx_oracle_reset_restored(*slot);
		} else {
			hx_oracle_free(*slot);
			*slot = hx_oracle_new(&r->sys, on_violation, r);
			reused = false;
		}
		orc = *slot;
		if (!orc) {
			fail_bad_input(r, "out of memory");
			return;
		}
		/* Its stray-write safety net is the end-of-run verification. */
		hx_oracle_watch_pool(orc, o->watch_pool && o->verify_start_end);
		if (o->verify_start_end && !reused)
			hx_oracle_verify_all(orc, &r->sys, UINT64_MAX);
	}
	for (uint32_t i = 0; i < nexits; i++) {
		const struct hx_trace_exit *e = &t->exits[i];
		r->cur = e;
		r->cur_index = i;
		r->failed_exit = false;
		rp_platform_enter(&r->plat, e);
		struct hv_exit exit = e->in;
		struct hv_result res;
		rp_world_note_exit(&r->worlds, &exit);
		hx_observer_begin_exit(&r->obs);
		if (orc)
			hx_oracle_before(orc, &r->sys, &exit);
		hv_handle_exit(&r->sys, &exit, &res);
		struct hx_obs_view log = hx_observer_view(&r->obs);
		if (r->plat.mem.over_limit) {
			fail_bad_input(r,
			               "exit %u: the replay touches more than %u pages of host "
			               "memory",
			               i, HX_REPLAY_MAX_PAGES);
			break;
		}
		if (pass == 0) {
			if (o->on_exit)
				o->on_exit(o->hook_ctx, i, &exit, &res, &log);
			r->res->exits_run++;
			hx_oracle_after(orc, &r->sys, i, &exit, &res, &log);
			if (o->compare_outputs && (e->flags & HX_TREC_OUTPUTS))
				rp_compare(e, &exit, &res, &log, on_mismatch, r);
			r->hashes[i] = rp_output_hash(&exit, &res, &log);
		} else if (rp_output_hash(&exit, &res, &log) != r->hashes[i]) {
			fail_invariant(r, HV_INV_DET, i,
			               "the second replay gave different outputs for this exit");
		}
		if (r->failed_exit && o->stop_at_first)
			break;
	}
	r->cur = NULL;
	if (pass == 0 && o->on_end)
		o->on_end(o->hook_ctx, &r->sys);
	if (orc) {
		if (o->verify_start_end && !(r->res->status && o->stop_at_first))
			hx_oracle_verify_all(orc, &r->sys, UINT64_MAX);
		struct hx_oracle_stats st;
		hx_oracle_stats(orc, &st);
		r->res->checks += st.checks;
	}
	hx_observer_uninstall(&r->obs, &r->sys);
}

int hx_replay_run(struct hx_replay *r, const struct hx_trace *t, const struct hx_replay_opts *opts,
                  struct hx_replay_result *res)
{
	struct hx_replay_opts defaults;
	if (!opts) {
		hx_replay_opts_default(&defaults);
		opts = &defaults;
	}
	memset(res, 0, sizeof(*res));
	res->first.exit_index = -1;
	res->first.exit_reason = HV_EXIT_COUNT;
	r->opts = opts;
	r->res = res;
	r->cur = NULL;

	uint64_t budget = opts->step_budget ? opts->step_budget : HX_ORACLE_STEP_BUDGET;
	uint32_t nexits = t->nexits;
	if (nexits > budget) {
		fail_invariant(r, HV_INV_TOTAL, -1,
		               "the trace has %u exits, over the step budget of %llu", nexits,
		               (unsigned long long)budget);
		nexits = (uint32_t)budget;
		if (opts->stop_at_first)
			return res->status;
	}
	if (!hashes_reserve(r, nexits ? nexits : 1)) {
		fail_bad_input(r, "out of memory");
		return res->status;
	}
	run_pass(r, t, nexits, 0);
	if (opts->check_det && res->status == HX_REPLAY_PASS)
		run_pass(r, t, nexits, 1);
	/* A failing input may have changed state no reset restores (another
	 * partition, say): the next input gets a world built afresh. */
	if (res->status != HX_REPLAY_PASS)
		rp_world_drop_active(&r->worlds);
	return res->status;
}

int hx_replay_bytes(struct hx_replay *r, const uint8_t *buf, size_t len,
                    const struct hx_replay_opts *opts, struct hx_replay_result *res)
{
	struct hx_trace *t;
	struct hx_trace_error err;
	if (hx_trace_parse_cached(buf, len, opts ? opts->parse_flags : 0, r->tcache, &t, &err) !=
	    0) {
		memset(res, 0, sizeof(*res));
		res->status = HX_REPLAY_BAD_INPUT;
		res->first.kind = HX_RF_BAD_INPUT;
		res->first.exit_index = err.exit_index;
		res->first.exit_reason = HV_EXIT_COUNT;
		snprintf(res->first.field, sizeof(res->first.field), "%s", err.field);
		snprintf(res->first.msg, sizeof(res->first.msg), "%s", err.msg);
		return res->status;
	}
	int rc = hx_replay_run(r, t, opts, res);
	hx_trace_free(t);
	return rc;
}

void hx_replay_failure_str(const struct hx_replay_failure *f, char *buf, size_t len)
{
	char where[64] = "";
	if (f->exit_index >= 0)
		snprintf(where, sizeof(where), "exit %lld (%s): ", (long long)f->exit_index,
		         hv_exit_reason_str(f->exit_reason));
	switch (f->kind) {
	case HX_RF_INVARIANT:
		snprintf(buf, len, "%s%s: %s", where, hv_invariant_id(f->inv), f->msg);
		break;
	case HX_RF_MISMATCH:
		snprintf(buf, len, "%soutput differs from the recording: %s", where, f->msg);
		break;
	case HX_RF_BAD_INPUT:
		snprintf(buf, len, "%sbad input: %s", where, f->msg);
		break;
	default:
		snprintf(buf, len, "pass");
		break;
	}
}

bool hx_replay_same_failure(const struct hx_replay_failure *a, const struct hx_replay_failure *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case HX_RF_INVARIANT:
		return a->inv == b->inv && a->exit_reason == b->exit_reason;
	case HX_RF_MISMATCH:
		return !strcmp(a->field, b->field) && a->exit_reason == b->exit_reason;
	default:
		return true;
	}
}
