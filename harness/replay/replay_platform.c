/* The replay platform: host memory is a sparse model filled from the
 * trace; host CPUID/MSR answers are the recorded ones. */
#include <stdlib.h>
#include <string.h>

#include "no_coverage.h"
#include "replay_internal.h"

/* ---- sparse memory ---- */

static uint32_t slot_of(uint64_t key, uint32_t cap)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (cap - 1);
}

bool rp_mem_init(struct rp_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->cap = 256;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->slot_page = calloc(m->cap, sizeof(*m->slot_page));
	return m->keys && m->slot_page;
}

void rp_mem_reset(struct rp_mem *m, uint64_t host_size)
{
	memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->count = 0;
	m->used = 0;
	m->over_limit = false;
	m->host_size = host_size;
}

void rp_mem_free(struct rp_mem *m)
{
	for (uint32_t i = 0; i < m->nchunks; i++)
		free(m->chunks[i]);
	free(m->chunks);
	free(m->keys);
	free(m->slot_page);
	memset(m, 0, sizeof(*m));
}

/* The replay's page map is probed for every byte range an exit touches:
 * a primitive, not instrumented (no_coverage.h). */
HX_NO_COVERAGE static uint8_t *lookup(const struct rp_mem *m, uint64_t pfn)
{
	uint64_t key = pfn + 1;
	for (uint32_t i = slot_of(key, m->cap), n = 0; n < m->cap;
	     i = (i + 1) & (m->cap - 1), n++) {
		if (m->keys[i] == key)
			return m->slot_page[i];
		if (m->keys[i] == 0)
			return NULL;
	}
	return NULL;
}

static void insert(struct rp_mem *m, uint64_t key, uint8_t *page)
{
	uint32_t i = slot_of(key, m->cap);
	while (m->keys[i] != 0)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->slot_page[i] = page;
	m->count++;
}

static bool grow_table(struct rp_mem *m)
{
	uint32_t old_cap = m->cap;
	uint64_t *old_keys = m->keys;
	uint8_t **old_pages = m->slot_page;
	uint32_t cap = old_cap * 2;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint8_t **pages = calloc(cap, sizeof(*pages));
	if (!keys || !pages) {
		free(keys);
		free(pages);
		return false;
	}
	m->keys = keys;
	m->slot_page = pages;
	m->cap = cap;
	m->count = 0;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old_keys[i])
			insert(m, old_keys[i], old_pages[i]);
	free(old_keys);
	free(old_pages);
	return true;
}

static uint8_t *new_page(struct rp_mem *m)
{
	uint32_t chunk = m->used / RP_CHUNK_PAGES;
	if (chunk >= m->nchunks) {
		uint8_t **chunks = realloc(m->chunks, (m->nchunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		m->chunks = chunks;
		m->chunks[m->nchunks] = malloc(RP_CHUNK_PAGES * HV_PAGE_SIZE);
		if (!m->chunks[m->nchunks])
			return NULL;
		m->nchunks++;
	}
	uint8_t *page = m->chunks[chunk] + (size_t)(m->used % RP_CHUNK_PAGES) * HV_PAGE_SIZE;
	m->used++;
	memset(page, 0, HV_PAGE_SIZE);
	return page;
}

static uint8_t *touch(struct rp_mem *m, uint64_t pfn)
{
	uint8_t *p = lookup(m, pfn);
	if (p)
		return p;
	if (m->used >= HX_REPLAY_MAX_PAGES) {
		m->over_limit = true;
		return NULL;
	}
	if ((m->count + 1) * 2 > m->cap && !grow_table(m))
		return NULL;
	p = new_page(m);
	if (p)
		insert(m, pfn + 1, p);
	return p;
}

static bool in_host(const struct rp_mem *m, uint64_t hpa, uint32_t len)
{
	return hpa < m->host_size && len <= m->host_size - hpa;
}

bool rp_mem_write(struct rp_mem *m, uint64_t hpa, const void *src, uint32_t len)
{
	if (!in_host(m, hpa, len))
		return false;
	const uint8_t *s = src;
	while (len) {
		uint32_t off = (uint32_t)(hpa & (HV_PAGE_SIZE - 1));
		uint32_t n =
		        (uint32_t)HV_PAGE_SIZE - off < len ? (uint32_t)HV_PAGE_SIZE - off : len;
		uint8_t *page = touch(m, hpa >> HV_PAGE_SHIFT);
		if (!page)
			return false;
		memcpy(page + off, s, n);
		s += n;
		hpa += n;
		len -= n;
	}
	return true;
}

bool rp_mem_read(struct rp_mem *m, uint64_t hpa, void *dst, uint32_t len)
{
	if (!in_host(m, hpa, len))
		return false;
	uint8_t *d = dst;
	while (len) {
		uint32_t off = (uint32_t)(hpa & (HV_PAGE_SIZE - 1));
		uint32_t n =
		        (uint32_t)HV_PAGE_SIZE - off < len ? (uint32_t)HV_PAGE_SIZE - off : len;
		const uint8_t *page = lookup(m, hpa >> HV_PAGE_SHIFT);
		if (page)
			memcpy(d, page + off, n);
		else
			memset(d, 0, n);
		d += n;
		hpa += n;
		len -= n;
	}
	return true;
}

/* ---- recorded answers ---- */

static struct rp_cpuid *cpuid_slot(struct rp_platform *p, uint32_t leaf, uint32_t sub, bool *found)
{
	uint64_t key = ((uint64_t)leaf << 32 | sub) + 1;
	uint32_t i = slot_of(key, RP_CPUID_CACHE);
	for (uint32_t n = 0; n < RP_CPUID_CACHE; n++, i = (i + 1) & (RP_CPUID_CACHE - 1)) {
		if (p->cpuid[i].key == key || p->cpuid[i].key == 0) {
			*found = p->cpuid[i].key == key;
			if (!*found)
				p->cpuid_used[p->ncpuid_used++] = (uint16_t)i;
			p->cpuid[i].key = key;
			return &p->cpuid[i];
		}
	}
	return NULL; /* full: more distinct leaves than any CPU has */
}

void rp_platform_start(struct rp_platform *p, const struct hx_trace *t)
{
	for (uint32_t k = 0; k < p->ncpuid_used; k++)
		p->cpuid[p->cpuid_used[k]] = (struct rp_cpuid){0};
	p->ncpuid_used = 0;
	uint32_t distinct = 0;
	for (uint32_t i = 0; i < t->nexits; i++) {
		const struct hx_obs_view *v = &t->exits[i].log;
		for (uint32_t k = 0; k < v->nentries; k++) {
			const struct hx_obs_entry *e = &v->entries[k];
			if (e->kind != HX_OBS_CPUID || distinct >= RP_CPUID_CACHE / 2)
				continue;
			bool found;
			struct rp_cpuid *s = cpuid_slot(p, e->id, e->sub, &found);
			if (s && !found) {
				memcpy(s->regs, e->regs, sizeof(s->regs));
				distinct++;
			}
		}
	}
	p->cur = NULL;
}

void rp_platform_enter(struct rp_platform *p, const struct hx_trace_exit *e)
{
	p->cur = e;
	const struct hx_obs_view *v = &e->log;
	memset(p->consumed, 0, v->nentries < HX_OBS_MAX_ENTRIES ? v->nentries : HX_OBS_MAX_ENTRIES);
	/* Backwards, so the first observation of each byte is what stays:
	 * that is its value when the exit happened. */
	for (uint32_t k = v->nentries; k-- > 0;) {
		const struct hx_obs_entry *o = &v->entries[k];
		const uint8_t *bytes = hx_obs_seen_bytes(v, o);
		if (bytes)
			rp_mem_write(&p->mem, o->addr, bytes, o->len);
	}
}

/* ---- ops ---- */

static void rp_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct rp_platform *p = ctx;
	memset(out, 0, 4 * sizeof(out[0]));
	if (p->cur) {
		const struct hx_obs_view *v = &p->cur->log;
		for (uint32_t k = 0; k < v->nentries; k++) {
			const struct hx_obs_entry *e = &v->entries[k];
			if (e->kind == HX_OBS_CPUID && e->id == leaf && e->sub == subleaf) {
				memcpy(out, e->regs, sizeof(e->regs));
				return;
			}
		}
	}
	uint64_t key = ((uint64_t)leaf << 32 | subleaf) + 1;
	uint32_t i = slot_of(key, RP_CPUID_CACHE);
	for (uint32_t n = 0; n < RP_CPUID_CACHE && p->cpuid[i].key; n++) {
		if (p->cpuid[i].key == key) {
			memcpy(out, p->cpuid[i].regs, sizeof(p->cpuid[i].regs));
			return;
		}
		i = (i + 1) & (RP_CPUID_CACHE - 1);
	}
}

/* The next recorded call of this kind for msr in the current exit. */
static const struct hx_obs_entry *take_msr(struct rp_platform *p, uint8_t kind, uint32_t msr)
{
	if (!p->cur)
		return NULL;
	const struct hx_obs_view *v = &p->cur->log;
	for (uint32_t k = 0; k < v->nentries && k < HX_OBS_MAX_ENTRIES; k++) {
		const struct hx_obs_entry *e = &v->entries[k];
		if (e->kind == kind && e->id == msr && !p->consumed[k]) {
			p->consumed[k] = 1;
			return e;
		}
	}
	return NULL;
}

static int rp_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	const struct hx_obs_entry *e = take_msr(ctx, HX_OBS_RDMSR, msr);
	if (!e || e->failed)
		return -1; /* unrecorded: #GP, deterministically */
	*value = e->value;
	return 0;
}

static int rp_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	(void)value;
	const struct hx_obs_entry *e = take_msr(ctx, HX_OBS_WRMSR, msr);
	return e && !e->failed ? 0 : -1;
}

static int rp_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct rp_platform *p = ctx;
	return rp_mem_read(&p->mem, hpa, dst, len) ? 0 : -1;
}

static int rp_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct rp_platform *p = ctx;
	return rp_mem_write(&p->mem, hpa, src, len) ? 0 : -1;
}

static void rp_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	(void)ctx;
	(void)partition;
	(void)buf;
	(void)len; /* the observer records it */
}

const struct hv_platform_ops replay_platform_ops = {
        .cpuid = rp_cpuid,
        .rdmsr = rp_rdmsr,
        .wrmsr = rp_wrmsr,
        .phys_read = rp_phys_read,
        .phys_write = rp_phys_write,
        .console = rp_console,
        .log = NULL,
        .ept_changed = NULL,
};
