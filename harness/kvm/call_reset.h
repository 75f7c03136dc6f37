/* Resetting a sandbox to its state after loading without rebuilding it:
 * a snapshot of everything a call can change is taken once, and a reset
 * restores only what changed since. Guest writes are known from KVM's
 * dirty-page log (memslots with KVM_MEM_LOG_DIRTY_PAGES, read and cleared
 * by KVM_GET_DIRTY_LOG; KVM API "4.8 KVM_GET_DIRTY_LOG"); hx's own writes
 * into guest memory all go through hxk_gpa_ptr, which marks their pages.
 * The core's partition state (vCPU MSR state, devices, port I/O devices,
 * halt state), the pool's page tables and the vCPU's FPU are restored
 * whole: they are small. hxk_call_reset_check compares everything with
 * the snapshot, so a reset that missed a page is caught, not trusted. */
#ifndef HXK_CALL_RESET_H
#define HXK_CALL_RESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm_err.h"

struct hxk_runner;

struct hxk_reset_stats {
	uint64_t resets;
	uint64_t guest_pages; /* restored because the dirty log had them */
	uint64_t host_pages;  /* restored because hx wrote them */
	uint64_t full;        /* resets that copied all RAM (the memslots changed) */
};

/* Partition 0 as it is now (an EFI image started first) becomes the state
 * every reset returns to; dirty logging starts. */
int hxk_call_snapshot(struct hxk_runner *R, struct hxk_err *err);

/* Back to the snapshot. -1 (err) when KVM refused the dirty log. */
int hxk_call_reset(struct hxk_runner *R, struct hxk_err *err);

/* 0 when partition 0 equals its snapshot byte for byte; -1 with the first
 * difference in err. */
int hxk_call_reset_check(struct hxk_runner *R, struct hxk_err *err);

const struct hxk_reset_stats *hxk_call_reset_stats(const struct hxk_runner *R);

/* hxk_gpa_ptr's hook: [hpa, hpa+len) of host memory is being written. */
void hxk_call_reset_mark(struct hxk_runner *R, uint64_t hpa, uint64_t len);

/* The snapshot goes (hxk_close). */
void hxk_call_reset_free(struct hxk_runner *R);

/* Test-only fault injection: the next reset skips restoring one dirty
 * page, a state leak hxk_call_reset_check must catch. */
void hxk_call_reset_plant_leak(struct hxk_runner *R);

#endif
