/* Control-register writes (hv/cr.h): the value each instruction loads, the
 * architecture's #GP cases and the partition policy, the decoder of the
 * instructions for platforms that do not report them, and the policy
 * under both containment choices. Values are written from the SDM here
 * (Vol. 3A Figure 2-7; Vol. 2A CLTS; Vol. 2B LMSW, MOV to CR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/cr.h"
#include "hv/exit.h"
#include "hv/insn_len.h"
#include "mock_config.h"

#define CR0_GUEST 0x80010033ull /* PE MP ET NE WP PG */
#define CR4_GUEST 0x620ull      /* PAE OSFXSR OSXMMEXCPT */
#define EFER_LMA 0xd00ull       /* LME LMA NXE */

/* p0 halts on a violation, p1 injects #GP. */
static void config_cr(struct hv_system_config *cfg)
{
	mock_config_two(cfg);
	cfg->partitions[1].contain = HV_CONTAIN_INJECT_GP;
}

static int setup(void **state)
{
	struct mock_env *env = mock_env_new(config_cr);
	if (!env)
		return -1;
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	mock_env_free(*state);
	return 0;
}

static struct hv_result cr_exit(struct mock_env *env, uint32_t part, uint64_t qual, uint64_t value,
                                uint32_t len, struct hv_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->reason = HV_EXIT_CR_WRITE;
	e->partition = part;
	e->insn_len = len;
	e->qual = qual;
	e->st.rip = 0x1000;
	e->st.cr0 = CR0_GUEST;
	e->st.cr4 = CR4_GUEST;
	e->st.cr3 = 0x3000;
	e->st.efer = EFER_LMA;
	e->st.gpr[HV_R13] = value;
	struct hv_result res;
	hv_handle_exit(&env->sys, e, &res);
	return res;
}

#define MOV(cr, gpr) ((uint64_t)(cr) | ((uint64_t)(gpr) << 8))

static void test_check_rules(void **state)
{
	(void)state;
	static const struct {
		uint32_t cr;
		uint64_t old, v, efer, cr3;
		enum hv_cr_verdict want;
	} rows[] = {
	        {0, CR0_GUEST, CR0_GUEST, EFER_LMA, 0, HV_CR_ALLOW},
	        {0, CR0_GUEST, CR0_GUEST | 8, EFER_LMA, 0, HV_CR_ALLOW},            /* TS */
	        {0, CR0_GUEST, CR0_GUEST | (3ull << 29), EFER_LMA, 0, HV_CR_ALLOW}, /* CD NW */
	        {0, CR0_GUEST, CR0_GUEST | (1ull << 29), EFER_LMA, 0, HV_CR_FAULT}, /* NW alone */
	        {0, CR0_GUEST, CR0_GUEST | (1ull << 32), EFER_LMA, 0, HV_CR_FAULT}, /* bit 32 */
	        {0, CR0_GUEST, CR0_GUEST | (1ull << 6), EFER_LMA, 0, HV_CR_FAULT},  /* bit 6 */
	        {0, CR0_GUEST, CR0_GUEST & ~1ull, EFER_LMA, 0, HV_CR_FAULT}, /* PG without PE */
	        {0, CR0_GUEST, CR0_GUEST & ~(1ull << 31), EFER_LMA, 0, HV_CR_FAULT}, /* long mode */
	        {0, CR0_GUEST, CR0_GUEST & ~(1ull << 31), 0, 0, HV_CR_DENIED}, /* paging off */
	        {0, CR0_GUEST, 0x10, 0, 0, HV_CR_DENIED},                      /* real mode */
	        {0, CR0_GUEST, CR0_GUEST & ~(1ull << 16), EFER_LMA, 0, HV_CR_DENIED}, /* WP */
	        {4, CR4_GUEST, CR4_GUEST | 0x80, EFER_LMA, 0, HV_CR_ALLOW},           /* PGE */
	        {4, CR4_GUEST, CR4_GUEST | 0x300000, EFER_LMA, 0, HV_CR_ALLOW},     /* SMEP SMAP */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 17), EFER_LMA, 0, HV_CR_ALLOW}, /* PCIDE */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 17), EFER_LMA, 0x3001, HV_CR_FAULT},
	        {4, CR4_GUEST | (1ull << 17), CR4_GUEST | (1ull << 17), EFER_LMA, 0x3001,
	         HV_CR_ALLOW}, /* already set */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 13), EFER_LMA, 0, HV_CR_DENIED}, /* VMXE */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 14), EFER_LMA, 0, HV_CR_DENIED}, /* SMXE */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 22), EFER_LMA, 0, HV_CR_DENIED}, /* PKE */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 12), EFER_LMA, 0, HV_CR_FAULT},  /* LA57 */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 12), 0, 0, HV_CR_DENIED},
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 15), EFER_LMA, 0, HV_CR_FAULT}, /* reserved */
	        {4, CR4_GUEST, CR4_GUEST | (1ull << 25), EFER_LMA, 0, HV_CR_FAULT},
	        {4, CR4_GUEST, CR4_GUEST & ~0x20ull, EFER_LMA, 0, HV_CR_FAULT}, /* PAE */
	        {4, CR4_GUEST, CR4_GUEST & ~0x20ull, 0, 0, HV_CR_DENIED},
	        {3, 0, 0, EFER_LMA, 0, HV_CR_DENIED}, /* not CR0 or CR4 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = NULL;
		enum hv_cr_verdict v = hv_cr_check(rows[i].cr, rows[i].old, rows[i].v, rows[i].efer,
		                                   rows[i].cr3, &why);
		if (v != rows[i].want)
			fail_msg("row %zu: CR%u 0x%llx: verdict %d, want %d (%s)", i, rows[i].cr,
			         (unsigned long long)rows[i].v, v, rows[i].want, why ? why : "");
		assert_non_null(why);
		assert_true((v == HV_CR_ALLOW) == (why[0] == 0));
	}
}

static void test_mov_allowed_and_loaded(void **state)
{
	struct mock_env *env = *state;
	struct hv_exit e;
	struct hv_result r = cr_exit(env, 0, MOV(0, HV_R13), CR0_GUEST | 8, 3, &e);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(e.st.cr0, CR0_GUEST | 8);
	assert_int_equal(e.st.cr4, CR4_GUEST);
	assert_int_equal(e.st.rip, 0x1003);
	r = cr_exit(env, 0, MOV(4, HV_R13), CR4_GUEST | 0x80, 4, &e);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(e.st.cr4, CR4_GUEST | 0x80);
	assert_int_equal(e.st.cr0, CR0_GUEST);
	assert_int_equal(e.st.rip, 0x1004);
}

static void test_refusals(void **state)
{
	struct mock_env *env = *state;
	struct hv_exit e;
	/* Policy: p0 halts, p1 injects #GP; the CR stays. */
	struct hv_result r = cr_exit(env, 0, MOV(0, HV_R13), CR0_GUEST & ~(1ull << 16), 3, &e);
	assert_int_equal(r.action, HV_ACT_HALT);
	assert_int_equal(r.halt_reason, HV_HALT_VIOLATION);
	assert_int_equal(e.st.cr0, CR0_GUEST);
	r = cr_exit(env, 1, MOV(4, HV_R13), CR4_GUEST | (1ull << 13), 3, &e);
	assert_int_equal(r.action, HV_ACT_INJECT);
	assert_int_equal(r.vector, HV_VEC_GP);
	assert_int_equal(e.st.cr4, CR4_GUEST);
	assert_int_equal(e.st.rip, 0x1000);
	/* The architecture: #GP whatever the policy. */
	mock_env_stop(env);
	assert_int_equal(mock_env_start(env), HV_OK);
	r = cr_exit(env, 0, MOV(0, HV_R13), CR0_GUEST | (1ull << 40), 3, &e);
	assert_int_equal(r.action, HV_ACT_INJECT);
	assert_int_equal(r.vector, HV_VEC_GP);
	assert_true(r.has_error_code);
	assert_int_equal(r.error_code, 0);
}

static void test_clts_lmsw(void **state)
{
	struct mock_env *env = *state;
	struct hv_exit e;
	memset(&e, 0, sizeof(e));
	/* CLTS clears TS only. */
	e.reason = HV_EXIT_CR_WRITE;
	e.insn_len = 2;
	e.qual = HV_QUAL_CR_CLTS;
	e.st.cr0 = CR0_GUEST | 8;
	e.st.cr4 = CR4_GUEST;
	e.st.efer = EFER_LMA;
	struct hv_result r;
	hv_handle_exit(&env->sys, &e, &r);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(e.st.cr0, CR0_GUEST);
	/* LMSW loads MP, EM, TS from its source and cannot clear PE. */
	memset(&e, 0, sizeof(e));
	e.reason = HV_EXIT_CR_WRITE;
	e.insn_len = 3;
	e.qual = HV_QUAL_CR_LMSW | (0xfff4ull << HV_QUAL_CR_LMSW_SHIFT); /* PE 0, EM 1, TS 0 */
	e.st.cr0 = CR0_GUEST;                                            /* MP 1 */
	e.st.cr4 = CR4_GUEST;
	e.st.efer = EFER_LMA;
	hv_handle_exit(&env->sys, &e, &r);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(e.st.cr0, (CR0_GUEST & ~0xeull) | 0x4); /* PE kept, EM set, MP cleared */
}

static void test_malformed_records(void **state)
{
	struct mock_env *env = *state;
	struct hv_exit e;
	static const uint64_t quals[] = {
	        3,                   /* MOV to CR3 */
	        8,                   /* CR8 */
	        1ull << 4,           /* MOV from CR0 */
	        4 | HV_QUAL_CR_CLTS, /* CLTS of CR4 */
	        4 | HV_QUAL_CR_LMSW, /* LMSW of CR4 */
	        HV_QUAL_CR_LMSW | HV_QUAL_CR_LMSW_MEM,
	};
	for (size_t i = 0; i < sizeof(quals) / sizeof(quals[0]); i++) {
		mock_env_stop(env);
		assert_int_equal(mock_env_start(env), HV_OK);
		struct hv_result r = cr_exit(env, 1, quals[i], CR0_GUEST, 3, &e);
		assert_int_equal(r.action, HV_ACT_HALT);
		assert_int_equal(r.halt_reason, HV_HALT_BAD_EXIT);
	}
	mock_env_stop(env);
	assert_int_equal(mock_env_start(env), HV_OK);
	struct hv_result r = cr_exit(env, 1, MOV(0, HV_R13), CR0_GUEST, 0, &e); /* no length */
	assert_int_equal(r.action, HV_ACT_HALT);
	assert_int_equal(r.halt_reason, HV_HALT_BAD_EXIT);
}

static void test_decode(void **state)
{
	(void)state;
	uint64_t gpr[HV_GPR_COUNT] = {0};
	gpr[HV_RAX] = 0x1234000e;
	gpr[HV_R9] = 0xabcd0009;
	static const struct {
		uint32_t cr;
		bool lm;
		uint8_t b[8];
		uint32_t n, len;
		uint64_t qual;
	} rows[] = {
	        {0, true, {0x0f, 0x22, 0xc0}, 3, 3, MOV(0, HV_RAX)},
	        {4, true, {0x0f, 0x22, 0xe0}, 3, 3, MOV(4, HV_RAX)},
	        {4, true, {0x41, 0x0f, 0x22, 0xe5}, 4, 4, MOV(4, HV_R13)}, /* REX.B */
	        {0, true, {0x0f, 0x22, 0x00}, 3, 3, MOV(0, HV_RAX)},       /* mod ignored */
	        {0, true, {0x44, 0x0f, 0x22, 0xc0}, 4, 0, 0},              /* REX.R: CR8 */
	        {4, true, {0x0f, 0x22, 0xc0}, 3, 0, 0},                    /* CR0, not CR4 */
	        {0, true, {0x0f, 0x06}, 2, 2, HV_QUAL_CR_CLTS},
	        {4, true, {0x0f, 0x06}, 2, 0, 0},
	        {0, true, {0x0f, 0x01, 0xf0}, 3, 3, HV_QUAL_CR_LMSW | (0xeull << 16)},
	        {0, true, {0x41, 0x0f, 0x01, 0xf1}, 4, 4, HV_QUAL_CR_LMSW | (0x9ull << 16)},
	        {0, true, {0x0f, 0x01, 0x30}, 3, 0, 0}, /* LMSW [rax] */
	        {0, true, {0x0f, 0x01, 0xf8}, 3, 0, 0}, /* /7 */
	        {0, true, {0x66, 0x0f, 0x22, 0xc0}, 4, 4, MOV(0, HV_RAX)},
	        {0, true, {0xf0, 0x0f, 0x22, 0xc0}, 4, 0, 0},  /* LOCK */
	        {0, false, {0x41, 0x0f, 0x22, 0xc0}, 4, 0, 0}, /* INC ECX outside 64-bit */
	        {0, true, {0x0f, 0x22}, 2, 0, 0},              /* cut short */
	        {0, true, {0x0f}, 1, 0, 0},
	        {0, true, {0x0f, 0x20, 0xc0}, 3, 0, 0}, /* MOV from CR0 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t q = 0xdead;
		uint32_t len = hv_insn_decode_cr_write(rows[i].cr, rows[i].lm, rows[i].b, rows[i].n,
		                                       gpr, &q);
		if (len != rows[i].len || (len && q != rows[i].qual))
			fail_msg("row %zu: len %u qual 0x%llx, want %u 0x%llx", i, len,
			         (unsigned long long)q, rows[i].len,
			         (unsigned long long)rows[i].qual);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_check_rules),
	        cmocka_unit_test_setup_teardown(test_mov_allowed_and_loaded, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_clts_lmsw, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_malformed_records, setup, teardown),
	        cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
