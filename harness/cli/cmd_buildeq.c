/* hx buildeq [--image FILE] [--timeout S] [-v] FILE.hxt...
 *   BUILD-EQ: run each trace through the freestanding core (inside a KVM
 *   guest, harness/equiv/buildeq) and the hosted core in lock-step
 *   and compare every output bit for bit, then the final EPT pool and
 *   run-time state. Per file one line: pass with counts, or the first
 *   difference with exit index and field. Exit 0 all equal, 1 a difference
 *   or a failing image, 2 bad input, usage, or no usable /dev/kvm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "buildeq.h"
#include "cli.h"
#include "replay.h"

static int usage(void)
{
	fprintf(stderr,
	        "usage: hx buildeq [--image FILE] [--timeout S] [-v] FILE.hxt...\n"
	        "  Compares the freestanding build of the core (run in a KVM guest) with the\n"
	        "  hosted build on each trace: every exit's outputs, then the EPT pool.\n"
	        "  --image FILE   freestanding replay image (default: hv_replay.elf of this "
	        "build)\n"
	        "  --timeout S    wall-clock limit per trace in seconds (default %.0f)\n"
	        "  -v             also print the hosted replay's own verdict and timings\n",
	        HX_BEQ_DEFAULT_TIMEOUT);
	return HX_EXIT_USAGE;
}

static void print_result(const char *path, const struct hx_beq_result *r, bool verbose)
{
	/* The path is the user's, messages may quote the image's symbols. */
	path = hx_esc(path);
	const char *msg = hx_esc(r->msg);
	switch (r->status) {
	case HX_BEQ_PASS:
		printf("%s: build-eq pass: %llu exits, %llu platform calls, %llu EPT pool pages "
		       "equal (%.2f s)\n",
		       path, (unsigned long long)r->exits, (unsigned long long)r->calls,
		       (unsigned long long)r->pool_pages, r->seconds);
		break;
	case HX_BEQ_FAIL:
		printf("%s: build-eq FAIL: %s [field %s]\n", path, msg, hx_esc(r->field));
		break;
	case HX_BEQ_ERROR:
		printf("%s: build-eq ERROR: %s\n", path, msg);
		break;
	default:
		printf("%s: BAD INPUT: %s\n", path, msg);
		break;
	}
	if (verbose) {
		printf("  %s: %.3f s total, %.3f s in the guest\n", path, r->seconds,
		       r->guest_seconds);
		if (r->hosted_status != HX_REPLAY_PASS && r->status != HX_BEQ_BAD_INPUT)
			printf("  %s: note: the hosted replay itself reports: %s\n", path,
			       hx_esc(r->hosted_msg));
	}
}

int hx_cmd_buildeq(int argc, char **argv)
{
	struct hx_beq_opts opts = {0};
	bool verbose = false;
	int first = 0;
	for (int i = 1; i < argc && !first; i++) {
		if ((!strcmp(argv[i], "--image") && opts.image) ||
		    (!strcmp(argv[i], "--timeout") && opts.timeout_s > 0)) {
			fprintf(stderr, "hx buildeq: %s is given twice (give it at most once)\n",
			        argv[i]);
			return HX_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--image") && i + 1 < argc) {
			opts.image = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			errno = 0;
			opts.timeout_s = strtod(argv[++i], &end);
			if (errno || *end || !(opts.timeout_s > 0 && opts.timeout_s <= 3600)) {
				fprintf(stderr,
				        "hx buildeq: --timeout %s: not a number of seconds in "
				        "(0, 3600]\n",
				        hx_esc(argv[i]));
				return HX_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--")) {
			first = i + 1;
		} else if (argv[i][0] == '-') {
			return usage();
		} else {
			first = i;
		}
	}
	if (!first || first >= argc)
		return usage();

	char err[512];
	struct hx_beq *b = hx_beq_new(&opts, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "hx buildeq: %s\n", hx_esc(err));
		return HX_EXIT_USAGE;
	}
	uint32_t pass = 0, fail = 0, error = 0, bad = 0;
	for (int i = first; i < argc; i++) {
		const char *path = argv[i];
		struct hx_trace *t;
		struct hx_trace_error terr;
		if (hx_trace_load(path, &t, &terr) != 0) {
			printf("%s: BAD INPUT: %s\n", hx_esc(path), hx_esc(terr.msg));
			bad++;
			continue;
		}
		struct hx_beq_result r;
		hx_beq_run(b, t, &r);
		hx_trace_free(t);
		print_result(path, &r, verbose);
		switch (r.status) {
		case HX_BEQ_PASS:
			pass++;
			break;
		case HX_BEQ_FAIL:
			fail++;
			break;
		case HX_BEQ_ERROR:
			error++;
			break;
		default:
			bad++;
			break;
		}
	}
	hx_beq_free(b);
	if (argc - first > 1)
		printf("%u traces: %u pass, %u fail, %u error, %u bad input\n",
		       pass + fail + error + bad, pass, fail, error, bad);
	if (fail || error)
		return HX_EXIT_FAIL;
	return bad ? HX_EXIT_USAGE : HX_EXIT_OK;
}
