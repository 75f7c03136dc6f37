/* Strict parsing of numeric command-line arguments. strtoul() and friends
 * skip leading blanks, accept a sign (so "-1" wraps to the largest value),
 * take "010" as octal and "" as 0; an argument that is not exactly a number
 * is a usage error here instead. */
#ifndef HX_CLI_ARGS_H
#define HX_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits, or 0x/0X and hex digits; nothing else (no sign, blank,
 * suffix), at most max. False for NULL, "", overflow or anything else. */
bool hx_arg_uint(const char *s, uint64_t max, uint64_t *out);

#endif
