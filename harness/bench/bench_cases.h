/* The exit cases every handler benchmark and the instruction budget gate
 * run: one per exit type the core handles, each on the path a healthy
 * partition takes (a hypercall that succeeds, an MMIO access that is
 * emulated, a violation that is contained). */
#ifndef HXB_CASES_H
#define HXB_CASES_H

#include "bench_system.h"
#include "hv/exit.h"

struct hxb_case {
	const char *name; /* stable id: budgets.conf and reports use it */
	const char *what; /* one line for the report */
	/* Reset whatever the previous iteration changed (mailbox, EPT,
	 * halted flag) and fill the exit record. Not timed. */
	void (*prep)(struct hxb_system *s, struct hv_exit *e);
	/* NULL when the handler took the intended path, else why not. */
	const char *(*check)(const struct hxb_system *s, const struct hv_exit *e,
	                     const struct hv_result *r);
};

extern const struct hxb_case hxb_cases[];
extern const size_t hxb_ncases;

/* Guest data the cases need (buffers, page tables, code). Call once after
 * hxb_system_start. */
void hxb_cases_setup(struct hxb_system *s);

const struct hxb_case *hxb_case_find(const char *name);

#endif
