/* Logging wrapper around a struct hv_platform_ops (observer.h). */
#include "observer.h"

#include <string.h>

/* Reserve an entry and `bytes` of data; NULL (and overflow counted) when
 * the log is full. The observer still performs the call. */
static struct hx_obs_entry *obs_reserve(struct hx_observer *obs, uint8_t kind, uint64_t bytes)
{
	struct hx_obs_log *log = &obs->log;
	if (log->nentries >= HX_OBS_MAX_ENTRIES || bytes > HX_OBS_MAX_DATA - log->data_len) {
		log->overflow++;
		return NULL;
	}
	struct hx_obs_entry *e = &log->entries[log->nentries++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->data = log->data_len;
	e->before = log->data_len;
	return e;
}

static uint32_t obs_put(struct hx_observer *obs, const void *src, uint32_t len)
{
	struct hx_obs_log *log = &obs->log;
	uint32_t off = log->data_len;
	if (len)
		memcpy(log->data + off, src, len);
	log->data_len += len;
	return off;
}

static void obs_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct hx_observer *obs = ctx;
	obs->base->cpuid(obs->base_ctx, leaf, subleaf, out);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_CPUID, 0);
	if (!e)
		return;
	e->id = leaf;
	e->sub = subleaf;
	memcpy(e->regs, out, sizeof(e->regs));
}

static int obs_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct hx_observer *obs = ctx;
	int rc = obs->base->rdmsr(obs->base_ctx, msr, value);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_RDMSR, 0);
	if (e) {
		e->id = msr;
		e->failed = rc != 0;
		e->value = rc == 0 ? *value : 0;
	}
	return rc;
}

static int obs_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct hx_observer *obs = ctx;
	int rc = obs->base->wrmsr(obs->base_ctx, msr, value);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_WRMSR, 0);
	if (e) {
		e->id = msr;
		e->failed = rc != 0;
		e->value = value;
	}
	return rc;
}

static int obs_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct hx_observer *obs = ctx;
	int rc = obs->base->phys_read(obs->base_ctx, hpa, dst, len);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_PHYS_READ, rc == 0 ? len : 0);
	if (e) {
		e->addr = hpa;
		e->len = len;
		e->failed = rc != 0;
		if (rc == 0)
			e->data = obs_put(obs, dst, len);
	}
	return rc;
}

static int obs_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct hx_observer *obs = ctx;
	bool want_before = obs->capture_before && obs->base->phys_read;
	uint64_t need = want_before ? 2 * (uint64_t)len : len;
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_PHYS_WRITE, need);
	if (e) {
		e->addr = hpa;
		e->len = len;
		e->data = obs_put(obs, src, len);
		if (want_before) {
			struct hx_obs_log *log = &obs->log;
			if (obs->base->phys_read(obs->base_ctx, hpa, log->data + log->data_len,
			                         len) == 0) {
				e->before = log->data_len;
				log->data_len += len;
				e->has_before = 1;
			}
		}
	}
	int rc = obs->base->phys_write(obs->base_ctx, hpa, src, len);
	if (e)
		e->failed = rc != 0;
	return rc;
}

static void obs_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct hx_observer *obs = ctx;
	obs->base->console(obs->base_ctx, partition, buf, len);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_CONSOLE, len);
	if (!e)
		return;
	e->id = partition;
	e->len = len;
	e->data = obs_put(obs, buf, len);
}

static void obs_ept_changed(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size)
{
	struct hx_observer *obs = ctx;
	if (obs->base->ept_changed)
		obs->base->ept_changed(obs->base_ctx, partition, gpa, size);
	struct hx_obs_entry *e = obs_reserve(obs, HX_OBS_EPT_CHANGED, 0);
	if (!e)
		return;
	e->id = partition;
	e->addr = gpa;
	e->value = size;
}

static void obs_log(void *ctx, enum hv_log_level level, const char *msg)
{
	struct hx_observer *obs = ctx;
	if (obs->base->log)
		obs->base->log(obs->base_ctx, level, msg);
}

const struct hv_platform_ops hx_observer_ops = {
        .cpuid = obs_cpuid,
        .rdmsr = obs_rdmsr,
        .wrmsr = obs_wrmsr,
        .phys_read = obs_phys_read,
        .phys_write = obs_phys_write,
        .console = obs_console,
        .log = obs_log,
        .ept_changed = obs_ept_changed,
};

void hx_observer_init(struct hx_observer *obs, const struct hv_platform_ops *base, void *base_ctx)
{
	obs->base = base;
	obs->base_ctx = base_ctx;
	obs->capture_before = true;
	hx_observer_begin_exit(obs);
}

void hx_observer_install(struct hx_observer *obs, struct hv_system *sys)
{
	if (sys->ops == &hx_observer_ops && sys->ops_ctx == obs)
		return; /* already installed: never wrap ourselves */
	obs->base = sys->ops;
	obs->base_ctx = sys->ops_ctx;
	sys->ops = &hx_observer_ops;
	sys->ops_ctx = obs;
}

void hx_observer_uninstall(struct hx_observer *obs, struct hv_system *sys)
{
	if (sys->ops != &hx_observer_ops || sys->ops_ctx != obs)
		return;
	sys->ops = obs->base;
	sys->ops_ctx = obs->base_ctx;
}

void hx_observer_begin_exit(struct hx_observer *obs)
{
	obs->log.nentries = 0;
	obs->log.data_len = 0;
	obs->log.overflow = 0;
}

struct hx_obs_view hx_observer_view(const struct hx_observer *obs)
{
	return (struct hx_obs_view){
	        .entries = obs->log.entries,
	        .nentries = obs->log.nentries,
	        .overflow = obs->log.overflow,
	        .data = obs->log.data,
	        .data_len = obs->log.data_len,
	};
}

const uint8_t *hx_obs_bytes(const struct hx_obs_view *v, uint32_t off, uint32_t len)
{
	if (off > v->data_len || len > v->data_len - off)
		return NULL;
	return v->data + off;
}

const uint8_t *hx_obs_seen_bytes(const struct hx_obs_view *v, const struct hx_obs_entry *e)
{
	if (e->kind == HX_OBS_PHYS_READ && !e->failed)
		return hx_obs_bytes(v, e->data, e->len);
	if (e->kind == HX_OBS_PHYS_WRITE && e->has_before)
		return hx_obs_bytes(v, e->before, e->len);
	return NULL;
}

const char *hx_obs_kind_str(uint32_t kind)
{
	switch (kind) {
	case HX_OBS_CPUID:
		return "cpuid";
	case HX_OBS_RDMSR:
		return "rdmsr";
	case HX_OBS_WRMSR:
		return "wrmsr";
	case HX_OBS_PHYS_READ:
		return "phys_read";
	case HX_OBS_PHYS_WRITE:
		return "phys_write";
	case HX_OBS_CONSOLE:
		return "console";
	case HX_OBS_EPT_CHANGED:
		return "ept_changed";
	default:
		return "unknown";
	}
}
