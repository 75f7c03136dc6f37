/* hx-bench-handlers: cost of hv_handle_exit per exit type on the optimised
 * core (`hv`) and the hosted bench platform.
 *
 *   hx-bench-handlers list
 *       the case names, one per line
 *   hx-bench-handlers cycles [-n N] [-w WARMUP] [-o FILE]
 *       TSC cycles per exit (serialised reads, timer overhead subtracted),
 *       distribution over N iterations after WARMUP; JSON to FILE or stdout
 *   hx-bench-handlers run CASE N
 *       N exits of one case and nothing else timed: for
 *       valgrind --tool=callgrind --toggle-collect=hv_handle_exit, where
 *       the instructions per exit are Ir / N
 *
 * Every iteration re-arms the case outside the handler (mailbox, EPT,
 * halted flag) and checks that the handler took the intended path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cases.h"
#include "bench_util.h"

static const char *prog = "hx-bench-handlers";

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s list\n"
	        "       %s cycles [-n ITERATIONS] [-w WARMUP] [-o FILE.json]\n"
	        "       %s run CASE ITERATIONS\n",
	        prog, prog, prog);
}

static int start(struct hxb_system *s)
{
	if (hxb_system_start(s) != 0)
		return -1;
	hxb_cases_setup(s);
	return 0;
}

/* One exit of case c; returns 0, or -1 after printing why it went wrong. */
static inline int one(struct hxb_system *s, const struct hxb_case *c, uint64_t *cycles)
{
	struct hv_exit e;
	struct hv_result r;
	c->prep(s, &e);
	uint64_t t0 = hxb_tsc_begin();
	hv_handle_exit(&s->sys, &e, &r);
	uint64_t t1 = hxb_tsc_end();
	const char *why = c->check(s, &e, &r);
	if (why) {
		fprintf(stderr, "%s: case %s: %s (action %s, halt %s, rax 0x%llx)\n", prog, c->name,
		        why, hv_action_str(r.action), hv_halt_reason_str(r.halt_reason),
		        (unsigned long long)e.st.gpr[HV_RAX]);
		return -1;
	}
	*cycles = t1 - t0;
	return 0;
}

static int cmd_run(const char *name, uint64_t n)
{
	const struct hxb_case *c = hxb_case_find(name);
	if (!c) {
		fprintf(stderr, "%s: unknown case '%s' (see: %s list)\n", prog, name, prog);
		return 2;
	}
	static struct hxb_system s;
	if (start(&s) != 0)
		return 1;
	uint64_t cyc;
	for (uint64_t i = 0; i < n; i++)
		if (one(&s, c, &cyc) != 0)
			return 1;
	hxb_system_stop(&s);
	return 0;
}

static int cmd_cycles(uint64_t n, uint64_t warm, const char *out)
{
	static struct hxb_system s;
	if (start(&s) != 0)
		return 1;
	uint64_t *samples = malloc(n * sizeof(*samples));
	if (!samples) {
		perror(prog);
		return 1;
	}
	double tpn = hxb_tsc_per_ns(200);
	uint64_t overhead = hxb_timer_overhead(10000);

	struct hxb_out o;
	FILE *f = stdout;
	if (out && !(f = hxb_out_open(&o, out)))
		return 1;
	fprintf(f,
	        "{\n  \"tsc_ghz\": %.4f,\n  \"timer_overhead_cycles\": %llu,\n"
	        "  \"iterations\": %llu,\n  \"warmup\": %llu,\n  \"cases\": [\n",
	        tpn, (unsigned long long)overhead, (unsigned long long)n, (unsigned long long)warm);
	for (size_t k = 0; k < hxb_ncases; k++) {
		const struct hxb_case *c = &hxb_cases[k];
		uint64_t cyc;
		for (uint64_t i = 0; i < warm; i++)
			if (one(&s, c, &cyc) != 0)
				return 1;
		for (uint64_t i = 0; i < n; i++) {
			if (one(&s, c, &cyc) != 0)
				return 1;
			samples[i] = cyc > overhead ? cyc - overhead : 0;
		}
		struct hxb_dist d;
		hxb_dist_of(samples, n, &d);
		fprintf(f, "    {\"name\": ");
		hxb_json_str(f, c->name);
		fprintf(f, ", \"what\": ");
		hxb_json_str(f, c->what);
		fprintf(f, ",\n     \"cycles\": ");
		hxb_dist_json(f, &d);
		fprintf(f, ",\n     \"ns_p50\": %.1f, \"ns_p99\": %.1f}%s\n", d.p50 / tpn,
		        d.p99 / tpn, k + 1 < hxb_ncases ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	free(samples);
	hxb_system_stop(&s);
	if (out)
		return hxb_out_close(&o) == 0 ? 0 : 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "list") && argc == 2) {
		for (size_t k = 0; k < hxb_ncases; k++)
			printf("%s\n", hxb_cases[k].name);
		return 0;
	}
	if (!strcmp(argv[1], "run") && argc == 4)
		return cmd_run(argv[2], hxb_parse_count(prog, "ITERATIONS", argv[3], 100000000));
	if (!strcmp(argv[1], "cycles")) {
		uint64_t n = 20000, warm = 2000;
		const char *out = NULL;
		for (int i = 2; i < argc; i++) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: %s needs a value\n", prog, argv[i]);
				return 2;
			}
			if (!strcmp(argv[i], "-n"))
				n = hxb_parse_count(prog, "-n", argv[++i], 10000000);
			else if (!strcmp(argv[i], "-w"))
				warm = hxb_parse_count(prog, "-w", argv[++i], 10000000);
			else if (!strcmp(argv[i], "-o"))
				out = argv[++i];
			else {
				fprintf(stderr, "%s: unknown option '%s'\n", prog, argv[i]);
				usage(stderr);
				return 2;
			}
		}
		return cmd_cycles(n, warm, out);
	}
	fprintf(stderr, "%s: bad command line\n", prog);
	usage(stderr);
	return 2;
}
