/* Subcommands of the hx tool. Each returns the process exit code:
 * 0 success, 1 a test/invariant failure, 2 bad input or usage. */
#ifndef HX_CLI_H
#define HX_CLI_H

#define HX_EXIT_OK 0
#define HX_EXIT_FAIL 1
#define HX_EXIT_USAGE 2

/* argv[0] is the subcommand's own name ("check", "dump", "run", ...). */
int hx_cmd_config_check(int argc, char **argv);
int hx_cmd_ept_dump(int argc, char **argv);
int hx_cmd_run(int argc, char **argv);
int hx_cmd_boot(int argc, char **argv);
int hx_cmd_call(int argc, char **argv);
int hx_cmd_trace_dump(int argc, char **argv);
int hx_cmd_replay(int argc, char **argv);
int hx_cmd_minimize(int argc, char **argv);
int hx_cmd_buildeq(int argc, char **argv);

#endif
