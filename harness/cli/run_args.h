/* Options shared by hx run and hx boot: one parser, so both commands
 * take the same guests, expectations and limits the same way. */
#ifndef HX_RUN_ARGS_H
#define HX_RUN_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "hv/config.h"
#include "runner.h"

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
	/* hx boot only */
	const char *boot_image;  /* --image */
	const char *qemu;        /* --qemu */
	const char *serial_log;  /* --serial-log */
	const char *modules_dir; /* --write-modules */
	bool break_npt;          /* --break-npt foreign */
};

/* cmd is "run" or "boot": it selects the options the command has and the
 * prefix of messages. Returns 0, -1 after --help (usage printed), or
 * HX_EXIT_USAGE with the reason on stderr. */
int hx_run_parse_args(const char *cmd, int argc, char **argv, struct run_args *a,
                      void (*usage)(FILE *));

/* The config the arguments name, loaded into cfg, and the partitions
 * --guest and --expect name checked against it. 0, or -1 with the reason on
 * stderr (prefixed "hx CMD: "). */
int hx_run_load_config(const char *cmd, const struct run_args *a, struct hv_system_config *cfg);

#endif
