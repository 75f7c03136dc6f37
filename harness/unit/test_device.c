/* Console/doorbell device model: every register at every width, unknown
 * offsets, bad sizes, ranges outside the device, and isolation between the
 * devices of two partitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/device.h"
#include "mock_config.h"

/* mock_config_two, and p1 gets a console too, so per-partition state can
 * be compared. */
static void config_two_consoles(struct hv_system_config *cfg)
{
	mock_config_two(cfg);
	struct hv_partition_config *p1 = &cfg->partitions[1];
	p1->devices[p1->ndevices++] = (struct hv_device_config){
	        .gpa = MOCK_CONSOLE_GPA, .size = 0x2000, .type = HV_DEV_CONSOLE};
}

static int setup(void **state)
{
	struct mock_env *env = mock_env_new(config_two_consoles);
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

/* One access of a script; reads compare with `want`. */
struct step {
	const char *name;
	uint32_t part, dev;
	uint64_t offset;
	uint8_t size;
	bool is_write;
	uint64_t value; /* written value */
	uint64_t want;  /* expected read value */
};

#define W(n, off, sz, v)                                                                           \
	{                                                                                          \
		n, 0, 0, off, sz, true, v, 0                                                       \
	}
#define R(n, off, sz, w)                                                                           \
	{                                                                                          \
		n, 0, 0, off, sz, false, 0, w                                                      \
	}
#define W1(n, off, sz, v)                                                                          \
	{                                                                                          \
		n, 1, 0, off, sz, true, v, 0                                                       \
	}
#define R1(n, off, sz, w)                                                                          \
	{                                                                                          \
		n, 1, 0, off, sz, false, 0, w                                                      \
	}

static const struct step script[] = {
        /* STATUS: ready bit and the partition index in bits 31:16 */
        R("status p0", HV_CONSOLE_STATUS, 4, 0x1),
        R1("status p1", HV_CONSOLE_STATUS, 4, 0x10001),
        R1("status p1 8 bytes zero-extends", HV_CONSOLE_STATUS, 8, 0x10001),
        R1("status p1 low half", HV_CONSOLE_STATUS, 2, 0x0001),
        R1("status p1 low byte", HV_CONSOLE_STATUS, 1, 0x01),
        W("status is read-only", HV_CONSOLE_STATUS, 4, 0xffffffff),
        R("status unchanged", HV_CONSOLE_STATUS, 4, 0x1),
        /* DATA: write-only */
        R("data reads 0", HV_CONSOLE_DATA, 8, 0),
        /* SCRATCH: partial widths touch the low bytes */
        R("scratch starts 0", HV_CONSOLE_SCRATCH, 8, 0),
        W("scratch 8", HV_CONSOLE_SCRATCH, 8, 0x1122334455667788ull),
        R("scratch read 8", HV_CONSOLE_SCRATCH, 8, 0x1122334455667788ull),
        W("scratch 1 (value wider than size)", HV_CONSOLE_SCRATCH, 1, 0xffffffffffffffaaull),
        R("scratch after byte", HV_CONSOLE_SCRATCH, 8, 0x11223344556677aaull),
        W("scratch 2", HV_CONSOLE_SCRATCH, 2, 0xbbbb),
        R("scratch after word", HV_CONSOLE_SCRATCH, 8, 0x112233445566bbbbull),
        W("scratch 4", HV_CONSOLE_SCRATCH, 4, 0xccccdddd),
        R("scratch after dword", HV_CONSOLE_SCRATCH, 8, 0x11223344ccccddddull),
        R("scratch read 1", HV_CONSOLE_SCRATCH, 1, 0xdd),
        R("scratch read 2", HV_CONSOLE_SCRATCH, 2, 0xdddd),
        R("scratch read 4", HV_CONSOLE_SCRATCH, 4, 0xccccdddd),
        R1("p1 scratch untouched", HV_CONSOLE_SCRATCH, 8, 0),
        /* DOORBELL / RINGS */
        R("rings start 0", HV_CONSOLE_RINGS, 4, 0),
        W("doorbell", HV_CONSOLE_DOORBELL, 8, 0xdeadbeefcafef00dull),
        R("rings 1", HV_CONSOLE_RINGS, 4, 1),
        W("doorbell byte", HV_CONSOLE_DOORBELL, 1, 0x1ff),
        R("rings 2", HV_CONSOLE_RINGS, 8, 2),
        R("doorbell is write-only", HV_CONSOLE_DOORBELL, 8, 0),
        W("rings is read-only", HV_CONSOLE_RINGS, 4, 77),
        R("rings still 2", HV_CONSOLE_RINGS, 4, 2),
        R1("p1 rings untouched", HV_CONSOLE_RINGS, 4, 0),
        /* unknown offsets, including inside a register */
        R("unknown 0x28", 0x28, 8, 0),
        W("unknown write 0x28", 0x28, 8, 1),
        R("inside scratch 0x21", 0x21, 1, 0),
        W("write inside scratch 0x24", 0x24, 4, 0xffffffff),
        R("scratch unchanged by 0x24", HV_CONSOLE_SCRATCH, 8, 0x11223344ccccddddull),
        R("inside status 0x0c", 0x0c, 4, 0),
        R("last qword of the page", 0xff8, 8, 0),
        /* bad sizes and ranges */
        R("size 3", HV_CONSOLE_SCRATCH, 3, 0),
        W("size 3 write", HV_CONSOLE_SCRATCH, 3, 0),
        R("size 0", HV_CONSOLE_SCRATCH, 0, 0),
        R("size 16", HV_CONSOLE_SCRATCH, 16, 0),
        R("crosses the device end", 0xffc, 8, 0),
        R("at the device end", 0x1000, 1, 0),
        R("offset wraps", 0xfffffffffffffffcull, 8, 0),
        R1("p1 device is 8 KiB", 0x1ff8, 8, 0),
        {"no device 1 in p0", 0, 1, HV_CONSOLE_STATUS, 4, false, 0, 0},
        {"no partition 2", 2, 0, HV_CONSOLE_STATUS, 4, false, 0, 0},
        {"no partition 64", 64, 0, HV_CONSOLE_STATUS, 4, false, 0, 0},
        {"write to a missing device", 0, 3, HV_CONSOLE_SCRATCH, 8, true, 5, 0},
        R("p0 scratch still intact", HV_CONSOLE_SCRATCH, 8, 0x11223344ccccddddull),
        R("rings still 2 at the end", HV_CONSOLE_RINGS, 4, 2),
};

static void test_device_script(void **state)
{
	struct mock_env *env = *state;
	for (size_t i = 0; i < HV_ARRAY_LEN(script); i++) {
		const struct step *s = &script[i];
		uint64_t v = s->is_write ? s->value : 0x5a5a5a5a5a5a5a5aull;
		hv_device_access(&env->sys, s->part, s->dev, s->offset, s->size, s->is_write, &v);
		if (s->is_write && v != s->value)
			fail_msg("%s: write changed the caller's value", s->name);
		if (!s->is_write && v != s->want)
			fail_msg("%s: read 0x%llx, expected 0x%llx", s->name, (unsigned long long)v,
			         (unsigned long long)s->want);
	}
	assert_int_equal(env->sys.parts[0].devices[0].last_doorbell, 0xff);
	assert_int_equal(env->sys.parts[1].devices[0].last_doorbell, 0);
	/* nothing in the script wrote DATA */
	assert_int_equal(env->plat.calls[MOCK_OP_CONSOLE], 0);
}

struct data_case {
	const char *name;
	uint32_t part;
	uint8_t size;
	uint64_t value;
	char want;
};

static const struct data_case data_cases[] = {
        {"byte", 0, 1, 'h', 'h'},
        {"word: low byte", 0, 2, 0x4169, 'i'},
        {"dword: low byte", 0, 4, 0x4142430a, '\n'},
        {"qword: low byte", 0, 8, 0x7f6f5f4f3f2f1f21ull, '!'},
        {"non-ascii byte", 0, 1, 0xff, (char)0xff},
        {"partition 1", 1, 1, 'z', 'z'},
};

static void test_device_data_to_console(void **state)
{
	struct mock_env *env = *state;
	for (size_t i = 0; i < HV_ARRAY_LEN(data_cases); i++) {
		const struct data_case *c = &data_cases[i];
		uint32_t before = env->plat.console_len;
		uint64_t v = c->value;
		hv_device_access(&env->sys, c->part, 0, HV_CONSOLE_DATA, c->size, true, &v);
		if (env->plat.console_len != before + 1)
			fail_msg("%s: %u console bytes, expected 1", c->name,
			         env->plat.console_len - before);
		if (env->plat.console[before] != c->want)
			fail_msg("%s: console got 0x%02x", c->name,
			         (unsigned)(uint8_t)env->plat.console[before]);
		assert_int_equal(env->plat.console_partition, c->part);
	}
	/* DATA at a wrong size writes nothing */
	uint64_t v = 'x';
	uint32_t before = env->plat.console_len;
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_DATA, 5, true, &v);
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_DATA + 1, 1, true, &v);
	assert_int_equal(env->plat.console_len, before);
}

/* Without a console op, DATA writes are dropped without a fault. */
static void test_device_no_console_op(void **state)
{
	struct mock_env *env = *state;
	struct hv_platform_ops ops = mock_platform_ops;
	ops.console = NULL;
	env->sys.ops = &ops;
	uint64_t v = 'q';
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_DATA, 1, true, &v);
	env->sys.ops = &mock_platform_ops;
	assert_int_equal(env->plat.calls[MOCK_OP_CONSOLE], 0);
}

/* The doorbell counter wraps like a 32-bit hardware counter. */
static void test_device_rings_wrap(void **state)
{
	struct mock_env *env = *state;
	env->sys.parts[0].devices[0].rings = 0xffffffffu;
	uint64_t v = 1;
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_DOORBELL, 4, true, &v);
	v = 0x5a;
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_RINGS, 4, false, &v);
	assert_int_equal(v, 0);
}

/* A device of a type the model does not know is inert. */
static void test_device_unknown_type(void **state)
{
	struct mock_env *env = *state;
	env->cfg.partitions[0].devices[0].type = 7;
	struct hv_device_state before = env->sys.parts[0].devices[0];
	uint64_t v = 0x5a;
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_STATUS, 4, false, &v);
	assert_int_equal(v, 0);
	v = 3;
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_SCRATCH, 8, true, &v);
	hv_device_access(&env->sys, 0, 0, HV_CONSOLE_DATA, 1, true, &v);
	env->cfg.partitions[0].devices[0].type = HV_DEV_CONSOLE;
	assert_memory_equal(&before, &env->sys.parts[0].devices[0], sizeof(before));
	assert_int_equal(env->plat.calls[MOCK_OP_CONSOLE], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_device_script, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_device_data_to_console, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_device_no_console_op, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_device_rings_wrap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_device_unknown_type, setup, teardown),
	};
	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
