/* The oracle's own specifications (harness/oracle/spec_msr.c,
 * spec_cpuid.c) and caller contracts (oracle_contract.c): the tables are
 * well formed, the oracle fires on host MSR accesses the spec forbids
 * whatever the handlers' tables say, on CPUID answers that break the spec,
 * and on systems whose EPT page pool or layout breaks the core's contracts
 * even when the core accepted them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/ept.h"
#include "hv/s2_entry.h"
#include "hv/msr.h"
#include "mock_config.h"
#include "observer.h"
#include "oracle.h"
#include "spec_cpuid.h"
#include "spec_msr.h"

#define RIP0 0x401000ull

struct fx {
	struct mock_env env;
	struct hx_observer obs;
	struct hx_oracle *o;
	uint32_t count[HV_INV_COUNT];
	uint32_t total;
	uint64_t last_index;
	char last[HX_ORACLE_MSG_MAX];
	char all[4096]; /* every message, one a line */
};

static void on_report(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct fx *f = ctx;
	assert_true(inv < HV_INV_COUNT);
	f->count[inv]++;
	f->total++;
	f->last_index = index;
	snprintf(f->last, sizeof(f->last), "%s", msg);
	size_t n = strlen(f->all);
	snprintf(f->all + n, sizeof(f->all) - n, "%s\n", msg);
}

/* A fresh mocked two-partition system; configure (may be NULL) edits the
 * config before it starts. */
static struct fx *fx_new(void (*configure)(struct hv_system_config *cfg))
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	if (configure)
		configure(&f->env.cfg);
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	hx_observer_init(&f->obs, NULL, NULL);
	hx_observer_install(&f->obs, &f->env.sys);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(f->o);
	return f;
}

static void fx_free(struct fx *f)
{
	hx_oracle_free(f->o);
	mock_env_stop(&f->env);
	free(f);
}

static struct hv_exit base(uint32_t reason)
{
	struct hv_exit x = {.reason = reason};
	x.st.rip = RIP0;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull;
	x.st.cr4 = 0x620;
	x.st.efer = HV_EFER_LME | HV_EFER_LMA;
	return x;
}

static struct hv_exit ex_cpuid(uint32_t leaf)
{
	struct hv_exit x = base(HV_EXIT_CPUID);
	x.st.gpr[HV_RAX] = leaf;
	return x;
}

static struct hv_exit ex_wrmsr(uint32_t msr, uint64_t v)
{
	struct hv_exit x = base(HV_EXIT_WRMSR);
	x.st.gpr[HV_RCX] = msr;
	x.st.gpr[HV_RAX] = (uint32_t)v;
	x.st.gpr[HV_RDX] = v >> 32;
	return x;
}

/* Append a platform call to the observer log as if the handler made it. */
static void log_msr(struct fx *f, uint8_t kind, uint32_t msr, uint64_t value)
{
	struct hx_obs_log *l = &f->obs.log;
	struct hx_obs_entry *e = &l->entries[l->nentries++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->id = msr;
	e->value = value;
}

typedef void (*tamper_fn)(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t arg);

/* Handle x for real, tamper, ask the oracle. */
static uint32_t run(struct fx *f, struct hv_exit x, tamper_fn tamper, uint32_t arg)
{
	struct hv_result r;
	hx_observer_begin_exit(&f->obs);
	hx_oracle_before(f->o, &f->env.sys, &x);
	hv_handle_exit(&f->env.sys, &x, &r);
	if (tamper)
		tamper(f, &x, &r, arg);
	struct hx_obs_view v = hx_observer_view(&f->obs);
	return hx_oracle_after(f->o, &f->env.sys, 7, &x, &r, &v);
}

/* ---- the MSR table ---- */

static void test_msr_table_well_formed(void **state)
{
	(void)state;
	assert_true(spec_msr_count >= 100);
	for (size_t i = 0; i < spec_msr_count; i++) {
		const struct spec_msr *r = &spec_msr_table[i];
		if (r->first > r->last)
			fail_msg("row %zu (%s): first 0x%x > last 0x%x", i, r->name, r->first,
			         r->last);
		if (i && r->first <= spec_msr_table[i - 1].last)
			fail_msg("row %zu (%s) not after row %zu (%s)", i, r->name, i - 1,
			         spec_msr_table[i - 1].name);
		assert_non_null(r->name);
		assert_non_null(r->ref);
		assert_true(r->scope <= SPEC_SCOPE_PACKAGE);
		assert_true(r->addr <= SPEC_ADDR_MIXED);
		bool safe = r->flags & SPEC_W_SAFE;
		bool why = r->flags & (SPEC_W_BEYOND_PARTITION | SPEC_READ_ONLY);
		/* Every row is either safe to write or says why it is not. */
		if (safe == why)
			fail_msg("row %s: W_SAFE %d but beyond-partition/read-only %d", r->name,
			         safe, why);
		/* A safe write leaves nothing behind: no address, no host state,
		 * nothing beyond the thread, not read-only. */
		if (safe && (r->addr != SPEC_ADDR_NONE ||
		             (r->flags & (SPEC_R_HOST | SPEC_W_BEYOND_THREAD | SPEC_GUEST_STATE))))
			fail_msg("row %s is W_SAFE but holds state", r->name);
		if ((r->flags & SPEC_READ_ONLY) && (r->flags & SPEC_WRITE_ONLY))
			fail_msg("row %s both read-only and write-only", r->name);
		/* Every address a partition could plant is host state too. */
		if (r->addr != SPEC_ADDR_NONE && !(r->flags & SPEC_R_HOST) &&
		    !(r->flags & SPEC_WRITE_ONLY))
			fail_msg("row %s holds an address but reading it reveals nothing", r->name);
		/* Binary search finds both ends of every row. */
		assert_ptr_equal(spec_msr_find(r->first), r);
		assert_ptr_equal(spec_msr_find(r->last), r);
	}
}

static void test_msr_predicates(void **state)
{
	(void)state;
	/* Only write-only command MSRs may be written on the host. */
	static const uint32_t safe_w[] = {0x49, 0x10b};
	static const uint32_t unsafe_w[] = {
	        0x10,       0x1b,       0x3a,       0x3b,       0x48,       0x79,       0x174,
	        0x1a0,      0x1d9,      0x200,      0x277,      0x2ff,      0x38f,      0x400,
	        0x560,      0x570,      0x600,      0x6a0,      0x6a2,      0x6a4,      0x6e0,
	        0x830,      0xc8f,      0xd90,      0xda0,      0xc0000080, 0xc0000082, 0xc0000100,
	        0xc0010010, 0xc0010015, 0xc001001a, 0xc0010020, 0xc0010058, 0xc0010111, 0xc0010117,
	        0x1234,     0x2,        0xffffffff, 0x40000000, 0xc0000105, 0x4b564d00,
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(safe_w); i++)
		assert_true(spec_msr_host_write_ok(safe_w[i]));
	for (size_t i = 0; i < HV_ARRAY_LEN(unsafe_w); i++)
		if (spec_msr_host_write_ok(unsafe_w[i]))
			fail_msg("MSR 0x%x safe to write on the host", unsafe_w[i]);
	/* Reads: time and capabilities yes; addresses, configuration, counters,
	 * write-only and unknown MSRs no. */
	static const uint32_t safe_r[] = {0x10, 0x3b, 0xfe, 0x10a, 0x179, 0x345};
	static const uint32_t unsafe_r[] = {0x1b,  0x3a,       0x49,       0x1f2,      0x200,
	                                    0x600, 0xc0000082, 0xc0010058, 0xc001029b, 0x1234};
	for (size_t i = 0; i < HV_ARRAY_LEN(safe_r); i++)
		if (!spec_msr_host_read_ok(safe_r[i]))
			fail_msg("MSR 0x%x not readable on the host", safe_r[i]);
	for (size_t i = 0; i < HV_ARRAY_LEN(unsafe_r); i++)
		if (spec_msr_host_read_ok(unsafe_r[i]))
			fail_msg("MSR 0x%x readable on the host", unsafe_r[i]);
	/* Linear addresses (canonical checks), physical ones are not. */
	static const uint32_t linear[] = {0x175,      0x176,      0x600,      0x6a0,     0x6a2,
	                                  0x6a4,      0x6a7,      0x6a8,      0xd90,     0x580,
	                                  0xc0000082, 0xc0000083, 0xc0000100, 0xc0000102};
	static const uint32_t not_linear[] = {0x1b,       0x560,      0x200, 0xc0010058,
	                                      0xc0000080, 0xc0000103, 0x1234};
	for (size_t i = 0; i < HV_ARRAY_LEN(linear); i++)
		assert_true(spec_msr_is_linear_address(linear[i]));
	for (size_t i = 0; i < HV_ARRAY_LEN(not_linear); i++)
		assert_false(spec_msr_is_linear_address(not_linear[i]));
	assert_string_equal(spec_msr_name(0x3b), "IA32_TSC_ADJUST");
	assert_non_null(strstr(spec_msr_name(0x1234), "unknown"));
	assert_non_null(strstr(spec_msr_write_reason(0x1234), "unknown"));
}

/* ---- MSR-GUARD from the spec ---- */

static void t_host_write(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t msr)
{
	log_msr(f, HX_OBS_WRMSR, msr, 0x1000);
}
static void t_host_read(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t msr)
{
	log_msr(f, HX_OBS_RDMSR, msr, 0);
}

/* The MSRs of the brief's examples, none in the handlers' protected list:
 * the TSC every partition shares, the DS area, the PT output base and
 * control, supervisor CET, AMD's PCIe configuration base. */
static const uint32_t forbidden_writes[] = {0x3b, 0x600, 0x560, 0x570, 0x6a2, 0xc0010058};

static void test_host_wrmsr_fires(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(forbidden_writes); i++) {
		uint32_t msr = forbidden_writes[i];
		/* From the WRMSR exit of that MSR (denied: the handler makes no
		 * host call, the log shows one) and from an unrelated exit. */
		struct hv_exit exits[] = {ex_wrmsr(msr, 0x1000), ex_cpuid(1)};
		for (size_t k = 0; k < HV_ARRAY_LEN(exits); k++) {
			struct fx *f = fx_new(NULL);
			run(f, exits[k], t_host_write, msr);
			if (f->count[HV_INV_MSR_GUARD] == 0)
				fail_msg("host WRMSR of 0x%x in a %s exit not reported", msr,
				         hv_exit_reason_str(exits[k].reason));
			char want[16];
			snprintf(want, sizeof(want), "0x%x", msr);
			assert_non_null(strstr(f->last, want));
			assert_int_equal(f->last_index, 7);
			fx_free(f);
		}
	}
	/* Controls: the same host write of a command MSR is no violation. */
	static const uint32_t allowed[] = {0x49, 0x10b};
	for (size_t i = 0; i < HV_ARRAY_LEN(allowed); i++) {
		struct fx *f = fx_new(NULL);
		assert_int_equal(run(f, ex_cpuid(1), t_host_write, allowed[i]), 0);
		fx_free(f);
	}
}

static void test_host_rdmsr_fires(void **state)
{
	(void)state;
	static const uint32_t revealing[] = {0x1b, 0x3a, 0x200, 0xc0000082, 0xc0010058, 0x1234};
	for (size_t i = 0; i < HV_ARRAY_LEN(revealing); i++) {
		struct fx *f = fx_new(NULL);
		run(f, ex_cpuid(1), t_host_read, revealing[i]);
		if (f->count[HV_INV_MSR_GUARD] != 1)
			fail_msg("host RDMSR of 0x%x: %u MSR-GUARD reports", revealing[i],
			         f->count[HV_INV_MSR_GUARD]);
		fx_free(f);
	}
	struct fx *f = fx_new(NULL);
	assert_int_equal(run(f, ex_cpuid(1), t_host_read, 0x10), 0);
	fx_free(f);
}

/* Emulated S_CET is a linear address per the spec (bits 63:12 are the
 * legacy code page bitmap base, SDM Vol. 1 CET), whatever the handlers'
 * address table says: a granted non-canonical write is reported. */
static void add_scet(struct hv_system_config *cfg)
{
	struct hv_partition_config *p = &cfg->partitions[0];
	p->msr.rules[p->msr.nrules++] =
	        (struct hv_msr_rule){.msr = 0x6a2, .mode = HV_MSR_EMULATED, .writable_mask = ~0ull};
}

static void t_granted(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t arg)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 2};
	x->st.rip = RIP0 + 2;
}

static void test_noncanonical_spec_address(void **state)
{
	(void)state;
	struct fx *f = fx_new(add_scet);
	assert_int_equal(run(f, ex_wrmsr(0x6a2, 0x1000), NULL, 0), 0);
	/* Granted (by the handler or, if it refuses, by the tamper). */
	run(f, ex_wrmsr(0x6a2, 0x0000800000000001ull), t_granted, 0);
	assert_int_equal(f->count[HV_INV_MSR_GUARD], 1);
	assert_non_null(strstr(f->last, "not canonical"));
	fx_free(f);
}

/* ---- CPUID-MASK from the spec ---- */

static void t_or_reg(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t arg)
{
	/* arg: register index (0..3) << 5 | bit */
	static const uint8_t regs[4] = {HV_RAX, HV_RBX, HV_RCX, HV_RDX};
	x->st.gpr[regs[arg >> 5]] |= 1u << (arg & 31);
}

struct cpuid_row {
	const char *name;
	uint32_t leaf;
	uint32_t tamper; /* reg << 5 | bit, or ~0u for none */
	uint32_t max_basic, max_ext;
	uint32_t reports;
};

#define REG_BIT(reg, bit) ((reg) << 5 | (bit))

static const struct cpuid_row cpuid_rows[] = {
        {"SMX visible", 1, REG_BIT(2, 6), 0, 0, 1},
        {"MONITOR visible", 1, REG_BIT(2, 3), 0, 0, 1},
        {"VMX visible", 1, REG_BIT(2, 5), 0, 0, 1},
        {"SVM visible", 0x80000001u, REG_BIT(2, 2), 0, 0, 1},
        {"SKINIT visible", 0x80000001u, REG_BIT(2, 12), 0, 0, 1},
        {"MONITORX visible", 0x80000001u, REG_BIT(2, 29), 0, 0, 1},
        {"leaf 5 not zero", 5, REG_BIT(1, 0), 0, 0, 1},
        {"leaf 0x8000000A not zero", 0x8000000au, REG_BIT(3, 0), 0, 0, 1},
        {"leaf 0x40000000 signature", 0x40000000u, REG_BIT(1, 31), 0, 0, 1},
        {"leaf 0x40000001 vcpu", 0x40000001u, REG_BIT(1, 3), 0, 0, 1},
        /* Out of the partition's range the in-range rules do not apply
         * (an Intel host answers with basic-leaf data there). */
        {"leaf 5 beyond max basic leaf 4", 5, REG_BIT(1, 0), 4, 0, 0},
        {"0x8000000A beyond max extended leaf", 0x8000000au, REG_BIT(3, 0), 0, 0x80000008u, 0},
        {"SKINIT beyond max extended leaf", 0x80000001u, REG_BIT(2, 12), 0, 0x80000000u, 0},
        /* ... but SVM stays hidden everywhere. */
        {"SVM beyond max extended leaf", 0x80000001u, REG_BIT(2, 2), 0, 0x80000000u, 1},
        {"untampered leaf 1", 1, ~0u, 0, 0, 0},
        {"untampered leaf 5", 5, ~0u, 0, 0, 0},
        {"untampered leaf 0x8000000A", 0x8000000au, ~0u, 0, 0, 0},
        {"untampered leaf 0x40000001", 0x40000001u, ~0u, 0, 0, 0},
};

static uint32_t row_basic, row_ext;
static void set_range(struct hv_system_config *cfg)
{
	cfg->partitions[0].cpuid.max_basic_leaf = row_basic;
	cfg->partitions[0].cpuid.max_ext_leaf = row_ext;
}

static void test_cpuid_spec(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(cpuid_rows); i++) {
		const struct cpuid_row *row = &cpuid_rows[i];
		row_basic = row->max_basic;
		row_ext = row->max_ext;
		struct fx *f = fx_new(set_range);
		/* The mock host shows MONITOR, SMX, SKINIT, MONITORX where its
		 * typical answers do not: the handler must hide them. */
		mock_set_cpuid(&f->env.plat, 5, 0, 0x40, 0x40, 3, 0x1120);
		mock_set_cpuid(&f->env.plat, 0x8000000au, 0, 1, 0x10, 0, 0x1);
		assert_int_equal(run(f, ex_cpuid(row->leaf), NULL, 0), 0);
		/* Forget the first answer: only the spec may object, not DET. */
		hx_oracle_reset(f->o);
		run(f, ex_cpuid(row->leaf), row->tamper == ~0u ? NULL : t_or_reg, row->tamper);
		if (f->count[HV_INV_CPUID_MASK] < row->reports ||
		    (row->reports == 0 && f->total != 0))
			fail_msg("%s: %u CPUID-MASK reports (%u in all), expected %u; last: %s",
			         row->name, f->count[HV_INV_CPUID_MASK], f->total, row->reports,
			         f->last);
		fx_free(f);
	}
}

static void test_cpuid_range(void **state)
{
	(void)state;
	static const struct {
		uint32_t hb, he, pb, pe, want_b, want_e;
	} cases[] = {
	        {0x10, 0x80000021u, 0, 0, 0x10, 0x80000021u},
	        {0x10, 0x80000021u, 4, 0x80000008u, 4, 0x80000008u},
	        {0x10, 0x80000021u, 0x20, 0x80000040u, 0x10, 0x80000021u}, /* only lowers */
	        {0x10, 0x80000021u, 0, 5, 0x10, 0x80000000u}, /* below the range: 0x80000000 */
	        {0, 0x00000010u, 0, 0, 1, 0}, /* leaf 1 always; no extended leaves */
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		uint32_t b, e;
		spec_cpuid_range(cases[i].hb, cases[i].he, cases[i].pb, cases[i].pe, &b, &e);
		assert_int_equal(b, cases[i].want_b);
		assert_int_equal(e, cases[i].want_e);
	}
	/* Every rule names its leaf's bits and manual section. */
	for (size_t i = 0; i < spec_cpuid_nrules; i++) {
		assert_non_null(spec_cpuid_rules[i].ref);
		assert_true(spec_cpuid_rules[i].need == SPEC_CPUID_ZERO ||
		            spec_cpuid_rules[i].mask != 0);
	}
}

/* ---- caller contracts ---- */

/* A system whose pool lies at pool_hpa (npages pages), started by the core
 * itself, which does not check where the pool is. */
static void pool_system(struct fx *f, uint64_t pool_hpa, uint32_t npages)
{
	mock_config_two(&f->env.cfg);
	mock_platform_init(&f->env.plat, MOCK_HOST_MEM);
	mock_cpuid_typical_host(&f->env.plat);
	assert_int_equal(hv_pool_init(&f->env.pool, f->env.plat.mem + pool_hpa, pool_hpa, npages),
	                 HV_OK);
	/* The core refuses the placement itself now ... */
	struct hv_config_diag diag;
	assert_int_equal(hv_system_init(&f->env.sys, &f->env.cfg, &mock_platform_ops, &f->env.plat,
	                                &f->env.pool, &diag),
	                 HV_ERR_RANGE);
	assert_int_equal(diag.error, HV_CFG_POOL_PLACEMENT);
	/* ... so build the system the way a caller skipping that check (or a
	 * core that lost it) would: the oracle must still see it. */
	struct hv_system *sys = &f->env.sys;
	memset(sys, 0, sizeof(*sys));
	sys->cfg = &f->env.cfg;
	sys->ops = &mock_platform_ops;
	sys->ops_ctx = &f->env.plat;
	sys->pool = &f->env.pool;
	for (uint32_t p = 0; p < f->env.cfg.npartitions; p++)
		assert_int_equal(hv_s2_build(&f->env.pool, &f->env.cfg, p,
		                             hv_s2_vendor_format(f->env.cfg.vendor),
		                             &sys->parts[p].ept_root),
		                 HV_OK);
}

static void test_pool_in_partition_ram(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	/* The upper end of p0's RAM. */
	pool_system(f, MOCK_P0_RAM_HPA + MOCK_RAM_SIZE - 64 * HV_PAGE_SIZE, 64);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(f->o);
	assert_true(f->count[HV_INV_EPT_OWN] >= 2);
	assert_int_equal(f->last_index, UINT64_MAX);
	assert_non_null(strstr(f->last, "overlaps partition 0 (p0) region 0"));
	fx_free(f);

	/* Outside the hypervisor range but in nobody's memory: still wrong. */
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	pool_system(f, 56ull << 20, 64);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_int_equal(f->count[HV_INV_EPT_OWN], 1);
	assert_int_equal(f->total, 1);
	assert_non_null(strstr(f->last, "not inside the hypervisor range"));
	fx_free(f);

	/* The mocks' own placement (upper half of hypervisor memory) is fine. */
	f = fx_new(NULL);
	assert_int_equal(f->total, 0);
	fx_free(f);
}

static void test_pool_moves(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	f->env.pool.hpa += HV_PAGE_SIZE;
	run(f, ex_cpuid(1), NULL, 0);
	f->env.pool.hpa -= HV_PAGE_SIZE;
	assert_int_equal(f->count[HV_INV_EPT_OWN], 1);
	assert_non_null(strstr(f->last, "moved"));
	fx_free(f);
}

/* A system the caller never validated: the oracle finds what the validator
 * would have. */
static void test_unvalidated_layout(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint64_t p1_ram_hpa;
		const char *want;
	} cases[] = {
	        {"p1 RAM over p0 RAM", MOCK_P0_RAM_HPA + 0x1000, "share host memory"},
	        {"p1 RAM over the channel", MOCK_CHAN_HPA - 0x1000, "share host memory"},
	        {"p1 RAM in hypervisor memory", 0, "touches the hypervisor range"},
	        {"p1 RAM beyond host memory", MOCK_HOST_MEM - 0x1000, "leaves host memory"},
	        {"p1 RAM unaligned", MOCK_P1_RAM_HPA + 0x10, "unaligned"},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		struct fx *f = calloc(1, sizeof(*f));
		assert_non_null(f);
		mock_config_two(&f->env.cfg);
		f->env.cfg.partitions[1].regions[0].hpa = cases[i].p1_ram_hpa;
		mock_platform_init(&f->env.plat, MOCK_HOST_MEM);
		assert_int_equal(hv_pool_init(&f->env.pool, f->env.plat.mem + MOCK_POOL_HPA,
		                              MOCK_POOL_HPA, MOCK_POOL_PAGES),
		                 HV_OK);
		/* The core refuses the config ... */
		assert_int_not_equal(hv_config_validate(&f->env.cfg, NULL), HV_OK);
		/* ... a caller that skipped it hands the oracle this system. */
		f->env.sys.cfg = &f->env.cfg;
		f->env.sys.pool = &f->env.pool;
		f->env.sys.ops = &mock_platform_ops;
		f->env.sys.ops_ctx = &f->env.plat;
		f->o = hx_oracle_new(&f->env.sys, on_report, f);
		assert_non_null(f->o);
		if (f->count[HV_INV_CONTAIN] == 0 || !strstr(f->all, cases[i].want))
			fail_msg("%s: %u CONTAIN reports: %s", cases[i].name,
			         f->count[HV_INV_CONTAIN], f->all);
		fx_free(f);
	}
}

static void t_resume(struct fx *f, struct hv_exit *x, struct hv_result *r, uint32_t arg)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 2};
	x->st.rip += 2;
}

static void test_record_contract_named(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t vcpu, insn_len, cpl;
		const char *want;
	} cases[] = {
	        {"vcpu", 5, 0, 0, "vcpu 5, the partition has 2"},
	        {"insn_len", 0, 16, 0, "insn_len 16"},
	        {"cpl", 0, 0, 4, "cpl 4"},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		struct fx *f = fx_new(NULL);
		struct hv_exit x = ex_cpuid(1);
		x.vcpu = cases[i].vcpu;
		x.insn_len = cases[i].insn_len;
		x.st.cpl = (uint8_t)cases[i].cpl;
		/* Refused: fine. */
		assert_int_equal(run(f, x, NULL, 0), 0);
		/* Not refused: named. */
		f->env.sys.parts[0].halted = HV_HALT_NONE;
		run(f, x, t_resume, 0);
		if (f->count[HV_INV_CONTAIN] == 0 || !strstr(f->last, cases[i].want))
			fail_msg("%s: last report: %s", cases[i].name, f->last);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_msr_table_well_formed),
	        cmocka_unit_test(test_msr_predicates),
	        cmocka_unit_test(test_host_wrmsr_fires),
	        cmocka_unit_test(test_host_rdmsr_fires),
	        cmocka_unit_test(test_noncanonical_spec_address),
	        cmocka_unit_test(test_cpuid_spec),
	        cmocka_unit_test(test_cpuid_range),
	        cmocka_unit_test(test_pool_in_partition_ram),
	        cmocka_unit_test(test_pool_moves),
	        cmocka_unit_test(test_unvalidated_layout),
	        cmocka_unit_test(test_record_contract_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
