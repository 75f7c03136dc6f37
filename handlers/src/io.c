/* Port I/O exits (hv/io.h): emulated RTC and UART devices, every other port
 * contained. The exit's qualification is laid out as Intel's (hv/exit.h,
 * HV_QUAL_IO_*; AMD IOIO exits are translated to it by hv/svm.h). */
#include "hv/io.h"

#include "hv/handlers.h"

uint32_t hv_io_ports(uint32_t type)
{
	switch (type) {
	case HV_IO_RTC:
		return HV_RTC_PORTS;
	case HV_IO_UART:
		return HV_UART_PORTS;
	default:
		return 0;
	}
}

static bool leap(uint32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint8_t bcd(uint32_t v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | v % 10);
}

/* Seconds since 1970-01-01 UTC as the RTC's BCD, 24-hour registers. */
static void rtc_set_time(uint8_t *cmos, uint64_t t)
{
	uint64_t days = t / 86400, secs = t % 86400;
	/* 1970-01-01 was a Thursday; the RTC counts weekdays 1 (Sunday) .. 7. */
	uint32_t weekday = (uint32_t)((days + 4) % 7) + 1;
	uint32_t year = 1970;
	for (;;) {
		uint32_t len = leap(year) ? 366 : 365;
		if (days < len)
			break;
		days -= len;
		year++;
	}
	static const uint8_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	uint32_t month = 0;
	for (;;) {
		uint32_t len = month_days[month] + (month == 1 && leap(year) ? 1u : 0u);
		if (days < len)
			break;
		days -= len;
		month++;
	}
	cmos[HV_RTC_SEC] = bcd((uint32_t)(secs % 60));
	cmos[HV_RTC_MIN] = bcd((uint32_t)(secs / 60 % 60));
	cmos[HV_RTC_HOUR] = bcd((uint32_t)(secs / 3600));
	cmos[HV_RTC_WEEKDAY] = bcd(weekday);
	cmos[HV_RTC_DAY] = bcd((uint32_t)days + 1);
	cmos[HV_RTC_MONTH] = bcd(month + 1);
	cmos[HV_RTC_YEAR] = bcd(year % 100);
	cmos[HV_RTC_CENTURY] = bcd(year / 100);
}

void hv_io_reset(struct hv_io_state *st, const struct hv_io_device *dev)
{
	hv_memset(st, 0, sizeof(*st));
	if (dev->type != HV_IO_RTC)
		return;
	rtc_set_time(st->cmos, dev->init);
	/* Status A: 32.768 kHz time base, 1024 Hz rate, no update in
	 * progress; B: 24-hour BCD, no interrupts; D: the battery is good. */
	st->cmos[HV_RTC_STATUS_A] = 0x26;
	st->cmos[HV_RTC_STATUS_B] = 0x02;
	st->cmos[HV_RTC_STATUS_D] = 0x80;
}

static uint8_t rtc_read(const struct hv_io_state *st, uint32_t off)
{
	/* The index port is write-only: reads float high. */
	return off == 0 ? 0xff : st->cmos[st->index];
}

static void rtc_write(struct hv_io_state *st, uint32_t off, uint8_t v)
{
	if (off == 0) {
		st->index = v & 0x7f; /* bit 7 masks NMI on a PC: nothing to mask here */
		return;
	}
	/* Status A bit 7 (update in progress), C and D are read-only. */
	if (st->index == HV_RTC_STATUS_C || st->index == HV_RTC_STATUS_D)
		return;
	if (st->index == HV_RTC_STATUS_A)
		v &= 0x7f;
	st->cmos[st->index] = v;
}

static uint8_t uart_read(const struct hv_io_state *st, uint32_t off)
{
	bool dlab = st->lcr & HV_UART_LCR_DLAB;
	switch (off) {
	case HV_UART_THR:
		return dlab ? st->dll : 0; /* RBR: nothing is ever received */
	case HV_UART_IER:
		return dlab ? st->dlm : st->ier;
	case HV_UART_IIR:
		/* No interrupt pending; FIFOs reported enabled as FCR set them. */
		return (uint8_t)((st->fcr & 1) ? 0xc1 : 0x01);
	case HV_UART_LCR:
		return st->lcr;
	case HV_UART_MCR:
		return st->mcr;
	case HV_UART_LSR:
		return HV_UART_LSR_IDLE;
	case HV_UART_MSR:
		return 0xb0; /* DCD, DSR, CTS: a peer is always there */
	default:
		return st->scr;
	}
}

static void uart_write(struct hv_system *sys, uint32_t part, struct hv_io_state *st, uint32_t off,
                       uint8_t v)
{
	bool dlab = st->lcr & HV_UART_LCR_DLAB;
	switch (off) {
	case HV_UART_THR:
		if (dlab) {
			st->dll = v;
		} else if (sys->ops->console) {
			char c = (char)v;
			sys->ops->console(sys->ops_ctx, part, &c, 1);
		}
		break;
	case HV_UART_IER:
		if (dlab)
			st->dlm = v;
		else
			st->ier = v & 0x0f;
		break;
	case HV_UART_IIR:
		st->fcr = v & 0xc9; /* FIFO enable, DMA mode, trigger level */
		break;
	case HV_UART_LCR:
		st->lcr = v;
		break;
	case HV_UART_MCR:
		st->mcr = v & 0x1f;
		break;
	case HV_UART_SCR:
		st->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

/* Not a device of the partition, or an access this emulation does not do:
 * contained by the partition's policy, as every exit it does not emulate
 * (hv/exit.h). */
static void contain(const struct hv_partition_config *pc, struct hv_result *res)
{
	if (pc->contain == HV_CONTAIN_INJECT_GP)
		hv_result_inject(res, HV_VEC_GP, true, 0);
	else
		hv_result_halt(res, HV_HALT_UNHANDLED);
}

void hv_handle_io(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	const struct hv_partition_config *pc = &sys->cfg->partitions[exit->partition];
	uint64_t q = exit->qual;
	uint32_t size = (uint32_t)(q & HV_QUAL_IO_SIZE_MASK) + 1;
	uint32_t port = (uint32_t)(q >> HV_QUAL_IO_PORT_SHIFT) & 0xffff;
	bool in = q & HV_QUAL_IO_IN;
	const struct hv_io_device *dev = 0;
	uint32_t idx = 0;
	for (uint32_t i = 0; i < pc->nio && i < HV_MAX_IO_DEVICES; i++) {
		const struct hv_io_device *d = &pc->io[i];
		if (port >= d->base && port + size <= d->base + hv_io_ports(d->type)) {
			dev = d;
			idx = i;
			break;
		}
	}
	/* Sizes 1, 2 and 4 only (SDM Vol. 3C, Table 28-5), never string I/O,
	 * and the platform must say how long the instruction is: IN/OUT come
	 * with and without an immediate and with prefixes (a length over 15
	 * never gets here: the dispatcher refuses the record). */
	if (!dev || (size != 1 && size != 2 && size != 4) || (q & HV_QUAL_IO_STRING) ||
	    exit->insn_len == 0) {
		contain(pc, res);
		return;
	}
	struct hv_io_state *st = &sys->parts[exit->partition].io[idx];
	uint64_t *rax = &exit->st.gpr[HV_RAX];
	uint32_t off = port - dev->base;
	if (in) {
		uint32_t v = 0;
		for (uint32_t i = 0; i < size; i++)
			v |= (uint32_t)(dev->type == HV_IO_RTC ? rtc_read(st, off + i)
			                                       : uart_read(st, off + i))
			     << (8 * i);
		/* IN AL/AX keep the rest of RAX; IN EAX zero-extends, as every
		 * 32-bit register write in 64-bit mode (SDM Vol. 1, 3.4.1.1). */
		if (size == 4)
			*rax = v;
		else
			*rax = (*rax & ~((1ull << (8 * size)) - 1)) | v;
	} else {
		for (uint32_t i = 0; i < size; i++) {
			uint8_t b = (uint8_t)(*rax >> (8 * i));
			if (dev->type == HV_IO_RTC)
				rtc_write(st, off + i, b);
			else
				uart_write(sys, exit->partition, st, off + i, b);
		}
	}
	hv_result_resume(res, exit->insn_len);
}
