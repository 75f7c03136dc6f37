/* KVM memslots from the production EPT walk (DESIGN.md, "The KVM runner"):
 * every mapped run GPA -> HPA becomes a slot GPA -> host memory + HPA, so
 * whatever the EPT maps, right or wrong, is what the guest really sees.
 *
 * KVM can express only RW, read-only or unmapped:
 *   R+W(+X) -> RW slot           (without X: execute-disable not enforced)
 *   R(+X)   -> read-only slot    (without X: execute-disable not enforced)
 *   X only  -> unmapped          (fetches exit too: execute-only not granted)
 *   W only  -> unmapped          (an EPT misconfiguration; EPT-FORM reports it)
 * Memory types are not modelled (host memory is ordinary WB memory). */
#ifndef HXK_SLOTS_H
#define HXK_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/pool.h"
#include "kvm_err.h"
#include "run_report.h"

struct hxk_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t hpa;
	uint32_t id; /* KVM slot number once applied */
	bool readonly;
};

struct hxk_slot_plan {
	struct hxk_slot *slots; /* sorted by GPA, non-overlapping */
	uint32_t n;
	uint32_t cap;
	uint32_t unenforced;                        /* enum hxk_unenforced bits */
	uint64_t unenforced_bytes[HXK_UNENF_COUNT]; /* guest bytes per bit */
};

/* Walk the EPT rooted at root and build the slot list; adjacent runs with
 * the same slot kind and contiguous GPA and HPA are merged. Fails when the
 * walk fails (malformed tables) or more than max_slots are needed. */
int hxk_slot_plan_build(const struct hv_pool *pool, uint64_t root, uint64_t host_size,
                        uint32_t max_slots, struct hxk_slot_plan *plan, struct hxk_err *err);
void hxk_slot_plan_free(struct hxk_slot_plan *plan);

/* One sentence per bit, e.g. "execute-disable not enforced for RW pages
 * (8192 KiB)". */

/* What to do with KVM: the caller's callbacks delete and add slots. */
struct hxk_slot_ops {
	int (*del)(void *ctx, const struct hxk_slot *s, struct hxk_err *err);
	int (*add)(void *ctx, const struct hxk_slot *s, struct hxk_err *err);
};

/* Bring the applied set *cur (ids assigned) to plan *next: delete the slots
 * that are not in next, add the new ones with free ids below max_ids (KVM
 * cannot change a slot's flags or size in place). On success *cur becomes
 * next with ids (next's array is taken over: next is emptied). Returns the
 * number of slots deleted + added, or -1. */
int hxk_slots_apply(struct hxk_slot_plan *cur, struct hxk_slot_plan *next, uint32_t max_ids,
                    const struct hxk_slot_ops *ops, void *ctx, struct hxk_err *err);

/* The slot containing gpa, or NULL. */
const struct hxk_slot *hxk_slot_find(const struct hxk_slot_plan *plan, uint64_t gpa);

#endif
