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
};

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

/* Hash of everything an exit produced (DET). */
uint64_t rp_output_hash(const struct hv_exit *out, const struct hv_result *res,
                        const struct hx_obs_view *log);

#endif
