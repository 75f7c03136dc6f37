/* hx_trace_mutate edits encoded traces without parsing them: these tests
 * parse every result and check that the edit is exactly one of the kinds
 * it promises (one input field of one exit, the pool placement, or one
 * duplicate / drop / swap of whole exits), so a byte offset that drifted
 * from the encoder shows up as a refused trace or as a second field
 * changed. Also: hx_trace_has_outputs and hx_trace_cache_config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mock_config.h"
#include "trace.h"

#define ROOM 65536 /* room the mutator may grow a trace into */

struct fx {
	struct hv_system_config cfg;
	struct hx_trace *t;
	uint8_t *bytes; /* t encoded, inputs only */
	size_t len;
};

static struct hv_exit exit_n(uint32_t i)
{
	struct hv_exit x = {.reason = HV_EXIT_CPUID + i % 3,
	                    .partition = i & 1,
	                    .vcpu = 0,
	                    .insn_len = 2,
	                    .qual = 0x100 + i,
	                    .gpa = 0x1000ull * (i + 1),
	                    .gla = 0x7000ull + i};
	/* Distinct registers, so a write to the wrong one is seen. */
	for (int r = 0; r < HV_GPR_COUNT; r++)
		x.st.gpr[r] = 0x1111000000000000ull + ((uint64_t)i << 16) + (uint64_t)r;
	x.st.rip = 0x401000 + 16 * i;
	x.st.rflags = 0x202;
	x.st.cr0 = 0x80050033;
	x.st.cr3 = 0x3000;
	x.st.cr4 = 0x620;
	x.st.efer = 0xd01;
	x.st.cpl = 0;
	return x;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->cfg);
	struct hx_trace_meta meta = {.cfg = &f->cfg,
	                             .config_name = "mock-two",
	                             .note = "mutate",
	                             .pool_hpa = MOCK_POOL_HPA,
	                             .pool_pages = MOCK_POOL_PAGES};
	f->t = hx_trace_new(&meta);
	assert_non_null(f->t);
	for (uint32_t i = 0; i < 4; i++) {
		struct hv_exit in = exit_n(i);
		assert_int_equal(hx_trace_append(f->t, &in, NULL, NULL, NULL), 0);
	}
	assert_int_equal(hx_trace_encode(f->t, &f->bytes, &f->len), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hx_trace_free(f->t);
	free(f->bytes);
	free(f);
	return 0;
}

/* The input fields of an exit as an array, for counting differences. */
#define NFIELDS (7 + HV_GPR_COUNT + 7)
static void fields(const struct hv_exit *e, uint64_t v[NFIELDS])
{
	int k = 0;
	v[k++] = e->reason;
	v[k++] = e->partition;
	v[k++] = e->vcpu;
	v[k++] = e->insn_len;
	v[k++] = e->qual;
	v[k++] = e->gpa;
	v[k++] = e->gla;
	for (int r = 0; r < HV_GPR_COUNT; r++)
		v[k++] = e->st.gpr[r];
	v[k++] = e->st.rip;
	v[k++] = e->st.rflags;
	v[k++] = e->st.cr0;
	v[k++] = e->st.cr3;
	v[k++] = e->st.cr4;
	v[k++] = e->st.efer;
	v[k++] = e->st.cpl;
	assert_int_equal(k, NFIELDS);
}

/* Fields edited by some mutation (the test asks for every one: an offset
 * off by a field would edit its neighbour twice and itself never). */
static bool field_hit[NFIELDS];

static int fields_differing(const struct hv_exit *a, const struct hv_exit *b)
{
	uint64_t x[NFIELDS], y[NFIELDS];
	fields(a, x);
	fields(b, y);
	int n = 0;
	for (int i = 0; i < NFIELDS; i++)
		n += x[i] != y[i];
	return n;
}

static void note_field(const struct hv_exit *a, const struct hv_exit *b)
{
	uint64_t x[NFIELDS], y[NFIELDS];
	fields(a, x);
	fields(b, y);
	for (int i = 0; i < NFIELDS; i++)
		field_hit[i] |= x[i] != y[i];
}

static bool same_exit(const struct hx_trace *t, uint32_t i, const struct hx_trace *u, uint32_t j)
{
	return fields_differing(&t->exits[i].in, &u->exits[j].in) == 0;
}

/* What one mutation did to the 4-exit trace. */
enum edit { E_NONE, E_FIELD, E_POOL, E_DUP, E_DROP, E_SWAP };

static enum edit classify(const struct hx_trace *t, const struct hx_trace *u)
{
	assert_memory_equal(t->cfg, u->cfg, sizeof(*t->cfg));
	assert_string_equal(t->config_name, u->config_name);
	assert_string_equal(t->note, u->note);
	bool pool = t->pool_hpa != u->pool_hpa || t->pool_pages != u->pool_pages;
	if (u->nexits == t->nexits + 1 || u->nexits + 1 == t->nexits) {
		assert_false(pool);
		/* The longer one minus one record is the shorter one. */
		const struct hx_trace *lo = u->nexits < t->nexits ? u : t;
		const struct hx_trace *hi = lo == u ? t : u;
		for (uint32_t skip = 0; skip < hi->nexits; skip++) {
			bool match = true;
			for (uint32_t i = 0, j = 0; i < lo->nexits && match; i++, j++) {
				if (j == skip)
					j++;
				match = same_exit(lo, i, hi, j);
			}
			/* A duplicate is the record before the extra one. */
			if (match && (lo == u || (skip > 0 && same_exit(hi, skip - 1, hi, skip))))
				return lo == u ? E_DROP : E_DUP;
		}
		fail_msg("exit count changed by one but not by a whole record");
	}
	assert_int_equal(u->nexits, t->nexits);
	uint32_t changed = 0, first = 0, second = 0;
	for (uint32_t i = 0; i < t->nexits; i++)
		if (!same_exit(t, i, u, i)) {
			if (changed++ == 0)
				first = i;
			else
				second = i;
		}
	if (pool) {
		assert_int_equal(changed, 0);
		assert_int_equal(u->pool_hpa & (HV_PAGE_SIZE - 1), 0);
		return E_POOL;
	}
	if (changed == 0)
		return E_NONE;
	if (changed == 1) {
		assert_int_equal(fields_differing(&t->exits[first].in, &u->exits[first].in), 1);
		note_field(&t->exits[first].in, &u->exits[first].in);
		return E_FIELD;
	}
	assert_int_equal(changed, 2);
	assert_true(same_exit(t, first, u, second) && same_exit(t, second, u, first));
	return E_SWAP;
}

static void test_every_edit_is_one_of_its_kinds(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(ROOM);
	assert_non_null(buf);
	unsigned seen[E_SWAP + 1] = {0};
	for (uint32_t s = 1; s <= 4000; s++) {
		memcpy(buf, f->bytes, f->len);
		uint32_t seed = s;
		size_t n = hx_trace_mutate(buf, f->len, ROOM, &f->cfg, &seed);
		assert_true(n <= ROOM);
		if (n == 0) { /* a swap of an exit with itself: nothing done */
			assert_memory_equal(buf, f->bytes, f->len);
			continue;
		}
		/* Unsealed, as byte mutations leave a trace; once resealed,
		 * the sealed reader takes it too, unless the pool moved out of
		 * the hypervisor range (left to hv_system_init). */
		struct hx_trace *u = NULL;
		struct hx_trace_error err;
		assert_int_equal(hx_trace_parse_ex(buf, n, HX_TRACE_UNSEALED, &u, &err), 0);
		enum edit e = classify(f->t, u);
		if (e != E_POOL) {
			hx_trace_free(u);
			assert_int_equal(hx_trace_reseal(buf, n), 0);
			assert_int_equal(hx_trace_parse(buf, n, &u, &err), 0);
		}
		hx_trace_free(u);
		seen[e]++;
	}
	/* Every kind happens, in about the proportions chosen. */
	for (int e = E_FIELD; e <= E_SWAP; e++)
		assert_true(seen[e] > 20);
	assert_true(seen[E_FIELD] > seen[E_DUP] + seen[E_DROP] + seen[E_SWAP]);
	for (int i = 0; i < NFIELDS; i++)
		if (!field_hit[i])
			fail_msg("input field %d of an exit was never edited", i);
	free(buf);
}

static void test_no_room_no_pool_no_exits(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(ROOM);
	assert_non_null(buf);
	/* max == len: a duplicate does not fit and is not made; without a
	 * config the pool is never moved. */
	for (uint32_t s = 1; s <= 2000; s++) {
		memcpy(buf, f->bytes, f->len);
		uint32_t seed = s;
		size_t n = hx_trace_mutate(buf, f->len, f->len, NULL, &seed);
		assert_true(n <= f->len);
		if (n == 0) {
			assert_memory_equal(buf, f->bytes, f->len);
			continue;
		}
		struct hx_trace *u = NULL;
		assert_int_equal(hx_trace_parse_ex(buf, n, HX_TRACE_UNSEALED, &u, NULL), 0);
		enum edit e = classify(f->t, u);
		assert_true(e != E_DUP && e != E_POOL);
		hx_trace_free(u);
	}
	/* Not a trace, or a trace without exits: nothing to edit. */
	uint32_t seed = 7;
	memcpy(buf, f->bytes, f->len);
	buf[0] ^= 1;
	assert_int_equal(hx_trace_mutate(buf, f->len, ROOM, &f->cfg, &seed), 0);
	assert_int_equal(hx_trace_mutate(buf, 10, ROOM, &f->cfg, &seed), 0);
	struct hx_trace_meta meta = {.cfg = &f->cfg, .pool_hpa = MOCK_POOL_HPA, .pool_pages = 1};
	struct hx_trace *empty = hx_trace_new(&meta);
	uint8_t *eb;
	size_t elen;
	assert_int_equal(hx_trace_encode(empty, &eb, &elen), 0);
	for (uint32_t s = 1; s <= 64; s++) {
		seed = s;
		assert_int_equal(hx_trace_mutate(eb, elen, elen, NULL, &seed), 0);
	}
	free(eb);
	hx_trace_free(empty);
	free(buf);
}

static void test_outputs_and_cached_config(void **state)
{
	struct fx *f = *state;
	assert_false(hx_trace_has_outputs(f->bytes, f->len));
	struct hv_exit in = exit_n(9), out = exit_n(10);
	struct hv_result res = {.action = HV_ACT_RESUME};
	assert_int_equal(hx_trace_append(f->t, &in, NULL, &res, &out), 0);
	uint8_t *b;
	size_t len;
	assert_int_equal(hx_trace_encode(f->t, &b, &len), 0);
	assert_true(hx_trace_has_outputs(b, len));
	assert_false(hx_trace_has_outputs(b, len - 1)); /* the last record cut */

	struct hx_trace_cache *c = hx_trace_cache_new();
	assert_non_null(c);
	assert_null(hx_trace_cache_config(c, b, len)); /* never parsed */
	struct hx_trace *t;
	assert_int_equal(hx_trace_parse_cached(b, len, 0, c, &t, NULL), 0);
	const struct hv_system_config *cfg = hx_trace_cache_config(c, b, len);
	assert_ptr_equal(cfg, t->cfg);
	assert_memory_equal(cfg, &f->cfg, sizeof(*cfg));
	/* Other CONF bytes, a cut file, another magic: no config. */
	b[HX_TRACE_HEADER_SIZE + 8 + b[HX_TRACE_HEADER_SIZE + 4] + 8] ^= 0x40;
	assert_null(hx_trace_cache_config(c, b, len));
	assert_null(hx_trace_cache_config(c, b, HX_TRACE_HEADER_SIZE + 4));
	assert_null(hx_trace_cache_config(NULL, b, len));
	hx_trace_free(t);
	hx_trace_cache_free(c);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_every_edit_is_one_of_its_kinds, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_no_room_no_pool_no_exits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_outputs_and_cached_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
