/* KVM exits -> core exits (DESIGN.md, "The KVM runner", table), and the
 * core's results back into the vCPU. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hv/ept.h"
#include "hv/hcall.h"
#include "hx/guest_abi.h"
#include "mmio_locate.h"
#include "runner_int.h"

/* Instruction encodings (Intel SDM Vol. 2; AMD APM Vol. 3 for VMMCALL). */
static const uint8_t op_cpuid[] = {0x0f, 0xa2};
static const uint8_t op_vmcall[] = {0x0f, 0x01, 0xc1};
static const uint8_t op_vmmcall[] = {0x0f, 0x01, 0xd9};
#define OP_HLT 0xf4

/* DR6.BS: single-step trap; DR6.B0..B3: breakpoint matched (SDM Vol. 3B,
 * 18.2.3). */
#define DR6_BS (1ull << 14)

/* ---- register state -------------------------------------------------- */

static void regs_to_gpr(const struct kvm_regs *r, uint64_t g[HV_GPR_COUNT])
{
	g[HV_RAX] = r->rax;
	g[HV_RCX] = r->rcx;
	g[HV_RDX] = r->rdx;
	g[HV_RBX] = r->rbx;
	g[HV_RSP] = r->rsp;
	g[HV_RBP] = r->rbp;
	g[HV_RSI] = r->rsi;
	g[HV_RDI] = r->rdi;
	g[HV_R8] = r->r8;
	g[HV_R9] = r->r9;
	g[HV_R10] = r->r10;
	g[HV_R11] = r->r11;
	g[HV_R12] = r->r12;
	g[HV_R13] = r->r13;
	g[HV_R14] = r->r14;
	g[HV_R15] = r->r15;
}

static void gpr_to_regs(const uint64_t g[HV_GPR_COUNT], struct kvm_regs *r)
{
	r->rax = g[HV_RAX];
	r->rcx = g[HV_RCX];
	r->rdx = g[HV_RDX];
	r->rbx = g[HV_RBX];
	r->rsp = g[HV_RSP];
	r->rbp = g[HV_RBP];
	r->rsi = g[HV_RSI];
	r->rdi = g[HV_RDI];
	r->r8 = g[HV_R8];
	r->r9 = g[HV_R9];
	r->r10 = g[HV_R10];
	r->r11 = g[HV_R11];
	r->r12 = g[HV_R12];
	r->r13 = g[HV_R13];
	r->r14 = g[HV_R14];
	r->r15 = g[HV_R15];
}

/* The exit record from the vCPU's sync regs: no extra ioctl. */
static void fill_exit(struct hxk_vstate *v, uint32_t reason, struct hv_exit *ex)
{
	const struct kvm_sync_regs *s = &v->vc->run->s.regs;
	memset(ex, 0, sizeof(*ex));
	ex->reason = reason;
	ex->partition = v->p->index;
	ex->vcpu = v->index;
	regs_to_gpr(&s->regs, ex->st.gpr);
	ex->st.rip = s->regs.rip;
	ex->st.rflags = s->regs.rflags;
	ex->st.cr0 = s->sregs.cr0;
	ex->st.cr3 = s->sregs.cr3;
	ex->st.cr4 = s->sregs.cr4;
	ex->st.efer = s->sregs.efer;
	/* CPL is SS.DPL (SDM Vol. 3A, 5.5; on AMD KVM reports the VMCB CPL
	 * there). */
	ex->st.cpl = s->sregs.ss.dpl & 3;
}

/* Write the core's GPRs, RIP and RFLAGS back (applied at the next KVM_RUN). */
static void apply_state(struct hxk_vstate *v, const struct hv_vcpu_state *st)
{
	struct kvm_run *run = v->vc->run;
	gpr_to_regs(st->gpr, &run->s.regs.regs);
	run->s.regs.regs.rip = st->rip;
	run->s.regs.regs.rflags = st->rflags;
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

static void inject(struct hxk_vstate *v, const struct hv_result *res)
{
	struct hxk_err err;
	if (hxk_vcpu_inject(v->vc, res->vector, res->has_error_code, res->error_code, &err) != 0)
		hxk_stop_partition(v->p, HXK_OUT_CRASH, 0, "%s", err.msg);
}

/* Finish what KVM left pending (I/O, MMIO or MSR completion) without
 * running guest code, so the state can be inspected or overwritten. An
 * instruction with several memory accesses (read-modify-write on MMIO)
 * goes on to its next access: those are completed with zeros and never
 * reach a device; *extra (may be NULL) counts them. */
static bool complete_pending(struct hxk_vstate *v, uint32_t *extra)
{
	struct hxk_err err;
	struct kvm_run *run = v->vc->run;
	if (extra)
		*extra = 0;
	for (int i = 0; i < 8; i++) {
		int r = hxk_vcpu_complete_pending(v->vc, &err);
		if (r == 0)
			return true;
		if (r < 0) {
			hxk_stop_partition(v->p, HXK_OUT_CRASH, 0, "%s", err.msg);
			return false;
		}
		/* Single-stepping: the completed instruction traps at once. */
		if (run->exit_reason == KVM_EXIT_DEBUG && (run->debug.arch.dr6 & DR6_BS)) {
			v->steps++;
			return true;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
		} else if (run->exit_reason != KVM_EXIT_IO) {
			hxk_stop_partition(v->p, HXK_OUT_CRASH, 0,
			                   "completing an access made KVM exit with %s",
			                   hxk_exit_reason_name(run->exit_reason));
			return false;
		}
		if (extra)
			(*extra)++;
	}
	hxk_stop_partition(v->p, HXK_OUT_CRASH, 0,
	                   "an instruction kept making MMIO/IO exits while being completed");
	return false;
}

static void halt(struct hxk_vstate *v, const struct hv_result *res, const char *what)
{
	hxk_stop_partition(v->p, HXK_OUT_HALTED, res->halt_reason, "the core halted it on %s",
	                   what);
}

/* ---- the core round trip ----------------------------------------------- */

#ifdef HXK_HAVE_ORACLE
static uint64_t oracle_checks(struct hxk_runner *R)
{
	struct hx_oracle_stats st;
	hx_oracle_stats(R->oracle, &st);
	return st.checks;
}
#endif

void hxk_core_exit(struct hxk_runner *R, struct hxk_vstate *v, struct hv_exit *ex,
                   struct hv_result *res)
{
	struct hxk_pstate *p = v->p;
	struct hxk_kind_stats *ks = &R->rep->stats[ex->reason < HV_EXIT_COUNT ? ex->reason : 0];
	(void)p;
	R->cur = v;
	R->blame_index = R->exit_index;
	struct hv_exit in = *ex;
	uint64_t t0 = hxk_now_ns(), t1, t2, t3, t4;
#ifdef HXK_HAVE_ORACLE
	uint64_t checks0 = oracle_checks(R);
	hx_observer_begin_exit(R->obs);
	hx_oracle_before(R->oracle, R->sys, ex);
#endif
	t1 = hxk_now_ns();
	hv_handle_exit(R->sys, ex, res);
	t2 = hxk_now_ns();
#ifdef HXK_HAVE_ORACLE
	struct hx_obs_view view = hx_observer_view(R->obs);
	hx_oracle_after(R->oracle, R->sys, R->exit_index, ex, res, &view);
	uint64_t dchecks = oracle_checks(R) - checks0;
	p->rep->checks += dchecks;
	R->rep->total_checks += dchecks;
#endif
	t3 = hxk_now_ns();
#ifdef HXK_HAVE_TRACE
	if (R->tw && !R->trace_failed) {
#ifdef HXK_HAVE_ORACLE
		const struct hx_obs_view *lv = &view;
#else
		const struct hx_obs_view *lv = NULL;
#endif
		if (hx_trace_writer_add(R->tw, &in, lv, res, ex) != 0) {
			R->trace_failed = true;
			hxk_violation(R, HV_INV_TOTAL, -1,
			              "recording stopped at exit %llu: the trace writer refused it "
			              "(limit of %u exits or I/O error)",
			              (unsigned long long)R->exit_index, HX_TRACE_MAX_EXITS);
		}
	}
#endif
	(void)in;
	t4 = hxk_now_ns();
	R->cur = NULL;
	R->exit_index++;
	R->rep->total_exits++;
	p->rep->exits++;
	ks->oracle_ns += (t1 - t0) + (t3 - t2);
	ks->handler_ns += t2 - t1;
	ks->record_ns += t4 - t3;
	/* A handler that allocated from the pool may have changed any EPT:
	 * rebuild every partition's memslots from its EPT before it runs on. */
	if (R->pool.used != R->pool_used_seen) {
		R->pool_used_seen = R->pool.used;
		for (uint32_t i = 0; i < R->cfg->npartitions; i++)
			R->parts[i].slots_dirty = true;
	}
}

/* ---- CPUID / VMCALL / VMMCALL / HLT at a known instruction --------------- */

/* Handle the instruction at RIP as exit `reason` of `len` bytes: RIP still
 * points at it (hardware breakpoint before it, or single-step found it). */
/* Returns the core's action. */
static uint32_t emulate_at_rip(struct hxk_runner *R, struct hxk_vstate *v, uint32_t reason,
                               uint32_t len)
{
	struct hv_exit ex;
	struct hv_result res;
	fill_exit(v, reason, &ex);
	ex.insn_len = len;
	uint64_t nr = ex.st.gpr[HV_RAX];
	hxk_count(v->p, reason);
	hxk_core_exit(R, v, &ex, &res);
	switch (res.action) {
	case HV_ACT_RESUME:
	case HV_ACT_RETRY:
		apply_state(v, &ex.st);
		if (reason == HV_EXIT_VMCALL &&
		    (nr == HV_HC_YIELD || ex.st.gpr[HV_RAX] == (uint64_t)(int64_t)HV_HC_EAGAIN))
			v->yield = true; /* let the peer partition run */
		break;
	case HV_ACT_INJECT:
		apply_state(v, &ex.st);
		inject(v, &res);
		break;
	default:
		halt(v, &res, hv_exit_reason_str(reason));
		break;
	}
	return res.action;
}

/* Read up to n instruction bytes at the vCPU's RIP. */
static uint32_t bytes_at_rip(struct hxk_vstate *v, uint8_t *buf, uint32_t n)
{
	struct hxk_paging pg;
	hxk_paging_of(v, &pg);
	return hxk_read_linear(hxk_gpa_read, v->p, &pg, v->vc->run->s.regs.regs.rip, buf, n);
}

/* Which special instruction is at RIP: reason and length, or false. */
static bool special_at_rip(struct hxk_vstate *v, uint32_t *reason, uint32_t *len)
{
	uint8_t b[3];
	uint32_t n = bytes_at_rip(v, b, sizeof(b));
	if (n >= 1 && b[0] == OP_HLT) {
		*reason = HV_EXIT_HLT;
		*len = 1;
		return true;
	}
	if (n >= 2 && memcmp(b, op_cpuid, 2) == 0) {
		*reason = HV_EXIT_CPUID;
		*len = 2;
		return true;
	}
	if (n >= 3 && (memcmp(b, op_vmcall, 3) == 0 || memcmp(b, op_vmmcall, 3) == 0)) {
		*reason = HV_EXIT_VMCALL;
		*len = 3;
		return true;
	}
	return false;
}

void hxk_step_prerun(struct hxk_runner *R, struct hxk_vstate *v)
{
	for (uint32_t i = 0; i < HXK_STEP_CHAIN && !v->stopped && !v->yield; i++) {
		uint32_t reason, len;
		if (!special_at_rip(v, &reason, &len))
			return;
		/* Only a completed instruction moves on; an injected exception
		 * must be delivered by KVM_RUN first (RIP stays at it). */
		uint64_t t0 = hxk_now_ns();
		uint32_t action = emulate_at_rip(R, v, reason, len);
		struct hxk_kind_stats *ks = &R->rep->stats[reason];
		ks->count++;
		ks->total_ns += hxk_now_ns() - t0;
		if (action != HV_ACT_RESUME)
			return;
	}
}

static void on_debug(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	uint64_t pc = run->debug.arch.pc;
	uint64_t dr6 = run->debug.arch.dr6;
	if (R->opt->single_step && (dr6 & DR6_BS)) {
		v->steps++;
		hxk_count(p, HXK_K_STEP);
		return; /* the next pre-run check looks at the new RIP */
	}
	static const uint32_t site_reason[HXK_SITES] = {HV_EXIT_CPUID, HV_EXIT_VMCALL,
	                                                HV_EXIT_VMCALL};
	for (int s = 0; s < HXK_SITES; s++) {
		if (!p->has_site[s] || pc != p->site[s] || !(dr6 & (1ull << p->site_dr[s])))
			continue;
		/* The guest may have rewritten its code: trust the bytes. */
		uint32_t reason, len;
		if (!special_at_rip(v, &reason, &len) || reason != site_reason[s]) {
			hxk_stop_partition(
			        p, HXK_OUT_CRASH, 0,
			        "breakpoint at 0x%llx: the instruction there is no longer "
			        "the expected %s",
			        (unsigned long long)pc,
			        site_reason[s] == HV_EXIT_CPUID ? "CPUID" : "VMCALL/VMMCALL");
			return;
		}
		emulate_at_rip(R, v, reason, len);
		return;
	}
	hxk_count(p, HXK_K_OTHER);
	if (R->opt->verbose)
		fprintf(stderr, "hx run: %s vCPU %u: debug exit at 0x%llx (dr6 0x%llx) ignored\n",
		        R->cfg->partitions[p->index].name, v->index, (unsigned long long)pc,
		        (unsigned long long)dr6);
}

/* ---- MSRs ----------------------------------------------------------------- */

static void on_msr(struct hxk_runner *R, struct hxk_vstate *v, bool is_write)
{
	struct kvm_run *run = v->vc->run;
	struct hv_exit ex;
	struct hv_result res;
	uint32_t reason = is_write ? HV_EXIT_WRMSR : HV_EXIT_RDMSR;
	fill_exit(v, reason, &ex);
	ex.insn_len = 2;
	/* KVM reports the access it intercepted; the registers say the same
	 * (ECX = index, EDX:EAX = value; SDM Vol. 2B, RDMSR/WRMSR). */
	ex.st.gpr[HV_RCX] = (ex.st.gpr[HV_RCX] & ~0xffffffffull) | run->msr.index;
	hxk_count(v->p, reason);
	hxk_core_exit(R, v, &ex, &res);
	switch (res.action) {
	case HV_ACT_RESUME:
		/* KVM completes the instruction: RDMSR loads EDX:EAX from
		 * msr.data, both advance RIP by 2. */
		run->msr.error = 0;
		if (!is_write)
			run->msr.data =
			        ex.st.gpr[HV_RDX] << 32 | (ex.st.gpr[HV_RAX] & 0xffffffffull);
		if (res.msr.valid) {
			int r = hxk_vcpu_set_msr(v->vc, res.msr.msr, res.msr.value);
			if (r != 0)
				hxk_stop_partition(
				        v->p, HXK_OUT_CRASH, 0,
				        "KVM refused to apply MSR 0x%x = 0x%llx granted by "
				        "the core",
				        res.msr.msr, (unsigned long long)res.msr.value);
		}
		break;
	case HV_ACT_INJECT:
		if (res.vector == HV_VEC_GP && res.has_error_code && res.error_code == 0) {
			run->msr.error = 1; /* KVM injects #GP(0), RIP unchanged */
			break;
		}
		if (!complete_pending(v, NULL))
			return;
		apply_state(v, &ex.st);
		inject(v, &res);
		break;
	case HV_ACT_RETRY:
		if (!complete_pending(v, NULL))
			return;
		apply_state(v, &ex.st);
		break;
	default:
		halt(v, &res, hv_exit_reason_str(reason));
		break;
	}
}

/* ---- EPT violations: MMIO and fetch ----------------------------------------- */

static uint8_t ept_perm(struct hxk_runner *R, uint32_t part, uint64_t gpa)
{
	struct hv_ept_map m;
	if (hv_ept_translate(R->sys->pool, R->sys->parts[part].ept_root, gpa, &m) != HV_OK ||
	    !m.present)
		return 0;
	return m.perm;
}

static uint64_t le_bytes(const uint8_t *b, uint32_t n)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < n && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint64_t trunc_size(uint64_t v, uint32_t size)
{
	return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

struct la_ctx {
	struct hxk_vstate *v;
	struct hxk_paging pg;
};

static bool la_to_gpa(void *ctx, uint64_t la, uint64_t *gpa)
{
	struct la_ctx *c = ctx;
	return hxk_gva_to_gpa(hxk_gpa_read, c->v->p, &c->pg, la, gpa);
}

static void hex_bytes(char *out, size_t outlen, const uint8_t *b, uint32_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (uint32_t i = 0; i < n && o + 4 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%02x", i ? " " : "", b[i]);
}

/* The longest run of readable guest bytes ending at rip, at most want. */
static uint32_t read_before(struct hxk_vstate *v, const struct hxk_paging *pg, uint64_t rip,
                            uint8_t *buf, uint32_t want)
{
	uint32_t have = 0;
	while (have < want) {
		uint64_t end = rip - have;
		uint32_t chunk = (uint32_t)(end & 4095) ? (uint32_t)(end & 4095) : 4096;
		if (chunk > want - have)
			chunk = want - have;
		uint8_t *dst = buf + (want - have - chunk);
		if (hxk_read_linear(hxk_gpa_read, v->p, pg, end - chunk, dst, chunk) != chunk)
			break;
		have += chunk;
	}
	if (have < want)
		memmove(buf, buf + (want - have), have);
	return have;
}

#define LOCATE_MAX 4096u

/* A string store KVM reported has advanced RDI (RSI for MOVS) by one
 * element and, with REP, decremented RCX: give the core the state before
 * the element, as a hardware EPT violation would (SDM Vol. 2B, STOS/MOVS:
 * the index registers move by the element size, down when RFLAGS.DF). */
static void rewind_string(const struct hxk_located *loc, uint8_t size, struct hv_exit *ex)
{
	uint64_t back = (ex->st.rflags & (1ull << 10)) ? size : (uint64_t)-size;
	ex->st.gpr[HV_RDI] += back;
	if (loc->string_movs)
		ex->st.gpr[HV_RSI] += back;
	if (loc->string_rep)
		ex->st.gpr[HV_RCX] += 1;
}

/* Where did the store KVM already executed start? */
static bool locate_store(struct hxk_runner *R, struct hxk_vstate *v,
                         const struct hxk_mmio_access *acc, uint64_t rip, uint64_t *start,
                         struct hv_exit *ex)
{
	struct hxk_pstate *p = v->p;
	struct la_ctx c = {.v = v};
	hxk_paging_of(v, &c.pg);
	/* Known instruction boundaries: where the vCPU last entered the
	 * guest, and the code symbol before RIP. */
	uint64_t bounds[2];
	uint32_t nb = 0;
	uint64_t lowest = rip - 15;
	if (v->entry_rip < rip && rip - v->entry_rip <= LOCATE_MAX)
		bounds[nb++] = v->entry_rip;
	uint64_t sym;
	if (hxk_elf_code_boundary(&p->elf, rip - 1, &sym) && rip - sym <= LOCATE_MAX)
		bounds[nb++] = sym;
	for (uint32_t i = 0; i < nb; i++)
		if (bounds[i] < lowest)
			lowest = bounds[i];
	uint8_t *code = R->code;
	_Static_assert(sizeof(R->code) >= LOCATE_MAX, "code buffer");
	uint32_t n = read_before(v, &c.pg, rip, code, (uint32_t)(rip - lowest));
	uint64_t gpr[HV_GPR_COUNT];
	regs_to_gpr(&v->vc->run->s.regs.regs, gpr);
	uint8_t fwd[15];
	uint32_t nfwd = hxk_read_linear(hxk_gpa_read, p, &c.pg, rip, fwd, sizeof(fwd));
	struct hxk_locate_in in = {
	        .code = code,
	        .code_len = n,
	        .fwd = fwd,
	        .fwd_len = nfwd,
	        .rip = rip,
	        .bounds = bounds,
	        .nbounds = nb,
	        .gpr = gpr,
	        .tr = la_to_gpa,
	        .tr_ctx = &c,
	        .kvm = *acc,
	};
	struct hxk_located loc;
	hxk_locate_store(&in, &loc);
	if (loc.how == HXK_LOC_NONE) {
		char hex[64];
		uint32_t k = n < 15 ? n : 15;
		hex_bytes(hex, sizeof(hex), code + (n - k), k);
		hxk_violation(R, HV_INV_DECODE_EQ, (int32_t)p->index,
		              "KVM emulated a %u-byte store of 0x%llx to GPA 0x%llx ending at RIP "
		              "0x%llx, but no instruction ending there decodes to it (bytes before "
		              "RIP: %s)",
		              acc->size, (unsigned long long)acc->data,
		              (unsigned long long)acc->gpa, (unsigned long long)rip, hex);
		return false;
	}
	if (loc.prod_mismatch) {
		char hex[64], prod[96];
		hex_bytes(hex, sizeof(hex), code + (n - loc.len), loc.len);
		if (loc.prod == HV_DEC_TRUNCATED)
			snprintf(prod, sizeof(prod), "wants more than those %u bytes", loc.len);
		else
			snprintf(prod, sizeof(prod), "reads a %u-byte %s of %u bytes", loc.insn.len,
			         loc.insn.kind <= HV_INSN_STORE_IMM ? "store" : "load",
			         loc.insn.mem_size);
		hxk_violation(
		        R, HV_INV_DECODE_EQ, (int32_t)p->index,
		        "store at 0x%llx (%s%s%s): KVM wrote %u bytes (0x%llx) to GPA 0x%llx; "
		        "the production decoder %s",
		        (unsigned long long)loc.start, hex, loc.ref_name[0] ? ", " : "",
		        loc.ref_name, acc->size, (unsigned long long)acc->data,
		        (unsigned long long)acc->gpa, prod);
	}
	*start = loc.start;
	if (loc.string_op)
		rewind_string(&loc, acc->size, ex);
	return true;
}

static void compare_completed_load(struct hxk_runner *R, struct hxk_vstate *v,
                                   const struct hv_exit *ex, uint64_t in_rip)
{
	const struct kvm_regs *r = &v->vc->run->s.regs.regs;
	uint64_t kvm_gpr[HV_GPR_COUNT];
	regs_to_gpr(r, kvm_gpr);
	if (r->rip != ex->st.rip)
		hxk_violation(R, HV_INV_DECODE_EQ, (int32_t)v->p->index,
		              "MMIO load at 0x%llx: KVM resumes at 0x%llx, the core at 0x%llx "
		              "(instruction length differs)",
		              (unsigned long long)in_rip, (unsigned long long)r->rip,
		              (unsigned long long)ex->st.rip);
	for (int i = 0; i < HV_GPR_COUNT; i++) {
		if (kvm_gpr[i] == ex->st.gpr[i])
			continue;
		hxk_violation(R, HV_INV_DECODE_EQ, (int32_t)v->p->index,
		              "MMIO load: after KVM's emulation GPR %d = 0x%llx, after the core's "
		              "0x%llx",
		              i, (unsigned long long)kvm_gpr[i], (unsigned long long)ex->st.gpr[i]);
	}
}

static void on_mmio(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	bool is_write = run->mmio.is_write;
	struct hxk_mmio_access acc = {
	        .gpa = run->mmio.phys_addr,
	        .size = (uint8_t)run->mmio.len,
	        .data = is_write ? le_bytes(run->mmio.data, run->mmio.len) : 0,
	};
	struct hv_exit ex;
	struct hv_result res;
	fill_exit(v, HV_EXIT_EPT_VIOLATION, &ex);
	uint64_t kvm_rip = ex.st.rip;
	ex.gpa = acc.gpa;
	ex.qual = (is_write ? HV_QUAL_WRITE : HV_QUAL_READ) |
	          (uint64_t)ept_perm(R, p->index, acc.gpa) << HV_QUAL_PERM_SHIFT;
	hxk_count(p, HV_EXIT_EPT_VIOLATION);
	p->rep->ept_kinds[is_write ? HXK_EPT_MMIO_WRITE : HXK_EPT_MMIO_READ]++;
	if (is_write) {
		uint64_t start;
		if (!locate_store(R, v, &acc, kvm_rip, &start, &ex)) {
			hxk_stop_partition(p, HXK_OUT_CRASH, 0,
			                   "cannot hand the MMIO store at RIP 0x%llx to the core "
			                   "(instruction not found; see DECODE-EQ)",
			                   (unsigned long long)kvm_rip);
			return;
		}
		ex.st.rip = start;
	}
	uint64_t in_rip = ex.st.rip;
	hxk_core_exit(R, v, &ex, &res);

	/* DECODE-EQ: the core's access must be KVM's. */
	if (res.has_mmio &&
	    (res.mmio.gpa != acc.gpa || res.mmio.size != acc.size ||
	     !!res.mmio.is_write != is_write ||
	     (is_write && trunc_size(res.mmio.data, acc.size) != trunc_size(acc.data, acc.size)))) {
		char kd[40] = "", cd[40] = "";
		if (is_write)
			snprintf(kd, sizeof(kd), " of 0x%llx", (unsigned long long)acc.data);
		if (res.mmio.is_write)
			snprintf(cd, sizeof(cd), " of 0x%llx", (unsigned long long)res.mmio.data);
		hxk_violation(R, HV_INV_DECODE_EQ, (int32_t)p->index,
		              "MMIO at RIP 0x%llx: KVM did a %u-byte %s%s at GPA 0x%llx, the core "
		              "decoded a %u-byte %s%s at GPA 0x%llx",
		              (unsigned long long)in_rip, acc.size, is_write ? "store" : "load", kd,
		              (unsigned long long)acc.gpa, res.mmio.size,
		              res.mmio.is_write ? "store" : "load", cd,
		              (unsigned long long)res.mmio.gpa);
	}

	switch (res.action) {
	case HV_ACT_RESUME:
		if (is_write) {
			if (ex.st.rip != kvm_rip)
				hxk_violation(
				        R, HV_INV_DECODE_EQ, (int32_t)p->index,
				        "MMIO store at 0x%llx: the core resumes at 0x%llx, KVM at "
				        "0x%llx",
				        (unsigned long long)in_rip, (unsigned long long)ex.st.rip,
				        (unsigned long long)kvm_rip);
			break;
		}
		/* Hand KVM the value the core read and let it finish the load;
		 * then the two results must agree. */
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		for (uint32_t i = 0; i < acc.size && i < 8; i++)
			run->mmio.data[i] = (uint8_t)(res.mmio.data >> (8 * i));
		uint32_t extra;
		if (!complete_pending(v, &extra))
			return;
		if (extra)
			hxk_violation(
			        R, HV_INV_DECODE_EQ, (int32_t)p->index,
			        "MMIO load at 0x%llx: the core emulated it as a plain load, but "
			        "KVM's emulation of the instruction made %u more access%s",
			        (unsigned long long)in_rip, extra, extra == 1 ? "" : "es");
		compare_completed_load(R, v, &ex, in_rip);
		break;
	case HV_ACT_RETRY:
	case HV_ACT_INJECT:
		if (!complete_pending(v, NULL))
			return;
		apply_state(v, &ex.st); /* RIP back at the instruction */
		if (res.action == HV_ACT_INJECT)
			inject(v, &res);
		break;
	default:
		halt(v, &res, "an EPT violation");
		break;
	}
}

/* An instruction fetch from a GPA without a memslot: KVM tries to emulate,
 * cannot read the instruction, and reports an emulation failure with RIP
 * at the target (DESIGN.md, "KVM facts"). */
static void on_internal_error(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	uint64_t rip = run->s.regs.regs.rip;
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		hxk_count(p, HXK_K_OTHER);
		hxk_stop_partition(p, HXK_OUT_CRASH, 0,
		                   "KVM internal error, suberror %u, at RIP 0x%llx (vCPU %u)",
		                   run->internal.suberror, (unsigned long long)rip, v->index);
		return;
	}
	struct hxk_paging pg;
	hxk_paging_of(v, &pg);
	uint64_t gpa;
	if (!hxk_gva_to_gpa(hxk_gpa_read, p, &pg, rip, &gpa)) {
		hxk_count(p, HXK_K_OTHER);
		hxk_stop_partition(p, HXK_OUT_CRASH, 0,
		                   "KVM emulation failure at RIP 0x%llx, which the guest's page "
		                   "tables do not map",
		                   (unsigned long long)rip);
		return;
	}
	if (hxk_slot_find(&p->slots, gpa)) {
		uint8_t b[15];
		char hex[64];
		uint32_t n = bytes_at_rip(v, b, sizeof(b));
		hex_bytes(hex, sizeof(hex), b, n);
		hxk_count(p, HXK_K_OTHER);
		hxk_stop_partition(p, HXK_OUT_CRASH, 0,
		                   "KVM could not emulate the instruction at RIP 0x%llx (%s)",
		                   (unsigned long long)rip, hex);
		return;
	}
	struct hv_exit ex;
	struct hv_result res;
	fill_exit(v, HV_EXIT_EPT_VIOLATION, &ex);
	ex.gpa = gpa;
	ex.gla = rip;
	ex.qual = HV_QUAL_FETCH | HV_QUAL_GLA_VALID |
	          (uint64_t)ept_perm(R, p->index, gpa) << HV_QUAL_PERM_SHIFT;
	hxk_count(p, HV_EXIT_EPT_VIOLATION);
	p->rep->ept_kinds[HXK_EPT_FETCH]++;
	hxk_core_exit(R, v, &ex, &res);
	switch (res.action) {
	case HV_ACT_INJECT:
		apply_state(v, &ex.st);
		inject(v, &res);
		break;
	case HV_ACT_RESUME:
	case HV_ACT_RETRY:
		/* Nothing was mapped, so the fetch faults again: bounded by the
		 * exit budget. */
		apply_state(v, &ex.st);
		break;
	default:
		halt(v, &res, "an instruction fetch");
		break;
	}
}

/* ---- port I/O, HLT, shutdown, failed entry -------------------------------- */

static void on_io(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	if (run->io.data_offset + (uint64_t)run->io.size * run->io.count > v->vc->run_size) {
		hxk_stop_partition(v->p, HXK_OUT_CRASH, 0, "KVM_EXIT_IO data outside the run page");
		return;
	}
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == HX_UCALL_PORT &&
	    run->io.size == 4 && run->io.count == 1) {
		uint32_t gpa;
		memcpy(&gpa, data, sizeof(gpa));
		hxk_count(v->p, HXK_K_UCALL);
		hxk_handle_ucall(R, v, gpa);
		return;
	}
	/* Any other port: the core contains it. Exit qualification as for a
	 * VMX I/O exit (SDM Vol. 3C, Table 28-5): size-1, direction (1 = IN),
	 * string, port in bits 31:16. */
	struct hv_exit ex;
	struct hv_result res;
	fill_exit(v, HV_EXIT_IO, &ex);
	ex.qual = (uint64_t)(run->io.size - 1) | (run->io.direction == KVM_EXIT_IO_IN ? 8u : 0u) |
	          (run->io.count > 1 ? 16u : 0u) | (uint64_t)run->io.port << 16;
	hxk_count(v->p, HV_EXIT_IO);
	hxk_core_exit(R, v, &ex, &res);
	switch (res.action) {
	case HV_ACT_HALT:
		halt(v, &res, "port I/O");
		break;
	case HV_ACT_RESUME:
		/* KVM completes it: OUT goes nowhere, IN reads zeros. */
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset((uint8_t *)run + run->io.data_offset, 0,
			       (size_t)run->io.size * run->io.count);
		break;
	default:
		if (!complete_pending(v, NULL))
			return;
		apply_state(v, &ex.st);
		if (res.action == HV_ACT_INJECT)
			inject(v, &res);
		break;
	}
}

static void on_simple(struct hxk_runner *R, struct hxk_vstate *v, uint32_t reason, const char *what)
{
	struct hv_exit ex;
	struct hv_result res;
	fill_exit(v, reason, &ex);
	if (reason == HV_EXIT_HLT) {
		/* KVM has completed the HLT; the exit record has RIP at it. */
		ex.st.rip -= 1;
		ex.insn_len = 1;
	}
	hxk_count(v->p, reason);
	hxk_core_exit(R, v, &ex, &res);
	if (res.action == HV_ACT_HALT) {
		halt(v, &res, what);
		return;
	}
	/* After a shutdown or failed entry the vCPU cannot go on whatever the
	 * core says; after HLT nothing would wake it. */
	hxk_stop_partition(v->p, HXK_OUT_CRASH, 0, "%s, and the core answered %s instead of halt",
	                   what, hv_action_str(res.action));
}

static void dispatch_kvm_exit(struct hxk_runner *R, struct hxk_vstate *v);

/* Single-step: KVM finishes an I/O or MSR instruction at the next KVM_RUN;
 * finish it now, so the check before that run sees the next instruction. */
static void step_complete(struct hxk_vstate *v, uint32_t kvm_reason)
{
	if (v->stopped)
		return;
	if (kvm_reason == KVM_EXIT_IO || kvm_reason == KVM_EXIT_X86_RDMSR ||
	    kvm_reason == KVM_EXIT_X86_WRMSR || kvm_reason == KVM_EXIT_MMIO)
		complete_pending(v, NULL);
}

void hxk_handle_kvm_exit(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	uint32_t kvm_reason = run->exit_reason;
	dispatch_kvm_exit(R, v);
	if (R->opt->single_step)
		step_complete(v, kvm_reason);
}

static void dispatch_kvm_exit(struct hxk_runner *R, struct hxk_vstate *v)
{
	struct kvm_run *run = v->vc->run;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		on_debug(R, v);
		break;
	case KVM_EXIT_X86_RDMSR:
		on_msr(R, v, false);
		break;
	case KVM_EXIT_X86_WRMSR:
		on_msr(R, v, true);
		break;
	case KVM_EXIT_MMIO:
		on_mmio(R, v);
		break;
	case KVM_EXIT_IO:
		on_io(R, v);
		break;
	case KVM_EXIT_HLT:
		on_simple(R, v, HV_EXIT_HLT, "HLT");
		break;
	case KVM_EXIT_SHUTDOWN:
		on_simple(R, v, HV_EXIT_TRIPLE_FAULT, "a shutdown (triple fault)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		on_simple(R, v, HV_EXIT_INVALID_STATE, "a failed VM entry");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		on_internal_error(R, v);
		break;
	case KVM_EXIT_INTR:
		hxk_count(v->p, HXK_K_INTR);
		break;
	default:
		hxk_count(v->p, HXK_K_OTHER);
		hxk_stop_partition(v->p, HXK_OUT_CRASH, 0, "unexpected %s (%u) at RIP 0x%llx",
		                   hxk_exit_reason_name(run->exit_reason), run->exit_reason,
		                   (unsigned long long)run->s.regs.regs.rip);
		break;
	}
}
