/* Shared between the oracle's source files; not part of the API. */
#ifndef HX_ORACLE_INTERNAL_H
#define HX_ORACLE_INTERNAL_H

#include "no_coverage.h"
#include "oracle.h"

#define ORACLE_CPUID_CACHE 1024u /* slots, power of two */
#define ORACLE_MAX_REPORT 8u     /* EPT verifier violations reported per check */
/* Owner map entries (oracle_pool.c): a pool page no partition's tables
 * reach, and one reached by more than one partition. */
#define ORACLE_OWNER_NONE 0xffu
#define ORACLE_OWNER_SHARED 0xfeu
_Static_assert(HV_MAX_PARTITIONS < ORACLE_OWNER_SHARED, "partition indices fit the owner map");

/* What the oracle knows of a partition's EPT verdict (oracle_pool.c). */
enum oracle_vstate {
	ORACLE_V_UNKNOWN = 0, /* not verified in its current state */
	ORACLE_V_CLEAN,       /* verified without a violation, unchanged since */
	ORACLE_V_DIRTY,       /* verified with violations, unchanged since */
};

/* The oracle's table loops (owner walk, window hash) are not code the
 * fuzzers should steer by, and with comparison tracing they cost more than
 * the handlers they check: they are marked HX_NO_COVERAGE. */

/* Level of a table page in the owner map when it is reached twice within
 * one partition (its place in the GPA space is ambiguous). */
#define ORACLE_LEVEL_AMBIGUOUS 0xffu

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
	const struct hv_system *sys; /* the system it was made for */
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
	struct hv_channel_state chans_before[HV_MAX_CHANNELS];
	uint32_t pool_used_before;

	/* The oracle's picture of the system (oracle_pool.c), kept equal to
	 * it by hx_oracle_new/reset/sync/verify_all and after every exit, so
	 * an exit costs no copy: what differs after it is what it changed.
	 * parts_before: every partition's struct hv_partition. shadow: the
	 * bytes of the pool pages in use (shadow_used of them). */
	struct hv_partition *parts_before;
	bool parts_changed; /* set by the state compare of this exit */
	uint8_t *shadow;
	uint32_t shadow_cap; /* pages allocated at shadow */
	uint32_t shadow_used;
	/* Pool pages that differ from the shadow after this exit (changed,
	 * newly handed out or given back), nchanged of them. */
	uint32_t *changed;
	uint32_t nchanged;
	bool tables_changed; /* nchanged != 0 */
	/* Pool pages the picture took a change of since it was last taken
	 * (hx_oracle_new, reset, reset_restored, sync), each once: what
	 * hx_oracle_reset_restored compares. Bit per page in touched_bits. */
	uint32_t *touched;
	uint32_t ntouched;
	uint64_t *touched_bits;
	/* Pool watch (hx_oracle_watch_pool): on, and armed by
	 * hx_oracle_before for the exit being handled. */
	bool watching;
	bool watch_armed;
	uint32_t watch_poisoned; /* pool pages poisoned for ASan while armed, */
	uint8_t *watch_mem;      /* from here */
	struct hv_pool_watch watch;
	/* Which partition's tables reach each pool page in the shadow's
	 * state (ORACLE_OWNER_*), and the EPT verdict per partition with the
	 * root and protected_ flag it was reached for. owner_valid: the map
	 * describes the shadow; owner_shared: some page has two owners (then
	 * only the full verifier can judge). */
	uint8_t *owner;
	uint8_t *plevel; /* per page: its level (0 = PT .. 3 = PML4) */
	uint64_t *pbase; /* per page: the first GPA it translates */
	bool *vdangling; /* per partition: a table pointer not into the pool */
	bool owner_valid;
	bool owner_shared;
	uint8_t *vstate; /* enum oracle_vstate */
	uint64_t *vroot;
	uint32_t *vprot;
	uint32_t *vcount; /* scratch: violations per partition in one verify */
	/* One-partition view of cfg for verifying a single partition. */
	struct hv_system_config *vcfg;
	uint32_t vpart; /* partition the view shows (its index 0) */
	bool vone;      /* a one-partition verification is running */

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

/* Run hv_ept_verify over every partition and report what it finds; with
 * report false only count. Returns the number of violations; the count per
 * partition is in o->vcount. */
uint32_t oracle_ept_verify(struct hx_oracle *o, const struct hv_system *sys, bool report);
/* The same for partition p alone, through the one-partition view of the
 * config: exactly what hv_ept_verify finds for p when no table page of p
 * is reachable from another partition (the caller makes sure). `budget`
 * violations are reported at most, the rest only counted. */
uint32_t oracle_ept_verify_one(struct hx_oracle *o, const struct hv_system *sys, uint32_t p,
                               bool report, uint32_t budget);
/* Hash as oracle_ept_hash, of the tables in `pool` (the live pool or a view
 * of the shadow). */
uint64_t oracle_ept_hash_pool(const struct hv_pool *pool, uint64_t root, uint64_t skip_gpa,
                              uint64_t skip_size);

/* Hash as oracle_ept_hash_pool of the mapping inside the GPA window
 * [lo, hi) only, walking only the tables that translate it (0: malformed,
 * or more tables entered than the pool has). */
uint64_t oracle_ept_window_hash(const struct hv_pool *pool, uint64_t root, uint64_t lo, uint64_t hi,
                                uint64_t skip_gpa, uint64_t skip_size);

/* The system picture (oracle_pool.c). oracle_pool_init: allocate for the
 * system; oracle_sync: take the system as it is now (no report; the EPT
 * verdicts of partitions whose tables changed are recomputed silently or
 * forgotten). oracle_pool_diff: after an exit, which pool pages and which
 * partitions' state differ from the picture (o->changed, o->parts_changed).
 * oracle_ept_after: verify the partitions whose EPT verdict may have changed
 * with this exit (after a hypercall also those never verified), report, and
 * take the new state as the picture.
 * oracle_verified_clean: every partition verified clean in its current
 * state, and no table shared, so hv_ept_verify would find nothing. */
bool oracle_pool_init(struct hx_oracle *o, const struct hv_system *sys);
void oracle_pool_free(struct hx_oracle *o);
void oracle_sync(struct hx_oracle *o, const struct hv_system *sys);
/* oracle_sync comparing only the pool pages changed since the picture was
 * last taken (and those handed out or given back): hx_oracle_reset_restored. */
void oracle_sync_restored(struct hx_oracle *o, const struct hv_system *sys);
void oracle_pool_diff(struct hx_oracle *o, const struct hv_system *sys);
/* The watch (hx_oracle_watch_pool) around one exit: oracle_watch_arm in
 * hx_oracle_before starts recording the pool pages the core reaches;
 * oracle_pool_diff_exit, when the watch recorded the whole exit, compares
 * only those pages (else it is oracle_pool_diff). */
void oracle_watch_arm(struct hx_oracle *o, const struct hv_system *sys);
/* First thing in hx_oracle_after: the oracle's own table walks are not
 * the exit's. */
void oracle_watch_stop(struct hx_oracle *o);
void oracle_pool_diff_exit(struct hx_oracle *o, const struct hv_system *sys);
void oracle_ept_after(struct hx_oracle *o, const struct hv_system *sys, bool vmcall);
bool oracle_verified_clean(const struct hx_oracle *o, const struct hv_system *sys);
/* A pool page this exit changed that partition q != p's tables reached
 * when the exit began: returns q and sets *pg, or ORACLE_OWNER_NONE (also
 * when the owner map cannot tell: a table shared, already a violation). */
uint32_t oracle_foreign_change(const struct hx_oracle *o, uint32_t p, uint32_t *pg);
/* After a successful memory-protect of partition p of [gpa, +size): did
 * p's mapping change outside that range? Compared between the picture of
 * the pool and the pool, over the GPA windows of the table pages the exit
 * changed only (outside them every table on a translation's path is byte
 * for byte the same), or over the whole space when the owner map cannot
 * place the changed pages. */
bool oracle_protect_outside(const struct hx_oracle *o, const struct hv_system *sys, uint32_t p,
                            uint64_t gpa, uint64_t size);
/* hx_oracle_verify_all: sync, then verify what is not known clean. */
uint32_t oracle_verify_all(struct hx_oracle *o, const struct hv_system *sys);
/* After a full verification that found vcount[] per partition (total n,
 * all of them listed when listed_all): remember the verdicts and rebuild
 * the owner map. */
void oracle_full_verified(struct hx_oracle *o, const struct hv_system *sys, bool listed_all);

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
/* IO-GUARD (oracle_io.c): a port I/O exit is answered only inside a
 * configured device, in the device's width, and otherwise contained. */
void oracle_check_io(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                     const struct hx_obs_view *log);
/* CR-GUARD (oracle_cr.c): a CR write is resumed only with the value the
 * instruction loads, legal and allowed; refused otherwise. */
void oracle_check_cr(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res);

#endif
