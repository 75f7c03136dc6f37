/* #VMEXIT to hv_exit and back (hv/svm.h). Exit codes and EXITINFO layouts:
 * AMD64 APM Vol. 2, 15.6 "#VMEXIT", 15.10.2 (IOIO), 15.11 (MSR), 15.25.6
 * (nested page faults) and Appendix C. */
#include "hv/svm.h"

#include "hv/ept.h"
#include "hv/gpt.h"
#include "hv/insn_len.h"
#include "hv/msr.h"

#define EFER_SVME (1ull << 12)
#define EFER_LMA (1ull << 10)
#define SEG_ATTR_L (1u << 9) /* VMCB attrib bits 11:8 are descriptor bits 55:52 */

static bool long_mode(const struct hv_vmcb *vmcb)
{
	return (vmcb->save.efer & EFER_LMA) && (vmcb->save.cs.attrib & SEG_ATTR_L);
}

/* The exiting instruction's length: nRIP - RIP with NRIPS, otherwise
 * measured from the bytes at CS:RIP. */
static uint32_t insn_len(struct hv_system *sys, const struct hv_vmcb *vmcb, uint32_t features,
                         struct hv_exit *ex)
{
	if (features & HV_SVM_FEAT_NRIPS) {
		uint64_t len = vmcb->ctl.next_rip - vmcb->save.rip;
		return len >= 1 && len <= 15 ? (uint32_t)len : 0;
	}
	if (!sys || ex->partition >= sys->cfg->npartitions)
		return 0;
	bool lm = long_mode(vmcb);
	/* Outside 64-bit mode the linear address adds the CS base and wraps
	 * at 4 GiB (APM Vol. 2, 4.5.1). */
	uint64_t la = lm ? ex->st.rip : (uint32_t)(vmcb->save.cs.base + ex->st.rip);
	uint8_t bytes[15];
	enum hv_gpt_fault fault;
	uint32_t n = hv_gpt_fetch(sys, ex->partition, &ex->st, la, bytes, sizeof(bytes), &fault);
	return hv_insn_len_for_exit(ex->reason, HV_VENDOR_AMD, lm, bytes, n);
}

/* Exceptions that push an error code (APM Vol. 2, 8.2 and Table 8-1):
 * #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
static bool has_error_code(uint32_t vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

/* NPF: the Intel-style qualification the EPT-violation handler reads. The
 * fault's kind comes from EXITINFO1; the permissions of a present
 * translation come from the core's own table, which hardware walked. */
static enum hv_xlat npf(struct hv_system *sys, const struct hv_vmcb *vmcb, struct hv_exit *ex)
{
	uint64_t info = vmcb->ctl.exit_info1;
	/* A reserved bit in a nested entry means the core's own table is
	 * malformed for this partition: nothing to emulate, stop it. */
	if (info & HV_NPF_RSV)
		return HV_XLAT_BAD_INFO;
	/* Exactly one of "final translation" and "guest table walk" (bits
	 * 32, 33); QEMU reports both the same way. */
	if (((info & HV_NPF_FINAL) != 0) == ((info & HV_NPF_WALK) != 0))
		return HV_XLAT_BAD_INFO;
	ex->gpa = vmcb->ctl.exit_info2;
	ex->qual = (info & HV_NPF_ID)   ? HV_QUAL_FETCH
	           : (info & HV_NPF_RW) ? HV_QUAL_WRITE
	                                : HV_QUAL_READ;
	if (info & HV_NPF_P) {
		/* Present but not allowed. A table that no longer maps the GPA
		 * (or no system to look in) still reports a present entry, so
		 * that the handler contains it rather than emulate it. */
		uint64_t perm = HV_PERM_R;
		struct hv_ept_map map;
		if (sys && ex->partition < sys->cfg->npartitions &&
		    hv_ept_translate(sys->pool, sys->parts[ex->partition].ept_root, ex->gpa,
		                     &map) == HV_OK &&
		    map.present && map.perm != 0)
			perm = map.perm;
		ex->qual |= perm << HV_QUAL_PERM_SHIFT;
	}
	/* No guest-linear address: GLA_VALID stays clear, and a fault in the
	 * guest's own table walk is contained by the handler, which must
	 * translate the instruction's operand to exactly this GPA. */
	return HV_XLAT_OK;
}

static enum hv_xlat ioio(const struct hv_vmcb *vmcb, struct hv_exit *ex)
{
	uint64_t info = vmcb->ctl.exit_info1;
	uint64_t sz = info & (HV_IOIO_SZ8 | HV_IOIO_SZ16 | HV_IOIO_SZ32);
	uint64_t size = sz == HV_IOIO_SZ8 ? 1 : sz == HV_IOIO_SZ16 ? 2 : sz == HV_IOIO_SZ32 ? 4 : 0;
	if (size == 0)
		return HV_XLAT_BAD_INFO; /* exactly one size bit */
	ex->qual = (size - 1) | ((info & HV_IOIO_IN) ? HV_QUAL_IO_IN : 0) |
	           ((info & HV_IOIO_STR) ? HV_QUAL_IO_STRING : 0) |
	           ((info & HV_IOIO_REP) ? HV_QUAL_IO_REP : 0) |
	           (((info >> HV_IOIO_PORT_SHIFT) & 0xffff) << HV_QUAL_IO_PORT_SHIFT);
	/* EXITINFO2 is the next RIP, NRIPS or not (APM Vol. 2, 15.10.2). */
	uint64_t len = vmcb->ctl.exit_info2 - vmcb->save.rip;
	if (len < 1 || len > 15)
		return HV_XLAT_BAD_INFO;
	ex->insn_len = (uint32_t)len;
	return HV_XLAT_OK;
}

/* CR0/CR4 write intercepts (APM Vol. 2, 15.9): the instruction at CS:RIP
 * is decoded whatever the processor reports, since without decode assists
 * (QEMU has none) EXITINFO1 is 0 and CLTS and LMSW never say more; what it
 * does report (nRIP, the GPR of a MOV) must agree with the bytes, or
 * another vCPU changed them and the exit is refused. */
static enum hv_xlat cr_write(struct hv_system *sys, const struct hv_vmcb *vmcb, uint32_t features,
                             struct hv_exit *ex, uint32_t cr)
{
	if (!sys || ex->partition >= sys->cfg->npartitions)
		return HV_XLAT_NO_LENGTH;
	bool lm = long_mode(vmcb);
	uint64_t la = lm ? ex->st.rip : (uint32_t)(vmcb->save.cs.base + ex->st.rip);
	uint8_t bytes[15];
	enum hv_gpt_fault fault;
	uint32_t n = hv_gpt_fetch(sys, ex->partition, &ex->st, la, bytes, sizeof(bytes), &fault);
	uint64_t qual = 0;
	uint32_t len = hv_insn_decode_cr_write(cr, lm, bytes, n, ex->st.gpr, &qual);
	if (len == 0)
		return HV_XLAT_NO_LENGTH;
	if ((features & HV_SVM_FEAT_NRIPS) && vmcb->ctl.next_rip - vmcb->save.rip != len)
		return HV_XLAT_BAD_INFO;
	uint64_t info = vmcb->ctl.exit_info1;
	if ((features & HV_SVM_FEAT_DECODE_ASSISTS) && (info & HV_SVM_CR_MOV) &&
	    ((qual & HV_QUAL_CR_TYPE_MASK) != HV_QUAL_CR_MOV ||
	     ((qual >> HV_QUAL_CR_GPR_SHIFT) & 0xf) != (info & 0xf)))
		return HV_XLAT_BAD_INFO;
	ex->qual = qual;
	ex->insn_len = len;
	return HV_XLAT_OK;
}

static enum hv_xlat classify(struct hv_system *sys, const struct hv_vmcb *vmcb, uint32_t features,
                             struct hv_exit *ex)
{
	uint64_t code = vmcb->ctl.exit_code;
	/* VMEXIT_INVALID is -1; QEMU writes it as a 32-bit -1. */
	if (code == HV_SVM_EXIT_INVALID || code == 0xffffffffull) {
		ex->reason = HV_EXIT_INVALID_STATE;
		return HV_XLAT_OK;
	}
	if (code >= HV_SVM_EXIT_EXCP_BASE && code < HV_SVM_EXIT_EXCP_BASE + 32) {
		uint32_t vec = (uint32_t)(code - HV_SVM_EXIT_EXCP_BASE);
		ex->reason = HV_EXIT_EXCEPTION;
		ex->qual = vec | HV_QUAL_EXC_TYPE_HW | HV_QUAL_EXC_VALID;
		if (has_error_code(vec))
			ex->qual |= HV_QUAL_EXC_HAS_ERROR | ((vmcb->ctl.exit_info1 & 0xffffffffull)
			                                     << HV_QUAL_EXC_ERROR_SHIFT);
		if (vec == HV_VEC_PF)
			ex->gla = vmcb->ctl.exit_info2; /* the faulting address */
		return HV_XLAT_OK;
	}
	switch (code) {
	case HV_SVM_EXIT_CPUID:
		ex->reason = HV_EXIT_CPUID;
		break;
	case HV_SVM_EXIT_MSR:
		if (vmcb->ctl.exit_info1 > 1)
			return HV_XLAT_BAD_INFO;
		ex->reason = vmcb->ctl.exit_info1 ? HV_EXIT_WRMSR : HV_EXIT_RDMSR;
		break;
	case HV_SVM_EXIT_VMMCALL:
		ex->reason = HV_EXIT_VMCALL;
		break;
	case HV_SVM_EXIT_HLT:
		/* Never resumed past: the length is not needed. */
		ex->reason = HV_EXIT_HLT;
		return HV_XLAT_OK;
	case HV_SVM_EXIT_SHUTDOWN:
		ex->reason = HV_EXIT_TRIPLE_FAULT;
		return HV_XLAT_OK;
	case HV_SVM_EXIT_XSETBV:
		ex->reason = HV_EXIT_XSETBV;
		return HV_XLAT_OK;
	case HV_SVM_EXIT_IOIO:
		ex->reason = HV_EXIT_IO;
		return ioio(vmcb, ex);
	case HV_SVM_EXIT_NPF:
		ex->reason = HV_EXIT_EPT_VIOLATION;
		return npf(sys, vmcb, ex);
	case HV_SVM_EXIT_WRITE_CR0:
	case HV_SVM_EXIT_WRITE_CR4:
		ex->reason = HV_EXIT_CR_WRITE;
		return cr_write(sys, vmcb, features, ex, code == HV_SVM_EXIT_WRITE_CR0 ? 0 : 4);
	default:
		return HV_XLAT_UNKNOWN_EXIT;
	}
	ex->insn_len = insn_len(sys, vmcb, features, ex);
	return ex->insn_len ? HV_XLAT_OK : HV_XLAT_NO_LENGTH;
}

enum hv_xlat hv_svm_exit_read(struct hv_system *sys, uint32_t part, uint32_t vcpu,
                              const struct hv_vmcb *vmcb, const uint64_t gpr[HV_GPR_COUNT],
                              uint32_t svm_features, struct hv_exit *out)
{
	hv_memset(out, 0, sizeof(*out));
	out->partition = part;
	out->vcpu = vcpu;
	struct hv_vcpu_state *st = &out->st;
	hv_memcpy(st->gpr, gpr, sizeof(st->gpr));
	st->gpr[HV_RAX] = vmcb->save.rax;
	st->gpr[HV_RSP] = vmcb->save.rsp;
	st->rip = vmcb->save.rip;
	st->rflags = vmcb->save.rflags;
	st->cr0 = vmcb->save.cr0;
	st->cr3 = vmcb->save.cr3;
	st->cr4 = vmcb->save.cr4;
	st->efer = vmcb->save.efer;
	st->cpl = vmcb->save.cpl;
	enum hv_xlat x =
	        vmcb->save.cpl > 3 ? HV_XLAT_BAD_STATE : classify(sys, vmcb, svm_features, out);
	if (x != HV_XLAT_OK)
		out->reason = HV_EXIT_COUNT;
	return x;
}

bool hv_svm_msr_in_vmcb(uint32_t msr)
{
	switch (msr) {
	case HV_MSR_EFER:
	case HV_MSR_STAR:
	case HV_MSR_LSTAR:
	case HV_MSR_CSTAR:
	case HV_MSR_SFMASK:
	case HV_MSR_KERNEL_GS_BASE:
	case HV_MSR_FS_BASE:
	case HV_MSR_GS_BASE:
	case HV_MSR_SYSENTER_CS:
	case HV_MSR_SYSENTER_ESP:
	case HV_MSR_SYSENTER_EIP:
	case HV_MSR_PAT:
		return true;
	default:
		return false;
	}
}

static void write_msr(struct hv_vmcb *vmcb, uint32_t msr, uint64_t v)
{
	struct hv_vmcb_save *s = &vmcb->save;
	switch (msr) {
	case HV_MSR_EFER:
		/* The guest never sees SVME (the MSR policy hides it), but VMRUN
		 * refuses a guest EFER without it (APM Vol. 2, 15.5.1). */
		s->efer = v | EFER_SVME;
		break;
	case HV_MSR_STAR:
		s->star = v;
		break;
	case HV_MSR_LSTAR:
		s->lstar = v;
		break;
	case HV_MSR_CSTAR:
		s->cstar = v;
		break;
	case HV_MSR_SFMASK:
		s->sfmask = v;
		break;
	case HV_MSR_KERNEL_GS_BASE:
		s->kernel_gs_base = v;
		break;
	case HV_MSR_FS_BASE:
		s->fs.base = v;
		break;
	case HV_MSR_GS_BASE:
		s->gs.base = v;
		break;
	case HV_MSR_SYSENTER_CS:
		s->sysenter_cs = v;
		break;
	case HV_MSR_SYSENTER_ESP:
		s->sysenter_esp = v;
		break;
	case HV_MSR_SYSENTER_EIP:
		s->sysenter_eip = v;
		break;
	case HV_MSR_PAT:
		s->g_pat = v; /* the guest PAT, with nested paging (APM Vol. 2, 15.25.8) */
		break;
	default:
		break; /* hv_svm_msr_in_vmcb says false: the platform's */
	}
}

enum hv_verdict hv_svm_exit_write(struct hv_vmcb *vmcb, uint64_t gpr[HV_GPR_COUNT],
                                  const struct hv_exit *ex, const struct hv_result *res)
{
	if (res->action == HV_ACT_HALT || res->action >= HV_ACT_COUNT)
		return HV_VERDICT_STOP;
	hv_memcpy(gpr, ex->st.gpr, sizeof(ex->st.gpr));
	vmcb->save.rax = ex->st.gpr[HV_RAX];
	vmcb->save.rsp = ex->st.gpr[HV_RSP];
	/* hv_handle_exit advanced RIP for a resume and left it for the rest. */
	vmcb->save.rip = ex->st.rip;
	vmcb->ctl.event_inj = 0;
	if (res->action == HV_ACT_INJECT) {
		uint64_t ev =
		        (res->vector & HV_EVTINJ_VEC_MASK) | HV_EVTINJ_TYPE_EXCEPTION | HV_EVTINJ_V;
		if (res->has_error_code)
			ev |= HV_EVTINJ_EV | ((uint64_t)res->error_code << HV_EVTINJ_ERR_SHIFT);
		vmcb->ctl.event_inj = ev;
	}
	if (res->action == HV_ACT_RESUME && res->msr.valid)
		write_msr(vmcb, res->msr.msr, res->msr.value);
	/* An allowed CR write: the value the handler left in the state. */
	if (res->action == HV_ACT_RESUME && ex->reason == HV_EXIT_CR_WRITE) {
		vmcb->save.cr0 = ex->st.cr0;
		vmcb->save.cr4 = ex->st.cr4;
	}
	return HV_VERDICT_RUN;
}
