/* Internal state of the KVM runner, shared by its source files. */
#ifndef HXK_RUNNER_INT_H
#define HXK_RUNNER_INT_H

#include <stdarg.h>
#include <time.h>

#include "elf_load.h"
#include "gwalk.h"
#include "hostmem.h"
#include "hv/exit.h"
#include "hv/pool.h"
#include "hv/system.h"
#include "kvm_vm.h"
#include "mmio_locate.h"
#include "runner.h"
#include "slots.h"

#ifdef HXK_HAVE_ORACLE
#include "observer.h"
#include "oracle.h"
#endif
#ifdef HXK_HAVE_TRACE
#include "trace.h"
#endif

/* Sites the guest runtime exports (hx/guest_abi.h). */
enum hxk_site { HXK_SITE_CPUID, HXK_SITE_VMCALL, HXK_SITE_VMMCALL, HXK_SITES };

/* KVM exits one vCPU may take before the next one gets its turn. */
#define HXK_SLICE_EXITS 256u
/* Special instructions handled back to back before one KVM_RUN in
 * single-step mode. */
#define HXK_STEP_CHAIN 64u
/* Timer tick: bounds how long one vCPU keeps the thread. */
#define HXK_TICK_US 10000

struct hxk_runner;

struct hxk_vstate {
	struct hxk_vcpu *vc;
	struct hxk_pstate *p;
	uint32_t index;
	bool stopped;       /* reported DONE, or its partition stopped */
	bool yield;         /* end the current slice */
	uint64_t entry_rip; /* RIP when KVM_RUN was last entered */
	uint64_t steps;     /* single-step traps */
	bool has_run;       /* a KVM_RUN returned: run->s.regs hold its state */
};

struct hxk_pstate {
	struct hxk_runner *R;
	uint32_t index;
	bool selected;
	bool active; /* runnable: selected, set up and not finished */
	struct hxk_vm vm;
	struct hxk_elf elf;
	bool efi_started; /* an EFI image's entry point returned EFI_SUCCESS (efi_start.h) */
	uint64_t site[HXK_SITES];
	bool has_site[HXK_SITES];
	uint8_t site_dr[HXK_SITES]; /* debug register (DR0..DR2) watching it */
	struct hxk_slot_plan slots; /* applied to vm */
	bool slots_dirty;
	uint32_t nvcpus;
	uint32_t vcpus_done;
	struct hxk_vstate v[HXK_MAX_VCPUS];
	uint64_t kvm_exits; /* every KVM exit, for the exit budget */
	char con[160];      /* console line being assembled */
	uint32_t conlen;
	struct hxk_part_report *rep;
};

#define HXK_CPUID_CACHE 512u

struct hxk_cpuid_entry {
	uint32_t leaf, subleaf;
	uint32_t out[4];
	bool valid;
};

struct hxk_runner {
	const struct hv_system_config *cfg;
	const struct hxk_options *opt;
	struct hxk_report *rep;
	FILE *out;
	struct hxk_kvm kvm;
	bool kvm_open;
	struct hxk_hostmem mem;
	struct hv_pool pool;
	uint64_t pool_hpa;
	uint32_t pool_pages;
	struct hv_system *sys;
	struct hxk_pstate *parts;
	struct hxk_vstate *cur; /* vCPU whose exit is being handled */
	uint64_t exit_index;    /* core exits so far (trace index) */
	uint64_t blame_index;   /* exit a violation found now belongs to */
	uint64_t pool_used_seen;
	struct hxk_call *cur_call;  /* hx call: the call running */
	struct hxk_call_snap *snap; /* the sandbox's reset point (call_reset.h) */
	uint64_t t_start;
	bool stopping;      /* timeout: finish now */
	uint8_t code[4096]; /* guest code before an MMIO store's RIP */
	struct hxk_cpuid_entry cpuid_cache[HXK_CPUID_CACHE];
#ifdef HXK_HAVE_ORACLE
	struct hx_observer *obs;
	struct hx_oracle *oracle;
#endif
#ifdef HXK_HAVE_TRACE
	struct hx_trace_writer *tw;
	bool trace_failed;
#endif
};

/* platform.c */
extern const struct hv_platform_ops hxk_platform_ops;
void hxk_console_flush(struct hxk_pstate *p);

/* Guest memory as the guest sees it (through the applied memslots);
 * hxk_gpa_ptr is for the loader and accepts read-only slots too. */
bool hxk_gpa_read(void *pstate, uint64_t gpa, void *dst, uint32_t len);
void *hxk_gpa_ptr(void *pstate, uint64_t gpa, uint64_t len);
/* Paging state of a vCPU from its sync regs. */
void hxk_paging_of(const struct hxk_vstate *v, struct hxk_paging *pg);

/* ---- one exit, one straight path (exit_path.c) ------------------------------
 *
 *   KVM exit -> hxk_exit_translate (exits.c)    -> struct hxk_exit
 *            -> ucall: hxk_ucall (ucall.c)       \
 *            -> core:  hv_handle_exit + oracles   > findings, a verdict
 *                      + trace, hxk_exit_apply   /
 *            -> hxk_exit_path acts on the verdict (outcome.c)
 *
 * exits.c and ucall.c only describe: they neither stop partitions nor
 * report violations nor count. */

/* What the loop does with the vCPU after the exit. */
enum hxk_next {
	HXK_NEXT_RUN = 0, /* run it on */
	HXK_NEXT_YIELD,   /* end its slice: a peer may run */
	HXK_NEXT_DONE,    /* it reported GUEST_DONE */
	HXK_NEXT_STOP,    /* stop its partition */
};

struct hxk_verdict {
	enum hxk_next next;
	enum hxk_outcome outcome; /* HXK_NEXT_STOP */
	uint32_t halt_reason;
	char why[320];
};

struct hxk_finding {
	enum hv_invariant inv;
	char msg[320];
};
#define HXK_MAX_FINDINGS 4

/* How the core's result goes back into the vCPU. */
enum hxk_how {
	HXK_HOW_NONE = 0,
	HXK_HOW_AT_RIP, /* CPUID, VMCALL/VMMCALL, HLT at RIP: breakpoint or single-step */
	HXK_HOW_MSR,
	HXK_HOW_MMIO,
	HXK_HOW_FETCH,
	HXK_HOW_IO,
	HXK_HOW_SIMPLE, /* HLT, shutdown, failed entry: the vCPU cannot go on */
};

struct hxk_exit {
	uint32_t kind;    /* what it counts as: an hv_exit reason or an enum hxk_kind */
	int32_t ept_kind; /* enum hxk_ept_kind, or -1 */
	bool from_kvm;    /* a KVM exit (not the single-step pre-run check) */
	uint32_t kvm_reason;
	bool to_core; /* ex goes to hv_handle_exit */
	bool is_ucall;
	uint64_t ucall_gpa;
	enum hxk_how how;
	struct hv_exit ex;
	uint32_t action; /* the core's, once applied */
	/* for the way back */
	uint64_t nr; /* VMCALL: RAX at the exit */
	struct hxk_mmio_access acc;
	bool is_write;
	uint64_t kvm_rip, in_rip;
	const char *what; /* HXK_HOW_SIMPLE */
	/* what was found on the way */
	struct hxk_verdict verdict;
	uint32_t nfindings;
	struct hxk_finding findings[HXK_MAX_FINDINGS];
};

/* exits.c */
void hxk_exit_translate(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x);
/* Single-step mode: is there a CPUID/VMCALL/VMMCALL/HLT at RIP? */
bool hxk_exit_at_rip(struct hxk_vstate *v, struct hxk_exit *x);
void hxk_exit_apply(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res);
void hxk_exit_finish_step(struct hxk_vstate *v, struct hxk_exit *x);

/* ucall.c: the guest's report, as findings and a verdict. */
void hxk_ucall(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x);

/* exit_path.c: the path itself. Returns the kind the exit counted as. */
uint32_t hxk_exit_path(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x);

/* outcome.c: the run's bookkeeping. */
void hxk_violation(struct hxk_runner *R, enum hv_invariant inv, int32_t part, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void hxk_stop_partition(struct hxk_pstate *p, enum hxk_outcome o, uint32_t halt_reason,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void hxk_vcpu_done(struct hxk_vstate *v);
void hxk_count(struct hxk_pstate *p, uint32_t kind);
uint64_t hxk_now_ns(void);

/* runner.c */
int hxk_rebuild_slots(struct hxk_pstate *p, struct hxk_err *err);

/* break_ept.c: the test-only negative control. */
int hxk_break_ept_foreign(struct hxk_runner *R, struct hxk_err *err);

#endif
