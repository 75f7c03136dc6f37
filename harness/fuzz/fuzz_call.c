/* Firmware in the sandbox, fuzzed: each input is a short sequence of
 * calls into the runtime-services image (harness/guest/firmware), with the
 * arguments and buffer contents an OS could pass, made through the sandbox
 * library (harness/sandbox/hx_sandbox.h) on /dev/kvm under the production
 * handlers and the oracles. The sandbox is opened once per process and
 * reset between inputs from KVM's dirty-page log, not rebuilt.
 *
 * Input: up to 4 calls, each an operation byte and its fields:
 *   0 get_time          flags (1: time NULL, 2: capabilities buffer)
 *   1 get_next_monotonic_count       flags (1: NULL)
 *   2 get_next_high_monotonic_count  flags (1: NULL)
 *   3 set_variable      name, guid, attrs u32, length u16 % 320, data,
 *                       flags (1: data NULL)
 *   4 get_variable      name, guid, flags (1: attrs NULL, 2: size NULL,
 *                       4: data NULL), buffer length u16 % 320
 *   name: a length byte % 40, then UCS-2 characters u16 each, NUL-ended
 *         unless the length is 39; guid: a byte < 128 the global GUID,
 *         < 192 another, else 16 bytes.
 * The caller is honest, as an OS is: a size argument is the length of the
 * buffer it describes. So a write outside a buffer is the firmware's.
 *
 * Oracles: every call returns or faults within its budget (CALL-END), no
 * isolation invariant breaks (the runner's oracles; ISOLATION), nothing
 * is written outside a buffer (BUF-BOUNDS), no control register is left
 * changed (CR-GUARD); with HX_FUZZ_CALL_CHECK=1 the
 * sandbox after each reset equals its state after loading (RESET-EQ);
 * HX_FUZZ_CALL_PLANT_LEAK=1 makes each reset skip one page the guest
 * wrote, the leak RESET-EQ must catch (the gate's negative control).
 *
 * HX_FUZZ_CALL_IMAGE and HX_FUZZ_CALL_CONFIG choose the image (ELF or
 * PE32+; default: the ELF of the build) and the config (default:
 * corpus/configs/sandbox.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fz.h"
#include "hx_sandbox.h"

#ifndef HX_FUZZ_CALL_DEFAULT_IMAGE
#define HX_FUZZ_CALL_DEFAULT_IMAGE "build/harness/guest/fw_runtime_services.elf"
#endif
#ifndef HX_FUZZ_CALL_DEFAULT_CONFIG
#define HX_FUZZ_CALL_DEFAULT_CONFIG "corpus/configs/sandbox.json"
#endif

#define MAX_CALLS 4
#define MAX_DATA 320
#define NAME_CHARS 40

static struct hx_sandbox *sb;
static bool check_reset, plant_leak;
static const char *image, *config;

static const uint8_t guid_global[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                        0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t guid_other[16] = {0x03, 0x5c, 0x61, 0xd7, 0x9e, 0x70, 0x4b, 0x4e,
                                       0x8c, 0x1a, 0x58, 0x4c, 0xa0, 0x4e, 0x7f, 0x42};

/* Buffers of one call; the sandbox copies them in and back. */
struct call_bufs {
	uint16_t name[NAME_CHARS];
	uint8_t guid[16];
	uint8_t data[MAX_DATA];
	uint8_t out[MAX_DATA];
	uint64_t size;
	uint32_t attrs;
	uint8_t time[16], caps[24];
	uint64_t count;
};

static void open_sandbox(void)
{
	image = getenv("HX_FUZZ_CALL_IMAGE");
	config = getenv("HX_FUZZ_CALL_CONFIG");
	if (!image || !*image)
		image = HX_FUZZ_CALL_DEFAULT_IMAGE;
	if (!config || !*config)
		config = HX_FUZZ_CALL_DEFAULT_CONFIG;
	const char *c = getenv("HX_FUZZ_CALL_CHECK");
	check_reset = c && !strcmp(c, "1");
	c = getenv("HX_FUZZ_CALL_PLANT_LEAK");
	plant_leak = c && !strcmp(c, "1");
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		fprintf(stderr,
		        "fuzz_call: /dev/kvm is not usable: this target runs firmware on KVM\n");
		exit(2);
	}
	char err[512];
	struct hx_sandbox_opts o = {.timeout_s = 2, .max_exits = 20000, .quiet = true};
	sb = hx_sandbox_open(config, image, &o, err, sizeof(err));
	if (!sb) {
		fprintf(stderr,
		        "fuzz_call: cannot open the sandbox (%s, %s): %s\n"
		        "  (build the image: cmake --build build --target guests; or set "
		        "HX_FUZZ_CALL_IMAGE and HX_FUZZ_CALL_CONFIG)\n",
		        config, image, err);
		exit(2);
	}
}

static void draw_name(struct fz *f, struct call_bufs *b, struct hx_arg *a)
{
	uint32_t n = fz_u8(f) % NAME_CHARS;
	for (uint32_t i = 0; i < n; i++)
		b->name[i] = fz_u16(f);
	uint32_t len = n;
	if (n < NAME_CHARS - 1)
		b->name[len++] = 0;
	*a = len ? hx_in(b->name, len * 2) : hx_int(0);
}

static void draw_guid(struct fz *f, struct call_bufs *b, struct hx_arg *a)
{
	uint8_t g = fz_u8(f);
	if (g < 128)
		memcpy(b->guid, guid_global, 16);
	else if (g < 192)
		memcpy(b->guid, guid_other, 16);
	else
		fz_bytes(f, b->guid, 16);
	*a = hx_in(b->guid, 16);
}

static const char *const names[] = {"get_time", "get_next_monotonic_count",
                                    "get_next_high_monotonic_count", "set_variable",
                                    "get_variable"};

/* One call drawn from the input; returns its argument count. */
static unsigned draw_call(struct fz *f, struct call_bufs *b, struct hx_arg *a, uint32_t *op)
{
	*op = fz_u8(f) % 5;
	uint8_t flags;
	switch (*op) {
	case 0:
		flags = fz_u8(f);
		a[0] = flags & 1 ? hx_int(0) : hx_out(b->time, sizeof(b->time));
		a[1] = flags & 2 ? hx_out(b->caps, sizeof(b->caps)) : hx_int(0);
		return 2;
	case 1:
		a[0] = fz_u8(f) & 1 ? hx_int(0) : hx_out(&b->count, 8);
		return 1;
	case 2:
		a[0] = fz_u8(f) & 1 ? hx_int(0) : hx_out(&b->count, 4);
		return 1;
	case 3: {
		draw_name(f, b, &a[0]);
		draw_guid(f, b, &a[1]);
		a[2] = hx_int(fz_u32(f));
		uint32_t len = fz_u16(f) % MAX_DATA;
		fz_bytes(f, b->data, len);
		a[3] = hx_int(len);
		flags = fz_u8(f);
		a[4] = (flags & 1) || len == 0 ? hx_int(0) : hx_in(b->data, len);
		return 5;
	}
	default: {
		draw_name(f, b, &a[0]);
		draw_guid(f, b, &a[1]);
		flags = fz_u8(f);
		uint32_t len = fz_u16(f) % MAX_DATA;
		b->size = len;
		a[2] = flags & 1 ? hx_int(0) : hx_out(&b->attrs, sizeof(b->attrs));
		a[3] = flags & 2 ? hx_int(0) : hx_inout(&b->size, sizeof(b->size));
		a[4] = (flags & 4) || len == 0 ? hx_int(0) : hx_out(b->out, len);
		return 5;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Opened here, not in LLVMFuzzerInitialize: a KVM VM belongs to the
	 * process that made it, and AFL++'s fork server forks after that. */
	if (!sb)
		open_sandbox();
	struct fz f;
	fz_init(&f, data, size);
	for (int k = 0; k < MAX_CALLS && f.n > 0; k++) {
		struct call_bufs b;
		memset(&b, 0, sizeof(b));
		struct hx_arg a[5];
		uint32_t op;
		unsigned n = draw_call(&f, &b, a, &op);
		struct hx_result r;
		int rc = hx_sandbox_call(sb, names[op], HX_ABI_MS, a, n, &r);
		FZ_CHECK(rc == 0, "CALL-END", "call %d (%s) could not be made: %s", k, names[op],
		         r.why);
		FZ_CHECK(r.end == HX_CALL_RETURNED || r.end == HX_CALL_FAULTED, "CALL-END",
		         "call %d (%s) neither returned nor faulted: %s", k, names[op], r.why);
		FZ_CHECK(r.violations == 0, "ISOLATION",
		         "call %d (%s): %llu isolation invariant(s) broken (the runner's oracles)",
		         k, names[op], (unsigned long long)r.violations);
		FZ_CHECK(!r.cr_changed, "CR-GUARD",
		         "call %d (%s) left CR0 0x%llx CR4 0x%llx EFER 0x%llx", k, names[op],
		         (unsigned long long)r.cr0, (unsigned long long)r.cr4,
		         (unsigned long long)r.efer);
		FZ_CHECK(r.overrun == 0, "BUF-BOUNDS",
		         "call %d (%s) wrote outside its buffer argument(s) (mask 0x%x)", k,
		         names[op], r.overrun);
		if (op == 4 && r.end == HX_CALL_RETURNED && r.value == 0 &&
		    a[3].kind != HX_ARG_INT) {
			size_t data_len = a[4].kind == HX_ARG_INT ? 0 : a[4].len;
			FZ_CHECK(b.size <= data_len, "BUF-BOUNDS",
			         "get_variable succeeded with a size of %llu for a %zu-byte buffer",
			         (unsigned long long)b.size, data_len);
		}
	}
#ifdef HX_SANDBOX_TESTING
	if (plant_leak)
		hx_sandbox_plant_reset_leak(sb);
#endif
	hx_sandbox_reset(sb);
	if (check_reset) {
		char why[512];
		FZ_CHECK(hx_sandbox_check_reset(sb, why, sizeof(why)) == 0, "RESET-EQ", "%s", why);
	}
	return 0;
}
