/* The runner's struct hv_platform_ops: what "the host" is for the core
 * when it runs under KVM.
 *  - CPUID: the CPUID instruction of this process's CPU, each (leaf,
 *    subleaf) executed once and then answered from a cache: under a
 *    hypervisor every CPUID is a ~10 us exit, and a fixed answer keeps the
 *    "host" one CPU even when the thread migrates (APIC IDs differ).
 *  - MSRs: the exiting vCPU's MSRs, host-initiated through KVM (the CPU the
 *    partition runs on, as KVM models it). A passthrough write thus really
 *    changes the guest's MSR; nothing ever reaches the machine's MSRs.
 *  - Physical memory: the runner's host-memory mapping.
 *  - EPT changes: the partition's memslots are rebuilt before it runs on. */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "call_reset.h"
#include "runner_int.h"

static void plat_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct hxk_runner *R = ctx;
	uint32_t h = (leaf * 31u + subleaf) % HXK_CPUID_CACHE;
	for (uint32_t i = 0; i < HXK_CPUID_CACHE; i++) {
		struct hxk_cpuid_entry *e = &R->cpuid_cache[(h + i) % HXK_CPUID_CACHE];
		if (e->valid && e->leaf == leaf && e->subleaf == subleaf) {
			memcpy(out, e->out, sizeof(e->out));
			return;
		}
		if (!e->valid) {
			__cpuid_count(leaf, subleaf, e->out[0], e->out[1], e->out[2], e->out[3]);
			e->leaf = leaf;
			e->subleaf = subleaf;
			e->valid = true;
			memcpy(out, e->out, sizeof(e->out));
			return;
		}
	}
	__cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]); /* cache full */
}

static int plat_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct hxk_runner *R = ctx;
	if (!R->cur)
		return -1;
	return hxk_vcpu_get_msr(R->cur->vc, msr, value) == 0 ? 0 : -1;
}

static int plat_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct hxk_runner *R = ctx;
	if (!R->cur)
		return -1;
	return hxk_vcpu_set_msr(R->cur->vc, msr, value) == 0 ? 0 : -1;
}

static int plat_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct hxk_runner *R = ctx;
	const void *src = hxk_hostmem_ptr(&R->mem, hpa, len);
	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

static int plat_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct hxk_runner *R = ctx;
	void *dst = hxk_hostmem_ptr(&R->mem, hpa, len);
	if (!dst)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

void hxk_console_flush(struct hxk_pstate *p)
{
	struct hxk_runner *R = p->R;
	if (p->conlen && !R->opt->quiet) {
		/* Guest bytes: escaped, so console output cannot carry terminal
		 * escapes or carriage returns. */
		char text[4 * sizeof(p->con) + 4];
		hx_escape_n(p->con, p->conlen, text, sizeof(text));
		fprintf(R->out, "[%s console] %s\n", hx_esc(R->cfg->partitions[p->index].name),
		        text);
	}
	p->conlen = 0;
}

static void plat_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct hxk_runner *R = ctx;
	if (partition >= R->cfg->npartitions)
		return;
	struct hxk_pstate *p = &R->parts[partition];
	for (uint32_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n') {
			hxk_console_flush(p);
			continue;
		}
		if (p->conlen == sizeof(p->con))
			hxk_console_flush(p);
		p->con[p->conlen++] = c;
	}
}

static void plat_log(void *ctx, enum hv_log_level level, const char *msg)
{
	struct hxk_runner *R = ctx;
	if (level == HV_LOG_ERROR || R->opt->verbose)
		fprintf(stderr, "hv: %s\n", msg);
}

static void plat_ept_changed(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size)
{
	struct hxk_runner *R = ctx;
	(void)gpa;
	(void)size;
	if (partition < R->cfg->npartitions)
		R->parts[partition].slots_dirty = true;
}

const struct hv_platform_ops hxk_platform_ops = {
        .cpuid = plat_cpuid,
        .rdmsr = plat_rdmsr,
        .wrmsr = plat_wrmsr,
        .phys_read = plat_phys_read,
        .phys_write = plat_phys_write,
        .console = plat_console,
        .log = plat_log,
        .ept_changed = plat_ept_changed,
};

bool hxk_gpa_read(void *pstate, uint64_t gpa, void *dst, uint32_t len)
{
	struct hxk_pstate *p = pstate;
	uint32_t done = 0;
	while (done < len) {
		uint64_t a = gpa + done;
		const struct hxk_slot *s = hxk_slot_find(&p->slots, a);
		if (!s)
			return false;
		uint64_t room = s->size - (a - s->gpa);
		uint32_t chunk = len - done < room ? len - done : (uint32_t)room;
		const void *src = hxk_hostmem_ptr(&p->R->mem, s->hpa + (a - s->gpa), chunk);
		if (!src)
			return false;
		memcpy((uint8_t *)dst + done, src, chunk);
		done += chunk;
	}
	return true;
}

void *hxk_gpa_ptr(void *pstate, uint64_t gpa, uint64_t len)
{
	struct hxk_pstate *p = pstate;
	const struct hxk_slot *s = hxk_slot_find(&p->slots, gpa);
	/* Loading writes from the host side: a read-only slot (an RX code
	 * region) is fine. */
	if (!s || len > s->size - (gpa - s->gpa))
		return NULL;
	/* Writes the dirty log does not see: a reset must restore them. */
	hxk_call_reset_mark(p->R, s->hpa + (gpa - s->gpa), len);
	return hxk_hostmem_ptr(&p->R->mem, s->hpa + (gpa - s->gpa), len);
}

void hxk_paging_of(const struct hxk_vstate *v, struct hxk_paging *pg)
{
	const struct kvm_sregs *s = &v->vc->run->s.regs.sregs;
	pg->cr0 = s->cr0;
	pg->cr3 = s->cr3;
	pg->cr4 = s->cr4;
	pg->efer = s->efer;
}
