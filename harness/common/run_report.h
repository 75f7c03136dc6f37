/* The report of a run of guest programs, shared by hx run (the KVM runner)
 * and hx boot (the booted hypervisor under QEMU): outcomes, expectations,
 * exit kinds, violations, options, and the printed form, so both commands
 * say the same things the same way. */
#ifndef HX_RUN_REPORT_H
#define HX_RUN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/config.h"
#include "hv/exit.h"
#include "hv/verify.h"

/* What the KVM runner cannot enforce of a partition's second-stage
 * permissions (memslots are coarser than EPT/NPT entries). */
enum hxk_unenforced {
	HXK_UNENF_NX_RW = 1u << 0,   /* RW pages without X are executable */
	HXK_UNENF_NX_R = 1u << 1,    /* R pages without X are executable */
	HXK_UNENF_X_ONLY = 1u << 2,  /* X-only pages unmapped: fetches fault too */
	HXK_UNENF_W_ONLY = 1u << 3,  /* W-without-R pages unmapped */
	HXK_UNENF_MEMTYPE = 1u << 4, /* non-WB memory types behave as WB */
	HXK_UNENF_OUTSIDE = 1u << 5, /* runs beyond host memory left unmapped */
	HXK_UNENF_COUNT = 6
};
const char *hxk_unenforced_str(uint32_t bit);

/* What happened to a partition. */
enum hxk_outcome {
	HXK_OUT_NOT_RUN = 0, /* not selected (--partition) */
	HXK_OUT_RUNNING,     /* still running when the run ended (never final) */
	HXK_OUT_PASS,        /* every vCPU reported GUEST_DONE */
	HXK_OUT_FAIL,        /* GUEST_ASSERT or an unexpected exception */
	HXK_OUT_HALTED,      /* the core halted it (halt_reason says why) */
	HXK_OUT_TIMEOUT,     /* time or exit budget ran out */
	HXK_OUT_CRASH,       /* KVM could not go on (internal error, runner error) */
	HXK_OUT_COUNT
};
const char *hxk_outcome_str(enum hxk_outcome o);

/* What a partition is expected to do: an outcome, and for HALTED
 * optionally the reason (HV_HALT_NONE = any). */
struct hxk_expect {
	enum hxk_outcome outcome;
	uint32_t halt_reason;
};
/* Parse "pass", "fail", "timeout", "crash", "halted", "halted:REASON"
 * (REASON as hv_halt_reason_str: shutdown, hlt, triple-fault, violation,
 * unhandled-exit, bad-exit-record). */
bool hxk_expect_parse(const char *text, struct hxk_expect *out);

/* Exit kinds counted per partition. The first HV_EXIT_COUNT are the
 * core's exit reasons; the others are runner-only events. */
enum hxk_kind {
	HXK_K_UCALL = HV_EXIT_COUNT, /* OUT to the ucall port */
	HXK_K_STEP,                  /* single-step trap without a special instruction */
	HXK_K_INTR,                  /* KVM_RUN interrupted (timer tick) */
	HXK_K_OTHER,                 /* debug exits that are not ours, ... */
	HXK_K_COUNT
};
const char *hxk_kind_str(uint32_t kind);

/* Sub-kinds of EPT-violation exits, for the report. */
enum hxk_ept_kind { HXK_EPT_MMIO_READ, HXK_EPT_MMIO_WRITE, HXK_EPT_FETCH, HXK_EPT_KINDS };

struct hxk_kind_stats {
	uint64_t count;
	uint64_t kvm_ns;     /* inside KVM_RUN, up to this exit */
	uint64_t handler_ns; /* hv_handle_exit */
	uint64_t oracle_ns;  /* hx_oracle_before + after */
	uint64_t record_ns;  /* trace writer */
	uint64_t total_ns;   /* KVM_RUN return to the next KVM_RUN */
};

struct hxk_part_report {
	char name[HV_NAME_LEN];
	enum hxk_outcome outcome;
	uint32_t halt_reason; /* HXK_OUT_HALTED */
	char detail[320];     /* assertion file:line message, crash reason, ... */
	uint32_t nvcpus;      /* vCPUs run */
	uint64_t exits;       /* core exits (hv_handle_exit calls) */
	uint64_t by_kind[HXK_K_COUNT];
	uint64_t ept_kinds[HXK_EPT_KINDS];
	uint64_t checks;      /* invariant checks performed on its exits */
	uint64_t violations;  /* violations attributed to it */
	uint64_t cpl3_hcalls; /* hypercall exits at CPL 3 the core answered with #UD */
	uint64_t syncs;       /* GUEST_SYNC count */
	uint64_t last_sync;   /* last GUEST_SYNC stage */
	uint32_t unenforced;  /* enum hxk_unenforced bits of its memslots */
	double seconds;       /* wall time it was scheduled */
	struct hxk_expect expect;
	bool as_expected;
};

#define HXK_MAX_REPORTED_VIOLATIONS 64

struct hxk_violation {
	enum hv_invariant inv;
	int32_t partition; /* -1: system-wide */
	uint64_t exit_index;
	char msg[320];
};

struct hxk_report {
	uint32_t npartitions;
	struct hxk_part_report parts[HV_MAX_PARTITIONS];
	uint64_t total_exits;
	uint64_t total_checks;
	uint64_t nviolations;
	uint64_t per_inv[HV_INV_COUNT];
	uint32_t nstored; /* violations[] holds the first ones */
	struct hxk_violation violations[HXK_MAX_REPORTED_VIOLATIONS];
	bool oracles;            /* per-exit oracles were linked in */
	const char *checks_note; /* what was checked, when not the per-exit oracles */
	bool recorded;           /* a trace was written */
	uint64_t trace_exits;    /* exits in the trace */
	struct hxk_kind_stats stats[HXK_K_COUNT];
	double seconds;
	double stats_wall_s; /* hx boot: wall time from the first VMRUN to the end */
	bool passed;         /* every partition as expected, no unexpected violation */
};

struct hxk_call; /* harness/kvm/call.h */

/* Options of one run. */
struct hxk_options {
	double timeout_s;        /* whole run, wall clock (default 10) */
	uint64_t max_exits;      /* per partition (default 1,000,000) */
	int only_partition;      /* -1: all */
	uint32_t max_vcpus;      /* 0: as configured */
	bool single_step;        /* catch CPUID/VMCALL/HLT anywhere */
	const char *record;      /* trace file to write, or NULL */
	const char *config_name; /* its file name is recorded in the trace */
	bool quiet;              /* no guest console / PRINT output */
	bool verbose;            /* runner diagnostics */
	/* Test-only negative control: after the production EPT build, point
	 * one leaf of partition 0 at partition 1's RAM (harness code writes
	 * the table entry; nothing in handlers/ is involved). */
	bool break_ept_foreign;
	struct hxk_expect expect[HV_MAX_PARTITIONS]; /* default: pass */
	uint32_t expect_inv;                         /* bits: violations expected */
	FILE *out;                                   /* progress / guest output (stdout) */
	/* hx call: partition 0 runs functions of its image (call.h), not its
	 * entry point: ncalls calls one after the other on the same sandbox,
	 * each while the one before it returned or faulted; how each ended is
	 * written back into it. */
	struct hxk_call *call;
	uint32_t ncalls;
};
void hxk_options_default(struct hxk_options *o);

/* Set every partition's expectation and as_expected, and rep->passed: all
 * partitions as expected and exactly the expected invariants violated. */
void hxk_report_finish(struct hxk_report *rep, uint32_t npartitions, const struct hxk_options *opt);

/* Print the report: per partition result, exits by type, checks and
 * violations; with stats the per-exit overhead table. */
void hxk_report_print(FILE *f, const struct hv_system_config *cfg, const struct hxk_report *rep,
                      bool stats);

#endif
