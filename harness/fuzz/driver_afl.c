/* AFL++ persistent-mode driver (shared-memory test cases): the same target
 * source as libFuzzer. Built with afl-clang-fast, which defines the
 * __AFL_* macros. Without an argument it fuzzes; with file arguments it
 * runs them once, like the replay driver. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__AFL_FUZZ_INIT();

/* Loop iterations before the process restarts, bounding any slow leak. */
#define AFL_PERSIST_ITERATIONS 10000

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
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
