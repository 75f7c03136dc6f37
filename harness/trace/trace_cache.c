/* Configs shared between traces: fuzz inputs are mutations of a few seeds,
 * so almost every input carries a CONF record already parsed and validated
 * for an earlier one. Parsing with a cache compares the record's bytes with
 * the configs last parsed through it and, when they are equal, shares that
 * config (refcounted) instead of parsing and validating it again. The bytes
 * and the format version decide (the same bytes mean different configs in
 * different versions), so a shared config is exactly what parsing would
 * have produced. */
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

struct tr_cfg_entry {
	uint32_t refs; /* the cache's own reference + one per trace */
	uint64_t id;
	struct hv_system_config *cfg;
	uint32_t version; /* of the trace the bytes came from */
	size_t len;
	uint8_t bytes[]; /* the CONF record's body */
};

/* A few configs, most recently used first: a fuzzer's corpus mixes the
 * seeds of several configs. */
#define TR_CACHE_ENTRIES 8

struct hx_trace_cache {
	struct tr_cfg_entry *e[TR_CACHE_ENTRIES];
	uint64_t next_id;
	uint64_t hits, misses;
};

struct hx_trace_cache *hx_trace_cache_new(void)
{
	struct hx_trace_cache *c = calloc(1, sizeof(*c));
	if (c)
		c->next_id = 1;
	return c;
}

void tr_cfg_unref(struct tr_cfg_entry *e)
{
	if (e && --e->refs == 0) {
		tr_cfg_free_parsed(e->cfg);
		free(e);
	}
}

void hx_trace_cache_free(struct hx_trace_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < TR_CACHE_ENTRIES; i++)
		tr_cfg_unref(c->e[i]);
	free(c);
}

void hx_trace_cache_stats(const struct hx_trace_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}

/* The entry holding these CONF bytes of a trace of this version, or -1. */
static int cache_find(const struct hx_trace_cache *c, const uint8_t *body, size_t len,
                      uint32_t version)
{
	for (int i = 0; i < TR_CACHE_ENTRIES; i++)
		if (c->e[i] && c->e[i]->version == version && c->e[i]->len == len &&
		    memcmp(c->e[i]->bytes, body, len) == 0)
			return i;
	return -1;
}

bool tr_cache_lookup(struct hx_trace_cache *c, const uint8_t *body, size_t len, struct hx_trace *t)
{
	int i = cache_find(c, body, len, t->version);
	if (i < 0) {
		c->misses++;
		return false;
	}
	struct tr_cfg_entry *e = c->e[i];
	memmove(&c->e[1], &c->e[0], (size_t)i * sizeof(c->e[0])); /* to the front */
	c->e[0] = e;
	c->hits++;
	e->refs++;
	t->cfg = e->cfg;
	t->cfg_id = e->id;
	t->cfg_shared = e;
	return true;
}

const struct hv_system_config *hx_trace_cache_config(const struct hx_trace_cache *c,
                                                     const uint8_t *buf, size_t len)
{
	/* The header's version, then META (skipped) and CONF, each u32 tag,
	 * u32 length, body (trace.h). Nothing is parsed: only bytes already
	 * parsed and validated through the cache can match. */
	size_t meta, conf;
	uint32_t tag;
	if (!c || len < HX_TRACE_HEADER_SIZE || memcmp(buf, HX_TRACE_MAGIC, 8) != 0 ||
	    !tr_record_at(buf, len, HX_TRACE_HEADER_SIZE, &tag, &meta) || tag != TR_TAG_META)
		return NULL;
	size_t pos = HX_TRACE_HEADER_SIZE + 8 + meta;
	if (!tr_record_at(buf, len, pos, &tag, &conf) || tag != TR_TAG_CONF)
		return NULL;
	int i = cache_find(c, buf + pos + 8, conf, (uint32_t)tr_get_le(buf + 8, 4));
	return i < 0 ? NULL : c->e[i]->cfg;
}

void tr_cache_insert(struct hx_trace_cache *c, const uint8_t *body, size_t len, struct hx_trace *t)
{
	struct tr_cfg_entry *e = malloc(sizeof(*e) + len);
	if (!e)
		return; /* the trace keeps its own config */
	e->refs = 2;    /* the cache and t */
	e->id = c->next_id++;
	e->cfg = t->cfg;
	e->version = t->version;
	e->len = len;
	memcpy(e->bytes, body, len);
	tr_cfg_unref(c->e[TR_CACHE_ENTRIES - 1]); /* the least recently used */
	memmove(&c->e[1], &c->e[0], (TR_CACHE_ENTRIES - 1) * sizeof(c->e[0]));
	c->e[0] = e;
	t->cfg_id = e->id;
	t->cfg_shared = e;
}
