/* hx: command-line front end. Subcommands live in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "cli.h"

struct hx_command {
	const char *group; /* first word, e.g. "config" */
	const char *name;  /* second word, or NULL for one-word commands */
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct hx_command commands[] = {
        {"config", "check", hx_cmd_config_check, "config check CONFIG.json"},
        {"ept", "dump", hx_cmd_ept_dump, "ept dump CONFIG.json"},
        {"run", NULL, hx_cmd_run,
         "run CONFIG.json GUEST.elf [--partition N] [--record FILE] [--single-step] [--timeout S]"},
        {"boot", NULL, hx_cmd_boot,
         "boot CONFIG.json GUEST.elf [--guest N=FILE] [--timeout S] [--expect OUTCOME]"},
        {"call", NULL, hx_cmd_call,
         "call CONFIG.json IMAGE SYMBOL [--abi ms|sysv] [ARG...] (ARG: N, @FILE, out:LEN)"},
        {"trace", "dump", hx_cmd_trace_dump, "trace dump FILE.hxt"},
        {"replay", NULL, hx_cmd_replay, "replay FILE.hxt..."},
        {"minimize", NULL, hx_cmd_minimize, "minimize FILE.hxt -o OUT.hxt"},
        {"buildeq", NULL, hx_cmd_buildeq, "buildeq [--image FILE] [--timeout S] [-v] FILE.hxt..."},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hx COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn)
			fprintf(f, "  hx %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HX_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct hx_command *c = &commands[i];
		if (!c->fn || strcmp(argv[1], c->group) != 0)
			continue;
		if (!c->name)
			return c->fn(argc - 1, argv + 1);
		if (argc >= 3 && !strcmp(argv[2], c->name))
			return c->fn(argc - 2, argv + 2);
	}
	fprintf(stderr, "hx: unknown command '%s%s%s'\n", hx_esc(argv[1]), argc >= 3 ? " " : "",
	        argc >= 3 ? hx_esc(argv[2]) : "");
	usage(stderr);
	return HX_EXIT_USAGE;
}
