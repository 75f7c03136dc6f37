/* BEQ protocol: the contract between the host side of BUILD-EQ
 * (harness/equiv/buildeq/buildeq*.c, hosted) and the freestanding replay image
 * (this directory, built with the freestanding core). Both builds include
 * it: only <stdint.h>, <stddef.h> and hv/ headers.
 *
 * The image runs in a KVM guest: long mode, CPL 0, the identity map of
 * [0, 4 GiB) that harness/kvm writes for guest programs, plus tables the
 * host adds (BEQ_XPT_GPA): guest-physical [0, 1 GiB) again at
 * BEQ_HIGH_BASE (the image is linked there, -mcmodel=kernel like a
 * firmware build) and the host-memory window above 4 GiB.
 *
 * Guest-physical layout (one RAM slot from 0, one window slot):
 *   BEQ_BOOT_GPA    struct beq_boot: the mailbox (setup, commands, status)
 *   BEQ_XPT_GPA     the host's extra page tables
 *   BEQ_IMAGE_LMA   the image (linked at BEQ_HIGH_BASE + BEQ_IMAGE_LMA)
 *   BEQ_CFG_GPA     the struct hv_system_config, byte for byte
 *   BEQ_IN_GPA      struct beq_in: the exit to handle and the host answers
 *   BEQ_OUT_GPA     struct beq_out: what the core produced for it
 *   BEQ_POOL_GPA    the EPT page pool (pool_pages pages)
 *   BEQ_WINDOW_GPA  host physical memory [0, host_size)
 *
 * Handshake: the guest writes a status and does `out %eax, BEQ_PORT`
 * (eax = enum beq_signal); the host inspects memory, writes the next
 * command and input, and resumes the vCPU. The run-time state after the
 * last exit is read in place: boot.sys_gpa locates the image's struct
 * hv_system (its pointer fields are guest addresses, the rest is plain
 * data), and the pool pages are at BEQ_POOL_GPA. Guest code is slow under
 * this machine's KVM (about 1 us per instruction, hx/guest_abi.h), so
 * the host reads what it can rather than have the image copy it. */
#ifndef HX_BEQ_ABI_H
#define HX_BEQ_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "hv/config.h"
#include "hv/exit.h"
#include "hv/system.h"

#define BEQ_MAGIC 0x5145422d4c4c5548ull /* "HULL-BEQ" */
#define BEQ_VERSION 2u
#define BEQ_PORT 0xbeu

#define BEQ_BOOT_GPA 0xe000ull
#define BEQ_XPT_GPA 0x10000ull
#define BEQ_XPT_PAGES 10u /* high-half PDPT + PD, up to 8 window PDs */
#define BEQ_HIGH_BASE 0xffffffff80000000ull
#define BEQ_IMAGE_LMA 0x200000ull
#define BEQ_IMAGE_MAX (2ull << 20)
#define BEQ_CFG_GPA 0x400000ull
#define BEQ_CFG_MAX (2ull << 20)
#define BEQ_IN_GPA 0x600000ull
#define BEQ_IN_MAX (1ull << 20)
#define BEQ_OUT_GPA 0x700000ull
#define BEQ_OUT_MAX (1ull << 20)
#define BEQ_POOL_GPA 0x1000000ull
#define BEQ_WINDOW_GPA 0x100000000ull
#define BEQ_WINDOW_MAX (8ull << 30) /* the KVM runner's host-memory limit */

/* The per-exit log limits: the observer's (harness/oracle/observer.h),
 * so both builds overflow at the same call. */
#define BEQ_MAX_CALLS 1024u
#define BEQ_MAX_DATA (64u * 1024u)

enum beq_signal {
	BEQ_SIG_INIT = 1,      /* setup done: boot.status, init_status, diag */
	BEQ_SIG_EXIT = 2,      /* struct beq_out holds the exit's outputs */
	BEQ_SIG_FINAL = 3,     /* boot.sys_gpa and boot.pool_used are written */
	BEQ_SIG_EXCEPTION = 4, /* CPU exception in the image: boot.exc_* */
	BEQ_SIG_ERROR = 5,     /* protocol error: boot.status / detail say which */
};

enum beq_cmd {
	BEQ_CMD_NONE = 0,
	BEQ_CMD_EXIT = 1,   /* handle the exit in struct beq_in */
	BEQ_CMD_FINISH = 2, /* report where the run-time state is */
};

enum beq_status {
	BEQ_ST_OK = 0,
	BEQ_ST_BAD_MAGIC = 1,  /* boot.magic / version not what the image expects */
	BEQ_ST_LAYOUT = 2,     /* struct layout differs: detail = index in BEQ_LAYOUT */
	BEQ_ST_POOL = 3,       /* hv_pool_init failed: detail = hv_status */
	BEQ_ST_BAD_CMD = 4,    /* unknown command: detail = the command */
	BEQ_ST_BAD_INPUT = 5,  /* struct beq_in out of bounds: detail = nanswers */
	BEQ_ST_BAD_WINDOW = 6, /* host_size larger than the window */
	BEQ_ST_STACK = 7,      /* the stack canary was overwritten: detail = exits done */
};

/* Layout facts both builds compute and the guest checks against the
 * host's (boot.layout[]): the config is handed over as raw bytes, the
 * exit records and run-time state as raw structs. */
#define BEQ_LAYOUT(X)                                                                              \
	X(sizeof(struct hv_system_config))                                                         \
	X(offsetof(struct hv_system_config, npartitions))                                          \
	X(offsetof(struct hv_system_config, vendor))                                               \
	X(offsetof(struct hv_system_config, partitions))                                           \
	X(offsetof(struct hv_system_config, channels))                                             \
	X(sizeof(struct hv_partition_config))                                                      \
	X(offsetof(struct hv_partition_config, regions))                                           \
	X(offsetof(struct hv_partition_config, cpuid))                                             \
	X(offsetof(struct hv_partition_config, msr))                                               \
	X(sizeof(struct hv_region))                                                                \
	X(sizeof(struct hv_cpuid_rule))                                                            \
	X(sizeof(struct hv_msr_rule))                                                              \
	X(sizeof(struct hv_exit))                                                                  \
	X(offsetof(struct hv_exit, st))                                                            \
	X(sizeof(struct hv_result))                                                                \
	X(offsetof(struct hv_result, mmio))                                                        \
	X(sizeof(struct hv_partition))                                                             \
	X(sizeof(struct hv_channel_state))                                                         \
	X(sizeof(struct hv_system))                                                                \
	X(offsetof(struct hv_system, parts))                                                       \
	X(offsetof(struct hv_system, channels))                                                    \
	X(sizeof(struct beq_boot))                                                                 \
	X(sizeof(struct beq_in))                                                                   \
	X(sizeof(struct beq_out))

#define BEQ_MAX_LAYOUT 32u

struct beq_boot {
	/* host -> guest, before the first run */
	uint64_t magic;
	uint32_t version;
	uint32_t nlayout;
	uint32_t layout[BEQ_MAX_LAYOUT];
	uint64_t cfg_size; /* bytes at BEQ_CFG_GPA */
	uint64_t pool_hpa; /* what the pool's pages are called in EPT entries */
	uint32_t pool_pages;
	uint32_t pad0;
	uint64_t host_size; /* window bytes the core may reach */
	/* host -> guest, before each resume */
	uint32_t cmd; /* enum beq_cmd */
	uint32_t seq; /* exits handled so far (guest) */
	/* guest -> host */
	uint32_t status; /* enum beq_status */
	uint32_t detail;
	int32_t init_status; /* hv_system_init's hv_status */
	uint32_t pad1;
	struct hv_config_diag diag;
	uint64_t exc_vector;
	uint64_t exc_error;
	uint64_t exc_rip;
	uint64_t exc_cr2;
	uint64_t sys_gpa; /* the image's struct hv_system */
	uint32_t pool_used;
	uint32_t pad2;
};

/* A host answer the hosted run got: CPUID, RDMSR or WRMSR (kinds as in
 * the observer: 1 CPUID, 2 RDMSR, 3 WRMSR). */
struct beq_answer {
	uint8_t kind;
	uint8_t failed;
	uint8_t pad[2];
	uint32_t id;  /* leaf / msr */
	uint32_t sub; /* subleaf */
	uint32_t pad2;
	uint64_t value;   /* RDMSR value */
	uint32_t regs[4]; /* CPUID EAX EBX ECX EDX */
};

struct beq_in {
	uint32_t index;    /* exit index in the trace */
	uint32_t nanswers; /* <= BEQ_MAX_CALLS */
	struct hv_exit exit;
	struct beq_answer answers[BEQ_MAX_CALLS];
};

/* One platform call, logged as the observer logs it (kinds, field use and
 * payload rules of struct hx_obs_entry). */
struct beq_call {
	uint8_t kind;
	uint8_t failed;
	uint8_t has_before;
	uint8_t pad;
	uint32_t id;
	uint32_t sub;
	uint32_t len;
	uint64_t addr;
	uint64_t value;
	uint32_t regs[4];
	uint32_t data;   /* offset in beq_out.data */
	uint32_t before; /* offset in beq_out.data */
};

struct beq_out {
	uint32_t index;
	uint32_t ncalls;
	uint32_t overflow;
	uint32_t data_len;
	struct hv_exit exit; /* the record after hv_handle_exit: state out */
	struct hv_result res;
	struct beq_call calls[BEQ_MAX_CALLS];
	uint8_t data[BEQ_MAX_DATA];
};

/* Both builds are x86-64 System V; these pin the records that cross the
 * boundary as raw bytes, so a flag that changed their layout in one build
 * fails to compile rather than misreads. The full list is compared at run
 * time (BEQ_LAYOUT). */
_Static_assert(sizeof(struct hv_region) == 32, "hv_region layout");
_Static_assert(offsetof(struct hv_system_config, vendor) == 24, "hv_system_config layout");
_Static_assert(offsetof(struct hv_system_config, partitions) == 40, "hv_system_config layout");
_Static_assert(offsetof(struct hv_partition_config, regions) == 48, "hv_partition_config layout");
_Static_assert(offsetof(struct hv_exit, st) == 40, "hv_exit layout");
_Static_assert(sizeof(struct hv_vcpu_state) == 184, "hv_vcpu_state layout");
_Static_assert(sizeof(struct hv_result) == 64, "hv_result layout");
_Static_assert(offsetof(struct hv_result, mmio) == 24, "hv_result layout");
_Static_assert(sizeof(struct beq_call) == 56, "beq_call layout");

_Static_assert(sizeof(struct beq_boot) <= 0x1000, "mailbox fits its page");
_Static_assert(BEQ_BOOT_GPA + 0x1000 <= BEQ_XPT_GPA, "mailbox below the extra tables");
_Static_assert(BEQ_XPT_GPA + BEQ_XPT_PAGES * 0x1000 <= BEQ_IMAGE_LMA, "tables below the image");
_Static_assert(BEQ_IMAGE_LMA + BEQ_IMAGE_MAX <= BEQ_CFG_GPA, "image below the config");
_Static_assert(sizeof(struct hv_system_config) <= BEQ_CFG_MAX, "config area");
_Static_assert(BEQ_CFG_GPA + BEQ_CFG_MAX <= BEQ_IN_GPA, "config below the input");
_Static_assert(sizeof(struct beq_in) <= BEQ_IN_MAX, "input area");
_Static_assert(BEQ_IN_GPA + BEQ_IN_MAX <= BEQ_OUT_GPA, "input below the output");
_Static_assert(sizeof(struct beq_out) <= BEQ_OUT_MAX, "output area");
_Static_assert(BEQ_OUT_GPA + BEQ_OUT_MAX <= BEQ_POOL_GPA, "output below the pool");
_Static_assert(BEQ_WINDOW_MAX >> 30 <= BEQ_XPT_PAGES - 2, "a window PD per GiB");

#endif
