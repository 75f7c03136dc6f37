/* The booted hypervisor's event stream as hx boot reads it (hv/boot.h,
 * harness/boot/events.c) and its REAL-EQ records (harness/equiv/realeq):
 * bytes that come from a program under test, so every frame, length,
 * index and record must be checked before it is used.
 *
 * The input is the stream itself (seeds are real streams of the booted
 * image). Each input is fed twice to a fresh parser, once whole and once
 * in chunks whose sizes the input's own bytes choose; every RECORD frame
 * is also decoded and appended to an in-memory trace.
 *
 * Invariants: no crash, overflow or undefined behaviour (ASan+UBSan);
 * CHUNK-EQ: a stream cut into pieces gives the parser's verdict and the
 * report it gives whole (a parser that keeps state across reads must not
 * depend on where the reads end). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_runner.h"
#include "config_json.h"
#include "fz.h"
#include "realeq.h"
#include "trace.h"

/* Two partitions sharing a channel, AMD: indices 0 and 1 are valid, 2 is
 * not (the stream names partitions by index). */
static const char config_text[] =
        "{\"vendor\": \"amd\", \"host_memory\": \"64M\","
        " \"hypervisor\": {\"base\": \"0x0\", \"size\": \"16M\"},"
        " \"channels\": [{\"name\": \"link\", \"hpa\": \"32M\", \"size\": \"64K\"}],"
        " \"partitions\": ["
        "  {\"name\": \"alpha\", \"regions\": [{\"type\": \"ram\", \"gpa\": \"0x0\","
        "   \"hpa\": \"16M\", \"size\": \"4M\"}],"
        "   \"channels\": [{\"name\": \"link\", \"gpa\": \"0x30000000\", \"perm\": \"rw\"}]},"
        "  {\"name\": \"beta\", \"regions\": [{\"type\": \"ram\", \"gpa\": \"0x0\","
        "   \"hpa\": \"24M\", \"size\": \"4M\"}],"
        "   \"channels\": [{\"name\": \"link\", \"gpa\": \"0x30000000\", \"perm\": \"r\"}]}]}";

static struct hv_system_config *cfg;
static struct hxb_options opt;
static struct hxk_report *rep_whole, *rep_chunks;
static struct hx_realeq_exit rec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = calloc(1, sizeof(*cfg));
	rep_whole = calloc(1, sizeof(*rep_whole));
	rep_chunks = calloc(1, sizeof(*rep_chunks));
	struct hx_config_error err;
	if (!cfg || !rep_whole || !rep_chunks ||
	    hx_config_parse("bootev", config_text, sizeof(config_text) - 1, cfg, &err) !=
	            HX_CONFIG_OK) {
		fprintf(stderr, "fuzz_bootev: fixture: %s\n", cfg ? err.msg : "out of memory");
		abort();
	}
	hxk_options_default(&opt.run);
	opt.run.out = fopen("/dev/null", "w");
	opt.run.quiet = false; /* print console and PRINT lines: the escaping runs */
	return 0;
}

static void reset_report(struct hxk_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->npartitions = cfg->npartitions;
	for (uint32_t p = 0; p < cfg->npartitions; p++)
		rep->parts[p].outcome = HXK_OUT_RUNNING;
}

/* Feed data in pieces; returns the parser's verdict (0 or -1). */
static int feed(const uint8_t *data, size_t size, const uint8_t *cuts, size_t ncuts,
                struct hxk_report *rep, char *fatal, size_t fatal_len)
{
	reset_report(rep);
	struct hxb_events *ev = hxb_events_new(cfg, &opt, rep);
	if (!ev)
		abort();
	struct hxk_err err;
	int r = 0;
	size_t off = 0, k = 0;
	while (off < size && r == 0) {
		size_t n = size - off;
		if (ncuts) {
			size_t want = 1 + cuts[k++ % ncuts];
			if (want < n)
				n = want;
		}
		r = hxb_events_feed(ev, data + off, n, 1.0, &err);
		off += n;
	}
	const char *f = hxb_events_fatal(ev);
	snprintf(fatal, fatal_len, "%s", f ? f : "");
	if (r == 0)
		hxb_events_finish(ev, false, 2.0);
	hxb_events_free(ev);
	return r;
}

/* Every well-formed RECORD frame into an in-memory trace. */
static void records(const uint8_t *data, size_t size)
{
	struct hx_trace_meta meta = {.cfg = cfg, .pool_hpa = 16ull << 20, .pool_pages = 16};
	struct hx_trace *t = hx_trace_new(&meta);
	if (!t)
		abort();
	size_t off = 0;
	while (size - off >= sizeof(struct hv_ev_header)) {
		struct hv_ev_header h;
		memcpy(&h, data + off, sizeof(h));
		off += sizeof(h);
		if (h.magic != HV_BOOT_FRAME_MAGIC || h.len > size - off)
			break;
		if (h.type == HV_EV_RECORD && hx_realeq_decode(data + off, h.len, &rec) == 0)
			(void)hx_trace_append(t, &rec.in, &rec.log, &rec.res, &rec.out);
		off += h.len;
	}
	hx_trace_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char fatal_whole[4 * HV_BOOT_EVENT_MAX + 4], fatal_chunks[4 * HV_BOOT_EVENT_MAX + 4];
	/* The chunk sizes come from the stream's last bytes, so the same
	 * input is cut the same way every time. */
	size_t ncuts = size < 16 ? size : 16;
	const uint8_t *cuts = data + size - ncuts;
	int a = feed(data, size, NULL, 0, rep_whole, fatal_whole, sizeof(fatal_whole));
	int b = feed(data, size, cuts, ncuts, rep_chunks, fatal_chunks, sizeof(fatal_chunks));
	FZ_CHECK(a == b, "CHUNK-EQ", "the stream is %s whole but %s in chunks",
	         a ? "refused" : "accepted", b ? "refused" : "accepted");
	FZ_CHECK(strcmp(fatal_whole, fatal_chunks) == 0, "CHUNK-EQ", "FATAL text differs");
	FZ_CHECK(rep_whole->total_exits == rep_chunks->total_exits &&
	                 rep_whole->nviolations == rep_chunks->nviolations &&
	                 rep_whole->total_checks == rep_chunks->total_checks,
	         "CHUNK-EQ", "counts differ: exits %llu/%llu, violations %llu/%llu",
	         (unsigned long long)rep_whole->total_exits,
	         (unsigned long long)rep_chunks->total_exits,
	         (unsigned long long)rep_whole->nviolations,
	         (unsigned long long)rep_chunks->nviolations);
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hxk_part_report *x = &rep_whole->parts[p], *y = &rep_chunks->parts[p];
		FZ_CHECK(x->outcome == y->outcome && x->halt_reason == y->halt_reason &&
		                 x->exits == y->exits &&
		                 memcmp(x->by_kind, y->by_kind, sizeof(x->by_kind)) == 0 &&
		                 strcmp(x->detail, y->detail) == 0,
		         "CHUNK-EQ", "partition %u: outcome %s/%s, exits %llu/%llu", p,
		         hxk_outcome_str(x->outcome), hxk_outcome_str(y->outcome),
		         (unsigned long long)x->exits, (unsigned long long)y->exits);
	}
	records(data, size);
	return 0;
}
