/* BUILD-EQ: the freestanding build of the core against the hosted one.
 *
 * For each trace, the freestanding replay image (harness/replay/
 * freestanding: the freestanding core plus a libc-free driver, a
 * bare-metal ELF) runs in a KVM guest, and the hosted replay engine runs
 * the same trace in this process. The two go in lock-step: after the
 * hosted core has handled exit i, the host hands the guest the same exit
 * record with exactly the inputs the hosted run consumed (the host
 * CPUID/MSR answers of its observer log; guest memory preloaded into the
 * guest's host-memory window as replay preloads its model), the guest's
 * core handles it, and every output is compared bit for bit: the result,
 * the vCPU state out, every platform call in order with its arguments and
 * bytes (memory read and written with the bytes before, host MSR writes,
 * console bytes, EPT-changed notices) and the log overflow count. After
 * the last exit the run-time state is compared: the EPT page pool byte for
 * byte, pool use, per-partition and channel state. The first difference is
 * reported with exit index and field name.
 *
 * Runs are bounded: a deadline per trace; a hung, crashing or misbehaving
 * image is reported, never waited on forever. */
#ifndef HX_BUILDEQ_H
#define HX_BUILDEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

enum hx_beq_status {
	HX_BEQ_PASS = 0,      /* every output and the final state equal */
	HX_BEQ_FAIL = 1,      /* a difference: first says where */
	HX_BEQ_BAD_INPUT = 2, /* the trace cannot be replayed (hosted replay refuses it, too big) */
	HX_BEQ_ERROR = 3,     /* the image hung, crashed or broke the protocol; KVM failed */
};

struct hx_beq_opts {
	const char *image; /* freestanding replay image (ELF) */
	double timeout_s;  /* wall-clock limit per trace (0: HX_BEQ_DEFAULT_TIMEOUT) */
};

#define HX_BEQ_DEFAULT_TIMEOUT 60.0

struct hx_beq_result {
	int status;           /* enum hx_beq_status */
	uint64_t exits;       /* exits compared (equal ones) */
	uint64_t calls;       /* platform calls compared */
	uint64_t pool_pages;  /* EPT pool pages compared at the end */
	int64_t exit_index;   /* where the difference or error is; -1: setup / final state */
	uint32_t exit_reason; /* reason of that exit (HV_EXIT_COUNT if none) */
	char field[64];       /* HX_BEQ_FAIL: e.g. "st.rcx", "call[2].data", "pool[3]" */
	char msg[640];        /* the whole story, one line */
	int hosted_status;    /* enum hx_replay_status of the hosted run */
	char hosted_msg[320]; /* its first failure, when it failed */
	double seconds;       /* wall time of this trace */
	double guest_seconds; /* of which inside KVM_RUN */
};

/* Opens /dev/kvm and reads the image. Returns NULL with a message in err. */
struct hx_beq;
struct hx_beq *hx_beq_new(const struct hx_beq_opts *opts, char *err, size_t errlen);
void hx_beq_free(struct hx_beq *b);

/* Check one trace. Returns res->status. */
int hx_beq_run(struct hx_beq *b, const struct hx_trace *t, struct hx_beq_result *res);

/* Default image path: next to the hx executable's build tree
 * (<dir of /proc/self/exe>/harness/equiv/buildeq/hv_replay.elf),
 * else the path the build configured. */
const char *hx_beq_default_image(void);

#endif
