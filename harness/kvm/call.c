/* The sandboxed call's set-up and end (call.h). */
#include "call.h"

#include <linux/kvm.h>
#include <string.h>

#include "efi_start.h"
#include "guest_setup.h"
#include "hv/guest_abi.h"
#include "hv/hcall.h"
#include "runner_int.h"

extern const uint8_t hxk_stub_start[], hxk_stub_end[];
extern const uint64_t hxk_stub_entry_off, hxk_stub_hc_off, hxk_stub_idtr_off,
        hxk_stub_unsupported_off;
extern const uint64_t hxk_stub_vec_off[32];

#define TSS_IST1 0x24 /* 64-bit TSS (SDM Vol. 3A, 8.7, Figure 8-11) */

static int put(struct hxk_pstate *p, uint64_t gpa, const void *src, uint64_t len, const char *what,
               struct hxk_err *err)
{
	return hxk_gpa_put(hxk_gpa_ptr, p, gpa, src, len, what, "partition 0's RAM", err);
}

/* Where the call's stack and buffers go: the writable RAM region that ends
 * highest. A config that gives it an unmapped page below (sandbox.json)
 * turns a stack overflow into an EPT violation the stub reports as a fault,
 * instead of the stack running down over the image. */
static bool stack_region(const struct hxk_pstate *p, uint64_t *lo, uint64_t *hi)
{
	const struct hv_partition_config *pc = &p->R->cfg->partitions[p->index];
	bool found = false;
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type != HV_REGION_RAM || !(r->perm & HV_PERM_W) ||
		    r->gpa + r->size > (4ull << 30) || (found && r->gpa + r->size <= *hi))
			continue;
		*lo = r->gpa;
		*hi = r->gpa + r->size;
		found = true;
	}
	return found;
}

/* The stub, its IDT (every gate on IST1), the IST1 stack: written at
 * install and again before every call, because they lie in the
 * partition's own RAM, where the call before may have overwritten them. */
static int write_stub(struct hxk_pstate *p, struct hxk_err *err)
{
	uint8_t stub[4096];
	size_t n = (size_t)(hxk_stub_end - hxk_stub_start);
	if (n > sizeof(stub) || HXK_STUB_GPA + sizeof(stub) > HXK_STUB_IDT_GPA)
		return hxk_fail(err, "internal: the call stub does not fit its page");
	memcpy(stub, hxk_stub_start, n);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {32 * 16 - 1, HXK_STUB_IDT_GPA};
	memcpy(stub + hxk_stub_idtr_off, &idtr, sizeof(idtr));
	bool amd = p->R->cfg->vendor == HV_VENDOR_AMD;
	if (amd)
		stub[hxk_stub_hc_off + 2] = 0xd9; /* VMMCALL is 0F 01 D9, VMCALL 0F 01 C1 */
	uint64_t idt[64];
	for (uint32_t v = 0; v < 32; v++) {
		uint64_t a = HXK_STUB_GPA + hxk_stub_vec_off[v];
		/* 64-bit interrupt gate: offset, selector 0x08, IST 1, P, DPL 0,
		 * type 0xe (SDM Vol. 3A, 6.14.1, Figure 6-8). */
		idt[2 * v] = (a & 0xffff) | (uint64_t)HX_SEL_CODE << 16 | 1ull << 32 |
		             0x8eull << 40 | ((a >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = a >> 32;
	}
	uint64_t ist = HXK_FAULT_STACK_TOP;
	if (put(p, HXK_STUB_GPA, stub, n, "the call stub", err) != 0 ||
	    put(p, HXK_STUB_IDT_GPA, idt, sizeof(idt), "the stub's IDT", err) != 0 ||
	    put(p, HX_GUEST_TSS_GPA + TSS_IST1, &ist, sizeof(ist), "the TSS's IST1", err) != 0)
		return -1;
	return 0;
}

int hxk_call_install(struct hxk_pstate *p, struct hxk_err *err)
{
	if (write_stub(p, err) != 0)
		return -1;
	bool amd = p->R->cfg->vendor == HV_VENDOR_AMD;
	p->efi_started = false;
	if (hxk_efi_image(&p->elf)) {
		uint8_t tables[HXK_EFI_TABLES_SIZE];
		hxk_efi_tables(tables, HXK_STUB_GPA + hxk_stub_unsupported_off);
		if (put(p, HXK_EFI_TABLES_GPA, tables, sizeof(tables), "the EFI tables", err) != 0)
			return -1;
	}
	int site = amd ? HXK_SITE_VMMCALL : HXK_SITE_VMCALL;
	p->site[site] = HXK_STUB_GPA + hxk_stub_hc_off;
	p->has_site[site] = true;
	p->has_site[amd ? HXK_SITE_VMCALL : HXK_SITE_VMMCALL] = false;

	return 0;
}

int hxk_call_resolve(struct hxk_pstate *p, struct hxk_call *call, struct hxk_err *err)
{
	/* The function: a symbol, the runtime service an EFI image installed
	 * under that name (known once the image is started), an address. */
	uint32_t rt = call->symbol && hxk_efi_image(&p->elf) ? hxk_efi_rt_offset(call->symbol) : 0;
	if (call->symbol && hxk_elf_symbol(&p->elf, call->symbol, &call->target)) {
		/* found */
	} else if (rt && !p->efi_started) {
		call->target = 0; /* resolved again after the start (hxk_call_run) */
		return 0;
	} else if (rt) {
		uint64_t fn = 0;
		if (!hxk_gpa_read(p, HXK_EFI_RT_GPA + rt, &fn, sizeof(fn)))
			return hxk_fail(err,
			                "internal: the runtime services table is not readable");
		if (fn == HXK_STUB_GPA + hxk_stub_unsupported_off)
			return hxk_fail(err,
			                "%s: the image's entry point did not install it in the "
			                "runtime services table",
			                call->symbol);
		call->target = fn;
	} else if (call->symbol) {
		return hxk_fail(err, "the image has no symbol %s%s", call->symbol,
		                hxk_efi_image(&p->elf) ? " (and it is not an EFI runtime service)"
		                                       : "");
	} else {
		call->target = call->address;
	}
	if (!hxk_elf_in_code(&p->elf, call->target))
		return hxk_fail(err, "0x%llx is not in an executable segment of the image",
		                (unsigned long long)call->target);

	return 0;
}

static int prepare(struct hxk_pstate *p, struct hxk_call *call, struct kvm_regs *regs,
                   struct hxk_err *err)
{
	/* The stack at the top of the highest writable RAM region, the
	 * buffers below it, never below the image when they share a region. */
	uint64_t lo = 0, top = 0;
	if (!stack_region(p, &lo, &top))
		return hxk_fail(err, "partition 0 has no writable RAM below 4 GiB for the call's "
		                     "stack");
	uint64_t floor = lo < p->elf.hi && p->elf.lo < top ? p->elf.hi : lo;
	if (top - floor < HXK_CALL_STACK)
		return hxk_fail(err, "partition 0 has no room for the call's stack (64 KiB at the "
		                     "top of its highest writable RAM region, above the image)");
	uint64_t below = top - HXK_CALL_STACK;
	call->overrun = 0;
	for (uint32_t i = 0; i < call->nbufs; i++) {
		struct hxk_call_buf *b = &call->bufs[i];
		/* Guard bytes before and after each buffer (its padding to 16
		 * included): a write there is a write outside the buffer. */
		uint64_t size = ((b->len + 15) & ~15ull) + 2 * HXK_CALL_GUARD;
		if (size > below - floor)
			return hxk_fail(err,
			                "buffer %u (%llu bytes) does not fit below the call's "
			                "stack",
			                i, (unsigned long long)b->len);
		below -= size;
		b->gpa = below + HXK_CALL_GUARD;
		static const uint8_t guard[HXK_CALL_GUARD + 16] = {[0 ... HXK_CALL_GUARD + 15] =
		                                                           HXK_CALL_GUARD_BYTE};
		uint64_t tail = below + size - (b->gpa + b->len);
		if (put(p, below, guard, HXK_CALL_GUARD, "a buffer's guard", err) != 0 ||
		    put(p, b->gpa + b->len, guard, tail, "a buffer's guard", err) != 0)
			return -1;
		if (b->arg < call->nargs)
			call->args[b->arg] = b->gpa;
		if (!b->in) {
			static const uint8_t zero[4096];
			for (uint64_t k = 0; k < b->len; k += sizeof(zero))
				if (put(p, b->gpa + k, zero,
				        b->len - k < sizeof(zero) ? b->len - k : sizeof(zero),
				        "an out-buffer", err) != 0)
					return -1;
		} else if (put(p, b->gpa, b->data, b->len, "a buffer", err) != 0) {
			return -1;
		}
	}

	/* Arguments: registers, then the stack (16-byte aligned at the CALL,
	 * SysV ABI 3.2.2; MS x64: 32 bytes of shadow space first). */
	static const int sysv[] = {HV_RDI, HV_RSI, HV_RDX, HV_RCX, HV_R8, HV_R9};
	static const int ms[] = {HV_RCX, HV_RDX, HV_R8, HV_R9};
	uint32_t nreg = call->abi == HXK_ABI_MS ? 4 : 6;
	uint32_t nstack = call->nargs > nreg ? call->nargs - nreg : 0;
	uint64_t shadow = call->abi == HXK_ABI_MS ? 32 : 0;
	uint64_t rsp = (top - 64 - shadow - 8 * nstack) & ~15ull;
	for (uint32_t i = 0; i < nstack; i++)
		if (put(p, rsp + shadow + 8 * i, &call->args[nreg + i], 8, "a stack argument",
		        err) != 0)
			return -1;
	uint64_t g[HV_GPR_COUNT] = {0};
	for (uint32_t i = 0; i < call->nargs && i < nreg; i++)
		g[call->abi == HXK_ABI_MS ? ms[i] : sysv[i]] = call->args[i];
	g[HV_R11] = call->target;
	memset(regs, 0, sizeof(*regs));
	regs->rax = g[HV_RAX];
	regs->rcx = g[HV_RCX];
	regs->rdx = g[HV_RDX];
	regs->rsi = g[HV_RSI];
	regs->rdi = g[HV_RDI];
	regs->r8 = g[HV_R8];
	regs->r9 = g[HV_R9];
	regs->r11 = g[HV_R11];
	regs->rsp = rsp;
	regs->rip = HXK_STUB_GPA + hxk_stub_entry_off;
	regs->rflags = 0x2;
	call->end = HXK_CALL_NOT_ENDED;
	return 0;
}

void hxk_call_ended(struct hxk_call *call, const struct hv_exit *ex, uint32_t halt_reason)
{
	const uint64_t *g = ex->st.gpr;
	if (halt_reason == HV_HALT_CALL_RETURN) {
		call->end = HXK_CALL_RETURNED;
		call->result = g[HV_RDI];
	} else if (halt_reason == HV_HALT_CALL_FAULT) {
		call->end = HXK_CALL_FAULTED;
		call->fault_vector = g[HV_RDI];
		call->fault_error = g[HV_RSI];
		call->fault_rip = g[HV_RDX];
		call->fault_cr2 = g[HV_R10];
	}
}

static bool guard_intact(struct hxk_pstate *p, uint64_t gpa, uint64_t len)
{
	uint8_t g[HXK_CALL_GUARD + 16];
	if (len > sizeof(g) || !hxk_gpa_read(p, gpa, g, (uint32_t)len))
		return false;
	for (uint64_t k = 0; k < len; k++)
		if (g[k] != HXK_CALL_GUARD_BYTE)
			return false;
	return true;
}

void hxk_call_finish(struct hxk_pstate *p, struct hxk_call *call)
{
	const struct kvm_sregs *sr = &p->v[0].vc->run->s.regs.sregs;
	call->cr0 = sr->cr0;
	call->cr4 = sr->cr4;
	call->efer = sr->efer;
	call->cr_changed = p->v[0].has_run && (sr->cr0 != HX_GUEST_CR0 || sr->cr4 != HX_GUEST_CR4 ||
	                                       sr->efer != HX_GUEST_EFER);
	for (uint32_t i = 0; i < call->nbufs; i++) {
		struct hxk_call_buf *b = &call->bufs[i];
		uint64_t padded = (b->len + 15) & ~15ull;
		if (!guard_intact(p, b->gpa - HXK_CALL_GUARD, HXK_CALL_GUARD) ||
		    !guard_intact(p, b->gpa + b->len, padded - b->len + HXK_CALL_GUARD))
			call->overrun |= 1u << i;
		if (!b->out)
			continue;
		for (uint64_t k = 0; k < b->len;) {
			uint64_t chunk = 4096 - ((b->gpa + k) & 4095);
			if (chunk > b->len - k)
				chunk = b->len - k;
			if (!hxk_gpa_read(p, b->gpa + k, b->data + k, (uint32_t)chunk))
				memset(b->data + k, 0, chunk);
			k += chunk;
		}
	}
}

int hxk_call_begin(struct hxk_pstate *p, struct hxk_call *call, struct hxk_err *err)
{
	struct hxk_runner *R = p->R;
	struct hxk_err e;
	if (R->sys->parts[p->index].halted != HV_HALT_NONE) {
		if (hv_call_rearm(R->sys, p->index) != HV_OK)
			return hxk_fail(err, "the sandbox is halted (%s), not between calls",
			                hv_halt_reason_str(R->sys->parts[p->index].halted));
#ifdef HXK_HAVE_ORACLE
		/* The re-arm changed the system outside an exit: the oracle's
		 * picture must take it, or the next exit that is not itself a
		 * halt reads as one of a halted partition let through. */
		if (R->oracle)
			hx_oracle_sync(R->oracle, R->sys);
#endif
	}
	const struct hv_partition_config *pc = &R->cfg->partitions[p->index];
	if (call->reset) {
		/* Its RAM as at the start, then the image as loaded. */
		for (uint32_t r = 0; r < pc->nregions; r++)
			if (pc->regions[r].type == HV_REGION_RAM)
				hxk_canary_fill(&R->mem, pc->regions[r].hpa, pc->regions[r].size,
				                p->index + 1);
		if (hxk_elf_load(&p->elf, hxk_gpa_ptr, p, &e) != 0)
			return hxk_fail(err, "reloading the image: %s", e.msg);
		if (hxk_call_install(p, err) != 0)
			return -1;
	}
	/* The guest ABI's tables again: the last call may have written them. */
	if (hxk_guest_write_tables(hxk_gpa_ptr, p, &e) != 0)
		return hxk_fail(err, "%s", e.msg);
	/* The stub and its IDT again, and IST1 in the TSS just rewritten. */
	if (write_stub(p, err) != 0)
		return -1;
	struct kvm_regs regs;
	if (prepare(p, call, &regs, err) != 0)
		return -1;
	struct hxk_vstate *v = &p->v[0];
	struct kvm_run *run = v->vc->run;
	struct kvm_sregs sregs;
	if (v->has_run) {
		/* The sync regs of the last exit; KVM_RUN takes them back (KVM API
		 * "kvm_dirty_regs"), which spares three ioctls per call. */
		sregs = run->s.regs.sregs;
		hxk_guest_sregs(&sregs);
		run->s.regs.regs = regs;
		run->s.regs.sregs = sregs;
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	} else {
		if (hxk_vcpu_get_sregs(v->vc, &sregs, &e) != 0)
			return hxk_fail(err, "%s", e.msg);
		hxk_guest_sregs(&sregs);
		if (hxk_vcpu_set_sregs(v->vc, &sregs, &e) != 0 ||
		    hxk_vcpu_set_regs(v->vc, &regs, &e) != 0)
			return hxk_fail(err, "%s", e.msg);
		run->s.regs.regs = regs;
		run->s.regs.sregs = sregs;
	}
	v->stopped = false;
	v->yield = false;
	p->active = true;
	p->vcpus_done = 0;
	p->kvm_exits = 0;
	p->rep->outcome = HXK_OUT_RUNNING;
	p->rep->halt_reason = HV_HALT_NONE;
	p->rep->detail[0] = 0;
	return 0;
}
