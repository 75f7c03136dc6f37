/* hx run: guest programs on KVM against the production core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "escape.h"
#include "cli.h"
#include "config_json.h"
#include "hv/verify.h"
#include "runner.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: hx run CONFIG.json GUEST.elf [options]\n"
	        "  Runs GUEST.elf in every partition of CONFIG (one KVM VM each) against the\n"
	        "  production exit handlers, checking the isolation invariants after every exit.\n"
	        "options:\n"
	        "  --partition N          run only partition N\n"
	        "  --guest N=FILE         partition N runs FILE instead of GUEST.elf\n"
	        "  --record FILE          record every exit into a trace (.hxt)\n"
	        "  --single-step          catch CPUID/VMCALL/VMMCALL/HLT anywhere (slow)\n"
	        "  --timeout S            wall-clock limit of the whole run (default 10)\n"
	        "  --max-exits N          KVM exits per partition before it counts as hung\n"
	        "                         (default 1000000)\n"
	        "  --vcpus N              run at most N vCPUs per partition (default: as "
	        "configured)\n"
	        "  --expect [N=]OUTCOME   expected outcome of partition N (default: all): pass,\n"
	        "                         fail, timeout, crash, halted, halted:REASON (shutdown,\n"
	        "                         hlt, triple-fault, violation, unhandled-exit, ...)\n"
	        "  --expect-violation ID  the run must report violations of invariant ID (e.g.\n"
	        "                         EPT-OWN); they then do not fail it\n"
	        "  --break-ept foreign    test-only negative control: partition 0's EPT maps one\n"
	        "                         block of partition 1's RAM\n"
	        "  --stats                per-exit overhead: KVM round trip vs handler vs oracles\n"
	        "  --quiet / --verbose    less / more output\n"
	        "exit status: 0 every partition as expected, 1 a failure or violation, 2 bad "
	        "input\n"
	        "or KVM unusable\n");
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	return hx_arg_uint(s, max, out);
}

static bool parse_invariant(const char *s, uint32_t *inv)
{
	for (uint32_t i = 0; i < HV_INV_COUNT; i++) {
		if (!strcasecmp(s, hv_invariant_id((enum hv_invariant)i))) {
			*inv = i;
			return true;
		}
	}
	return false;
}

struct run_args {
	uint32_t seen; /* bit per option of single_opts[] already given */
	const char *config;
	const char *image;
	const char *guest_for[HV_MAX_PARTITIONS];
	bool expect_set[HV_MAX_PARTITIONS];
	bool stats;
	struct hxk_options opt;
	struct hxk_expect expect_all;
	bool expect_all_set;
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "hx run: ");
	fprintf(stderr, fmt, hx_esc(arg));
	fprintf(stderr, "\n(see hx run --help)\n");
	return HX_EXIT_USAGE;
}

/* Options that take one value and may appear once: a second one would
 * silently override the first. (--guest, --expect and --expect-violation
 * may repeat: they are per partition or a set.) */
static const char *const single_opts[] = {"--partition", "--record", "--timeout",
                                          "--max-exits", "--vcpus",  "--break-ept"};

static int once(struct run_args *a, const char *o)
{
	for (uint32_t k = 0; k < sizeof(single_opts) / sizeof(single_opts[0]); k++) {
		if (strcmp(o, single_opts[k]) != 0)
			continue;
		if (a->seen & (1u << k))
			return -1;
		a->seen |= 1u << k;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	hxk_options_default(&a->opt);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(o, "--single-step")) {
			a->opt.single_step = true;
		} else if (!strcmp(o, "--stats")) {
			a->stats = true;
		} else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) {
			a->opt.quiet = true;
		} else if (!strcmp(o, "--verbose") || !strcmp(o, "-v")) {
			a->opt.verbose = true;
		} else if (o[0] == '-' && o[1] == '-' && !val) {
			return bad("option %s needs a value", o);
		} else if (once(a, o) != 0) {
			return bad("option %s is given twice (give each at most once)", o);
		} else if (!strcmp(o, "--partition")) {
			if (!parse_uint(val, HV_MAX_PARTITIONS - 1, &n))
				return bad("--partition %s: expected a partition index 0..63", val);
			a->opt.only_partition = (int)n;
			i++;
		} else if (!strcmp(o, "--record")) {
			if (!*val)
				return bad("--record %s: empty file name", val);
			a->opt.record = val;
			i++;
		} else if (!strcmp(o, "--timeout")) {
			char *end;
			errno = 0;
			double t = strtod(val, &end);
			if (errno || *end || !(t > 0) || t > 86400)
				return bad("--timeout %s: expected seconds, > 0 and at most 86400",
				           val);
			a->opt.timeout_s = t;
			i++;
		} else if (!strcmp(o, "--max-exits")) {
			if (!parse_uint(val, UINT64_MAX, &n) || n == 0)
				return bad("--max-exits %s: expected a positive count", val);
			a->opt.max_exits = n;
			i++;
		} else if (!strcmp(o, "--vcpus")) {
			if (!parse_uint(val, HV_MAX_VCPUS, &n) || n == 0)
				return bad("--vcpus %s: expected 1..8", val);
			a->opt.max_vcpus = (uint32_t)n;
			i++;
		} else if (!strcmp(o, "--guest")) {
			const char *eq = strchr(val, '=');
			char idx[16];
			if (!eq || eq == val || (size_t)(eq - val) >= sizeof(idx) || !eq[1])
				return bad("--guest %s: expected N=FILE", val);
			memcpy(idx, val, (size_t)(eq - val));
			idx[eq - val] = 0;
			if (!parse_uint(idx, HV_MAX_PARTITIONS - 1, &n))
				return bad("--guest %s: N must be a partition index 0..63", val);
			if (a->guest_for[n])
				return bad("--guest %s: partition already has a guest", val);
			a->guest_for[n] = eq + 1;
			i++;
		} else if (!strcmp(o, "--expect")) {
			const char *eq = strchr(val, '=');
			struct hxk_expect e;
			if (eq) {
				char idx[16];
				if ((size_t)(eq - val) >= sizeof(idx))
					return bad("--expect %s: expected [N=]OUTCOME", val);
				memcpy(idx, val, (size_t)(eq - val));
				idx[eq - val] = 0;
				if (!parse_uint(idx, HV_MAX_PARTITIONS - 1, &n))
					return bad("--expect %s: N must be a partition index 0..63",
					           val);
				if (a->expect_set[n])
					return bad(
					        "--expect %s: partition already has an expectation",
					        val);
				if (!hxk_expect_parse(eq + 1, &e))
					return bad("--expect %s: unknown outcome (pass, fail, "
					           "timeout, "
					           "crash, halted, halted:REASON)",
					           val);
				a->opt.expect[n] = e;
				a->expect_set[n] = true;
			} else {
				if (a->expect_all_set)
					return bad(
					        "--expect %s: an expectation for all partitions is "
					        "already given",
					        val);
				if (!hxk_expect_parse(val, &e))
					return bad("--expect %s: unknown outcome (pass, fail, "
					           "timeout, "
					           "crash, halted, halted:REASON)",
					           val);
				a->expect_all = e;
				a->expect_all_set = true;
			}
			i++;
		} else if (!strcmp(o, "--expect-violation")) {
			uint32_t inv;
			if (!parse_invariant(val, &inv))
				return bad(
				        "--expect-violation %s: unknown invariant id (EPT-OWN, "
				        "EPT-FORM, EPT-EXACT, CONTAIN, RIP, CPUID-MASK, MSR-GUARD, "
				        "HCALL-BOUNDS, TOTAL, DET, BUILD-EQ, DECODE-EQ)",
				        val);
			a->opt.expect_inv |= 1u << inv;
			i++;
		} else if (!strcmp(o, "--break-ept")) {
			if (strcmp(val, "foreign") != 0)
				return bad("--break-ept %s: the only negative control is 'foreign'",
				           val);
			a->opt.break_ept_foreign = true;
			i++;
		} else if (o[0] == '-') {
			return bad("unknown option %s", o);
		} else if (!a->config) {
			a->config = o;
		} else if (!a->image) {
			a->image = o;
		} else {
			return bad("unexpected argument %s", o);
		}
	}
	if (!a->config)
		return bad("%s", "missing CONFIG.json");
	if (!a->image)
		return bad("%s", "missing GUEST.elf");
	for (uint32_t i = 0; i < HV_MAX_PARTITIONS; i++)
		if (a->expect_all_set && !a->expect_set[i])
			a->opt.expect[i] = a->expect_all;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int hx_cmd_run(int argc, char **argv)
{
	struct run_args *a = calloc(1, sizeof(*a));
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct hxk_report *rep = calloc(1, sizeof(*rep));
	int rc = HX_EXIT_USAGE;
	if (!a || !cfg || !rep) {
		fprintf(stderr, "hx run: out of memory\n");
		goto out;
	}
	int pr = parse_args(argc, argv, a);
	if (pr != 0) {
		rc = pr < 0 ? HX_EXIT_OK : pr;
		goto out;
	}
	struct hx_config_error cerr;
	if (hx_config_load(a->config, cfg, &cerr) != HX_CONFIG_OK) {
		fprintf(stderr, "hx run: %s\n", cerr.msg);
		goto out;
	}
	const char *images[HV_MAX_PARTITIONS];
	for (uint32_t i = 0; i < HV_MAX_PARTITIONS; i++)
		images[i] = i < cfg->npartitions ? (a->guest_for[i] ? a->guest_for[i] : a->image)
		                                 : NULL;
	if (a->opt.only_partition >= 0 && (uint32_t)a->opt.only_partition >= cfg->npartitions) {
		fprintf(stderr, "hx run: --partition %d, but %s has %u partition%s\n",
		        a->opt.only_partition, hx_esc(a->config), cfg->npartitions,
		        cfg->npartitions == 1 ? "" : "s");
		goto out;
	}
	for (uint32_t i = cfg->npartitions; i < HV_MAX_PARTITIONS; i++) {
		if (a->guest_for[i] || a->expect_set[i]) {
			fprintf(stderr,
			        "hx run: partition %u named in --guest/--expect, but %s has %u\n",
			        i, hx_esc(a->config), cfg->npartitions);
			goto out;
		}
	}
	a->opt.config_name = base_name(a->config);
	if (!a->opt.quiet)
		printf("hx run: %s with %s: %u partition%s, timeout %.1f s%s%s\n",
		       hx_esc(a->config), hx_esc(a->image), cfg->npartitions,
		       cfg->npartitions == 1 ? "" : "s", a->opt.timeout_s,
		       a->opt.single_step ? ", single-step" : "",
		       a->opt.record ? ", recording" : "");
	fflush(stdout);
	struct hxk_err err;
	enum hxk_run_status st = hxk_run(cfg, images, &a->opt, rep, &err);
	fflush(stdout);
	if (st != HXK_RUN_DONE) {
		fprintf(stderr, "hx run: %s\n", hx_esc(err.msg));
		rc = HX_EXIT_USAGE;
		goto out;
	}
	hxk_report_print(stdout, cfg, rep, a->stats);
	if (a->opt.record && rep->recorded && !a->opt.quiet)
		printf("trace written to %s\n", hx_esc(a->opt.record));
	rc = rep->passed ? HX_EXIT_OK : HX_EXIT_FAIL;
out:
	free(a);
	free(cfg);
	free(rep);
	return rc;
}
