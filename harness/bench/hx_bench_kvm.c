/* hx-bench-kvm: the KVM round trip of one exit, raw against the runner,
 * side by side in one process.
 *
 *   hx-bench-kvm [-n N] [-r ROUNDS] [-o FILE.json] CONFIG.json GUEST.elf
 *
 * Each round runs, one after the other:
 *   raw OUT    N exits of a real-mode OUT loop through a bare KVM_RUN loop
 *   raw MMIO   N exits of a real-mode store to an unmapped GPA, bare loop
 *   runner     GUEST.elf (harness/bench/guest/bench_exits.c) under the
 *              KVM runner (hxk_run): MMIO stores to the console device,
 *              CPUID and YIELD at the runtime's trapping sites, each exit
 *              translated, handled by hv_handle_exit, checked by the
 *              oracles and resumed; the runner's per-kind statistics give
 *              the round trip and where the time went.
 * Figures are medians over the rounds (raw percentiles over all samples).
 * Without a usable /dev/kvm the JSON says so ("available": false) and the
 * exit status is 0: the rest of the report does not depend on it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "bench_util.h"
#include "config_json.h"
#include "kvm_raw.h"
#include "runner.h"

static const char *prog = "hx-bench-kvm";

#define MAX_ROUNDS 15

struct kind_fig {
	double round_trip, kvm, runner, handler, oracle, record;
	uint64_t count;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_d(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void write_unavailable(FILE *f, const char *why)
{
	fprintf(f, "{\"available\": false, \"reason\": ");
	hxb_json_str(f, why);
	fprintf(f, "}\n");
}

static int finish(struct hxb_out *o, const char *out)
{
	if (out)
		return hxb_out_close(o) == 0 ? 0 : 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

static const uint32_t runner_kinds[] = {HV_EXIT_EPT_VIOLATION, HV_EXIT_CPUID, HV_EXIT_VMCALL};
#define NKINDS (sizeof(runner_kinds) / sizeof(runner_kinds[0]))

static void print_kind(FILE *f, const char *name, struct kind_fig (*per)[NKINDS], unsigned rounds,
                       unsigned k, bool last)
{
	double v[6][MAX_ROUNDS];
	for (unsigned r = 0; r < rounds; r++) {
		v[0][r] = per[r][k].round_trip;
		v[1][r] = per[r][k].kvm;
		v[2][r] = per[r][k].runner;
		v[3][r] = per[r][k].handler;
		v[4][r] = per[r][k].oracle;
		v[5][r] = per[r][k].record;
	}
	double m[6];
	for (int i = 0; i < 6; i++)
		m[i] = median_d(v[i], rounds);
	fprintf(f,
	        "    \"%s\": {\"exits_per_round\": %llu, \"round_trip_ns\": %.0f, \"kvm_ns\": "
	        "%.0f, "
	        "\"runner_ns\": %.0f, \"handler_ns\": %.0f, \"oracle_ns\": %.0f, \"record_ns\": "
	        "%.0f, \"other_ns\": %.0f}%s\n",
	        name, (unsigned long long)per[0][k].count, m[0], m[1], m[2], m[3], m[4], m[5],
	        m[2] - m[3] - m[4] - m[5], last ? "" : ",");
}

int main(int argc, char **argv)
{
	uint64_t n = 20000;
	unsigned rounds = 3;
	const char *out = NULL;
	int a = 1;
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			printf("usage: %s [-n N] [-r ROUNDS] [-o FILE.json] CONFIG.json "
			       "GUEST.elf\n",
			       prog);
			return 0;
		}
		if (a + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", prog, argv[a]);
			return 2;
		}
		if (!strcmp(argv[a], "-n"))
			n = hxb_parse_count(prog, "-n", argv[++a], 10000000);
		else if (!strcmp(argv[a], "-r"))
			rounds = (unsigned)hxb_parse_count(prog, "-r", argv[++a], MAX_ROUNDS);
		else if (!strcmp(argv[a], "-o"))
			out = argv[++a];
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, hx_esc(argv[a]));
			return 2;
		}
	}
	if (argc - a != 2) {
		fprintf(stderr,
		        "usage: %s [-n N] [-r ROUNDS] [-o FILE.json] CONFIG.json GUEST.elf\n",
		        prog);
		return 2;
	}
	const char *cfg_path = argv[a], *guest = argv[a + 1];
	static struct hv_system_config cfg;
	struct hx_config_error cerr;
	if (hx_config_load(cfg_path, &cfg, &cerr) != HX_CONFIG_OK) {
		fprintf(stderr, "%s: %s\n", prog, hx_esc(cerr.msg));
		return 2;
	}
	if (access(guest, R_OK) != 0) {
		fprintf(stderr, "%s: cannot read guest image %s: %s\n", prog, hx_esc(guest),
		        strerror(errno));
		return 2;
	}

	struct hxb_out o;
	FILE *f = stdout;
	if (out && !(f = hxb_out_open(&o, out)))
		return 1;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		char why[256];
		snprintf(why, sizeof(why), "/dev/kvm: %s", strerror(errno));
		write_unavailable(f, why);
		fprintf(stderr, "%s: %s: no KVM figures\n", prog, why);
		return finish(&o, out);
	}
	close(fd);

	double tpn = hxb_tsc_per_ns(100);
	uint64_t *s_out = calloc(n * rounds, sizeof(uint64_t));
	uint64_t *s_mmio = calloc(n * rounds, sizeof(uint64_t));
	struct hxk_report *rep = calloc(1, sizeof(*rep));
	static struct kind_fig per[MAX_ROUNDS][NKINDS];
	double raw_out[MAX_ROUNDS], raw_mmio[MAX_ROUNDS];
	if (!s_out || !s_mmio || !rep) {
		perror(prog);
		return 1;
	}
	const char *images[HV_MAX_PARTITIONS] = {guest};
	for (unsigned r = 0; r < rounds; r++) {
		char err[512];
		uint64_t wall;
		if (hxb_kvm_raw(HXB_RAW_OUT, 1000, n, s_out + r * n, &wall, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "%s: raw OUT loop: %s\n", prog, err);
			return 1;
		}
		raw_out[r] = (double)wall / (double)n;
		if (hxb_kvm_raw(HXB_RAW_MMIO, 1000, n, s_mmio + r * n, &wall, err, sizeof(err)) !=
		    0) {
			fprintf(stderr, "%s: raw MMIO loop: %s\n", prog, err);
			return 1;
		}
		raw_mmio[r] = (double)wall / (double)n;

		struct hxk_options opt;
		hxk_options_default(&opt);
		opt.quiet = true;
		opt.timeout_s = 120;
		opt.out = stderr;
		struct hxk_err kerr = {{0}};
		memset(rep, 0, sizeof(*rep));
		enum hxk_run_status st = hxk_run(&cfg, images, &opt, rep, &kerr);
		if (st != HXK_RUN_DONE || !rep->passed) {
			fprintf(stderr, "%s: runner: %s\n", prog,
			        st != HXK_RUN_DONE ? kerr.msg : "the bench guest did not pass");
			if (st == HXK_RUN_DONE)
				hxk_report_print(stderr, &cfg, rep, true);
			return 1;
		}
		for (unsigned k = 0; k < NKINDS; k++) {
			const struct hxk_kind_stats *ks = &rep->stats[runner_kinds[k]];
			if (ks->count == 0) {
				fprintf(stderr, "%s: the runner saw no %s exits\n", prog,
				        hv_exit_reason_str(runner_kinds[k]));
				return 1;
			}
			double c = (double)ks->count;
			per[r][k] = (struct kind_fig){
			        .count = ks->count,
			        .round_trip = (double)(ks->kvm_ns + ks->total_ns) / c,
			        .kvm = (double)ks->kvm_ns / c,
			        .runner = (double)ks->total_ns / c,
			        .handler = (double)ks->handler_ns / c,
			        .oracle = (double)ks->oracle_ns / c,
			        .record = (double)ks->record_ns / c,
			};
		}
	}
	struct hxb_dist d_out, d_mmio;
	hxb_dist_of(s_out, n * rounds, &d_out);
	hxb_dist_of(s_mmio, n * rounds, &d_mmio);
	double out_mean = median_d(raw_out, rounds), mmio_mean = median_d(raw_mmio, rounds);
	double rt[MAX_ROUNDS];
	for (unsigned r = 0; r < rounds; r++)
		rt[r] = per[r][0].round_trip;
	double runner_mmio = median_d(rt, rounds);

	fprintf(f, "{\n  \"available\": true, \"rounds\": %u, \"raw_exits_per_round\": %llu,\n",
	        rounds, (unsigned long long)n);
	fprintf(f,
	        "  \"raw\": {\n    \"out\": {\"mean_ns\": %.0f, \"p50_ns\": %.0f, \"p99_ns\": "
	        "%.0f},\n    \"mmio\": {\"mean_ns\": %.0f, \"p50_ns\": %.0f, \"p99_ns\": %.0f}\n  "
	        "},\n",
	        out_mean, d_out.p50 / tpn, d_out.p99 / tpn, mmio_mean, d_mmio.p50 / tpn,
	        d_mmio.p99 / tpn);
	fprintf(f, "  \"runner\": {\n");
	print_kind(f, "ept_violation", per, rounds, 0, false);
	print_kind(f, "cpuid", per, rounds, 1, false);
	print_kind(f, "vmcall", per, rounds, 2, true);
	fprintf(f,
	        "  },\n  \"runner_mmio_vs_raw_mmio\": %.2f, \"runner_mmio_vs_raw_out\": %.2f\n}\n",
	        runner_mmio / mmio_mean, runner_mmio / out_mean);
	free(s_out);
	free(s_mmio);
	free(rep);
	return finish(&o, out);
}
