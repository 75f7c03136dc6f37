/* make bench, sandboxed calls through the C library (hx_sandbox.h): what a
 * firmware call costs in the sandbox against calling the same function
 * directly, what one exit inside a call adds, and what a reset from the
 * dirty log costs. Prints one JSON object.
 *
 *   hx-bench-call CONFIG.json HOSTILE.elf RUNTIME_SERVICES.elf
 *
 * - direct: add() of harness/guest/firmware/hostile.c, the same source
 *   line compiled into this program, called through a volatile pointer;
 * - sandboxed: add(1..8) of fw_hostile.elf by hx_sandbox_call (the stub,
 *   the arguments, KVM_RUN, the CALL_RETURN exit through the core and its
 *   oracles; no trace, unlike hx call);
 * - per exit: get_time(time, NULL), 18 port-I/O exits to the RTC, against
 *   get_time(NULL, buffer), which returns at once with the same buffer;
 * - reset: hx_sandbox_reset after a set_variable call.
 * Each figure is the median of 5 batches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx_sandbox.h"

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

__attribute__((noinline)) static uint64_t add(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                              uint64_t e, uint64_t f, uint64_t g, uint64_t h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median5(double *v)
{
	qsort(v, 5, sizeof(double), cmp_d);
	return v[2];
}

static void die(const char *what, const struct hx_result *r)
{
	fprintf(stderr, "hx-bench-call: %s: %s\n", what, r ? r->why : "");
	exit(1);
}

/* ns per call of symbol with args, n calls a batch. */
static double per_call(struct hx_sandbox *sb, const char *sym, enum hx_abi abi,
                       const struct hx_arg *a, unsigned na, int n)
{
	double v[5];
	for (int b = 0; b < 5; b++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < n; i++) {
			struct hx_result r;
			if (hx_sandbox_call(sb, sym, abi, a, na, &r) != 0 ||
			    r.end != HX_CALL_RETURNED)
				die(sym, &r);
		}
		v[b] = (double)(now_ns() - t0) / n;
	}
	return median5(v);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
		        "usage: hx-bench-call CONFIG.json HOSTILE.elf RUNTIME_SERVICES.elf\n");
		return 2;
	}
	char err[512];
	struct hx_sandbox_opts o = {.timeout_s = 10, .quiet = true};

	uint64_t (*volatile fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
	                        uint64_t, uint64_t) = add;
	double dv[5];
	uint64_t sink = 0;
	for (int b = 0; b < 5; b++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < 10000000; i++)
			sink += fn((uint64_t)i, 2, 3, 4, 5, 6, 7, 8);
		dv[b] = (double)(now_ns() - t0) / 10000000.0;
	}
	double direct = median5(dv);

	struct hx_sandbox *h = hx_sandbox_open(argv[1], argv[2], &o, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "hx-bench-call: %s\n", err);
		return 1;
	}
	struct hx_arg eight[8];
	for (int i = 0; i < 8; i++)
		eight[i] = hx_int((uint64_t)i + 1);
	double sandboxed = per_call(h, "add", HX_ABI_SYSV, eight, 8, 2000);
	hx_sandbox_close(h);

	struct hx_sandbox *rt = hx_sandbox_open(argv[1], argv[3], &o, err, sizeof(err));
	if (!rt) {
		fprintf(stderr, "hx-bench-call: %s\n", err);
		return 1;
	}
	uint8_t t[16];
	struct hx_arg with_exits[] = {hx_out(t, sizeof(t)), hx_int(0)};
	struct hx_arg without[] = {hx_int(0), hx_out(t, sizeof(t))};
	double get_time = per_call(rt, "get_time", HX_ABI_MS, with_exits, 2, 500);
	double no_exits = per_call(rt, "get_time", HX_ABI_MS, without, 2, 500);
	struct hx_result r;
	if (hx_sandbox_call(rt, "get_time", HX_ABI_MS, with_exits, 2, &r) != 0)
		die("get_time", &r);
	uint64_t exits = r.exits;

	static const uint16_t name[] = u"BenchVar";
	static const uint8_t guid[16] = {1};
	uint8_t data[64] = {7};
	struct hx_arg set[] = {hx_in(name, sizeof(name)), hx_in(guid, sizeof(guid)), hx_int(7),
	                       hx_int(sizeof(data)), hx_in(data, sizeof(data))};
	double rv[5];
	struct hx_sandbox_stats st0, st1;
	hx_sandbox_get_stats(rt, &st0);
	for (int b = 0; b < 5; b++) {
		uint64_t spent = 0;
		for (int i = 0; i < 500; i++) {
			if (hx_sandbox_call(rt, "set_variable", HX_ABI_MS, set, 5, &r) != 0 ||
			    r.end != HX_CALL_RETURNED)
				die("set_variable", &r);
			uint64_t t0 = now_ns();
			hx_sandbox_reset(rt);
			spent += now_ns() - t0;
		}
		rv[b] = (double)spent / 500;
	}
	hx_sandbox_get_stats(rt, &st1);
	uint64_t nres = st1.resets - st0.resets;
	double reset = median5(rv);
	hx_sandbox_close(rt);

	printf("{\"available\": true, \"direct_ns\": %.2f, \"library_call_ns\": %.0f, "
	       "\"get_time_ns\": %.0f, \"get_time_no_exit_ns\": %.0f, \"get_time_exits\": %" PRIu64
	       ", \"per_exit_ns\": %.0f, \"reset_ns\": %.0f, \"reset_pages\": %.1f, "
	       "\"sink\": %" PRIu64 "}\n",
	       direct, sandboxed, get_time, no_exits, exits,
	       exits > 1 ? (get_time - no_exits) / (double)(exits - 1) : 0.0, reset,
	       nres ? (double)(st1.guest_pages + st1.host_pages - st0.guest_pages -
	                       st0.host_pages) /
	                       (double)nres
	            : 0.0,
	       sink & 1);
	return 0;
}
