/* The oracle's picture of the system (harness/oracle/oracle_pool.c): the
 * exits it no longer copies state for are still judged byte for byte, and
 * the partitions it no longer verifies after each exit are still the ones
 * hv_ept_verify would fault. Each case handles a real exit on a mocked
 * two-partition system, plants a change while the exit is in progress (or
 * between exits) and checks which invariant the oracle reports. Every case
 * runs twice: with the full compare of the pool after each exit, and with
 * the pool watch the fuzzers use (hx_oracle_watch_pool), where a plant
 * made through hv_pool_ptr must be judged exactly as before and one made
 * behind the pool's back must still fail the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_stderr.h"
#include "hv/ept.h"
#include "hv/hcall.h"
#include "hv/msr.h"
#include "hv/verify.h"
#include "mock_config.h"
#include "observer.h"
#include "oracle.h"

#define RIP0 0x401000ull
#define CODE_GPA 0x10000ull
#define PT_GPA 0x3000ull
#define PROT_GPA 0x200000ull
/* Pool pages handed out on top of the EPTs for the large-pool cases:
 * more than the byte snapshot the oracle used to be limited to (256). */
#define EXTRA_PAGES 400u

struct fx {
	struct mock_env env;
	struct hx_observer obs;
	struct hx_oracle *o;
	uint32_t count[HV_INV_COUNT];
	uint32_t total;
	char last[HX_ORACLE_MSG_MAX];
};

static void on_report(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct fx *f = ctx;
	(void)index;
	assert_true(inv < HV_INV_COUNT);
	f->count[inv]++;
	f->total++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

/* The mode of the group running (main): hx_oracle_watch_pool on or off. */
static bool watching;

/* extra: pool pages to hand out (unreachable) before the oracle is made. */
static struct fx *fx_new(uint32_t extra)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	for (uint32_t i = 0; i < extra; i++) {
		uint64_t hpa;
		assert_int_equal(hv_pool_alloc(&f->env.pool, &hpa), HV_OK);
	}
	hx_observer_init(&f->obs, NULL, NULL);
	hx_observer_install(&f->obs, &f->env.sys);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(f->o);
	hx_oracle_watch_pool(f->o, watching);
	mock_identity_page_tables(&f->env, MOCK_P0_RAM_HPA, PT_GPA);
	return f;
}

static void fx_free(struct fx *f)
{
	hx_oracle_free(f->o);
	mock_env_stop(&f->env);
	free(f);
}

static void fx_clear(struct fx *f)
{
	memset(f->count, 0, sizeof(f->count));
	f->total = 0;
	f->last[0] = 0;
}

static struct hv_exit base(uint32_t reason, uint32_t part)
{
	struct hv_exit x = {.reason = reason, .partition = part};
	x.st.rip = RIP0;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull;
	x.st.cr3 = PT_GPA;
	x.st.cr4 = 0x620;
	x.st.efer = HV_EFER_LME | HV_EFER_LMA;
	return x;
}

static struct hv_exit ex_cpuid(void)
{
	struct hv_exit x = base(HV_EXIT_CPUID, 0);
	x.st.gpr[HV_RAX] = 1;
	return x;
}

static struct hv_exit ex_hcall(uint32_t part, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hv_exit x = base(HV_EXIT_VMCALL, part);
	x.st.gpr[HV_RAX] = nr;
	x.st.gpr[HV_RDI] = a1;
	x.st.gpr[HV_RSI] = a2;
	x.st.gpr[HV_RDX] = a3;
	return x;
}

static struct hv_exit ex_protect(uint32_t part, uint64_t gpa, uint64_t perm)
{
	return ex_hcall(part, HV_HC_MEM_PROTECT, gpa, HV_PAGE_SIZE, perm);
}

/* mov [rax], bl storing to an unmapped GPA: contained. */
static struct hv_exit ex_mmio_unmapped(struct fx *f)
{
	static const uint8_t code[] = {0x88, 0x18};
	mock_poke(&f->env, MOCK_P0_RAM_HPA + CODE_GPA, code, sizeof(code));
	struct hv_exit x = base(HV_EXIT_EPT_VIOLATION, 0);
	x.st.rip = CODE_GPA;
	x.st.gpr[HV_RAX] = 0x40000000ull;
	x.gpa = 0x40000000ull;
	x.qual = HV_QUAL_WRITE;
	return x;
}

static struct hv_exit ex_wrmsr_tsc_aux(void)
{
	struct hv_exit x = base(HV_EXIT_WRMSR, 0);
	x.st.gpr[HV_RCX] = HV_MSR_TSC_AUX;
	x.st.gpr[HV_RAX] = 3;
	return x;
}

typedef void (*plant_fn)(struct fx *f);

/* Handle x for real, plant a change while it is in progress, then ask the
 * oracle. Returns the violations reported for the exit. */
static uint32_t run(struct fx *f, struct hv_exit x, plant_fn plant)
{
	struct hv_result r;
	hx_observer_begin_exit(&f->obs);
	hx_oracle_before(f->o, &f->env.sys, &x);
	hv_handle_exit(&f->env.sys, &x, &r);
	if (plant)
		plant(f);
	struct hx_obs_view v = hx_observer_view(&f->obs);
	return hx_oracle_after(f->o, &f->env.sys, 0, &x, &r, &v);
}

/* ---- plants ---- */

static uint64_t *table(struct fx *f, uint64_t hpa)
{
	uint64_t *t = hv_pool_ptr(&f->env.pool, hpa);
	assert_non_null(t);
	return t;
}

/* A not-present entry with an ignored bit set in p1's PML4: no mapping,
 * no verifier finding changes, only the bytes of a table page. */
static void p_p1_ignored_bit(struct fx *f)
{
	table(f, f->env.sys.parts[1].ept_root)[511] ^= 1ull << 8;
}

/* The same bit, written through the pool's memory directly rather than a
 * pointer from hv_pool_ptr (a stray pointer of a buggy core). */
static void p_p1_ignored_bit_stray(struct fx *f)
{
	uint64_t off = (f->env.sys.parts[1].ept_root & HV_EPTE_ADDR_MASK) - f->env.pool.hpa;
	((uint64_t *)(f->env.pool.mem + off))[511] ^= 1ull << 8;
}

/* An ignored bit of p0's PML4 written through the pool's memory directly,
 * during an exit that reached that page only to read it. */
static void p_p0_ignored_bit_stray(struct fx *f)
{
	uint64_t off = (f->env.sys.parts[0].ept_root & HV_EPTE_ADDR_MASK) - f->env.pool.hpa;
	((uint64_t *)(f->env.pool.mem + off))[511] ^= 1ull << 8;
}

/* One byte of the last pool page handed out, reachable from no table. */
static void p_last_page(struct fx *f)
{
	uint64_t hpa = f->env.pool.hpa + ((uint64_t)(f->env.pool.used - 1) << HV_PAGE_SHIFT);
	((uint8_t *)hv_pool_ptr(&f->env.pool, hpa))[100] ^= 0x40;
}

/* Reduce p1's permissions at PROT_GPA as a memory-protect would. */
static void p_protect_p1(struct fx *f)
{
	assert_int_equal(hv_ept_protect(&f->env.pool, f->env.sys.parts[1].ept_root, PROT_GPA,
	                                HV_PAGE_SIZE, HV_PERM_R),
	                 HV_OK);
}

static void p_p1_yields(struct fx *f)
{
	f->env.sys.parts[1].yields++;
}

static void p_p1_device(struct fx *f)
{
	f->env.sys.parts[1].devices[0].scratch ^= 1;
}

static void p_p1_vcpu(struct fx *f)
{
	f->env.sys.parts[1].vcpus[0].msr_value[0]++;
}

/* p0's own permissions reduced somewhere else as well: in the page table
 * the protect splits off, in another 2 MiB leaf of the same directory, in
 * another directory (the MMIO region at 0xfe000000) and at GPA 0. */
static void protect_p0(struct fx *f, uint64_t gpa)
{
	assert_int_equal(hv_ept_protect(&f->env.pool, f->env.sys.parts[0].ept_root, gpa,
	                                HV_PAGE_SIZE, HV_PERM_R),
	                 HV_OK);
}
static void p_p0_next_page(struct fx *f)
{
	protect_p0(f, PROT_GPA + HV_PAGE_SIZE);
}
static void p_p0_other_leaf(struct fx *f)
{
	protect_p0(f, 0x600000);
}
static void p_p0_mmio(struct fx *f)
{
	protect_p0(f, MOCK_MMIO_GPA);
}
static void p_p0_gpa0(struct fx *f)
{
	protect_p0(f, 0);
}

/* Point p0's leaf for GPA 0 at p1's RAM (EPT-OWN). */
static void p_p0_foreign_leaf(struct fx *f)
{
	uint64_t t = f->env.sys.parts[0].ept_root;
	for (int level = 3; level >= 0; level--) {
		uint64_t *tab = table(f, t);
		uint64_t e = tab[0];
		if (level == 0 || (e & HV_EPTE_LARGE)) {
			tab[0] = (e & ~HV_EPTE_ADDR_MASK) | MOCK_P1_RAM_HPA;
			return;
		}
		t = e & HV_EPTE_ADDR_MASK;
	}
}

/* ---- cases ---- */

/* A write to a pool page during an exit that may not change an EPT is
 * reported, for every exit kind, with few and with many pages in use. */
static void test_pool_write_any_size(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int exit; /* 0 cpuid, 1 version, 2 contained EPT violation, 3 failed protect */
		plant_fn plant;
		enum hv_invariant expect;
	} rows[] = {
	        {"cpuid, ignored bit of p1's PML4", 0, p_p1_ignored_bit, HV_INV_CONTAIN},
	        {"cpuid, unreachable pool page", 0, p_last_page, HV_INV_CONTAIN},
	        {"version, ignored bit of p1's PML4", 1, p_p1_ignored_bit, HV_INV_HCALL_BOUNDS},
	        {"version, unreachable pool page", 1, p_last_page, HV_INV_HCALL_BOUNDS},
	        {"EPT violation, unreachable pool page", 2, p_last_page, HV_INV_EPT_EXACT},
	        {"EPT violation, p1's tables", 2, p_protect_p1, HV_INV_EPT_EXACT},
	        {"refused protect, unreachable pool page", 3, p_last_page, HV_INV_HCALL_BOUNDS},
	};
	static const uint32_t extras[] = {1, EXTRA_PAGES};
	for (size_t e = 0; e < HV_ARRAY_LEN(extras); e++) {
		for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
			struct fx *f = fx_new(extras[e]);
			struct hv_exit x = rows[i].exit == 0   ? ex_cpuid()
			                   : rows[i].exit == 1 ? ex_hcall(0, HV_HC_VERSION, 0, 0, 0)
			                   : rows[i].exit == 2 ? ex_mmio_unmapped(f)
			                                       : ex_protect(0, PROT_GPA, HV_PERM_W);
			assert_int_equal(run(f, x, NULL), 0);
			run(f, x, rows[i].plant);
			if (f->count[rows[i].expect] == 0)
				fail_msg("%s (%u pages in use): %s not reported (%u others, last: "
				         "%s)",
				         rows[i].name, f->env.pool.used,
				         hv_invariant_id(rows[i].expect), f->total, f->last);
			fx_free(f);
		}
	}
}

/* A memory-protect that also changes another partition's tables is
 * reported, whether or not that partition's verifier would notice. */
static void test_protect_changes_other_partition(void **state)
{
	(void)state;
	for (int p1_protected = 0; p1_protected < 2; p1_protected++) {
		struct fx *f = fx_new(p1_protected ? EXTRA_PAGES : 1);
		if (p1_protected) {
			/* p1 protects a page of its own first: from then on a
			 * reduced permission is within what its verifier allows. */
			assert_int_equal(run(f, ex_protect(1, 0x600000, HV_PERM_R), NULL), 0);
			assert_int_equal(f->env.sys.parts[1].protected_, 1);
		}
		assert_int_equal(run(f, ex_protect(0, 0x400000, HV_PERM_R), NULL), 0);
		run(f, ex_protect(0, PROT_GPA, HV_PERM_R), p_protect_p1);
		if (f->count[HV_INV_CONTAIN] == 0)
			fail_msg("p1 %s: the change to p1's tables was not reported (last: %s)",
			         p1_protected ? "protected" : "not protected", f->last);
		if (!p1_protected && f->count[HV_INV_EPT_EXACT] == 0)
			fail_msg("p1 not protected: its verifier did not run (last: %s)", f->last);
		fx_free(f);
	}
}

/* A memory-protect that changes its caller's mapping outside the range it
 * names is reported wherever the change lands, with or without earlier
 * protects having split the tables. */
static void test_protect_outside_range(void **state)
{
	(void)state;
	static const plant_fn plants[] = {p_p0_next_page, p_p0_other_leaf, p_p0_mmio, p_p0_gpa0};
	for (int split = 0; split < 2; split++) {
		for (size_t i = 0; i < HV_ARRAY_LEN(plants); i++) {
			struct fx *f = fx_new(split ? EXTRA_PAGES : 1);
			if (split)
				assert_int_equal(
				        run(f, ex_protect(0, PROT_GPA + 0x3000, HV_PERM_R), NULL),
				        0);
			run(f, ex_protect(0, PROT_GPA, HV_PERM_R), plants[i]);
			if (f->count[HV_INV_HCALL_BOUNDS] == 0)
				fail_msg("plant %zu (split %d): change outside the range not "
				         "reported (last: %s)",
				         i, split, f->last);
			fx_free(f);
		}
	}
}

/* A change to another partition's state is reported while the exiting
 * partition's own state changes as it may. */
static void test_other_partition_state(void **state)
{
	(void)state;
	static const plant_fn plants[] = {p_p1_yields, p_p1_device, p_p1_vcpu};
	for (size_t i = 0; i < HV_ARRAY_LEN(plants); i++) {
		for (int exit = 0; exit < 3; exit++) {
			struct fx *f = fx_new(1);
			struct hv_exit x = exit == 0   ? ex_protect(0, PROT_GPA, HV_PERM_R)
			                   : exit == 1 ? ex_wrmsr_tsc_aux()
			                               : ex_hcall(0, HV_HC_YIELD, 0, 0, 0);
			run(f, x, plants[i]);
			if (f->count[HV_INV_CONTAIN] == 0)
				fail_msg("plant %zu during exit %d not reported (last: %s)", i,
				         exit, f->last);
			fx_free(f);
		}
	}
}

/* The picture must be told about changes made outside exits: unannounced
 * ones are reported against the next exit (fail closed), announced ones
 * are not, and a table planted between exits is still found by the next
 * full verification. */
static void test_changes_between_exits(void **state)
{
	(void)state;
	struct fx *f = fx_new(1);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	p_p1_yields(f);
	assert_int_not_equal(run(f, ex_cpuid(), NULL), 0);
	assert_true(f->count[HV_INV_CONTAIN] > 0);
	fx_clear(f);
	p_p1_yields(f);
	hx_oracle_sync(f->o, &f->env.sys);
	assert_int_equal(run(f, ex_cpuid(), NULL), 0);
	p_p1_ignored_bit(f);
	hx_oracle_reset(f->o);
	assert_int_equal(run(f, ex_cpuid(), NULL), 0);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	/* Planted, announced, then verified: found. */
	p_p0_foreign_leaf(f);
	hx_oracle_sync(f->o, &f->env.sys);
	assert_int_not_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	assert_true(f->count[HV_INV_EPT_OWN] > 0);
	/* Still there: reported again, not taken from a cache. */
	fx_clear(f);
	assert_int_not_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	assert_true(f->count[HV_INV_EPT_OWN] > 0);
	fx_free(f);
	/* Planted and not announced: verify_all finds it all the same. */
	f = fx_new(1);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	p_p0_foreign_leaf(f);
	assert_int_not_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	assert_true(f->count[HV_INV_EPT_OWN] > 0);
	fx_free(f);
}

/* hx_oracle_reset_restored after a snapshot restore compares only the pool
 * pages the oracle saw change: the restored tables are taken without a
 * report, and a page changed behind its back is still found. */
static void test_reset_restored(void **state)
{
	(void)state;
	struct fx *f = fx_new(EXTRA_PAGES);
	struct mock_env *env = &f->env;
	size_t bytes = (size_t)env->pool.npages << HV_PAGE_SHIFT;
	uint8_t *pages = malloc(bytes);
	struct hv_pool pool_snap = env->pool;
	static struct hv_partition parts_snap[HV_MAX_PARTITIONS];
	assert_non_null(pages);
	memcpy(pages, env->pool.mem, bytes);
	memcpy(parts_snap, env->sys.parts, sizeof(parts_snap));
	for (int round = 0; round < 3; round++) {
		/* Splits a large page and lowers a permission: tables, pool and
		 * the protected flag change. */
		assert_int_equal(run(f, ex_protect(0, PROT_GPA, HV_PERM_R), NULL), 0);
		assert_int_equal(hx_oracle_verify_all(f->o, &env->sys, 0), 0);
		env->pool = pool_snap;
		memcpy(env->pool.mem, pages, bytes);
		memcpy(env->sys.parts, parts_snap, sizeof(parts_snap));
		hx_oracle_reset_restored(f->o);
		assert_int_equal(run(f, ex_cpuid(), NULL), 0);
		assert_int_equal(hx_oracle_verify_all(f->o, &env->sys, 0), 0);
		assert_int_equal(f->total, 0);
	}
	/* A table changed between inputs that no exit touched. */
	p_p0_foreign_leaf(f);
	hx_oracle_reset_restored(f->o);
	run(f, ex_cpuid(), NULL);
	assert_int_not_equal(hx_oracle_verify_all(f->o, &env->sys, 0), 0);
	assert_true(f->total > 0);
	free(pages);
	fx_free(f);
}

/* A system handed to the oracle with broken tables is judged at the first
 * hypercall, whether or not it changes anything, as when every hypercall
 * was followed by a full verification; then not again until something
 * changes. */
static void test_broken_from_the_start(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	p_p0_foreign_leaf(f);
	hx_observer_init(&f->obs, NULL, NULL);
	hx_observer_install(&f->obs, &f->env.sys);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(f->o);
	mock_identity_page_tables(&f->env, MOCK_P0_RAM_HPA, PT_GPA);
	assert_int_equal(run(f, ex_cpuid(), NULL), 0);
	assert_int_not_equal(run(f, ex_hcall(1, HV_HC_VERSION, 0, 0, 0), NULL), 0);
	assert_true(f->count[HV_INV_EPT_OWN] > 0);
	fx_clear(f);
	assert_int_equal(run(f, ex_hcall(1, HV_HC_VERSION, 0, 0, 0), NULL), 0);
	/* The end-of-run verification still reports it. */
	assert_int_not_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	assert_true(f->count[HV_INV_EPT_OWN] > 0);
	fx_free(f);
}

/* The exit with a stray plant, in a child: with the watch,
 * AddressSanitizer stops it at the access. */
static void stray_exit(void *arg)
{
	(void)arg;
	struct fx *f = fx_new(1);
	run(f, ex_cpuid(), p_p1_ignored_bit_stray);
}

/* A table access behind the pool's back during an exit. The full compare
 * reports the write against the exit; with the watch (ASan builds), the
 * page was poisoned and the access itself stops the run, named CONTAIN.
 * Behind both, a change between exits not announced is still reported
 * by the end-of-run verification in watch mode. */
static void test_stray_write(void **state)
{
	(void)state;
	struct fx *probe = fx_new(1);
	bool watched = hx_oracle_pool_watched(probe->o); /* false without ASan */
	fx_free(probe);
	if (watched) {
		static char out[65536];
		int status;
		run_in_child(stray_exit, NULL, out, sizeof(out), &status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			fail_msg("the stray write was not stopped");
		if (!strstr(out, "invariant CONTAIN violated: the core read pool page"))
			fail_msg("no CONTAIN report for the stray access; the child said:\n%.2000s",
			         out);
		struct fx *f = fx_new(1);
		assert_int_equal(run(f, ex_cpuid(), NULL), 0);
		p_p1_ignored_bit_stray(f); /* between exits, not announced */
		assert_int_equal(run(f, ex_cpuid(), NULL), 0);
		assert_int_not_equal(hx_oracle_verify_all(f->o, &f->env.sys, 1), 0);
		assert_true(f->count[HV_INV_CONTAIN] > 0);
		fx_clear(f);
		assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 2), 0);
		fx_free(f);
		return;
	}
	struct fx *f = fx_new(1);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	assert_int_not_equal(run(f, ex_cpuid(), p_p1_ignored_bit_stray), 0);
	assert_true(f->count[HV_INV_CONTAIN] > 0);
	/* Taken into the picture once reported: not reported again. */
	fx_clear(f);
	assert_int_equal(run(f, ex_cpuid(), NULL), 0);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 2), 0);
	fx_free(f);
}

/* A table page the exit only read (its guest-buffer check translates
 * through p0's tables with hv_pool_ptr_ro) and that changed all the same:
 * the full compare reports it at the exit (a hypercall changed a table:
 * HCALL-BOUNDS); the pool watch compares per exit only the pages reached
 * for writing, and the whole compare at the end of the run reports it
 * (CONTAIN). */
static void test_write_to_page_only_read(void **state)
{
	(void)state;
	struct fx *f = fx_new(1);
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	struct hv_exit x = ex_hcall(0, HV_HC_CONSOLE_WRITE, CODE_GPA, 8, 0);
	uint32_t at_exit = run(f, x, p_p0_ignored_bit_stray);
	uint32_t at_end = hx_oracle_verify_all(f->o, &f->env.sys, 1);
	if (hx_oracle_pool_watched(f->o)) {
		assert_true(at_exit == 0 && at_end > 0);
		assert_true(f->count[HV_INV_CONTAIN] > 0);
	} else {
		assert_true(at_exit > 0);
		assert_true(f->count[HV_INV_HCALL_BOUNDS] > 0);
	}
	fx_free(f);
}

struct counter {
	uint32_t per_inv[HV_INV_COUNT];
	uint32_t n;
};

static void count_violation(void *ctx, const struct hv_violation *v)
{
	struct counter *c = ctx;
	c->per_inv[v->inv]++;
	c->n++;
}

/* What the oracle's verifications report after exits equals what
 * hv_ept_verify over the whole system finds, for broken tables in one
 * partition, in the other, or both, planted during a memory-protect. */
static void test_incremental_equals_full(void **state)
{
	(void)state;
	for (int which = 0; which < 3; which++) {
		struct fx *f = fx_new(1);
		assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
		assert_int_equal(run(f, ex_protect(0, 0x400000, HV_PERM_R), NULL), 0);
		fx_clear(f);
		struct hv_exit x = ex_protect(0, PROT_GPA, HV_PERM_R);
		struct hv_result r;
		hx_observer_begin_exit(&f->obs);
		hx_oracle_before(f->o, &f->env.sys, &x);
		hv_handle_exit(&f->env.sys, &x, &r);
		if (which != 1)
			p_p0_foreign_leaf(f);
		if (which != 0)
			table(f, f->env.sys.parts[1].ept_root)[0] |= 1ull << 51; /* reserved */
		struct hv_verify_part parts[2];
		for (int p = 0; p < 2; p++)
			parts[p] = (struct hv_verify_part){f->env.sys.parts[p].ept_root,
			                                   f->env.sys.parts[p].protected_ != 0};
		struct counter want = {{0}, 0};
		hv_ept_verify(&f->env.cfg, &f->env.pool, parts, count_violation, &want, 8);
		assert_true(want.n > 0);
		struct hx_obs_view v = hx_observer_view(&f->obs);
		hx_oracle_after(f->o, &f->env.sys, 1, &x, &r, &v);
		for (int inv = HV_INV_EPT_OWN; inv <= HV_INV_EPT_EXACT; inv++)
			if (f->count[inv] != want.per_inv[inv])
				fail_msg("case %d: %s reported %u times, hv_ept_verify finds %u",
				         which, hv_invariant_id(inv), f->count[inv],
				         want.per_inv[inv]);
		/* The end-of-run verification reports them again. */
		fx_clear(f);
		hx_oracle_verify_all(f->o, &f->env.sys, 2);
		for (int inv = HV_INV_EPT_OWN; inv <= HV_INV_EPT_EXACT; inv++)
			assert_int_equal(f->count[inv], want.per_inv[inv]);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pool_write_any_size),
	        cmocka_unit_test(test_protect_changes_other_partition),
	        cmocka_unit_test(test_protect_outside_range),
	        cmocka_unit_test(test_other_partition_state),
	        cmocka_unit_test(test_changes_between_exits),
	        cmocka_unit_test(test_reset_restored),
	        cmocka_unit_test(test_broken_from_the_start),
	        cmocka_unit_test(test_incremental_equals_full),
	        cmocka_unit_test(test_stray_write),
	        cmocka_unit_test(test_write_to_page_only_read),
	};
	watching = false;
	int failed = cmocka_run_group_tests_name("full compare", tests, NULL, NULL);
	watching = true;
	failed += cmocka_run_group_tests_name("pool watch", tests, NULL, NULL);
	return failed;
}
