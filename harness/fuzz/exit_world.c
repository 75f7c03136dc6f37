/* The shared world of the raw-exit targets (exit_world.h). */
#include "exit_world.h"

#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "hv/hcall.h"
#include "observer.h"
#include "oracle.h"

static struct {
	struct mock_env env;
	struct hx_observer obs;
	struct hx_oracle *oracle;
	struct hv_system sys_snap;
	struct hv_pool pool_snap;
	uint8_t *pool_pages;
	uint8_t code_snap[EW_CODE_SIZE];
} * w;

static void on_violation(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	(void)ctx;
	(void)index;
	fz_fail(hv_invariant_id(inv), "%s", msg);
}

static void build(uint32_t vendor)
{
	w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	struct hv_system_config *cfg = &w->env.cfg;
	mock_config_one(cfg);
	cfg->vendor = vendor;
	cfg->partitions[0].hcall_allowed = (1u << HV_HC_VERSION) | (1u << HV_HC_CONSOLE_WRITE) |
	                                   (1u << HV_HC_YIELD) | (1u << HV_HC_SHUTDOWN);
	/* The PC's RTC and COM1, so raw IOIO / I/O-instruction exits reach
	 * the device models (and IO-GUARD) as well as the closed ports. */
	struct hv_partition_config *p0 = &cfg->partitions[0];
	p0->io[p0->nio++] =
	        (struct hv_io_device){.base = 0x70, .type = HV_IO_RTC, .init = 1796391959};
	p0->io[p0->nio++] = (struct hv_io_device){.base = 0x3f8, .type = HV_IO_UART};
	if (mock_env_start(&w->env) != HV_OK)
		abort();
	mock_identity_page_tables(&w->env, MOCK_P0_RAM_HPA, EW_PT_GPA);
	hx_observer_init(&w->obs, &mock_platform_ops, &w->env.plat);
	hx_observer_install(&w->obs, &w->env.sys);
	w->oracle = hx_oracle_new(&w->env.sys, on_violation, NULL);
	if (!w->oracle)
		abort();
	w->sys_snap = w->env.sys;
	w->pool_snap = w->env.pool;
	size_t bytes = (size_t)w->env.pool.used << HV_PAGE_SHIFT;
	w->pool_pages = malloc(bytes ? bytes : 1);
	if (!w->pool_pages)
		abort();
	memcpy(w->pool_pages, w->env.pool.mem, bytes);
	mock_peek(&w->env, MOCK_P0_RAM_HPA + EW_CODE_GPA, w->code_snap, EW_CODE_SIZE);
}

struct mock_env *ew_reset(uint32_t vendor)
{
	if (!w) {
		build(vendor);
		return &w->env;
	}
	struct mock_env *env = &w->env;
	env->sys = w->sys_snap;
	env->pool = w->pool_snap;
	memcpy(env->pool.mem, w->pool_pages, (size_t)env->pool.used << HV_PAGE_SHIFT);
	mock_poke(env, MOCK_P0_RAM_HPA + EW_CODE_GPA, w->code_snap, EW_CODE_SIZE);
	env->plat.console_len = 0;
	hx_oracle_reset(w->oracle);
	return env;
}

void ew_code(uint64_t gpa, const uint8_t *bytes, size_t n)
{
	if (gpa < EW_CODE_GPA || gpa - EW_CODE_GPA >= EW_CODE_SIZE)
		return;
	uint64_t room = EW_CODE_SIZE - (gpa - EW_CODE_GPA);
	mock_poke(&w->env, MOCK_P0_RAM_HPA + gpa, bytes, n < room ? n : (size_t)room);
}

void ew_handle(struct hv_exit *ex, struct hv_result *res)
{
	struct hv_system *sys = &w->env.sys;
	hx_observer_begin_exit(&w->obs);
	hx_oracle_before(w->oracle, sys, ex);
	hv_handle_exit(sys, ex, res);
	struct hx_obs_view view = hx_observer_view(&w->obs);
	hx_oracle_after(w->oracle, sys, 0, ex, res, &view);
}
