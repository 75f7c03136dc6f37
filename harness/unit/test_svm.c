/* AMD SVM exit translation (hv/svm.h) checked against the APM: VMCBs are
 * written as raw bytes at the offsets of APM Vol. 2 Appendix B, exit codes
 * from Appendix C, EXITINFO1 bit for bit from 15.10.2 and 15.25.6, and
 * EVENTINJ from 15.20. The expectations are this file's own reading of the
 * manual, not a call back into the code under test. The facts QEMU's SVM
 * emulation showed on this machine class (DESIGN.md) are tested too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/insn_len.h"
#include "hv/svm.h"
#include "mock_config.h"

/* Raw VMCB offsets, APM Vol. 2 Table B-1 (control) and B-2 (save, +0x400). */
#define OFF_EXITCODE 0x070
#define OFF_EXITINFO1 0x078
#define OFF_EXITINFO2 0x080
#define OFF_EVENTINJ 0x0a8
#define OFF_NRIP 0x0c8
#define OFF_CS_ATTRIB (0x400 + 0x012)
#define OFF_CS_BASE (0x400 + 0x018)
#define OFF_CPL (0x400 + 0x0cb)
#define OFF_EFER (0x400 + 0x0d0)
#define OFF_CR4 (0x400 + 0x148)
#define OFF_CR3 (0x400 + 0x150)
#define OFF_CR0 (0x400 + 0x158)
#define OFF_RFLAGS (0x400 + 0x170)
#define OFF_RIP (0x400 + 0x178)
#define OFF_RSP (0x400 + 0x1d8)
#define OFF_RAX (0x400 + 0x1f8)
#define OFF_LSTAR (0x400 + 0x208)
#define OFF_FS_BASE (0x400 + 0x048)
#define OFF_GPAT (0x400 + 0x268)

#define NRIPS HV_SVM_FEAT_NRIPS
#define RIP0 0x200000ull /* code in partition 0's RAM */
#define PT_GPA 0x100000ull
#define CR0_PE_PG 0x80000001ull
#define CR4_PAE 0x20ull
#define EFER_LME_LMA_SVME 0x1500ull
#define CS_L (1u << 9)

static void put64(void *vmcb, size_t off, uint64_t v)
{
	memcpy((uint8_t *)vmcb + off, &v, sizeof(v));
}

static uint64_t get64(const void *vmcb, size_t off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)vmcb + off, sizeof(v));
	return v;
}

struct fx {
	struct mock_env *env;
	struct hv_vmcb vmcb;
	uint64_t gpr[HV_GPR_COUNT];
	struct hv_exit ex;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || !(f->env = mock_env_new(mock_config_one)))
		return -1;
	mock_identity_page_tables(f->env, MOCK_P0_RAM_HPA, PT_GPA);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	mock_env_free(f->env);
	free(f);
	return 0;
}

/* A 64-bit CPL-0 vCPU at RIP0 that took exit `code`. */
static void vmexit(struct fx *f, uint64_t code, uint64_t info1, uint64_t info2)
{
	memset(&f->vmcb, 0, sizeof(f->vmcb));
	uint8_t *v = (uint8_t *)&f->vmcb;
	put64(v, OFF_EXITCODE, code);
	put64(v, OFF_EXITINFO1, info1);
	put64(v, OFF_EXITINFO2, info2);
	put64(v, OFF_RIP, RIP0);
	put64(v, OFF_CR0, CR0_PE_PG);
	put64(v, OFF_CR3, PT_GPA);
	put64(v, OFF_CR4, CR4_PAE);
	put64(v, OFF_EFER, EFER_LME_LMA_SVME);
	put64(v, OFF_RFLAGS, 2);
	put64(v, OFF_RAX, 0x1111);
	put64(v, OFF_RSP, 0x7ff0);
	uint16_t attrib = CS_L | 0x9b;
	memcpy(v + OFF_CS_ATTRIB, &attrib, sizeof(attrib));
	for (int r = 0; r < HV_GPR_COUNT; r++)
		f->gpr[r] = 0x1000 + (uint64_t)r;
}

static void code(struct fx *f, const uint8_t *bytes, size_t n)
{
	mock_poke(f->env, MOCK_P0_RAM_HPA + RIP0, bytes, n);
}

static enum hv_xlat read_exit(struct fx *f, uint32_t features)
{
	return hv_svm_exit_read(&f->env->sys, 0, 0, &f->vmcb, f->gpr, features, &f->ex);
}

/* ---- the exit-code table (APM Vol. 2, Appendix C) ---- */

static void test_exit_codes(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t code, info1;
		uint32_t reason;
	} rows[] = {
	        {0x072, 0, HV_EXIT_CPUID},
	        {0x07c, 0, HV_EXIT_RDMSR},
	        {0x07c, 1, HV_EXIT_WRMSR},
	        {0x081, 0, HV_EXIT_VMCALL},
	        {0x078, 0, HV_EXIT_HLT},
	        {0x07f, 0, HV_EXIT_TRIPLE_FAULT},
	        {0x08d, 0, HV_EXIT_XSETBV},
	        {~0ull, 0, HV_EXIT_INVALID_STATE},
	        {0xffffffffull, 0, HV_EXIT_INVALID_STATE}, /* as QEMU writes it */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		vmexit(f, rows[i].code, rows[i].info1, 0);
		put64(&f->vmcb, OFF_NRIP, RIP0 + 3);
		assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
		assert_int_equal(f->ex.reason, rows[i].reason);
	}
	/* Exits the core never intercepts, and EXITINFO1 of MSR beyond 0/1. */
	static const uint64_t unknown[] = {0x000, 0x03f, 0x060, 0x06e, 0x07d,         0x080,
	                                   0x082, 0x3ff, 0x401, 0x403, 0x1ffffffffull};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		vmexit(f, unknown[i], 0, 0);
		put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
		assert_int_equal(read_exit(f, NRIPS), HV_XLAT_UNKNOWN_EXIT);
		assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
	}
	vmexit(f, 0x07c, 2, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_BAD_INFO);
	assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
}

static void test_state_read(void **state)
{
	struct fx *f = *state;
	vmexit(f, 0x072, 0, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
	f->vmcb.save.cpl = 3;
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	assert_int_equal(f->ex.insn_len, 2);
	assert_int_equal(f->ex.st.rip, RIP0);
	assert_int_equal(f->ex.st.cpl, 3);
	assert_int_equal(f->ex.st.gpr[HV_RAX], 0x1111); /* from the VMCB */
	assert_int_equal(f->ex.st.gpr[HV_RSP], 0x7ff0); /* from the VMCB */
	assert_int_equal(f->ex.st.gpr[HV_RCX], 0x1001); /* from the stub */
	assert_int_equal(f->ex.st.gpr[HV_R15], 0x100f);
	assert_int_equal(f->ex.st.cr3, PT_GPA);
	assert_int_equal(f->ex.st.efer, EFER_LME_LMA_SVME);
	f->vmcb.save.cpl = 4;
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_BAD_STATE);
	assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
}

/* ---- exceptions 0x40 + vector ---- */

static void test_exceptions(void **state)
{
	struct fx *f = *state;
	/* APM Vol. 2, Table 8-1: vectors that push an error code. */
	static const uint8_t with_error[32] = {[8] = 1,  [10] = 1, [11] = 1, [12] = 1, [13] = 1,
	                                       [14] = 1, [17] = 1, [21] = 1, [29] = 1, [30] = 1};
	for (uint32_t vec = 0; vec < 32; vec++) {
		vmexit(f, 0x40 + vec, 0xabcd, 0xdead000);
		assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
		assert_int_equal(f->ex.reason, HV_EXIT_EXCEPTION);
		uint64_t want = vec | (3u << 8) | (1u << 31);
		if (with_error[vec])
			want |= (1u << 11) | (0xabcdull << 32);
		assert_int_equal(f->ex.qual, want);
		assert_int_equal(f->ex.gla, vec == 14 ? 0xdead000 : 0);
	}
}

/* ---- NPF: every EXITINFO1 combination (APM Vol. 2, 15.25.6) ---- */

static void test_npf_exitinfo1(void **state)
{
	struct fx *f = *state;
	/* Mapped RWX RAM and the unmapped console device of partition 0. */
	const uint64_t gpas[2] = {0x3000, MOCK_CONSOLE_GPA + 8};
	for (int g = 0; g < 2; g++) {
		for (uint64_t low = 0; low < 32; low++) {
			for (uint64_t where = 0; where < 4; where++) {
				uint64_t info = low | (where << 32);
				vmexit(f, 0x400, info, gpas[g]);
				enum hv_xlat x = read_exit(f, 0);
				bool rsv = low & 8, final = where & 1, walk = where & 2;
				if (rsv || final == walk) {
					assert_int_equal(x, HV_XLAT_BAD_INFO);
					assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
					continue;
				}
				assert_int_equal(x, HV_XLAT_OK);
				assert_int_equal(f->ex.reason, HV_EXIT_EPT_VIOLATION);
				assert_int_equal(f->ex.gpa, gpas[g]);
				uint64_t access = (low & 16) ? 4 : (low & 2) ? 2 : 1;
				/* Present: the permissions of the mapping (RWX for
				 * RAM); not present: none. */
				uint64_t perms = !(low & 1) ? 0 : g == 0 ? 7 : 1;
				assert_int_equal(f->ex.qual, access | (perms << 3));
				assert_int_equal(f->ex.insn_len, 0);
			}
		}
	}
}

/* What QEMU 7.2 TCG (-cpu EPYC) reported on this machine class. */
static void test_npf_as_qemu_reports(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t info1, gpa, qual;
	} rows[] = {
	        {0x100000004ull, MOCK_CONSOLE_GPA + 4, 1},    /* load, unmapped: U set */
	        {0x100000007ull, 0x5007, 2 | (7 << 3)},       /* store to a present page */
	        {0x100000014ull, MOCK_CONSOLE_GPA + 0x14, 4}, /* fetch */
	        {0x200000006ull, MOCK_CONSOLE_GPA, 2},        /* guest walk: W=1 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		vmexit(f, 0x400, rows[i].info1, rows[i].gpa);
		assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
		assert_int_equal(f->ex.qual, rows[i].qual);
	}
}

/* A store to the console through the translated NPF is emulated, and the
 * same bytes reported as a guest-walk fault of a load are contained. */
static void test_npf_emulated_end_to_end(void **state)
{
	struct fx *f = *state;
	/* mov %al, (%rbx) */
	static const uint8_t mov[] = {0x88, 0x03};
	code(f, mov, sizeof(mov));
	vmexit(f, 0x400, HV_NPF_FINAL | HV_NPF_US | HV_NPF_RW, MOCK_CONSOLE_GPA);
	f->gpr[HV_RBX] = MOCK_CONSOLE_GPA; /* identity-mapped by the guest tables */
	put64(&f->vmcb, OFF_RAX, 'h');
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(res.has_mmio, 1);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_RUN);
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0 + 2);
	assert_int_equal(get64(&f->vmcb, OFF_EVENTINJ), 0);

	vmexit(f, 0x400, HV_NPF_WALK | HV_NPF_US | HV_NPF_RW, MOCK_CONSOLE_GPA);
	f->gpr[HV_RBX] = MOCK_CONSOLE_GPA;
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	/* mov (%rbx), %al: a load, which a walk fault reported as W=1 is not */
	static const uint8_t load[] = {0x8a, 0x03};
	code(f, load, sizeof(load));
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_not_equal(res.action, HV_ACT_RESUME);
}

/* ---- IOIO (APM Vol. 2, 15.10.2) ---- */

static void test_ioio(void **state)
{
	struct fx *f = *state;
	/* out %al, $0x80: size 8, port 0x80, EXITINFO2 = next RIP */
	vmexit(f, 0x07b, (0x80ull << 16) | HV_IOIO_SZ8, RIP0 + 2);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.reason, HV_EXIT_IO);
	assert_int_equal(f->ex.qual, (0x80ull << 16) | 0);
	assert_int_equal(f->ex.insn_len, 2);
	/* rep insw from port 0x3f8, with the address-size and segment bits
	 * (7:9, 10:12) set, which the Intel form does not carry. */
	uint64_t info = (0x3f8ull << 16) | HV_IOIO_SZ16 | HV_IOIO_IN | HV_IOIO_STR | HV_IOIO_REP |
	                (1u << 8) | (3u << 10);
	vmexit(f, 0x07b, info, RIP0 + 3);
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	assert_int_equal(f->ex.qual, (0x3f8ull << 16) | 1 | (1 << 3) | (1 << 4) | (1 << 5));
	assert_int_equal(f->ex.insn_len, 3);
	/* in %dx, %eax as QEMU reports it: address-size and segment zero */
	vmexit(f, 0x07b, (0x71ull << 16) | HV_IOIO_SZ32 | HV_IOIO_IN, RIP0 + 1);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.qual, (0x71ull << 16) | 3 | (1 << 3));
	/* No size bit, two size bits, or a next RIP not 1..15 bytes ahead. */
	static const uint64_t sizes[] = {0, HV_IOIO_SZ8 | HV_IOIO_SZ16, HV_IOIO_SZ16 | HV_IOIO_SZ32,
	                                 HV_IOIO_SZ8 | HV_IOIO_SZ16 | HV_IOIO_SZ32};
	for (size_t i = 0; i < 4; i++) {
		vmexit(f, 0x07b, sizes[i], RIP0 + 1);
		assert_int_equal(read_exit(f, 0), HV_XLAT_BAD_INFO);
	}
	static const uint64_t next[] = {RIP0, RIP0 + 16, RIP0 - 1};
	for (size_t i = 0; i < 3; i++) {
		vmexit(f, 0x07b, HV_IOIO_SZ8, next[i]);
		assert_int_equal(read_exit(f, 0), HV_XLAT_BAD_INFO);
	}
}

/* ---- instruction length with and without NRIPS ---- */

static void test_length_nrips(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t nrip;
		enum hv_xlat want;
	} rows[] = {{RIP0 + 1, HV_XLAT_OK},        {RIP0 + 15, HV_XLAT_OK},
	            {RIP0, HV_XLAT_NO_LENGTH},     {RIP0 + 16, HV_XLAT_NO_LENGTH},
	            {RIP0 - 2, HV_XLAT_NO_LENGTH}, {0, HV_XLAT_NO_LENGTH}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		vmexit(f, 0x072, 0, 0);
		put64(&f->vmcb, OFF_NRIP, rows[i].nrip);
		assert_int_equal(read_exit(f, NRIPS), rows[i].want);
		if (rows[i].want == HV_XLAT_OK)
			assert_int_equal(f->ex.insn_len, rows[i].nrip - RIP0);
	}
}

static void test_length_without_nrips(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t code, info1;
		uint8_t bytes[16];
		uint32_t n, len;
	} rows[] = {
	        {0x072, 0, {0x0f, 0xa2}, 2, 2},
	        {0x072, 0, {0x66, 0xf3, 0x2e, 0x0f, 0xa2}, 5, 5},
	        {0x07c, 0, {0x48, 0x0f, 0x32}, 3, 3},       /* REX.W rdmsr */
	        {0x07c, 0, {0x41, 0x66, 0x0f, 0x32}, 4, 4}, /* REX, then 66 */
	        {0x07c, 1, {0x0f, 0x30}, 2, 2},             /* wrmsr */
	        {0x07c, 1, {0x0f, 0x32}, 2, 0},             /* rdmsr is not wrmsr */
	        {0x081, 0, {0x0f, 0x01, 0xd9}, 3, 3},       /* vmmcall */
	        {0x081, 0, {0x0f, 0x01, 0xc1}, 3, 0},       /* vmcall: #UD on AMD */
	        {0x072, 0, {0xf0, 0x0f, 0xa2}, 3, 0},       /* LOCK: #UD */
	        {0x072, 0, {0x90, 0x0f, 0xa2}, 3, 0},       /* not at RIP */
	        {0x072,
	         0,
	         {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	          0x0f, 0xa2},
	         15,
	         15}, /* 13 prefixes: exactly 15 bytes */
	        {0x072,
	         0,
	         {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	          0x66, 0x0f, 0xa2},
	         16,
	         0}, /* 16 bytes: longer than any instruction */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		code(f, rows[i].bytes, rows[i].n);
		vmexit(f, rows[i].code, rows[i].info1, 0);
		put64(&f->vmcb, OFF_NRIP, RIP0 + 7); /* ignored without NRIPS */
		enum hv_xlat x = read_exit(f, 0);
		if (rows[i].len == 0) {
			assert_int_equal(x, HV_XLAT_NO_LENGTH);
			assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
		} else {
			assert_int_equal(x, HV_XLAT_OK);
			assert_int_equal(f->ex.insn_len, rows[i].len);
		}
	}
	/* No system to fetch through, or code the partition cannot reach. */
	static const uint8_t cpuid[] = {0x0f, 0xa2};
	code(f, cpuid, sizeof(cpuid));
	vmexit(f, 0x072, 0, 0);
	assert_int_equal(hv_svm_exit_read(NULL, 0, 0, &f->vmcb, f->gpr, 0, &f->ex),
	                 HV_XLAT_NO_LENGTH);
	assert_int_equal(hv_svm_exit_read(&f->env->sys, 5, 0, &f->vmcb, f->gpr, 0, &f->ex),
	                 HV_XLAT_NO_LENGTH);
	put64(&f->vmcb, OFF_RIP, 0x40000000ull); /* beyond partition 0's RAM */
	assert_int_equal(read_exit(f, 0), HV_XLAT_NO_LENGTH);
}

/* Outside 64-bit mode 40-4F are INC/DEC, and CS.base is added to RIP. */
static void test_length_legacy_mode(void **state)
{
	struct fx *f = *state;
	static const uint8_t rex_cpuid[] = {0x48, 0x0f, 0xa2};
	code(f, rex_cpuid, sizeof(rex_cpuid));
	vmexit(f, 0x072, 0, 0);
	uint16_t attrib = 0x9b | (1u << 10); /* D/B, not L */
	memcpy((uint8_t *)&f->vmcb + OFF_CS_ATTRIB, &attrib, sizeof(attrib));
	assert_int_equal(read_exit(f, 0), HV_XLAT_NO_LENGTH);
	/* 32-bit code without paging: linear = CS.base + EIP = physical. */
	static const uint8_t cpuid[] = {0x0f, 0xa2};
	code(f, cpuid, sizeof(cpuid));
	put64(&f->vmcb, OFF_CR0, 1);
	put64(&f->vmcb, OFF_EFER, 0x1000);
	put64(&f->vmcb, OFF_CS_BASE, RIP0 - 0x100);
	put64(&f->vmcb, OFF_RIP, 0x100);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.insn_len, 2);
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_CPUID, HV_VENDOR_AMD, false, rex_cpuid, 3),
	                 0);
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_CPUID, HV_VENDOR_AMD, true, rex_cpuid, 3), 3);
	static const uint8_t vmcall[] = {0x0f, 0x01, 0xc1};
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_VMCALL, HV_VENDOR_INTEL, true, vmcall, 3), 3);
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_VMCALL, HV_VENDOR_AMD, true, vmcall, 3), 0);
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_VMCALL, HV_VENDOR_INTEL, true, vmcall, 2), 0);
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_IO, HV_VENDOR_AMD, true, vmcall, 3), 0);
	static const uint8_t hlt[] = {0xf3, 0xf4};
	assert_int_equal(hv_insn_len_for_exit(HV_EXIT_HLT, HV_VENDOR_AMD, true, hlt, 2), 2);
}

/* ---- back into the VMCB ---- */

static void test_write_resume(void **state)
{
	struct fx *f = *state;
	vmexit(f, 0x072, 0, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
	put64(&f->vmcb, OFF_RAX, 0); /* leaf 0 */
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_RUN);
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0 + 2);
	assert_int_equal(get64(&f->vmcb, OFF_RAX), f->ex.st.gpr[HV_RAX]);
	assert_int_equal(f->gpr[HV_RBX], f->ex.st.gpr[HV_RBX]);
	assert_int_equal(f->gpr[HV_RCX], f->ex.st.gpr[HV_RCX]);
	assert_int_equal(get64(&f->vmcb, OFF_RSP), 0x7ff0);
	assert_int_equal(get64(&f->vmcb, OFF_EVENTINJ), 0);
}

static void test_write_inject(void **state)
{
	struct fx *f = *state;
	/* rdmsr of an MSR the policy denies: #GP(0), RIP stays. */
	vmexit(f, 0x07c, 0, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
	f->gpr[HV_RCX] = 0xc0010114; /* VM_CR */
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_INJECT);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_RUN);
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0);
	/* APM Vol. 2, Figure 15-5: vector 13, type 3, EV, V, error code 0. */
	assert_int_equal(get64(&f->vmcb, OFF_EVENTINJ), 13 | (3u << 8) | (1u << 11) | (1u << 31));
	/* Without an error code, EV stays clear. */
	res.vector = 6;
	res.has_error_code = 0;
	res.error_code = 0;
	hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res);
	assert_int_equal(get64(&f->vmcb, OFF_EVENTINJ), 6 | (3u << 8) | (1u << 31));
	res.vector = 14;
	res.has_error_code = 1;
	res.error_code = 0x1d;
	hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res);
	assert_int_equal(get64(&f->vmcb, OFF_EVENTINJ),
	                 14 | (3u << 8) | (1u << 11) | (1u << 31) | (0x1dull << 32));
}

static void test_write_guest_msr(void **state)
{
	struct fx *f = *state;
	/* wrmsr EFER = LME|LMA|NXE: into the VMCB, with SVME kept. */
	vmexit(f, 0x07c, 1, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 2);
	f->gpr[HV_RCX] = 0xc0000080;
	f->gpr[HV_RDX] = 0;
	put64(&f->vmcb, OFF_RAX, 0xd00);
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(res.msr.valid, 1);
	hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res);
	assert_int_equal(get64(&f->vmcb, OFF_EFER), 0xd00 | (1u << 12));
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0 + 2);
	/* The other VMCB-held MSRs land at their offsets. */
	static const struct {
		uint32_t msr;
		size_t off;
	} at[] = {{0xc0000082, OFF_LSTAR}, {0xc0000100, OFF_FS_BASE}, {0x277, OFF_GPAT}};
	for (size_t i = 0; i < 3; i++) {
		res.msr = (struct hv_msr_apply){.msr = at[i].msr, .valid = 1, .value = 0x1234 + i};
		hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res);
		assert_int_equal(get64(&f->vmcb, at[i].off), 0x1234 + i);
		assert_true(hv_svm_msr_in_vmcb(at[i].msr));
	}
	assert_false(hv_svm_msr_in_vmcb(0xc0000103)); /* TSC_AUX: the platform's */
}

/* CR0/CR4 write intercepts (APM Vol. 2, 15.9; exit codes 0x10 + n): the
 * instruction is decoded from the bytes at RIP, cross-checked with what
 * the processor reports, and an allowed value lands in the VMCB. */
static void test_cr_write(void **state)
{
	struct fx *f = *state;
	static const uint8_t mov_cr0_rax[] = {0x0f, 0x22, 0xc0},
	                     mov_cr4_r13[] = {0x41, 0x0f, 0x22, 0xe5}, clts[] = {0x0f, 0x06},
	                     lmsw_mem[] = {0x0f, 0x01, 0x30};
	/* MOV CR0, RAX with WP and MP set: allowed, loaded, RIP past it. */
	code(f, mov_cr0_rax, sizeof(mov_cr0_rax));
	vmexit(f, 0x010, 0, 0);
	put64(&f->vmcb, OFF_RAX, 0x80010003ull);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.reason, HV_EXIT_CR_WRITE);
	assert_int_equal(f->ex.qual, 0);
	assert_int_equal(f->ex.insn_len, 3);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_RUN);
	assert_int_equal(get64(&f->vmcb, OFF_CR0), 0x80010003ull);
	assert_int_equal(get64(&f->vmcb, OFF_CR4), CR4_PAE);
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0 + 3);
	/* MOV CR4, R13 setting VMXE: refused, the VMCB keeps CR4. */
	code(f, mov_cr4_r13, sizeof(mov_cr4_r13));
	vmexit(f, 0x014, 0, 0);
	f->gpr[HV_R13] = CR4_PAE | (1ull << 13);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.qual, 4 | (13ull << 8));
	assert_int_equal(f->ex.insn_len, 4);
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_not_equal(res.action, HV_ACT_RESUME);
	hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res);
	assert_int_equal(get64(&f->vmcb, OFF_CR4), CR4_PAE);
	/* Decode assists name the GPR: it must be the one the bytes name. */
	vmexit(f, 0x014, HV_SVM_CR_MOV | 13, 0);
	f->gpr[HV_R13] = CR4_PAE;
	assert_int_equal(read_exit(f, HV_SVM_FEAT_DECODE_ASSISTS), HV_XLAT_OK);
	vmexit(f, 0x014, HV_SVM_CR_MOV | 0, 0);
	assert_int_equal(read_exit(f, HV_SVM_FEAT_DECODE_ASSISTS), HV_XLAT_BAD_INFO);
	/* nRIP must agree with the decoded length. */
	vmexit(f, 0x014, 0, 0);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 4);
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_OK);
	put64(&f->vmcb, OFF_NRIP, RIP0 + 3);
	assert_int_equal(read_exit(f, NRIPS), HV_XLAT_BAD_INFO);
	/* A CR0 write exit at a MOV to CR4 (the bytes changed), CLTS, and
	 * LMSW from memory, which is not decoded. */
	vmexit(f, 0x010, 0, 0);
	assert_int_equal(read_exit(f, 0), HV_XLAT_NO_LENGTH);
	assert_int_equal(f->ex.reason, HV_EXIT_COUNT);
	code(f, clts, sizeof(clts));
	vmexit(f, 0x010, 0, 0);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	assert_int_equal(f->ex.qual, HV_QUAL_CR_CLTS);
	code(f, lmsw_mem, sizeof(lmsw_mem));
	vmexit(f, 0x010, 0, 0);
	assert_int_equal(read_exit(f, 0), HV_XLAT_NO_LENGTH);
	assert_int_equal(hv_svm_exit_read(NULL, 0, 0, &f->vmcb, f->gpr, 0, &f->ex),
	                 HV_XLAT_NO_LENGTH);
}

static void test_write_stop(void **state)
{
	struct fx *f = *state;
	/* HLT halts; an exit that cannot be translated halts as a bad record. */
	vmexit(f, 0x078, 0, 0);
	assert_int_equal(read_exit(f, 0), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_STOP);
	assert_int_equal(get64(&f->vmcb, OFF_RIP), RIP0);

	mock_env_free(f->env);
	f->env = mock_env_new(mock_config_one);
	assert_non_null(f->env);
	vmexit(f, 0x060, 0, 0);
	assert_int_equal(read_exit(f, 0), HV_XLAT_UNKNOWN_EXIT);
	hv_handle_exit(&f->env->sys, &f->ex, &res);
	assert_int_equal(res.action, HV_ACT_HALT);
	assert_int_equal(res.halt_reason, HV_HALT_BAD_EXIT);
	assert_int_equal(hv_svm_exit_write(&f->vmcb, f->gpr, &f->ex, &res), HV_VERDICT_STOP);
	assert_string_equal(hv_xlat_str(HV_XLAT_NO_LENGTH), "instruction length unknown");
	assert_string_equal(hv_xlat_str(HV_XLAT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_state_read, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_exceptions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_npf_exitinfo1, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_npf_as_qemu_reports, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_npf_emulated_end_to_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ioio, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_length_nrips, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_length_without_nrips, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_length_legacy_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_resume, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_inject, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_guest_msr, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cr_write, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_stop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
