/* hx replay [-v] [--no-det] [--no-compare] [--keep-going] FILE...
 *   Run each trace through the hosted core, check every invariant after
 *   every exit, compare with the recorded outputs and replay a second time
 *   (DET). Per file one line: pass with counts, or the first failing exit
 *   with its invariant id or differing field. Exit 0 all pass, 1 some trace
 *   fails, 2 some trace is unusable (malformed, truncated, bad config).
 *   --unsealed accepts a fuzzer-mutated trace whose header (checksum, length,
 *   exit count) was not rewritten: everything else is still checked.
 *
 * hx minimize FILE -o OUT
 *   Shrink a failing trace (drop exits and recorded inputs) while it keeps
 *   failing the same way; OUT is written atomically. Exit 0 done, 1 the
 *   trace does not fail, 2 bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "cli.h"
#include "minimize.h"
#include "replay.h"

struct report_ctx {
	const char *path;
	bool verbose;
};

static void on_report(void *ctx, const struct hx_replay_failure *f)
{
	const struct report_ctx *c = ctx;
	if (!c->verbose)
		return;
	char line[512];
	hx_replay_failure_str(f, line, sizeof(line));
	printf("  %s: %s\n", hx_esc(c->path), hx_esc(line));
}

static int replay_usage(void)
{
	fprintf(stderr, "usage: hx replay [-v] [--no-det] [--no-compare] [--keep-going] "
	                "[--unsealed] FILE.hxt...\n");
	return HX_EXIT_USAGE;
}

int hx_cmd_replay(int argc, char **argv)
{
	struct hx_replay_opts opts;
	hx_replay_opts_default(&opts);
	struct report_ctx rc = {0};
	int first_file = 0;
	for (int i = 1; i < argc && !first_file; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			rc.verbose = true;
		else if (!strcmp(argv[i], "--no-det"))
			opts.check_det = false;
		else if (!strcmp(argv[i], "--no-compare"))
			opts.compare_outputs = false;
		else if (!strcmp(argv[i], "--keep-going"))
			opts.stop_at_first = false;
		else if (!strcmp(argv[i], "--unsealed"))
			opts.parse_flags |= HX_TRACE_UNSEALED;
		else if (!strcmp(argv[i], "--"))
			first_file = i + 1;
		else if (argv[i][0] == '-')
			return replay_usage();
		else
			first_file = i;
	}
	if (!first_file || first_file >= argc)
		return replay_usage();
	opts.report = on_report;
	opts.report_ctx = &rc;

	struct hx_replay *r = hx_replay_new();
	if (!r) {
		fprintf(stderr, "hx replay: out of memory\n");
		return HX_EXIT_USAGE;
	}
	int worst = HX_EXIT_OK;
	uint32_t pass = 0, fail = 0, bad = 0;
	for (int i = first_file; i < argc; i++) {
		const char *file = argv[i];
		/* Only for printing: the file name as given may hold any byte. */
		char path[512];
		hx_escape(file, path, sizeof(path));
		struct hx_trace *t;
		struct hx_trace_error err;
		if (hx_trace_load_ex(file, opts.parse_flags, &t, &err) != 0) {
			printf("%s: BAD INPUT: %s\n", path, hx_esc(err.msg));
			bad++;
			worst = HX_EXIT_USAGE;
			continue;
		}
		rc.path = path;
		struct hx_replay_result res;
		hx_replay_run(r, t, &opts, &res);
		char line[512];
		hx_replay_failure_str(&res.first, line, sizeof(line));
		switch (res.status) {
		case HX_REPLAY_PASS:
			printf("%s: pass: %llu exits, %llu invariant checks%s%s\n", path,
			       (unsigned long long)res.exits_run, (unsigned long long)res.checks,
			       opts.compare_outputs ? ", outputs equal" : "",
			       opts.check_det ? ", deterministic" : "");
			pass++;
			break;
		case HX_REPLAY_FAIL:
			printf("%s: FAIL: %s\n", path, hx_esc(line));
			if (res.violations + res.mismatches > 1)
				printf("%s: %llu invariant violations, %llu output differences in "
				       "total%s\n",
				       path, (unsigned long long)res.violations,
				       (unsigned long long)res.mismatches,
				       opts.stop_at_first ? " (stopped at the first failing exit)"
				                          : "");
			fail++;
			if (worst == HX_EXIT_OK)
				worst = HX_EXIT_FAIL;
			break;
		default:
			printf("%s: BAD INPUT: %s\n", path, hx_esc(line));
			bad++;
			worst = HX_EXIT_USAGE;
			break;
		}
		hx_trace_free(t);
	}
	hx_replay_free(r);
	if (argc - first_file > 1)
		printf("%u traces: %u pass, %u fail, %u bad input\n", pass + fail + bad, pass, fail,
		       bad);
	return worst;
}

int hx_cmd_minimize(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc && !out)
			out = argv[++i];
		else if (argv[i][0] != '-' && !in)
			in = argv[i];
		else
			in = out = NULL, i = argc;
	}
	if (!in || !out) {
		fprintf(stderr, "usage: hx minimize FILE.hxt -o OUT.hxt\n");
		return HX_EXIT_USAGE;
	}
	struct hx_trace *t;
	struct hx_trace_error err;
	if (hx_trace_load(in, &t, &err) != 0) {
		fprintf(stderr, "error: %s: %s\n", hx_esc(in), hx_esc(err.msg));
		return HX_EXIT_USAGE;
	}
	struct hx_trace *small;
	struct hx_replay_failure target;
	struct hx_minimize_stats st;
	char line[512];
	int s = hx_minimize(t, &small, &target, &st);
	hx_trace_free(t);
	hx_replay_failure_str(&target, line, sizeof(line));
	switch (s) {
	case HX_MIN_OK:
		break;
	case HX_MIN_PASSES:
		fprintf(stderr, "hx minimize: %s passes: nothing to minimize\n", hx_esc(in));
		return HX_EXIT_FAIL;
	case HX_MIN_BAD:
		fprintf(stderr, "error: %s: %s\n", hx_esc(in), hx_esc(line));
		return HX_EXIT_USAGE;
	default:
		fprintf(stderr, "hx minimize: out of memory\n");
		return HX_EXIT_USAGE;
	}
	char msg[512];
	if (hx_trace_save(out, small, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "error: %s\n", hx_esc(msg));
		hx_trace_free(small);
		return HX_EXIT_USAGE;
	}
	hx_trace_free(small);
	printf("%s: %u -> %u exits, %u -> %u recorded calls, %llu -> %llu memory bytes (%u "
	       "replays)\n",
	       hx_esc(out), st.exits_before, st.exits_after, st.calls_before, st.calls_after,
	       (unsigned long long)st.bytes_before, (unsigned long long)st.bytes_after, st.tries);
	printf("%s: still fails: %s\n", hx_esc(out), hx_esc(line));
	return HX_EXIT_OK;
}
