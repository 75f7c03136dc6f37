/* The sandbox's snapshot and reset (call_reset.h). */
#include "call_reset.h"

#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "runner_int.h"

#define PAGE 4096ull

struct snap_region {
	uint64_t hpa, size, off; /* off: into ram */
};

struct hxk_call_snap {
	struct snap_region regions[HV_MAX_REGIONS];
	uint32_t nregions;
	uint8_t *ram;
	uint64_t ram_bytes;
	struct hv_partition part;
	struct hv_channel_state channels[HV_MAX_CHANNELS];
	uint8_t *pool;
	uint32_t pool_used;
	struct kvm_fpu fpu;
	bool efi_started;
	uint64_t *host_dirty; /* one bit per page of host memory */
	uint64_t host_words;
	uint64_t *log; /* scratch for KVM_GET_DIRTY_LOG */
	uint64_t log_words;
	struct hxk_slot *slots; /* the memslots the log covers */
	uint32_t nslots;
	bool plant_leak;
	struct hxk_reset_stats stats;
};

static struct hxk_pstate *part0(struct hxk_runner *R)
{
	return &R->parts[0];
}

static uint8_t *snap_page(struct hxk_call_snap *s, uint64_t hpa)
{
	for (uint32_t i = 0; i < s->nregions; i++) {
		const struct snap_region *r = &s->regions[i];
		if (hpa >= r->hpa && hpa - r->hpa < r->size)
			return s->ram + r->off + (hpa - r->hpa);
	}
	return NULL;
}

void hxk_call_reset_mark(struct hxk_runner *R, uint64_t hpa, uint64_t len)
{
	struct hxk_call_snap *s = R->snap;
	if (!s || !len)
		return;
	for (uint64_t pg = hpa / PAGE; pg <= (hpa + len - 1) / PAGE; pg++)
		if (pg / 64 < s->host_words)
			s->host_dirty[pg / 64] |= 1ull << (pg % 64);
}

static bool same_slots(const struct hxk_call_snap *s, const struct hxk_slot_plan *now)
{
	return now->n == s->nslots && !memcmp(now->slots, s->slots, s->nslots * sizeof(*s->slots));
}

/* Read and clear the dirty log of every writable slot; with restore, copy
 * each logged page back from the snapshot. */
static int drain_log(struct hxk_runner *R, bool restore, struct hxk_err *err)
{
	struct hxk_call_snap *s = R->snap;
	struct hxk_pstate *p = part0(R);
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct hxk_slot *sl = &s->slots[i];
		if (sl->readonly)
			continue;
		uint64_t pages = sl->size / PAGE, words = (pages + 63) / 64;
		memset(s->log, 0, words * 8);
		if (hxk_vm_dirty_log(&p->vm, sl->id, s->log, err) != 0)
			return -1;
		if (!restore)
			continue;
		for (uint64_t w = 0; w < words; w++) {
			for (uint64_t bits = s->log[w]; bits; bits &= bits - 1) {
				uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(bits);
				uint64_t hpa = sl->hpa + pg * PAGE;
				uint8_t *from = snap_page(s, hpa);
				if (!from)
					continue; /* not RAM of the partition (cannot be written) */
				if (s->plant_leak) {
					s->plant_leak = false;
					continue;
				}
				memcpy(hxk_hostmem_ptr(&R->mem, hpa, PAGE), from, PAGE);
				s->stats.guest_pages++;
			}
		}
	}
	return 0;
}

static void free_snap(struct hxk_call_snap *s)
{
	if (!s)
		return;
	free(s->ram);
	free(s->pool);
	free(s->host_dirty);
	free(s->log);
	free(s->slots);
	free(s);
}

int hxk_call_snapshot(struct hxk_runner *R, struct hxk_err *err)
{
	struct hxk_pstate *p = part0(R);
	const struct hv_partition_config *pc = &R->cfg->partitions[0];
	free_snap(R->snap);
	R->snap = NULL;
	struct hxk_call_snap *s = calloc(1, sizeof(*s));
	if (!s)
		return hxk_fail(err, "out of memory for the sandbox's snapshot");
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type != HV_REGION_RAM)
			continue;
		s->regions[s->nregions++] =
		        (struct snap_region){.hpa = r->hpa, .size = r->size, .off = s->ram_bytes};
		s->ram_bytes += r->size;
	}
	uint64_t max_slot = 0;
	for (uint32_t i = 0; i < p->slots.n; i++)
		if (p->slots.slots[i].size > max_slot)
			max_slot = p->slots.slots[i].size;
	s->host_words = (R->mem.size / PAGE + 63) / 64;
	s->log_words = (max_slot / PAGE + 63) / 64;
	s->ram = malloc(s->ram_bytes ? s->ram_bytes : 1);
	s->pool = malloc((size_t)(R->sys->pool->used ? R->sys->pool->used : 1) * PAGE);
	s->host_dirty = calloc(s->host_words ? s->host_words : 1, 8);
	s->log = calloc(s->log_words ? s->log_words : 1, 8);
	s->slots = malloc((p->slots.n ? p->slots.n : 1) * sizeof(*s->slots));
	if (!s->ram || !s->pool || !s->host_dirty || !s->log || !s->slots) {
		free_snap(s);
		return hxk_fail(err, "out of memory for the sandbox's snapshot");
	}
	for (uint32_t i = 0; i < s->nregions; i++)
		memcpy(s->ram + s->regions[i].off,
		       hxk_hostmem_ptr(&R->mem, s->regions[i].hpa, s->regions[i].size),
		       s->regions[i].size);
	memcpy(&s->part, &R->sys->parts[0], sizeof(s->part));
	memcpy(s->channels, R->sys->channels, sizeof(s->channels));
	s->pool_used = R->sys->pool->used;
	memcpy(s->pool, R->sys->pool->mem, (size_t)s->pool_used * PAGE);
	s->efi_started = p->efi_started;
	if (hxk_vcpu_get_fpu(p->v[0].vc, &s->fpu, err) != 0) {
		free_snap(s);
		return -1;
	}
	/* Logging on: the writable slots again, with KVM_MEM_LOG_DIRTY_PAGES. */
	p->vm.log_dirty = true;
	for (uint32_t i = 0; i < p->slots.n; i++) {
		const struct hxk_slot *sl = &p->slots.slots[i];
		if (sl->readonly)
			continue;
		if (hxk_vm_set_slot(&p->vm, sl->id, sl->gpa, sl->size,
		                    hxk_hostmem_ptr(&R->mem, sl->hpa, sl->size), false, err) != 0) {
			free_snap(s);
			return -1;
		}
	}
	memcpy(s->slots, p->slots.slots, p->slots.n * sizeof(*s->slots));
	s->nslots = p->slots.n;
	R->snap = s;
	if (drain_log(R, false, err) != 0) {
		free_snap(s);
		R->snap = NULL;
		return -1;
	}
	return 0;
}

int hxk_call_reset(struct hxk_runner *R, struct hxk_err *err)
{
	struct hxk_call_snap *s = R->snap;
	struct hxk_pstate *p = part0(R);
	if (!s)
		return hxk_fail(err, "internal: no snapshot to reset to");
	s->stats.resets++;
	bool moved = !same_slots(s, &p->slots);
	if (moved) {
		/* The memslots changed (a table change): the log of the old ones
		 * is gone with them. Everything back, and the tables as they
		 * were, which brings the old memslots back too. */
		for (uint32_t i = 0; i < s->nregions; i++)
			memcpy(hxk_hostmem_ptr(&R->mem, s->regions[i].hpa, s->regions[i].size),
			       s->ram + s->regions[i].off, s->regions[i].size);
		s->stats.full++;
	} else if (drain_log(R, true, err) != 0) {
		return -1;
	}
	for (uint64_t w = 0; w < s->host_words; w++) {
		for (uint64_t bits = s->host_dirty[w]; bits; bits &= bits - 1) {
			uint64_t hpa = (w * 64 + (uint64_t)__builtin_ctzll(bits)) * PAGE;
			uint8_t *from = snap_page(s, hpa);
			if (from) {
				memcpy(hxk_hostmem_ptr(&R->mem, hpa, PAGE), from, PAGE);
				s->stats.host_pages++;
			}
		}
		s->host_dirty[w] = 0;
	}
	memcpy(&R->sys->parts[0], &s->part, sizeof(s->part));
	memcpy(R->sys->channels, s->channels, sizeof(s->channels));
	if (R->sys->pool->used != s->pool_used ||
	    memcmp(R->sys->pool->mem, s->pool, (size_t)s->pool_used * PAGE) != 0) {
		memcpy(R->sys->pool->mem, s->pool, (size_t)s->pool_used * PAGE);
		R->sys->pool->used = s->pool_used;
	}
	if (moved) {
		if (hxk_rebuild_slots(p, err) != 0)
			return -1;
		s->nslots = 0; /* the next reset copies everything: the log restarts */
	}
	p->efi_started = s->efi_started;
	if (hxk_vcpu_set_fpu(p->v[0].vc, &s->fpu, err) != 0)
		return -1;
#ifdef HXK_HAVE_ORACLE
	if (R->oracle)
		hx_oracle_sync(R->oracle, R->sys);
#endif
	return 0;
}

int hxk_call_reset_check(struct hxk_runner *R, struct hxk_err *err)
{
	struct hxk_call_snap *s = R->snap;
	if (!s)
		return hxk_fail(err, "internal: no snapshot to compare with");
	for (uint32_t i = 0; i < s->nregions; i++) {
		const struct snap_region *r = &s->regions[i];
		const uint8_t *now = hxk_hostmem_ptr(&R->mem, r->hpa, r->size);
		for (uint64_t off = 0; off < r->size; off += PAGE)
			if (memcmp(now + off, s->ram + r->off + off, PAGE) != 0)
				return hxk_fail(
				        err,
				        "after the reset, the page at HPA 0x%llx differs from "
				        "the state after loading",
				        (unsigned long long)(r->hpa + off));
	}
	if (memcmp(&R->sys->parts[0], &s->part, sizeof(s->part)) != 0)
		return hxk_fail(err, "after the reset, the core's state of partition 0 differs");
	if (memcmp(R->sys->channels, s->channels, sizeof(s->channels)) != 0)
		return hxk_fail(err, "after the reset, the channel state differs");
	if (R->sys->pool->used != s->pool_used ||
	    memcmp(R->sys->pool->mem, s->pool, (size_t)s->pool_used * PAGE) != 0)
		return hxk_fail(err, "after the reset, the pool (partition 0's tables) differs");
	return 0;
}

const struct hxk_reset_stats *hxk_call_reset_stats(const struct hxk_runner *R)
{
	return R->snap ? &R->snap->stats : NULL;
}

void hxk_call_reset_plant_leak(struct hxk_runner *R)
{
	if (R->snap)
		R->snap->plant_leak = true;
}

void hxk_call_reset_free(struct hxk_runner *R)
{
	free_snap(R->snap);
	R->snap = NULL;
}
