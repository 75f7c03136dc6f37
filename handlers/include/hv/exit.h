/* One exit in, one result out. Every exit of every partition enters the core
 * through hv_handle_exit(), which dispatches through one table indexed by
 * hv_exit_reason and is the only place RIP is advanced. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include "hv/types.h"

enum hv_exit_reason {
	HV_EXIT_CPUID = 0,
	HV_EXIT_RDMSR,
	HV_EXIT_WRMSR,
	HV_EXIT_VMCALL,        /* VMCALL (Intel) or VMMCALL (AMD) */
	HV_EXIT_EPT_VIOLATION, /* NPF on AMD */
	HV_EXIT_HLT,
	HV_EXIT_IO, /* port I/O: not handled, contained */
	HV_EXIT_TRIPLE_FAULT,
	HV_EXIT_XSETBV,        /* not handled, contained */
	HV_EXIT_INVALID_STATE, /* VM-entry failure */
	HV_EXIT_EXCEPTION,     /* an intercepted exception (qual: HV_QUAL_EXC_*), contained */
	HV_EXIT_CR_WRITE,      /* MOV to CR0/CR4, CLTS, LMSW (qual: HV_QUAL_CR_*; hv/cr.h) */
	HV_EXIT_COUNT
};

/* General-purpose register numbers as encoded in ModRM/REX. */
enum hv_gpr {
	HV_RAX = 0,
	HV_RCX,
	HV_RDX,
	HV_RBX,
	HV_RSP,
	HV_RBP,
	HV_RSI,
	HV_RDI,
	HV_R8,
	HV_R9,
	HV_R10,
	HV_R11,
	HV_R12,
	HV_R13,
	HV_R14,
	HV_R15,
	HV_GPR_COUNT
};

/* Architectural state of the exiting vCPU that handlers may read; handlers
 * change only gpr[] (and rip through the dispatcher), and the CR write
 * handler cr0/cr4 (hv/cr.h), which the platform then loads. */
struct hv_vcpu_state {
	uint64_t gpr[HV_GPR_COUNT];
	uint64_t rip;
	uint64_t rflags;
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t efer;
	uint8_t cpl;
	uint8_t pad[7];
};

/* EPT-violation exit qualification (Intel SDM Vol. 3C, 28.2.1, Table 28-7):
 * bit 0 data read, bit 1 data write, bit 2 instruction fetch; bits 5:3 the
 * R/W/X permissions of the GPA's translation; bit 7 GLA valid. */
#define HV_QUAL_READ (1ull << 0)
#define HV_QUAL_WRITE (1ull << 1)
#define HV_QUAL_FETCH (1ull << 2)
#define HV_QUAL_PERM_SHIFT 3
#define HV_QUAL_GLA_VALID (1ull << 7)

/* I/O exit qualification (Intel SDM Vol. 3C, 28.2.1, Table 28-5): access
 * size - 1 in bits 2:0, bit 3 IN, bit 4 string, bit 5 REP, bit 6 immediate
 * port operand, port in bits 31:16. AMD IOIO exits are translated to it. */
#define HV_QUAL_IO_SIZE_MASK 7ull
#define HV_QUAL_IO_IN (1ull << 3)
#define HV_QUAL_IO_STRING (1ull << 4)
#define HV_QUAL_IO_REP (1ull << 5)
#define HV_QUAL_IO_IMM (1ull << 6)
#define HV_QUAL_IO_PORT_SHIFT 16

/* Exception exits: the qualification is laid out as the VM-exit
 * interruption information (Intel SDM Vol. 3C, 28.2.2, Table 28-19: vector
 * in bits 7:0, type in 10:8, bit 11 error code valid, bit 31 valid), with
 * the error code in bits 63:32. AMD exits 0x40 + vector are translated to
 * the same form. */
#define HV_QUAL_EXC_VECTOR_MASK 0xffull
#define HV_QUAL_EXC_TYPE_HW (3ull << 8)
#define HV_QUAL_EXC_HAS_ERROR (1ull << 11)
#define HV_QUAL_EXC_VALID (1ull << 31)
#define HV_QUAL_EXC_ERROR_SHIFT 32

/* Control-register write qualification (Intel SDM Vol. 3C, 28.2.1, Table
 * 28-3): the CR number in bits 3:0, the access type in bits 5:4 (0 MOV to
 * CR, 2 CLTS, 3 LMSW; 1, MOV from CR, is never an HV_EXIT_CR_WRITE), for
 * LMSW bit 6 a memory operand and bits 31:16 its source data, for MOV the
 * source GPR in bits 11:8. AMD CR-write exits are translated to it. */
#define HV_QUAL_CR_NUM_MASK 0xfull
#define HV_QUAL_CR_TYPE_MASK (3ull << 4)
#define HV_QUAL_CR_MOV (0ull << 4)
#define HV_QUAL_CR_CLTS (2ull << 4)
#define HV_QUAL_CR_LMSW (3ull << 4)
#define HV_QUAL_CR_LMSW_MEM (1ull << 6)
#define HV_QUAL_CR_GPR_SHIFT 8
#define HV_QUAL_CR_LMSW_SHIFT 16

struct hv_exit {
	uint32_t reason;         /* enum hv_exit_reason */
	uint32_t partition;      /* index into the system config */
	uint32_t vcpu;           /* index within the partition */
	uint32_t insn_len;       /* length of the exiting instruction, 0 if unknown */
	uint64_t qual;           /* exit qualification */
	uint64_t gpa;            /* guest-physical address (EPT violation) */
	uint64_t gla;            /* guest-linear address, if qual says valid */
	struct hv_vcpu_state st; /* in: state at exit; out: state to resume with */
};

enum hv_action {
	HV_ACT_RESUME = 0, /* resume; RIP advanced past the instruction */
	HV_ACT_RETRY,      /* resume at the same RIP (nothing completed) */
	HV_ACT_INJECT,     /* inject exception; RIP unchanged */
	HV_ACT_HALT,       /* halt the partition; RIP unchanged */
	HV_ACT_COUNT
};

/* Architectural exception vectors (Intel SDM Vol. 3A, Table 6-1). */
#define HV_VEC_UD 6
#define HV_VEC_GP 13
#define HV_VEC_PF 14

/* Why a partition was halted. */
enum hv_halt_reason {
	HV_HALT_NONE = 0,
	HV_HALT_SHUTDOWN, /* guest asked (hypercall) */
	HV_HALT_HLT,      /* HLT with nothing to wake it */
	HV_HALT_TRIPLE_FAULT,
	HV_HALT_VIOLATION,   /* contained EPT violation */
	HV_HALT_UNHANDLED,   /* exit reason with no handler */
	HV_HALT_BAD_EXIT,    /* malformed exit record (bad partition/vCPU/reason) */
	HV_HALT_CALL_RETURN, /* a sandboxed call returned (hypercall CALL_RETURN) */
	HV_HALT_CALL_FAULT,  /* a sandboxed call faulted (hypercall CALL_FAULT) */
	HV_HALT_COUNT
};

/* An emulated MMIO access, as decoded and performed by the core. */
struct hv_mmio_access {
	uint64_t gpa;
	uint64_t data; /* value written, or value read (before extension) */
	uint8_t size;  /* 1, 2, 4 or 8 */
	uint8_t is_write;
	uint8_t reg; /* destination/source GPR, 0xff for an immediate */
	uint8_t insn_len;
};

/* A write the guest made to one of its own architectural MSRs (EFER,
 * FS_BASE, ...) that the platform must apply to the vCPU. */
struct hv_msr_apply {
	uint32_t msr;
	uint32_t valid;
	uint64_t value;
};

struct hv_result {
	uint32_t action; /* enum hv_action */
	uint8_t vector;  /* HV_ACT_INJECT */
	uint8_t has_error_code;
	uint8_t has_mmio; /* mmio describes an emulated access */
	uint8_t pad;
	uint32_t error_code;
	uint32_t halt_reason; /* enum hv_halt_reason, HV_ACT_HALT */
	uint32_t insn_len;    /* bytes RIP was advanced by (HV_ACT_RESUME) */
	uint32_t pad2;
	struct hv_mmio_access mmio;
	struct hv_msr_apply msr;
};

struct hv_system;

/* Handle one exit. Never fails: malformed input halts the partition with
 * HV_HALT_BAD_EXIT (or is ignored if the partition index itself is bad). */
void hv_handle_exit(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);

const char *hv_exit_reason_str(uint32_t reason);
const char *hv_action_str(uint32_t action);
const char *hv_halt_reason_str(uint32_t reason);

#endif
