/* META and CONF records: the trace's name/note/pool and the system config,
 * field by field with explicit counts (never a raw struct), so a trace is
 * portable and every count is checked against the hv/config.h limits. */
#include <stdio.h>
#include <string.h>

#include "trace_internal.h"

/* ---- META ---- */

const char *tr_config_file_name(const char *config_name)
{
	if (!config_name)
		return "";
	const char *slash = strrchr(config_name, '/');
	return slash ? slash + 1 : config_name;
}

void tr_put_meta(struct wbuf *w, const struct hx_trace_meta *m)
{
	size_t rec = wb_begin_record(w, TR_TAG_META);
	const char *name = tr_config_file_name(m->config_name);
	const char *note = m->note ? m->note : "";
	size_t nl = strnlen(name, HX_TRACE_NAME_MAX - 1);
	size_t tl = strnlen(note, HX_TRACE_NOTE_MAX - 1);
	wb_u8(w, (uint8_t)nl);
	wb_bytes(w, name, nl);
	wb_u16(w, (uint16_t)tl);
	wb_bytes(w, note, tl);
	wb_u64(w, m->pool_hpa);
	wb_u32(w, m->pool_pages);
	wb_end_record(w, rec);
}

/* Text without NUL bytes. */
static bool rd_text(struct rd *r, const char *field, size_t n, size_t max, char *out)
{
	if (n >= max) {
		rd_fail(r, field, "length %zu over the limit of %zu", n, max - 1);
		return false;
	}
	const uint8_t *p = rd_bytes(r, field, n);
	if (!p)
		return false;
	if (memchr(p, 0, n)) {
		rd_fail(r, field, "contains a NUL byte");
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

bool tr_get_meta(struct rd *r, struct hx_trace *t)
{
	uint8_t nl;
	uint16_t tl;
	if (!rd_u8(r, "meta.config_name.len", &nl) ||
	    !rd_text(r, "meta.config_name", nl, HX_TRACE_NAME_MAX, t->config_name) ||
	    !rd_u16(r, "meta.note.len", &tl) ||
	    !rd_text(r, "meta.note", tl, HX_TRACE_NOTE_MAX, t->note) ||
	    !rd_u64(r, "meta.pool_hpa", &t->pool_hpa))
		return false;
	if (t->pool_hpa & (HV_PAGE_SIZE - 1)) {
		r->pos -= 8;
		rd_fail(r, "meta.pool_hpa", "0x%llx is not 4 KiB aligned",
		        (unsigned long long)t->pool_hpa);
		return false;
	}
	if (!rd_u32(r, "meta.pool_pages", &t->pool_pages))
		return false;
	if (t->pool_pages == 0 || t->pool_pages > HX_TRACE_MAX_POOL_PAGES) {
		r->pos -= 4;
		rd_fail(r, "meta.pool_pages", "%u pages is outside 1..%u", t->pool_pages,
		        HX_TRACE_MAX_POOL_PAGES);
		return false;
	}
	return true;
}

/* ---- CONF ---- */

static void put_name(struct wbuf *w, const char *name)
{
	size_t n = strnlen(name, HV_NAME_LEN - 1);
	wb_u8(w, (uint8_t)n);
	wb_bytes(w, name, n);
}

static void put_partition(struct wbuf *w, const struct hv_partition_config *p)
{
	put_name(w, p->name);
	wb_u32(w, p->nvcpus);
	wb_u32(w, p->hcall_allowed);
	wb_u32(w, p->contain);
	wb_u32(w, p->nregions);
	for (uint32_t i = 0; i < p->nregions && i < HV_MAX_REGIONS; i++) {
		const struct hv_region *r = &p->regions[i];
		wb_u64(w, r->gpa);
		wb_u64(w, r->hpa);
		wb_u64(w, r->size);
		wb_u8(w, r->type);
		wb_u8(w, r->perm);
		wb_u8(w, r->memtype);
	}
	wb_u32(w, p->ndevices);
	for (uint32_t i = 0; i < p->ndevices && i < HV_MAX_DEVICES; i++) {
		wb_u64(w, p->devices[i].gpa);
		wb_u64(w, p->devices[i].size);
		wb_u32(w, p->devices[i].type);
	}
	wb_u32(w, p->nchannels);
	for (uint32_t i = 0; i < p->nchannels && i < HV_MAX_CHANNELS; i++) {
		wb_u32(w, p->channels[i].channel);
		wb_u8(w, p->channels[i].perm);
		wb_u64(w, p->channels[i].gpa);
	}
	wb_u32(w, p->cpuid.max_basic_leaf);
	wb_u32(w, p->cpuid.max_ext_leaf);
	wb_u32(w, p->cpuid.nrules);
	for (uint32_t i = 0; i < p->cpuid.nrules && i < HV_MAX_CPUID_RULES; i++) {
		const struct hv_cpuid_rule *c = &p->cpuid.rules[i];
		wb_u32(w, c->leaf);
		wb_u32(w, c->subleaf);
		wb_u8(w, c->any_subleaf);
		for (int k = 0; k < 4; k++)
			wb_u32(w, c->and_mask[k]);
		for (int k = 0; k < 4; k++)
			wb_u32(w, c->or_bits[k]);
	}
	wb_u32(w, p->msr.nrules);
	for (uint32_t i = 0; i < p->msr.nrules && i < HV_MAX_MSR_RULES; i++) {
		const struct hv_msr_rule *m = &p->msr.rules[i];
		wb_u32(w, m->msr);
		wb_u8(w, m->mode);
		wb_u64(w, m->init);
		wb_u64(w, m->writable_mask);
	}
	/* Since version 3. */
	wb_u32(w, p->nio);
	for (uint32_t i = 0; i < p->nio && i < HV_MAX_IO_DEVICES; i++) {
		wb_u16(w, p->io[i].base);
		wb_u32(w, p->io[i].type);
		wb_u64(w, p->io[i].init);
	}
}

void tr_put_config(struct wbuf *w, const struct hv_system_config *cfg)
{
	size_t rec = wb_begin_record(w, TR_TAG_CONF);
	wb_u64(w, cfg->host_mem_size);
	wb_u64(w, cfg->hv_base);
	wb_u64(w, cfg->hv_size);
	wb_u32(w, cfg->vendor); /* since version 2 */
	wb_u32(w, cfg->npartitions);
	wb_u32(w, cfg->nchannels);
	for (uint32_t c = 0; c < cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		put_name(w, cfg->channels[c].name);
		wb_u64(w, cfg->channels[c].hpa);
		wb_u64(w, cfg->channels[c].size);
	}
	for (uint32_t p = 0; p < cfg->npartitions && p < HV_MAX_PARTITIONS; p++)
		put_partition(w, &cfg->partitions[p]);
	wb_end_record(w, rec);
}

/* A count with its limit; the error points at the count itself. */
static bool rd_count(struct rd *r, const char *field, uint32_t max, uint32_t *n)
{
	if (!rd_u32(r, field, n))
		return false;
	if (*n > max) {
		r->pos -= 4;
		rd_fail(r, field, "count %u over the limit of %u", *n, max);
		return false;
	}
	return true;
}

/* Partition and channel names follow the config loader's rule: printable
 * ASCII only, since dumps and messages print them (a control byte could
 * forge output lines or drive the terminal). */
static bool get_name(struct rd *r, const char *field, char out[HV_NAME_LEN])
{
	uint8_t n;
	memset(out, 0, HV_NAME_LEN);
	if (!rd_u8(r, field, &n) || !rd_text(r, field, n, HV_NAME_LEN, out))
		return false;
	for (uint8_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c >= 0x20 && c <= 0x7e)
			continue;
		r->pos -= n - i;
		rd_fail(r, field,
		        "byte 0x%02x at %u is not printable ASCII (names must be 0x20..0x7e)", c,
		        i);
		return false;
	}
	return true;
}

static bool get_partition(struct rd *r, struct hv_partition_config *p)
{
	if (!get_name(r, "name", p->name) || !rd_u32(r, "nvcpus", &p->nvcpus) ||
	    !rd_u32(r, "hcall_allowed", &p->hcall_allowed) || !rd_u32(r, "contain", &p->contain) ||
	    !rd_count(r, "nregions", HV_MAX_REGIONS, &p->nregions))
		return false;
	for (uint32_t i = 0; i < p->nregions; i++) {
		struct hv_region *g = &p->regions[i];
		r->scope2 = "regions";
		r->idx2 = i;
		if (!rd_u64(r, "gpa", &g->gpa) || !rd_u64(r, "hpa", &g->hpa) ||
		    !rd_u64(r, "size", &g->size) || !rd_u8(r, "type", &g->type) ||
		    !rd_u8(r, "perm", &g->perm) || !rd_u8(r, "memtype", &g->memtype))
			return false;
	}
	if (!rd_count(r, "ndevices", HV_MAX_DEVICES, &p->ndevices))
		return false;
	r->scope2 = NULL;
	for (uint32_t i = 0; i < p->ndevices; i++) {
		struct hv_device_config *d = &p->devices[i];
		r->scope2 = "devices";
		r->idx2 = i;
		if (!rd_u64(r, "gpa", &d->gpa) || !rd_u64(r, "size", &d->size) ||
		    !rd_u32(r, "type", &d->type))
			return false;
	}
	if (!rd_count(r, "nchannels", HV_MAX_CHANNELS, &p->nchannels))
		return false;
	r->scope2 = NULL;
	for (uint32_t i = 0; i < p->nchannels; i++) {
		struct hv_channel_member *m = &p->channels[i];
		r->scope2 = "channels";
		r->idx2 = i;
		if (!rd_u32(r, "channel", &m->channel) || !rd_u8(r, "perm", &m->perm) ||
		    !rd_u64(r, "gpa", &m->gpa))
			return false;
	}
	if (!rd_u32(r, "cpuid.max_basic_leaf", &p->cpuid.max_basic_leaf) ||
	    !rd_u32(r, "cpuid.max_ext_leaf", &p->cpuid.max_ext_leaf) ||
	    !rd_count(r, "cpuid.nrules", HV_MAX_CPUID_RULES, &p->cpuid.nrules))
		return false;
	r->scope2 = NULL;
	for (uint32_t i = 0; i < p->cpuid.nrules; i++) {
		struct hv_cpuid_rule *c = &p->cpuid.rules[i];
		r->scope2 = "cpuid.rules";
		r->idx2 = i;
		if (!rd_u32(r, "leaf", &c->leaf) || !rd_u32(r, "subleaf", &c->subleaf) ||
		    !rd_u8(r, "any_subleaf", &c->any_subleaf))
			return false;
		for (int k = 0; k < 4; k++)
			if (!rd_u32(r, "and_mask", &c->and_mask[k]))
				return false;
		for (int k = 0; k < 4; k++)
			if (!rd_u32(r, "or_bits", &c->or_bits[k]))
				return false;
	}
	if (!rd_count(r, "msr.nrules", HV_MAX_MSR_RULES, &p->msr.nrules))
		return false;
	r->scope2 = NULL;
	for (uint32_t i = 0; i < p->msr.nrules; i++) {
		struct hv_msr_rule *m = &p->msr.rules[i];
		r->scope2 = "msr.rules";
		r->idx2 = i;
		if (!rd_u32(r, "msr", &m->msr) || !rd_u8(r, "mode", &m->mode) ||
		    !rd_u64(r, "init", &m->init) || !rd_u64(r, "writable_mask", &m->writable_mask))
			return false;
	}
	r->scope2 = NULL;
	/* Port-I/O devices came with version 3: earlier partitions have none. */
	p->nio = 0;
	if (r->version < 3)
		return true;
	if (!rd_count(r, "nio", HV_MAX_IO_DEVICES, &p->nio))
		return false;
	for (uint32_t i = 0; i < p->nio; i++) {
		struct hv_io_device *d = &p->io[i];
		r->scope2 = "io";
		r->idx2 = i;
		if (!rd_u16(r, "base", &d->base) || !rd_u32(r, "type", &d->type) ||
		    !rd_u64(r, "init", &d->init))
			return false;
	}
	r->scope2 = NULL;
	return true;
}

bool tr_get_config(struct rd *r, struct hv_system_config *cfg)
{
	if (!rd_u64(r, "config.host_mem_size", &cfg->host_mem_size) ||
	    !rd_u64(r, "config.hv_base", &cfg->hv_base) ||
	    !rd_u64(r, "config.hv_size", &cfg->hv_size))
		return false;
	/* Version 1 traces predate AMD support: they are Intel. */
	cfg->vendor = HV_VENDOR_INTEL;
	if (r->version >= 2 && !rd_u32(r, "config.vendor", &cfg->vendor))
		return false;
	if (!rd_count(r, "config.npartitions", HV_MAX_PARTITIONS, &cfg->npartitions) ||
	    !rd_count(r, "config.nchannels", HV_MAX_CHANNELS, &cfg->nchannels))
		return false;
	for (uint32_t c = 0; c < cfg->nchannels; c++) {
		struct hv_channel_config *ch = &cfg->channels[c];
		r->scope1 = "channels";
		r->idx1 = c;
		if (!get_name(r, "name", ch->name) || !rd_u64(r, "hpa", &ch->hpa) ||
		    !rd_u64(r, "size", &ch->size))
			return false;
	}
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		r->scope1 = "partitions";
		r->idx1 = p;
		if (!get_partition(r, &cfg->partitions[p]))
			return false;
	}
	r->scope1 = NULL;
	return true;
}
