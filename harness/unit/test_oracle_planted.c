/* A wrong entry in the handlers' MSR allow-list is caught by the oracle's
 * own MSR spec. This test links a copy of the core compiled with
 * -DHV_TEST_PLANT_PASSTHROUGH_MSR=0x3b (harness/unit/CMakeLists.txt), whose
 * allow-list wrongly makes IA32_TSC_ADJUST safe to pass through read-write:
 * a config passing it through is accepted, the guest's WRMSR reaches the
 * host's wrmsr (moving the TSC every partition shares, SDM Vol. 3B,
 * "Time-Stamp Counter Adjustment"), and the oracle, which does not share
 * the handlers' table, must report MSR-GUARD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/msr.h"
#include "mock_config.h"
#include "observer.h"
#include "oracle.h"

#define MSR_TSC_ADJUST 0x3bu

struct fx {
	struct mock_env env;
	struct hx_observer obs;
	uint32_t count[HV_INV_COUNT];
	char last[HX_ORACLE_MSG_MAX];
};

static void on_report(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct fx *f = ctx;
	(void)index;
	assert_true(inv < HV_INV_COUNT);
	f->count[inv]++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

static void test_planted_passthrough_is_caught(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	struct hv_partition_config *p0 = &f->env.cfg.partitions[0];
	p0->msr.rules[p0->msr.nrules++] =
	        (struct hv_msr_rule){.msr = MSR_TSC_ADJUST, .mode = HV_MSR_PASS_RW};

	/* The planted core accepts the config ... */
	struct hv_config_diag diag;
	if (hv_config_validate(&f->env.cfg, &diag) != HV_OK)
		fail_msg("the planted core refused pass-rw of MSR 0x3b (%s): is "
		         "HV_TEST_PLANT_PASSTHROUGH_MSR implemented in handlers/src/msr.c?",
		         hv_config_error_str(diag.error));
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	mock_set_msr(&f->env.plat, MSR_TSC_ADJUST, 0);
	hx_observer_init(&f->obs, NULL, NULL);
	hx_observer_install(&f->obs, &f->env.sys);
	struct hx_oracle *o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(o);
	assert_int_equal(f->count[HV_INV_MSR_GUARD], 0);

	/* ... and forwards the guest's WRMSR to the host: the plant works. */
	struct hv_exit x = {.reason = HV_EXIT_WRMSR, .partition = 0, .vcpu = 0};
	x.st.rip = 0x401000;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull;
	x.st.cr4 = 0x620;
	x.st.efer = HV_EFER_LME | HV_EFER_LMA;
	x.st.gpr[HV_RCX] = MSR_TSC_ADJUST;
	x.st.gpr[HV_RAX] = 0x10000000;
	struct hv_result r;
	hx_observer_begin_exit(&f->obs);
	hx_oracle_before(o, &f->env.sys, &x);
	hv_handle_exit(&f->env.sys, &x, &r);
	struct hx_obs_view v = hx_observer_view(&f->obs);
	hx_oracle_after(o, &f->env.sys, 0, &x, &r, &v);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_true(mock_msr_written(&f->env.plat, MSR_TSC_ADJUST));

	/* The oracle reports it from its own spec. */
	assert_int_equal(f->count[HV_INV_MSR_GUARD], 1);
	assert_non_null(strstr(f->last, "0x3b"));
	assert_non_null(strstr(f->last, "IA32_TSC_ADJUST"));

	hx_oracle_free(o);
	mock_env_stop(&f->env);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_planted_passthrough_is_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
