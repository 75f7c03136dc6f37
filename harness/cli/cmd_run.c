/* hx run: guest programs on KVM against the production core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_args.h"
#include "escape.h"
#include "cli.h"
#include "config_json.h"
#include "hv/verify.h"
#include "run_args.h"
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
	int pr = hx_run_parse_args("run", argc, argv, a, usage);
	if (pr != 0) {
		rc = pr < 0 ? HX_EXIT_OK : pr;
		goto out;
	}
	if (hx_run_load_config("run", a, cfg) != 0)
		goto out;
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
	a->opt.config_name = a->config;
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
