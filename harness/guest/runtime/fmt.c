/* A small vsnprintf for ucall messages. */
#include <stdarg.h>

#include "hx/guest.h"

struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, int upper, int neg, int width,
                    char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	if (neg && pad == '0')
		put(o, '-');
	for (int w = n + (neg ? 1 : 0); w < width; w++)
		put(o, pad);
	if (neg && pad != '0')
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

int hx_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = {buf, len, 0};

	for (const char *p = fmt; *p; p++) {
		int lng = 0, width = 0, alt = 0;
		char pad = ' ';

		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		if (*p == '#') {
			alt = 1;
			p++;
		}
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng++;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, 0, v < 0,
			        width, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			if (alt && *p != 'u') {
				put(&o, '0');
				put(&o, 'x');
			}
			put_num(&o, v, *p == 'u' ? 10 : 16, *p == 'X', 0, width, pad);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, 0, width, pad);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case 0:
			p--;
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = 0;
	return (int)o.pos;
}

int hx_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = hx_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
