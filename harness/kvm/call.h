/* A sandboxed call (hx call): the KVM runner runs one function of a
 * firmware image in partition 0 instead of the image's entry point. The
 * in-VM stub (call_stub.S) calls it with the arguments in the registers and
 * on the stack of the chosen ABI, and ends the call with hypercall
 * CALL_RETURN (the result) or, from its IDT, CALL_FAULT (vector, error
 * code, RIP, CR2): hv/hcall.h. Buffers are copied in before the call and,
 * for out-buffers, back after it. */
#ifndef HXK_CALL_H
#define HXK_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/exit.h"
#include "kvm_err.h"

/* Guest-physical layout of the sandbox inside partition RAM (below the
 * image, above the guest ABI's tables and boot info: hv/guest_abi.h). */
#define HXK_FAULT_STACK_TOP 0xe000ull /* IST1 stack of the stub's IDT, 4 KiB */
#define HXK_STUB_GPA 0xe000ull        /* the stub's code */
#define HXK_STUB_IDT_GPA 0xf000ull    /* its 32 gates */
#define HXK_CALL_STACK 0x10000ull     /* the function's stack: 64 KiB at the top of RAM */

enum hxk_abi {
	HXK_ABI_SYSV = 0, /* RDI, RSI, RDX, RCX, R8, R9, then the stack */
	HXK_ABI_MS = 1,   /* RCX, RDX, R8, R9, then the stack above 32 bytes of shadow space */
};

#define HXK_CALL_MAX_ARGS 16
#define HXK_CALL_MAX_BUFS 8
#define HXK_CALL_MAX_BUF (1u << 20)
#define HXK_CALL_GUARD 16u /* guard bytes on each side of a buffer */
#define HXK_CALL_GUARD_BYTE 0xa5u

struct hxk_call_buf {
	uint8_t *data; /* in: copied in; out: filled after the call (len bytes) */
	uint64_t len;
	bool in;      /* data is copied into the sandbox (else the buffer starts zeroed) */
	bool out;     /* copied back after the call */
	uint32_t arg; /* the argument that receives its GPA */
	uint64_t gpa; /* chosen by the runner */
};

enum hxk_call_end {
	HXK_CALL_NOT_ENDED = 0, /* timeout, crash, another halt */
	HXK_CALL_RETURNED,
	HXK_CALL_FAULTED,
};

struct hxk_call {
	/* in */
	bool reset;         /* before this call, the sandbox back to its state after loading */
	const char *symbol; /* resolved in the image's symbol table, or */
	uint64_t address;   /* used when symbol is NULL */
	enum hxk_abi abi;
	uint64_t args[HXK_CALL_MAX_ARGS];
	uint32_t nargs;
	struct hxk_call_buf bufs[HXK_CALL_MAX_BUFS];
	uint32_t nbufs;
	/* out */
	bool efi_started; /* an EFI image's entry point ran first (efi_start.h) */
	uint64_t target;  /* the function's address */
	enum hxk_call_end end;
	uint64_t result;                                          /* HXK_CALL_RETURNED */
	uint64_t fault_vector, fault_error, fault_rip, fault_cr2; /* HXK_CALL_FAULTED */
	uint32_t overrun; /* bit i: bufs[i]'s guard bytes changed: a write outside it */
	/* The vCPU's CR0, CR4 and EFER when the call ended, when one differs
	 * from the sandbox's entry state (KVM here reports no CR writes, so a
	 * change is found after the call rather than refused). */
	bool cr_changed;
	uint64_t cr0, cr4, efer;
};

struct hxk_pstate;

/* Make partition 0 a sandbox (after the image and the tables are loaded):
 * the stub, its IDT, the IST1 stack, and the stub's hypercall instruction
 * as a breakpoint site. The partition then waits for hxk_call_begin. */
int hxk_call_install(struct hxk_pstate *p, struct hxk_err *err);

/* The call's function in the image (its symbol, or its address inside an
 * executable segment) into call->target; fails, naming it, otherwise. */
int hxk_call_resolve(struct hxk_pstate *p, struct hxk_call *call, struct hxk_err *err);

/* The exit path saw partition 0 halt: record how the call ended. */
void hxk_call_ended(struct hxk_call *call, const struct hv_exit *ex, uint32_t halt_reason);

/* After the run: out-buffers back from guest memory. */
void hxk_call_finish(struct hxk_pstate *p, struct hxk_call *call);

/* Before a call: partition 0 ready for it (re-armed after the call before,
 * the vCPU at the ABI's entry state with the call's registers, stack and
 * buffers; with call->reset its RAM refilled and the image loaded again). */
int hxk_call_begin(struct hxk_pstate *p, struct hxk_call *call, struct hxk_err *err);

#endif
