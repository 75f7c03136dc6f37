/* Replay internals: the platform that stands in for the host during a
 * replay, and the output comparison. Not API. */
#ifndef HX_REPLAY_INTERNAL_H
#define HX_REPLAY_INTERNAL_H

#include "hv/platform.h"
#include "hv/system.h"
#include "replay.h"

/* Sparse host memory: 4 KiB pages, allocated on first write, found through
 * an open-addressing table keyed by page number. */
struct rp_mem {
	uint64_t host_size;
	uint64_t *keys; /* page number + 1; 0 = empty slot */
	uint8_t **slot_page;
	uint32_t cap; /* slots, power of two */
	uint32_t count;
	uint8_t **chunks; /* page storage, RP_CHUNK_PAGES pages each */
	uint32_t nchunks;
	uint32_t used;   /* pages handed out from the chunks */
	bool over_limit; /* a write needed more than HX_REPLAY_MAX_PAGES */
};

#define RP_CHUNK_PAGES 64u
#define RP_CPUID_CACHE 4096u /* run-wide CPUID answers (power of two) */

struct rp_cpuid {
	uint64_t key; /* (leaf << 32 | subleaf) + 1; 0 = empty */
	uint32_t regs[4];
};

/* The replay platform: ctx of replay_platform_ops. */
struct rp_platform {
	struct rp_mem mem;
	const struct hx_trace_exit *cur;      /* exit being replayed */
	uint8_t consumed[HX_OBS_MAX_ENTRIES]; /* RDMSR/WRMSR entries of cur served */
	struct rp_cpuid cpuid[RP_CPUID_CACHE];
	/* The slots of cpuid in use, so a run clears only those (the table is
	 * 96 KiB, two runs an input). At most half the table is filled. */
	uint16_t cpuid_used[RP_CPUID_CACHE / 2];
	uint32_t ncpuid_used;
};
_Static_assert(RP_CPUID_CACHE <= 65536, "cpuid_used holds slot indices in 16 bits");

extern const struct hv_platform_ops replay_platform_ops;

/* Memory model. */
bool rp_mem_init(struct rp_mem *m);
void rp_mem_reset(struct rp_mem *m, uint64_t host_size);
void rp_mem_free(struct rp_mem *m);
/* Copy into/out of the model; false when outside host memory or over the
 * page limit. Reads of untouched pages give zeros. len may cross pages. */
bool rp_mem_write(struct rp_mem *m, uint64_t hpa, const void *src, uint32_t len);
bool rp_mem_read(struct rp_mem *m, uint64_t hpa, void *dst, uint32_t len);

/* Collect the CPUID answers of the whole trace (first answer per
 * leaf/subleaf wins), for exits whose own log lacks one. */
void rp_platform_start(struct rp_platform *p, const struct hx_trace *t);
/* Make exit e current and put the guest memory it saw into the model. */
void rp_platform_enter(struct rp_platform *p, const struct hx_trace_exit *e);

/* Compare a replayed exit with the recorded one. Calls fail(ctx, field,
 * msg) for each difference (at most a few) and returns how many. */
typedef void (*rp_mismatch_fn)(void *ctx, const char *field, const char *msg);
uint32_t rp_compare(const struct hx_trace_exit *rec, const struct hv_exit *out,
                    const struct hv_result *res, const struct hx_obs_view *log, rp_mismatch_fn fail,
                    void *ctx);

/* The worlds (replay_world.c): systems as built, per config and pool. */
#define RP_WORLDS 8
struct hx_oracle;
struct rp_world {
	uint64_t cfg_id; /* the trace cache's config id; 0: empty slot */
	uint64_t pool_hpa;
	uint32_t pool_pages, pool_used;
	const struct hv_system_config *cfg; /* shared through the trace cache */
	uint8_t *pool;                      /* the pool's used pages after the build */
	size_t pool_cap;
	struct hv_partition *parts; /* cfg->npartitions of them */
	uint32_t nparts_cap;
	struct hv_channel_state chans[HV_MAX_CHANNELS];
	struct hx_oracle *orc; /* this world's oracle, reset per run */
	uint64_t last_use;
};
struct rp_worlds {
	struct rp_world w[RP_WORLDS];
	int active;           /* the slot whose state the system holds; -1: none */
	uint32_t dirty_parts; /* partitions of the system that may be non-zero */
	uint64_t touched[HV_MAX_PARTITIONS / 64]; /* partitions named since the reset */
	bool tables_touched;                      /* an exit since then may write EPTs */
	uint64_t clock, builds, resets, switches;
};
/* Put the system (and pool, at pool_mem of pool_cap pages) back into t's
 * world as built. Returns its slot, or -1 when there is none: build it. */
int rp_world_enter(struct rp_worlds *ws, const struct hx_trace *t, struct hv_system *sys,
                   struct hv_pool *pool, uint8_t *pool_mem, uint32_t pool_cap);
/* sys was just built for t: keep it (the least recently used slot goes).
 * Returns the slot, or -1 (not kept). */
int rp_world_keep(struct rp_worlds *ws, const struct hx_trace *t, const struct hv_system *sys,
                  const struct hv_pool *pool);
/* What the exit about to run may change. */
void rp_world_note_exit(struct rp_worlds *ws, const struct hv_exit *in);
/* Forget the active world (a failing run may have changed anything). */
void rp_world_drop_active(struct rp_worlds *ws);
/* The active world's oracle slot, NULL without an active world. */
struct hx_oracle **rp_world_oracle(struct rp_worlds *ws);
void rp_worlds_free(struct rp_worlds *ws);

/* Hash of everything an exit produced (DET). */
uint64_t rp_output_hash(const struct hv_exit *out, const struct hv_result *res,
                        const struct hx_obs_view *log);

#endif
