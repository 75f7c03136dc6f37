/* Plain driver: runs each file given (directories are walked one level)
 * through the target once. Turns a corpus into a regression test: any
 * sanitizer report or oracle failure aborts with a non-zero exit. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "escape.h"
#include "input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* A target's one-time setup, called first as libFuzzer does. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs above this size are refused, as libFuzzer's -max_len would. */
#define REPLAY_MAX_INPUT (16u << 20)

/* HX_REPLAY_ANNOUNCE set: each file is named on stderr before it runs, so
 * that when one ends the process (a sanitizer report, an oracle's abort)
 * the last name printed is the input that did it. */
static bool announce;

static int run_file(const char *path)
{
	uint8_t *buf;
	size_t size;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, REPLAY_MAX_INPUT, &buf, &size, why, sizeof(why)) != 0) {
		fprintf(stderr, "replay: %s: %s\n", hx_esc(path), why);
		return -1;
	}
	if (announce)
		fprintf(stderr, "replay: running %s\n", hx_esc(path));
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order; returns files run or -1. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", hx_esc(dir), strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				abort();
			names = grown;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	int ran = 0, bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(names[i]) == 0)
				ran++;
			else
				bad = 1;
		}
		free(names[i]);
	}
	free(names);
	return bad ? -1 : ran;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	announce = getenv("HX_REPLAY_ANNOUNCE") != NULL;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", hx_esc(argv[i]), strerror(errno));
			return 2;
		}
		int r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
		if (r < 0)
			return 2;
		total += r;
	}
	printf("%s: %d inputs replayed, no failures\n", argv[0], total);
	return 0;
}
