/* hx call: one function of a firmware image, run in a sandbox partition on
 * KVM (harness/kvm/call.h), with the result or the fault it took, and a
 * report of everything privileged it tried, read from the trace of the
 * call's exits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "cli.h"
#include "cli_args.h"
#include "config_json.h"
#include "escape.h"
#include "hv/guest_abi.h"
#include "input_file.h"
#include "runner.h"
#include "trace.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: hx call CONFIG.json IMAGE SYMBOL [options] [ARG...]\n"
	        "               [--then SYMBOL [ARG...]] [--reset-then SYMBOL [ARG...]]...\n"
	        "  Calls SYMBOL (a function of IMAGE, or an address 0x...) in partition 0 of\n"
	        "  CONFIG on KVM, under the production handlers: the sandbox's stub calls it\n"
	        "  and catches its exceptions; the call ends when it returns or faults.\n"
	        "IMAGE: a static ELF64 or a PE32+ image. An EFI image (a PE32+ application or\n"
	        "  driver) is first started as UEFI starts it, its entry point given a system\n"
	        "  table; SYMBOL may then name a runtime service it installed (GetTime, ...)\n"
	        "ARG: an integer (decimal or 0x hex), @FILE (an in-buffer: its bytes are copied\n"
	        "  into the sandbox and their address passed), out:LEN (an out-buffer of LEN\n"
	        "  bytes, zeroed; its address is passed and its bytes printed after the call),\n"
	        "  or inout:FILE (copied in, and printed after the call)\n"
	        "options:\n"
	        "  --abi sysv|ms      calling convention (default sysv; ms is EFI's)\n"
	        "  --timeout S        wall-clock limit of each call (default 10)\n"
	        "  --max-exits N      exit budget (default 1000000)\n"
	        "  -o FILE            write the first out-buffer to FILE instead of printing it\n"
	        "  --then SYMBOL      then another call on the same sandbox, up to 256 calls (the "
	        "image keeps its\n"
	        "                     state: variables set by one call are there for the next)\n"
	        "  --reset-then SYMBOL  the same, after the sandbox is back to its state after\n"
	        "                     loading\n"
	        "  --quiet            no console output of the call\n"
	        "exit status: 0 the call returned, 1 it faulted, hit a violation or ran out of\n"
	        "time, 2 bad input\n");
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "hx call: ");
	fprintf(stderr, fmt, hx_esc(arg));
	fprintf(stderr, "\n(see hx call --help)\n");
	return HX_EXIT_USAGE;
}

#define MAX_CALLS 256

struct call_args {
	const char *config, *image, *out_file;
	const char *symbol[MAX_CALLS];
	struct hxk_call call[MAX_CALLS];
	uint32_t ncalls;
	struct hxk_options opt;
	enum hxk_abi opt_abi;
};

static int parse_arg(struct call_args *a, const char *s)
{
	struct hxk_call *c = &a->call[a->ncalls - 1];
	if (c->nargs == HXK_CALL_MAX_ARGS)
		return bad("too many arguments (at most 16): %s", s);
	uint64_t v;
	bool inout = !strncmp(s, "inout:", 6);
	if (s[0] == '@' || inout) {
		const char *path = inout ? s + 6 : s + 1;
		if (c->nbufs == HXK_CALL_MAX_BUFS)
			return bad("too many buffers (at most 8): %s", s);
		struct hxk_call_buf *b = &c->bufs[c->nbufs];
		size_t len;
		char why[HX_INPUT_ERR_LEN];
		if (hx_read_file(path, HXK_CALL_MAX_BUF, &b->data, &len, why, sizeof(why)) != 0) {
			fprintf(stderr, "hx call: %s: %s\n", hx_esc(path), why);
			return HX_EXIT_USAGE;
		}
		if (len == 0) {
			free(b->data);
			b->data = NULL;
			return bad("%s: an empty buffer", path);
		}
		b->len = len;
		b->in = true;
		b->out = inout;
		b->arg = c->nargs++;
		c->nbufs++;
		return 0;
	}
	if (!strncmp(s, "out:", 4)) {
		if (c->nbufs == HXK_CALL_MAX_BUFS)
			return bad("too many buffers (at most 8): %s", s);
		if (!hx_arg_uint(s + 4, HXK_CALL_MAX_BUF, &v) || v == 0)
			return bad("%s: out:LEN needs a length of 1 to 1048576 bytes", s);
		struct hxk_call_buf *b = &c->bufs[c->nbufs++];
		b->data = calloc(1, v);
		if (!b->data)
			return bad("out of memory for %s", s);
		b->len = v;
		b->out = true;
		b->arg = c->nargs++;
		return 0;
	}
	if (!hx_arg_uint(s, UINT64_MAX, &v))
		return bad("argument %s is not an integer, @FILE, out:LEN or inout:FILE", s);
	c->args[c->nargs++] = v;
	return 0;
}

static int parse(int argc, char **argv, struct call_args *a)
{
	hxk_options_default(&a->opt);
	bool seen_abi = false, seen_timeout = false, seen_exits = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(o, "--quiet") || !strcmp(o, "-q")) {
			a->opt.quiet = true;
		} else if ((!strcmp(o, "--abi") || !strcmp(o, "--timeout") ||
		            !strcmp(o, "--max-exits") || !strcmp(o, "-o") || !strcmp(o, "--then") ||
		            !strcmp(o, "--reset-then")) &&
		           !val) {
			return bad("option %s needs a value", o);
		} else if (!strcmp(o, "--then") || !strcmp(o, "--reset-then")) {
			if (!a->ncalls)
				return bad("%s: the first call's SYMBOL comes first", o);
			if (a->ncalls == MAX_CALLS)
				return bad("%s: at most 256 calls", o);
			a->call[a->ncalls].reset = !strcmp(o, "--reset-then");
			a->symbol[a->ncalls++] = val;
			i++;
		} else if (!strcmp(o, "--abi")) {
			if (seen_abi)
				return bad("option %s is given twice", o);
			seen_abi = true;
			if (!strcmp(val, "sysv"))
				a->opt_abi = HXK_ABI_SYSV;
			else if (!strcmp(val, "ms"))
				a->opt_abi = HXK_ABI_MS;
			else
				return bad("--abi %s: expected sysv or ms", val);
			i++;
		} else if (!strcmp(o, "--timeout")) {
			char *end;
			errno = 0;
			double t = strtod(val, &end);
			if (seen_timeout || errno || *end || !(t > 0) || t > 86400)
				return bad("--timeout %s: expected seconds, > 0 and at most 86400, "
				           "once",
				           val);
			seen_timeout = true;
			a->opt.timeout_s = t;
			i++;
		} else if (!strcmp(o, "--max-exits")) {
			if (seen_exits || !hx_arg_uint(val, UINT64_MAX, &n) || n == 0)
				return bad("--max-exits %s: expected a positive count, once", val);
			seen_exits = true;
			a->opt.max_exits = n;
			i++;
		} else if (!strcmp(o, "-o")) {
			if (a->out_file || !*val)
				return bad("-o %s: one non-empty file name", val);
			a->out_file = val;
			i++;
		} else if (o[0] == '-' && o[1] == '-') {
			return bad("unknown option %s", o);
		} else if (!a->config) {
			a->config = o;
		} else if (!a->image) {
			a->image = o;
		} else if (!a->ncalls) {
			a->symbol[a->ncalls++] = o;
		} else {
			int r = parse_arg(a, o);
			if (r)
				return r;
		}
	}
	if (!a->config || !a->image || !a->ncalls)
		return bad("%s", "missing CONFIG.json, IMAGE or SYMBOL");
	bool any_out = false;
	for (uint32_t k = 0; k < a->ncalls; k++) {
		struct hxk_call *c = &a->call[k];
		c->abi = a->opt_abi;
		if (!strncmp(a->symbol[k], "0x", 2)) {
			if (!hx_arg_uint(a->symbol[k], UINT64_MAX, &c->address))
				return bad("%s: not an address", a->symbol[k]);
		} else {
			c->symbol = a->symbol[k];
		}
		for (uint32_t i = 0; i < c->nbufs; i++)
			any_out |= c->bufs[i].out;
	}
	if (a->out_file && !any_out)
		return bad("-o %s: there is no out:LEN argument", a->out_file);
	return 0;
}

static const char *vector_name(uint64_t v)
{
	static const char *const names[32] = {
	        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "",    "#TS",
	        "#NP", "#SS", "#GP", "#PF", "",    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
	return v < 32 && names[v] && names[v][0] ? names[v] : "?";
}

/* Everything privileged the call tried, exit by exit, from its trace. */
/* Report lines of one call, each different one printed once, in the order
 * it first happened, with how often (a GetTime is nine alike index writes
 * and nine alike data reads of the RTC). */
#define LINES_MAX 64

struct lines {
	char text[LINES_MAX][200];
	uint32_t count[LINES_MAX];
	uint32_t n;
	uint64_t dropped; /* lines beyond LINES_MAX different ones */
};

static void flush(struct lines *L)
{
	for (uint32_t i = 0; i < L->n; i++) {
		if (L->count[i] == 1)
			printf("%s\n", L->text[i]);
		else
			printf("%s (x%u)\n", L->text[i], L->count[i]);
	}
	if (L->dropped)
		printf("  ... and %llu more of other kinds\n", (unsigned long long)L->dropped);
	L->n = 0;
	L->dropped = 0;
}

static void emit(struct lines *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct lines *L, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\n")] = 0;
	/* The end of a call closes its group. */
	if (!strncmp(buf, "  -- end of ", 12)) {
		flush(L);
		printf("%s\n", buf);
		return;
	}
	for (uint32_t i = 0; i < L->n; i++) {
		if (!strcmp(L->text[i], buf)) {
			L->count[i]++;
			return;
		}
	}
	if (L->n == LINES_MAX) {
		L->dropped++;
		return;
	}
	snprintf(L->text[L->n], sizeof(L->text[0]), "%s", buf);
	L->count[L->n++] = 1;
}

/* The trace holds the ends of the calls in order, an EFI image's start
 * (efi_start.h) before the call it preceded. */
static void end_label(const struct call_args *a, uint32_t end, char *out, size_t cap)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < a->ncalls; k++) {
		if (a->call[k].efi_started && n++ == end) {
			snprintf(out, cap, "the image's EFI entry point");
			return;
		}
		if (n++ == end) {
			snprintf(out, cap, "call %u", k + 1);
			return;
		}
	}
	snprintf(out, cap, "call %u", end + 1);
}

static void report_privileged(const struct call_args *a, const char *path)
{
	uint32_t calls_seen = 0;
	struct hx_trace *t;
	struct hx_trace_error err;
	if (hx_trace_load(path, &t, &err) != 0) {
		printf("privileged: (the trace of the call could not be read: %s)\n", err.msg);
		return;
	}
	printf("privileged: %u exit%s\n", t->nexits, t->nexits == 1 ? "" : "s");
	static struct lines L;
	L.n = 0;
	L.dropped = 0;
	for (uint32_t i = 0; i < t->nexits; i++) {
		const struct hx_trace_exit *e = &t->exits[i];
		const struct hv_exit *in = &e->in;
		bool outs = e->flags & HX_TREC_OUTPUTS;
		const char *verdict = !outs                            ? "?"
		                      : e->res.action == HV_ACT_RESUME ? "allowed"
		                      : e->res.action == HV_ACT_INJECT ? "refused (exception)"
		                      : e->res.halt_reason == HV_HALT_CALL_RETURN ? "the return"
		                      : e->res.halt_reason == HV_HALT_CALL_FAULT
		                              ? "the fault report"
		                              : "contained (halted)";
		switch (in->reason) {
		case HV_EXIT_RDMSR:
		case HV_EXIT_WRMSR:
			emit(&L, "  %s MSR 0x%x: %s\n",
			     in->reason == HV_EXIT_RDMSR ? "RDMSR" : "WRMSR",
			     (uint32_t)in->st.gpr[HV_RCX], verdict);
			break;
		case HV_EXIT_IO: {
			uint32_t port = (uint32_t)(in->qual >> HV_QUAL_IO_PORT_SHIFT) & 0xffff;
			bool out = !(in->qual & HV_QUAL_IO_IN);
			emit(&L, "  %s port 0x%x (%u byte%s): %s%s\n", out ? "OUT" : "IN", port,
			     (uint32_t)(in->qual & 7) + 1, (in->qual & 7) ? "s" : "", verdict,
			     /* The PC's reset control register and the keyboard
			      * controller's reset line. */
			     out && (port == 0xcf9 || port == 0x64)
			             ? ": a reset of the machine was requested; nothing was reset"
			             : "");
			break;
		}
		case HV_EXIT_EPT_VIOLATION:
			emit(&L, "  access to GPA 0x%llx (%s): %s\n", (unsigned long long)in->gpa,
			     (in->qual & HV_QUAL_FETCH)   ? "fetch"
			     : (in->qual & HV_QUAL_WRITE) ? "write"
			                                  : "read",
			     outs && e->res.has_mmio ? "emulated device" : verdict);
			break;
		case HV_EXIT_VMCALL:
			if (outs && (e->res.halt_reason == HV_HALT_CALL_RETURN ||
			             e->res.halt_reason == HV_HALT_CALL_FAULT)) {
				char label[64];
				end_label(a, calls_seen++, label, sizeof(label));
				emit(&L, "  -- end of %s\n", label);
				break; /* the sandbox's own hypercall */
			}
			emit(&L, "  hypercall %llu: %s\n", (unsigned long long)in->st.gpr[HV_RAX],
			     verdict);
			break;
		default:
			emit(&L, "  %s: %s\n", hv_exit_reason_str(in->reason), verdict);
			break;
		}
	}
	flush(&L);
	hx_trace_free(t);
}

/* A control register the call left changed, bit by bit (SDM Vol. 3A,
 * 2.5: CR0.PE 0, WP 16, NW 29, CD 30, PG 31; CR4.PAE 5, PGE 7, VMXE 13,
 * SMXE 14, SMEP 20, SMAP 21; EFER.SCE 0, LME 8, LMA 10, NXE 11). */
static void cr_diff(const char *name, uint64_t was, uint64_t now, const char *const *bits)
{
	if (was == now)
		return;
	printf("control register: %s 0x%llx -> 0x%llx", name, (unsigned long long)was,
	       (unsigned long long)now);
	const char *sep = " (";
	for (int b = 0; b < 64; b++) {
		uint64_t m = 1ull << b;
		if (!((was ^ now) & m))
			continue;
		if (b < 32 && bits[b])
			printf("%s%s %s", sep, bits[b], now & m ? "set" : "cleared");
		else
			printf("%sbit %d %s", sep, b, now & m ? "set" : "cleared");
		sep = ", ";
	}
	printf(")\n");
}

static void cr_report(const struct hxk_call *c)
{
	static const char *const cr0[32] = {
	        [0] = "PE",  [1] = "MP",  [2] = "EM",  [3] = "TS",  [4] = "ET", [5] = "NE",
	        [16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG"};
	static const char *const cr4[32] = {
	        [0] = "VME",    [1] = "PVI",      [2] = "TSD",         [3] = "DE",
	        [4] = "PSE",    [5] = "PAE",      [6] = "MCE",         [7] = "PGE",
	        [8] = "PCE",    [9] = "OSFXSR",   [10] = "OSXMMEXCPT", [11] = "UMIP",
	        [12] = "LA57",  [13] = "VMXE",    [14] = "SMXE",       [16] = "FSGSBASE",
	        [17] = "PCIDE", [18] = "OSXSAVE", [20] = "SMEP",       [21] = "SMAP",
	        [22] = "PKE"};
	static const char *const efer[32] = {
	        [0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE", [12] = "SVME"};
	cr_diff("CR0", HX_GUEST_CR0, c->cr0, cr0);
	cr_diff("CR4", HX_GUEST_CR4, c->cr4, cr4);
	cr_diff("EFER", HX_GUEST_EFER, c->efer, efer);
	printf("  (the call's own vCPU, reset before the next call; KVM does not report the "
	       "write itself here, so it was found after the call, not refused)\n");
}

static void print_hex(const uint8_t *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		printf("%02x%s", b[i], (i + 1) % 32 == 0 || i + 1 == n ? "\n" : " ");
}

/* Atomically, as traces are written: a FIFO, device or directory at path is
 * refused, not replaced. */
static int write_out(const char *path, const uint8_t *b, uint64_t n)
{
	char err[512];
	if (hx_file_save(path, b, n, "copy of the out-buffer", err, sizeof(err)) != 0) {
		fprintf(stderr, "hx call: -o: %s\n", err);
		return -1;
	}
	return 0;
}

int hx_cmd_call(int argc, char **argv)
{
	struct call_args *a = calloc(1, sizeof(*a));
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct hxk_report *rep = calloc(1, sizeof(*rep));
	int rc = HX_EXIT_USAGE;
	char trace[64] = "";
	if (!a || !cfg || !rep) {
		fprintf(stderr, "hx call: out of memory\n");
		goto out;
	}
	int pr = parse(argc, argv, a);
	if (pr != 0) {
		rc = pr < 0 ? HX_EXIT_OK : pr;
		goto out;
	}
	struct hx_config_error cerr;
	if (hx_config_load(a->config, cfg, &cerr) != HX_CONFIG_OK) {
		fprintf(stderr, "hx call: %s\n", cerr.msg);
		goto out;
	}
	const char *images[HV_MAX_PARTITIONS] = {a->image};
	a->opt.only_partition = 0;
	a->opt.max_vcpus = 1;
	a->opt.call = a->call;
	a->opt.ncalls = a->ncalls;
	a->opt.expect[0].outcome = HXK_OUT_HALTED;
	a->opt.expect[0].halt_reason = HV_HALT_CALL_RETURN;
	const char *tmpdir = getenv("TMPDIR");
	snprintf(trace, sizeof(trace), "%s/hx-call.XXXXXX",
	         tmpdir && strlen(tmpdir) < 40 ? tmpdir : "/tmp");
	int fd = mkstemp(trace);
	if (fd < 0) {
		fprintf(stderr, "hx call: cannot create a temporary trace: %s\n", strerror(errno));
		trace[0] = 0;
		goto out;
	}
	close(fd);
	a->opt.record = trace;
	a->opt.config_name = a->config;
	struct hxk_err err;
	enum hxk_run_status st = hxk_run(cfg, images, &a->opt, rep, &err);
	if (st != HXK_RUN_DONE) {
		fprintf(stderr, "hx call: %s\n", hx_esc(err.msg));
		rc = HX_EXIT_USAGE;
		goto out;
	}
	printf("hx call: %s, %s ABI, in partition 0 \"%s\"\n", hx_esc(a->image),
	       a->opt_abi == HXK_ABI_MS ? "ms" : "sysv", hx_esc(cfg->partitions[0].name));
	if (rep->recorded)
		report_privileged(a, trace);
	for (uint32_t i = 0; i < rep->nstored; i++)
		printf("violation: %s: %s\n", hv_invariant_id(rep->violations[i].inv),
		       rep->violations[i].msg);
	const struct hxk_part_report *p0 = &rep->parts[0];
	bool all_returned = true, wrote = false, overrun = false;
	for (uint32_t k = 0; k < a->ncalls; k++) {
		struct hxk_call *c = &a->call[k];
		if (a->ncalls > 1)
			printf("call %u%s: %s at 0x%llx, %u argument%s\n", k + 1,
			       c->reset ? " (after a reset)" : "", hx_esc(a->symbol[k]),
			       (unsigned long long)c->target, c->nargs, c->nargs == 1 ? "" : "s");
		else
			printf("call: %s at 0x%llx, %u argument%s\n", hx_esc(a->symbol[k]),
			       (unsigned long long)c->target, c->nargs, c->nargs == 1 ? "" : "s");
		all_returned &= c->end == HXK_CALL_RETURNED;
		switch (c->end) {
		case HXK_CALL_RETURNED:
			printf("result: 0x%llx (%llu)\n", (unsigned long long)c->result,
			       (unsigned long long)c->result);
			break;
		case HXK_CALL_FAULTED:
			printf("fault: vector %llu (%s), error code 0x%llx, at RIP 0x%llx, CR2 "
			       "0x%llx\n",
			       (unsigned long long)c->fault_vector, vector_name(c->fault_vector),
			       (unsigned long long)c->fault_error, (unsigned long long)c->fault_rip,
			       (unsigned long long)c->fault_cr2);
			break;
		default:
			if (k > 0 && a->call[k - 1].end == HXK_CALL_NOT_ENDED) {
				printf("not run: the call before it did not end\n");
				break;
			}
			printf("not ended: %s%s%s%s%s\n", hxk_outcome_str(p0->outcome),
			       p0->outcome == HXK_OUT_HALTED ? ": " : "",
			       p0->outcome == HXK_OUT_HALTED ? hv_halt_reason_str(p0->halt_reason)
			                                     : "",
			       p0->detail[0] ? " -- " : "", p0->detail);
			break;
		}
		if (c->cr_changed) {
			cr_report(c);
			overrun = true;
		}
		for (uint32_t i = 0; i < c->nbufs; i++) {
			const struct hxk_call_buf *b = &c->bufs[i];
			if (c->overrun & (1u << i)) {
				printf("buffer (argument %u, %llu bytes at GPA 0x%llx): the call "
				       "wrote "
				       "outside it\n",
				       b->arg, (unsigned long long)b->len,
				       (unsigned long long)b->gpa);
				overrun = true;
			}
			if (!b->out || c->end == HXK_CALL_NOT_ENDED)
				continue;
			if (a->out_file && !wrote) {
				if (write_out(a->out_file, b->data, b->len) != 0)
					goto out;
				printf("out-buffer (argument %u, %llu bytes at GPA 0x%llx) written "
				       "to %s\n",
				       b->arg, (unsigned long long)b->len,
				       (unsigned long long)b->gpa, hx_esc(a->out_file));
				wrote = true;
				continue;
			}
			printf("out-buffer (argument %u, %llu bytes at GPA 0x%llx):\n", b->arg,
			       (unsigned long long)b->len, (unsigned long long)b->gpa);
			print_hex(b->data, b->len);
		}
	}
	rc = all_returned && !overrun && rep->nviolations == 0 ? HX_EXIT_OK : HX_EXIT_FAIL;
out:
	if (trace[0])
		unlink(trace);
	if (a)
		for (uint32_t k = 0; k < a->ncalls; k++)
			for (uint32_t i = 0; i < a->call[k].nbufs; i++)
				free(a->call[k].bufs[i].data);
	free(a);
	free(cfg);
	free(rep);
	return rc;
}
