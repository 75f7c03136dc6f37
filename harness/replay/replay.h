/* Replay engine: runs a trace through the hosted core, checks every
 * invariant after every exit (oracle.h), compares the outputs with the
 * recorded ones where the trace has them, and replays a second time to
 * check DET. Used by `hx replay`, `hx minimize`, the exit-sequence fuzzer
 * (in memory, no printing) and the tests.
 *
 * The replay platform: host memory is a sparse model (4 KiB pages allocated
 * on first write; untouched memory reads as zero), bounded to
 * HX_REPLAY_MAX_PAGES. Before each exit the guest memory the handler read
 * (PHYS_READ bytes and PHYS_WRITE before-bytes of the recorded log, the
 * first observation of each byte winning) is applied to the model. Host
 * CPUID answers come from the recorded log of the exit (then of any exit of
 * the trace with the same leaf/subleaf, else zeros); RDMSR from the exit's
 * log in order (else #GP); WRMSR returns the recorded status (else #GP).
 * The EPT page pool is allocated as the trace says (pool_hpa, pool_pages). */
#ifndef HX_REPLAY_H
#define HX_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/verify.h"
#include "oracle.h"
#include "trace.h"

#define HX_REPLAY_MAX_PAGES 65536u /* 256 MiB of touched host memory */

enum hx_replay_status {
	HX_REPLAY_PASS = 0,      /* every invariant held, outputs equal */
	HX_REPLAY_FAIL = 1,      /* invariant violated or output differs */
	HX_REPLAY_BAD_INPUT = 2, /* trace unusable: bad format, config rejected, too big */
};

enum hx_replay_failure_kind {
	HX_RF_NONE = 0,
	HX_RF_INVARIANT, /* an oracle (or DET / TOTAL) fired: inv says which */
	HX_RF_MISMATCH,  /* an output differs from the recorded one: field says which */
	HX_RF_BAD_INPUT, /* msg says why */
};

struct hx_replay_failure {
	uint32_t kind;         /* enum hx_replay_failure_kind */
	enum hv_invariant inv; /* HX_RF_INVARIANT */
	int64_t exit_index;    /* -1: not tied to one exit */
	uint32_t exit_reason;  /* reason of that exit (HV_EXIT_COUNT if none) */
	char field[48];        /* HX_RF_MISMATCH: "res.action", "st.gpr[rdi]",
	                          "write[0].bytes", "console", "wrmsr[1].value", ... */
	char msg[HX_ORACLE_MSG_MAX + 128];
};

/* Called for every violation/mismatch (not only the first); may be NULL. */
typedef void (*hx_replay_report_fn)(void *ctx, const struct hx_replay_failure *f);

struct hx_replay_opts {
	bool compare_outputs;  /* compare with recorded outputs (default true) */
	bool check_det;        /* replay twice and compare (default true) */
	bool stop_at_first;    /* stop at the first failing exit (default true) */
	bool verify_start_end; /* full EPT verify before the first and after the last exit (true) */
	uint64_t step_budget;  /* max exits (TOTAL); 0 = HX_ORACLE_STEP_BUDGET */
	uint32_t parse_flags;  /* hx_replay_bytes: HX_TRACE_UNSEALED for fuzzers */
	/* A run whose config (the trace's cfg_id) and pool equal the last
	 * one's starts from that system reset, not built again. check_reset
	 * then compares the reset system with a fresh build and reports any
	 * difference as DET (slow: for tests and HX_FUZZ_CHECK_RESET=1). */
	bool check_reset;
	/* The oracle compares only the pool pages an exit reached
	 * (hx_oracle_watch_pool; ASan builds, with verify_start_end): for
	 * fuzzers. Default false. */
	bool watch_pool;
	hx_replay_report_fn report;
	void *report_ctx;
	/* Observation hooks (BUILD-EQ runs the freestanding build in
	 * lock-step with the first run), may be NULL: on_exit after each exit
	 * with the record after hv_handle_exit, the result and the observer
	 * log; on_end once after the last exit with the final system (its
	 * pool holds the EPTs). */
	void (*on_exit)(void *ctx, uint64_t index, const struct hv_exit *out,
	                const struct hv_result *res, const struct hx_obs_view *log);
	void (*on_end)(void *ctx, const struct hv_system *sys);
	void *hook_ctx;
};

struct hx_replay_result {
	int status;          /* enum hx_replay_status */
	uint64_t exits_run;  /* exits handled in the first run */
	uint64_t checks;     /* invariant checks performed (first run) */
	uint64_t violations; /* invariant violations (first run + DET) */
	uint64_t mismatches; /* recorded-output differences */
	struct hx_replay_failure first;
};

void hx_replay_opts_default(struct hx_replay_opts *opts);

/* An engine keeps its buffers (memory model, pool, system) between runs so
 * fuzzers can replay many inputs cheaply. Returns NULL when out of memory. */
struct hx_replay;
struct hx_replay *hx_replay_new(void);
void hx_replay_free(struct hx_replay *r);
/* Systems built, and systems reset instead, since hx_replay_new. */
void hx_replay_world_stats(const struct hx_replay *r, uint64_t *builds, uint64_t *resets);

/* The engine's config cache (harness/trace/trace.h), for a caller that
 * parses the same inputs too (a fuzzer's mutator): a config it parsed is
 * then not parsed again by hx_replay_bytes. Owned by the engine. */
struct hx_trace_cache *hx_replay_trace_cache(struct hx_replay *r);

/* Replay a parsed trace. opts NULL: defaults. Returns res->status. */
int hx_replay_run(struct hx_replay *r, const struct hx_trace *t, const struct hx_replay_opts *opts,
                  struct hx_replay_result *res);

/* Parse and replay raw trace bytes (fuzzers); a parse error gives
 * HX_REPLAY_BAD_INPUT with the parser's message in res->first.msg. */
int hx_replay_bytes(struct hx_replay *r, const uint8_t *buf, size_t len,
                    const struct hx_replay_opts *opts, struct hx_replay_result *res);

/* One-line description of a failure: "exit 3 (vmcall): HCALL-BOUNDS: ..." */
void hx_replay_failure_str(const struct hx_replay_failure *f, char *buf, size_t len);

/* true when two failures are "the same" for minimization: same kind, same
 * invariant or same field, same exit reason. */
bool hx_replay_same_failure(const struct hx_replay_failure *a, const struct hx_replay_failure *b);

#endif
