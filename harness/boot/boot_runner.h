/* hx boot's engine: the bootable hypervisor (handlers/boot) under QEMU's
 * SVM emulation. It packs the config into the blob the image reads
 * (hv/boot.h), starts QEMU with the config and the guests as multiboot
 * modules, folds the image's event stream into the same report `hx run`
 * prints, and ends the run at its timeout. */
#ifndef HXB_BOOT_RUNNER_H
#define HXB_BOOT_RUNNER_H

#include "kvm_err.h"
#include "run_report.h"

struct hxb_options {
	struct hxk_options run;  /* timeout, max exits, vCPUs, expectations, output */
	const char *image;       /* the bootable image (hx_boot.elf) */
	const char *qemu;        /* qemu-system-x86_64 */
	const char *serial_log;  /* keep the image's serial console here, or NULL */
	const char *modules_dir; /* write the modules there and print QEMU's command; no run */
};

/* images[p]: the guest ELF of partition p. */
enum hxb_status { HXB_DONE = 0, HXB_BAD_INPUT = 2, HXB_ERROR = 3 };

enum hxb_status hxb_run(const struct hv_system_config *cfg, const char *const *images,
                        const struct hxb_options *opt, struct hxk_report *rep, struct hxk_err *err);

/* Per exit type: count, round trip, handler time, exits/s, handler
 * share, labelled as emulated (hx boot --stats). */
void hxb_stats_print(FILE *f, const struct hxk_report *rep);

/* The event stream, fed in arbitrary chunks. */
struct hxb_events;
struct hxb_events *hxb_events_new(const struct hv_system_config *cfg, const struct hxb_options *opt,
                                  struct hxk_report *rep);
/* 0, or -1 when the stream is malformed (err says where). */
int hxb_events_feed(struct hxb_events *ev, const uint8_t *buf, size_t len, double now_s,
                    struct hxk_err *err);
/* The image reported FATAL (its message), or NULL. */
const char *hxb_events_fatal(const struct hxb_events *ev);
/* The image reported DONE: every partition stopped. */
bool hxb_events_done(const struct hxb_events *ev);
/* At the end of the run: partitions still running timed out. */
void hxb_events_finish(struct hxb_events *ev, bool timed_out, double now_s);
/* --record: write the trace (atomically). 0, or -1 with err. */
int hxb_events_commit_trace(struct hxb_events *ev, struct hxk_err *err);
void hxb_events_free(struct hxb_events *ev);

#endif
