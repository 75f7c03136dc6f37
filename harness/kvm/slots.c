#include "slots.h"

#include <stdlib.h>
#include <string.h>

#include "hv/ept.h"

struct build_ctx {
	struct hxk_slot_plan *plan;
	uint64_t host_size;
	uint32_t max_slots;
	struct hxk_err *err;
	int failed;
};

static void note(struct hxk_slot_plan *plan, uint32_t bit, uint64_t bytes)
{
	plan->unenforced |= bit;
	for (uint32_t i = 0; i < HXK_UNENF_COUNT; i++)
		if (bit == 1u << i)
			plan->unenforced_bytes[i] += bytes;
}

static int append(struct build_ctx *c, uint64_t gpa, uint64_t hpa, uint64_t size, bool ro)
{
	struct hxk_slot_plan *p = c->plan;
	if (p->n) {
		struct hxk_slot *last = &p->slots[p->n - 1];
		if (last->readonly == ro && last->gpa + last->size == gpa &&
		    last->hpa + last->size == hpa) {
			last->size += size;
			return 0;
		}
	}
	if (p->n >= c->max_slots)
		return hxk_fail(c->err, "the EPT needs more than %u memslots (KVM's limit)",
		                c->max_slots);
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 16;
		struct hxk_slot *s = realloc(p->slots, cap * sizeof(*s));
		if (!s)
			return hxk_fail(c->err, "out of memory for memslots");
		p->slots = s;
		p->cap = cap;
	}
	p->slots[p->n++] = (struct hxk_slot){.gpa = gpa, .size = size, .hpa = hpa, .readonly = ro};
	return 0;
}

static void on_run(void *ctx, const struct hv_ept_run *run)
{
	struct build_ctx *c = ctx;
	if (c->failed)
		return;
	uint8_t perm = run->perm;
	if (!(perm & HV_PERM_R)) {
		if (perm & HV_PERM_W)
			note(c->plan, HXK_UNENF_W_ONLY, run->size);
		else if (perm & HV_PERM_X)
			note(c->plan, HXK_UNENF_X_ONLY, run->size);
		return;
	}
	if (run->hpa > c->host_size || run->size > c->host_size - run->hpa) {
		note(c->plan, HXK_UNENF_OUTSIDE, run->size);
		return;
	}
	bool ro = !(perm & HV_PERM_W);
	if (!(perm & HV_PERM_X))
		note(c->plan, ro ? HXK_UNENF_NX_R : HXK_UNENF_NX_RW, run->size);
	if (run->memtype != HV_MT_WB)
		note(c->plan, HXK_UNENF_MEMTYPE, run->size);
	if (append(c, run->gpa, run->hpa, run->size, ro) != 0)
		c->failed = 1;
}

int hxk_slot_plan_build(const struct hv_pool *pool, uint64_t root, uint64_t host_size,
                        uint32_t max_slots, struct hxk_slot_plan *plan, struct hxk_err *err)
{
	memset(plan, 0, sizeof(*plan));
	struct build_ctx c = {
	        .plan = plan, .host_size = host_size, .max_slots = max_slots, .err = err};
	hv_status s = hv_ept_walk(pool, root, on_run, &c);
	if (s != HV_OK && !c.failed)
		hxk_fail(err, "walking the EPT (root 0x%llx) failed: %s", (unsigned long long)root,
		         hv_status_str(s));
	if (s != HV_OK || c.failed) {
		hxk_slot_plan_free(plan);
		return -1;
	}
	return 0;
}

void hxk_slot_plan_free(struct hxk_slot_plan *plan)
{
	free(plan->slots);
	memset(plan, 0, sizeof(*plan));
}

static bool same_slot(const struct hxk_slot *a, const struct hxk_slot *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->hpa == b->hpa &&
	       a->readonly == b->readonly;
}

/* Index in plan of a slot equal to s, or -1 (plan is sorted by GPA). */
static long find_same(const struct hxk_slot_plan *plan, const struct hxk_slot *s)
{
	uint32_t lo = 0, hi = plan->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (plan->slots[mid].gpa < s->gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < plan->n && same_slot(&plan->slots[lo], s))
		return lo;
	return -1;
}

int hxk_slots_apply(struct hxk_slot_plan *cur, struct hxk_slot_plan *next, uint32_t max_ids,
                    const struct hxk_slot_ops *ops, void *ctx, struct hxk_err *err)
{
	uint8_t *used = calloc(max_ids ? max_ids : 1, 1);
	if (!used)
		return hxk_fail(err, "out of memory for memslot ids");
	int changes = 0;
	for (uint32_t i = 0; i < cur->n; i++) {
		long j = find_same(next, &cur->slots[i]);
		if (j >= 0) {
			next->slots[j].id = cur->slots[i].id;
			if (cur->slots[i].id < max_ids)
				used[cur->slots[i].id] = 1;
			continue;
		}
		if (ops->del(ctx, &cur->slots[i], err) != 0)
			goto fail;
		changes++;
	}
	uint32_t free_id = 0;
	for (uint32_t j = 0; j < next->n; j++) {
		if (find_same(cur, &next->slots[j]) >= 0)
			continue;
		while (free_id < max_ids && used[free_id])
			free_id++;
		if (free_id >= max_ids) {
			hxk_fail(err, "no free memslot id below %u", max_ids);
			goto fail;
		}
		next->slots[j].id = free_id;
		used[free_id] = 1;
		if (ops->add(ctx, &next->slots[j], err) != 0)
			goto fail;
		changes++;
	}
	free(used);
	hxk_slot_plan_free(cur);
	*cur = *next;
	memset(next, 0, sizeof(*next));
	return changes;
fail:
	free(used);
	return -1;
}

const struct hxk_slot *hxk_slot_find(const struct hxk_slot_plan *plan, uint64_t gpa)
{
	uint32_t lo = 0, hi = plan->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct hxk_slot *s = &plan->slots[mid];
		if (gpa < s->gpa)
			hi = mid;
		else if (gpa - s->gpa >= s->size)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}
