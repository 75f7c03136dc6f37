/* Raw Intel VM exits through the VMX layer, the twin of fuzz_vmcb: the
 * input fills the VMCS exit-information and guest-state fields, the
 * stub-saved registers and the code at RIP; each exit goes
 * hv_vmx_exit_read -> hv_handle_exit (with every oracle) ->
 * hv_vmx_exit_write. Properties, from the SDM (Vol. 3C 25.9, 26.6, 28.2;
 * Vol. 3D Appendix C), written here:
 *  - TOTAL: any field values are translated or refused, never crash;
 *    refused exits carry reason HV_EXIT_COUNT and are halted as bad records;
 *  - XLAT: the reason follows the basic-reason table; the length is the
 *    VM-exit instruction-length field for the exits resumed past, and
 *    1..15; CPL is SS.DPL; qualifications of I/O and EPT violations are
 *    passed on as they are;
 *  - the oracles' invariants on the handled exit;
 *  - WRITE: only RIP, RSP, the entry event fields and the written guest
 *    MSR's field change; the injected event is exactly the result's. */
#include <stdlib.h>
#include <string.h>

#include "exit_world.h"
#include "fz.h"
#include "hv/vmx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ew_reset(HV_VENDOR_INTEL);
	return 0;
}

struct input {
	struct hv_vmcs_exit vmcs;
	uint64_t gpr[HV_GPR_COUNT];
};

static void draw(struct fz *f, struct input *in)
{
	memset(in, 0, sizeof(*in));
	struct hv_vmcs_exit *v = &in->vmcs;
	static const uint64_t reasons[] = {10,
	                                   31,
	                                   32,
	                                   18,
	                                   12,
	                                   2,
	                                   30,
	                                   48,
	                                   55,
	                                   28,
	                                   0,
	                                   1,
	                                   49,
	                                   HV_VMX_EXIT_ENTRY_FAILURE | 33,
	                                   HV_VMX_EXIT_ENTRY_FAILURE | 34};
	uint8_t flags = fz_u8(f);
	v->exit_reason =
	        (flags & 1) ? fz_u32(f) : (uint32_t)fz_pick(f, reasons, HV_ARRAY_LEN(reasons));
	v->exit_qual = (flags & 2) ? fz_u64(f) : fz_u16(f);
	v->exit_insn_len = (flags & 4) ? fz_u32(f) : fz_u8(f) % 17;
	v->exit_intr_info =
	        (flags & 8) ? fz_u32(f)
	                    : (fz_u8(f) & 31) | (3u << 8) | ((fz_u8(f) & 1) << 11) | (1u << 31);
	v->exit_intr_error = fz_u32(f);
	static const uint64_t gpas[] = {MOCK_CONSOLE_GPA, MOCK_CONSOLE_GPA + 8, 0x3000, EW_CODE_GPA,
	                                MOCK_MMIO_GPA};
	v->guest_phys = (flags & 16) ? fz_u64(f) : fz_pick(f, gpas, HV_ARRAY_LEN(gpas));
	v->guest_linear = (flags & 32) ? fz_u64(f) : v->guest_phys;
	v->rip = (flags & 64) ? fz_u64(f) : EW_CODE_GPA + fz_u16(f) % EW_CODE_SIZE;
	v->rsp = fz_u64(f);
	v->rflags = 2;
	v->cr0 = 0x80000011;
	v->cr3 = EW_PT_GPA;
	v->cr4 = 0x20;
	v->efer = 0xd00;
	v->ss_ar = 0x93 | ((fz_u8(f) & 3u) << 5);
	for (int r = 0; r < HV_GPR_COUNT; r++)
		in->gpr[r] = (flags & 128) ? fz_u64(f) : fz_u8(f);
	static const uint64_t msrs[] = {0xc0000080, 0xc0000100, 0x277, 0x174, 0x10, 0xc0010114};
	if (fz_u8(f) & 1)
		in->gpr[HV_RCX] = fz_pick(f, msrs, HV_ARRAY_LEN(msrs));
	uint8_t code[16];
	size_t n = fz_bytes(f, code, sizeof(code));
	ew_code(v->rip, code, n);
}

/* SDM Vol. 3C, Table 28-3, read here: a write of CR0 or CR4 by MOV, of
 * CR0 by CLTS or by LMSW from a register; reserved bits clear, bits 31:16
 * and 6 only for LMSW, bits 11:8 only for MOV. */
static bool manual_cr_write(uint64_t q)
{
	uint32_t cr = q & 15, type = (q >> 4) & 3;
	if (q >> 32 || (q >> 12 & 15) || (q >> 7 & 1))
		return false;
	if (type != 3 && ((q >> 16) || (q >> 6 & 1)))
		return false;
	if (type != 0 && (q >> 8 & 15))
		return false;
	if (type == 0)
		return cr == 0 || cr == 4;
	return (type == 2 || type == 3) && cr == 0 && !(q >> 6 & 1);
}

static uint32_t manual_reason(uint32_t r, uint32_t intr_info, uint64_t qual)
{
	if (r & HV_VMX_EXIT_ENTRY_FAILURE)
		return (r & 0xffff) == 33 || (r & 0xffff) == 34 ? HV_EXIT_INVALID_STATE
		                                                : HV_EXIT_COUNT;
	switch (r & 0xffff) {
	case 0:
		return (intr_info & (1u << 31)) && ((intr_info >> 8) & 7) == 3 ? HV_EXIT_EXCEPTION
		                                                               : HV_EXIT_COUNT;
	case 2:
		return HV_EXIT_TRIPLE_FAULT;
	case 10:
		return HV_EXIT_CPUID;
	case 12:
		return HV_EXIT_HLT;
	case 18:
		return HV_EXIT_VMCALL;
	case 30:
		return HV_EXIT_IO;
	case 31:
		return HV_EXIT_RDMSR;
	case 32:
		return HV_EXIT_WRMSR;
	case 48:
		return HV_EXIT_EPT_VIOLATION;
	case 55:
		return HV_EXIT_XSETBV;
	case 28:
		return manual_cr_write(qual) ? HV_EXIT_CR_WRITE : HV_EXIT_COUNT;
	default:
		return HV_EXIT_COUNT;
	}
}

static void check_read(const struct input *in, enum hv_xlat x, const struct hv_exit *ex)
{
	const struct hv_vmcs_exit *v = &in->vmcs;
	FZ_CHECK((unsigned)x < HV_XLAT_COUNT, "TOTAL", "translation status %d", x);
	FZ_CHECK((x == HV_XLAT_OK) == (ex->reason != HV_EXIT_COUNT), "TOTAL",
	         "status %s with reason %u", hv_xlat_str(x), ex->reason);
	FZ_CHECK(ex->st.cpl == ((v->ss_ar >> 5) & 3) && ex->st.rip == v->rip &&
	                 ex->st.gpr[HV_RSP] == v->rsp,
	         "XLAT", "CPL, RIP or RSP not the VMCS's");
	if (x != HV_XLAT_OK)
		return;
	uint32_t want = manual_reason(v->exit_reason, v->exit_intr_info, v->exit_qual);
	FZ_CHECK(ex->reason == want, "XLAT", "exit reason 0x%x became %s, not %s", v->exit_reason,
	         hv_exit_reason_str(ex->reason), hv_exit_reason_str(want));
	bool measured = want == HV_EXIT_CPUID || want == HV_EXIT_RDMSR || want == HV_EXIT_WRMSR ||
	                want == HV_EXIT_VMCALL || want == HV_EXIT_IO || want == HV_EXIT_XSETBV ||
	                want == HV_EXIT_CR_WRITE;
	if (measured)
		FZ_CHECK(ex->insn_len == v->exit_insn_len && ex->insn_len >= 1 &&
		                 ex->insn_len <= 15,
		         "XLAT", "length %u from the field's %u", ex->insn_len, v->exit_insn_len);
	else
		FZ_CHECK(ex->insn_len == 0, "XLAT", "length %u for %s", ex->insn_len,
		         hv_exit_reason_str(want));
	if (want == HV_EXIT_IO || want == HV_EXIT_EPT_VIOLATION || want == HV_EXIT_CR_WRITE)
		FZ_CHECK(ex->qual == v->exit_qual, "XLAT", "qualification changed");
	if (want == HV_EXIT_EPT_VIOLATION)
		FZ_CHECK(ex->gpa == v->guest_phys &&
		                 ex->gla ==
		                         ((v->exit_qual & HV_QUAL_GLA_VALID) ? v->guest_linear : 0),
		         "XLAT", "GPA or GLA not the VMCS's");
}

static bool may_change(size_t off, const struct hv_exit *ex, const struct hv_result *res)
{
#define IN(field)                                                                                  \
	(off >= offsetof(struct hv_vmcs_exit, field) &&                                            \
	 off < offsetof(struct hv_vmcs_exit, field) + sizeof(((struct hv_vmcs_exit *)0)->field))
	if (IN(rip) || IN(rsp) || IN(entry_intr_info) || IN(entry_exc_error) || IN(entry_insn_len))
		return true;
	if (res->action == HV_ACT_RESUME && ex->reason == HV_EXIT_CR_WRITE && (IN(cr0) || IN(cr4)))
		return true;
	if (res->action != HV_ACT_RESUME || !res->msr.valid)
		return false;
	switch (res->msr.msr) {
	case 0xc0000080:
		return IN(efer);
	case 0x277:
		return IN(pat);
	case 0xc0000100:
		return IN(fs_base);
	case 0xc0000101:
		return IN(gs_base);
	case 0x174:
		return IN(sysenter_cs);
	case 0x175:
		return IN(sysenter_esp);
	case 0x176:
		return IN(sysenter_eip);
	default:
		return false;
	}
#undef IN
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ew_reset(HV_VENDOR_INTEL);
	struct fz f;
	fz_init(&f, data, size);
	static struct input in;
	draw(&f, &in);

	struct hv_exit ex;
	enum hv_xlat x = hv_vmx_exit_read(0, 0, &in.vmcs, in.gpr, &ex);
	check_read(&in, x, &ex);
	struct hv_result res;
	ew_handle(&ex, &res);
	FZ_CHECK(x == HV_XLAT_OK ||
	                 (res.action == HV_ACT_HALT && res.halt_reason == HV_HALT_BAD_EXIT),
	         "TOTAL", "an untranslated exit was answered with %s", hv_action_str(res.action));

	static struct hv_vmcs_exit before;
	before = in.vmcs;
	uint64_t gpr[HV_GPR_COUNT];
	memcpy(gpr, in.gpr, sizeof(gpr));
	enum hv_verdict verdict = hv_vmx_exit_write(&in.vmcs, gpr, &ex, &res);
	bool halt = res.action == HV_ACT_HALT;
	FZ_CHECK((verdict == HV_VERDICT_STOP) == halt, "WRITE", "verdict %d for action %s", verdict,
	         hv_action_str(res.action));
	const uint8_t *a = (const uint8_t *)&before, *b = (const uint8_t *)&in.vmcs;
	for (size_t off = 0; off < sizeof(before); off++)
		FZ_CHECK(a[off] == b[off] || (!halt && may_change(off, &ex, &res)), "WRITE",
		         "VMCS field byte %zu changed (action %s)", off, hv_action_str(res.action));
	if (halt)
		return 0;
	FZ_CHECK(in.vmcs.rip == ex.st.rip && in.vmcs.rsp == ex.st.gpr[HV_RSP], "WRITE",
	         "RIP/RSP not the resumed state");
	uint32_t want = 0, err = 0;
	if (res.action == HV_ACT_INJECT) {
		want = res.vector | (3u << 8) | (1u << 31) | (res.has_error_code ? 1u << 11 : 0);
		err = res.has_error_code ? res.error_code : 0;
	}
	FZ_CHECK(in.vmcs.entry_intr_info == want && in.vmcs.entry_exc_error == err &&
	                 in.vmcs.entry_insn_len == 0,
	         "WRITE", "entry event 0x%x/0x%x, want 0x%x/0x%x", in.vmcs.entry_intr_info,
	         in.vmcs.entry_exc_error, want, err);
	return 0;
}
