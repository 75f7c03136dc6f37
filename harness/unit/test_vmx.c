/* Intel VMX exit translation (hv/vmx.h) checked against the SDM: basic
 * exit reasons from Vol. 3D Appendix C, the exit-information fields of
 * Vol. 3C 28.2 (I/O qualification, interruption information, EPT-violation
 * qualification, instruction length) and event injection of 26.6, written
 * from the manual here. The field table is checked for what a VMREAD loop
 * needs: every encoding once, of the member's width, inside the struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/vmx.h"
#include "mock_config.h"

#define RIP0 0x200000ull

static struct hv_vmcs_exit vmcs;
static uint64_t gpr[HV_GPR_COUNT];
static struct hv_exit ex;

static void vmexit(uint32_t reason, uint64_t qual, uint32_t len)
{
	memset(&vmcs, 0, sizeof(vmcs));
	vmcs.exit_reason = reason;
	vmcs.exit_qual = qual;
	vmcs.exit_insn_len = len;
	vmcs.rip = RIP0;
	vmcs.rsp = 0x7ff0;
	vmcs.rflags = 2;
	vmcs.cr0 = 0x80000011;
	vmcs.efer = 0xd00;
	vmcs.ss_ar = 0x93; /* DPL 0 */
	for (int r = 0; r < HV_GPR_COUNT; r++)
		gpr[r] = 0x1000 + (uint64_t)r;
}

static enum hv_xlat read_exit(void)
{
	return hv_vmx_exit_read(0, 0, &vmcs, gpr, &ex);
}

static void test_basic_reasons(void **state)
{
	(void)state;
	static const struct {
		uint32_t reason, want;
		bool needs_len;
	} rows[] = {
	        {10, HV_EXIT_CPUID, true},        {31, HV_EXIT_RDMSR, true},
	        {32, HV_EXIT_WRMSR, true},        {18, HV_EXIT_VMCALL, true},
	        {55, HV_EXIT_XSETBV, true},       {12, HV_EXIT_HLT, false},
	        {2, HV_EXIT_TRIPLE_FAULT, false}, {48, HV_EXIT_EPT_VIOLATION, false},
	        {30, HV_EXIT_IO, true},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		vmexit(rows[i].reason, 0, 3);
		assert_int_equal(read_exit(), HV_XLAT_OK);
		assert_int_equal(ex.reason, rows[i].want);
		assert_int_equal(ex.insn_len, rows[i].needs_len ? 3 : 0);
		if (!rows[i].needs_len)
			continue;
		/* The length field must say 1..15 bytes (SDM Vol. 2A, 2.3.11). */
		static const uint32_t bad[] = {0, 16, 0xffffffff};
		for (int b = 0; b < 3; b++) {
			vmexit(rows[i].reason, 0, bad[b]);
			assert_int_equal(read_exit(), HV_XLAT_NO_LENGTH);
			assert_int_equal(ex.reason, HV_EXIT_COUNT);
		}
	}
	/* External interrupt, INVD, EPT misconfiguration, reasons past the
	 * table: not intercepted by the core. */
	static const uint32_t unknown[] = {1, 13, 49, 65, 0xffff};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		vmexit(unknown[i], 0, 2);
		assert_int_equal(read_exit(), HV_XLAT_UNKNOWN_EXIT);
		assert_int_equal(ex.reason, HV_EXIT_COUNT);
	}
	/* VM-entry failure: bit 31 with reason 33 or 34. */
	vmexit(HV_VMX_EXIT_ENTRY_FAILURE | 33, 0, 0);
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.reason, HV_EXIT_INVALID_STATE);
	vmexit(HV_VMX_EXIT_ENTRY_FAILURE | 34, 0, 0);
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.reason, HV_EXIT_INVALID_STATE);
	vmexit(HV_VMX_EXIT_ENTRY_FAILURE | 10, 0, 2);
	assert_int_equal(read_exit(), HV_XLAT_BAD_INFO);
}

static void test_state_and_cpl(void **state)
{
	(void)state;
	vmexit(10, 0, 2);
	vmcs.ss_ar = 0xf3; /* DPL 3 */
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.st.cpl, 3);
	assert_int_equal(ex.st.rip, RIP0);
	assert_int_equal(ex.st.gpr[HV_RSP], 0x7ff0);
	assert_int_equal(ex.st.gpr[HV_RAX], 0x1000);
	assert_int_equal(ex.st.gpr[HV_R15], 0x100f);
	assert_int_equal(ex.st.efer, 0xd00);
	assert_int_equal(ex.st.cr0, 0x80000011);
}

static void test_exceptions(void **state)
{
	(void)state;
	/* #GP(0x18), hardware exception with an error code. */
	vmexit(0, 0, 0);
	vmcs.exit_intr_info = 13 | (3u << 8) | (1u << 11) | (1u << 31);
	vmcs.exit_intr_error = 0x18;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.reason, HV_EXIT_EXCEPTION);
	assert_int_equal(ex.qual, 13 | (3u << 8) | (1u << 11) | (1u << 31) | (0x18ull << 32));
	/* #PF: the qualification is the linear address. */
	vmexit(0, 0xdead000, 0);
	vmcs.exit_intr_info = 14 | (3u << 8) | (1u << 11) | (1u << 31);
	vmcs.exit_intr_error = 2;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.gla, 0xdead000);
	/* #UD: no error code, bits 30:12 (NMI unblocking etc.) dropped. */
	vmexit(0, 0, 0);
	vmcs.exit_intr_info = 6 | (3u << 8) | (1u << 31) | (1u << 12);
	vmcs.exit_intr_error = 0x55;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.qual, 6 | (3u << 8) | (1u << 31));
	/* NMI (type 2) and a software exception (type 6): not intercepted;
	 * the valid bit clear: not a manual's exit. */
	vmexit(0, 0, 0);
	vmcs.exit_intr_info = 2 | (2u << 8) | (1u << 31);
	assert_int_equal(read_exit(), HV_XLAT_UNKNOWN_EXIT);
	vmcs.exit_intr_info = 3 | (6u << 8) | (1u << 31);
	assert_int_equal(read_exit(), HV_XLAT_UNKNOWN_EXIT);
	vmcs.exit_intr_info = 13 | (3u << 8);
	assert_int_equal(read_exit(), HV_XLAT_BAD_INFO);
}

static void test_io_qualification(void **state)
{
	(void)state;
	/* rep outsb to port 0x3f8 (Table 28-5), kept as it is. */
	uint64_t q = (0x3f8ull << 16) | (1 << 5) | (1 << 4) | 0;
	vmexit(30, q, 2);
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.qual, q);
	/* Reserved bits 15:7 or 63:32 set. */
	static const uint64_t bad[] = {1u << 7, 1u << 15, 1ull << 32, 1ull << 63};
	for (int i = 0; i < 4; i++) {
		vmexit(30, q | bad[i], 2);
		assert_int_equal(read_exit(), HV_XLAT_BAD_INFO);
	}
}

static void test_ept_violation(void **state)
{
	(void)state;
	/* A write with the GLA valid: GPA and GLA from their fields. */
	vmexit(48, HV_QUAL_WRITE | HV_QUAL_GLA_VALID | (1u << 8), 0xffffffff);
	vmcs.guest_phys = 0xfed00008;
	vmcs.guest_linear = 0x500008;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.gpa, 0xfed00008);
	assert_int_equal(ex.gla, 0x500008);
	assert_int_equal(ex.qual, HV_QUAL_WRITE | HV_QUAL_GLA_VALID | (1u << 8));
	assert_int_equal(ex.insn_len, 0); /* the field is undefined here */
	/* Without GLA valid the linear-address field is not used. */
	vmexit(48, HV_QUAL_READ, 0);
	vmcs.guest_phys = 0x1000;
	vmcs.guest_linear = 0x500008;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	assert_int_equal(ex.gla, 0);
}

static void test_write_back(void **state)
{
	(void)state;
	struct mock_env *env = mock_env_new(mock_config_one);
	assert_non_null(env);
	/* CPUID resumes past the instruction. */
	vmexit(10, 0, 2);
	gpr[HV_RAX] = 0;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(hv_vmx_exit_write(&vmcs, gpr, &ex, &res), HV_VERDICT_RUN);
	assert_int_equal(vmcs.rip, RIP0 + 2);
	assert_int_equal(gpr[HV_RBX], ex.st.gpr[HV_RBX]);
	assert_int_equal(vmcs.entry_intr_info, 0);
	/* RDMSR of a denied MSR: #GP(0) through the entry fields (26.6). */
	vmexit(31, 0, 2);
	gpr[HV_RCX] = 0xc0010114;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_INJECT);
	hv_vmx_exit_write(&vmcs, gpr, &ex, &res);
	assert_int_equal(vmcs.rip, RIP0);
	assert_int_equal(vmcs.entry_intr_info, 13 | (3u << 8) | (1u << 11) | (1u << 31));
	assert_int_equal(vmcs.entry_exc_error, 0);
	assert_int_equal(vmcs.entry_insn_len, 0);
	res.vector = 6;
	res.has_error_code = 0;
	hv_vmx_exit_write(&vmcs, gpr, &ex, &res);
	assert_int_equal(vmcs.entry_intr_info, 6 | (3u << 8) | (1u << 31));
	/* WRMSR FS_BASE lands in the VMCS field; LSTAR is the platform's. */
	vmexit(32, 0, 2);
	gpr[HV_RCX] = 0xc0000100;
	gpr[HV_RAX] = 0x5000;
	gpr[HV_RDX] = 0;
	assert_int_equal(read_exit(), HV_XLAT_OK);
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(res.msr.valid, 1);
	hv_vmx_exit_write(&vmcs, gpr, &ex, &res);
	assert_int_equal(vmcs.fs_base, 0x5000);
	assert_true(hv_vmx_msr_in_vmcs(0x277));
	assert_false(hv_vmx_msr_in_vmcs(0xc0000082));
	static const struct {
		uint32_t msr;
		size_t off;
	} at[] = {{0xc0000080, offsetof(struct hv_vmcs_exit, efer)},
	          {0x277, offsetof(struct hv_vmcs_exit, pat)},
	          {0xc0000101, offsetof(struct hv_vmcs_exit, gs_base)},
	          {0x175, offsetof(struct hv_vmcs_exit, sysenter_esp)},
	          {0x176, offsetof(struct hv_vmcs_exit, sysenter_eip)}};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		res.msr = (struct hv_msr_apply){.msr = at[i].msr, .valid = 1, .value = 0x77 + i};
		hv_vmx_exit_write(&vmcs, gpr, &ex, &res);
		uint64_t got;
		memcpy(&got, (uint8_t *)&vmcs + at[i].off, sizeof(got));
		assert_int_equal(got, 0x77 + i);
	}
	res.msr = (struct hv_msr_apply){.msr = 0x174, .valid = 1, .value = 0x10};
	hv_vmx_exit_write(&vmcs, gpr, &ex, &res);
	assert_int_equal(vmcs.sysenter_cs, 0x10);
	/* HLT halts: the loop stops the vCPU. */
	vmexit(12, 0, 1);
	assert_int_equal(read_exit(), HV_XLAT_OK);
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(hv_vmx_exit_write(&vmcs, gpr, &ex, &res), HV_VERDICT_STOP);
	mock_env_free(env);
}

/* Control-register accesses (basic reason 28, Table 28-3): MOV to CR0 or
 * CR4, CLTS and LMSW from a register are CR writes; the rest is refused.
 * An allowed write lands in the VMCS guest CR fields. */
static void test_cr_access(void **state)
{
	(void)state;
	static const struct {
		uint64_t qual;
		bool ok;
	} rows[] = {
	        {0x000, true},                  /* MOV CR0, RAX */
	        {0x004 | (13u << 8), true},     /* MOV CR4, R13 */
	        {0x020, true},                  /* CLTS */
	        {0x030 | (0xfull << 16), true}, /* LMSW AX */
	        {0x010, false},                 /* MOV from CR0 */
	        {0x003, false},                 /* MOV to CR3 */
	        {0x008, false},                 /* MOV to CR8 */
	        {0x024, false},                 /* CLTS names CR4 */
	        {0x070, false},                 /* LMSW from memory */
	        {0x000 | (1ull << 7), false},   /* reserved bit 7 */
	        {0x000 | (1ull << 12), false},  /* reserved bits 15:12 */
	        {0x000 | (1ull << 32), false},  /* reserved bits 63:32 */
	        {0x000 | (1ull << 16), false},  /* LMSW data on a MOV */
	        {0x020 | (1ull << 6), false},   /* operand type on CLTS */
	        {0x020 | (3ull << 8), false},   /* a GPR on CLTS */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		vmexit(28, rows[i].qual, 3);
		enum hv_xlat x = read_exit();
		if (rows[i].ok) {
			assert_int_equal(x, HV_XLAT_OK);
			assert_int_equal(ex.reason, HV_EXIT_CR_WRITE);
			assert_int_equal(ex.qual, rows[i].qual);
			assert_int_equal(ex.insn_len, 3);
		} else {
			if (x != HV_XLAT_BAD_INFO)
				fail_msg("row %zu (qual 0x%llx): xlat %d", i,
				         (unsigned long long)rows[i].qual, x);
			assert_int_equal(ex.reason, HV_EXIT_COUNT);
		}
	}
	struct mock_env *env = mock_env_new(mock_config_one);
	assert_non_null(env);
	vmexit(28, 0x004 | (13u << 8), 4);
	vmcs.cr4 = 0x20;
	vmcs.efer = 0xd00;
	vmcs.cr0 = 0x80010031;
	gpr[HV_R13] = 0x20 | 0x80; /* PAE PGE */
	assert_int_equal(read_exit(), HV_XLAT_OK);
	struct hv_result res;
	hv_handle_exit(&env->sys, &ex, &res);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(hv_vmx_exit_write(&vmcs, gpr, &ex, &res), HV_VERDICT_RUN);
	assert_int_equal(vmcs.cr4, 0xa0);
	assert_int_equal(vmcs.cr0, 0x80010031);
	assert_int_equal(vmcs.rip, RIP0 + 4);
	mock_env_free(env);
}

/* The VMREAD/VMWRITE table covers every member once, at its offset and
 * width, with the SDM's type for the field's direction. */
static void test_field_table(void **state)
{
	(void)state;
	uint32_t n;
	const struct hv_vmcs_field *f = hv_vmcs_fields(&n);
	uint8_t covered[sizeof(struct hv_vmcs_exit)] = {0};
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < i; j++)
			assert_int_not_equal(f[i].encoding, f[j].encoding);
		assert_int_equal(f[i].size, HV_VMCS_WIDTH_BYTES(f[i].encoding));
		assert_true(f[i].offset + f[i].size <= sizeof(struct hv_vmcs_exit));
		assert_int_equal(f[i].offset % f[i].size, 0);
		assert_true(f[i].flags != 0);
		/* Bit 0 (access type "high") is never set for a full field. */
		assert_int_equal(f[i].encoding & 1, 0);
		/* Exit information is read, never written; entry controls are
		 * written, never read. */
		if (HV_VMCS_TYPE(f[i].encoding) == 1)
			assert_int_equal(f[i].flags, HV_VMCS_F_EXIT);
		if (HV_VMCS_TYPE(f[i].encoding) == 0)
			assert_int_equal(f[i].flags, HV_VMCS_F_ENTRY);
		assert_int_not_equal(HV_VMCS_TYPE(f[i].encoding), 3); /* no host state */
		for (uint32_t b = 0; b < f[i].size; b++) {
			assert_int_equal(covered[f[i].offset + b], 0);
			covered[f[i].offset + b] = 1;
		}
	}
	uint32_t bytes = 0;
	for (size_t b = 0; b < sizeof(covered); b++)
		bytes += covered[b];
	assert_int_equal(bytes, sizeof(struct hv_vmcs_exit) - sizeof(uint32_t)); /* all but pad */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_basic_reasons), cmocka_unit_test(test_state_and_cpl),
	        cmocka_unit_test(test_exceptions),    cmocka_unit_test(test_io_qualification),
	        cmocka_unit_test(test_ept_violation), cmocka_unit_test(test_write_back),
	        cmocka_unit_test(test_field_table),   cmocka_unit_test(test_cr_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
