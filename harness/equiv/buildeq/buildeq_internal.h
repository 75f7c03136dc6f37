/* BUILD-EQ internals: the guest machine that runs the freestanding replay
 * image (buildeq_vm.c) and the comparison of its outputs with the hosted
 * run's (buildeq_compare.c). Not API. */
#ifndef HX_BUILDEQ_INTERNAL_H
#define HX_BUILDEQ_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beq_abi.h"
#include "kvm_err.h"
#include "kvm_vm.h"
#include "observer.h"

/* ---- the image ---- */

#define BEQ_MAX_SEGS 4

struct beq_image {
	uint8_t *data;
	size_t size;
	uint64_t entry; /* virtual, in the high half */
	uint32_t nsegs;
	struct {
		uint64_t lma; /* guest-physical load address */
		uint64_t filesz, memsz, offset;
	} segs[BEQ_MAX_SEGS];
	/* symbol table, when present (bounds checked): names in reports */
	uint64_t symoff, nsyms, stroff, strsz;
};

/* Read and check an image: a static ELF64 x86-64 executable whose
 * segments load inside [BEQ_IMAGE_LMA, +BEQ_IMAGE_MAX) and run at
 * BEQ_HIGH_BASE + load address. Errors name the file and the field. */
int beq_image_read(const char *path, struct beq_image *img, struct hxk_err *err);
void beq_image_free(struct beq_image *img);
/* " (function+0xoff)" for a virtual address inside a function of the
 * image, "" when unknown. */
void beq_image_symbolize(const struct beq_image *img, uint64_t va, char *buf, size_t len);

/* ---- the guest machine ---- */

struct beq_vm {
	struct hxk_vm vm;
	bool have_vm;
	uint8_t *ram; /* guest-physical [0, ram_size) */
	uint64_t ram_size;
	uint8_t *window; /* guest-physical [BEQ_WINDOW_GPA, +window_size) */
	uint64_t window_size;
	uint64_t host_size; /* bytes of the window that stand for host memory */
	const struct beq_image *img;
	double run_seconds; /* time spent in KVM_RUN */
};

/* Build the machine for one trace: RAM for the fixed areas and a pool of
 * pool_pages pages, a window of host_size bytes, the runner's GDT and
 * identity map plus the high-half and window tables, the image loaded,
 * long mode at its entry. */
int beq_vm_create(struct beq_vm *m, const struct hxk_kvm *kvm, const struct beq_image *img,
                  uint32_t pool_pages, uint64_t host_size, struct hxk_err *err);
void beq_vm_destroy(struct beq_vm *m);

/* Host pointer to guest-physical [gpa, gpa+len) in RAM, or NULL. */
void *beq_vm_ram(const struct beq_vm *m, uint64_t gpa, uint64_t len);

enum beq_stop {
	BEQ_STOP_SIGNAL = 0, /* OUT to BEQ_PORT: *sig holds the value */
	BEQ_STOP_TIMEOUT,    /* deadline passed */
	BEQ_STOP_CRASH,      /* any other exit: triple fault, HLT, stray MMIO/I/O/MSR... */
	BEQ_STOP_KVM,        /* KVM_RUN failed */
};

/* Run until the image signals, the deadline (CLOCK_MONOTONIC seconds)
 * passes or something else stops it; err describes anything but a signal
 * (with the guest RIP). */
int beq_vm_run(struct beq_vm *m, double deadline, uint32_t *sig, struct hxk_err *err);

/* Timer that kicks KVM_RUN so deadlines hold even when the image never
 * exits. Started once per process user (hx_beq_new), stopped at the end. */
int beq_timer_start(struct hxk_err *err);
void beq_timer_stop(void);

double beq_now(void);

/* ---- comparison ---- */

struct beq_diff {
	char field[64];
	char msg[512];
};

/* Hosted outputs of one exit versus the guest's (struct beq_out, which
 * came from guest memory and is checked for bounds first). Returns true
 * when equal; otherwise fills d with the first difference. *calls counts
 * the calls compared. */
bool beq_compare_exit(uint32_t index, const struct hv_exit *out, const struct hv_result *res,
                      const struct hx_obs_view *log, const struct beq_out *g, uint64_t *calls,
                      struct beq_diff *d);

/* Run-time state after the last exit: pool use and the bytes of the used
 * pages, partition and channel state of the configured partitions and
 * channels. g is the image's struct hv_system read from guest memory (only
 * its plain-data fields are looked at), g_pool its pool memory. */
bool beq_compare_final(const struct hv_system *sys, const struct hv_system *g, uint32_t g_pool_used,
                       const uint8_t *g_pool, struct beq_diff *d);

#endif
