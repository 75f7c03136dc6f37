/* Replay (harness/replay): a sequence of exits recorded on the mocked
 * system through the observer replays clean (invariants, outputs, DET);
 * a tampered recorded output is reported at its exit with the field that
 * differs; inputs drive the replay; budgets, bad bytes and the minimizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/hcall.h"
#include "hv/msr.h"
#include "minimize.h"
#include "mock_config.h"
#include "recorder.h"
#include "replay.h"
#include "synth_host.h"

#define PT_GPA 0x3000ull
#define CODE_GPA 0x10000ull
#define BUF_GPA 0x20000ull

struct fx {
	struct mock_env env;
	struct hx_recorder *rec;
	uint32_t violations;
	char last[HX_ORACLE_MSG_MAX];
	struct hx_trace *t; /* parsed back from the encoded recording */
	struct hx_replay *r;
	uint32_t reports;
	struct hx_replay_failure all[16];
};

static void on_violation(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct fx *f = ctx;
	f->violations++;
	snprintf(f->last, sizeof(f->last), "exit %llu %s: %s", (unsigned long long)index,
	         hv_invariant_id(inv), msg);
}

static void on_report(void *ctx, const struct hx_replay_failure *fl)
{
	struct fx *f = ctx;
	if (f->reports < HV_ARRAY_LEN(f->all))
		f->all[f->reports] = *fl;
	f->reports++;
}

static struct hv_exit base(uint32_t reason, uint32_t part, uint32_t vcpu)
{
	struct hv_exit x = {.reason = reason, .partition = part, .vcpu = vcpu};
	x.st.rip = CODE_GPA;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull;
	x.st.cr3 = PT_GPA;
	x.st.cr4 = 0x620;
	x.st.efer = HV_EFER_LME | HV_EFER_LMA;
	return x;
}

static void rec(struct fx *f, struct hv_exit x)
{
	struct hv_result r;
	hx_recorder_exit(f->rec, &x, &r);
}

static void rec_hcall(struct fx *f, uint32_t p, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hv_exit x = base(HV_EXIT_VMCALL, p, 0);
	x.st.gpr[HV_RAX] = nr;
	x.st.gpr[HV_RDI] = a1;
	x.st.gpr[HV_RSI] = a2;
	x.st.gpr[HV_RDX] = a3;
	rec(f, x);
}

/* Indices of notable exits in the recording. */
enum {
	X_CPUID1 = 0,
	X_WRMSR = 2,
	X_CONSOLE = 4,
	X_INFO = 5,
	X_SEND = 6,
	X_RECV = 7,
	X_MMIO = 10,
};

static void record_sequence(struct fx *f)
{
	static const uint8_t store_bl[] = {0x88, 0x18}; /* mov [rax], bl */
	mock_poke(&f->env, MOCK_P0_RAM_HPA + BUF_GPA, "hello, replay", 13);
	mock_poke(&f->env, MOCK_P0_RAM_HPA + CODE_GPA, store_bl, sizeof(store_bl));
	struct hv_exit x = base(HV_EXIT_CPUID, 0, 0);
	x.st.gpr[HV_RAX] = 1;
	rec(f, x); /* 0 */
	x.st.gpr[HV_RAX] = 0x40000001;
	x.vcpu = 1;
	rec(f, x); /* 1 */
	x = base(HV_EXIT_WRMSR, 0, 1);
	x.st.gpr[HV_RCX] = HV_MSR_TSC_AUX;
	x.st.gpr[HV_RAX] = 42;
	rec(f, x); /* 2 */
	x = base(HV_EXIT_RDMSR, 0, 1);
	x.st.gpr[HV_RCX] = HV_MSR_TSC_AUX;
	rec(f, x);                                                       /* 3 */
	rec_hcall(f, 0, HV_HC_CONSOLE_WRITE, BUF_GPA, 13, 0);            /* 4 */
	rec_hcall(f, 0, HV_HC_PARTITION_INFO, BUF_GPA + 0x100, 64, 0);   /* 5 */
	rec_hcall(f, 0, HV_HC_CHANNEL_SEND, 0, BUF_GPA, 5);              /* 6 */
	rec_hcall(f, 1, HV_HC_CHANNEL_RECV, 0, BUF_GPA, 64);             /* 7 */
	rec_hcall(f, 0, HV_HC_MEM_PROTECT, 0x200000, 0x1000, HV_PERM_R); /* 8 */
	rec_hcall(f, 0, HV_HC_PARTITION_INFO, 0x200000, 64, 0);          /* 9: EFAULT */
	x = base(HV_EXIT_EPT_VIOLATION, 0, 0); /* p0 has the console device */
	x.st.gpr[HV_RAX] = MOCK_CONSOLE_GPA;
	x.st.gpr[HV_RBX] = 'Z';
	x.gpa = MOCK_CONSOLE_GPA;
	x.qual = HV_QUAL_WRITE;
	rec(f, x); /* 10 */
	x = base(HV_EXIT_RDMSR, 1, 0);
	x.st.gpr[HV_RCX] = HV_MSR_FEATURE_CONTROL;
	rec(f, x);                                /* 11: #GP */
	rec_hcall(f, 0, HV_HC_YIELD, 0, 0, 0);    /* 12 */
	rec(f, base(HV_EXIT_HLT, 1, 0));          /* 13 */
	rec_hcall(f, 0, HV_HC_SHUTDOWN, 0, 0, 0); /* 14 */
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	mock_identity_page_tables(&f->env, MOCK_P0_RAM_HPA, PT_GPA);
	mock_identity_page_tables(&f->env, MOCK_P1_RAM_HPA, PT_GPA);
	f->rec = hx_recorder_new(&f->env.sys, "mock-two", "test_replay", on_violation, f);
	assert_non_null(f->rec);
	record_sequence(f);
	if (f->violations)
		fail_msg("recording: %u violations, last %s", f->violations, f->last);
	uint8_t *b;
	size_t len;
	assert_int_equal(hx_trace_encode(hx_recorder_trace(f->rec), &b, &len), 0);
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(b, len, &f->t, &err), 0);
	free(b);
	hx_recorder_free(f->rec);
	f->rec = NULL;
	mock_env_stop(&f->env);
	f->r = hx_replay_new();
	assert_non_null(f->r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hx_trace_free(f->t);
	hx_replay_free(f->r);
	free(f);
	return 0;
}

static struct hx_replay_opts opts_for(struct fx *f)
{
	struct hx_replay_opts o;
	hx_replay_opts_default(&o);
	o.report = on_report;
	o.report_ctx = f;
	f->reports = 0;
	return o;
}

/* ---- clean replay ---- */

static void test_recorded_sequence(void **state)
{
	struct fx *f = *state;
	assert_int_equal(f->t->nexits, 15);
	/* The recording did what the sequence meant to do. */
	assert_int_equal(f->t->exits[X_SEND].out.gpr[HV_RAX], 0);
	assert_int_equal(f->t->exits[X_RECV].out.gpr[HV_RDI], 5);
	assert_int_equal(f->t->exits[9].out.gpr[HV_RAX], (uint64_t)(int64_t)HV_HC_EFAULT);
	assert_int_equal(f->t->exits[X_MMIO].res.has_mmio, 1);
	assert_int_equal(f->t->exits[11].res.vector, HV_VEC_GP);
	assert_int_equal(f->t->exits[14].res.halt_reason, HV_HALT_SHUTDOWN);
}

static void test_replay_clean(void **state)
{
	struct fx *f = *state;
	struct hx_replay_opts o = opts_for(f);
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_PASS);
	assert_int_equal(res.exits_run, f->t->nexits);
	assert_true(res.checks > 5 * f->t->nexits);
	assert_int_equal(res.violations, 0);
	assert_int_equal(res.mismatches, 0);
	assert_int_equal(f->reports, 0);
	assert_int_equal(res.first.kind, HX_RF_NONE);
	/* The engine is reusable: the same answer again. */
	assert_int_equal(hx_replay_run(f->r, f->t, NULL, &res), HX_REPLAY_PASS);
}

static void test_replay_file(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/hx-test-replay-XXXXXX", path[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.hxt", dir);
	assert_int_equal(hx_trace_save(path, f->t, err, sizeof(err)), 0);
	struct hx_trace *t;
	struct hx_trace_error e;
	assert_int_equal(hx_trace_load(path, &t, &e), 0);
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, t, NULL, &res), HX_REPLAY_PASS);
	hx_trace_free(t);
	unlink(path);
	rmdir(dir);
}

/* Inputs only (as a fuzzer may give): the oracles still run. */
static void test_inputs_only(void **state)
{
	struct fx *f = *state;
	for (uint32_t i = 0; i < f->t->nexits; i++)
		f->t->exits[i].flags = 0;
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, f->t, NULL, &res), HX_REPLAY_PASS);
	assert_true(res.checks > 0);
}

/* ---- tampering with recorded outputs ---- */

typedef void (*tamper_fn)(struct hx_trace_exit *e);

static void t_action(struct hx_trace_exit *e)
{
	e->res.action = HV_ACT_RETRY;
}
static void t_rax(struct hx_trace_exit *e)
{
	e->out.gpr[HV_RAX] ^= 0x100;
}
static void t_rip(struct hx_trace_exit *e)
{
	e->out.rip++;
}
static void t_insn_len(struct hx_trace_exit *e)
{
	e->res.insn_len = 5;
}
static void t_mmio_data(struct hx_trace_exit *e)
{
	e->res.mmio.data ^= 1;
}
static struct hx_obs_entry *find(struct hx_trace_exit *e, uint8_t kind)
{
	for (uint32_t k = 0; k < e->log.nentries; k++)
		if (e->log.entries[k].kind == kind)
			return (struct hx_obs_entry *)&e->log.entries[k];
	fail_msg("no %s call", hx_obs_kind_str(kind));
	return NULL;
}
static void t_write_byte(struct hx_trace_exit *e)
{
	struct hx_obs_entry *w = find(e, HX_OBS_PHYS_WRITE);
	((uint8_t *)e->log.data)[w->data + 3] ^= 0xff;
}
static void t_write_addr(struct hx_trace_exit *e)
{
	find(e, HX_OBS_PHYS_WRITE)->addr += 8;
}
static void t_console_byte(struct hx_trace_exit *e)
{
	struct hx_obs_entry *c = find(e, HX_OBS_CONSOLE);
	((uint8_t *)e->log.data)[c->data] = '#';
}
static void t_drop_write(struct hx_trace_exit *e)
{
	find(e, HX_OBS_PHYS_WRITE)->kind = HX_OBS_CPUID; /* the recording wrote nothing */
}
static void t_wrmsr_value(struct hx_trace_exit *e)
{
	e->res.msr.value ^= 2;
}

struct row {
	const char *name;
	uint32_t exit;
	tamper_fn tamper;
	const char *field;
};

static const struct row rows[] = {
        {"action", X_CPUID1, t_action, "res.action"},
        {"register", X_CPUID1, t_rax, "st.rax"},
        {"rip", X_WRMSR, t_rip, "st.rip"},
        {"insn_len", X_INFO, t_insn_len, "res.insn_len"},
        {"mmio data", X_MMIO, t_mmio_data, "res.mmio.data"},
        {"msr apply", X_WRMSR, t_wrmsr_value, "res.msr.value"},
        {"memory written", X_INFO, t_write_byte, "write[0].bytes"},
        {"where written", X_SEND, t_write_addr, "write[0]"},
        {"write missing", X_RECV, t_drop_write, "write.count"},
        {"console", X_CONSOLE, t_console_byte, "console[0].bytes"},
        {"console device", X_MMIO, t_console_byte, "console[0].bytes"},
};

static void test_tampered_outputs(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		void *st;
		setup(&st);
		struct fx *f = st;
		rows[i].tamper(&f->t->exits[rows[i].exit]);
		struct hx_replay_opts o = opts_for(f);
		struct hx_replay_result res;
		assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_FAIL);
		char line[512];
		hx_replay_failure_str(&res.first, line, sizeof(line));
		if (res.first.kind != HX_RF_MISMATCH || res.first.exit_index != rows[i].exit ||
		    strcmp(res.first.field, rows[i].field))
			fail_msg("%s: expected exit %u field %s, got: %s", rows[i].name,
			         rows[i].exit, rows[i].field, line);
		assert_int_equal(res.first.exit_reason, f->t->exits[rows[i].exit].in.reason);
		assert_non_null(strstr(line, "output differs"));
		/* Stopped at the failing exit. */
		assert_int_equal(res.exits_run, rows[i].exit + 1);
		teardown(&st);
	}
	(void)state;
}

/* A recorded input is what the handler sees: other guest bytes, other
 * console output. */
static void test_inputs_drive_replay(void **state)
{
	struct fx *f = *state;
	struct hx_trace_exit *e = &f->t->exits[X_CONSOLE];
	struct hx_obs_entry *rd = find(e, HX_OBS_PHYS_READ);
	((uint8_t *)e->log.data)[rd->data] = 'J';
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, f->t, NULL, &res), HX_REPLAY_FAIL);
	assert_int_equal(res.first.exit_index, X_CONSOLE);
	assert_string_equal(res.first.field, "console[0].bytes");
	assert_non_null(strstr(res.first.msg, "byte 0 differs"));
}

static void test_keep_going(void **state)
{
	struct fx *f = *state;
	t_rax(&f->t->exits[X_CPUID1]);
	t_rip(&f->t->exits[X_WRMSR]);
	struct hx_replay_opts o = opts_for(f);
	o.stop_at_first = false;
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_FAIL);
	assert_int_equal(res.exits_run, f->t->nexits);
	assert_int_equal(res.mismatches, 2);
	assert_int_equal(f->reports, 2);
	assert_int_equal(f->all[0].exit_index, X_CPUID1);
	assert_int_equal(f->all[1].exit_index, X_WRMSR);
	/* Without comparison, nothing differs. */
	o.compare_outputs = false;
	assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_PASS);
}

static void test_total(void **state)
{
	struct fx *f = *state;
	struct hx_replay_opts o = opts_for(f);
	o.step_budget = 3;
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_FAIL);
	assert_int_equal(res.first.kind, HX_RF_INVARIANT);
	assert_int_equal(res.first.inv, HV_INV_TOTAL);
	assert_non_null(strstr(res.first.msg, "step budget of 3"));
	/* What counts is the replay's own log: a recording that says it
	 * overflowed (an input a fuzzer may set) does not fail by itself. */
	f->t->exits[4].log.overflow = 2;
	o.step_budget = 0;
	assert_int_equal(hx_replay_run(f->r, f->t, &o, &res), HX_REPLAY_PASS);
}

static void test_bad_bytes(void **state)
{
	struct fx *f = *state;
	static const uint8_t junk[] = "definitely not a trace";
	struct hx_replay_result res;
	assert_int_equal(hx_replay_bytes(f->r, junk, sizeof(junk), NULL, &res),
	                 HX_REPLAY_BAD_INPUT);
	assert_int_equal(res.first.kind, HX_RF_BAD_INPUT);
	assert_non_null(strstr(res.first.msg, "bad magic"));
	/* The recording as bytes replays clean. */
	uint8_t *b;
	size_t len;
	assert_int_equal(hx_trace_encode(f->t, &b, &len), 0);
	assert_int_equal(hx_replay_bytes(f->r, b, len, NULL, &res), HX_REPLAY_PASS);
	/* With a pool too small for the EPTs, it is bad input. */
	f->t->pool_pages = 2;
	free(b);
	assert_int_equal(hx_trace_encode(f->t, &b, &len), 0);
	assert_int_equal(hx_replay_bytes(f->r, b, len, NULL, &res), HX_REPLAY_BAD_INPUT);
	assert_non_null(strstr(res.first.msg, "pool pages"));
	free(b);
}

static void test_minimize(void **state)
{
	struct fx *f = *state;
	t_write_byte(&f->t->exits[X_INFO]);
	struct hx_trace *small;
	struct hx_replay_failure target;
	struct hx_minimize_stats st;
	assert_int_equal(hx_minimize(f->t, &small, &target, &st), HX_MIN_OK);
	assert_int_equal(target.kind, HX_RF_MISMATCH);
	assert_string_equal(target.field, "write[0].bytes");
	assert_int_equal(target.exit_reason, HV_EXIT_VMCALL);
	assert_true(small->nexits < f->t->nexits);
	assert_true(st.exits_after == small->nexits && st.exits_before == f->t->nexits);
	assert_true(st.calls_after <= st.calls_before);
	/* The result fails the same way on its own. */
	struct hx_replay_result res;
	assert_int_equal(hx_replay_run(f->r, small, NULL, &res), HX_REPLAY_FAIL);
	assert_true(hx_replay_same_failure(&res.first, &target));
	hx_trace_free(small);
	/* A passing trace has nothing to minimize. */
	void *st2;
	setup(&st2);
	struct fx *g = st2;
	assert_int_equal(hx_minimize(g->t, &small, &target, &st), HX_MIN_PASSES);
	assert_null(small);
	teardown(&st2);
}

static void test_same_failure(void **state)
{
	(void)state;
	struct hx_replay_failure a = {
	        .kind = HX_RF_INVARIANT, .inv = HV_INV_RIP, .exit_reason = HV_EXIT_CPUID};
	struct hx_replay_failure b = a;
	b.exit_index = 9;
	assert_true(hx_replay_same_failure(&a, &b));
	b.inv = HV_INV_CONTAIN;
	assert_false(hx_replay_same_failure(&a, &b));
	struct hx_replay_failure m = {.kind = HX_RF_MISMATCH, .exit_reason = HV_EXIT_CPUID};
	snprintf(m.field, sizeof(m.field), "st.rax");
	struct hx_replay_failure n = m;
	assert_true(hx_replay_same_failure(&m, &n));
	snprintf(n.field, sizeof(n.field), "st.rbx");
	assert_false(hx_replay_same_failure(&m, &n));
	assert_false(hx_replay_same_failure(&a, &m));
}

static void test_synth_memory(void **state)
{
	(void)state;
	struct hx_synth_host *h = hx_synth_host_new(64ull << 20);
	assert_non_null(h);
	uint8_t in[6000], out[6000];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	assert_true(hx_synth_poke(h, 0x1ff0, in, sizeof(in))); /* crosses pages */
	assert_true(hx_synth_peek(h, 0x1ff0, out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(in));
	assert_true(hx_synth_peek(h, 0x800000, out, 16)); /* untouched: zeros */
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 0);
	assert_false(hx_synth_poke(h, (64ull << 20) - 4, in, 8)); /* past the end */
	assert_false(hx_synth_peek(h, ~0ull - 2, out, 8));
	uint32_t regs[4];
	hx_synth_host_ops.cpuid(h, 0x80000001, 0, regs);
	assert_true(regs[2] & (1u << 2)); /* the host has SVM: masking shows */
	uint64_t v;
	assert_int_equal(hx_synth_host_ops.rdmsr(h, 0x12345, &v), -1);
	hx_synth_host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_recorded_sequence, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_replay_clean, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_replay_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_inputs_only, setup, teardown),
	        cmocka_unit_test(test_tampered_outputs),
	        cmocka_unit_test_setup_teardown(test_inputs_drive_replay, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_keep_going, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_total, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_bytes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_minimize, setup, teardown),
	        cmocka_unit_test(test_same_failure),
	        cmocka_unit_test(test_synth_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
