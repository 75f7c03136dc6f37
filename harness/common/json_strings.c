/* String tokens of JSON text: NUL escapes and raw control characters; see
 * json_strings.h. */
#include "json_strings.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "no_coverage.h"

/* Deeper nesting is still scanned; only its part of the path is shown as
 * "...". (No config nests more than 6 levels.) */
#define MAX_FRAMES 32
#define KEY_MAX 40

struct frame {
	bool object;
	bool have_key; /* object: the value after a key is being read */
	unsigned index;
	size_t key_len;
	char key[KEY_MAX + 1]; /* raw (still escaped) key text, cut at KEY_MAX */
	bool key_cut;
};

struct scan {
	const char *text;
	size_t len;
	struct frame f[MAX_FRAMES];
	size_t depth; /* may exceed MAX_FRAMES */
};

HX_NO_COVERAGE static struct frame *top(struct scan *s)
{
	return s->depth && s->depth <= MAX_FRAMES ? &s->f[s->depth - 1] : NULL;
}

static void put_path(const struct scan *s, size_t frames, char *out, size_t cap)
{
	size_t pos = 0;
	out[0] = '\0';
	for (size_t i = 0; i < frames && i < s->depth; i++) {
		int n;
		if (i >= MAX_FRAMES) {
			n = snprintf(out + pos, cap - pos, "...");
			pos += n > 0 ? (size_t)n : 0;
			break;
		}
		const struct frame *f = &s->f[i];
		if (f->object && f->have_key) {
			char k[4 * KEY_MAX + 8];
			hx_escape_n(f->key, f->key_len, k, sizeof(k));
			n = snprintf(out + pos, cap - pos, "%s%s%s", pos ? "." : "", k,
			             f->key_cut ? "..." : "");
		} else if (!f->object) {
			n = snprintf(out + pos, cap - pos, "[%u]", f->index);
		} else {
			n = 0;
		}
		if (n < 0)
			break;
		pos += (size_t)n;
		if (pos >= cap) {
			out[cap - 1] = '\0';
			break;
		}
	}
}

HX_NO_COVERAGE void hx_json_position(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static const char *control_name(unsigned char c)
{
	switch (c) {
	case '\t':
		return " (tab)";
	case '\n':
		return " (newline)";
	case '\r':
		return " (carriage return)";
	default:
		return "";
	}
}

static bool hex4_is_zero(const char *p, size_t left)
{
	return left >= 4 && p[0] == '0' && p[1] == '0' && p[2] == '0' && p[3] == '0';
}

/* The string token starting at the quote text[i]; *end is the index after
 * its closing quote (len when unterminated). Returns false and fills
 * why and bad on a NUL escape or a raw control character. */
HX_NO_COVERAGE static bool scan_string(const struct scan *s, size_t i, size_t *end, size_t *bad,
                                       char *why, size_t whylen)
{
	for (size_t j = i + 1; j < s->len; j++) {
		unsigned char c = (unsigned char)s->text[j];
		if (c == '"') {
			*end = j + 1;
			return true;
		}
		if (c < 0x20) {
			*bad = j;
			snprintf(why, whylen,
			         "string contains a raw control character 0x%02x%s; JSON requires "
			         "it escaped (RFC 8259, section 7)",
			         c, control_name(c));
			return false;
		}
		if (c == '\\' && j + 1 < s->len) {
			if (s->text[j + 1] == 'u' &&
			    hex4_is_zero(s->text + j + 2, s->len - j - 2)) {
				*bad = j;
				snprintf(why, whylen, "string contains a NUL character (\\u0000)");
				return false;
			}
			j++; /* the escaped character, e.g. \" */
		}
	}
	*end = s->len;
	return true;
}

HX_NO_COVERAGE bool hx_json_check_strings(const char *text, size_t len,
                                          struct hx_json_string_error *e)
{
	struct scan s = {.text = text, .len = len};
	memset(e, 0, sizeof(*e));
	size_t i = 0;
	while (i < len) {
		char c = text[i];
		struct frame *f = top(&s);
		switch (c) {
		case '{':
		case '[':
			if (s.depth < MAX_FRAMES)
				s.f[s.depth] = (struct frame){.object = c == '{'};
			s.depth++;
			i++;
			continue;
		case '}':
		case ']':
			if (s.depth)
				s.depth--;
			i++;
			continue;
		case ',':
			if (f && f->object)
				f->have_key = false;
			else if (f)
				f->index++;
			i++;
			continue;
		case '"':
			break;
		default:
			i++;
			continue;
		}
		bool is_key = f && f->object && !f->have_key;
		size_t end, bad;
		char why[sizeof(e->reason)];
		if (!scan_string(&s, i, &end, &bad, why, sizeof(why))) {
			e->offset = bad;
			hx_json_position(text, bad, &e->line, &e->column);
			e->in_key = is_key;
			snprintf(e->reason, sizeof(e->reason), "%s", why);
			/* A key's path is its object's; a value's includes its key. */
			put_path(&s, s.depth, e->path, sizeof(e->path));
			if (is_key) {
				size_t n = bad - i - 1 < KEY_MAX ? bad - i - 1 : KEY_MAX;
				hx_escape_n(text + i + 1, n, e->key, sizeof(e->key));
			}
			return false;
		}
		if (is_key) {
			size_t n = end >= i + 2 ? end - i - 2 : 0;
			f->key_cut = n > KEY_MAX;
			f->key_len = n > KEY_MAX ? KEY_MAX : n;
			memcpy(f->key, text + i + 1, f->key_len);
			f->key[f->key_len] = '\0';
			f->have_key = true;
		}
		i = end;
	}
	return true;
}
