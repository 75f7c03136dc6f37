/* Raw #VMEXITs through the SVM layer: the input fills a VMCB's exit area
 * and guest state, the stub-saved registers, the SVM features (NRIPS or
 * not) and the instruction bytes at RIP. Each exit goes the way a VMRUN
 * loop takes it: hv_svm_exit_read -> hv_handle_exit (with every oracle) ->
 * hv_svm_exit_write. Properties, from the APM (Vol. 2, 15.6, 15.10.2,
 * 15.20, 15.25.6, Appendices B and C), written here and not taken from the
 * code under test:
 *  - TOTAL: any VMCB is translated or refused, never crashes; refused
 *    exits carry reason HV_EXIT_COUNT, which the core halts as bad records;
 *  - XLAT: the reason follows the exit-code table; the state is the VMCB's
 *    (RAX/RSP) and the stub's (the rest); with NRIPS the length is
 *    nRIP - RIP; an NPF qualification says the access EXITINFO1 says, and
 *    permissions exactly when the entry was present;
 *  - the oracles' invariants on the handled exit;
 *  - WRITE: only RIP, RAX, RSP, EVENTINJ and the written guest MSR's field
 *    change in the VMCB; RIP is the resumed one; EVENTINJ holds exactly the
 *    injected exception; a halted vCPU is stopped and its VMCB untouched. */
#include <stdlib.h>
#include <string.h>

#include "exit_world.h"
#include "fz.h"
#include "hv/svm.h"

#define PT_GPA EW_PT_GPA
#define CODE_GPA EW_CODE_GPA
#define CODE_SIZE EW_CODE_SIZE

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ew_reset(HV_VENDOR_AMD);
	return 0;
}

/* ---- the input ---- */

static uint64_t draw_code(struct fz *f)
{
	static const uint64_t codes[] = {0x072, 0x07c, 0x081, 0x078, 0x07f,        0x08d,
	                                 0x07b, 0x400, 0x040, 0x046, 0x04d,        0x04e,
	                                 0x060, 0x010, 0x014, ~0ull, 0xffffffffull};
	uint8_t sel = fz_u8(f);
	if (sel < 0xc0)
		return codes[sel % HV_ARRAY_LEN(codes)];
	if (sel < 0xe0)
		return 0x040 + (sel & 31);
	return fz_u64(f);
}

static uint64_t draw_gpa(struct fz *f)
{
	static const uint64_t gpas[] = {MOCK_CONSOLE_GPA, MOCK_CONSOLE_GPA + 8, 0x3000,
	                                CODE_GPA,         MOCK_MMIO_GPA,        0x40000000};
	uint8_t sel = fz_u8(f);
	if (sel < 0xc0)
		return gpas[sel % HV_ARRAY_LEN(gpas)] + (fz_u8(f) & 0xf);
	return fz_u64(f);
}

struct input {
	struct hv_vmcb vmcb;
	uint64_t gpr[HV_GPR_COUNT];
	uint32_t features;
};

static void draw(struct fz *f, struct input *in)
{
	memset(in, 0, sizeof(*in));
	struct hv_vmcb *v = &in->vmcb;
	uint8_t flags = fz_u8(f);
	in->features = ((flags & 1) ? HV_SVM_FEAT_NRIPS : 0) |
	               ((flags & 32) ? HV_SVM_FEAT_DECODE_ASSISTS : 0);
	v->ctl.exit_code = draw_code(f);
	v->ctl.exit_info1 = (flags & 2) ? fz_u64(f) : fz_u8(f) | ((uint64_t)fz_u8(f) << 32);
	if (v->ctl.exit_code == 0x07b) { /* IOIO: port in 31:16, size bits */
		/* Half the ports are those of the world's RTC and UART, so the
		 * device models are reached, not only the closed ports. */
		uint16_t r = fz_u16(f);
		uint16_t port = !(r & 0x8000) ? r
		                : (r & 8)     ? (uint16_t)(0x70 + (r & 1))
		                              : (uint16_t)(0x3f8 + (r & 7));
		v->ctl.exit_info1 = (v->ctl.exit_info1 & 0xff) | ((uint64_t)port << 16);
	}
	v->ctl.exit_info2 = v->ctl.exit_code == 0x400 ? draw_gpa(f) : 0;
	/* 64-bit long mode through the identity tables, or legacy modes. */
	uint8_t mode = fz_u8(f) % 4;
	v->save.cr0 = mode == 3 ? 1 : 0x80000011;
	v->save.cr4 = mode == 3 ? 0 : 0x20;
	v->save.cr3 = PT_GPA;
	v->save.efer = mode == 3 ? 0x1000 : 0x1d00;
	v->save.cs.attrib = mode == 2 ? 0x49b : 0x29b; /* D/B or L */
	v->save.cs.base = mode >= 2 ? fz_u8(f) * 0x10ull : 0;
	v->save.cpl = fz_u8(f) % 5; /* 4: not a privilege level */
	v->save.rip = (flags & 4) ? fz_u64(f) : CODE_GPA + fz_u16(f) % CODE_SIZE;
	/* IOIO's EXITINFO2 is the next RIP (APM Vol. 2, 15.10.2): mostly a
	 * length an IN/OUT can have. */
	if (v->ctl.exit_code == 0x07b && (flags & 8))
		v->ctl.exit_info2 = v->save.rip + 1 + fz_u8(f) % 3;
	v->save.rflags = 2;
	v->save.rax = fz_u64(f);
	v->save.rsp = fz_u64(f);
	uint8_t nrip = fz_u8(f);
	v->ctl.next_rip = v->save.rip + (nrip < 0xf0 ? nrip % 17 : (uint64_t)fz_u64(f));
	if (v->ctl.exit_code == 0x07b)
		v->ctl.exit_info2 = v->save.rip + (nrip % 17);
	for (int r = 0; r < HV_GPR_COUNT; r++)
		in->gpr[r] = (flags & 8) ? fz_u64(f) : fz_u8(f);
	/* MSR numbers the policy knows, now and then. */
	static const uint64_t msrs[] = {0xc0000080, 0xc0000082, 0xc0000100, 0x277,
	                                0x10,       0xc0010114, 0x3b,       0xfe};
	if (flags & 16)
		in->gpr[HV_RCX] = msrs[fz_u8(f) % HV_ARRAY_LEN(msrs)];
	uint8_t code[16];
	size_t n = fz_bytes(f, code, sizeof(code));
	/* CR writes: now and then a MOV to CR0/CR4, CLTS or LMSW at RIP, with
	 * a REX or not, so the decoder and the policy are reached. */
	uint64_t c = v->ctl.exit_code;
	if ((c == 0x010 || c == 0x014) && n >= 4 && (code[0] & 0xc0) != 0xc0) {
		static const uint8_t ops[][2] = {{0x0f, 0x22}, {0x0f, 0x06}, {0x0f, 0x01}};
		uint8_t k = code[1] % 3, at = (code[0] & 1) ? 1 : 0;
		if (at)
			code[0] = 0x40 | (code[2] & 0xf);
		code[at] = ops[k][0];
		code[at + 1] = ops[k][1];
		code[at + 2] = k == 0 ? (uint8_t)(0xc0 | (c == 0x014 ? 4u << 3 : 0) | (code[3] & 7))
		               : k == 2 ? (uint8_t)(0xf0 | (code[3] & 7))
		                        : code[at + 2];
		/* The GPR a MOV names: values the policy allows or refuses. */
		static const uint64_t crs[] = {0x80010033, 0x80010033 | 8, 0x80000033,
		                               0x620,      0x6a0,          0x620 | (1u << 13)};
		for (int r = 0; r < HV_GPR_COUNT; r++)
			if (code[3] & 8)
				in->gpr[r] = crs[(r + code[3]) % HV_ARRAY_LEN(crs)];
		if (code[3] & 8)
			v->save.rax = crs[code[3] % HV_ARRAY_LEN(crs)];
	}
	ew_code(v->save.rip, code, n);
}

/* ---- the manual's side ---- */

static uint32_t manual_reason(uint64_t code, uint64_t info1)
{
	if (code == ~0ull || code == 0xffffffffull)
		return HV_EXIT_INVALID_STATE;
	if (code >= 0x40 && code < 0x60)
		return HV_EXIT_EXCEPTION;
	switch (code) {
	case 0x072:
		return HV_EXIT_CPUID;
	case 0x07c:
		return info1 == 0 ? HV_EXIT_RDMSR : info1 == 1 ? HV_EXIT_WRMSR : HV_EXIT_COUNT;
	case 0x081:
		return HV_EXIT_VMCALL;
	case 0x078:
		return HV_EXIT_HLT;
	case 0x07f:
		return HV_EXIT_TRIPLE_FAULT;
	case 0x08d:
		return HV_EXIT_XSETBV;
	case 0x07b:
		return HV_EXIT_IO;
	case 0x400:
		return HV_EXIT_EPT_VIOLATION;
	case 0x010:
	case 0x014:
		return HV_EXIT_CR_WRITE;
	default:
		return HV_EXIT_COUNT;
	}
}

static void check_read(const struct input *in, enum hv_xlat x, const struct hv_exit *ex)
{
	const struct hv_vmcb *v = &in->vmcb;
	FZ_CHECK((unsigned)x < HV_XLAT_COUNT, "TOTAL", "translation status %d", x);
	FZ_CHECK((x == HV_XLAT_OK) == (ex->reason != HV_EXIT_COUNT), "TOTAL",
	         "status %s with reason %u", hv_xlat_str(x), ex->reason);
	if (x != HV_XLAT_OK)
		return;
	uint32_t want = manual_reason(v->ctl.exit_code, v->ctl.exit_info1);
	FZ_CHECK(ex->reason == want, "XLAT", "exit code 0x%llx (info1 0x%llx) became %s, not %s",
	         (unsigned long long)v->ctl.exit_code, (unsigned long long)v->ctl.exit_info1,
	         hv_exit_reason_str(ex->reason), hv_exit_reason_str(want));
	FZ_CHECK(v->save.cpl <= 3 && ex->st.cpl == v->save.cpl, "XLAT", "cpl %u from VMCB %u",
	         ex->st.cpl, v->save.cpl);
	FZ_CHECK(ex->st.rip == v->save.rip && ex->st.gpr[HV_RAX] == v->save.rax &&
	                 ex->st.gpr[HV_RSP] == v->save.rsp && ex->st.efer == v->save.efer &&
	                 ex->st.cr0 == v->save.cr0 && ex->st.cr3 == v->save.cr3,
	         "XLAT", "vCPU state differs from the VMCB");
	for (int r = 0; r < HV_GPR_COUNT; r++)
		FZ_CHECK(r == HV_RAX || r == HV_RSP || ex->st.gpr[r] == in->gpr[r], "XLAT",
		         "gpr %d differs from the stub's", r);
	bool measured = want == HV_EXIT_CPUID || want == HV_EXIT_RDMSR || want == HV_EXIT_WRMSR ||
	                want == HV_EXIT_VMCALL || want == HV_EXIT_CR_WRITE;
	if (measured) {
		FZ_CHECK(ex->insn_len >= 1 && ex->insn_len <= 15, "XLAT", "length %u",
		         ex->insn_len);
		if (in->features & HV_SVM_FEAT_NRIPS)
			FZ_CHECK(ex->insn_len == v->ctl.next_rip - v->save.rip, "XLAT",
			         "length %u, nRIP - RIP is %llu", ex->insn_len,
			         (unsigned long long)(v->ctl.next_rip - v->save.rip));
	}
	if (want == HV_EXIT_IO)
		FZ_CHECK(ex->insn_len == v->ctl.exit_info2 - v->save.rip &&
		                 (ex->qual >> 16) == ((v->ctl.exit_info1 >> 16) & 0xffff),
		         "XLAT", "IOIO length or port");
	if (want == HV_EXIT_EPT_VIOLATION) {
		uint64_t i1 = v->ctl.exit_info1;
		uint64_t access = (i1 & HV_NPF_ID)   ? HV_QUAL_FETCH
		                  : (i1 & HV_NPF_RW) ? HV_QUAL_WRITE
		                                     : HV_QUAL_READ;
		uint64_t perms = (ex->qual >> HV_QUAL_PERM_SHIFT) & 7;
		FZ_CHECK((ex->qual & 7) == access && ((i1 & HV_NPF_P) != 0) == (perms != 0) &&
		                 ex->gpa == v->ctl.exit_info2 && !(ex->qual & HV_QUAL_GLA_VALID),
		         "XLAT", "NPF info1 0x%llx became qualification 0x%llx",
		         (unsigned long long)i1, (unsigned long long)ex->qual);
		FZ_CHECK(!(i1 & HV_NPF_RSV), "XLAT", "an NPF with RSV was translated");
	}
}

/* Bytes of the VMCB hv_svm_exit_write may change for this result. */
static bool may_change(size_t off, const struct hv_exit *ex, const struct hv_result *res)
{
#define IN(field)                                                                                  \
	(off >= offsetof(struct hv_vmcb, field) &&                                                 \
	 off < offsetof(struct hv_vmcb, field) + sizeof(((struct hv_vmcb *)0)->field))
	if (IN(save.rip) || IN(save.rax) || IN(save.rsp) || IN(ctl.event_inj))
		return true;
	if (res->action == HV_ACT_RESUME && ex->reason == HV_EXIT_CR_WRITE &&
	    (IN(save.cr0) || IN(save.cr4)))
		return true;
	if (res->action != HV_ACT_RESUME || !res->msr.valid)
		return false;
	switch (res->msr.msr) {
	case 0xc0000080:
		return IN(save.efer);
	case 0xc0000081:
		return IN(save.star);
	case 0xc0000082:
		return IN(save.lstar);
	case 0xc0000083:
		return IN(save.cstar);
	case 0xc0000084:
		return IN(save.sfmask);
	case 0xc0000100:
		return IN(save.fs.base);
	case 0xc0000101:
		return IN(save.gs.base);
	case 0xc0000102:
		return IN(save.kernel_gs_base);
	case 0x174:
		return IN(save.sysenter_cs);
	case 0x175:
		return IN(save.sysenter_esp);
	case 0x176:
		return IN(save.sysenter_eip);
	case 0x277:
		return IN(save.g_pat);
	default:
		return false;
	}
#undef IN
}

static void check_write(const struct hv_vmcb *before, const struct hv_vmcb *after,
                        enum hv_verdict verdict, const struct hv_exit *ex,
                        const struct hv_result *res)
{
	bool halt = res->action == HV_ACT_HALT;
	FZ_CHECK((verdict == HV_VERDICT_STOP) == halt, "WRITE", "verdict %d for action %s", verdict,
	         hv_action_str(res->action));
	if (halt) {
		FZ_CHECK(memcmp(before, after, sizeof(*before)) == 0, "WRITE",
		         "a halted vCPU's VMCB was changed");
		return;
	}
	const uint8_t *a = (const uint8_t *)before, *b = (const uint8_t *)after;
	for (size_t off = 0; off < sizeof(*before); off++)
		FZ_CHECK(a[off] == b[off] || may_change(off, ex, res), "WRITE",
		         "VMCB byte 0x%zx changed (action %s)", off, hv_action_str(res->action));
	FZ_CHECK(after->save.rip == ex->st.rip && after->save.rax == ex->st.gpr[HV_RAX] &&
	                 after->save.rsp == ex->st.gpr[HV_RSP],
	         "WRITE", "RIP/RAX/RSP not the resumed state");
	uint64_t ev = after->ctl.event_inj;
	if (res->action == HV_ACT_INJECT) {
		uint64_t want = res->vector | (3ull << 8) | (1ull << 31);
		if (res->has_error_code)
			want |= (1ull << 11) | ((uint64_t)res->error_code << 32);
		FZ_CHECK(ev == want, "WRITE", "EVENTINJ 0x%llx for vector %u",
		         (unsigned long long)ev, res->vector);
	} else {
		FZ_CHECK(ev == 0, "WRITE", "EVENTINJ 0x%llx without an injection",
		         (unsigned long long)ev);
	}
	if (res->action == HV_ACT_RESUME && res->msr.valid && res->msr.msr == 0xc0000080)
		FZ_CHECK(after->save.efer == (res->msr.value | (1ull << 12)), "WRITE",
		         "guest EFER without SVME");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mock_env *env = ew_reset(HV_VENDOR_AMD);
	struct fz f;
	fz_init(&f, data, size);
	static struct input in;
	draw(&f, &in);

	struct hv_exit ex;
	enum hv_xlat x = hv_svm_exit_read(&env->sys, 0, 0, &in.vmcb, in.gpr, in.features, &ex);
	check_read(&in, x, &ex);

	struct hv_result res;
	ew_handle(&ex, &res);
	FZ_CHECK(x == HV_XLAT_OK ||
	                 (res.action == HV_ACT_HALT && res.halt_reason == HV_HALT_BAD_EXIT),
	         "TOTAL", "an untranslated exit was answered with %s", hv_action_str(res.action));

	static struct hv_vmcb before;
	before = in.vmcb;
	uint64_t gpr[HV_GPR_COUNT];
	memcpy(gpr, in.gpr, sizeof(gpr));
	enum hv_verdict v = hv_svm_exit_write(&in.vmcb, gpr, &ex, &res);
	check_write(&before, &in.vmcb, v, &ex, &res);
	return 0;
}
