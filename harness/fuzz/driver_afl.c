/* AFL++ persistent-mode driver (shared-memory test cases): the same target
 * source as libFuzzer. Built with afl-clang-fast, which defines the
 * __AFL_* macros. Without an argument it fuzzes; with file arguments it
 * runs them once, like the replay driver. A target's LLVMFuzzerInitialize
 * runs first (deferred initialisation: the fork server starts after it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* A target's one-time setup, as libFuzzer calls it: done before
 * __AFL_INIT, so the fork server hands every child the built fixture. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

__AFL_FUZZ_INIT();

/* Loop iterations before the process restarts, bounding any slow leak. */
#define AFL_PERSIST_ITERATIONS 10000

/* The same limit as the fuzzing loop's buffer would impose; a larger file
 * is refused rather than silently cut. */
#define AFL_MAX_INPUT (1u << 20)

static int run_file(const char *path)
{
	uint8_t *buf;
	size_t n;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, AFL_MAX_INPUT, &buf, &n, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", hx_esc(path), why);
		return 2;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_file(argv[i]) != 0)
				return 2;
		return 0;
	}
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(AFL_PERSIST_ITERATIONS)) {
		int len = __AFL_FUZZ_TESTCASE_LEN;
		LLVMFuzzerTestOneInput(buf, (size_t)len);
	}
	return 0;
}
