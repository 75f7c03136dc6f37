/* The firmware-call sandbox as a C library (libhx_sandbox.a): open a
 * sandbox from a config and a firmware image, call its functions with
 * integer arguments and buffers, get the result or the exception the call
 * took, make further calls on the same sandbox (the image keeps its state)
 * or reset it to its state after loading. Each sandbox is partition 0 of
 * the config, run on /dev/kvm under the production exit handlers and the
 * oracles; every exception of a call is caught by the sandbox's own stub
 * and reported, never raised in the caller. `hx call` is this library's
 * command-line front end.
 *
 *   struct hx_sandbox *sb = hx_sandbox_open("sandbox.json", "rt.elf", NULL, err, sizeof err);
 *   uint8_t t[16];
 *   struct hx_arg a[] = {hx_out(t, sizeof t), hx_int(0)};
 *   struct hx_result r;
 *   hx_sandbox_call(sb, "get_time", HX_ABI_MS, a, 2, &r);  // r.end, r.value
 *   hx_sandbox_close(sb);
 */
#ifndef HX_SANDBOX_H
#define HX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hx_abi {
	HX_ABI_SYSV = 0, /* System V AMD64 */
	HX_ABI_MS = 1,   /* Microsoft x64, as UEFI calls */
};

enum hx_arg_kind {
	HX_ARG_INT = 0, /* value */
	HX_ARG_IN,      /* buf[0, len) copied into the sandbox; its address passed */
	HX_ARG_OUT,     /* len zeroed bytes in the sandbox; copied into buf after the call */
	HX_ARG_INOUT,   /* both */
};

struct hx_arg {
	enum hx_arg_kind kind;
	uint64_t value;
	void *buf;
	size_t len;
};

static inline struct hx_arg hx_int(uint64_t v)
{
	return (struct hx_arg){HX_ARG_INT, v, NULL, 0};
}
static inline struct hx_arg hx_in(const void *buf, size_t len)
{
	return (struct hx_arg){HX_ARG_IN, 0, (void *)buf, len};
}
static inline struct hx_arg hx_out(void *buf, size_t len)
{
	return (struct hx_arg){HX_ARG_OUT, 0, buf, len};
}
static inline struct hx_arg hx_inout(void *buf, size_t len)
{
	return (struct hx_arg){HX_ARG_INOUT, 0, buf, len};
}

enum hx_call_end {
	HX_CALL_RETURNED = 0, /* value is the function's result */
	HX_CALL_FAULTED,      /* vector, error, rip, cr2: the exception it took */
	HX_CALL_FAILED,       /* neither (time or exit budget, a halt, a crash): why */
};

struct hx_result {
	enum hx_call_end end;
	uint64_t value;
	uint64_t vector, error, rip, cr2;
	uint64_t exits;      /* exits of the sandbox during the call */
	uint64_t violations; /* isolation invariants broken during the call (0) */
	uint32_t overrun;    /* bit i: the call wrote outside buffer argument i's bounds */
	bool cr_changed;     /* the call left CR0, CR4 or EFER changed (found after it) */
	uint64_t cr0, cr4, efer;
	char why[384];
};

struct hx_sandbox_opts {
	double timeout_s;   /* per call (default 10) */
	uint64_t max_exits; /* per call (default 1,000,000) */
	bool quiet;         /* no console output of the firmware */
};

struct hx_sandbox;

/* NULL with err (a sentence) on bad input or when KVM cannot be used. */
struct hx_sandbox *hx_sandbox_open(const char *config_path, const char *image_path,
                                   const struct hx_sandbox_opts *opts, char *err, size_t errlen);

/* Call symbol (or, when it starts with 0x, that address) with nargs (at
 * most 16, at most 8 of them buffers of at most 1 MiB). Returns 0 when the
 * call was made (*res says how it ended), -1 when it could not be: bad
 * arguments, no such function, a sandbox that a failed call left unusable
 * (res->why says which). */
int hx_sandbox_call(struct hx_sandbox *sb, const char *symbol, enum hx_abi abi,
                    const struct hx_arg *args, unsigned nargs, struct hx_result *res);

/* The next call starts from the state after loading (for an EFI image:
 * after its start). Only what the calls changed is put back: the pages
 * KVM's dirty log names and those hx wrote, the core's partition state
 * and the vCPU's FPU; a sandbox whose snapshot could not be taken reloads
 * the image instead. */
void hx_sandbox_reset(struct hx_sandbox *sb);

/* For tests and fuzzers: 0 when the sandbox equals its state after
 * loading byte for byte (every page of its RAM, the core's state, its
 * tables), else -1 and the first difference in why. Meaningful right
 * after hx_sandbox_reset. */
int hx_sandbox_check_reset(struct hx_sandbox *sb, char *why, size_t len);

struct hx_sandbox_stats {
	uint64_t resets;      /* by the dirty log */
	uint64_t guest_pages; /* pages restored because the guest wrote them */
	uint64_t host_pages;  /* because hx wrote them (arguments, buffers, tables) */
};
void hx_sandbox_get_stats(const struct hx_sandbox *sb, struct hx_sandbox_stats *st);

void hx_sandbox_close(struct hx_sandbox *sb);

#ifdef HX_SANDBOX_TESTING
/* The test build only (hx_sandbox_test): the next reset leaves one page
 * the guest wrote unrestored, a state leak hx_sandbox_check_reset must
 * report. */
void hx_sandbox_plant_reset_leak(struct hx_sandbox *sb);
#endif

#endif
