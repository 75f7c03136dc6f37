/* Port I/O exits (hv/io.h): the RTC and UART models register by register,
 * the way an access is fitted to a device, and every access that must be
 * contained: ports of no device, accesses that leave a device, string I/O,
 * bad sizes, a missing instruction length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/exit.h"
#include "hv/io.h"
#include "mock_config.h"

/* 2026-12-04 13:45:59 UTC, a Friday. */
#define T_2026 1796391959ull

/* p0: an RTC at 0x70 and a UART at 0x3f8, halting policy; p1: an RTC at
 * 0x170 and a UART at 0x2f8, #GP policy, its clock at 0. */
static void config_io(struct hv_system_config *cfg)
{
	mock_config_two(cfg);
	struct hv_partition_config *p0 = &cfg->partitions[0], *p1 = &cfg->partitions[1];
	p0->io[p0->nio++] = (struct hv_io_device){.base = 0x70, .type = HV_IO_RTC, .init = T_2026};
	p0->io[p0->nio++] = (struct hv_io_device){.base = 0x3f8, .type = HV_IO_UART};
	p1->io[p1->nio++] = (struct hv_io_device){.base = 0x170, .type = HV_IO_RTC};
	p1->io[p1->nio++] = (struct hv_io_device){.base = 0x2f8, .type = HV_IO_UART};
	p1->contain = HV_CONTAIN_INJECT_GP;
}

static int setup(void **state)
{
	struct mock_env *env = mock_env_new(config_io);
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

/* One IN or OUT; returns the result, *rax the register afterwards. */
static struct hv_result io(struct mock_env *env, uint32_t part, uint16_t port, uint32_t size,
                           bool in, uint64_t *rax, uint64_t extra_qual, uint32_t insn_len)
{
	struct hv_exit e;
	memset(&e, 0, sizeof(e));
	e.reason = HV_EXIT_IO;
	e.partition = part;
	e.insn_len = insn_len;
	e.qual = (uint64_t)(size - 1) | (in ? HV_QUAL_IO_IN : 0) |
	         (uint64_t)port << HV_QUAL_IO_PORT_SHIFT | extra_qual;
	e.st.gpr[HV_RAX] = *rax;
	e.st.rip = 0x1000;
	e.st.cr0 = 0x80000011;
	struct hv_result res;
	hv_handle_exit(&env->sys, &e, &res);
	if (res.action == HV_ACT_RESUME)
		assert_int_equal(e.st.rip, 0x1000 + insn_len);
	else
		assert_int_equal(e.st.rip, 0x1000);
	*rax = e.st.gpr[HV_RAX];
	return res;
}

static uint8_t inb(struct mock_env *env, uint32_t part, uint16_t port)
{
	uint64_t rax = 0x1122334455667700ull;
	struct hv_result r = io(env, part, port, 1, true, &rax, 0, 1);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(rax >> 8, 0x11223344556677ull); /* IN AL keeps the rest */
	return (uint8_t)rax;
}

static void outb(struct mock_env *env, uint32_t part, uint16_t port, uint8_t v)
{
	uint64_t rax = 0xaaaaaaaaaaaaaa00ull | v;
	struct hv_result r = io(env, part, port, 1, false, &rax, 0, 2);
	assert_int_equal(r.action, HV_ACT_RESUME);
	assert_int_equal(rax, 0xaaaaaaaaaaaaaa00ull | v); /* OUT changes no register */
}

static uint8_t cmos(struct mock_env *env, uint32_t part, uint16_t base, uint8_t reg)
{
	outb(env, part, base, reg);
	return inb(env, part, (uint16_t)(base + 1));
}

static void test_rtc_clock_from_config(void **state)
{
	struct mock_env *env = *state;
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_SEC), 0x59);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_MIN), 0x45);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_HOUR), 0x13);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_WEEKDAY), 6); /* Friday: Sunday is 1 */
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_DAY), 0x04);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_MONTH), 0x12);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_YEAR), 0x26);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_CENTURY), 0x20);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_A), 0x26); /* no update in progress */
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_B), 0x02); /* 24-hour BCD */
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_D), 0x80); /* valid RAM */
	/* Bit 7 of the index (NMI mask on a PC) selects nothing. */
	assert_int_equal(cmos(env, 0, 0x70, 0x80 | HV_RTC_MIN), 0x45);
	/* The clock stands: the same answer the second time. */
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_SEC), 0x59);
	/* p1's clock is its own: 1970-01-01 00:00:00, a Thursday. */
	assert_int_equal(cmos(env, 1, 0x170, HV_RTC_YEAR), 0x70);
	assert_int_equal(cmos(env, 1, 0x170, HV_RTC_CENTURY), 0x19);
	assert_int_equal(cmos(env, 1, 0x170, HV_RTC_WEEKDAY), 5);
	assert_int_equal(cmos(env, 1, 0x170, HV_RTC_DAY), 0x01);
	/* The index port reads as an empty bus. */
	assert_int_equal(inb(env, 0, 0x70), 0xff);
}

/* Leap days and the last second the RTC can hold. */
static void test_rtc_calendar(void **state)
{
	(void)state;
	static const struct {
		uint64_t t;
		uint8_t year, month, day, weekday, century;
	} rows[] = {
	        {951782400ull, 0x00, 0x02, 0x29, 3, 0x20},    /* 2000-02-29, Tuesday */
	        {4107542400ull, 0x00, 0x03, 0x01, 2, 0x21},   /* 2100-03-01 (no 29 Feb), Monday */
	        {1709164800ull, 0x24, 0x02, 0x29, 5, 0x20},   /* 2024-02-29, Thursday */
	        {HV_RTC_MAX_TIME, 0x99, 0x12, 0x31, 6, 0x99}, /* 9999-12-31 23:59:59, Friday */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct hv_io_state st;
		struct hv_io_device dev = {.base = 0x70, .type = HV_IO_RTC, .init = rows[i].t};
		hv_io_reset(&st, &dev);
		assert_int_equal(st.cmos[HV_RTC_YEAR], rows[i].year);
		assert_int_equal(st.cmos[HV_RTC_MONTH], rows[i].month);
		assert_int_equal(st.cmos[HV_RTC_DAY], rows[i].day);
		assert_int_equal(st.cmos[HV_RTC_WEEKDAY], rows[i].weekday);
		assert_int_equal(st.cmos[HV_RTC_CENTURY], rows[i].century);
	}
	struct hv_io_state st;
	struct hv_io_device dev = {.base = 0x70, .type = HV_IO_RTC, .init = HV_RTC_MAX_TIME};
	hv_io_reset(&st, &dev);
	assert_int_equal(st.cmos[HV_RTC_HOUR], 0x23);
	assert_int_equal(st.cmos[HV_RTC_MIN], 0x59);
	assert_int_equal(st.cmos[HV_RTC_SEC], 0x59);
}

static void test_rtc_writes(void **state)
{
	struct mock_env *env = *state;
	/* SetTime: the clock registers take what is written. */
	outb(env, 0, 0x70, HV_RTC_HOUR);
	outb(env, 0, 0x71, 0x07);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_HOUR), 0x07);
	/* NVRAM keeps bytes. */
	outb(env, 0, 0x70, 0x40);
	outb(env, 0, 0x71, 0xa5);
	assert_int_equal(cmos(env, 0, 0x70, 0x40), 0xa5);
	/* Status C and D are read-only; A's update-in-progress bit too. */
	outb(env, 0, 0x70, HV_RTC_STATUS_D);
	outb(env, 0, 0x71, 0x00);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_D), 0x80);
	outb(env, 0, 0x70, HV_RTC_STATUS_C);
	outb(env, 0, 0x71, 0xff);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_C), 0x00);
	outb(env, 0, 0x70, HV_RTC_STATUS_A);
	outb(env, 0, 0x71, 0xa6);
	assert_int_equal(cmos(env, 0, 0x70, HV_RTC_STATUS_A), 0x26);
	/* The other partition's CMOS did not change. */
	assert_int_equal(cmos(env, 1, 0x170, 0x40), 0x00);
	/* A 16-bit OUT to the pair: index then data, as on the bus. */
	uint64_t rax = 0x5a41;
	assert_int_equal(io(env, 0, 0x70, 2, false, &rax, 0, 2).action, HV_ACT_RESUME);
	assert_int_equal(cmos(env, 0, 0x70, 0x41), 0x5a);
	/* A 16-bit IN of the pair: 0xff (index port), then the data. */
	outb(env, 0, 0x70, 0x41);
	rax = ~0ull;
	assert_int_equal(io(env, 0, 0x70, 2, true, &rax, 0, 2).action, HV_ACT_RESUME);
	assert_int_equal(rax, 0xffffffffffff5affull);
}

static void test_uart(void **state)
{
	struct mock_env *env = *state;
	uint32_t before = env->plat.console_len;
	outb(env, 0, 0x3f8, 'h');
	outb(env, 0, 0x3f8, 'i');
	assert_int_equal(env->plat.console_len, before + 2);
	assert_memory_equal(env->plat.console + before, "hi", 2);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_LSR), HV_UART_LSR_IDLE);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_THR), 0x00); /* nothing received */
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_IIR), 0x01); /* no interrupt */
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_MSR), 0xb0);
	/* Divisor latch: with DLAB, ports 0 and 1 are DLL and DLM, and a
	 * write to port 0 is no character. */
	outb(env, 0, 0x3f8 + HV_UART_LCR, 0x83);
	outb(env, 0, 0x3f8 + HV_UART_THR, 0x01);
	outb(env, 0, 0x3f8 + HV_UART_IER, 0x00);
	assert_int_equal(env->plat.console_len, before + 2);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_THR), 0x01);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_LCR), 0x83);
	outb(env, 0, 0x3f8 + HV_UART_LCR, 0x03);
	/* IER keeps its four bits, MCR five, FCR its FIFO bits; SCR a byte. */
	outb(env, 0, 0x3f8 + HV_UART_IER, 0xff);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_IER), 0x0f);
	outb(env, 0, 0x3f8 + HV_UART_MCR, 0xff);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_MCR), 0x1f);
	outb(env, 0, 0x3f8 + HV_UART_IIR, 0x07);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_IIR), 0xc1);
	outb(env, 0, 0x3f8 + HV_UART_SCR, 0x5c);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_SCR), 0x5c);
	/* LSR and MSR are read-only. */
	outb(env, 0, 0x3f8 + HV_UART_LSR, 0x00);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_LSR), HV_UART_LSR_IDLE);
	outb(env, 0, 0x3f8 + HV_UART_MSR, 0x00);
	assert_int_equal(inb(env, 0, 0x3f8 + HV_UART_MSR), 0xb0);
	/* p1's UART is its own. */
	assert_int_equal(inb(env, 1, 0x2f8 + HV_UART_SCR), 0x00);
	/* IN EAX zero-extends (SDM Vol. 1, 3.4.1.1). */
	uint64_t rax = ~0ull;
	assert_int_equal(io(env, 0, 0x3f8 + 4, 4, true, &rax, 0, 1).action, HV_ACT_RESUME);
	assert_int_equal(rax, 0x5cb0601full);
}

/* Everything outside the devices, and every access this emulation does
 * not do, is contained: halted (p0) or #GP(0) (p1), and nothing changed. */
static void test_contained(void **state)
{
	struct mock_env *env = *state;
	static const struct {
		const char *name;
		uint16_t port;
		uint32_t size;
		uint64_t extra;
		uint32_t insn_len;
	} rows[] = {
	        {"no device (PCI config address)", 0xcf8, 4, 0, 1},
	        {"no device (SMI command port)", 0xb2, 1, 0, 2},
	        {"port just before the RTC", 0x6f, 1, 0, 2},
	        {"port just after the RTC", 0x72, 1, 0, 2},
	        {"16 bits across the RTC's end", 0x71, 2, 0, 2},
	        {"32 bits across the UART's end", 0x3fd, 4, 0, 1},
	        {"string I/O (OUTSB)", 0x3f8, 1, HV_QUAL_IO_STRING, 1},
	        {"REP string I/O", 0x3f8, 1, HV_QUAL_IO_STRING | HV_QUAL_IO_REP, 2},
	        {"size 3", 0x3f8, 3, 0, 1},
	        {"no instruction length", 0x3f8, 1, 0, 0},
	        {"port 0xffff", 0xffff, 1, 0, 1},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (uint32_t part = 0; part < 2; part++) {
			uint16_t port = rows[i].port;
			if (part == 1 && port >= 0x3f8 && port < 0x400)
				port = (uint16_t)(port - 0x100); /* p1's UART is at 0x2f8 */
			if (part == 1 && port >= 0x6f && port < 0x73)
				port = (uint16_t)(port + 0x100); /* its RTC at 0x170 */
			uint32_t console = env->plat.console_len;
			for (int in = 0; in < 2; in++) {
				uint64_t rax = 0x4141414141414141ull;
				struct hv_result r = io(env, part, port, rows[i].size, in, &rax,
				                        rows[i].extra, rows[i].insn_len);
				if (part == 0) {
					if (r.action != HV_ACT_HALT ||
					    r.halt_reason != HV_HALT_UNHANDLED)
						fail_msg("%s: p0 not halted", rows[i].name);
					env->sys.parts[0].halted = HV_HALT_NONE;
				} else if (r.action != HV_ACT_INJECT || r.vector != HV_VEC_GP ||
				           !r.has_error_code || r.error_code != 0) {
					fail_msg("%s: p1 got no #GP(0)", rows[i].name);
				}
				assert_int_equal(rax, 0x4141414141414141ull);
			}
			assert_int_equal(env->plat.console_len, console);
		}
	}
	/* A partition without devices contains every port. */
	env->cfg.partitions[1].nio = 0;
	uint64_t rax = 0;
	struct hv_result r = io(env, 1, 0x2f8, 1, false, &rax, 0, 1);
	assert_int_equal(r.action, HV_ACT_INJECT);
}

static void test_ports_per_type(void **state)
{
	(void)state;
	assert_int_equal(hv_io_ports(HV_IO_RTC), 2);
	assert_int_equal(hv_io_ports(HV_IO_UART), 8);
	assert_int_equal(hv_io_ports(0), 0);
	assert_int_equal(hv_io_ports(3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_rtc_clock_from_config, setup, teardown),
	        cmocka_unit_test(test_rtc_calendar),
	        cmocka_unit_test_setup_teardown(test_rtc_writes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_uart, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_contained, setup, teardown),
	        cmocka_unit_test(test_ports_per_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
