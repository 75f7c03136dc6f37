/* Hypercall ABI (VMCALL on Intel, VMMCALL on AMD), shared by the core and
 * guest code.
 *
 *   RAX = hypercall number; RDI, RSI, RDX, R10 = arguments 1..4;
 *   on return RAX = status (0 or a negative HV_HC_E* value as a 64-bit
 *   two's complement), RDI = first result where a call has one. Other
 *   registers are preserved. Calls from CPL > 0 get #UD and change nothing;
 *   numbers the partition may not use return HV_HC_EPERM, unknown numbers
 *   HV_HC_ENOSYS, and a failing call has no side effect at all.
 *
 *   nr name             args                         result
 *   0  VERSION          -                            RDI = HV_HC_ABI_VERSION
 *   1  CONSOLE_WRITE    RDI=gpa, RSI=len (<=256)     bytes go to the console
 *   2  PARTITION_INFO   RDI=gpa, RSI=len (>= sizeof struct hv_hc_info)
 *                                                    struct written at gpa
 *   3  CHANNEL_SEND     RDI=channel, RSI=gpa, RDX=len (<= channel size - 0,
 *                       <= HV_HC_MSG_MAX)           message stored; EAGAIN if full
 *   4  CHANNEL_RECV     RDI=channel, RSI=gpa, RDX=maxlen
 *                                                    RDI = length; EAGAIN if empty
 *   5  MEM_PROTECT      RDI=gpa, RSI=size, RDX=perm  EPT perms reduced to perm
 *   6  YIELD            -                            -
 *   7  SHUTDOWN         -                            partition halted
 *
 * Buffers must lie inside the caller's own RAM or a channel it is a member
 * of, with read permission for inputs and write permission for outputs,
 * and must not wrap. "channel" is the index into the system's channel list
 * as given by the config; the caller must be a member (RW to send). */
#ifndef HV_HCALL_H
#define HV_HCALL_H

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
	HV_HC_COUNT
};

#define HV_HC_ALL ((1u << HV_HC_COUNT) - 1)

enum hv_hc_status {
	HV_HC_OK = 0,
	HV_HC_ENOSYS = -1, /* unknown number */
	HV_HC_EPERM = -2,  /* not allowed for this partition / not a member / RO */
	HV_HC_EFAULT = -3, /* buffer outside the caller's memory or wrong perms */
	HV_HC_EINVAL = -4, /* bad argument (alignment, perm bits, channel) */
	HV_HC_E2BIG = -5,  /* length over the limit */
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

#endif
