/* Hypercall ABI (VMCALL on Intel, VMMCALL on AMD), shared by the core and
 * guest code. User documentation: handlers/docs/hypercalls.md.
 *
 *   RAX = hypercall number; RDI, RSI, RDX, R10 = arguments 1..4 (all 64-bit,
 *   unused ones ignored); on return RAX = status (0 or a negative HV_HC_E*
 *   value as a 64-bit two's complement), RDI = the result where a call has
 *   one (only on success). Every other register is preserved, and a failing
 *   call changes nothing but RAX. RIP moves past the instruction (3 bytes)
 *   in every case except #UD and SHUTDOWN.
 *
 *   Calls from CPL > 0 get #UD and change nothing (not even RAX). Numbers
 *   >= HV_HC_COUNT return HV_HC_ENOSYS; known numbers whose bit is clear in
 *   the partition's hcall_allowed return HV_HC_EPERM.
 *
 *   nr name            arguments                         result / notes
 *   0  VERSION         -                                 RDI = HV_HC_ABI_VERSION
 *   1  CONSOLE_WRITE   RDI=gpa, RSI=len (<= 256)         bytes to the console;
 *                                                        len 0 does nothing
 *   2  PARTITION_INFO  RDI=gpa, RSI=len (>= sizeof       struct hv_hc_info at gpa
 *                      struct hv_hc_info, else E2BIG)    (exactly sizeof bytes)
 *   3  CHANNEL_SEND    RDI=channel, RSI=gpa, RDX=len     message stored;
 *                      (1 .. min(HV_HC_MSG_MAX, channel  EAGAIN if one is waiting
 *                      size), else EINVAL / E2BIG)
 *   4  CHANNEL_RECV    RDI=channel, RSI=gpa, RDX=maxlen  RDI = length; EAGAIN if
 *                                                        empty; E2BIG (message
 *                                                        kept) if maxlen < length
 *   5  MEM_PROTECT     RDI=gpa, RSI=size, RDX=perm       EPT perms of the range
 *                      (gpa, size 4 KiB aligned, size    set to perm (HV_PERM_*
 *                      > 0; perm R/W/X bits, 0 or        bits; 0 = no access)
 *                      with R, else EINVAL)
 *   6  YIELD           -                                 counted, returns at once
 *   7  SHUTDOWN        -                                 partition halted (no return)
 *   8  CALL_RETURN     RDI=result                        the call the partition
 *                                                        runs has returned: halted
 *                                                        with HV_HALT_CALL_RETURN,
 *                                                        RDI (the result) kept
 *   9  CALL_FAULT      RDI=vector (0..31), RSI=error     the call took an exception
 *                      code (< 2^32), RDX=RIP, R10=CR2   (its own IDT reported it):
 *                      (else EINVAL, call goes on)       halted with
 *                                                        HV_HALT_CALL_FAULT, the
 *                                                        report kept in RDI..R10
 *
 * Buffers: [gpa, gpa+len) must not wrap and must lie inside the caller's own
 * RAM regions or channel windows it is a member of (adjacent ones may be
 * spanned; passthrough MMIO and emulated devices never qualify), with read
 * permission for inputs and write permission for outputs both in the config
 * (an RO member cannot receive into its channel window) and in the EPT as
 * currently mapped (after MEM_PROTECT). Otherwise HV_HC_EFAULT. The buffer
 * checked is the one the call may touch: len bytes for CONSOLE_WRITE and
 * CHANNEL_SEND, sizeof(struct hv_hc_info) for PARTITION_INFO, min(maxlen,
 * HV_HC_MSG_MAX) for CHANNEL_RECV (whatever the mailbox holds).
 * Guest addresses are always the caller's own guest-physical addresses.
 *
 * Channels: "channel" is the index into the system's channel list of the
 * config (EINVAL if out of range); the caller must be a member (EPERM) and
 * a read-write member to send (EPERM). Each channel is a mailbox for one
 * message; the payload is stored in the first bytes of the channel's own
 * memory, which both members also see through their windows. Any member
 * may receive.
 *
 * MEM_PROTECT only ever reduces: the range must lie in the caller's own RAM
 * regions (EFAULT otherwise: channels and MMIO cannot be protected), perm
 * must be a subset of the configured permissions and of the current ones
 * of every page (EPERM). ENOMEM when the hypervisor's page pool cannot
 * split a large page; then nothing changed.
 *
 * CALL_RETURN and CALL_FAULT end a sandboxed call (hx call): the platform
 * reads the result or the fault report from the vCPU state of the halting
 * exit, which the core leaves exactly as the guest set it (RIP at the
 * instruction). A platform that makes another call re-arms the partition
 * with hv_call_rearm.
 *
 * Order of checks, first failure wins: number (ENOSYS, EPERM); argument
 * values and channel membership (EINVAL, EPERM, E2BIG); buffers and ranges
 * (EFAULT, then EPERM for a MEM_PROTECT that would raise); state (EAGAIN,
 * then E2BIG for CHANNEL_RECV); ENOMEM. */
#ifndef HV_HCALL_H
#define HV_HCALL_H

#include "hv/status.h"
#include "hv/types.h"

#define HV_HC_ABI_VERSION 0x00010000ull

enum hv_hc_nr {
	HV_HC_VERSION = 0,
	HV_HC_CONSOLE_WRITE = 1,
	HV_HC_PARTITION_INFO = 2,
	HV_HC_CHANNEL_SEND = 3,
	HV_HC_CHANNEL_RECV = 4,
	HV_HC_MEM_PROTECT = 5,
	HV_HC_YIELD = 6,
	HV_HC_SHUTDOWN = 7,
	HV_HC_CALL_RETURN = 8,
	HV_HC_CALL_FAULT = 9,
	HV_HC_COUNT
};

#define HV_HC_ALL ((1u << HV_HC_COUNT) - 1)

enum hv_hc_status {
	HV_HC_OK = 0,
	HV_HC_ENOSYS = -1, /* unknown number */
	HV_HC_EPERM = -2,  /* not allowed for this partition / not a member / RO /
	                      MEM_PROTECT would raise a permission */
	HV_HC_EFAULT = -3, /* buffer outside the caller's memory or wrong perms */
	HV_HC_EINVAL = -4, /* bad argument (alignment, perm bits, channel, len 0) */
	HV_HC_E2BIG = -5,  /* length over the limit, or buffer too small */
	HV_HC_EAGAIN = -6, /* channel full (send) or empty (recv) */
	HV_HC_ENOMEM = -7, /* page pool exhausted while splitting a large page */
};

#define HV_HC_CONSOLE_MAX 256u
#define HV_HC_MSG_MAX 4096u

struct hv_hc_info {
	uint32_t partition; /* index */
	uint32_t vcpu;      /* caller's vCPU */
	uint32_t nvcpus;
	uint32_t nregions;
	uint64_t ram_bytes; /* total RAM of the partition */
	char name[32];
};

/* Exception vectors a CALL_FAULT may report: the architectural ones
 * (Intel SDM Vol. 3A, Table 6-1). */
#define HV_HC_FAULT_VECTORS 32u

struct hv_system;

/* Let partition `part`, halted by CALL_RETURN or CALL_FAULT, run again
 * (the platform has reset its vCPU for the next call). HV_ERR_PERM for a
 * partition halted for any other reason, or running: nothing else may be
 * undone; HV_ERR_RANGE for a bad index. */
hv_status hv_call_rearm(struct hv_system *sys, uint32_t part);

#endif
