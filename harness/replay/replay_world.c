/* The worlds of the replay engine: the system as hv_system_init built it,
 * kept per (config, pool placement) so that a run whose config was built
 * before starts from a reset instead of a build. Fuzz inputs are mutations
 * of a few seeds with a few configs, and building (validation, EPT tables,
 * zeroing a system sized for the largest config) costs far more than an
 * exit.
 *
 * What a reset restores, and why that is everything: exits change the
 * system only through the handlers, which write the exiting partition's
 * struct, the channel mailboxes, and EPT tables (hypercalls only, through
 * the pool). Resetting the world the system already holds restores the
 * partitions the runs' exits named, the mailboxes and, when a hypercall ran
 * or the pool grew, the pool pages; switching to another world restores
 * all of it. Guest memory lives in the replay platform, reset per run. The
 * engine's check_reset compares each reset with a fresh build, byte for
 * byte, so a handler that writes elsewhere shows up as a leak. */
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "replay_internal.h"

static void world_clear(struct rp_world *w)
{
	w->cfg_id = 0;
	hx_oracle_free(w->orc);
	w->orc = NULL;
}

void rp_worlds_free(struct rp_worlds *ws)
{
	for (int i = 0; i < RP_WORLDS; i++) {
		world_clear(&ws->w[i]);
		free(ws->w[i].pool);
		free(ws->w[i].parts);
	}
	memset(ws, 0, sizeof(*ws));
	ws->active = -1;
}

static bool world_is(const struct rp_world *w, const struct hx_trace *t)
{
	return w->cfg_id != 0 && w->cfg_id == t->cfg_id && w->pool_hpa == t->pool_hpa &&
	       w->pool_pages == t->pool_pages;
}

/* The slot the runs since the last reset changed: only what they touched. */
static void reset_active(struct rp_worlds *ws, struct rp_world *w, struct hv_system *sys,
                         struct hv_pool *pool)
{
	if (pool->used != w->pool_used || ws->tables_touched) {
		hv_pool_release_to(pool, w->pool_used);
		memcpy(pool->mem, w->pool, (size_t)w->pool_used << HV_PAGE_SHIFT);
	}
	for (uint32_t k = 0; k < HV_MAX_PARTITIONS / 64; k++) {
		for (uint64_t bits = ws->touched[k]; bits; bits &= bits - 1) {
			uint32_t p = k * 64 + (uint32_t)__builtin_ctzll(bits);
			if (p < w->cfg->npartitions)
				sys->parts[p] = w->parts[p];
		}
	}
#ifndef HX_REPLAY_PLANT_LEAK /* test-only builds: a reset that forgets the mailboxes */
	memcpy(sys->channels, w->chans, sizeof(w->chans));
#endif
}

/* Another slot: all of its state, and zeros where the last world had
 * partitions this one lacks, as hv_system_init leaves them. */
static bool switch_to(struct rp_worlds *ws, struct rp_world *w, struct hv_system *sys,
                      struct hv_pool *pool, uint8_t *pool_mem)
{
	if (hv_pool_init(pool, pool_mem, w->pool_hpa, w->pool_pages) != HV_OK)
		return false;
	pool->used = w->pool_used;
	memcpy(pool->mem, w->pool, (size_t)w->pool_used << HV_PAGE_SHIFT);
	uint32_t n = w->cfg->npartitions;
	memcpy(sys->parts, w->parts, n * sizeof(sys->parts[0]));
	if (ws->dirty_parts > n)
		memset(&sys->parts[n], 0, (ws->dirty_parts - n) * sizeof(sys->parts[0]));
	ws->dirty_parts = n > ws->dirty_parts ? n : ws->dirty_parts;
	memcpy(sys->channels, w->chans, sizeof(w->chans));
	sys->cfg = w->cfg;
	sys->pool = pool;
	return true;
}

int rp_world_enter(struct rp_worlds *ws, const struct hx_trace *t, struct hv_system *sys,
                   struct hv_pool *pool, uint8_t *pool_mem, uint32_t pool_cap)
{
	int found = -1;
	for (int i = 0; i < RP_WORLDS && found < 0; i++)
		if (world_is(&ws->w[i], t))
			found = i;
	if (found < 0 || ws->w[found].pool_pages > pool_cap)
		return -1;
	struct rp_world *w = &ws->w[found];
	if (found == ws->active) {
		reset_active(ws, w, sys, pool);
		ws->resets++;
	} else {
		if (!switch_to(ws, w, sys, pool, pool_mem))
			return -1;
		ws->active = found;
		ws->switches++;
	}
	memset(ws->touched, 0, sizeof(ws->touched));
	ws->tables_touched = false;
	w->last_use = ++ws->clock;
	return found;
}

int rp_world_keep(struct rp_worlds *ws, const struct hx_trace *t, const struct hv_system *sys,
                  const struct hv_pool *pool)
{
	ws->builds++;
	ws->active = -1;
	ws->dirty_parts = t->cfg->npartitions; /* hv_system_init zeroed the rest */
	memset(ws->touched, 0, sizeof(ws->touched));
	ws->tables_touched = false;
	if (t->cfg_id == 0)
		return -1; /* a config of its own: nothing to find it by */
	int slot = 0;
	for (int i = 1; i < RP_WORLDS; i++)
		if (ws->w[i].cfg_id == 0 ||
		    (ws->w[slot].cfg_id != 0 && ws->w[i].last_use < ws->w[slot].last_use))
			slot = i;
	struct rp_world *w = &ws->w[slot];
	world_clear(w);
	size_t bytes = (size_t)pool->used << HV_PAGE_SHIFT;
	uint32_t n = t->cfg->npartitions;
	if (bytes > w->pool_cap) {
		free(w->pool);
		w->pool = malloc(bytes);
		w->pool_cap = w->pool ? bytes : 0;
	}
	if (n > w->nparts_cap) {
		free(w->parts);
		w->parts = malloc(n * sizeof(*w->parts));
		w->nparts_cap = w->parts ? n : 0;
	}
	if ((bytes && !w->pool) || !w->parts)
		return -1; /* built again next time */
	memcpy(w->pool, pool->mem, bytes);
	memcpy(w->parts, sys->parts, n * sizeof(*w->parts));
	memcpy(w->chans, sys->channels, sizeof(w->chans));
	w->cfg = t->cfg;
	w->cfg_id = t->cfg_id;
	w->pool_hpa = t->pool_hpa;
	w->pool_pages = t->pool_pages;
	w->pool_used = pool->used;
	w->last_use = ++ws->clock;
	ws->active = slot;
	return slot;
}

void rp_world_note_exit(struct rp_worlds *ws, const struct hv_exit *in)
{
	if (in->partition < HV_MAX_PARTITIONS)
		ws->touched[in->partition / 64] |= 1ull << (in->partition % 64);
	if (in->reason == HV_EXIT_VMCALL)
		ws->tables_touched = true;
}

void rp_world_drop_active(struct rp_worlds *ws)
{
	if (ws->active >= 0)
		world_clear(&ws->w[ws->active]);
	ws->active = -1;
}

struct hx_oracle **rp_world_oracle(struct rp_worlds *ws)
{
	return ws->active >= 0 ? &ws->w[ws->active].orc : NULL;
}
