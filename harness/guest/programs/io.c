/* Port I/O devices (hv/io.h), against kvm-io.json / kvm-amd-io.json: an RTC
 * at 0x70 whose clock stands at 2026-12-04 13:45:59 UTC, a UART at 0x3f8;
 * violations inject #GP. Reads the clock, keeps NVRAM, prints through the
 * UART, and finds every other port closed (IO-GUARD): PCI config space,
 * the SMI command port, the ports around the devices, string I/O. */
#include "hx/guest.h"
#include "hv/io.h"
#include "hv/port_io.h"

static uint8_t cmos(uint8_t reg)
{
	hv_outb(0x70, reg);
	return hv_inb(0x71);
}

/* Each closed-port probe, run under the exception window. */
static uint64_t in_pci(uint64_t port)
{
	return hv_inl((uint16_t)port);
}

static uint64_t out_byte(uint64_t port)
{
	hv_outb((uint16_t)port, 0x5a);
	return 0;
}

static uint64_t in_byte(uint64_t port)
{
	return hv_inb((uint16_t)port);
}

static uint64_t outsb_uart(uint64_t unused)
{
	static const char c = '!';
	const char *p = &c;
	(void)unused;
	__asm__ volatile("outsb" : "+S"(p) : "d"((uint16_t)0x3f8) : "memory");
	return 0;
}

static uint64_t inw_rtc_end(uint64_t unused)
{
	(void)unused;
	return hv_inw(0x71);
}

static void closed(const char *what, uint64_t (*fn)(uint64_t), uint64_t port)
{
	int vec = hx_try(fn, port, NULL);
	GUEST_ASSERT_EQ(vec, HX_VEC_GP, "%s: not contained with #GP", what);
}

void guest_main(void)
{
	/* The clock, as the config set it (BCD, 24-hour). */
	GUEST_ASSERT_EQ(cmos(HV_RTC_SEC), 0x59);
	GUEST_ASSERT_EQ(cmos(HV_RTC_MIN), 0x45);
	GUEST_ASSERT_EQ(cmos(HV_RTC_HOUR), 0x13);
	GUEST_ASSERT_EQ(cmos(HV_RTC_DAY), 0x04);
	GUEST_ASSERT_EQ(cmos(HV_RTC_MONTH), 0x12);
	GUEST_ASSERT_EQ(cmos(HV_RTC_YEAR), 0x26);
	GUEST_ASSERT_EQ(cmos(HV_RTC_CENTURY), 0x20);
	GUEST_ASSERT_EQ(cmos(HV_RTC_STATUS_A) & 0x80, 0, "update in progress");
	GUEST_SYNC(1);
	/* NVRAM keeps what is written. */
	hv_outb(0x70, 0x40);
	hv_outb(0x71, 0xc3);
	GUEST_ASSERT_EQ(cmos(0x40), 0xc3);
	GUEST_SYNC(2);
	/* The UART: a line to the console, the transmitter always ready. */
	static const char line[] = "io: hello through the UART\n";
	for (const char *p = line; *p; p++) {
		GUEST_ASSERT_EQ(hv_inb(0x3f8 + HV_UART_LSR) & 0x20, 0x20, "transmitter busy");
		hv_outb(0x3f8 + HV_UART_THR, (uint8_t)*p);
	}
	hv_outb(0x3f8 + HV_UART_SCR, 0x77);
	GUEST_ASSERT_EQ(hv_inb(0x3f8 + HV_UART_SCR), 0x77);
	GUEST_SYNC(3);
	/* Every other port is closed. */
	closed("IN from PCI CONFIG_ADDRESS 0xcf8", in_pci, 0xcf8);
	closed("IN from PCI CONFIG_DATA 0xcfc", in_pci, 0xcfc);
	closed("OUT to the SMI command port 0xb2", out_byte, 0xb2);
	closed("OUT to port 0x80 (POST codes)", out_byte, 0x80);
	closed("IN from 0x72, after the RTC", in_byte, 0x72);
	closed("IN from 0x3f7, before the UART", in_byte, 0x3f7);
	closed("OUTSB to the UART (string I/O)", outsb_uart, 0);
	closed("16-bit IN across the RTC's end", inw_rtc_end, 0);
	GUEST_SYNC(4);
	GUEST_DONE();
}
