/* VM exit to hv_exit and back (hv/vmx.h). Exit reasons: SDM Vol. 3D,
 * Appendix C; exit information: SDM Vol. 3C, 28.2; event injection: 26.6. */
#include "hv/vmx.h"

#include "hv/msr.h"

#define FIELD(enc, member, fl)                                                                     \
	{                                                                                          \
		(enc), (uint16_t)offsetof(struct hv_vmcs_exit, member),                            \
		        (uint8_t)sizeof(((struct hv_vmcs_exit *)0)->member), (fl)                  \
	}
/* The member holds exactly the encoding's width (natural width: 64 bits
 * on a 64-bit host), and exit-information fields are read-only data. */
#define PIN(enc, member, type)                                                                     \
	_Static_assert(sizeof(((struct hv_vmcs_exit *)0)->member) == HV_VMCS_WIDTH_BYTES(enc) &&   \
	                       HV_VMCS_TYPE(enc) == (type),                                        \
	               #enc)

PIN(HV_VMCS_EXIT_REASON, exit_reason, 1);
PIN(HV_VMCS_EXIT_INTR_INFO, exit_intr_info, 1);
PIN(HV_VMCS_EXIT_INTR_ERROR, exit_intr_error, 1);
PIN(HV_VMCS_EXIT_INSN_LEN, exit_insn_len, 1);
PIN(HV_VMCS_EXIT_QUAL, exit_qual, 1);
PIN(HV_VMCS_GUEST_LINEAR, guest_linear, 1);
PIN(HV_VMCS_GUEST_PHYS_ADDR, guest_phys, 1);
PIN(HV_VMCS_GUEST_RIP, rip, 2);
PIN(HV_VMCS_GUEST_RSP, rsp, 2);
PIN(HV_VMCS_GUEST_RFLAGS, rflags, 2);
PIN(HV_VMCS_GUEST_CR0, cr0, 2);
PIN(HV_VMCS_GUEST_CR3, cr3, 2);
PIN(HV_VMCS_GUEST_CR4, cr4, 2);
PIN(HV_VMCS_GUEST_IA32_EFER, efer, 2);
PIN(HV_VMCS_GUEST_SS_AR, ss_ar, 2);
PIN(HV_VMCS_ENTRY_INTR_INFO, entry_intr_info, 0);
PIN(HV_VMCS_ENTRY_EXC_ERROR, entry_exc_error, 0);
PIN(HV_VMCS_ENTRY_INSN_LEN, entry_insn_len, 0);
PIN(HV_VMCS_GUEST_IA32_PAT, pat, 2);
PIN(HV_VMCS_GUEST_FS_BASE, fs_base, 2);
PIN(HV_VMCS_GUEST_GS_BASE, gs_base, 2);
PIN(HV_VMCS_GUEST_SYSENTER_ESP, sysenter_esp, 2);
PIN(HV_VMCS_GUEST_SYSENTER_EIP, sysenter_eip, 2);
PIN(HV_VMCS_GUEST_SYSENTER_CS, sysenter_cs, 2);

#define RD HV_VMCS_F_EXIT
#define WR HV_VMCS_F_ENTRY
static const struct hv_vmcs_field fields[] = {
        FIELD(HV_VMCS_EXIT_REASON, exit_reason, RD),
        FIELD(HV_VMCS_EXIT_INTR_INFO, exit_intr_info, RD),
        FIELD(HV_VMCS_EXIT_INTR_ERROR, exit_intr_error, RD),
        FIELD(HV_VMCS_EXIT_INSN_LEN, exit_insn_len, RD),
        FIELD(HV_VMCS_EXIT_QUAL, exit_qual, RD),
        FIELD(HV_VMCS_GUEST_LINEAR, guest_linear, RD),
        FIELD(HV_VMCS_GUEST_PHYS_ADDR, guest_phys, RD),
        FIELD(HV_VMCS_GUEST_RIP, rip, RD | WR),
        FIELD(HV_VMCS_GUEST_RSP, rsp, RD | WR),
        FIELD(HV_VMCS_GUEST_RFLAGS, rflags, RD),
        FIELD(HV_VMCS_GUEST_CR0, cr0, RD),
        FIELD(HV_VMCS_GUEST_CR3, cr3, RD),
        FIELD(HV_VMCS_GUEST_CR4, cr4, RD),
        FIELD(HV_VMCS_GUEST_IA32_EFER, efer, RD | WR),
        FIELD(HV_VMCS_GUEST_SS_AR, ss_ar, RD),
        FIELD(HV_VMCS_ENTRY_INTR_INFO, entry_intr_info, WR),
        FIELD(HV_VMCS_ENTRY_EXC_ERROR, entry_exc_error, WR),
        FIELD(HV_VMCS_ENTRY_INSN_LEN, entry_insn_len, WR),
        FIELD(HV_VMCS_GUEST_IA32_PAT, pat, WR),
        FIELD(HV_VMCS_GUEST_FS_BASE, fs_base, WR),
        FIELD(HV_VMCS_GUEST_GS_BASE, gs_base, WR),
        FIELD(HV_VMCS_GUEST_SYSENTER_ESP, sysenter_esp, WR),
        FIELD(HV_VMCS_GUEST_SYSENTER_EIP, sysenter_eip, WR),
        FIELD(HV_VMCS_GUEST_SYSENTER_CS, sysenter_cs, WR),
};

const struct hv_vmcs_field *hv_vmcs_fields(uint32_t *n)
{
	*n = (uint32_t)HV_ARRAY_LEN(fields);
	return fields;
}

/* Exits whose instruction the core may resume past: the VM-exit
 * instruction-length field is valid for them (SDM Vol. 3C, 28.2.4). */
static enum hv_xlat take_len(const struct hv_vmcs_exit *v, struct hv_exit *ex)
{
	if (v->exit_insn_len < 1 || v->exit_insn_len > 15)
		return HV_XLAT_NO_LENGTH;
	ex->insn_len = v->exit_insn_len;
	return HV_XLAT_OK;
}

static enum hv_xlat exception(const struct hv_vmcs_exit *v, struct hv_exit *ex)
{
	uint32_t info = v->exit_intr_info;
	if (!(info & HV_VMX_INTR_VALID))
		return HV_XLAT_BAD_INFO;
	/* NMIs and software exceptions are never intercepted by the core. */
	if ((info & HV_VMX_INTR_TYPE_MASK) != HV_VMX_INTR_TYPE_HW_EXC)
		return HV_XLAT_UNKNOWN_EXIT;
	ex->reason = HV_EXIT_EXCEPTION;
	ex->qual = info & (0xffu | HV_VMX_INTR_TYPE_MASK | HV_VMX_INTR_ERROR | HV_VMX_INTR_VALID);
	if (info & HV_VMX_INTR_ERROR)
		ex->qual |= (uint64_t)v->exit_intr_error << HV_QUAL_EXC_ERROR_SHIFT;
	/* #PF: the exit qualification is the faulting linear address. */
	if ((info & 0xffu) == HV_VEC_PF)
		ex->gla = v->exit_qual;
	return HV_XLAT_OK;
}

static enum hv_xlat classify(const struct hv_vmcs_exit *v, struct hv_exit *ex)
{
	if (v->exit_reason & HV_VMX_EXIT_ENTRY_FAILURE) {
		uint32_t basic = v->exit_reason & 0xffffu;
		if (basic != HV_VMX_EXIT_INVALID_STATE && basic != HV_VMX_EXIT_MSR_LOADING)
			return HV_XLAT_BAD_INFO;
		ex->reason = HV_EXIT_INVALID_STATE;
		return HV_XLAT_OK;
	}
	switch (v->exit_reason & 0xffffu) {
	case HV_VMX_EXIT_EXCEPTION_NMI:
		return exception(v, ex);
	case HV_VMX_EXIT_TRIPLE_FAULT:
		ex->reason = HV_EXIT_TRIPLE_FAULT;
		return HV_XLAT_OK;
	case HV_VMX_EXIT_HLT:
		ex->reason = HV_EXIT_HLT;
		return HV_XLAT_OK;
	case HV_VMX_EXIT_CPUID:
		ex->reason = HV_EXIT_CPUID;
		return take_len(v, ex);
	case HV_VMX_EXIT_RDMSR:
		ex->reason = HV_EXIT_RDMSR;
		return take_len(v, ex);
	case HV_VMX_EXIT_WRMSR:
		ex->reason = HV_EXIT_WRMSR;
		return take_len(v, ex);
	case HV_VMX_EXIT_VMCALL:
		ex->reason = HV_EXIT_VMCALL;
		return take_len(v, ex);
	case HV_VMX_EXIT_XSETBV:
		ex->reason = HV_EXIT_XSETBV;
		return take_len(v, ex);
	case HV_VMX_EXIT_CR_ACCESS: {
		/* Table 28-3: the qualification is already the core's. Reads
		 * (type 1) are never intercepted, LMSW from memory is not
		 * emulated, CRs other than 0 and 4 are not written through the
		 * core; bits 63:32, 15:12 and 7 are reserved, bits 31:16 and 6 are
		 * LMSW's only, bits 11:8 (the GPR) MOV's only. */
		uint64_t q = v->exit_qual, type = q & HV_QUAL_CR_TYPE_MASK, cr = q & 0xf;
		if ((q & 0xffffffff0000f080ull) ||
		    (type != HV_QUAL_CR_LMSW && (q & (0xffff0000ull | HV_QUAL_CR_LMSW_MEM))) ||
		    (type != HV_QUAL_CR_MOV && (q & 0xf00ull)) ||
		    (type != HV_QUAL_CR_MOV && cr != 0) ||
		    (type == HV_QUAL_CR_MOV && cr != 0 && cr != 4) || type == (1ull << 4) ||
		    (q & HV_QUAL_CR_LMSW_MEM))
			return HV_XLAT_BAD_INFO;
		ex->reason = HV_EXIT_CR_WRITE;
		ex->qual = q;
		return take_len(v, ex);
	}
	case HV_VMX_EXIT_IO:
		/* Table 28-5; bits 15:7 and 63:32 are reserved (zero). */
		if (v->exit_qual & 0xffffffff0000ff80ull)
			return HV_XLAT_BAD_INFO;
		ex->reason = HV_EXIT_IO;
		ex->qual = v->exit_qual;
		return take_len(v, ex);
	case HV_VMX_EXIT_EPT_VIOLATION:
		/* The qualification is already the core's format; the length
		 * field is undefined here (28.2.4), the handler decodes. */
		ex->reason = HV_EXIT_EPT_VIOLATION;
		ex->qual = v->exit_qual;
		ex->gpa = v->guest_phys;
		if (v->exit_qual & HV_QUAL_GLA_VALID)
			ex->gla = v->guest_linear;
		return HV_XLAT_OK;
	default:
		/* EPT misconfiguration (the core's own tables) included: no
		 * handler can make such an exit right. */
		return HV_XLAT_UNKNOWN_EXIT;
	}
}

enum hv_xlat hv_vmx_exit_read(uint32_t part, uint32_t vcpu, const struct hv_vmcs_exit *vmcs,
                              const uint64_t gpr[HV_GPR_COUNT], struct hv_exit *out)
{
	hv_memset(out, 0, sizeof(*out));
	out->partition = part;
	out->vcpu = vcpu;
	struct hv_vcpu_state *st = &out->st;
	hv_memcpy(st->gpr, gpr, sizeof(st->gpr));
	st->gpr[HV_RSP] = vmcs->rsp;
	st->rip = vmcs->rip;
	st->rflags = vmcs->rflags;
	st->cr0 = vmcs->cr0;
	st->cr3 = vmcs->cr3;
	st->cr4 = vmcs->cr4;
	st->efer = vmcs->efer;
	st->cpl = (uint8_t)((vmcs->ss_ar >> 5) & 3);
	enum hv_xlat x = classify(vmcs, out);
	if (x != HV_XLAT_OK)
		out->reason = HV_EXIT_COUNT;
	return x;
}

bool hv_vmx_msr_in_vmcs(uint32_t msr)
{
	switch (msr) {
	case HV_MSR_EFER:
	case HV_MSR_PAT:
	case HV_MSR_FS_BASE:
	case HV_MSR_GS_BASE:
	case HV_MSR_SYSENTER_CS:
	case HV_MSR_SYSENTER_ESP:
	case HV_MSR_SYSENTER_EIP:
		return true;
	default:
		return false;
	}
}

static void write_msr(struct hv_vmcs_exit *v, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case HV_MSR_EFER:
		v->efer = value;
		break;
	case HV_MSR_PAT:
		v->pat = value;
		break;
	case HV_MSR_FS_BASE:
		v->fs_base = value;
		break;
	case HV_MSR_GS_BASE:
		v->gs_base = value;
		break;
	case HV_MSR_SYSENTER_CS:
		v->sysenter_cs = (uint32_t)value;
		break;
	case HV_MSR_SYSENTER_ESP:
		v->sysenter_esp = value;
		break;
	case HV_MSR_SYSENTER_EIP:
		v->sysenter_eip = value;
		break;
	default:
		break; /* the platform's (hv_vmx_msr_in_vmcs) */
	}
}

enum hv_verdict hv_vmx_exit_write(struct hv_vmcs_exit *vmcs, uint64_t gpr[HV_GPR_COUNT],
                                  const struct hv_exit *ex, const struct hv_result *res)
{
	if (res->action == HV_ACT_HALT || res->action >= HV_ACT_COUNT)
		return HV_VERDICT_STOP;
	hv_memcpy(gpr, ex->st.gpr, sizeof(ex->st.gpr));
	vmcs->rsp = ex->st.gpr[HV_RSP];
	vmcs->rip = ex->st.rip;
	vmcs->entry_intr_info = 0;
	vmcs->entry_exc_error = 0;
	vmcs->entry_insn_len = 0;
	if (res->action == HV_ACT_INJECT) {
		/* A hardware exception: no instruction length (26.6.1.1). */
		vmcs->entry_intr_info = res->vector | HV_VMX_INTR_TYPE_HW_EXC | HV_VMX_INTR_VALID;
		if (res->has_error_code) {
			vmcs->entry_intr_info |= HV_VMX_INTR_ERROR;
			vmcs->entry_exc_error = res->error_code;
		}
	}
	if (res->action == HV_ACT_RESUME && res->msr.valid)
		write_msr(vmcs, res->msr.msr, res->msr.value);
	/* An allowed CR write: the value the handler left in the state. */
	if (res->action == HV_ACT_RESUME && ex->reason == HV_EXIT_CR_WRITE) {
		vmcs->cr0 = ex->st.cr0;
		vmcs->cr4 = ex->st.cr4;
	}
	return HV_VERDICT_RUN;
}
