/* The contract between the bootable hypervisor image (handlers/boot) and
 * whoever starts it: the config module it reads and the event stream it
 * writes. Plain fixed-width data, shared by the image and by `hx boot`.
 * Layouts are documented in handlers/docs/boot.md.
 *
 * Modules (multiboot v1, in this order): the config blob, then one guest
 * ELF per partition of the config. */
#ifndef HV_BOOT_H
#define HV_BOOT_H

#include "hv/config.h"
#include "hv/exit.h"
#include "hv/types.h"

/* ---- The config blob: a header, then struct hv_system_config as bytes. */
#define HV_BOOT_BLOB_MAGIC 0x31464e4f43584855ull /* "UHXCONF1" little-endian */
#define HV_BOOT_BLOB_VERSION 1u

/* Options of a run (flags). */
#define HV_BOOT_OPT_RECORD (1u << 0) /* stream an exit record per exit (REAL-EQ) */
#define HV_BOOT_OPT_ALL (HV_BOOT_OPT_RECORD)

struct hv_boot_blob {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size; /* sizeof(struct hv_boot_blob) */
	uint64_t config_size; /* sizeof(struct hv_system_config) */
	uint32_t checksum;    /* FNV-1a 32 over the config bytes */
	uint32_t flags;       /* HV_BOOT_OPT_* */
	uint32_t max_vcpus;   /* run at most this many vCPUs per partition; 0 = all */
	uint32_t pad;
	uint64_t max_exits; /* per partition before it counts as hung; 0 = no limit */
};
_Static_assert(sizeof(struct hv_boot_blob) == 48, "blob header");

static inline uint32_t hv_boot_fnv1a(const void *p, uint64_t n)
{
	const uint8_t *b = (const uint8_t *)p;
	uint32_t h = 2166136261u;
	for (uint64_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

/* ---- The event stream: frames on a debug console port (QEMU
 * isa-debugcon), each a header then len payload bytes. Not 0x402, where
 * SeaBIOS writes its own log, nor 0xe9, the guests' ucall port. */
#define HV_BOOT_EVENT_PORT 0x6e9u
/* isa-debug-exit: QEMU exits with status (value << 1) | 1. */
#define HV_BOOT_EXIT_PORT 0xf4u
#define HV_BOOT_EXIT_DONE 0u  /* status 1: ran to the end */
#define HV_BOOT_EXIT_FATAL 1u /* status 3: refused its input or crashed */

#define HV_BOOT_FRAME_MAGIC 0x4845u /* "EH" */
#define HV_BOOT_EVENT_MAX 65536u    /* payload bytes of one frame, at most */

enum hv_boot_event_type {
	HV_EV_HELLO = 1,     /* struct hv_ev_hello */
	HV_EV_FATAL = 2,     /* message text: the image stops */
	HV_EV_CONSOLE = 3,   /* u32 partition, then console bytes */
	HV_EV_UCALL = 4,     /* struct hv_ev_ucall (the guest's struct hx_ucall bytes) */
	HV_EV_COUNTS = 5,    /* struct hv_ev_counts: a partition's counters so far */
	HV_EV_STOP = 6,      /* struct hv_ev_stop: a partition stopped running */
	HV_EV_VIOLATION = 7, /* struct hv_ev_violation */
	HV_EV_DONE = 8,      /* struct hv_ev_done: every partition stopped */
	HV_EV_RECORD = 9,    /* struct hv_ev_record (HV_BOOT_OPT_RECORD) */
	HV_EV_LOG = 10,      /* u32 level, then text: the core's diagnostic log */
	HV_EV_TYPE_COUNT
};

struct hv_ev_header {
	uint16_t magic; /* HV_BOOT_FRAME_MAGIC */
	uint16_t type;  /* enum hv_boot_event_type */
	uint32_t len;   /* payload bytes, at most HV_BOOT_EVENT_MAX */
};
_Static_assert(sizeof(struct hv_ev_header) == 8, "frame header");

struct hv_ev_hello {
	uint32_t version; /* HV_BOOT_BLOB_VERSION */
	uint32_t npartitions;
	uint32_t svm_features; /* CPUID Fn8000_000A EDX */
	uint32_t nasids;       /* CPUID Fn8000_000A EBX */
	uint64_t pool_hpa;
	uint64_t pool_pages;
	uint64_t image_start; /* the image and its modules, all inside the hypervisor range */
	uint64_t image_end;
	uint64_t checks; /* invariant checks made at boot (hv_ept_verify of every table) */
};

/* Why a partition stopped (struct hv_ev_stop.why). */
enum hv_boot_stop {
	HV_STOP_DONE = 1,      /* every vCPU reported GUEST_DONE */
	HV_STOP_ASSERT = 2,    /* a GUEST_ASSERT or EXCEPTION ucall (the ucall says which) */
	HV_STOP_HALTED = 3,    /* the core halted it (halt_reason) */
	HV_STOP_BAD_UCALL = 4, /* ucall struct unreadable or of unknown type */
	HV_STOP_HUNG = 5,      /* max_exits used up */
	HV_STOP_XLAT = 6,      /* an exit the core's VMCB layer could not read (detail) */
};

struct hv_ev_stop {
	uint32_t partition;
	uint32_t vcpu;
	uint32_t why;         /* enum hv_boot_stop */
	uint32_t halt_reason; /* enum hv_halt_reason, HV_STOP_HALTED */
	uint64_t detail;      /* HV_STOP_XLAT: enum hv_xlat; BAD_UCALL: the GPA; else exit code */
	uint64_t exit_code;   /* the VMCB exit code of the last exit */
};

struct hv_ev_ucall {
	uint32_t partition;
	uint32_t vcpu;
	uint8_t ucall[184]; /* struct hx_ucall of harness/guest/include/hx/guest_abi.h */
};

/* A partition's counters, cumulative since boot (each COUNTS replaces the
 * previous one of its partition): sent when the partition stops, when a
 * vCPU's time slice ends, every HV_BOOT_COUNTS_EVERY core exits and before
 * DONE. Per-exit events would cost more emulated port I/O than the exit
 * itself. Index HV_EXIT_COUNT of the arrays: exits the VMCB layer could not
 * translate. */
#define HV_BOOT_KINDS (HV_EXIT_COUNT + 1)
#define HV_BOOT_COUNTS_EVERY 4096u

struct hv_ev_counts {
	uint32_t partition;
	uint32_t pad;
	uint64_t exits;                 /* core exits handled */
	uint64_t checks;                /* invariant checks made after them (hv_ept_verify) */
	uint64_t cpl3_refused;          /* hypercalls at CPL 3 answered with #UD */
	uint64_t mmio_read, mmio_write; /* EPT violations emulated as MMIO */
	uint64_t slices;                /* runs ended by the time-slice timer */
	uint64_t count[HV_BOOT_KINDS];
	uint64_t tsc_handler[HV_BOOT_KINDS]; /* TSC ticks in hv_handle_exit */
	uint64_t tsc_round[HV_BOOT_KINDS];   /* TSC ticks from VMRUN to the result applied */
};

struct hv_ev_violation {
	uint32_t inv;    /* enum hv_invariant */
	uint32_t reason; /* enum hv_verify_reason */
	uint32_t partition;
	uint32_t pad;
	uint64_t exit_index; /* exits handled before it was found */
	uint64_t gpa;
	uint64_t hpa;
	uint64_t entry;
};

struct hv_ev_done {
	uint64_t exits;
	uint64_t tsc_total;   /* TSC ticks from the first VMRUN to the end */
	uint64_t tsc_handler; /* of which in hv_handle_exit */
};

/* The TSC is the image's only clock: hx converts ticks to time with the
 * wall time between HELLO (sent just before the first VMRUN) and DONE. */

/* One exit's record (HV_BOOT_OPT_RECORD), for REAL-EQ: the hv_exit handed
 * to hv_handle_exit, its result and the vCPU state it left, then ncalls
 * struct hv_boot_call in call order, then data_len bytes: each call's
 * bytes (len of them) and, when has_before, the bytes that were there
 * before a PHYS_WRITE (len more), in call order. hx boot --record turns
 * it into a trace EXIT record (harness/trace/trace.h). */
enum hv_boot_call_kind {
	HV_CALL_CPUID = 1, /* id leaf, sub subleaf, regs the answer */
	HV_CALL_RDMSR = 2, /* id msr, value read */
	HV_CALL_WRMSR = 3, /* id msr, value written */
	HV_CALL_PHYS_READ = 4,
	HV_CALL_PHYS_WRITE = 5,
	HV_CALL_CONSOLE = 6,     /* id partition */
	HV_CALL_EPT_CHANGED = 7, /* id partition, addr gpa, value size */
};

struct hv_boot_call {
	uint8_t kind; /* enum hv_boot_call_kind */
	uint8_t failed;
	uint8_t has_before;
	uint8_t pad;
	uint32_t id, sub, len;
	uint64_t addr, value;
	uint32_t regs[4];
};
_Static_assert(sizeof(struct hv_boot_call) == 48, "call record");

#define HV_BOOT_REC_MAX_CALLS 256u

struct hv_ev_record {
	uint64_t index; /* exits handled before this one */
	uint32_t ncalls;
	uint32_t overflow; /* calls not recorded (the bytes did not fit) */
	uint32_t data_len;
	uint32_t pad;
	struct hv_exit in;
	struct hv_result res;
	struct hv_vcpu_state out;
};
_Static_assert(sizeof(struct hv_exit) == 224 && sizeof(struct hv_result) == 64 &&
                       sizeof(struct hv_vcpu_state) == 184,
               "the exit structs travel as bytes: both ends are x86-64 images of one ABI");

#endif
