#include "io.h"

#include <stdarg.h>

#define COM1 0x3f8
#define LSR_THRE 0x20 /* transmit holding register empty (16550 LSR bit 5) */

void hvb_serial_init(void)
{
	/* 115200 8N1, FIFOs on, interrupts off (16550 datasheet). */
	hv_outb(COM1 + 1, 0x00);
	hv_outb(COM1 + 3, 0x80);
	hv_outb(COM1 + 0, 0x01);
	hv_outb(COM1 + 1, 0x00);
	hv_outb(COM1 + 3, 0x03);
	hv_outb(COM1 + 2, 0xc7);
	hv_outb(COM1 + 4, 0x03);
}

static void serial_putc(char c)
{
	for (uint32_t spin = 0; spin < 100000 && !(hv_inb(COM1 + 5) & LSR_THRE); spin++)
		;
	hv_outb(COM1, (uint8_t)c);
}

struct sink {
	char *buf;
	uint32_t len, cap;
};

static void put(struct sink *s, char c)
{
	if (s->len + 1 < s->cap)
		s->buf[s->len++] = c;
}

static void put_num(struct sink *s, uint64_t v, unsigned base, bool neg)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		put(s, '-');
	while (n)
		put(s, tmp[--n]);
}

static uint32_t format(char *buf, uint32_t cap, const char *fmt, va_list ap)
{
	struct sink s = {buf, 0, cap};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&s, *p);
			continue;
		}
		p++;
		int longs = 0;
		while (*p == 'l') {
			longs++;
			p++;
		}
		switch (*p) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			for (; str && *str; str++)
				put(&s, *str);
			break;
		}
		case 'c':
			put(&s, (char)va_arg(ap, int));
			break;
		case 'u':
		case 'x': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(&s, v, *p == 'x' ? 16 : 10, false);
			break;
		}
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&s, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case '%':
			put(&s, '%');
			break;
		default:
			put(&s, '?');
			if (!*p)
				p--;
			break;
		}
	}
	buf[s.len] = 0;
	return s.len;
}

static void serial_write(const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

void hvb_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	uint32_t n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, n);
}

static void event_bytes(const void *p, uint32_t n)
{
	const uint8_t *b = p;
	/* One string OUT per chunk (APM Vol. 3, OUTS): far fewer I/O exits of
	 * the emulator than a byte at a time. */
	__asm__ volatile("rep outsb"
	                 : "+S"(b), "+c"(n)
	                 : "d"((uint16_t)HV_BOOT_EVENT_PORT)
	                 : "memory");
}

void hvb_event_parts(uint32_t type, uint32_t n, const void *const part[], const uint32_t len[])
{
	uint32_t total = 0, take[4];
	for (uint32_t i = 0; i < n && i < 4; i++) {
		take[i] = len[i] < HV_BOOT_EVENT_MAX - total ? len[i] : HV_BOOT_EVENT_MAX - total;
		total += take[i];
	}
	struct hv_ev_header h = {HV_BOOT_FRAME_MAGIC, (uint16_t)type, total};
	event_bytes(&h, sizeof(h));
	for (uint32_t i = 0; i < n && i < 4; i++)
		if (take[i])
			event_bytes(part[i], take[i]);
}

void hvb_event(uint32_t type, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	const void *part[2] = {a, b};
	uint32_t len[2] = {alen, b ? blen : 0};
	hvb_event_parts(type, 2, part, len);
}

void hvb_exit(uint32_t code)
{
	hv_outl(HV_BOOT_EXIT_PORT, code);
	/* Without the exit device: stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hvb_fatal(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	uint32_t n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write("hx-boot: fatal: ", 16);
	serial_write(buf, n);
	serial_write("\n", 1);
	hvb_event(HV_EV_FATAL, buf, n, 0, 0);
	hvb_exit(HV_BOOT_EXIT_FATAL);
}
