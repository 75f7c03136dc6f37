/* Escaping input-derived text for printing; see escape.h. */
#include "escape.h"

#include <stdio.h>
#include <string.h>

#include "no_coverage.h"

HX_NO_COVERAGE static bool printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* A byte loop over input text (no_coverage.h). */
HX_NO_COVERAGE bool hx_is_printable(const void *s, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		if (!printable(p[i]))
			return false;
	return true;
}

const char *hx_escape_n(const void *s, size_t n, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	const unsigned char *p = s;
	size_t full = 0;
	for (size_t i = 0; i < n; i++)
		full += printable(p[i]) ? 1 : 4;
	/* When it does not all fit, stop early enough for "..." so the cut
	 * is visible and never splits an escape. */
	size_t room = full < len ? full : (len >= 4 ? len - 4 : 0);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		size_t need = printable(p[i]) ? 1 : 4;
		if (pos + need > room)
			break;
		if (need == 1)
			buf[pos] = (char)p[i];
		else
			snprintf(buf + pos, 5, "\\x%02x", p[i]);
		pos += need;
	}
	if (full >= len && len >= 4) {
		memcpy(buf + pos, "...", 3);
		pos += 3;
	}
	buf[pos] = '\0';
	return buf;
}

const char *hx_escape(const char *s, char *buf, size_t len)
{
	if (!s)
		s = "(null)";
	return hx_escape_n(s, strlen(s), buf, len);
}

const char *hx_esc(const char *s)
{
	static _Thread_local char slots[HX_ESC_SLOTS][HX_ESC_MAX];
	static _Thread_local unsigned next;
	char *buf = slots[next++ % HX_ESC_SLOTS];
	return hx_escape(s, buf, HX_ESC_MAX);
}
