/* The option parser of hx run and hx boot (run_args.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_args.h"
#include "escape.h"
#include "hv/verify.h"
#include "config_json.h"
#include "run_args.h"

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

static const char *cmd_name = "run";

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "hx %s: ", cmd_name);
	fprintf(stderr, fmt, hx_esc(arg));
	fprintf(stderr, "\n(see hx %s --help)\n", cmd_name);
	return HX_EXIT_USAGE;
}

/* Options that take one value and may appear once: a second one would
 * silently override the first. (--guest, --expect and --expect-violation
 * may repeat: they are per partition or a set.) */
static const char *const single_opts[] = {
        "--partition", "--record",     "--timeout", "--max-exits", "--vcpus",        "--break-ept",
        "--image",     "--serial-log", "--qemu",    "--break-npt", "--write-modules"};

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

/* Options only one of the commands has. */
static bool run_only(const char *o)
{
	return !strcmp(o, "--partition") || !strcmp(o, "--single-step") ||
	       !strcmp(o, "--break-ept");
}

static bool boot_only(const char *o)
{
	return !strcmp(o, "--image") || !strcmp(o, "--qemu") || !strcmp(o, "--serial-log") ||
	       !strcmp(o, "--break-npt") || !strcmp(o, "--write-modules");
}

int hx_run_parse_args(const char *cmd, int argc, char **argv, struct run_args *a,
                      void (*usage_fn)(FILE *))
{
	cmd_name = cmd;
	bool boot = !strcmp(cmd, "boot");
	hxk_options_default(&a->opt);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage_fn(stdout);
			return -1;
		} else if (boot ? run_only(o) : boot_only(o)) {
			return bad("unknown option %s", o);
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
		} else if (!strcmp(o, "--image") || !strcmp(o, "--qemu") ||
		           !strcmp(o, "--serial-log") || !strcmp(o, "--write-modules")) {
			if (!*val)
				return bad("%s: empty value", o);
			*(!strcmp(o, "--image")        ? &a->boot_image
			  : !strcmp(o, "--qemu")       ? &a->qemu
			  : !strcmp(o, "--serial-log") ? &a->serial_log
			                               : &a->modules_dir) = val;
			i++;
		} else if (!strcmp(o, "--break-npt")) {
			if (strcmp(val, "foreign") != 0)
				return bad("--break-npt %s: the only negative control is 'foreign'",
				           val);
			a->break_npt = true;
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

int hx_run_load_config(const char *cmd, const struct run_args *a, struct hv_system_config *cfg)
{
	struct hx_config_error cerr;
	if (hx_config_load(a->config, cfg, &cerr) != HX_CONFIG_OK) {
		fprintf(stderr, "hx %s: %s\n", cmd, cerr.msg);
		return -1;
	}
	for (uint32_t i = cfg->npartitions; i < HV_MAX_PARTITIONS; i++) {
		if (a->guest_for[i] || a->expect_set[i]) {
			fprintf(stderr,
			        "hx %s: partition %u named in --guest/--expect, but %s has %u\n",
			        cmd, i, hx_esc(a->config), cfg->npartitions);
			return -1;
		}
	}
	return 0;
}
