/* hx boot: the bootable hypervisor (handlers/boot) under QEMU's SVM
 * emulation, with guest programs in its partitions. Reports like hx run. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot_runner.h"
#include "cli.h"
#include "config_json.h"
#include "escape.h"
#include "run_args.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: hx boot CONFIG.json GUEST.elf [options]\n"
	        "  Boots the hypervisor image under QEMU (TCG, -cpu EPYC: AMD SVM with nested\n"
	        "  paging) with CONFIG and GUEST.elf in every partition as multiboot modules; the\n"
	        "  production core handles every exit. The config must say \"vendor\": \"amd\".\n"
	        "options:\n"
	        "  --guest N=FILE         partition N runs FILE instead of GUEST.elf\n"
	        "  --record FILE          the image streams every exit (inputs, platform calls\n"
	        "                         with their bytes, outputs): written as a trace (.hxt)\n"
	        "                         that hx replay replays with outputs equal (REAL-EQ)\n"
	        "  --timeout S            wall-clock limit of the whole run (default 10)\n"
	        "  --max-exits N          core exits per partition before it counts as hung\n"
	        "                         (default 1000000)\n"
	        "  --vcpus N              run at most N vCPUs per partition\n"
	        "  --expect [N=]OUTCOME   as for hx run: pass, fail, timeout, crash, halted,\n"
	        "                         halted:REASON\n"
	        "  --expect-violation ID  the run must report violations of invariant ID\n"
	        "  --break-npt foreign    test-only negative control: boot hx_boot_break.elf, "
	        "whose\n"
	        "                         partition 0 maps one block of partition 1's RAM\n"
	        "  --image FILE           the bootable image (default: hx_boot.elf beside hx)\n"
	        "  --qemu PATH            the emulator (default: qemu-system-x86_64)\n"
	        "  --serial-log FILE      keep the image's serial console in FILE\n"
	        "  --write-modules DIR    write the config blob and the guests into DIR and print\n"
	        "                         the QEMU command that boots them; run nothing\n"
	        "  --stats                per exit type: round trip, handler time, exits/s\n"
	        "                         (emulated: QEMU TCG, not hardware)\n"
	        "  --quiet / --verbose    less / more output\n"
	        "exit status: 0 every partition as expected, 1 a failure or violation, 2 bad\n"
	        "input (also when the hypervisor refuses its input) or QEMU unusable\n");
}

/* hx_boot.elf (or the break image) in the directory of this executable. */
static const char *default_image(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return name;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, len, "%s/%s", self, name);
	return buf;
}

int hx_cmd_boot(int argc, char **argv)
{
	struct run_args *a = calloc(1, sizeof(*a));
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct hxk_report *rep = calloc(1, sizeof(*rep));
	int rc = HX_EXIT_USAGE;
	if (!a || !cfg || !rep) {
		fprintf(stderr, "hx boot: out of memory\n");
		goto out;
	}
	int pr = hx_run_parse_args("boot", argc, argv, a, usage);
	if (pr != 0) {
		rc = pr < 0 ? HX_EXIT_OK : pr;
		goto out;
	}
	if (hx_run_load_config("boot", a, cfg) != 0)
		goto out;
	if (a->break_npt && (a->boot_image || cfg->npartitions < 2)) {
		fprintf(stderr,
		        "hx boot: --break-npt foreign needs two partitions and no --image\n");
		goto out;
	}
	const char *images[HV_MAX_PARTITIONS];
	for (uint32_t i = 0; i < HV_MAX_PARTITIONS; i++)
		images[i] = a->guest_for[i] ? a->guest_for[i] : a->image;
	char img[PATH_MAX + 32];
	struct hxb_options o;
	memset(&o, 0, sizeof(o));
	o.run = a->opt;
	o.image = a->boot_image ? a->boot_image
	                        : default_image(a->break_npt ? "hx_boot_break.elf" : "hx_boot.elf",
	                                        img, sizeof(img));
	o.qemu = a->qemu ? a->qemu : "qemu-system-x86_64";
	o.serial_log = a->serial_log;
	o.modules_dir = a->modules_dir;
	o.run.config_name = a->config;
	if (!a->opt.quiet && !a->modules_dir)
		printf("hx boot: %s with %s: %u partition%s under QEMU (TCG, emulated SVM), "
		       "timeout "
		       "%.1f s%s\n",
		       hx_esc(a->config), hx_esc(a->image), cfg->npartitions,
		       cfg->npartitions == 1 ? "" : "s", a->opt.timeout_s,
		       a->break_npt ? ", TEST-ONLY broken NPT image" : "");
	fflush(stdout);
	struct hxk_err err = {0};
	enum hxb_status st = hxb_run(cfg, images, &o, rep, &err);
	fflush(stdout);
	if (st != HXB_DONE) {
		fprintf(stderr, "hx boot: %s\n", err.msg);
		rc = HX_EXIT_USAGE;
		goto out;
	}
	if (a->modules_dir) {
		rc = HX_EXIT_OK;
		goto out;
	}
	hxk_report_print(stdout, cfg, rep, false);
	if (a->stats)
		hxb_stats_print(stdout, rep);
	if (a->opt.record && rep->recorded && !a->opt.quiet)
		printf("trace written to %s (hx replay compares the hosted core with it: "
		       "REAL-EQ)\n",
		       hx_esc(a->opt.record));
	rc = rep->passed ? HX_EXIT_OK : HX_EXIT_FAIL;
out:
	free(a);
	free(cfg);
	free(rep);
	return rc;
}
