/* Shared between the oracle's source files; not part of the API. */
#ifndef HX_ORACLE_INTERNAL_H
#define HX_ORACLE_INTERNAL_H

#include "oracle.h"

#define ORACLE_CPUID_CACHE 1024u /* slots, power of two */
#define ORACLE_MAX_REPORT 8u     /* EPT verifier violations reported per check */
/* Pools up to this many used pages are snapshot byte for byte around
 * exits that may touch an EPT (exact and cheaper than walking); larger
 * ones fall back to a mapping hash. */
#define ORACLE_SNAP_MAX_PAGES 256u

/* A host-physical span. */
struct oracle_span {
	uint64_t base;
	uint64_t size;
};

struct oracle_cpuid_slot {
	uint64_t key; /* hash of the inputs; 0 = empty */
	uint32_t partition, vcpu, leaf, subleaf;
	uint32_t answer[4];
};

struct hx_oracle {
	const struct hv_system_config *cfg;
	const struct hv_pool *pool;
	uint64_t pool_hpa; /* the pool as the oracle was made (oracle_contract.c) */
	uint32_t pool_npages;
	hx_oracle_report_fn fn;
	void *ctx;
	uint32_t nparts;

	/* Host memory each partition may have written by a handler: RAM
	 * regions with W, channels it is an RW member of. */
	struct oracle_span *wspans;
	uint32_t *wspan_first; /* per partition: index of its first span */
	uint32_t *wspan_count;

	/* Snapshot taken by hx_oracle_before. */
	struct hv_exit in;
	bool in_valid;       /* partition and vCPU indices of `in` are in range */
	char in_problem[64]; /* else: which field is not (oracle_record_problem) */
	struct hv_partition *parts_before;
	struct hv_channel_state chans_before[HV_MAX_CHANNELS];
	uint32_t pool_used_before;
	bool ept_hashed;     /* ept_hash_before is valid (large pools) */
	bool snap_valid;     /* pool_snap holds the used pool pages */
	bool tables_changed; /* set by the EPT change check */
	uint32_t snap_pages;
	uint32_t snap_cap;
	uint8_t *pool_snap;
	uint64_t ept_hash_before;
	uint64_t ept_skip_hash_before; /* memory-protect: without its range */

	/* Exit being checked (for report). */
	uint64_t index;
	uint32_t exit_violations;

	struct hv_verify_part *vparts; /* scratch for hv_ept_verify */
	uint64_t *vseen;               /* its table bitmap, sized for the pool */
	uint32_t vseen_words;
	/* Scratch system for hv_cpuid_query over an exit's logged host CPUID
	 * answers (oracle_msr.c); allocated on first use. */
	struct hv_system *cpuid_sys;
	struct hx_oracle_stats stats;
	struct oracle_cpuid_slot cpuid[ORACLE_CPUID_CACHE];
};

/* Report one violation of the exit being checked (printf format). */
void oracle_report(struct hx_oracle *o, enum hv_invariant inv, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static inline void oracle_count(struct hx_oracle *o)
{
	o->stats.checks++;
}

/* One step of a 64-bit multiply-xorshift hash over the word v (keys of
 * the CPUID cache and the EPT mapping hash; not a checksum). */
static inline uint64_t oracle_mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

/* Who owns host address hpa: "partition 1 (p1) RAM", "hypervisor memory",
 * "channel 0 (link)", "EPT page pool", "unowned memory". */
void oracle_describe_hpa(const struct hx_oracle *o, uint64_t hpa, char *buf, size_t len);

/* true when [hpa, hpa+len) lies inside one writable span of partition p. */
bool oracle_writable(const struct hx_oracle *o, uint32_t p, uint64_t hpa, uint64_t len);

/* Hash of partition p's EPT mapping, independent of page sizes: merged runs
 * of (gpa, hpa, perm, type), leaving out [skip_gpa, skip_gpa+skip_size).
 * Returns 0 when the tables are malformed (the verifier reports those). */
uint64_t oracle_ept_hash(const struct hv_system *sys, uint32_t p, uint64_t skip_gpa,
                         uint64_t skip_size);

/* Run hv_ept_verify over every partition and report what it finds. */
void oracle_ept_verify(struct hx_oracle *o, const struct hv_system *sys);

/* Caller contracts (oracle_contract.c). oracle_check_system: the system
 * the oracle is made for (pool placement, config layout), reported with
 * exit index UINT64_MAX; returns the number of problems. oracle_check_caller:
 * per exit, the same system and pool. oracle_record_problem: the first field
 * of an exit record out of range, written to buf, or NULL. */
uint32_t oracle_check_system(struct hx_oracle *o);
void oracle_check_caller(struct hx_oracle *o, const struct hv_system *sys);
const char *oracle_record_problem(const struct hx_oracle *o, const struct hv_exit *in, char *buf,
                                  size_t len);

/* Per-family checks (oracle_cpuid.c, oracle_msr.c, oracle_hcall.c,
 * oracle_core.c). */
void oracle_check_cpuid(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                        const struct hx_obs_view *log);
void oracle_check_msr(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                      const struct hx_obs_view *log);
void oracle_check_hcall(struct hx_oracle *o, const struct hv_system *sys, const struct hv_exit *out,
                        const struct hv_result *res, const struct hx_obs_view *log);

#endif
