/* Text that came from an input (names in traces and configs, guest console
 * output, file names from the command line) is printed through these, so
 * a terminal never sees an escape sequence, a carriage return or a forged
 * newline ("\nok: ...") from it: every byte outside 0x20..0x7e is shown as
 * \xNN. */
#ifndef HX_ESCAPE_H
#define HX_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Escape n bytes of s into buf (always NUL-terminated when len > 0). When
 * buf is too small the output ends with "..." instead of a partial escape.
 * Returns buf. */
const char *hx_escape_n(const void *s, size_t n, char *buf, size_t len);

/* The same for a NUL-terminated string (NULL prints as "(null)"). */
const char *hx_escape(const char *s, char *buf, size_t len);

/* hx_escape into one of a few per-thread rotating buffers, for use
 * directly in printf arguments: printf("%s: %s\n", hx_esc(a), hx_esc(b)).
 * The result stays valid until HX_ESC_SLOTS more calls in the same thread;
 * strings longer than HX_ESC_MAX bytes of output are cut with "...". */
#define HX_ESC_SLOTS 8
#define HX_ESC_MAX 1024
const char *hx_esc(const char *s);

/* True when every byte of s[0, n) is printable ASCII (0x20..0x7e). */
bool hx_is_printable(const void *s, size_t n);

#endif
