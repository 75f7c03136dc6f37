/* The platform of the freestanding replay image. It stands where the
 * replay platform and the observer stand in the hosted run
 * (harness/replay/replay_platform.c, harness/oracle/observer.c): answers
 * are what the hosted run got for the same call, memory is a window the
 * host preloads exactly as replay preloads its model, and the log follows
 * the observer's rules (entry and byte limits, overflow count, the bytes
 * before each write), so the two logs can be compared entry by entry. */
#include "beq_guest.h"

/* Observer kinds (harness/oracle/observer.h). */
enum {
	K_CPUID = 1,
	K_RDMSR = 2,
	K_WRMSR = 3,
	K_PHYS_READ = 4,
	K_PHYS_WRITE = 5,
	K_CONSOLE = 6,
	K_EPT_CHANGED = 7,
};

void beq_plat_begin(struct beq_plat *p, const struct beq_in *in, struct beq_out *out)
{
	p->in = in;
	p->out = out;
	/* Only the answers of this exit: clearing all would cost thousands of
	 * guest instructions per exit. */
	hv_memset(p->used, 0, in->nanswers < BEQ_MAX_CALLS ? in->nanswers : BEQ_MAX_CALLS);
	out->ncalls = 0;
	out->overflow = 0;
	out->data_len = 0;
}

/* Reserve a log entry and `bytes` of payload, or count an overflow. */
static struct beq_call *reserve(struct beq_plat *p, uint8_t kind, uint64_t bytes)
{
	struct beq_out *o = p->out;
	if (o->ncalls >= BEQ_MAX_CALLS || bytes > BEQ_MAX_DATA - o->data_len) {
		o->overflow++;
		return NULL;
	}
	struct beq_call *c = &o->calls[o->ncalls++];
	hv_memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->data = o->data_len;
	c->before = o->data_len;
	return c;
}

static uint32_t put(struct beq_plat *p, const void *src, uint32_t len)
{
	struct beq_out *o = p->out;
	uint32_t off = o->data_len;
	hv_memcpy(o->data + off, src, len);
	o->data_len += len;
	return off;
}

static bool in_window(const struct beq_plat *p, uint64_t hpa, uint32_t len)
{
	return hpa < p->host_size && len <= p->host_size - hpa;
}

/* The hosted run's answer for this CPUID input (answers are few: a scan). */
static void g_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct beq_plat *p = ctx;
	hv_memset(out, 0, 4 * sizeof(out[0]));
	for (uint32_t k = 0; k < p->in->nanswers; k++) {
		const struct beq_answer *a = &p->in->answers[k];
		if (a->kind == K_CPUID && a->id == leaf && a->sub == subleaf) {
			hv_memcpy(out, a->regs, sizeof(a->regs));
			break;
		}
	}
	struct beq_call *c = reserve(p, K_CPUID, 0);
	if (!c)
		return;
	c->id = leaf;
	c->sub = subleaf;
	hv_memcpy(c->regs, out, sizeof(c->regs));
}

/* The next answer of this kind for msr the hosted run got, in order. */
static const struct beq_answer *take_msr(struct beq_plat *p, uint8_t kind, uint32_t msr)
{
	for (uint32_t k = 0; k < p->in->nanswers; k++) {
		const struct beq_answer *a = &p->in->answers[k];
		if (a->kind == kind && a->id == msr && !p->used[k]) {
			p->used[k] = 1;
			return a;
		}
	}
	return NULL;
}

static int g_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct beq_plat *p = ctx;
	const struct beq_answer *a = take_msr(p, K_RDMSR, msr);
	int rc = a && !a->failed ? 0 : -1;
	if (rc == 0)
		*value = a->value;
	struct beq_call *c = reserve(p, K_RDMSR, 0);
	if (c) {
		c->id = msr;
		c->failed = rc != 0;
		c->value = rc == 0 ? *value : 0;
	}
	return rc;
}

static int g_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct beq_plat *p = ctx;
	const struct beq_answer *a = take_msr(p, K_WRMSR, msr);
	int rc = a && !a->failed ? 0 : -1;
	struct beq_call *c = reserve(p, K_WRMSR, 0);
	if (c) {
		c->id = msr;
		c->failed = rc != 0;
		c->value = value;
	}
	return rc;
}

static int window_read(struct beq_plat *p, uint64_t hpa, void *dst, uint32_t len)
{
	if (!in_window(p, hpa, len))
		return -1;
	hv_memcpy(dst, p->window + hpa, len);
	return 0;
}

static int g_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct beq_plat *p = ctx;
	int rc = window_read(p, hpa, dst, len);
	struct beq_call *c = reserve(p, K_PHYS_READ, rc == 0 ? len : 0);
	if (c) {
		c->addr = hpa;
		c->len = len;
		c->failed = rc != 0;
		if (rc == 0)
			c->data = put(p, dst, len);
	}
	return rc;
}

static int g_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct beq_plat *p = ctx;
	struct beq_call *c = reserve(p, K_PHYS_WRITE, 2 * (uint64_t)len);
	if (c) {
		c->addr = hpa;
		c->len = len;
		c->data = put(p, src, len);
		struct beq_out *o = p->out;
		if (window_read(p, hpa, o->data + o->data_len, len) == 0) {
			c->before = o->data_len;
			o->data_len += len;
			c->has_before = 1;
		}
	}
	int rc = -1;
	if (in_window(p, hpa, len)) {
		hv_memcpy(p->window + hpa, src, len);
		rc = 0;
	}
	if (c)
		c->failed = rc != 0;
	return rc;
}

static void g_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct beq_plat *p = ctx;
	struct beq_call *c = reserve(p, K_CONSOLE, len);
	if (!c)
		return;
	c->id = partition;
	c->len = len;
	c->data = put(p, buf, len);
}

static void g_ept_changed(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size)
{
	struct beq_plat *p = ctx;
	struct beq_call *c = reserve(p, K_EPT_CHANGED, 0);
	if (!c)
		return;
	c->id = partition;
	c->addr = gpa;
	c->value = size;
}

const struct hv_platform_ops beq_platform_ops = {
        .cpuid = g_cpuid,
        .rdmsr = g_rdmsr,
        .wrmsr = g_wrmsr,
        .phys_read = g_phys_read,
        .phys_write = g_phys_write,
        .console = g_console,
        .log = NULL,
        .ept_changed = g_ept_changed,
};
