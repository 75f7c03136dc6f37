/* The replay engine builds a system once per config and resets it between
 * inputs (harness/replay/replay.c, "the world"). These tests run many mixed
 * inputs through one engine with the reset check on: after every reset the
 * system is compared byte for byte with a fresh build. Linked twice: as
 * test_replay_reset against the real engine, where nothing may differ, and
 * as test_replay_reset_leak against a test-only engine whose reset forgets
 * the channel mailboxes, where the check must report it. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hcall.h"
#include "replay.h"
#include "trace.h"

#define MAX_SEEDS 64
#define INPUTS 10000

struct seed {
	uint8_t *buf;
	size_t len;
};

static uint32_t load_dir(const char *dir, struct seed *out, uint32_t n)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_SEEDS) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".hxt") != 0 ||
		    strstr(e->d_name, "malformed"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct hx_trace *t;
		struct hx_trace_error err;
		if (hx_trace_load(path, &t, &err) != 0)
			fail_msg("%s: %s", path, err.msg);
		/* Inputs without recorded outputs, as the fuzzer's mutations are. */
		for (uint32_t i = 0; i < t->nexits; i++)
			t->exits[i].flags &= ~HX_TREC_OUTPUTS;
		assert_int_equal(hx_trace_encode(t, &out[n].buf, &out[n].len), 0);
		hx_trace_free(t);
		n++;
	}
	closedir(d);
	return n;
}

static uint32_t load_seeds(struct seed *s)
{
	uint32_t n = load_dir(HX_SOURCE_DIR "/corpus/exits", s, 0);
	n = load_dir(HX_SOURCE_DIR "/corpus/kvm", s, n);
	assert_true(n >= 10);
	return n;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Input k: seed k mod n with a few of its exits' registers changed (the
 * hypercall number, an argument, an MSR index), re-encoded; the config and
 * pool stay, so the engine resets one world after another. */
static void make_input(const struct seed *s, uint64_t *state, uint8_t **buf, size_t *len)
{
	struct hx_trace *t;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(s->buf, s->len, &t, &err), 0);
	for (int m = 0; m < 3 && t->nexits; m++) {
		struct hv_exit *in = &t->exits[rnd(state) % t->nexits].in;
		switch (rnd(state) % 4) {
		case 0:
			in->st.gpr[HV_RAX] = rnd(state) % 9;
			break;
		case 1:
			in->st.gpr[HV_RDI] = rnd(state) % 4;
			break;
		case 2:
			in->st.gpr[HV_RDX] = rnd(state) % 0x2000;
			break;
		default:
			in->st.gpr[HV_RCX] ^= 1u << (rnd(state) % 12);
			break;
		}
	}
	assert_int_equal(hx_trace_encode(t, buf, len), 0);
	hx_trace_free(t);
}

/* Runs the inputs; returns how many reset checks failed. */
static uint32_t run_mixed(uint32_t inputs, uint64_t *resets)
{
	static struct seed seeds[MAX_SEEDS];
	uint32_t n = load_seeds(seeds);
	struct hx_replay *r = hx_replay_new();
	assert_non_null(r);
	struct hx_replay_opts opts;
	hx_replay_opts_default(&opts);
	opts.compare_outputs = false;
	opts.check_reset = true;
	uint64_t state = 0x9e3779b97f4a7c15ull;
	uint32_t leaks = 0, passed = 0;
	for (uint32_t k = 0; k < inputs; k++) {
		uint8_t *buf;
		size_t len;
		make_input(&seeds[k % n], &state, &buf, &len);
		/* Each input twice in a row: the second one runs on a reset world
		 * even when the seeds' configs alternate. */
		for (int rep = 0; rep < 2; rep++) {
			struct hx_replay_result res;
			hx_replay_bytes(r, buf, len, &opts, &res);
			if (res.status == HX_REPLAY_PASS)
				passed++;
			else if (strstr(res.first.msg, "state reset between inputs"))
				leaks++;
			else
				fail_msg("input %u: %s", k, res.first.msg);
		}
		free(buf);
	}
	uint64_t builds;
	hx_replay_world_stats(r, &builds, resets);
	print_message("  %u inputs (x2): %u passed, %u leaks, %llu builds, %llu resets\n", inputs,
	              passed, leaks, (unsigned long long)builds, (unsigned long long)*resets);
	hx_replay_free(r);
	for (uint32_t i = 0; i < n; i++)
		free(seeds[i].buf);
	return leaks;
}

#ifndef HX_EXPECT_LEAK
/* The real engine: every reset equals a fresh build, and resets (not
 * builds) are what ran. */
static void test_reset_equals_fresh_build(void **state)
{
	(void)state;
	uint64_t resets;
	assert_int_equal(run_mixed(INPUTS, &resets), 0);
	assert_true(resets >= 2 * INPUTS * 3 / 4);
}
#else
/* The planted engine: resets forget the mailboxes, which the channel
 * seeds fill; the check must say so. */
static void test_planted_leak_is_caught(void **state)
{
	(void)state;
	uint64_t resets;
	assert_true(run_mixed(200, &resets) > 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifndef HX_EXPECT_LEAK
	        cmocka_unit_test(test_reset_equals_fresh_build),
#else
	        cmocka_unit_test(test_planted_leak_is_caught),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
