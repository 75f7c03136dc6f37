/* hx-bench-replay: replay throughput of the corpus traces through the
 * replay engine's in-memory API (hx_replay_run on parsed traces), with and
 * without the per-exit oracles.
 *
 *   hx-bench-replay [-r ROUNDS] [-o FILE.json] TRACE...
 *
 * With oracles: one replay as `hx replay` does it minus the DET pass
 * (check_det off): system set-up, EPT verify at start and end, every exit
 * through hv_handle_exit, the oracles and the output comparison.
 * Without oracles: the engine's DET pass alone, which replays the same
 * exits with the same platform and observer but no oracles and no
 * comparison. The API runs that pass only after a first one, so its time is
 * derived: time(check_det on) - time(check_det off), medians over ROUNDS.
 * Both include the system set-up of each replay (EPT build), as a fuzzer
 * replaying one input pays it too. Traces that do not replay cleanly
 * (malformed corpus entries) are listed and skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "bench_util.h"
#include "replay.h"
#include "trace.h"

static const char *prog = "hx-bench-replay";

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Time of one round over all traces with check_det = det; -1 on failure. */
static int64_t round_ns(struct hx_replay *r, struct hx_trace **t, int n, bool det)
{
	struct hx_replay_opts o;
	hx_replay_opts_default(&o);
	o.check_det = det;
	struct hx_replay_result res;
	uint64_t t0 = hxb_now_ns();
	for (int i = 0; i < n; i++)
		if (hx_replay_run(r, t[i], &o, &res) != HX_REPLAY_PASS)
			return -1;
	return (int64_t)(hxb_now_ns() - t0);
}

int main(int argc, char **argv)
{
	unsigned rounds = 21;
	const char *out = NULL;
	int first = 1;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "-h") || !strcmp(argv[first], "--help")) {
			printf("usage: %s [-r ROUNDS] [-o FILE.json] TRACE...\n", prog);
			return 0;
		}
		if (first + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", prog, argv[first]);
			return 2;
		}
		if (!strcmp(argv[first], "-r"))
			rounds = (unsigned)hxb_parse_count(prog, "-r", argv[++first], 100000);
		else if (!strcmp(argv[first], "-o"))
			out = argv[++first];
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, hx_esc(argv[first]));
			return 2;
		}
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-r ROUNDS] [-o FILE.json] TRACE...\n", prog);
		return 2;
	}
	int ntr = argc - first;
	struct hx_trace **traces = calloc((size_t)ntr, sizeof(*traces));
	const char **names = calloc((size_t)ntr, sizeof(*names));
	char(*skipped)[400] = calloc((size_t)ntr, sizeof(*skipped));
	uint64_t *a = calloc(rounds, sizeof(uint64_t)), *b = calloc(rounds, sizeof(uint64_t));
	struct hx_replay *r = hx_replay_new();
	if (!traces || !names || !skipped || !a || !b || !r) {
		perror(prog);
		return 1;
	}
	int n = 0, nskip = 0;
	uint64_t exits = 0;
	for (int i = first; i < argc; i++) {
		struct hx_trace *t;
		struct hx_trace_error err;
		if (hx_trace_load(argv[i], &t, &err) != 0) {
			snprintf(skipped[nskip++], sizeof(skipped[0]), "%s: %s", base_name(argv[i]),
			         err.msg);
			continue;
		}
		struct hx_replay_result res;
		if (hx_replay_run(r, t, NULL, &res) != HX_REPLAY_PASS) {
			char why[300];
			hx_replay_failure_str(&res.first, why, sizeof(why));
			snprintf(skipped[nskip++], sizeof(skipped[0]), "%s: %s", base_name(argv[i]),
			         why);
			hx_trace_free(t);
			continue;
		}
		names[n] = base_name(argv[i]);
		traces[n++] = t;
		exits += t->nexits;
	}
	if (n == 0 || exits == 0) {
		fprintf(stderr, "%s: no trace replays cleanly\n", prog);
		for (int i = 0; i < nskip; i++)
			fprintf(stderr, "  %s\n", hx_esc(skipped[i]));
		return 2;
	}
	/* Warm-up, then alternate the two kinds of round so drift in machine
	 * load hits both alike. */
	if (round_ns(r, traces, n, true) < 0)
		return 1;
	for (unsigned k = 0; k < rounds; k++) {
		int64_t x = round_ns(r, traces, n, false), y = round_ns(r, traces, n, true);
		if (x < 0 || y < 0) {
			fprintf(stderr, "%s: a trace stopped replaying cleanly\n", prog);
			return 1;
		}
		a[k] = (uint64_t)x;
		b[k] = (uint64_t)y;
	}
	qsort(a, rounds, sizeof(*a), cmp_u64);
	qsort(b, rounds, sizeof(*b), cmp_u64);
	uint64_t with = a[rounds / 2], both = b[rounds / 2];
	/* With too few rounds noise can make the difference meaningless. */
	bool derived = both > with && (both - with) * 20 > with / 100;
	uint64_t without = derived ? both - with : 0;

	struct hxb_out o;
	FILE *f = stdout;
	if (out && !(f = hxb_out_open(&o, out)))
		return 1;
	fprintf(f, "{\n  \"traces\": [");
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		hxb_json_str(f, names[i]);
		fprintf(f, ", \"exits\": %u}", traces[i]->nexits);
	}
	fprintf(f, "],\n  \"skipped\": [");
	for (int i = 0; i < nskip; i++) {
		fprintf(f, "%s", i ? ", " : "");
		hxb_json_str(f, skipped[i]);
	}
	fprintf(f,
	        "],\n  \"exits_per_round\": %llu, \"rounds\": %u,\n"
	        "  \"with_oracles_ns\": %llu, \"without_oracles_ns\": %llu,\n"
	        "  \"with_oracles_exits_per_s\": %.0f, \"without_oracles_exits_per_s\": ",
	        (unsigned long long)exits, rounds, (unsigned long long)with,
	        (unsigned long long)without, (double)exits * 1e9 / (double)with);
	if (derived)
		fprintf(f, "%.0f\n}\n", (double)exits * 1e9 / (double)without);
	else
		fprintf(f, "null\n}\n");
	for (int i = 0; i < n; i++)
		hx_trace_free(traces[i]);
	hx_replay_free(r);
	if (out)
		return hxb_out_close(&o) == 0 ? 0 : 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
