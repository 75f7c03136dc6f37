/* Setting up the machine, scheduling the vCPUs, bounding the run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "diag.h"
#include "guest_setup.h"
#include "hv/ept.h"
#include "hv/verify.h"
#include "hx/guest_abi.h"
#include "call.h"
#include "call_reset.h"
#include "efi_start.h"
#include "runner_int.h"

static const char *const site_symbols[HXK_SITES] = {"hx_cpuid_site", "hx_vmcall_site",
                                                    "hx_vmmcall_site"};

static void verify_report(void *ctx, const struct hv_violation *v)
{
	struct hxk_runner *R = ctx;
	char buf[320];
	hx_format_violation(R->cfg, v, buf, sizeof(buf));
	hxk_violation(R, v->inv, (int32_t)v->partition, "hv_ept_verify: %s", buf);
}

/* EPT-OWN/FORM/EXACT of every partition, by the production verifier. */
static void verify_epts(struct hxk_runner *R, const char *when)
{
	struct hv_verify_part vp[HV_MAX_PARTITIONS];
	for (uint32_t i = 0; i < R->cfg->npartitions; i++) {
		vp[i].root = R->sys->parts[i].ept_root;
		vp[i].protected_ = R->sys->parts[i].protected_ != 0;
	}
	uint64_t words = HV_VERIFY_SEEN_WORDS(R->sys->pool->npages);
	uint64_t *seen = calloc(words, sizeof(*seen)); /* NULL: reported as too large */
	uint32_t n = hv_ept_verify_ex(R->cfg, R->sys->pool, vp, verify_report, R, 16, seen,
	                              seen ? (uint32_t)words : 0);
	free(seen);
	R->rep->total_checks += 3ull * R->cfg->npartitions;
	if (n && !R->opt->quiet)
		fprintf(R->out, "hx run: hv_ept_verify at %s: %u violation%s\n", when, n,
		        n == 1 ? "" : "s");
}

/* ---- memslots ---------------------------------------------------------------- */

struct slot_ctx {
	struct hxk_pstate *p;
};

static int slot_del(void *ctx, const struct hxk_slot *s, struct hxk_err *err)
{
	struct slot_ctx *c = ctx;
	return hxk_vm_delete_slot(&c->p->vm, s->id, s->gpa, err);
}

static int slot_add(void *ctx, const struct hxk_slot *s, struct hxk_err *err)
{
	struct slot_ctx *c = ctx;
	void *host = hxk_hostmem_ptr(&c->p->R->mem, s->hpa, s->size);
	if (!host)
		return hxk_fail(err, "memslot HPA 0x%llx+0x%llx is outside host memory",
		                (unsigned long long)s->hpa, (unsigned long long)s->size);
	return hxk_vm_set_slot(&c->p->vm, s->id, s->gpa, s->size, host, s->readonly, err);
}

int hxk_rebuild_slots(struct hxk_pstate *p, struct hxk_err *err)
{
	struct hxk_runner *R = p->R;
	struct hxk_slot_plan next;
	if (hxk_slot_plan_build(R->sys->pool, R->sys->parts[p->index].ept_root, R->mem.size,
	                        (uint32_t)R->kvm.max_slots, &next, err) != 0)
		return -1;
	p->rep->unenforced |= next.unenforced;
	struct slot_ctx c = {.p = p};
	static const struct hxk_slot_ops ops = {.del = slot_del, .add = slot_add};
	int r = hxk_slots_apply(&p->slots, &next, (uint32_t)R->kvm.max_slots, &ops, &c, err);
	hxk_slot_plan_free(&next);
	p->slots_dirty = false;
	return r < 0 ? -1 : 0;
}

/* ---- partition set-up -------------------------------------------------------- */

static bool own_ram(void *ctx, uint64_t gpa, uint64_t size)
{
	const struct hv_partition_config *pc = ctx;
	/* Inside one RAM region, or several adjacent ones. */
	uint64_t at = gpa, end = gpa + size;
	for (uint32_t guard = 0; at < end && guard <= pc->nregions; guard++) {
		bool advanced = false;
		for (uint32_t i = 0; i < pc->nregions; i++) {
			const struct hv_region *r = &pc->regions[i];
			if (r->type == HV_REGION_RAM && at >= r->gpa && at - r->gpa < r->size) {
				at = r->gpa + r->size;
				advanced = true;
				break;
			}
		}
		if (!advanced)
			return false;
	}
	return at >= end;
}

static int setup_partition(struct hxk_runner *R, struct hxk_pstate *p, const char *image,
                           struct hxk_err *err, bool *bad_input)
{
	const struct hv_partition_config *pc = &R->cfg->partitions[p->index];
	struct hxk_err e;
	*bad_input = true;
	if (hxk_elf_read_file(image, &p->elf, &e) != 0)
		return hxk_fail(err, "%s", e.msg);
	if (!own_ram((void *)pc, 0, HX_GUEST_MIN_RAM))
		return hxk_fail(err,
		                "partition %u \"%s\": the guest ABI needs RAM at GPA 0 of at least "
		                "%llu KiB (hx/guest_abi.h)",
		                p->index, pc->name, (unsigned long long)(HX_GUEST_MIN_RAM >> 10));
	if (hxk_elf_check_placement(&p->elf, own_ram, (void *)pc, &e) != 0)
		return hxk_fail(err, "%s: partition %u \"%s\": %s", image, p->index, pc->name,
		                e.msg);
	for (int s = 0; s < HXK_SITES; s++)
		p->has_site[s] = hxk_elf_symbol(&p->elf, site_symbols[s], &p->site[s]);

	*bad_input = false;
	p->nvcpus = pc->nvcpus;
	if (R->opt->max_vcpus && p->nvcpus > R->opt->max_vcpus)
		p->nvcpus = R->opt->max_vcpus;
	if (hxk_vm_create(&R->kvm, &p->vm, p->nvcpus, &e) != 0)
		return hxk_fail(err, "partition %u \"%s\": %s", p->index, pc->name, e.msg);
	if (hxk_rebuild_slots(p, &e) != 0)
		return hxk_fail(err, "partition %u \"%s\": memslots: %s", p->index, pc->name,
		                e.msg);

	*bad_input = true;
	if (hxk_elf_load(&p->elf, hxk_gpa_ptr, p, &e) != 0 ||
	    hxk_guest_write_tables(hxk_gpa_ptr, p, &e) != 0)
		return hxk_fail(err, "%s: partition %u \"%s\": %s", image, p->index, pc->name,
		                e.msg);
	/* hx call: a sandbox; each call sets its registers (hxk_call_begin). */
	bool calling = R->opt->call && p->index == 0;
	if (calling) {
		p->nvcpus = 1;
		if (hxk_call_install(p, &e) != 0)
			return hxk_fail(err, "%s: %s", image, e.msg);
		for (uint32_t k = 0; k < R->opt->ncalls; k++)
			if (hxk_call_resolve(p, &R->opt->call[k], &e) != 0)
				return hxk_fail(err, "%s: %s", image, e.msg);
	}
	/* The breakpoint sites must hold the instructions they are named for. */
	static const uint8_t site_bytes[HXK_SITES][3] = {
	        {0x0f, 0xa2}, {0x0f, 0x01, 0xc1}, {0x0f, 0x01, 0xd9}};
	static const uint32_t site_len[HXK_SITES] = {2, 3, 3};
	uint64_t bp[HXK_SITES];
	unsigned nbp = 0;
	for (int s = 0; s < HXK_SITES; s++) {
		if (!p->has_site[s])
			continue;
		uint8_t b[3];
		if (!hxk_gpa_read(p, p->site[s], b, site_len[s]) ||
		    memcmp(b, site_bytes[s], site_len[s]) != 0)
			return hxk_fail(err, "%s: symbol %s at 0x%llx is not a %s instruction",
			                image, site_symbols[s], (unsigned long long)p->site[s],
			                s == HXK_SITE_CPUID
			                        ? "CPUID"
			                        : (s == HXK_SITE_VMCALL ? "VMCALL" : "VMMCALL"));
		p->site_dr[s] = (uint8_t)nbp;
		bp[nbp++] = p->site[s];
	}
	for (uint32_t i = 0; i < p->nvcpus; i++) {
		int truncated;
		if (hxk_guest_write_boot_info(hxk_gpa_ptr, p, R->cfg, p->index, i, p->elf.lo,
		                              p->elf.hi, &truncated, &e) != 0)
			return hxk_fail(err, "partition %u \"%s\": %s", p->index, pc->name, e.msg);
		if (truncated && i == 0 && !R->opt->quiet)
			fprintf(R->out,
			        "hx run: partition %u \"%s\": boot info lists only the first %d "
			        "ranges\n",
			        p->index, pc->name, HX_BOOT_MAX_RANGES);
	}

	*bad_input = false;
	for (uint32_t i = 0; i < p->nvcpus; i++) {
		struct hxk_vstate *v = &p->v[i];
		v->vc = &p->vm.vcpus[i];
		v->p = p;
		v->index = i;
		struct kvm_sregs sregs;
		struct kvm_regs regs;
		if (hxk_vcpu_get_sregs(v->vc, &sregs, &e) != 0)
			return hxk_fail(err, "%s", e.msg);
		hxk_guest_sregs(&sregs);
		hxk_guest_regs(&regs, p->elf.entry, p->index, i);
		if (hxk_vcpu_set_sregs(v->vc, &sregs, &e) != 0 ||
		    hxk_vcpu_set_regs(v->vc, &regs, &e) != 0)
			return hxk_fail(err, "partition %u vCPU %u: %s", p->index, i, e.msg);
		/* The sync-regs copy starts as what was set, so the first
		 * single-step check sees the entry state. */
		v->vc->run->s.regs.regs = regs;
		v->vc->run->s.regs.sregs = sregs;
		if (hxk_vcpu_set_debug(v->vc, bp, R->opt->single_step ? 0 : nbp,
		                       R->opt->single_step, &e) != 0)
			return hxk_fail(err, "partition %u vCPU %u: %s", p->index, i, e.msg);
	}
	/* A sandbox waits for its first call (hxk_call_begin). */
	p->active = !calling;
	p->rep->outcome = HXK_OUT_RUNNING;
	p->rep->nvcpus = p->nvcpus;
	if (!R->opt->single_step && !R->opt->quiet && !p->has_site[HXK_SITE_CPUID] &&
	    !p->has_site[HXK_SITE_VMCALL] && !p->has_site[HXK_SITE_VMMCALL])
		fprintf(R->out,
		        "hx run: note: %s has none of the symbols hx_cpuid_site, hx_vmcall_site, "
		        "hx_vmmcall_site: CPUID and VMCALL/VMMCALL run natively in KVM, unseen by "
		        "the core (use --single-step to catch them anywhere)\n",
		        image);
	return 0;
}

/* ---- the run loop ------------------------------------------------------------ */

/* The timer: every tick kicks the running vCPU out of KVM_RUN so the loop
 * can switch vCPUs and check the deadline. */
static struct kvm_run *volatile kick_run;

static void on_tick(int sig)
{
	(void)sig;
	struct kvm_run *r = kick_run;
	if (r)
		r->immediate_exit = 1;
}

struct timer_save {
	struct sigaction old_act;
	struct itimerval old_timer;
};

static int timer_start(struct timer_save *save, struct hxk_err *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART; /* KVM_RUN still returns EINTR; stdio does not */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &save->old_act) != 0)
		return hxk_fail_errno(err, "sigaction(SIGALRM)");
	struct itimerval it = {.it_interval = {0, HXK_TICK_US}, .it_value = {0, HXK_TICK_US}};
	if (setitimer(ITIMER_REAL, &it, &save->old_timer) != 0)
		return hxk_fail_errno(err, "setitimer");
	return 0;
}

static void timer_stop(struct timer_save *save)
{
	setitimer(ITIMER_REAL, &save->old_timer, NULL);
	sigaction(SIGALRM, &save->old_act, NULL);
	kick_run = NULL;
}

/* Single-step mode: CPUID/VMCALL/VMMCALL/HLT at RIP are exits before the
 * instruction runs, taken through the same path, chained while each one
 * completes (an injected exception must be delivered by KVM_RUN first). */
static void step_prerun(struct hxk_runner *R, struct hxk_vstate *v)
{
	for (uint32_t i = 0; i < HXK_STEP_CHAIN && !v->stopped && !v->yield; i++) {
		struct hxk_exit x;
		if (!hxk_exit_at_rip(v, &x))
			return;
		uint64_t t0 = hxk_now_ns();
		uint32_t kind = hxk_exit_path(R, v, &x);
		struct hxk_kind_stats *ks = &R->rep->stats[kind];
		ks->count++;
		ks->total_ns += hxk_now_ns() - t0;
		if (x.action != HV_ACT_RESUME)
			return;
	}
}

/* Run one vCPU until it yields, stops, is kicked or used its slice. */
static void run_slice(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct hxk_pstate *p = v->p;
	struct kvm_run *run = v->vc->run;
	struct hxk_err err;
	uint64_t slice_start = hxk_now_ns();
	v->yield = false;
	for (uint32_t n = 0; n < HXK_SLICE_EXITS && !v->stopped && !v->yield && !R->stopping; n++) {
		if (p->slots_dirty && hxk_rebuild_slots(p, &err) != 0) {
			hxk_stop_partition(p, HXK_OUT_CRASH, 0, "rebuilding memslots: %s", err.msg);
			break;
		}
		if (R->opt->single_step) {
			step_prerun(R, v);
			if (v->stopped || v->yield)
				break;
		}
		if (p->kvm_exits >= R->opt->max_exits) {
			hxk_stop_partition(p, HXK_OUT_TIMEOUT, 0,
			                   "exit budget of %llu KVM exits used up (--max-exits)",
			                   (unsigned long long)R->opt->max_exits);
			break;
		}
		v->entry_rip = run->s.regs.regs.rip;
		kick_run = run;
		uint64_t t0 = hxk_now_ns();
		int r = hxk_vcpu_run(v->vc);
		uint64_t t1 = hxk_now_ns();
		kick_run = NULL;
		run->kvm_dirty_regs = 0;
		if (r == 0)
			v->has_run = true;
		if (r == -EINTR) {
			run->immediate_exit = 0;
			hxk_count(p, HXK_K_INTR);
			break; /* a tick: let the loop look at the clock */
		}
		if (r != 0) {
			hxk_stop_partition(p, HXK_OUT_CRASH, 0, "KVM_RUN on vCPU %u failed: %s",
			                   v->index, strerror(-r));
			break;
		}
		R->blame_index = R->exit_index;
		struct hxk_exit x;
		hxk_exit_translate(R, v, &x);
		uint32_t kind = hxk_exit_path(R, v, &x);
		/* Single-step traps are guest progress, bounded by the timeout;
		 * the budget bounds exits that loop. */
		if (kind != HXK_K_STEP)
			p->kvm_exits++;
		uint64_t t2 = hxk_now_ns();
		struct hxk_kind_stats *ks = &R->rep->stats[kind < HXK_K_COUNT ? kind : HXK_K_OTHER];
		ks->count++;
		ks->kvm_ns += t1 - t0;
		ks->total_ns += t2 - t1;
	}
	p->rep->seconds += (double)(hxk_now_ns() - slice_start) / 1e9;
}

static void run_all(struct hxk_runner *R)
{
	uint64_t deadline = hxk_now_ns() + (uint64_t)(R->opt->timeout_s * 1e9);
	for (;;) {
		bool any = false;
		for (uint32_t i = 0; i < R->cfg->npartitions; i++) {
			struct hxk_pstate *p = &R->parts[i];
			for (uint32_t j = 0; j < p->nvcpus && p->active; j++) {
				if (p->v[j].stopped)
					continue;
				any = true;
				run_slice(R, &p->v[j]);
				if (hxk_now_ns() >= deadline)
					R->stopping = true;
				if (R->stopping)
					break;
			}
			if (R->stopping)
				break;
		}
		if (!any || R->stopping)
			break;
	}
	for (uint32_t i = 0; i < R->cfg->npartitions; i++) {
		struct hxk_pstate *p = &R->parts[i];
		if (!p->active)
			continue;
		uint64_t rip = p->v[0].vc->run->s.regs.regs.rip;
		hxk_stop_partition(
		        p, HXK_OUT_TIMEOUT, 0,
		        "still running after %.1f s (vCPU 0 at RIP 0x%llx, last GUEST_SYNC "
		        "%llu)",
		        R->opt->timeout_s, (unsigned long long)rip,
		        (unsigned long long)p->rep->last_sync);
	}
}

/* ---- oracles and trace ------------------------------------------------------- */

#ifdef HXK_HAVE_ORACLE
static void oracle_report(void *ctx, enum hv_invariant inv, uint64_t exit_index, const char *msg)
{
	struct hxk_runner *R = ctx;
	int32_t part = R->cur ? (int32_t)R->cur->p->index : -1;
	(void)exit_index;
	hxk_violation(R, inv, part, "%s", msg);
}
#endif

static int attach_checkers(struct hxk_runner *R, struct hxk_err *err)
{
#ifdef HXK_HAVE_ORACLE
	R->obs = calloc(1, sizeof(*R->obs));
	if (!R->obs)
		return hxk_fail(err, "out of memory for the observer");
	hx_observer_init(R->obs, R->sys->ops, R->sys->ops_ctx);
	hx_observer_install(R->obs, R->sys);
	R->oracle = hx_oracle_new(R->sys, oracle_report, R);
	if (!R->oracle)
		return hxk_fail(err, "out of memory for the oracles");
	R->rep->oracles = true;
#endif
#ifdef HXK_HAVE_TRACE
	if (R->opt->record) {
		char note[HX_TRACE_NOTE_MAX];
		snprintf(note, sizeof(note), "recorded by hx run%s%s",
		         R->opt->single_step ? " --single-step" : "",
		         R->opt->break_ept_foreign ? " --break-ept foreign" : "");
		struct hx_trace_meta meta = {
		        .cfg = R->cfg,
		        .config_name = R->opt->config_name,
		        .note = note,
		        .pool_hpa = R->pool_hpa,
		        .pool_pages = R->pool_pages,
		};
		char msg[256];
		R->tw = hx_trace_writer_open(R->opt->record, &meta, msg, sizeof(msg));
		if (!R->tw)
			return hxk_fail(err, "--record %s: %s", R->opt->record, msg);
	}
#else
	if (R->opt->record)
		return hxk_fail(err, "--record: this hx was built without the trace writer");
#endif
	return 0;
}

static void detach_checkers(struct hxk_runner *R, bool commit)
{
#ifdef HXK_HAVE_TRACE
	if (R->tw) {
		char msg[256];
		R->rep->trace_exits = hx_trace_writer_count(R->tw);
		if (commit && !R->trace_failed) {
			if (hx_trace_writer_commit(R->tw, msg, sizeof(msg)) == 0)
				R->rep->recorded = true;
			else
				hxk_violation(R, HV_INV_TOTAL, -1, "writing the trace failed: %s",
				              msg);
		} else {
			hx_trace_writer_abort(R->tw);
		}
		R->tw = NULL;
	}
#else
	(void)commit;
#endif
#ifdef HXK_HAVE_ORACLE
	if (R->oracle)
		hx_oracle_free(R->oracle);
	if (R->obs && R->sys)
		hx_observer_uninstall(R->obs, R->sys);
	free(R->obs);
	R->oracle = NULL;
	R->obs = NULL;
#endif
}

/* ---- the whole run ----------------------------------------------------------- */

static void cleanup(struct hxk_runner *R)
{
	detach_checkers(R, false);
	if (R->parts) {
		for (uint32_t i = 0; i < R->cfg->npartitions; i++) {
			struct hxk_pstate *p = &R->parts[i];
			hxk_console_flush(p);
			if (p->vm.fd > 0 || p->vm.nvcpus)
				hxk_vm_destroy(&p->vm);
			hxk_slot_plan_free(&p->slots);
			hxk_elf_free(&p->elf);
		}
		hxk_call_reset_free(R);
		free(R->parts);
	}
	if (R->kvm_open)
		hxk_kvm_close(&R->kvm);
	hxk_hostmem_unmap(&R->mem);
	free(R->sys);
}

struct hxk_runner *hxk_open(const struct hv_system_config *cfg, const char *const *images,
                            const struct hxk_options *opt, struct hxk_report *rep,
                            enum hxk_run_status *st, struct hxk_err *err)
{
	struct hxk_runner *R = calloc(1, sizeof(*R));
	struct hxk_err e;
	enum hxk_run_status status = HXK_RUN_BAD_INPUT;
	if (!R) {
		*st = HXK_RUN_ERROR;
		hxk_fail(err, "out of memory");
		return NULL;
	}
	R->t_start = hxk_now_ns();
	memset(rep, 0, sizeof(*rep));
	R->cfg = cfg;
	R->opt = opt;
	R->rep = rep;
	R->out = opt->out ? opt->out : stdout;
	rep->npartitions = cfg->npartitions;
	if (opt->only_partition >= 0 && (uint32_t)opt->only_partition >= cfg->npartitions) {
		hxk_fail(err, "--partition %d: the config has %u partition%s", opt->only_partition,
		         cfg->npartitions, cfg->npartitions == 1 ? "" : "s");
		goto out;
	}

	if (hxk_hostmem_map(&R->mem, cfg->host_mem_size, &e) != 0) {
		hxk_fail(err, "%s", e.msg);
		goto out;
	}
	if (hxk_pool_place(cfg, &R->pool_hpa, &R->pool_pages, &e) != 0) {
		hxk_fail(err, "%s", e.msg);
		goto out;
	}
	hxk_fill_all_canaries(&R->mem, cfg);
	void *pool_mem = hxk_hostmem_ptr(&R->mem, R->pool_hpa, (uint64_t)R->pool_pages << 12);
	if (!pool_mem || hv_pool_init(&R->pool, pool_mem, R->pool_hpa, R->pool_pages) != HV_OK) {
		hxk_fail(err, "the EPT pool does not fit in host memory");
		goto out;
	}
	R->sys = calloc(1, sizeof(*R->sys));
	if (!R->sys) {
		hxk_fail(err, "out of memory");
		status = HXK_RUN_ERROR;
		goto out;
	}
	struct hv_config_diag diag;
	hv_status s = hv_system_init(R->sys, cfg, &hxk_platform_ops, R, &R->pool, &diag);
	if (s != HV_OK) {
		char buf[512];
		if (s == HV_ERR_NOMEM)
			hxk_fail(err,
			         "building the EPTs ran out of pool pages (%u pages in the upper "
			         "half of the hypervisor range)",
			         R->pool_pages);
		else
			hxk_fail(err, "config rejected: %s",
			         hx_format_config_diag(cfg, &diag, buf, sizeof(buf)));
		goto out;
	}
	R->pool_used_seen = R->pool.used;
	if (opt->break_ept_foreign && hxk_break_ept_foreign(R, &e) != 0) {
		hxk_fail(err, "%s", e.msg);
		goto out;
	}

	R->parts = calloc(cfg->npartitions, sizeof(*R->parts));
	if (!R->parts) {
		hxk_fail(err, "out of memory");
		status = HXK_RUN_ERROR;
		goto out;
	}
	for (uint32_t i = 0; i < cfg->npartitions; i++) {
		struct hxk_pstate *p = &R->parts[i];
		p->R = R;
		p->index = i;
		p->vm.fd = -1;
		p->rep = &rep->parts[i];
		snprintf(p->rep->name, sizeof(p->rep->name), "%s", cfg->partitions[i].name);
		p->selected = (opt->only_partition < 0 || (uint32_t)opt->only_partition == i) &&
		              images[i] != NULL;
	}

	if (hxk_kvm_open(&R->kvm, &e) != 0) {
		hxk_fail(err, "%s", e.msg);
		status = HXK_RUN_ERROR;
		goto out;
	}
	R->kvm_open = true;
	for (uint32_t i = 0; i < cfg->npartitions; i++) {
		bool bad;
		if (R->parts[i].selected &&
		    setup_partition(R, &R->parts[i], images[i], err, &bad)) {
			status = bad ? HXK_RUN_BAD_INPUT : HXK_RUN_ERROR;
			goto out;
		}
	}
	if (attach_checkers(R, err) != 0) {
		status = HXK_RUN_BAD_INPUT;
		goto out;
	}
	verify_epts(R, "start");
	*st = HXK_RUN_DONE;
	return R;
out:
	cleanup(R);
	free(R);
	*st = status;
	return NULL;
}

/* One run of every active partition until each stops or the time is up. */
static int go(struct hxk_runner *R, struct hxk_err *err)
{
	struct timer_save ts;
	if (timer_start(&ts, err) != 0)
		return -1;
	R->stopping = false;
	run_all(R);
	timer_stop(&ts);
	return 0;
}

static int call_once(struct hxk_runner *R, struct hxk_call *c, struct hxk_err *err)
{
	struct hxk_err e;
	R->cur_call = c;
	c->end = HXK_CALL_NOT_ENDED;
	if (hxk_call_resolve(&R->parts[0], c, err) != 0)
		return -2;
	if (hxk_call_begin(&R->parts[0], c, &e) != 0) {
		R->parts[0].active = true; /* so the failure is its outcome */
		hxk_stop_partition(&R->parts[0], HXK_OUT_CRASH, 0, "%s", e.msg);
		return 0;
	}
	if (go(R, err) != 0)
		return -1;
	hxk_call_finish(&R->parts[0], c);
	return 0;
}

/* An EFI image's entry point, as UEFI starts a driver (efi_start.h):
 * before the first call and after every reset. Anything but EFI_SUCCESS
 * leaves the image unstarted and the call unmade. */
static int efi_start(struct hxk_runner *R, bool reset, struct hxk_err *err)
{
	struct hxk_pstate *p = &R->parts[0];
	struct hxk_call s;
	memset(&s, 0, sizeof(s));
	s.reset = reset;
	s.address = p->elf.entry;
	s.abi = HXK_ABI_MS;
	s.args[0] = HXK_EFI_HANDLE_GPA;
	s.args[1] = HXK_EFI_SYSTAB_GPA;
	s.nargs = 2;
	int r = call_once(R, &s, err);
	if (r == 0 && s.end == HXK_CALL_NOT_ENDED) {
		/* Timed out, halted or crashed: say where. */
		char *d = p->rep->detail;
		size_t n = strlen(d);
		snprintf(d + n, sizeof(p->rep->detail) - n,
		         "%s(in the image's EFI entry point, "
		         "before the call)",
		         n ? " " : "");
	}
	if (r != 0 || s.end == HXK_CALL_NOT_ENDED)
		return r;
	if (s.end == HXK_CALL_RETURNED && s.result == 0) {
		p->efi_started = true;
		return 0;
	}
	p->active = true; /* so the failure is its outcome */
	if (s.end == HXK_CALL_RETURNED)
		hxk_stop_partition(p, HXK_OUT_FAIL, 0,
		                   "the image's EFI entry point returned 0x%llx, not EFI_SUCCESS: "
		                   "the image did not start",
		                   (unsigned long long)s.result);
	else
		hxk_stop_partition(
		        p, HXK_OUT_FAIL, 0,
		        "the image's EFI entry point faulted (vector %llu, error code "
		        "0x%llx, at RIP 0x%llx, CR2 0x%llx): the image did not start",
		        (unsigned long long)s.fault_vector, (unsigned long long)s.fault_error,
		        (unsigned long long)s.fault_rip, (unsigned long long)s.fault_cr2);
	return 0;
}

int hxk_call_start(struct hxk_runner *R, struct hxk_err *err)
{
	struct hxk_pstate *p = &R->parts[0];
	if (!hxk_efi_image(&p->elf) || p->efi_started)
		return 0;
	int r = efi_start(R, false, err);
	if (r != 0)
		return r;
	if (!p->efi_started) {
		hxk_fail(err, "%s",
		         p->rep->detail[0]
		                 ? p->rep->detail
		                 : "the image's EFI entry point neither returned nor faulted");
		return -2;
	}
	return 0;
}

int hxk_call_run(struct hxk_runner *R, struct hxk_call *c, struct hxk_err *err)
{
	struct hxk_pstate *p = &R->parts[0];
	bool reset = c->reset;
	c->efi_started = false;
	if (hxk_efi_image(&p->elf) && (!p->efi_started || reset)) {
		int r = efi_start(R, reset, err);
		c->efi_started = true; /* its end comes first in the trace */
		if (r != 0 || !p->efi_started) {
			c->end = HXK_CALL_NOT_ENDED;
			return r;
		}
		c->reset = false; /* done by the start */
	}
	int r = call_once(R, c, err);
	c->reset = reset;
	return r;
}

void hxk_close(struct hxk_runner *R)
{
	if (!R)
		return;
	verify_epts(R, "end");
	detach_checkers(R, true);
	R->rep->seconds = (double)(hxk_now_ns() - R->t_start) / 1e9;
	hxk_report_finish(R->rep, R->cfg->npartitions, R->opt);
	cleanup(R);
	free(R);
}

enum hxk_run_status hxk_run(const struct hv_system_config *cfg, const char *const *images,
                            const struct hxk_options *opt, struct hxk_report *rep,
                            struct hxk_err *err)
{
	enum hxk_run_status st;
	struct hxk_runner *R = hxk_open(cfg, images, opt, rep, &st, err);
	if (!R)
		return st;
	if (!opt->call) {
		if (go(R, err) != 0) {
			hxk_close(R);
			return HXK_RUN_ERROR;
		}
	} else {
		/* hx call: the calls one after the other, while each returns or
		 * faults (a fault is the function's, not the sandbox's). */
		for (uint32_t k = 0; k < opt->ncalls; k++) {
			if (k > 0 && opt->call[k - 1].end == HXK_CALL_NOT_ENDED)
				break;
			if (hxk_call_run(R, &opt->call[k], err) != 0) {
				hxk_close(R);
				return HXK_RUN_ERROR;
			}
		}
	}
	hxk_close(R);
	return HXK_RUN_DONE;
}
