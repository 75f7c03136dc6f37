/* Emulated port-I/O devices of a partition (handlers/docs/io.md). A
 * partition's config lists the devices it has, each at a base port; a port
 * I/O exit inside one of them is emulated, every other port is contained
 * by the partition's violation policy (#GP, or halted): no port of the
 * host is ever reached (invariant IO-GUARD), and the platform ops have no
 * port access at all.
 *
 *   RTC   2 ports (index, data) of a CMOS clock after the Motorola
 *         MC146818: registers 0x00-0x09 seconds .. year (BCD, 24-hour as
 *         status B says), 0x0a status A (no update in progress), 0x0b
 *         status B (writable), 0x0c/0x0d status C/D (read-only: no
 *         interrupt flags, valid RAM), 0x32 century, the rest NVRAM. The
 *         clock starts at the configured time and does not advance: a
 *         partition sees the time it was given (or set), the same on every
 *         replay.
 *   UART  8 ports of a 16550: THR writes go to the partition's console,
 *         RBR reads 0 (no input ever arrives), LSR says the transmitter is
 *         empty, the divisor latch, IER, LCR, MCR, FCR and SCR are kept.
 * Accesses of 2 or 4 bytes are done byte by byte on consecutive ports (as
 * an 8-bit device on the bus sees them) and must fit inside one device.
 * String I/O (INS/OUTS) is not emulated: it is contained. */
#ifndef HV_IO_H
#define HV_IO_H

#include "hv/types.h"

enum hv_io_type {
	HV_IO_RTC = 1,
	HV_IO_UART = 2,
};

#define HV_RTC_PORTS 2u
#define HV_UART_PORTS 8u
#define HV_RTC_DEFAULT_BASE 0x70u
#define HV_UART_DEFAULT_BASE 0x3f8u
/* Latest time an RTC may start at: 9999-12-31 23:59:59 UTC (four BCD
 * digits of year and century). */
#define HV_RTC_MAX_TIME 253402300799ull

/* RTC registers (MC146818 datasheet, "Address Map"). */
#define HV_RTC_SEC 0x00
#define HV_RTC_MIN 0x02
#define HV_RTC_HOUR 0x04
#define HV_RTC_WEEKDAY 0x06
#define HV_RTC_DAY 0x07
#define HV_RTC_MONTH 0x08
#define HV_RTC_YEAR 0x09
#define HV_RTC_STATUS_A 0x0a
#define HV_RTC_STATUS_B 0x0b
#define HV_RTC_STATUS_C 0x0c
#define HV_RTC_STATUS_D 0x0d
#define HV_RTC_CENTURY 0x32
#define HV_RTC_REGS 128u

/* UART register offsets (16550 datasheet, "Register Summary"). */
#define HV_UART_THR 0 /* write; RBR on read; DLL with LCR.DLAB */
#define HV_UART_IER 1 /* DLM with LCR.DLAB */
#define HV_UART_IIR 2 /* read; FCR on write */
#define HV_UART_LCR 3
#define HV_UART_MCR 4
#define HV_UART_LSR 5
#define HV_UART_MSR 6
#define HV_UART_SCR 7
#define HV_UART_LCR_DLAB 0x80u
#define HV_UART_LSR_IDLE 0x60u /* THRE | TEMT: ready to send, nothing pending */

/* A device as configured. */
struct hv_io_device {
	uint16_t base; /* first port */
	uint16_t pad;
	uint32_t type; /* enum hv_io_type */
	uint64_t init; /* RTC: seconds since 1970-01-01 00:00:00 UTC it starts at */
};

/* A device's registers at run time. */
struct hv_io_state {
	uint8_t cmos[HV_RTC_REGS];                 /* RTC */
	uint8_t index;                             /* RTC: the register port 0 selected */
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm; /* UART */
};

/* Ports of a device type; 0 for an unknown type. */
uint32_t hv_io_ports(uint32_t type);

/* The state a device starts in. */
void hv_io_reset(struct hv_io_state *st, const struct hv_io_device *dev);

#endif
