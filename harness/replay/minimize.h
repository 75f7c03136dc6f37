/* Delta debugging of failing traces: drop exits, platform calls and memory
 * bytes while the trace keeps failing the same way (hx_replay_same_failure:
 * same invariant or same differing field, at the same kind of exit). */
#ifndef HX_MINIMIZE_H
#define HX_MINIMIZE_H

#include "replay.h"

#define HX_MINIMIZE_MAX_TRIES 4000u /* replays spent at most */

struct hx_minimize_stats {
	uint32_t tries;        /* replays run */
	uint32_t exits_before; /* exits in the input */
	uint32_t exits_after;
	uint32_t calls_before; /* recorded platform calls in the input */
	uint32_t calls_after;
	uint64_t bytes_before; /* memory bytes carried by the calls */
	uint64_t bytes_after;
};

enum hx_minimize_status {
	HX_MIN_OK = 0,     /* *out is a smaller (or equal) trace failing the same way */
	HX_MIN_PASSES = 1, /* the input does not fail: nothing to minimize */
	HX_MIN_BAD = 2,    /* the input is unusable (replay says bad input) */
	HX_MIN_NOMEM = 3,
};

/* Minimize t. *target receives the failure kept. Returns a status; *out
 * (owned by the caller) only with HX_MIN_OK. */
int hx_minimize(const struct hx_trace *t, struct hx_trace **out, struct hx_replay_failure *target,
                struct hx_minimize_stats *stats);

#endif
