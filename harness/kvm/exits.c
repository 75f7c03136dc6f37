/* One KVM exit in, its meaning out (DESIGN.md, "The KVM runner", table):
 * hxk_exit_translate turns it into an hv_exit for the core (or a ucall, or
 * a runner-only event), hxk_exit_apply puts the core's result back into
 * the vCPU. Neither decides anything about the run: what they find (a
 * DECODE-EQ difference, a vCPU that cannot go on) goes into the struct
 * hxk_exit as findings and a verdict, and the exit path (exit_path.c)
 * acts on them. */
#include <errno.h>
#include <stdarg.h>
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

/* ---- findings and verdicts ------------------------------------------------ */

static void stop(struct hxk_exit *x, enum hxk_outcome o, uint32_t halt_reason, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void stop(struct hxk_exit *x, enum hxk_outcome o, uint32_t halt_reason, const char *fmt, ...)
{
	if (x->verdict.next == HXK_NEXT_STOP)
		return; /* the first reason stands */
	x->verdict.next = HXK_NEXT_STOP;
	x->verdict.outcome = o;
	x->verdict.halt_reason = halt_reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->verdict.why, sizeof(x->verdict.why), fmt, ap);
	va_end(ap);
}

static void finding(struct hxk_exit *x, enum hv_invariant inv, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void finding(struct hxk_exit *x, enum hv_invariant inv, const char *fmt, ...)
{
	if (x->nfindings == HXK_MAX_FINDINGS)
		return;
	struct hxk_finding *f = &x->findings[x->nfindings++];
	f->inv = inv;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

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

static void inject(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	struct hxk_err err;
	if (hxk_vcpu_inject(v->vc, res->vector, res->has_error_code, res->error_code, &err) != 0)
		stop(x, HXK_OUT_CRASH, 0, "%s", err.msg);
}

/* Finish what KVM left pending (I/O, MMIO or MSR completion) without
 * running guest code, so the state can be inspected or overwritten. An
 * instruction with several memory accesses (read-modify-write on MMIO)
 * goes on to its next access: those are completed with zeros and never
 * reach a device; *extra (may be NULL) counts them. */
static bool complete_pending(struct hxk_vstate *v, struct hxk_exit *x, uint32_t *extra)
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
			stop(x, HXK_OUT_CRASH, 0, "%s", err.msg);
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
			stop(x, HXK_OUT_CRASH, 0, "completing an access made KVM exit with %s",
			     hxk_exit_reason_name(run->exit_reason));
			return false;
		}
		if (extra)
			(*extra)++;
	}
	stop(x, HXK_OUT_CRASH, 0, "an instruction kept making MMIO/IO exits while being completed");
	return false;
}

static void halt(struct hxk_exit *x, const struct hv_result *res, const char *what)
{
	stop(x, HXK_OUT_HALTED, res->halt_reason, "the core halted it on %s", what);
}

/* ---- CPUID / VMCALL / VMMCALL / HLT at a known instruction --------------- */

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

/* The instruction at RIP as exit `reason` of `len` bytes: RIP still points
 * at it (hardware breakpoint before it, or single-step found it). */
static void at_rip(struct hxk_vstate *v, struct hxk_exit *x, uint32_t reason, uint32_t len)
{
	x->how = HXK_HOW_AT_RIP;
	x->kind = reason;
	x->to_core = true;
	fill_exit(v, reason, &x->ex);
	x->ex.insn_len = len;
	x->nr = x->ex.st.gpr[HV_RAX];
}

static void apply_at_rip(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	switch (res->action) {
	case HV_ACT_RESUME:
	case HV_ACT_RETRY:
		apply_state(v, &x->ex.st);
		if (x->kind == HV_EXIT_VMCALL &&
		    (x->nr == HV_HC_YIELD ||
		     x->ex.st.gpr[HV_RAX] == (uint64_t)(int64_t)HV_HC_EAGAIN))
			x->verdict.next = HXK_NEXT_YIELD; /* let the peer partition run */
		break;
	case HV_ACT_INJECT:
		apply_state(v, &x->ex.st);
		inject(v, x, res);
		break;
	default:
		halt(x, res, hv_exit_reason_str(x->kind));
		break;
	}
}

bool hxk_exit_at_rip(struct hxk_vstate *v, struct hxk_exit *x)
{
	uint32_t reason, len;
	memset(x, 0, sizeof(*x));
	x->ept_kind = -1;
	if (!special_at_rip(v, &reason, &len))
		return false;
	at_rip(v, x, reason, len);
	return true;
}

static void on_debug(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	uint64_t pc = run->debug.arch.pc;
	uint64_t dr6 = run->debug.arch.dr6;
	if (R->opt->single_step && (dr6 & DR6_BS)) {
		x->kind = HXK_K_STEP; /* the next pre-run check looks at the new RIP */
		return;
	}
	static const uint32_t site_reason[HXK_SITES] = {HV_EXIT_CPUID, HV_EXIT_VMCALL,
	                                                HV_EXIT_VMCALL};
	for (int s = 0; s < HXK_SITES; s++) {
		if (!p->has_site[s] || pc != p->site[s] || !(dr6 & (1ull << p->site_dr[s])))
			continue;
		/* The guest may have rewritten its code: trust the bytes. */
		uint32_t reason, len;
		if (!special_at_rip(v, &reason, &len) || reason != site_reason[s]) {
			stop(x, HXK_OUT_CRASH, 0,
			     "breakpoint at 0x%llx: the instruction there is no longer the "
			     "expected %s",
			     (unsigned long long)pc,
			     site_reason[s] == HV_EXIT_CPUID ? "CPUID" : "VMCALL/VMMCALL");
			return;
		}
		at_rip(v, x, reason, len);
		return;
	}
	if (R->opt->verbose)
		fprintf(stderr, "hx run: %s vCPU %u: debug exit at 0x%llx (dr6 0x%llx) ignored\n",
		        R->cfg->partitions[p->index].name, v->index, (unsigned long long)pc,
		        (unsigned long long)dr6);
}

/* ---- MSRs ----------------------------------------------------------------- */

static void on_msr(struct hxk_vstate *v, struct hxk_exit *x, bool is_write)
{
	struct kvm_run *run = v->vc->run;
	uint32_t reason = is_write ? HV_EXIT_WRMSR : HV_EXIT_RDMSR;
	x->how = HXK_HOW_MSR;
	x->kind = reason;
	x->to_core = true;
	fill_exit(v, reason, &x->ex);
	x->ex.insn_len = 2;
	/* KVM reports the access it intercepted; the registers say the same
	 * (ECX = index, EDX:EAX = value; SDM Vol. 2B, RDMSR/WRMSR). */
	x->ex.st.gpr[HV_RCX] = (x->ex.st.gpr[HV_RCX] & ~0xffffffffull) | run->msr.index;
}

static void apply_msr(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	struct kvm_run *run = v->vc->run;
	bool is_write = x->kind == HV_EXIT_WRMSR;
	switch (res->action) {
	case HV_ACT_RESUME:
		/* KVM completes the instruction: RDMSR loads EDX:EAX from
		 * msr.data, both advance RIP by 2. */
		run->msr.error = 0;
		if (!is_write)
			run->msr.data =
			        x->ex.st.gpr[HV_RDX] << 32 | (x->ex.st.gpr[HV_RAX] & 0xffffffffull);
		if (res->msr.valid && hxk_vcpu_set_msr(v->vc, res->msr.msr, res->msr.value) != 0)
			stop(x, HXK_OUT_CRASH, 0,
			     "KVM refused to apply MSR 0x%x = 0x%llx granted by the core",
			     res->msr.msr, (unsigned long long)res->msr.value);
		break;
	case HV_ACT_INJECT:
		if (res->vector == HV_VEC_GP && res->has_error_code && res->error_code == 0) {
			run->msr.error = 1; /* KVM injects #GP(0), RIP unchanged */
			break;
		}
		if (!complete_pending(v, x, NULL))
			return;
		apply_state(v, &x->ex.st);
		inject(v, x, res);
		break;
	case HV_ACT_RETRY:
		if (!complete_pending(v, x, NULL))
			return;
		apply_state(v, &x->ex.st);
		break;
	default:
		halt(x, res, hv_exit_reason_str(x->kind));
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
static bool locate_store(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x,
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
		finding(x, HV_INV_DECODE_EQ,
		        "KVM emulated a %u-byte store of 0x%llx to GPA 0x%llx ending at RIP "
		        "0x%llx, "
		        "but no instruction ending there decodes to it (bytes before RIP: %s)",
		        acc->size, (unsigned long long)acc->data, (unsigned long long)acc->gpa,
		        (unsigned long long)rip, hex);
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
		finding(x, HV_INV_DECODE_EQ,
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

static void compare_completed_load(struct hxk_vstate *v, struct hxk_exit *x)
{
	const struct kvm_regs *r = &v->vc->run->s.regs.regs;
	uint64_t kvm_gpr[HV_GPR_COUNT];
	regs_to_gpr(r, kvm_gpr);
	if (r->rip != x->ex.st.rip)
		finding(x, HV_INV_DECODE_EQ,
		        "MMIO load at 0x%llx: KVM resumes at 0x%llx, the core at 0x%llx "
		        "(instruction "
		        "length differs)",
		        (unsigned long long)x->in_rip, (unsigned long long)r->rip,
		        (unsigned long long)x->ex.st.rip);
	for (int i = 0; i < HV_GPR_COUNT; i++) {
		if (kvm_gpr[i] == x->ex.st.gpr[i])
			continue;
		finding(x, HV_INV_DECODE_EQ,
		        "MMIO load: after KVM's emulation GPR %d = 0x%llx, after the core's 0x%llx",
		        i, (unsigned long long)kvm_gpr[i], (unsigned long long)x->ex.st.gpr[i]);
	}
}

static void on_mmio(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	bool is_write = run->mmio.is_write;
	x->how = HXK_HOW_MMIO;
	x->kind = HV_EXIT_EPT_VIOLATION;
	x->ept_kind = is_write ? HXK_EPT_MMIO_WRITE : HXK_EPT_MMIO_READ;
	x->acc = (struct hxk_mmio_access){
	        .gpa = run->mmio.phys_addr,
	        .size = (uint8_t)run->mmio.len,
	        .data = is_write ? le_bytes(run->mmio.data, run->mmio.len) : 0,
	};
	x->is_write = is_write;
	struct hv_exit *ex = &x->ex;
	fill_exit(v, HV_EXIT_EPT_VIOLATION, ex);
	x->kvm_rip = ex->st.rip;
	ex->gpa = x->acc.gpa;
	ex->qual = (is_write ? HV_QUAL_WRITE : HV_QUAL_READ) |
	           (uint64_t)ept_perm(R, p->index, x->acc.gpa) << HV_QUAL_PERM_SHIFT;
	if (is_write) {
		uint64_t start;
		if (!locate_store(R, v, x, &x->acc, x->kvm_rip, &start, ex)) {
			stop(x, HXK_OUT_CRASH, 0,
			     "cannot hand the MMIO store at RIP 0x%llx to the core (instruction "
			     "not "
			     "found; see DECODE-EQ)",
			     (unsigned long long)x->kvm_rip);
			return;
		}
		ex->st.rip = start;
	}
	x->in_rip = ex->st.rip;
	x->to_core = true;
}

static void apply_mmio(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	struct kvm_run *run = v->vc->run;
	const struct hxk_mmio_access *acc = &x->acc;
	bool is_write = x->is_write;
	/* DECODE-EQ: the core's access must be KVM's. */
	if (res->has_mmio && (res->mmio.gpa != acc->gpa || res->mmio.size != acc->size ||
	                      !!res->mmio.is_write != is_write ||
	                      (is_write && trunc_size(res->mmio.data, acc->size) !=
	                                           trunc_size(acc->data, acc->size)))) {
		char kd[40] = "", cd[40] = "";
		if (is_write)
			snprintf(kd, sizeof(kd), " of 0x%llx", (unsigned long long)acc->data);
		if (res->mmio.is_write)
			snprintf(cd, sizeof(cd), " of 0x%llx", (unsigned long long)res->mmio.data);
		finding(x, HV_INV_DECODE_EQ,
		        "MMIO at RIP 0x%llx: KVM did a %u-byte %s%s at GPA 0x%llx, the core "
		        "decoded a "
		        "%u-byte %s%s at GPA 0x%llx",
		        (unsigned long long)x->in_rip, acc->size, is_write ? "store" : "load", kd,
		        (unsigned long long)acc->gpa, res->mmio.size,
		        res->mmio.is_write ? "store" : "load", cd,
		        (unsigned long long)res->mmio.gpa);
	}
	switch (res->action) {
	case HV_ACT_RESUME:
		if (is_write) {
			if (x->ex.st.rip != x->kvm_rip)
				finding(x, HV_INV_DECODE_EQ,
				        "MMIO store at 0x%llx: the core resumes at 0x%llx, KVM at "
				        "0x%llx",
				        (unsigned long long)x->in_rip,
				        (unsigned long long)x->ex.st.rip,
				        (unsigned long long)x->kvm_rip);
			break;
		}
		/* Hand KVM the value the core read and let it finish the load;
		 * then the two results must agree. */
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		for (uint32_t i = 0; i < acc->size && i < 8; i++)
			run->mmio.data[i] = (uint8_t)(res->mmio.data >> (8 * i));
		uint32_t extra;
		if (!complete_pending(v, x, &extra))
			return;
		if (extra)
			finding(x, HV_INV_DECODE_EQ,
			        "MMIO load at 0x%llx: the core emulated it as a plain load, but "
			        "KVM's "
			        "emulation of the instruction made %u more access%s",
			        (unsigned long long)x->in_rip, extra, extra == 1 ? "" : "es");
		compare_completed_load(v, x);
		break;
	case HV_ACT_RETRY:
	case HV_ACT_INJECT:
		if (!complete_pending(v, x, NULL))
			return;
		apply_state(v, &x->ex.st); /* RIP back at the instruction */
		if (res->action == HV_ACT_INJECT)
			inject(v, x, res);
		break;
	default:
		halt(x, res, "an EPT violation");
		break;
	}
}

/* An instruction fetch from a GPA without a memslot: KVM tries to emulate,
 * cannot read the instruction, and reports an emulation failure with RIP
 * at the target (DESIGN.md, "KVM facts"). */
static void on_internal_error(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct kvm_run *run = v->vc->run;
	struct hxk_pstate *p = v->p;
	uint64_t rip = run->s.regs.regs.rip;
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		stop(x, HXK_OUT_CRASH, 0,
		     "KVM internal error, suberror %u, at RIP 0x%llx (vCPU %u)",
		     run->internal.suberror, (unsigned long long)rip, v->index);
		return;
	}
	struct hxk_paging pg;
	hxk_paging_of(v, &pg);
	uint64_t gpa;
	if (!hxk_gva_to_gpa(hxk_gpa_read, p, &pg, rip, &gpa)) {
		stop(x, HXK_OUT_CRASH, 0,
		     "KVM emulation failure at RIP 0x%llx, which the guest's page tables do not "
		     "map",
		     (unsigned long long)rip);
		return;
	}
	if (hxk_slot_find(&p->slots, gpa)) {
		uint8_t b[15];
		char hex[64];
		uint32_t n = bytes_at_rip(v, b, sizeof(b));
		hex_bytes(hex, sizeof(hex), b, n);
		stop(x, HXK_OUT_CRASH, 0,
		     "KVM could not emulate the instruction at RIP 0x%llx (%s)",
		     (unsigned long long)rip, hex);
		return;
	}
	x->how = HXK_HOW_FETCH;
	x->kind = HV_EXIT_EPT_VIOLATION;
	x->ept_kind = HXK_EPT_FETCH;
	x->to_core = true;
	fill_exit(v, HV_EXIT_EPT_VIOLATION, &x->ex);
	x->ex.gpa = gpa;
	x->ex.gla = rip;
	x->ex.qual = HV_QUAL_FETCH | HV_QUAL_GLA_VALID |
	             (uint64_t)ept_perm(R, p->index, gpa) << HV_QUAL_PERM_SHIFT;
}

static void apply_fetch(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	switch (res->action) {
	case HV_ACT_INJECT:
		apply_state(v, &x->ex.st);
		inject(v, x, res);
		break;
	case HV_ACT_RESUME:
	case HV_ACT_RETRY:
		/* Nothing was mapped, so the fetch faults again: bounded by the
		 * exit budget. */
		apply_state(v, &x->ex.st);
		break;
	default:
		halt(x, res, "an instruction fetch");
		break;
	}
}

/* ---- port I/O, HLT, shutdown, failed entry -------------------------------- */

/* Does the code at b (n bytes) start with an IN/OUT of this direction,
 * size and port? Its length, or 0. Encodings (SDM Vol. 2B, IN and OUT):
 * E4/E5 ib IN from an immediate port, EC/ED IN from DX, E6/E7 ib and
 * EE/EF the OUTs; E5/E7/ED/EF move eAX, AX with an operand-size prefix. */
static uint32_t io_insn_len(const uint8_t *b, uint32_t n, bool in, uint32_t size, uint32_t port)
{
	uint32_t i = 0;
	bool opsize = false;
	if (i < n && b[i] == 0x66) {
		opsize = true;
		i++;
	}
	if (i >= n)
		return 0;
	uint8_t op = b[i++];
	bool imm = (op & 0xf8) == 0xe0;
	if ((op & 0xf4) != 0xe4 || ((op & 2) != 0) == in)
		return 0; /* not E4-E7 / EC-EF, or the other direction */
	uint32_t width = (op & 1) ? (opsize ? 2 : 4) : 1;
	if (width != size || (!(op & 1) && opsize))
		return 0;
	if (imm) {
		if (i >= n || b[i] != port)
			return 0;
		i++;
	}
	return i;
}

/* Where the IN/OUT of this exit starts, and its length: KVM reports an OUT
 * with RIP already past the instruction (seen on kvm_pvm) and an IN with RIP
 * at it, so both places are tried, the one KVM uses for the direction
 * first. */
static bool io_locate(struct hxk_vstate *v, bool in, uint32_t size, uint32_t port, uint64_t *start,
                      uint32_t *len)
{
	struct hxk_paging pg;
	hxk_paging_of(v, &pg);
	uint64_t rip = v->vc->run->s.regs.regs.rip;
	uint8_t b[4];
	for (int pass = 0; pass < 2; pass++) {
		bool after = (pass == 0) != in; /* OUT: after first; IN: at first */
		for (uint32_t l = after ? 1 : 0; l <= (after ? 3u : 0u); l++) {
			uint64_t at = rip - l;
			uint32_t n = hxk_read_linear(hxk_gpa_read, v->p, &pg, at, b, sizeof(b));
			uint32_t got = io_insn_len(b, n, in, size, port);
			if (got && (!after || got == l)) {
				*start = at;
				*len = got;
				return true;
			}
		}
	}
	return false;
}

static void on_io(struct hxk_vstate *v, struct hxk_exit *x)
{
	struct kvm_run *run = v->vc->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	if (run->io.data_offset + (uint64_t)run->io.size * run->io.count > v->vc->run_size) {
		stop(x, HXK_OUT_CRASH, 0, "KVM_EXIT_IO data outside the run page");
		return;
	}
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == HX_UCALL_PORT &&
	    run->io.size == 4 && run->io.count == 1) {
		uint32_t gpa;
		memcpy(&gpa, data, sizeof(gpa));
		x->kind = HXK_K_UCALL;
		x->is_ucall = true;
		x->ucall_gpa = gpa;
		return;
	}
	/* Any other port: the core contains it. Exit qualification as for a
	 * VMX I/O exit (SDM Vol. 3C, Table 28-5): size-1, direction (1 = IN),
	 * string, port in bits 31:16. */
	x->how = HXK_HOW_IO;
	x->kind = HV_EXIT_IO;
	x->to_core = true;
	fill_exit(v, HV_EXIT_IO, &x->ex);
	bool in = run->io.direction == KVM_EXIT_IO_IN;
	x->ex.qual = (uint64_t)(run->io.size - 1) | (in ? 8u : 0u) |
	             (run->io.count > 1 ? 16u : 0u) | (uint64_t)run->io.port << 16;
	/* As a VM exit reports it: RIP at the instruction, its length. A
	 * string or unrecognised instruction gets none: the core contains it. */
	uint64_t start;
	uint32_t len;
	if (run->io.count == 1 && io_locate(v, in, run->io.size, run->io.port, &start, &len)) {
		x->ex.st.rip = start;
		x->ex.insn_len = len;
	}
}

static void apply_io(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	struct kvm_run *run = v->vc->run;
	switch (res->action) {
	case HV_ACT_HALT:
		halt(x, res, "port I/O");
		break;
	case HV_ACT_RESUME:
		/* KVM completes the instruction: an IN loads what the core's
		 * device answered (the low bytes of its RAX; KVM does the
		 * register write, zero-extension included), an OUT is done. */
		if (run->io.direction == KVM_EXIT_IO_IN) {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			memset(data, 0, (size_t)run->io.size * run->io.count);
			for (uint32_t i = 0; i < run->io.size && i < 8; i++)
				data[i] = (uint8_t)(x->ex.st.gpr[HV_RAX] >> (8 * i));
		}
		break;
	default:
		if (!complete_pending(v, x, NULL))
			return;
		apply_state(v, &x->ex.st);
		if (res->action == HV_ACT_INJECT)
			inject(v, x, res);
		break;
	}
}

static void on_simple(struct hxk_vstate *v, struct hxk_exit *x, uint32_t reason, const char *what)
{
	x->how = HXK_HOW_SIMPLE;
	x->kind = reason;
	x->to_core = true;
	x->what = what;
	fill_exit(v, reason, &x->ex);
	if (reason == HV_EXIT_HLT) {
		/* KVM has completed the HLT; the exit record has RIP at it. */
		x->ex.st.rip -= 1;
		x->ex.insn_len = 1;
	}
}

static void apply_simple(struct hxk_exit *x, const struct hv_result *res)
{
	if (res->action == HV_ACT_HALT) {
		halt(x, res, x->what);
		return;
	}
	/* After a shutdown or failed entry the vCPU cannot go on whatever the
	 * core says; after HLT nothing would wake it. */
	stop(x, HXK_OUT_CRASH, 0, "%s, and the core answered %s instead of halt", x->what,
	     hv_action_str(res->action));
}

/* ---- the two doors ---------------------------------------------------------- */

void hxk_exit_translate(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct kvm_run *run = v->vc->run;
	memset(x, 0, sizeof(*x));
	x->ept_kind = -1;
	x->kind = HXK_K_OTHER;
	x->from_kvm = true;
	x->kvm_reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		on_debug(R, v, x);
		break;
	case KVM_EXIT_X86_RDMSR:
		on_msr(v, x, false);
		break;
	case KVM_EXIT_X86_WRMSR:
		on_msr(v, x, true);
		break;
	case KVM_EXIT_MMIO:
		on_mmio(R, v, x);
		break;
	case KVM_EXIT_IO:
		on_io(v, x);
		break;
	case KVM_EXIT_HLT:
		on_simple(v, x, HV_EXIT_HLT, "HLT");
		break;
	case KVM_EXIT_SHUTDOWN:
		on_simple(v, x, HV_EXIT_TRIPLE_FAULT, "a shutdown (triple fault)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		on_simple(v, x, HV_EXIT_INVALID_STATE, "a failed VM entry");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		on_internal_error(R, v, x);
		break;
	case KVM_EXIT_INTR:
		x->kind = HXK_K_INTR;
		break;
	default:
		stop(x, HXK_OUT_CRASH, 0, "unexpected %s (%u) at RIP 0x%llx",
		     hxk_exit_reason_name(run->exit_reason), run->exit_reason,
		     (unsigned long long)run->s.regs.regs.rip);
		break;
	}
}

void hxk_exit_apply(struct hxk_vstate *v, struct hxk_exit *x, const struct hv_result *res)
{
	x->action = res->action;
	switch (x->how) {
	case HXK_HOW_AT_RIP:
		apply_at_rip(v, x, res);
		break;
	case HXK_HOW_MSR:
		apply_msr(v, x, res);
		break;
	case HXK_HOW_MMIO:
		apply_mmio(v, x, res);
		break;
	case HXK_HOW_FETCH:
		apply_fetch(v, x, res);
		break;
	case HXK_HOW_IO:
		apply_io(v, x, res);
		break;
	case HXK_HOW_SIMPLE:
		apply_simple(x, res);
		break;
	default:
		stop(x, HXK_OUT_CRASH, 0, "internal: a core exit with no way back into the vCPU");
		break;
	}
}

/* Single-step: KVM finishes an I/O or MSR instruction at the next KVM_RUN;
 * finish it now, so the check before that run sees the next instruction. */
void hxk_exit_finish_step(struct hxk_vstate *v, struct hxk_exit *x)
{
	uint32_t r = x->kvm_reason;
	if (r == KVM_EXIT_IO || r == KVM_EXIT_X86_RDMSR || r == KVM_EXIT_X86_WRMSR ||
	    r == KVM_EXIT_MMIO)
		complete_pending(v, x, NULL);
}
