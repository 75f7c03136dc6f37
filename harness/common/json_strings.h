/* A lexical check of every string token (object keys and values) of JSON
 * text, for what cJSON cannot report:
 *   - an escaped NUL (\u0000): cJSON stores strings NUL-terminated, so
 *     "alpha\u0000evil" would silently load as "alpha";
 *   - a raw control character U+0000..U+001F inside a string (a TAB, a
 *     newline): RFC 8259 section 7 requires them escaped, cJSON accepts
 *     them.
 * It tracks the JSON path of each string (keys and array indices) so the
 * error names it: "partitions[0].name". One pass over the text, bounded
 * nesting bookkeeping; it needs no well-formed input (it runs before the
 * parser, which reports syntax errors itself). */
#ifndef HX_JSON_STRINGS_H
#define HX_JSON_STRINGS_H

#include <stdbool.h>
#include <stddef.h>

struct hx_json_string_error {
	size_t offset;    /* of the offending byte or escape */
	unsigned line;    /* 1-based position of offset */
	unsigned column;  /* 1-based, in bytes */
	bool in_key;      /* the string is an object key */
	char path[256];   /* of the value, or of the object holding the key; "" at the top */
	char key[64];     /* the key (escaped for printing) when in_key */
	char reason[160]; /* "string contains a NUL character (\\u0000)" */
};

/* Line and column (1-based, in bytes) of offset in text. */
void hx_json_position(const char *text, size_t off, unsigned *line, unsigned *col);

/* True when every string is clean; otherwise false and *e says where. */
bool hx_json_check_strings(const char *text, size_t len, struct hx_json_string_error *e);

#endif
