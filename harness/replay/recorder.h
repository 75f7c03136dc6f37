/* Recording exits handled in-process: the observer, the oracles and a
 * growing in-memory trace around one hv_system. Used by the seed generator
 * and tests (the KVM runner streams with hx_trace_writer instead). */
#ifndef HX_RECORDER_H
#define HX_RECORDER_H

#include "oracle.h"
#include "trace.h"

struct hx_recorder;

/* Wrap sys (already initialised by hv_system_init) in an observer and
 * create oracles reporting to fn/ctx (fn may be NULL). The trace embeds
 * sys->cfg and sys->pool's placement. NULL when out of memory. */
struct hx_recorder *hx_recorder_new(struct hv_system *sys, const char *config_name,
                                    const char *note, hx_oracle_report_fn fn, void *ctx);

/* Handle one exit (observer, oracles, hv_handle_exit) and append it with
 * its outputs. Returns the number of invariant violations of this exit;
 * a trace limit being hit counts as one TOTAL violation. */
uint32_t hx_recorder_exit(struct hx_recorder *r, struct hv_exit *exit, struct hv_result *res);

/* The trace so far (owned by the recorder). */
const struct hx_trace *hx_recorder_trace(const struct hx_recorder *r);
/* The oracle's counters. */
void hx_recorder_stats(const struct hx_recorder *r, struct hx_oracle_stats *st);

/* Restore sys's platform ops and free everything. */
void hx_recorder_free(struct hx_recorder *r);

#endif
