/* hx_sandbox.h on the KVM runner's sandbox mode (harness/kvm/call.h). */
#include "hx_sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "call_reset.h"
#include "cli_args.h"
#include "config_json.h"
#include "runner.h"

struct hx_sandbox {
	struct hv_system_config cfg;
	struct hxk_options opt;
	struct hxk_report rep;
	struct hxk_call none; /* marks the run a sandbox's; no call of its own */
	struct hxk_runner *R;
	bool reset_next;
	bool snapshot; /* resets use the dirty log (call_reset.h) */
	bool dead;     /* a call that neither returned nor faulted: no further calls */
	char dead_why[384];
};

struct hx_sandbox *hx_sandbox_open(const char *config_path, const char *image_path,
                                   const struct hx_sandbox_opts *o, char *err, size_t errlen)
{
	struct hx_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct hx_config_error cerr;
	if (hx_config_load(config_path, &sb->cfg, &cerr) != HX_CONFIG_OK) {
		snprintf(err, errlen, "%s", cerr.msg);
		free(sb);
		return NULL;
	}
	hxk_options_default(&sb->opt);
	if (o && o->timeout_s > 0)
		sb->opt.timeout_s = o->timeout_s;
	if (o && o->max_exits)
		sb->opt.max_exits = o->max_exits;
	sb->opt.quiet = o && o->quiet;
	sb->opt.only_partition = 0;
	sb->opt.max_vcpus = 1;
	sb->opt.call = &sb->none;
	sb->opt.ncalls = 0;
	sb->opt.config_name = config_path;
	const char *images[HV_MAX_PARTITIONS] = {image_path};
	enum hxk_run_status st;
	struct hxk_err e;
	sb->R = hxk_open(&sb->cfg, images, &sb->opt, &sb->rep, &st, &e);
	if (!sb->R) {
		snprintf(err, errlen, "%s", e.msg);
		free(sb);
		return NULL;
	}
	/* An EFI image starts now, so its reset point is the started image. */
	if (hxk_call_start(sb->R, &e) != 0) {
		snprintf(err, errlen, "%s", e.msg);
		hxk_close(sb->R);
		free(sb);
		return NULL;
	}
	sb->snapshot = hxk_call_snapshot(sb->R, &e) == 0;
	return sb;
}

/* Copies at most what fits: the messages are sentences, cut if need be. */
static void set_text(char *dst, size_t cap, const char *a, const char *b)
{
	size_t n = 0;
	for (const char *s = a; s && *s && n + 1 < cap; s++)
		dst[n++] = *s;
	for (const char *s = b; s && *s && n + 1 < cap; s++)
		dst[n++] = *s;
	dst[n] = 0;
}

static int refuse(struct hx_result *res, const char *what, const char *more)
{
	res->end = HX_CALL_FAILED;
	set_text(res->why, sizeof(res->why), what, more);
	return -1;
}

int hx_sandbox_call(struct hx_sandbox *sb, const char *symbol, enum hx_abi abi,
                    const struct hx_arg *args, unsigned nargs, struct hx_result *res)
{
	memset(res, 0, sizeof(*res));
	if (sb->dead)
		return refuse(res, sb->dead_why, NULL);
	if (!symbol || !*symbol)
		return refuse(res, "no function named", NULL);
	if (nargs > HXK_CALL_MAX_ARGS || (nargs && !args))
		return refuse(res, "more than 16 arguments", NULL);
	struct hxk_call c;
	memset(&c, 0, sizeof(c));
	c.abi = abi == HX_ABI_MS ? HXK_ABI_MS : HXK_ABI_SYSV;
	c.reset = sb->reset_next;
	if (!strncmp(symbol, "0x", 2)) {
		if (!hx_arg_uint(symbol, UINT64_MAX, &c.address))
			return refuse(res, symbol, " is not an address");
	} else {
		c.symbol = symbol;
	}
	for (unsigned i = 0; i < nargs; i++) {
		const struct hx_arg *a = &args[i];
		if (a->kind == HX_ARG_INT) {
			c.args[c.nargs++] = a->value;
			continue;
		}
		if (c.nbufs == HXK_CALL_MAX_BUFS)
			return refuse(res, "more than 8 buffers", NULL);
		if (!a->buf || a->len == 0 || a->len > HXK_CALL_MAX_BUF)
			return refuse(res, "a buffer of 1 byte to 1 MiB is needed", NULL);
		struct hxk_call_buf *b = &c.bufs[c.nbufs++];
		b->data = a->buf;
		b->len = a->len;
		b->in = a->kind == HX_ARG_IN || a->kind == HX_ARG_INOUT;
		b->out = a->kind == HX_ARG_OUT || a->kind == HX_ARG_INOUT;
		b->arg = c.nargs++;
	}
	uint64_t exits0 = sb->rep.parts[0].exits, viol0 = sb->rep.parts[0].violations;
	struct hxk_err e;
	int r = hxk_call_run(sb->R, &c, &e);
	if (r == -2)
		return refuse(res, e.msg, NULL);
	sb->reset_next = false;
	res->exits = sb->rep.parts[0].exits - exits0;
	res->violations = sb->rep.parts[0].violations - viol0;
	res->cr_changed = c.cr_changed;
	res->cr0 = c.cr0;
	res->cr4 = c.cr4;
	res->efer = c.efer;
	for (uint32_t i = 0; i < c.nbufs; i++)
		if (c.overrun & (1u << i))
			res->overrun |= 1u << c.bufs[i].arg;
	if (r != 0) {
		sb->dead = true;
		set_text(sb->dead_why, sizeof(sb->dead_why), "KVM failed: ", e.msg);
		return refuse(res, sb->dead_why, NULL);
	}
	switch (c.end) {
	case HXK_CALL_RETURNED:
		res->end = HX_CALL_RETURNED;
		res->value = c.result;
		break;
	case HXK_CALL_FAULTED:
		res->end = HX_CALL_FAULTED;
		res->vector = c.fault_vector;
		res->error = c.fault_error;
		res->rip = c.fault_rip;
		res->cr2 = c.fault_cr2;
		break;
	default: {
		const struct hxk_part_report *p = &sb->rep.parts[0];
		res->end = HX_CALL_FAILED;
		snprintf(res->why, sizeof(res->why), "%s%s%s%s%s", hxk_outcome_str(p->outcome),
		         p->outcome == HXK_OUT_HALTED ? ": " : "",
		         p->outcome == HXK_OUT_HALTED ? hv_halt_reason_str(p->halt_reason) : "",
		         p->detail[0] ? " -- " : "", p->detail);
		/* Only a call's own end re-arms the partition: this sandbox is done. */
		sb->dead = true;
		set_text(sb->dead_why, sizeof(sb->dead_why),
		         "an earlier call neither returned nor faulted; open a new sandbox: ",
		         res->why);
		break;
	}
	}
	return 0;
}

void hx_sandbox_reset(struct hx_sandbox *sb)
{
	struct hxk_err e;
	if (!sb->snapshot) {
		sb->reset_next = true;
	} else if (hxk_call_reset(sb->R, &e) != 0) {
		sb->dead = true;
		set_text(sb->dead_why, sizeof(sb->dead_why), "the reset failed: ", e.msg);
	}
}

int hx_sandbox_check_reset(struct hx_sandbox *sb, char *why, size_t len)
{
	struct hxk_err e;
	if (!sb->snapshot) {
		snprintf(why, len, "the sandbox has no snapshot: its resets reload the image");
		return -1;
	}
	if (hxk_call_reset_check(sb->R, &e) != 0) {
		snprintf(why, len, "%s", e.msg);
		return -1;
	}
	return 0;
}

void hx_sandbox_get_stats(const struct hx_sandbox *sb, struct hx_sandbox_stats *st)
{
	memset(st, 0, sizeof(*st));
	const struct hxk_reset_stats *r = hxk_call_reset_stats(sb->R);
	if (r) {
		st->resets = r->resets;
		st->guest_pages = r->guest_pages;
		st->host_pages = r->host_pages;
	}
}

void hx_sandbox_close(struct hx_sandbox *sb)
{
	if (!sb)
		return;
	hxk_close(sb->R);
	free(sb);
}

#ifdef HX_SANDBOX_TESTING
void hx_sandbox_plant_reset_leak(struct hx_sandbox *sb)
{
	hxk_call_reset_plant_leak(sb->R);
}
#endif
