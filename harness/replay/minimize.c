/* Delta debugging over traces (minimize.h). Candidates are rebuilt as new
 * traces; every replay runs with stop-at-first and DET, like hx replay. */
#include "minimize.h"

#include <stdlib.h>
#include <string.h>

struct mini {
	struct hx_replay *r;
	struct hx_replay_opts opts;
	struct hx_replay_failure target;
	uint32_t tries;
};

/* Does cand fail like the target? */
static bool same(struct mini *m, const struct hx_trace *cand)
{
	if (m->tries >= HX_MINIMIZE_MAX_TRIES)
		return false;
	m->tries++;
	struct hx_replay_result res;
	hx_replay_run(m->r, cand, &m->opts, &res);
	return res.status == HX_REPLAY_FAIL && hx_replay_same_failure(&res.first, &m->target);
}

static struct hx_trace *empty_like(const struct hx_trace *t)
{
	struct hx_trace_meta meta = {.cfg = t->cfg,
	                             .config_name = t->config_name,
	                             .note = t->note,
	                             .pool_hpa = t->pool_hpa,
	                             .pool_pages = t->pool_pages};
	return hx_trace_new(&meta);
}

/* t without exits [from, to). */
static struct hx_trace *without(const struct hx_trace *t, uint32_t from, uint32_t to)
{
	struct hx_trace *c = empty_like(t);
	for (uint32_t i = 0; c && i < t->nexits; i++) {
		if (i >= from && i < to)
			continue;
		if (hx_trace_append_exit(c, &t->exits[i]) != 0) {
			hx_trace_free(c);
			return NULL;
		}
	}
	return c;
}

/* ddmin over exits: remove chunks while the failure stays. */
static struct hx_trace *drop_exits(struct mini *m, struct hx_trace *t)
{
	uint32_t n = 2;
	while (t->nexits >= 2 && m->tries < HX_MINIMIZE_MAX_TRIES) {
		uint32_t chunk = (t->nexits + n - 1) / n;
		bool reduced = false;
		for (uint32_t from = 0; from < t->nexits; from += chunk) {
			uint32_t to = from + chunk < t->nexits ? from + chunk : t->nexits;
			struct hx_trace *c = without(t, from, to);
			if (!c)
				return t;
			if (c->nexits && same(m, c)) {
				hx_trace_free(t);
				t = c;
				reduced = true;
				n = n > 2 ? n - 1 : 2;
				break;
			}
			hx_trace_free(c);
		}
		if (!reduced) {
			if (n >= t->nexits)
				break;
			n = n * 2 < t->nexits ? n * 2 : t->nexits;
		}
	}
	return t;
}

/* t with exit `ex`'s log replaced by `log`. */
static struct hx_trace *with_log(const struct hx_trace *t, uint32_t ex,
                                 const struct hx_obs_view *log)
{
	struct hx_trace *c = empty_like(t);
	for (uint32_t i = 0; c && i < t->nexits; i++) {
		struct hx_trace_exit e = t->exits[i];
		if (i == ex)
			e.log = *log;
		if (hx_trace_append_exit(c, &e) != 0) {
			hx_trace_free(c);
			return NULL;
		}
	}
	return c;
}

/* Inputs that can go: whole calls, then halves of memory reads. */
static struct hx_trace *shrink_calls(struct mini *m, struct hx_trace *t)
{
	struct hx_obs_entry *buf = malloc(HX_OBS_MAX_ENTRIES * sizeof(*buf));
	if (!buf)
		return t;
	for (uint32_t ex = 0; ex < t->nexits && m->tries < HX_MINIMIZE_MAX_TRIES; ex++) {
		for (uint32_t k = 0;
		     k < t->exits[ex].log.nentries && m->tries < HX_MINIMIZE_MAX_TRIES;) {
			const struct hx_obs_view *v = &t->exits[ex].log;
			const struct hx_obs_entry *e = &v->entries[k];
			bool input = e->kind == HX_OBS_PHYS_READ || e->kind == HX_OBS_CPUID ||
			             e->kind == HX_OBS_RDMSR;
			if (!input) {
				k++;
				continue;
			}
			/* Try without the call, then with a shorter read. */
			struct hx_obs_view nv = *v;
			memcpy(buf, v->entries, v->nentries * sizeof(*buf));
			memmove(buf + k, buf + k + 1, (v->nentries - k - 1) * sizeof(*buf));
			nv.entries = buf;
			nv.nentries = v->nentries - 1;
			struct hx_trace *c = with_log(t, ex, &nv);
			if (c && same(m, c)) {
				hx_trace_free(t);
				t = c;
				continue; /* entry k is now the next one */
			}
			hx_trace_free(c);
			if (e->kind == HX_OBS_PHYS_READ && !e->failed && e->len > 1) {
				memcpy(buf, v->entries, v->nentries * sizeof(*buf));
				buf[k].len = e->len / 2;
				nv.entries = buf;
				nv.nentries = v->nentries;
				c = with_log(t, ex, &nv);
				if (c && same(m, c)) {
					hx_trace_free(t);
					t = c;
					continue; /* try halving again */
				}
				hx_trace_free(c);
			}
			k++;
		}
	}
	free(buf);
	return t;
}

static void count(const struct hx_trace *t, uint32_t *calls, uint64_t *bytes)
{
	*calls = 0;
	*bytes = 0;
	for (uint32_t i = 0; i < t->nexits; i++) {
		const struct hx_obs_view *v = &t->exits[i].log;
		*calls += v->nentries;
		for (uint32_t k = 0; k < v->nentries; k++)
			if (v->entries[k].kind == HX_OBS_PHYS_READ ||
			    v->entries[k].kind == HX_OBS_PHYS_WRITE)
				*bytes += v->entries[k].len;
	}
}

int hx_minimize(const struct hx_trace *t, struct hx_trace **out, struct hx_replay_failure *target,
                struct hx_minimize_stats *stats)
{
	struct mini m = {0};
	memset(stats, 0, sizeof(*stats));
	*out = NULL;
	m.r = hx_replay_new();
	if (!m.r)
		return HX_MIN_NOMEM;
	hx_replay_opts_default(&m.opts);
	struct hx_replay_result res;
	hx_replay_run(m.r, t, &m.opts, &res);
	m.tries = 1;
	*target = res.first;
	if (res.status != HX_REPLAY_FAIL) {
		hx_replay_free(m.r);
		return res.status == HX_REPLAY_PASS ? HX_MIN_PASSES : HX_MIN_BAD;
	}
	m.target = res.first;
	stats->exits_before = t->nexits;
	count(t, &stats->calls_before, &stats->bytes_before);

	/* Exits after the failing one never matter with stop-at-first. */
	uint32_t keep = res.first.exit_index >= 0 ? (uint32_t)res.first.exit_index + 1 : t->nexits;
	struct hx_trace *cur = without(t, keep, t->nexits);
	if (!cur) {
		hx_replay_free(m.r);
		return HX_MIN_NOMEM;
	}
	if (!same(&m, cur)) { /* e.g. a failure only found at the end */
		hx_trace_free(cur);
		cur = without(t, 0, 0);
	}
	if (!cur) {
		hx_replay_free(m.r);
		return HX_MIN_NOMEM;
	}
	cur = drop_exits(&m, cur);
	cur = shrink_calls(&m, cur);
	cur = drop_exits(&m, cur);

	/* Report the failure of the result itself. */
	hx_replay_run(m.r, cur, &m.opts, &res);
	*target = res.first;
	stats->tries = m.tries + 1;
	stats->exits_after = cur->nexits;
	count(cur, &stats->calls_after, &stats->bytes_after);
	hx_replay_free(m.r);
	*out = cur;
	return HX_MIN_OK;
}
