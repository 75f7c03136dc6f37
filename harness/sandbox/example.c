/* hx-sandbox-example: the sandbox library used as a program would use it
 * (hx_sandbox.h), on the runtime-services and hostile images. Prints one
 * line per call; ci/call-tests.sh checks them, with the runtime-services
 * image as ELF and as PE32+ (the same function names in both).
 *
 *   hx-sandbox-example CONFIG.json RUNTIME_SERVICES.elf|.efi HOSTILE.elf */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hx_sandbox.h"

static void show(const char *what, int rc, const struct hx_result *r)
{
	if (rc != 0)
		printf("%s: refused: %s\n", what, r->why);
	else if (r->end == HX_CALL_RETURNED)
		printf("%s: returned 0x%" PRIx64 " (%" PRIu64 " exits)\n", what, r->value,
		       r->exits);
	else if (r->end == HX_CALL_FAULTED)
		printf("%s: faulted: vector %" PRIu64 " error 0x%" PRIx64 " rip 0x%" PRIx64 "\n",
		       what, r->vector, r->error, r->rip);
	else
		printf("%s: failed: %s\n", what, r->why);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
		        "usage: hx-sandbox-example CONFIG.json RUNTIME_SERVICES.elf HOSTILE.elf\n");
		return 2;
	}
	char err[512];
	struct hx_sandbox_opts o = {.timeout_s = 5, .quiet = true};
	struct hx_sandbox *rt = hx_sandbox_open(argv[1], argv[2], &o, err, sizeof(err));
	if (!rt) {
		fprintf(stderr, "open: %s\n", err);
		return 2;
	}
	struct hx_result r;
	uint8_t t[16];
	struct hx_arg time_args[] = {hx_out(t, sizeof(t)), hx_int(0)};
	show("get_time", hx_sandbox_call(rt, "get_time", HX_ABI_MS, time_args, 2, &r), &r);
	printf("time: %u-%02u-%02u %02u:%02u:%02u\n", t[0] | t[1] << 8, t[2], t[3], t[4], t[5],
	       t[6]);

	/* UEFI variables are named by a UCS-2 name and a vendor GUID (here
	 * EFI_GLOBAL_VARIABLE, UEFI spec 3.3). */
	static const uint16_t name[] = u"BootOrder";
	static const uint8_t guid[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
	                                 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
	uint8_t value[4] = {1, 0, 2, 0};
	struct hx_arg set[] = {hx_in(name, sizeof(name)), hx_in(guid, sizeof(guid)), hx_int(7),
	                       hx_int(sizeof(value)), hx_in(value, sizeof(value))};
	show("set_variable", hx_sandbox_call(rt, "set_variable", HX_ABI_MS, set, 5, &r), &r);
	uint32_t attrs = 0;
	uint64_t size = 8;
	uint8_t got[8] = {0};
	struct hx_arg get[] = {hx_in(name, sizeof(name)), hx_in(guid, sizeof(guid)),
	                       hx_out(&attrs, sizeof(attrs)), hx_inout(&size, sizeof(size)),
	                       hx_out(got, sizeof(got))};
	show("get_variable", hx_sandbox_call(rt, "get_variable", HX_ABI_MS, get, 5, &r), &r);
	printf("variable: attrs %u size %" PRIu64 " data %02x %02x %02x %02x\n", attrs, size,
	       got[0], got[1], got[2], got[3]);
	uint64_t count = 0;
	struct hx_arg mono[] = {hx_out(&count, sizeof(count))};
	for (int i = 0; i < 3; i++)
		hx_sandbox_call(rt, "get_next_monotonic_count", HX_ABI_MS, mono, 1, &r);
	printf("monotonic after three calls: %" PRIu64 "\n", count);
	hx_sandbox_reset(rt);
	size = 8;
	show("get_variable after reset", hx_sandbox_call(rt, "get_variable", HX_ABI_MS, get, 5, &r),
	     &r);
	show("no such function", hx_sandbox_call(rt, "no_such_function", HX_ABI_MS, NULL, 0, &r),
	     &r);
	hx_sandbox_close(rt);

	o.timeout_s = 1; /* spin() below never returns */
	struct hx_sandbox *h = hx_sandbox_open(argv[1], argv[3], &o, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "open: %s\n", err);
		return 2;
	}
	struct hx_arg zero[] = {hx_int(0)};
	show("divide_by_zero", hx_sandbox_call(h, "divide_by_zero", HX_ABI_SYSV, zero, 1, &r), &r);
	struct hx_arg eight[] = {hx_int(1), hx_int(2), hx_int(3), hx_int(4),
	                         hx_int(5), hx_int(6), hx_int(7), hx_int(8)};
	show("add after the fault", hx_sandbox_call(h, "add", HX_ABI_SYSV, eight, 8, &r), &r);
	show("spin", hx_sandbox_call(h, "spin", HX_ABI_SYSV, NULL, 0, &r), &r);
	show("add after the timeout", hx_sandbox_call(h, "add", HX_ABI_SYSV, eight, 8, &r), &r);
	hx_sandbox_close(h);
	return 0;
}
