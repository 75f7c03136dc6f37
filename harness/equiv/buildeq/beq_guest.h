/* Internals of the freestanding replay image: the platform it gives the
 * core. Freestanding: hv/ headers and beq_abi.h only. */
#ifndef HX_BEQ_GUEST_H
#define HX_BEQ_GUEST_H

#include "beq_abi.h"
#include "hv/platform.h"

/* Context of beq_platform_ops. */
struct beq_plat {
	uint8_t *window; /* host physical memory [0, host_size) */
	uint64_t host_size;
	const struct beq_in *in;     /* the exit being handled: host answers */
	struct beq_out *out;         /* its log */
	uint8_t used[BEQ_MAX_CALLS]; /* RDMSR/WRMSR answers already served */
};

/* Host CPUID/MSR come from the answers of the hosted run; host memory is
 * the window; every call is logged into out as the observer logs it. */
extern const struct hv_platform_ops beq_platform_ops;

/* Start an exit: answers from in, empty log in out. */
void beq_plat_begin(struct beq_plat *p, const struct beq_in *in, struct beq_out *out);

#endif
