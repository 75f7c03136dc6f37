/* Guest-physical access through the EPT (handlers/src/guest_mem.c): page
 * pieces, permissions checked for the whole range first, wrap-around,
 * platform failures. Runs on the mocked two-partition system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/ept.h"
#include "hv/guest_mem.h"
#include "mock_config.h"

#define K4 HV_PAGE_SIZE

static int setup(void **state)
{
	struct mock_env *env = mock_env_new(mock_config_two);
	assert_non_null(env);
	/* recognisable bytes everywhere the partitions can reach */
	for (uint64_t i = 0; i < MOCK_RAM_SIZE; i++) {
		env->plat.mem[MOCK_P0_RAM_HPA + i] = (uint8_t)(i * 7 + 1);
		env->plat.mem[MOCK_P1_RAM_HPA + i] = (uint8_t)(i * 5 + 3);
	}
	memset(env->plat.mem + MOCK_MMIO_HPA, 0xee, K4);
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	mock_env_free(*state);
	return 0;
}

enum op { OP_READ, OP_WRITE, OP_CHECK };

struct access_case {
	const char *name;
	enum op op;
	uint32_t part;
	uint64_t gpa;
	uint64_t len;
	uint8_t need; /* OP_CHECK only */
	hv_status expect;
	uint64_t hpa;    /* where the bytes are, for OK reads/writes */
	uint32_t pieces; /* phys ops expected for OK reads/writes */
};

static const struct access_case cases[] = {
        {"read in one page", OP_READ, 0, 0x1010, 100, 0, HV_OK, MOCK_P0_RAM_HPA + 0x1010, 1},
        {"read across a page", OP_READ, 0, 0x1ffe, 8, 0, HV_OK, MOCK_P0_RAM_HPA + 0x1ffe, 2},
        {"read across a 2M leaf", OP_READ, 0, 0x1ffffc, 8, 0, HV_OK, MOCK_P0_RAM_HPA + 0x1ffffc, 2},
        {"read 3 pages across a 2M leaf", OP_READ, 0, 0x1fe800, 3 * K4, 0, HV_OK,
         MOCK_P0_RAM_HPA + 0x1fe800, 4},
        {"write 3 pages across a 2M leaf", OP_WRITE, 0, 0x3fe800, 3 * K4, 0, HV_OK,
         MOCK_P0_RAM_HPA + 0x3fe800, 4},
        {"read 3 pages, unaligned", OP_READ, 0, 0x3800, 2 * K4 + 0x10, 0, HV_OK,
         MOCK_P0_RAM_HPA + 0x3800, 3},
        {"read p1's own RAM", OP_READ, 1, 0x5000, 64, 0, HV_OK, MOCK_P1_RAM_HPA + 0x5000, 1},
        {"read passthrough MMIO", OP_READ, 0, MOCK_MMIO_GPA + 8, 8, 0, HV_OK, MOCK_MMIO_HPA + 8, 1},
        {"read RO channel", OP_READ, 1, MOCK_CHAN_GPA, 16, 0, HV_OK, MOCK_CHAN_HPA, 1},
        {"write RAM across a page", OP_WRITE, 0, 0x2ff0, 0x20, 0, HV_OK, MOCK_P0_RAM_HPA + 0x2ff0,
         2},
        {"write RW channel", OP_WRITE, 0, MOCK_CHAN_GPA + 0xff8, 16, 0, HV_OK,
         MOCK_CHAN_HPA + 0xff8, 2},
        {"zero length", OP_READ, 0, 0x1000, 0, 0, HV_OK, 0, 0},
        {"read past the end of RAM", OP_READ, 0, MOCK_RAM_SIZE - 16, 32, 0, HV_ERR_FAULT, 0, 0},
        {"write past the end of RAM", OP_WRITE, 0, MOCK_RAM_SIZE - 16, 32, 0, HV_ERR_FAULT, 0, 0},
        {"read the emulated device", OP_READ, 0, MOCK_CONSOLE_GPA, 4, 0, HV_ERR_FAULT, 0, 0},
        {"write RO channel", OP_WRITE, 1, MOCK_CHAN_GPA, 4, 0, HV_ERR_FAULT, 0, 0},
        {"write past the channel", OP_WRITE, 0, MOCK_CHAN_GPA + MOCK_CHAN_SIZE - 4, 8, 0,
         HV_ERR_FAULT, 0, 0},
        {"p1 has no MMIO", OP_READ, 1, MOCK_MMIO_GPA, 4, 0, HV_ERR_FAULT, 0, 0},
        {"read wraps", OP_READ, 0, ~0ull - 3, 8, 0, HV_ERR_RANGE, 0, 0},
        {"write wraps", OP_WRITE, 0, ~0ull - 3, 8, 0, HV_ERR_RANGE, 0, 0},
        {"last byte of the address space", OP_READ, 0, ~0ull, 1, 0, HV_ERR_FAULT, 0, 0},
        {"no such partition", OP_READ, 2, 0x1000, 4, 0, HV_ERR_INVAL, 0, 0},
        {"check whole RAM for X", OP_CHECK, 0, 0, MOCK_RAM_SIZE, HV_PERM_X, HV_OK, 0, 0},
        {"check RAM and one more page", OP_CHECK, 0, 0, MOCK_RAM_SIZE + 1, HV_PERM_R, HV_ERR_FAULT,
         0, 0},
        {"check MMIO for X", OP_CHECK, 0, MOCK_MMIO_GPA, 4, HV_PERM_X, HV_ERR_FAULT, 0, 0},
        {"check RO channel for W", OP_CHECK, 1, MOCK_CHAN_GPA, 4, HV_PERM_W, HV_ERR_FAULT, 0, 0},
        {"check RO channel for R", OP_CHECK, 1, MOCK_CHAN_GPA, MOCK_CHAN_SIZE, HV_PERM_R, HV_OK, 0,
         0},
        {"check present only", OP_CHECK, 1, 0, 4, 0, HV_OK, 0, 0},
        {"check unknown perm bit", OP_CHECK, 0, 0, 4, 0x8, HV_ERR_INVAL, 0, 0},
        {"check wraps", OP_CHECK, 0, 1ull << 63, (1ull << 63) + 1, HV_PERM_R, HV_ERR_RANGE, 0, 0},
        {"check zero length anywhere", OP_CHECK, 0, ~0ull, 0, HV_PERM_R, HV_OK, 0, 0},
        {"check no such partition", OP_CHECK, HV_MAX_PARTITIONS, 0, 4, HV_PERM_R, HV_ERR_INVAL, 0,
         0},
};

static void test_access_table(void **state)
{
	/* one system for all rows: each row compares against a snapshot */
	struct mock_env *env = *state;
	uint8_t *host = env->plat.mem;
	uint8_t *before = malloc(MOCK_HOST_MEM);
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		const struct access_case *c = &cases[i];
		memcpy(before, host, MOCK_HOST_MEM);
		uint8_t buf[3 * K4], pattern[3 * K4];
		for (size_t k = 0; k < sizeof(pattern); k++)
			pattern[k] = (uint8_t)(0xa0 ^ k);
		memset(buf, 0, sizeof(buf));
		assert_true(c->op == OP_CHECK || c->len <= sizeof(buf));
		uint32_t reads = env->plat.calls[MOCK_OP_PHYS_READ];
		uint32_t writes = env->plat.calls[MOCK_OP_PHYS_WRITE];
		hv_status s;
		if (c->op == OP_READ)
			s = hv_guest_read(&env->sys, c->part, c->gpa, buf, (uint32_t)c->len);
		else if (c->op == OP_WRITE)
			s = hv_guest_write(&env->sys, c->part, c->gpa, pattern, (uint32_t)c->len);
		else
			s = hv_guest_check(&env->sys, c->part, c->gpa, c->len, c->need);
		if (s != c->expect)
			fail_msg("%s: got %s, expected %s", c->name, hv_status_str(s),
			         hv_status_str(c->expect));
		uint32_t nread = env->plat.calls[MOCK_OP_PHYS_READ] - reads;
		uint32_t nwrite = env->plat.calls[MOCK_OP_PHYS_WRITE] - writes;
		if (c->op == OP_READ && s == HV_OK) {
			assert_memory_equal(buf, host + c->hpa, c->len);
			assert_int_equal(nread, c->pieces);
		} else if (c->op == OP_WRITE && s == HV_OK) {
			assert_memory_equal(host + c->hpa, pattern, c->len);
			assert_int_equal(nwrite, c->pieces);
			/* nothing around it changed */
			memcpy(before + c->hpa, pattern, c->len);
			assert_true(memcmp(before, host, MOCK_HOST_MEM) == 0);
		} else {
			/* refused or check only: host memory untouched, no copy made */
			assert_int_equal(nwrite, 0);
			assert_int_equal(nread, 0);
			assert_true(memcmp(before, host, MOCK_HOST_MEM) == 0);
		}
	}
	free(before);
}

static void test_channel_is_shared(void **state)
{
	struct mock_env *env = *state;
	const char msg[] = "hello over the channel";
	assert_int_equal(hv_guest_write(&env->sys, 0, MOCK_CHAN_GPA + 0x100, msg, sizeof(msg)),
	                 HV_OK);
	char got[sizeof(msg)];
	assert_int_equal(hv_guest_read(&env->sys, 1, MOCK_CHAN_GPA + 0x100, got, sizeof(got)),
	                 HV_OK);
	assert_memory_equal(got, msg, sizeof(msg));
}

/* A write that reaches a read-only page writes nothing, even on the pages
 * before it. */
static void test_write_refused_after_protect_is_atomic(void **state)
{
	struct mock_env *env = *state;
	assert_int_equal(
	        hv_ept_protect(&env->pool, env->sys.parts[0].ept_root, 0x5000, K4, HV_PERM_R),
	        HV_OK);
	uint8_t before[2 * K4], data[2 * K4];
	mock_peek(env, MOCK_P0_RAM_HPA + 0x4000, before, sizeof(before));
	memset(data, 0x42, sizeof(data));
	assert_int_equal(hv_guest_write(&env->sys, 0, 0x4800, data, K4), HV_ERR_FAULT);
	uint8_t after[2 * K4];
	mock_peek(env, MOCK_P0_RAM_HPA + 0x4000, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(env->plat.calls[MOCK_OP_PHYS_WRITE], 0);
	/* still readable */
	assert_int_equal(hv_guest_read(&env->sys, 0, 0x4800, data, K4), HV_OK);
	assert_memory_equal(data, before + 0x800, K4);
	/* and gone entirely after a protect to nothing */
	assert_int_equal(hv_ept_protect(&env->pool, env->sys.parts[0].ept_root, 0x5000, K4, 0),
	                 HV_OK);
	assert_int_equal(hv_guest_read(&env->sys, 0, 0x4800, data, K4), HV_ERR_FAULT);
}

static void test_platform_failure(void **state)
{
	struct mock_env *env = *state;
	uint8_t buf[64];
	env->plat.fail_nth[MOCK_OP_PHYS_READ] = 2; /* the second piece */
	assert_int_equal(hv_guest_read(&env->sys, 0, 0x1fe0, buf, sizeof(buf)), HV_ERR_PLATFORM);
	env->plat.fail_nth[MOCK_OP_PHYS_WRITE] = 1;
	assert_int_equal(hv_guest_write(&env->sys, 0, 0x1000, buf, 8), HV_ERR_PLATFORM);
}

static void test_bad_arguments(void **state)
{
	struct mock_env *env = *state;
	uint8_t buf[8] = {0};
	assert_int_equal(hv_guest_read(NULL, 0, 0, buf, 8), HV_ERR_INVAL);
	assert_int_equal(hv_guest_read(&env->sys, 0, 0, NULL, 8), HV_ERR_INVAL);
	assert_int_equal(hv_guest_write(&env->sys, 0, 0, NULL, 8), HV_ERR_INVAL);
	assert_int_equal(hv_guest_read(&env->sys, 0, 0, NULL, 0), HV_OK);
	assert_int_equal(hv_guest_check(NULL, 0, 0, 8, HV_PERM_R), HV_ERR_INVAL);
	/* malformed tables (root not a pool page) are reported as such */
	uint64_t root = env->sys.parts[0].ept_root;
	env->sys.parts[0].ept_root = MOCK_P0_RAM_HPA;
	assert_int_equal(hv_guest_read(&env->sys, 0, 0, buf, 8), HV_ERR_INVAL);
	assert_int_equal(hv_guest_check(&env->sys, 0, 0, 8, HV_PERM_R), HV_ERR_INVAL);
	env->sys.parts[0].ept_root = root;
	struct hv_system copy = env->sys;
	copy.ops = NULL;
	assert_int_equal(hv_guest_read(&copy, 0, 0, buf, 8), HV_ERR_INVAL);
	copy = env->sys;
	copy.pool = NULL;
	assert_int_equal(hv_guest_write(&copy, 0, 0, buf, 8), HV_ERR_INVAL);
	copy = env->sys;
	copy.cfg = NULL;
	assert_int_equal(hv_guest_check(&copy, 0, 0, 8, HV_PERM_R), HV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_access_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_channel_is_shared, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_refused_after_protect_is_atomic, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_platform_failure, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests_name("guest_mem", tests, NULL, NULL);
}
