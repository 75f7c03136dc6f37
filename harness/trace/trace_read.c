/* Reading .hxt traces: header, checksum, records; every failure names the
 * exit, field and byte offset. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_file.h"
#include "no_coverage.h"
#include "trace_internal.h"

static void tag_str(uint32_t tag, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));
		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[4] = '\0';
}

/* The record at the cursor: tag and body bounds. */
static bool next_record(struct rd *r, size_t payload_end, uint32_t *tag, size_t *body_end)
{
	uint32_t len;
	r->end = payload_end;
	if (!rd_u32(r, "record.tag", tag) || !rd_u32(r, "record.length", &len))
		return false;
	if (len > rd_left(r) && r->truncated) {
		*body_end = payload_end;
		r->end = payload_end;
		return true;
	}
	if (len > rd_left(r)) {
		r->pos -= 4;
		rd_fail(r, "record.length", "record of %u bytes, only %zu bytes left in the file",
		        len, rd_left(r) - 4);
		return false;
	}
	*body_end = r->pos + len;
	r->end = *body_end;
	return true;
}

static bool expect_end(struct rd *r, const char *what)
{
	if (r->failed)
		return false;
	if (rd_left(r)) {
		rd_fail(r, what, "%zu unparsed bytes at the end of the record", rd_left(r));
		return false;
	}
	return true;
}

/* Records from pos to payload_end. Fails with the cursor's error. */
static bool parse_records(struct rd *r, size_t payload_end, uint32_t header_exits,
                          struct hx_trace *t)
{
	uint32_t tag;
	size_t body_end;
	char ts[5];
	static const uint32_t first[2] = {TR_TAG_META, TR_TAG_CONF};
	for (int i = 0; i < 2; i++) {
		size_t at = r->pos;
		if (!next_record(r, payload_end, &tag, &body_end))
			return false;
		if (tag != first[i]) {
			tag_str(tag, ts);
			r->pos = at;
			rd_fail(r, "record.tag", "expected a %s record, found '%s'",
			        i == 0 ? "META" : "CONF", ts);
			return false;
		}
		if (i == 0 && !tr_get_meta(r, t))
			return false;
		if (i == 1) {
			r->conf_at = r->pos - r->base;
			r->conf_len = body_end - r->pos;
			if (r->cache &&
			    tr_cache_lookup(r->cache, r->buf + r->conf_at, r->conf_len, t)) {
				r->pos = body_end; /* the same bytes parsed before */
			} else {
				t->cfg = tr_cfg_new();
				if (!t->cfg) {
					rd_fail(r, "config", "out of memory");
					return false;
				}
				if (!tr_get_config(r, t->cfg))
					return false;
			}
		}
		if (!expect_end(r, i == 0 ? "meta" : "config"))
			return false;
	}
	/* The pool must lie in hypervisor memory, where the verifier expects
	 * table pages. Unsealed (fuzz) inputs leave that to hv_system_init,
	 * so that the fuzzers reach the core's own check of the contract. */
	const struct hv_system_config *cfg = t->cfg;
	uint64_t pool_size = (uint64_t)t->pool_pages << HV_PAGE_SHIFT;
	if (!r->unsealed &&
	    (!hv_range_ok(t->pool_hpa, pool_size) ||
	     !hv_range_inside(t->pool_hpa, pool_size, cfg->hv_base, cfg->hv_size))) {
		r->pos = HX_TRACE_HEADER_SIZE;
		rd_fail(r, "meta.pool_hpa",
		        "page pool [0x%llx, +0x%llx) is not inside the hypervisor range "
		        "[0x%llx, +0x%llx)",
		        (unsigned long long)t->pool_hpa, (unsigned long long)pool_size,
		        (unsigned long long)cfg->hv_base, (unsigned long long)cfg->hv_size);
		return false;
	}
	/* Room for every exit at once, not by doubling (each step a copy, and
	 * under ASan fresh pages), as many as the header announces and the
	 * payload can hold (a record takes 8 bytes at least): a header cannot
	 * make a short input allocate much. Out of memory here only means
	 * growing as the records come. */
	size_t room = payload_end > r->pos ? (payload_end - r->pos) / 8 : 0;
	(void)tr_reserve_n(t, header_exits < room ? header_exits : (uint32_t)room);
	while (r->pos < payload_end) {
		size_t at = r->pos;
		r->exit = t->nexits;
		if (!next_record(r, payload_end, &tag, &body_end))
			return false;
		if (tag != TR_TAG_EXIT) {
			tag_str(tag, ts);
			r->pos = at;
			rd_fail(r, "record.tag", "expected an EXIT record, found '%s'", ts);
			return false;
		}
		if (t->nexits >= header_exits) {
			r->pos = at;
			rd_fail(r, "record", "more exit records than the %u the header announces",
			        header_exits);
			return false;
		}
		if (!tr_reserve(t)) {
			rd_fail(r, "record", "out of memory");
			return false;
		}
		struct hx_trace_exit *e = &t->exits[t->nexits];
		t->exit_mem[t->nexits] = NULL; /* its log is in the arena */
		bool ok = tr_get_exit(r, t, e);
		t->nexits++;
		if (!ok || !expect_end(r, "exit"))
			return false;
	}
	r->exit = -1;
	if (t->nexits != header_exits) {
		rd_fail(r, "header.exits", "the header announces %u exits, the file holds %u",
		        header_exits, t->nexits);
		return false;
	}
	return true;
}

static int fail_at(struct hx_trace_error *err, uint64_t off, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static int fail_at(struct hx_trace_error *err, uint64_t off, const char *field, const char *fmt,
                   ...)
{
	err->offset = off;
	err->exit_index = -1;
	snprintf(err->field, sizeof(err->field), "%s", field);
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err->msg, sizeof(err->msg), "field '%s' at byte offset %llu: %s", field,
	         (unsigned long long)off, why);
	return -1;
}

int hx_trace_parse(const uint8_t *buf, size_t len, struct hx_trace **out,
                   struct hx_trace_error *err)
{
	return hx_trace_parse_ex(buf, len, 0, out, err);
}

/* Count EXIT records by walking tags and lengths; stops at the first
 * record that does not fit. A byte-level walk of every unsealed input,
 * like the codec's primitives not instrumented. */
HX_NO_COVERAGE_LOOP static uint32_t count_exit_records(const uint8_t *buf, size_t len)
{
	size_t pos = HX_TRACE_HEADER_SIZE;
	uint32_t n = 0;
	while (len - pos >= 8) {
		uint32_t body = (uint32_t)tr_get_le(buf + pos + 4, 4);
		if (tr_get_le(buf + pos, 4) == TR_TAG_EXIT && n < HX_TRACE_MAX_EXITS)
			n++;
		if (body > len - pos - 8)
			break;
		pos += 8 + (size_t)body;
	}
	return n;
}

int hx_trace_reseal(uint8_t *buf, size_t len)
{
	if (len < HX_TRACE_HEADER_SIZE || memcmp(buf, HX_TRACE_MAGIC, 8) != 0)
		return -1;
	size_t plen = len - HX_TRACE_HEADER_SIZE;
	uint8_t hdr[HX_TRACE_HEADER_SIZE];
	tr_header(hdr, plen, hx_fnv1a64(buf + HX_TRACE_HEADER_SIZE, plen, HX_FNV1A64_INIT),
	          count_exit_records(buf, len));
	/* Keep version/size/flags as they are: those are the reader's to judge. */
	memcpy(buf + 16, hdr + 16, 20);
	return 0;
}

int hx_trace_parse_ex(const uint8_t *buf, size_t len, uint32_t flags, struct hx_trace **out,
                      struct hx_trace_error *err)
{
	return hx_trace_parse_cached(buf, len, flags, NULL, out, err);
}

/* The shell of a freed trace and its exit arrays, kept for the next parse
 * (per thread): each fuzz input's trace was two arrays allocated for its
 * exits and grown as inputs grew. Only shells of up to TR_SPARE_EXITS exits
 * are kept, so a long trace's arrays go back to the allocator. */
#define TR_SPARE_EXITS 4096u

static _Thread_local struct hx_trace *spare_shell;

static struct hx_trace *shell_new(void)
{
	struct hx_trace *t = spare_shell;
	if (!t)
		return calloc(1, sizeof(*t));
	spare_shell = NULL;
	struct hx_trace_exit *exits = t->exits;
	void **exit_mem = t->exit_mem;
	uint32_t cap = t->cap;
	memset(t, 0, sizeof(*t));
	t->exits = exits;
	t->exit_mem = exit_mem;
	t->cap = cap;
	return t;
}

/* A trace the parser refuses: no one else saw its config. */
static void discard(struct hx_trace *t)
{
	if (!t->cfg_shared) {
		tr_cfg_free_parsed(t->cfg);
		t->cfg = NULL;
	}
	hx_trace_free(t);
}

int hx_trace_parse_cached(const uint8_t *buf, size_t len, uint32_t flags,
                          struct hx_trace_cache *cache, struct hx_trace **out,
                          struct hx_trace_error *err)
{
	bool unsealed = flags & HX_TRACE_UNSEALED;
	struct hx_trace_error scratch;
	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	err->exit_index = -1;
	*out = NULL;
	if (len > HX_TRACE_MAX_FILE)
		return fail_at(err, 0, "file", "%zu bytes, over the limit of %llu bytes", len,
		               HX_TRACE_MAX_FILE);
	if (len < 8 || memcmp(buf, HX_TRACE_MAGIC, 8) != 0)
		return fail_at(err, 0, "header.magic", "not an hx trace (bad magic)");
	if (len < HX_TRACE_HEADER_SIZE)
		return fail_at(err, len, "header", "truncated: %zu bytes, the header alone is %u",
		               len, HX_TRACE_HEADER_SIZE);
	uint32_t version = (uint32_t)tr_get_le(buf + 8, 4);
	if (version < HX_TRACE_MIN_VERSION || version > HX_TRACE_VERSION)
		return fail_at(err, 8, "header.version",
		               "unsupported trace version %u (this hx reads versions %u to %u)",
		               version, HX_TRACE_MIN_VERSION, HX_TRACE_VERSION);
	if (tr_get_le(buf + 12, 4) != HX_TRACE_HEADER_SIZE)
		return fail_at(err, 12, "header.size", "header size %llu, expected %u",
		               (unsigned long long)tr_get_le(buf + 12, 4), HX_TRACE_HEADER_SIZE);
	if (tr_get_le(buf + 36, 4) != 0)
		return fail_at(err, 36, "header.flags", "unknown flags 0x%llx",
		               (unsigned long long)tr_get_le(buf + 36, 4));
	uint64_t payload_len = tr_get_le(buf + 16, 8);
	uint64_t checksum = tr_get_le(buf + 24, 8);
	uint32_t nexits = (uint32_t)tr_get_le(buf + 32, 4);
	if (unsealed) {
		payload_len = len - HX_TRACE_HEADER_SIZE;
		nexits = count_exit_records(buf, len);
	}
	if (nexits > HX_TRACE_MAX_EXITS)
		return fail_at(err, 32, "header.exits", "%u exits, over the limit of %u", nexits,
		               HX_TRACE_MAX_EXITS);
	size_t have = len - HX_TRACE_HEADER_SIZE;
	if (payload_len < have)
		return fail_at(err, HX_TRACE_HEADER_SIZE + payload_len, "payload",
		               "%llu trailing bytes after the %llu-byte payload",
		               (unsigned long long)(have - payload_len),
		               (unsigned long long)payload_len);

	struct hx_trace *t = shell_new();
	if (!t)
		return fail_at(err, 0, "file", "out of memory");
	t->version = version;
	struct rd r = {.buf = buf,
	               .pos = HX_TRACE_HEADER_SIZE,
	               .end = len,
	               .exit = -1,
	               .unsealed = unsealed,
	               .version = version,
	               /* Cached configs are keyed by the version and the
	                * CONF bytes (trace_cache.c). */
	               .cache = cache,
	               .err = err};

	if (payload_len > have) {
		/* Truncated: parse what is there to say exactly where it stops. */
		r.truncated = true;
		bool ok = parse_records(&r, len, nexits, t);
		char where[sizeof(err->msg)];
		if (ok)
			snprintf(where, sizeof(where), "after exit %u",
			         t->nexits ? t->nexits - 1 : 0);
		else
			snprintf(where, sizeof(where), "%s", err->msg);
		snprintf(err->msg, sizeof(err->msg),
		         "truncated: %zu of %llu payload bytes present; %.200s", have,
		         (unsigned long long)payload_len, where);
		if (ok) {
			err->offset = len;
			snprintf(err->field, sizeof(err->field), "payload");
		}
		discard(t);
		return -1;
	}
	uint64_t sum =
	        unsealed ? checksum : hx_fnv1a64(buf + HX_TRACE_HEADER_SIZE, have, HX_FNV1A64_INIT);
	if (sum != checksum) {
		discard(t);
		return fail_at(
		        err, 24, "header.checksum",
		        "checksum mismatch (header 0x%016llx, payload 0x%016llx): the file is "
		        "corrupted",
		        (unsigned long long)checksum, (unsigned long long)sum);
	}
	if (!parse_records(&r, len, nexits, t)) {
		discard(t);
		return -1;
	}
	/* The config must be one the core accepts (a shared one was). */
	struct hv_config_diag diag;
	if (t->cfg_shared)
		goto done;
	if (hv_config_validate(t->cfg, &diag) != HV_OK) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "rejected by validation: %s (partition %d, index %d)",
		         hv_config_error_str(diag.error), diag.partition, diag.index);
		discard(t);
		err->offset = HX_TRACE_HEADER_SIZE;
		err->exit_index = -1;
		snprintf(err->field, sizeof(err->field), "config");
		snprintf(err->msg, sizeof(err->msg), "config: %.300s", why);
		return -1;
	}
	if (r.cache)
		tr_cache_insert(r.cache, buf + r.conf_at, r.conf_len, t);
done:
	*out = t;
	return 0;
}

int hx_trace_load(const char *path, struct hx_trace **out, struct hx_trace_error *err)
{
	return hx_trace_load_ex(path, 0, out, err);
}

int hx_trace_load_ex(const char *path, uint32_t flags, struct hx_trace **out,
                     struct hx_trace_error *err)
{
	struct hx_trace_error scratch;
	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	err->exit_index = -1;
	*out = NULL;
	uint8_t *buf;
	size_t len;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, HX_TRACE_MAX_FILE, &buf, &len, why, sizeof(why)) != 0) {
		snprintf(err->field, sizeof(err->field), "file");
		snprintf(err->msg, sizeof(err->msg), "%.300s", why);
		return -1;
	}
	int rc = hx_trace_parse_ex(buf, len, flags, out, err);
	free(buf);
	return rc;
}

void hx_trace_free(struct hx_trace *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nexits; i++)
		free(t->exit_mem[i]);
	tr_arena_free(t);
	if (t->cfg_shared)
		tr_cfg_unref(t->cfg_shared);
	else
		tr_cfg_free(t->cfg);
	if (!spare_shell && t->cap <= TR_SPARE_EXITS) {
		spare_shell = t;
		return;
	}
	free(t->exit_mem);
	free(t->exits);
	free(t);
}
