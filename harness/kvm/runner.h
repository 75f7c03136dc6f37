/* The KVM runner (DESIGN.md, "The KVM runner"): every partition of a config
 * becomes a KVM VM whose memslots come from the production EPT; real guest
 * code runs in it and every exit it makes goes through hv_handle_exit(),
 * the oracles and the trace writer. `hx run` is a thin front end. */
#ifndef HXK_RUNNER_H
#define HXK_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/config.h"
#include "hv/exit.h"
#include "hv/verify.h"
#include "kvm_err.h"
#include "run_report.h"

enum hxk_run_status {
	HXK_RUN_DONE = 0,      /* the run happened: see the report */
	HXK_RUN_BAD_INPUT = 2, /* config / image / options rejected (err says why) */
	HXK_RUN_ERROR = 3,     /* KVM unavailable or failed during set-up */
};

/* The run in three steps, for a caller that makes calls on a sandbox
 * (opt->call set, harness/sandbox): open sets every partition up, each
 * hxk_call_run makes one call (call.h) on partition 0 (0; -2 when its
 * function is not in the image; -1 when KVM failed: err says why), close
 * finishes the report and frees everything. NULL from open with *st and
 * err saying why. */
struct hxk_runner;
struct hxk_call;
struct hxk_runner *hxk_open(const struct hv_system_config *cfg, const char *const *images,
                            const struct hxk_options *opt, struct hxk_report *rep,
                            enum hxk_run_status *st, struct hxk_err *err);
int hxk_call_run(struct hxk_runner *R, struct hxk_call *c, struct hxk_err *err);
void hxk_close(struct hxk_runner *R);
/* An EFI image started now rather than before the first call (nothing for
 * other images): 0, -2 when it did not start (err says how it ended), -1
 * when KVM failed. */
int hxk_call_start(struct hxk_runner *R, struct hxk_err *err);

/* Run the guests. images[p] is the ELF for partition p (NULL: partition
 * not run). rep is filled (large: allocate it). */
enum hxk_run_status hxk_run(const struct hv_system_config *cfg, const char *const *images,
                            const struct hxk_options *opt, struct hxk_report *rep,
                            struct hxk_err *err);

#endif
