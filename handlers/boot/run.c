#include "run.h"

#include "hv/boot.h"
#include "hv/guest_abi.h"
#include "hv/guest_mem.h"
#include "hv/msr.h"
#include "hv/s2_leaf.h"
#include "hv/svm.h"
#include "io.h"
#include "trap.h"

void hv_boot_vmrun(uint64_t vmcb_pa, uint64_t host_vmsave_pa, uint64_t gpr[16]);

#define TLB_FLUSH_ALL 1 /* VMCB TLB_CONTROL (APM Vol. 2, 15.16.1) */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* ---- Platform ops: the core's only door to this machine. While an exit
 * of a recorded run is handled, each call is also logged with its bytes:
 * the inputs a replay feeds back and the outputs it must reproduce. */

static struct hv_boot_call *rec_call(struct hvb_world *w, uint8_t kind, uint32_t bytes)
{
	struct hvb_rec *r = &w->rec;
	if (!r->on)
		return 0;
	if (r->ncalls == HV_BOOT_REC_MAX_CALLS || bytes > HVB_REC_MAX_DATA - r->data_len) {
		r->overflow++;
		return 0;
	}
	struct hv_boot_call *c = &r->calls[r->ncalls++];
	hv_memset(c, 0, sizeof(*c));
	c->kind = kind;
	return c;
}

static void rec_bytes(struct hvb_world *w, const void *p, uint32_t n)
{
	hv_memcpy(w->rec.data + w->rec.data_len, p, n);
	w->rec.data_len += n;
}

static void op_cpuid(void *ctx, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	hvb_cpuid(leaf, sub, out);
	struct hv_boot_call *c = rec_call(ctx, HV_CALL_CPUID, 0);
	if (c) {
		c->id = leaf;
		c->sub = sub;
		hv_memcpy(c->regs, out, sizeof(c->regs));
	}
}

static int op_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	int r = hvb_rdmsr_safe(msr, value);
	struct hv_boot_call *c = rec_call(ctx, HV_CALL_RDMSR, 0);
	if (c) {
		c->id = msr;
		c->failed = r != 0;
		c->value = r == 0 ? *value : 0;
	}
	return r;
}

static int op_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	int r = hvb_wrmsr_safe(msr, value);
	struct hv_boot_call *c = rec_call(ctx, HV_CALL_WRMSR, 0);
	if (c) {
		c->id = msr;
		c->failed = r != 0;
		c->value = value;
	}
	return r;
}

/* Host-physical memory is identity-mapped; only host memory exists. */
static int op_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct hvb_world *w = ctx;
	bool ok = hv_range_inside(hpa, len, 0, w->cfg->host_mem_size);
	if (ok)
		hv_memcpy(dst, (const void *)(uintptr_t)hpa, len);
	struct hv_boot_call *c = rec_call(w, HV_CALL_PHYS_READ, ok ? len : 0);
	if (c) {
		c->addr = hpa;
		c->len = len;
		c->failed = !ok;
		if (ok)
			rec_bytes(w, dst, len);
	}
	return ok ? 0 : -1;
}

static int op_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct hvb_world *w = ctx;
	bool ok = hv_range_inside(hpa, len, 0, w->cfg->host_mem_size);
	struct hv_boot_call *c = rec_call(w, HV_CALL_PHYS_WRITE, ok ? 2 * len : len);
	if (c) {
		c->addr = hpa;
		c->len = len;
		c->failed = !ok;
		c->has_before = ok;
		rec_bytes(w, src, len);
		if (ok)
			rec_bytes(w, (const void *)(uintptr_t)hpa, len);
	}
	if (ok)
		hv_memcpy((void *)(uintptr_t)hpa, src, len);
	return ok ? 0 : -1;
}

static void op_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct hv_boot_call *c = rec_call(ctx, HV_CALL_CONSOLE, len);
	if (c) {
		c->id = partition;
		c->len = len;
		rec_bytes(ctx, buf, len);
	}
	hvb_event(HV_EV_CONSOLE, &partition, sizeof(partition), buf, len);
}

static void op_log(void *ctx, enum hv_log_level level, const char *msg)
{
	(void)ctx;
	uint32_t lv = level, n = 0;
	while (msg[n] && n < 256)
		n++;
	hvb_event(HV_EV_LOG, &lv, sizeof(lv), msg, n);
}

/* MEM_PROTECT narrowed a partition's nested table: cached translations of
 * its ASID may still grant the old permissions, so every vCPU of it
 * flushes before it runs again (APM Vol. 2, 15.16.1). QEMU flushes on
 * every VMRUN anyway, so under TCG a missing flush cannot show. */
static void op_ept_changed(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size)
{
	struct hvb_world *w = ctx;
	struct hv_boot_call *c = rec_call(w, HV_CALL_EPT_CHANGED, 0);
	if (c) {
		c->id = partition;
		c->addr = gpa;
		c->value = size;
	}
	if (partition < w->cfg->npartitions)
		w->flush[partition] = true;
}

static const struct hv_platform_ops ops = {
        .cpuid = op_cpuid,
        .rdmsr = op_rdmsr,
        .wrmsr = op_wrmsr,
        .phys_read = op_phys_read,
        .phys_write = op_phys_write,
        .console = op_console,
        .log = op_log,
        .ept_changed = op_ept_changed,
};

hv_status hvb_world_init(struct hvb_world *w, struct hv_config_diag *diag)
{
	hv_status st = hv_system_init(&w->sys, w->cfg, &ops, w, &w->pool, diag);
	if (st != HV_OK)
		return st;
	for (uint32_t p = 0; p < w->cfg->npartitions; p++) {
		w->last_vcpu[p] = -1;
		for (uint32_t v = 0; v < w->nvcpus[p]; v++) {
			struct hvb_vcpu *vc = &w->vcpus[p][v];
			hv_memset(vc, 0, sizeof(*vc));
			vc->running = true;
		}
	}
	return HV_OK;
}

void hvb_report_violation(struct hvb_world *w, const struct hv_violation *v, uint64_t exit_index)
{
	(void)w;
	struct hv_ev_violation e = {v->inv,     v->reason, v->partition, 0,
	                            exit_index, v->gpa,    v->hpa,       v->entry};
	hvb_event(HV_EV_VIOLATION, &e, sizeof(e), 0, 0);
	hvb_printf("hx-boot: violation %s partition %u: %s (GPA 0x%lx HPA 0x%lx)\n",
	           hv_invariant_id(v->inv), v->partition, hv_verify_reason_str(v->reason),
	           (unsigned long)v->gpa, (unsigned long)v->hpa);
}

static void on_violation(void *ctx, const struct hv_violation *v)
{
	struct hvb_world *w = ctx;
	hvb_report_violation(w, v, w->total_exits);
}

/* The production verifier over every partition's table, after a table
 * changed at run time. */
static void reverify(struct hvb_world *w)
{
	struct hv_verify_part vp[HV_MAX_PARTITIONS];
	for (uint32_t p = 0; p < w->cfg->npartitions; p++)
		vp[p] = (struct hv_verify_part){w->sys.parts[p].ept_root,
		                                w->sys.parts[p].protected_ != 0};
	hv_ept_verify(w->cfg, &w->pool, vp, on_violation, w, 16);
}

static void send_counts(struct hvb_world *w, uint32_t p)
{
	w->counts[p].partition = p;
	w->counts_sent[p] = w->counts[p].exits;
	hvb_event(HV_EV_COUNTS, &w->counts[p], sizeof(w->counts[p]), 0, 0);
}

static void stop_partition(struct hvb_world *w, uint32_t p, uint32_t v, uint32_t why,
                           uint32_t halt_reason, uint64_t detail, uint64_t exit_code)
{
	send_counts(w, p);
	for (uint32_t i = 0; i < w->nvcpus[p]; i++)
		w->vcpus[p][i].running = false;
	struct hv_ev_stop e = {p, v, why, halt_reason, detail, exit_code};
	hvb_event(HV_EV_STOP, &e, sizeof(e), 0, 0);
}

/* An OUT of a ucall struct's GPA to the ucall port (hv/guest_abi.h): the
 * guest ABI's report channel, served here rather than by the core (for
 * the core, port I/O is contained). */
static bool is_ucall(const struct hv_vmcb *vmcb)
{
	uint64_t info = vmcb->ctl.exit_info1;
	return vmcb->ctl.exit_code == HV_SVM_EXIT_IOIO && !(info & (HV_IOIO_IN | HV_IOIO_STR)) &&
	       (info & HV_IOIO_SZ32) && ((info >> HV_IOIO_PORT_SHIFT) & 0xffff) == HX_UCALL_PORT;
}

/* Returns false when the vCPU gives up its turn (GUEST_SYNC). */
static bool ucall(struct hvb_world *w, uint32_t p, uint32_t v, struct hv_vmcb *vmcb)
{
	uint64_t gpa = (uint32_t)vmcb->save.rax;
	vmcb->save.rip = vmcb->ctl.exit_info2; /* the next RIP (APM Vol. 2, 15.10.2) */
	struct hv_ev_ucall e = {p, v, {0}};
	struct hx_ucall uc;
	if (hv_guest_read(&w->sys, p, gpa, &uc, sizeof(uc)) != HV_OK) {
		stop_partition(w, p, v, HV_STOP_BAD_UCALL, 0, gpa, vmcb->ctl.exit_code);
		return false;
	}
	hv_memcpy(e.ucall, &uc, sizeof(uc));
	hvb_event(HV_EV_UCALL, &e, sizeof(e), 0, 0);
	switch (uc.type) {
	case HX_UCALL_SYNC:
		return false;
	case HX_UCALL_PRINT:
	case HX_UCALL_FOUND:
		break;
	case HX_UCALL_DONE: {
		w->vcpus[p][v].running = false;
		bool any = false;
		for (uint32_t i = 0; i < w->nvcpus[p]; i++)
			any |= w->vcpus[p][i].running;
		if (!any)
			stop_partition(w, p, v, HV_STOP_DONE, 0, 0, vmcb->ctl.exit_code);
		break;
	}
	case HX_UCALL_ASSERT:
	case HX_UCALL_EXCEPTION:
		stop_partition(w, p, v, HV_STOP_ASSERT, 0, uc.type, vmcb->ctl.exit_code);
		break;
	default:
		stop_partition(w, p, v, HV_STOP_BAD_UCALL, 0, gpa, vmcb->ctl.exit_code);
		break;
	}
	return true;
}

/* One #VMEXIT through the core: translate, handle, check, apply. */
static void core_exit(struct hvb_world *w, uint32_t p, uint32_t v, struct hv_vmcb *vmcb,
                      uint64_t t_run)
{
	struct hvb_vcpu *vc = &w->vcpus[p][v];
	struct hv_exit ex;
	struct hv_result res;
	enum hv_xlat x = hv_svm_exit_read(&w->sys, p, v, vmcb, vc->gpr, w->cpu.svm_features, &ex);
	bool was_flushed = w->flush[p];
	struct hv_ev_record head;
	if (w->opts.record) {
		head.in = ex;
		w->rec.on = true;
		w->rec.ncalls = w->rec.overflow = w->rec.data_len = 0;
	}
	uint64_t t0 = rdtsc();
	hv_handle_exit(&w->sys, &ex, &res);
	uint64_t t1 = rdtsc();
	if (w->opts.record) {
		struct hvb_rec *r = &w->rec;
		r->on = false;
		head.index = w->total_exits;
		head.ncalls = r->ncalls;
		head.overflow = r->overflow;
		head.data_len = r->data_len;
		head.pad = 0;
		head.res = res;
		head.out = ex.st;
		const void *part[3] = {&head, r->calls, r->data};
		uint32_t len[3] = {sizeof(head), r->ncalls * (uint32_t)sizeof(r->calls[0]),
		                   r->data_len};
		hvb_event_parts(HV_EV_RECORD, 3, part, len);
	}
	w->total_exits++;
	uint32_t checks = 0;
	if (w->flush[p] && !was_flushed) {
		reverify(w);
		checks = 3 * w->cfg->npartitions; /* EPT-OWN, -FORM, -EXACT of each table */
	}
	enum hv_verdict verdict = hv_svm_exit_write(vmcb, vc->gpr, &ex, &res);
	/* An MSR the guest may write that has no VMCB field (TSC_AUX): the
	 * platform's to load, before every run of this vCPU (hv/svm.h). */
	if (verdict == HV_VERDICT_RUN && res.action == HV_ACT_RESUME && res.msr.valid &&
	    !hv_svm_msr_in_vmcb(res.msr.msr) && res.msr.msr == HV_MSR_TSC_AUX) {
		vc->has_tsc_aux = true;
		vc->tsc_aux = res.msr.value;
	}
	w->tsc_handler += t1 - t0;
	struct hv_ev_counts *c = &w->counts[p];
	uint32_t k = x == HV_XLAT_OK && ex.reason < HV_EXIT_COUNT ? ex.reason : HV_EXIT_COUNT;
	c->exits++;
	c->checks += checks;
	c->count[k]++;
	c->tsc_handler[k] += t1 - t0;
	c->tsc_round[k] += rdtsc() - t_run;
	if (ex.reason == HV_EXIT_VMCALL && ex.st.cpl == 3 && res.action == HV_ACT_INJECT &&
	    res.vector == HV_VEC_UD)
		c->cpl3_refused++;
	if (ex.reason == HV_EXIT_EPT_VIOLATION && res.has_mmio)
		*(res.mmio.is_write ? &c->mmio_write : &c->mmio_read) += 1;
	if (c->exits - w->counts_sent[p] >= HV_BOOT_COUNTS_EVERY)
		send_counts(w, p);
	if (x != HV_XLAT_OK)
		hvb_printf("hx-boot: partition %u vCPU %u: exit 0x%lx not translated: %s\n", p, v,
		           (unsigned long)vmcb->ctl.exit_code, hv_xlat_str(x));
	if (verdict == HV_VERDICT_STOP)
		stop_partition(w, p, v, x != HV_XLAT_OK ? HV_STOP_XLAT : HV_STOP_HALTED,
		               res.halt_reason, x, vmcb->ctl.exit_code);
	else if (w->opts.max_exits && c->exits >= w->opts.max_exits)
		stop_partition(w, p, v, HV_STOP_HUNG, 0, c->exits, vmcb->ctl.exit_code);
}

/* One VMRUN of vCPU v of partition p and what follows it. Returns true
 * while the vCPU keeps its turn: until the timer ends its slice, it
 * yields (the YIELD hypercall, a GUEST_SYNC) or it stops. */
static bool run_vcpu(struct hvb_world *w, uint32_t p, uint32_t v)
{
	uint64_t yields = w->sys.parts[p].yields;
	struct hv_vmcb *vmcb = (struct hv_vmcb *)(uintptr_t)w->vmcb_pa[p][v];
	/* vCPUs of one partition share its ASID: switching between them, or
	 * after its table changed, flushes. */
	if (w->flush[p] || w->last_vcpu[p] != (int32_t)v)
		vmcb->ctl.tlb_control = TLB_FLUSH_ALL;
	w->flush[p] = false;
	w->last_vcpu[p] = (int32_t)v;
	/* RDTSCP and RDPID read the host's TSC_AUX in the guest: the vCPU's own
	 * value, or 0 until it sets one (the host never uses TSC_AUX). */
	hvb_wrmsr_safe(HV_MSR_TSC_AUX, w->vcpus[p][v].has_tsc_aux ? w->vcpus[p][v].tsc_aux : 0);
	uint64_t t_run = rdtsc();
	hv_boot_vmrun(w->vmcb_pa[p][v], w->host_vmsave_pa, w->vcpus[p][v].gpr);
	vmcb->ctl.tlb_control = 0;
	vmcb->ctl.event_inj = 0; /* delivered, or in EXITINTINFO: never twice */
	/* The time slice ended: the interrupt was taken on the way out; the
	 * vCPU resumes where it was when its turn comes again. */
	if (vmcb->ctl.exit_code == HV_SVM_EXIT_INTR) {
		w->counts[p].slices++;
		if (w->counts[p].exits != w->counts_sent[p])
			send_counts(w, p);
		return false;
	}
	if (is_ucall(vmcb))
		return ucall(w, p, v, vmcb) && w->vcpus[p][v].running;
	core_exit(w, p, v, vmcb, t_run);
	return w->vcpus[p][v].running && w->sys.parts[p].yields == yields;
}

void hvb_run(struct hvb_world *w)
{
	const struct hv_system_config *cfg = w->cfg;
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		for (uint32_t v = 0; v < w->nvcpus[p]; v++) {
			struct hv_vmcb *vmcb = (struct hv_vmcb *)(uintptr_t)w->vmcb_pa[p][v];
			hvb_vmcb_init(vmcb, w->sys.parts[p].ept_root & HV_S2_ADDR_MASK, p + 1,
			              w->msrpm_pa, w->iopm_pa, w->entry[p]);
			uint64_t *g = w->vcpus[p][v].gpr;
			g[HV_RDI] = p;
			g[HV_RSI] = v;
			g[HV_RDX] = hx_boot_info_gpa(v);
		}
	}
	uint64_t start = rdtsc();
	/* Round-robin over every vCPU of every partition on this one CPU: a
	 * vCPU runs until its time slice ends, it yields or it stops. */
	for (;;) {
		bool any = false;
		for (uint32_t p = 0; p < cfg->npartitions; p++) {
			for (uint32_t v = 0; v < w->nvcpus[p]; v++) {
				if (!w->vcpus[p][v].running)
					continue;
				any = true;
				while (run_vcpu(w, p, v))
					;
			}
		}
		if (!any)
			break;
	}
	for (uint32_t p = 0; p < cfg->npartitions; p++)
		send_counts(w, p);
	struct hv_ev_done d = {w->total_exits, rdtsc() - start, w->tsc_handler};
	hvb_event(HV_EV_DONE, &d, sizeof(d), 0, 0);
}

#ifdef HV_BOOT_TEST_BREAK_NPT
/* Test-only negative control (hv_boot_break.elf, never shipped): partition
 * 0's table maps one block of partition 1's RAM, as a builder bug would.
 * The verifier must name EPT-OWN and a canary-scanning guest must see the
 * foreign canaries. */
void hvb_test_break_npt(struct hvb_world *w)
{
	const struct hv_system_config *cfg = w->cfg;
	if (cfg->npartitions < 2)
		hvb_fatal("test break: needs two partitions");
	const struct hv_region *mine = &cfg->partitions[0].regions[0];
	const struct hv_region *theirs = &cfg->partitions[1].regions[0];
	uint64_t gpa = mine->gpa + mine->size - HV_PAGE_SIZE, size;
	unsigned level;
	uint64_t *leaf = hv_s2_leaf_of(&w->pool, w->sys.parts[0].ept_root, gpa, &level, &size);
	uint64_t target = (theirs->hpa + size - 1) & ~(size - 1);
	if (!leaf || target + size > theirs->hpa + theirs->size)
		hvb_fatal("test break: no leaf to redirect");
	*leaf = (*leaf & ~hv_s2_leaf_addr(*leaf, level)) | target;
	hvb_printf("hx-boot: TEST-ONLY broken NPT: partition 0 GPA 0x%lx maps HPA 0x%lx\n",
	           (unsigned long)(gpa & ~(size - 1)), (unsigned long)target);
}
#endif
