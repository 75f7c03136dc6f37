/* BUILD-EQ driver (buildeq.h): the hosted replay engine runs the trace;
 * from its per-exit hook, the same exit goes to the freestanding image in
 * the guest and the two builds' outputs are compared. */
#include "buildeq.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildeq_internal.h"
#include "replay.h"

#ifndef HX_BEQ_IMAGE_DEFAULT
#define HX_BEQ_IMAGE_DEFAULT "hv_replay.elf"
#endif

struct hx_beq {
	struct hxk_kvm kvm;
	struct beq_image img;
	char image_path[PATH_MAX];
	double timeout_s;
	struct hx_replay *replay;
};

/* One trace in progress. */
struct beq_run {
	struct hx_beq *b;
	const struct hx_trace *t;
	struct hx_beq_result *res;
	struct beq_vm vm;
	double deadline;
	bool dead;      /* stopped: a difference or an image failure is recorded */
	bool init_seen; /* the guest's init status was compared */
	bool finished;  /* the final state was compared */
};

static const char *const layout_names[] = {
#define LAYOUT_NAME(e) #e,
        BEQ_LAYOUT(LAYOUT_NAME)
#undef LAYOUT_NAME
};
#define LAYOUT_VALUE(e) (uint32_t)(e),
static const uint32_t layout[] = {BEQ_LAYOUT(LAYOUT_VALUE)};
#undef LAYOUT_VALUE
_Static_assert(HV_ARRAY_LEN(layout) <= BEQ_MAX_LAYOUT, "layout list fits the mailbox");
_Static_assert(BEQ_MAX_CALLS == HX_OBS_MAX_ENTRIES && BEQ_MAX_DATA == HX_OBS_MAX_DATA,
               "the image logs within the observer's limits");
_Static_assert(HX_OBS_CPUID == 1 && HX_OBS_RDMSR == 2 && HX_OBS_WRMSR == 3 &&
                       HX_OBS_PHYS_READ == 4 && HX_OBS_PHYS_WRITE == 5 && HX_OBS_CONSOLE == 6 &&
                       HX_OBS_EPT_CHANGED == 7,
               "the image uses the observer's call kinds");

const char *hx_beq_default_image(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX - 64]; /* room for the suffix below */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/harness/equiv/buildeq/hv_replay.elf", exe);
			if (access(path, R_OK) == 0)
				return path;
		}
	}
	return HX_BEQ_IMAGE_DEFAULT;
}

struct hx_beq *hx_beq_new(const struct hx_beq_opts *opts, char *err, size_t errlen)
{
	struct hxk_err e = {{0}};
	struct hx_beq *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->kvm.fd = -1;
	const char *image = opts && opts->image ? opts->image : hx_beq_default_image();
	snprintf(b->image_path, sizeof(b->image_path), "%s", image);
	b->timeout_s = opts && opts->timeout_s > 0 ? opts->timeout_s : HX_BEQ_DEFAULT_TIMEOUT;
	if (beq_image_read(b->image_path, &b->img, &e) != 0 || hxk_kvm_open(&b->kvm, &e) != 0 ||
	    beq_timer_start(&e) != 0) {
		snprintf(err, errlen, "%s", e.msg);
		hx_beq_free(b);
		return NULL;
	}
	b->replay = hx_replay_new();
	if (!b->replay) {
		snprintf(err, errlen, "out of memory");
		hx_beq_free(b);
		return NULL;
	}
	return b;
}

void hx_beq_free(struct hx_beq *b)
{
	if (!b)
		return;
	beq_timer_stop();
	hx_replay_free(b->replay);
	if (b->kvm.fd >= 0)
		hxk_kvm_close(&b->kvm);
	beq_image_free(&b->img);
	free(b);
}

/* ---- outcomes ---- */

static void set_where(struct beq_run *r, int64_t index)
{
	r->res->exit_index = index;
	r->res->exit_reason = HV_EXIT_COUNT;
	if (index >= 0 && (uint64_t)index < r->t->nexits)
		r->res->exit_reason = r->t->exits[index].in.reason;
}

static void where_str(const struct beq_run *r, char *buf, size_t len)
{
	if (r->res->exit_index >= 0)
		snprintf(buf, len, "exit %lld (%s)", (long long)r->res->exit_index,
		         hv_exit_reason_str(r->res->exit_reason));
	else
		snprintf(buf, len, "%s", r->finished || r->init_seen ? "final state" : "setup");
}

static void record_diff(struct beq_run *r, int64_t index, const struct beq_diff *d)
{
	set_where(r, index);
	r->res->status = HX_BEQ_FAIL;
	snprintf(r->res->field, sizeof(r->res->field), "%s", d->field);
	char where[64];
	where_str(r, where, sizeof(where));
	snprintf(r->res->msg, sizeof(r->res->msg), "%s: %s", where, d->msg);
	r->dead = true;
}

static void record_error(struct beq_run *r, int64_t index, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void record_error(struct beq_run *r, int64_t index, const char *fmt, ...)
{
	set_where(r, index);
	r->res->status = HX_BEQ_ERROR;
	char what[512], where[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	where_str(r, where, sizeof(where));
	snprintf(r->res->msg, sizeof(r->res->msg), "%s: %s", where, what);
	r->dead = true;
}

static const char *status_name(uint32_t s)
{
	static const char *const names[] = {
	        [BEQ_ST_OK] = "ok",
	        [BEQ_ST_BAD_MAGIC] = "bad mailbox magic/version",
	        [BEQ_ST_LAYOUT] = "struct layout differs",
	        [BEQ_ST_POOL] = "hv_pool_init failed",
	        [BEQ_ST_BAD_CMD] = "unknown command",
	        [BEQ_ST_BAD_INPUT] = "input out of bounds",
	        [BEQ_ST_BAD_WINDOW] = "window too large",
	        [BEQ_ST_STACK] = "that its stack overflowed (the canary below it is overwritten)",
	};
	return s < HV_ARRAY_LEN(names) && names[s] ? names[s] : "unknown status";
}

/* The per-trace limit ran out: say how far the trace got, and how long the
 * image sat on the step it was given, so a trace that is merely too long
 * for the limit reads differently from an image that stopped answering. */
static void record_timeout(struct beq_run *r, int64_t index, double waited, const char *where)
{
	double limit = r->b->timeout_s;
	uint32_t total = r->t->nexits;
	char step[96];
	if (index >= 0)
		snprintf(step, sizeof(step), "at exit %lld of %u (%lld answered)", (long long)index,
		         total, (long long)index);
	else if (!r->init_seen)
		snprintf(step, sizeof(step), "before exit 0 of %u (the image was still starting)",
		         total);
	else
		snprintf(step, sizeof(step), "after all %u exits, waiting for the final state",
		         total);
	record_error(r, index,
	             "the trace ran out of time after %.3g s %s; the image had been on this step "
	             "for %.2f s; "
	             "%s (--timeout raises the limit)",
	             limit, step, waited, where);
}

/* Run the image to its next signal; anything but `want` is recorded. */
static bool await(struct beq_run *r, int64_t index, uint32_t want)
{
	uint32_t sig = 0;
	struct hxk_err err = {{0}};
	double began = beq_now();
	int stop = beq_vm_run(&r->vm, r->deadline, &sig, &err);
	if (stop == BEQ_STOP_TIMEOUT) {
		record_timeout(r, index, beq_now() - began, err.msg);
		return false;
	}
	if (stop != BEQ_STOP_SIGNAL) {
		record_error(r, index, "%s", err.msg);
		return false;
	}
	const struct beq_boot *bt = beq_vm_ram(&r->vm, BEQ_BOOT_GPA, sizeof(*bt));
	if (sig == BEQ_SIG_EXCEPTION) {
		char fn[160];
		beq_image_symbolize(&r->b->img, bt->exc_rip, fn, sizeof(fn));
		record_error(r, index,
		             "the image took exception %llu (error 0x%llx) at rip 0x%llx%s, cr2 "
		             "0x%llx",
		             (unsigned long long)bt->exc_vector, (unsigned long long)bt->exc_error,
		             (unsigned long long)bt->exc_rip, fn, (unsigned long long)bt->exc_cr2);
		return false;
	}
	if (sig == BEQ_SIG_ERROR) {
		if (bt->status == BEQ_ST_LAYOUT && bt->detail < HV_ARRAY_LEN(layout))
			record_error(
			        r, index,
			        "the builds disagree on the layout of %s (hosted %u; the image "
			        "was built with another layout)",
			        layout_names[bt->detail], layout[bt->detail]);
		else if (bt->status == BEQ_ST_STACK)
			record_error(r, index, "the image reports %s", status_name(bt->status));
		else
			record_error(r, index, "the image reported %s (detail %u)",
			             status_name(bt->status), bt->detail);
		return false;
	}
	if (sig != want) {
		record_error(r, index, "the image signalled %u where %u was due", sig, want);
		return false;
	}
	return true;
}

/* ---- setup ---- */

static bool start_guest(struct beq_run *r)
{
	const struct hx_trace *t = r->t;
	struct hxk_err err = {{0}};
	if (beq_vm_create(&r->vm, &r->b->kvm, &r->b->img, t->pool_pages, t->cfg->host_mem_size,
	                  &err) != 0) {
		r->res->status = HX_BEQ_ERROR;
		snprintf(r->res->msg, sizeof(r->res->msg), "setup: %s", err.msg);
		r->dead = true;
		return false;
	}
	struct beq_boot *bt = beq_vm_ram(&r->vm, BEQ_BOOT_GPA, sizeof(*bt));
	void *cfg = beq_vm_ram(&r->vm, BEQ_CFG_GPA, sizeof(*t->cfg));
	memset(bt, 0, sizeof(*bt));
	bt->magic = BEQ_MAGIC;
	bt->version = BEQ_VERSION;
	bt->nlayout = (uint32_t)HV_ARRAY_LEN(layout);
	memcpy(bt->layout, layout, sizeof(layout));
	bt->cfg_size = sizeof(*t->cfg);
	bt->pool_hpa = t->pool_hpa;
	bt->pool_pages = t->pool_pages;
	bt->host_size = t->cfg->host_mem_size;
	memcpy(cfg, t->cfg, sizeof(*t->cfg));
	return await(r, -1, BEQ_SIG_INIT);
}

/* The hosted run got past hv_system_init: so must the image have. */
static bool check_init(struct beq_run *r)
{
	if (r->init_seen)
		return true;
	r->init_seen = true;
	const struct beq_boot *bt = beq_vm_ram(&r->vm, BEQ_BOOT_GPA, sizeof(*bt));
	if (bt->init_status != HV_OK) {
		struct beq_diff d = {.field = "init.status"};
		snprintf(d.msg, sizeof(d.msg),
		         "init.status: hv_system_init hosted %s, freestanding %s (%s)",
		         hv_status_str(HV_OK), hv_status_str((hv_status)bt->init_status),
		         hv_config_error_str(bt->diag.error));
		record_diff(r, -1, &d);
		return false;
	}
	return true;
}

/* ---- per exit ---- */

/* The guest memory exit e saw, into the window: what rp_platform_enter
 * (replay_platform.c) puts into the hosted model, in the same order
 * (backwards, so the first observation of each byte stays), with the same
 * refusal of ranges outside host memory. */
static void preload(struct beq_run *r, const struct hx_trace_exit *e)
{
	const struct hx_obs_view *v = &e->log;
	uint64_t host = r->vm.host_size;
	for (uint32_t k = v->nentries; k-- > 0;) {
		const struct hx_obs_entry *o = &v->entries[k];
		const uint8_t *bytes = hx_obs_seen_bytes(v, o);
		if (bytes && o->addr < host && o->len <= host - o->addr)
			memcpy(r->vm.window + o->addr, bytes, o->len);
	}
}

static void fill_input(struct beq_in *in, uint32_t index, const struct hx_trace_exit *e,
                       const struct hx_obs_view *log)
{
	in->index = index;
	in->exit = e->in;
	in->nanswers = 0;
	for (uint32_t k = 0; k < log->nentries && in->nanswers < BEQ_MAX_CALLS; k++) {
		const struct hx_obs_entry *o = &log->entries[k];
		if (o->kind != HX_OBS_CPUID && o->kind != HX_OBS_RDMSR && o->kind != HX_OBS_WRMSR)
			continue;
		struct beq_answer *a = &in->answers[in->nanswers++];
		memset(a, 0, sizeof(*a));
		a->kind = o->kind;
		a->failed = o->failed;
		a->id = o->id;
		a->sub = o->sub;
		a->value = o->value;
		memcpy(a->regs, o->regs, sizeof(a->regs));
	}
}

static void on_exit_hook(void *ctx, uint64_t index, const struct hv_exit *out,
                         const struct hv_result *res, const struct hx_obs_view *log)
{
	struct beq_run *r = ctx;
	if (r->dead || !check_init(r))
		return;
	const struct hx_trace_exit *e = &r->t->exits[index];
	if (log->overflow) {
		/* Calls the observer did not log have answers we cannot hand on. */
		record_error(r, (int64_t)index,
		             "the hosted run made more platform calls than its log holds (%u "
		             "lost): the exit cannot be handed to the image",
		             log->overflow);
		return;
	}
	preload(r, e);
	struct beq_in *in = beq_vm_ram(&r->vm, BEQ_IN_GPA, sizeof(*in));
	struct beq_boot *bt = beq_vm_ram(&r->vm, BEQ_BOOT_GPA, sizeof(*bt));
	fill_input(in, (uint32_t)index, e, log);
	bt->cmd = BEQ_CMD_EXIT;
	if (!await(r, (int64_t)index, BEQ_SIG_EXIT))
		return;
	const struct beq_out *g = beq_vm_ram(&r->vm, BEQ_OUT_GPA, sizeof(*g));
	struct beq_diff d;
	if (!beq_compare_exit((uint32_t)index, out, res, log, g, &r->res->calls, &d)) {
		record_diff(r, (int64_t)index, &d);
		return;
	}
	r->res->exits++;
}

static void on_end_hook(void *ctx, const struct hv_system *sys)
{
	struct beq_run *r = ctx;
	if (r->dead || !check_init(r))
		return;
	struct beq_boot *bt = beq_vm_ram(&r->vm, BEQ_BOOT_GPA, sizeof(*bt));
	bt->cmd = BEQ_CMD_FINISH;
	if (!await(r, -1, BEQ_SIG_FINAL))
		return;
	r->finished = true;
	const struct hv_system *g = beq_vm_ram(&r->vm, bt->sys_gpa, sizeof(*g));
	const uint8_t *pool =
	        beq_vm_ram(&r->vm, BEQ_POOL_GPA, (uint64_t)r->t->pool_pages << HV_PAGE_SHIFT);
	if (!g || !pool || bt->pool_used > r->t->pool_pages) {
		record_error(r, -1,
		             "the image reports its state at 0x%llx with %u pool pages used: not "
		             "inside guest RAM / the pool",
		             (unsigned long long)bt->sys_gpa, bt->pool_used);
		return;
	}
	struct beq_diff d;
	if (!beq_compare_final(sys, g, bt->pool_used, pool, &d)) {
		record_diff(r, -1, &d);
		return;
	}
	r->res->pool_pages = sys->pool->used;
}

/* Traces neither build can run: the hosted replay would refuse them
 * before the first exit, or the window cannot hold their host memory. */
static bool refuse(const struct hx_trace *t, struct hx_beq_result *res)
{
	struct hv_config_diag diag;
	if (hv_config_validate(t->cfg, &diag) != HV_OK) {
		snprintf(res->msg, sizeof(res->msg), "setup: the trace's config is rejected: %s",
		         hv_config_error_str(diag.error));
	} else if (t->pool_pages == 0 || t->pool_pages > HX_TRACE_MAX_POOL_PAGES) {
		snprintf(res->msg, sizeof(res->msg),
		         "setup: page pool of %u pages is outside 1..%u", t->pool_pages,
		         HX_TRACE_MAX_POOL_PAGES);
	} else if (t->cfg->host_mem_size > BEQ_WINDOW_MAX) {
		snprintf(res->msg, sizeof(res->msg),
		         "setup: host memory of %llu MiB (0x%llx) exceeds the freestanding image's "
		         "window of %llu MiB at guest-physical 0x%llx",
		         (unsigned long long)(t->cfg->host_mem_size >> 20),
		         (unsigned long long)t->cfg->host_mem_size,
		         (unsigned long long)(BEQ_WINDOW_MAX >> 20),
		         (unsigned long long)BEQ_WINDOW_GPA);
	} else {
		return false;
	}
	res->status = HX_BEQ_BAD_INPUT;
	return true;
}

int hx_beq_run(struct hx_beq *b, const struct hx_trace *t, struct hx_beq_result *res)
{
	memset(res, 0, sizeof(*res));
	res->exit_index = -1;
	res->exit_reason = HV_EXIT_COUNT;
	double t0 = beq_now();
	struct beq_run r = {.b = b, .t = t, .res = res, .deadline = t0 + b->timeout_s};

	if (refuse(t, res)) {
		res->seconds = beq_now() - t0;
		return res->status;
	}
	if (start_guest(&r)) {
		struct hx_replay_opts o;
		hx_replay_opts_default(&o);
		o.compare_outputs = false; /* BUILD-EQ compares builds, not recordings */
		o.check_det = false;
		o.stop_at_first = false;
		o.verify_start_end = false;
		o.on_exit = on_exit_hook;
		o.on_end = on_end_hook;
		o.hook_ctx = &r;
		struct hx_replay_result hr;
		hx_replay_run(b->replay, t, &o, &hr);
		res->hosted_status = hr.status;
		if (hr.status != HX_REPLAY_PASS)
			hx_replay_failure_str(&hr.first, res->hosted_msg, sizeof(res->hosted_msg));
		if (hr.status == HX_REPLAY_BAD_INPUT && !r.init_seen && !r.dead) {
			/* The hosted run never got to an exit: nothing to compare. */
			res->status = HX_BEQ_BAD_INPUT;
			snprintf(res->msg, sizeof(res->msg),
			         "the hosted replay refuses the trace: %s", res->hosted_msg);
		} else if (!r.dead && !r.finished) {
			record_error(&r, -1, "the hosted run ended without its final state");
		}
	}
	res->guest_seconds = r.vm.run_seconds;
	beq_vm_destroy(&r.vm);
	res->seconds = beq_now() - t0;
	return res->status;
}
