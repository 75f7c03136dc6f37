/* Little-endian primitives of the .hxt format: a growable write buffer and
 * a bounded read cursor whose errors say where they happened. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "no_coverage.h"
#include "trace_internal.h"

/* The byte-level primitives (checksum, little-endian loads and stores,
 * bounds of the cursor) run for every byte of every fuzz input: not
 * instrumented (no_coverage.h). The record and field parsers above them
 * are. */
HX_NO_COVERAGE uint64_t hx_fnv1a64(const void *buf, size_t len, uint64_t seed)
{
	const uint8_t *p = buf;
	uint64_t h = seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* n is 1, 2, 4 or 8. On a little-endian host a load or store of n bytes
 * is the encoding itself. */
HX_NO_COVERAGE void tr_put_le(uint8_t *p, uint64_t v, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1:
		*p = (uint8_t)v;
		return;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		return;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		return;
	}
	case 8:
		memcpy(p, &v, 8);
		return;
	}
#endif
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

HX_NO_COVERAGE bool tr_record_at(const uint8_t *buf, size_t len, size_t pos, uint32_t *tag,
                                 size_t *body)
{
	if (pos > len || len - pos < 8)
		return false;
	*tag = (uint32_t)tr_get_le(buf + pos, 4);
	*body = (size_t)tr_get_le(buf + pos + 4, 4);
	return *body <= len - pos - 8;
}

HX_NO_COVERAGE uint64_t tr_get_le(const uint8_t *p, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1:
		return *p;
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	case 8: {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	}
#endif
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- wbuf ---- */

HX_NO_COVERAGE static uint8_t *wb_grow(struct wbuf *w, size_t n)
{
	if (w->failed)
		return NULL;
	if (n > HX_TRACE_MAX_FILE - w->len) {
		w->failed = true;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->failed = true;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	uint8_t *at = w->p + w->len;
	w->len += n;
	return at;
}

HX_NO_COVERAGE void wb_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *p = wb_grow(w, n);
	if (p && n)
		memcpy(p, src, n);
}

HX_NO_COVERAGE static void wb_le(struct wbuf *w, uint64_t v, unsigned n)
{
	uint8_t *p = wb_grow(w, n);
	if (p)
		tr_put_le(p, v, n);
}

HX_NO_COVERAGE void wb_u8(struct wbuf *w, uint8_t v)
{
	wb_le(w, v, 1);
}
HX_NO_COVERAGE void wb_u16(struct wbuf *w, uint16_t v)
{
	wb_le(w, v, 2);
}
HX_NO_COVERAGE void wb_u32(struct wbuf *w, uint32_t v)
{
	wb_le(w, v, 4);
}
HX_NO_COVERAGE void wb_u64(struct wbuf *w, uint64_t v)
{
	wb_le(w, v, 8);
}

size_t wb_begin_record(struct wbuf *w, uint32_t tag)
{
	size_t start = w->len;
	wb_u32(w, tag);
	wb_u32(w, 0); /* patched by wb_end_record */
	return start;
}

void wb_end_record(struct wbuf *w, size_t start)
{
	if (w->failed)
		return;
	size_t body = w->len - start - 8;
	if (body > UINT32_MAX) {
		w->failed = true;
		return;
	}
	tr_put_le(w->p + start + 4, body, 4);
}

void wb_free(struct wbuf *w)
{
	free(w->p);
	*w = (struct wbuf){0};
}

void tr_header(uint8_t out[HX_TRACE_HEADER_SIZE], uint64_t payload_len, uint64_t checksum,
               uint32_t nexits)
{
	memset(out, 0, HX_TRACE_HEADER_SIZE);
	memcpy(out, HX_TRACE_MAGIC, 8);
	tr_put_le(out + 8, HX_TRACE_VERSION, 4);
	tr_put_le(out + 12, HX_TRACE_HEADER_SIZE, 4);
	tr_put_le(out + 16, payload_len, 8);
	tr_put_le(out + 24, checksum, 8);
	tr_put_le(out + 32, nexits, 4);
	tr_put_le(out + 36, 0, 4);
}

/* ---- rd ---- */

void rd_fail(struct rd *r, const char *field, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	struct hx_trace_error *e = r->err;
	if (!e)
		return;
	e->offset = r->pos;
	e->exit_index = r->exit;
	if (r->scope1 && r->scope2)
		snprintf(e->field, sizeof(e->field), "%s[%u].%s[%u].%s", r->scope1, r->idx1,
		         r->scope2, r->idx2, field);
	else if (r->scope1)
		snprintf(e->field, sizeof(e->field), "%s[%u].%s", r->scope1, r->idx1, field);
	else
		snprintf(e->field, sizeof(e->field), "%s", field);
	char why[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	char where[48] = "";
	if (r->exit >= 0)
		snprintf(where, sizeof(where), "exit %lld: ", (long long)r->exit);
	snprintf(e->msg, sizeof(e->msg), "%sfield '%s' at byte offset %llu: %s", where, e->field,
	         (unsigned long long)r->pos, why);
}

HX_NO_COVERAGE static const uint8_t *rd_take(struct rd *r, const char *field, size_t n)
{
	if (r->failed)
		return NULL;
	if (rd_left(r) < n) {
		rd_fail(r, field, "truncated: needs %zu bytes, %zu left", n, rd_left(r));
		return NULL;
	}
	const uint8_t *p = r->buf + (r->pos - r->base);
	r->pos += n;
	return p;
}

HX_NO_COVERAGE static bool rd_le(struct rd *r, const char *field, unsigned n, uint64_t *v)
{
	const uint8_t *p = rd_take(r, field, n);
	if (!p)
		return false;
	*v = tr_get_le(p, n);
	return true;
}

HX_NO_COVERAGE bool rd_u8(struct rd *r, const char *field, uint8_t *v)
{
	uint64_t x;
	if (!rd_le(r, field, 1, &x))
		return false;
	*v = (uint8_t)x;
	return true;
}

HX_NO_COVERAGE bool rd_u16(struct rd *r, const char *field, uint16_t *v)
{
	uint64_t x;
	if (!rd_le(r, field, 2, &x))
		return false;
	*v = (uint16_t)x;
	return true;
}

HX_NO_COVERAGE bool rd_u32(struct rd *r, const char *field, uint32_t *v)
{
	uint64_t x;
	if (!rd_le(r, field, 4, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

HX_NO_COVERAGE bool rd_u64(struct rd *r, const char *field, uint64_t *v)
{
	return rd_le(r, field, 8, v);
}

HX_NO_COVERAGE const uint8_t *rd_bytes(struct rd *r, const char *field, size_t n)
{
	return rd_take(r, field, n);
}
