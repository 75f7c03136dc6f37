/* Encoding helpers shared by the trace reader and writers; not API. */
#ifndef HX_TRACE_INTERNAL_H
#define HX_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define TR_TAG(a, b, c, d)                                                                         \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TR_TAG_META TR_TAG('M', 'E', 'T', 'A')
#define TR_TAG_CONF TR_TAG('C', 'O', 'N', 'F')
#define TR_TAG_EXIT TR_TAG('E', 'X', 'I', 'T')

/* An EXIT record's body from its start (trace.h): the input, then the
 * flags byte (then the log). Written and read field
 * by field (trace_exit.c); edited in place by the mutator (trace_mutate.c),
 * whose unit test pins these against the parser. */
enum {
	TR_EXIT_REASON = 0,
	TR_EXIT_PARTITION = 4,
	TR_EXIT_VCPU = 8,
	TR_EXIT_INSN_LEN = 12,
	TR_EXIT_QUAL = 16,
	TR_EXIT_GPA = 24,
	TR_EXIT_GLA = 32,
	TR_EXIT_GPR = 40, /* 16 x u64, in enum hv_gpr order */
	TR_EXIT_RIP = TR_EXIT_GPR + 8 * HV_GPR_COUNT,
	TR_EXIT_RFLAGS = TR_EXIT_RIP + 8,
	TR_EXIT_CR0 = TR_EXIT_RFLAGS + 8,
	TR_EXIT_CR3 = TR_EXIT_CR0 + 8,
	TR_EXIT_CR4 = TR_EXIT_CR3 + 8,
	TR_EXIT_EFER = TR_EXIT_CR4 + 8,
	TR_EXIT_CPL = TR_EXIT_EFER + 8,
	TR_EXIT_INPUT = TR_EXIT_CPL + 1, /* bytes of the input */
	TR_EXIT_FLAGS = TR_EXIT_INPUT,
};

#define TR_OP_FAILED 1u
#define TR_OP_BEFORE 2u

/* Little-endian loads and stores of n = 1, 2, 4 or 8 bytes. */
uint64_t tr_get_le(const uint8_t *p, unsigned n);
void tr_put_le(uint8_t *p, uint64_t v, unsigned n);
/* Whether a whole record (u32 tag, u32 body length, body) lies at pos of
 * buf[0, len); then its tag and body length. For the walks over record
 * heads that do not parse (mutator, config lookup). */
bool tr_record_at(const uint8_t *buf, size_t len, size_t pos, uint32_t *tag, size_t *body);

/* ---- writing: a growable little-endian buffer ---- */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed; /* out of memory or over HX_TRACE_MAX_FILE */
};

void wb_bytes(struct wbuf *w, const void *src, size_t n);
void wb_u8(struct wbuf *w, uint8_t v);
void wb_u16(struct wbuf *w, uint16_t v);
void wb_u32(struct wbuf *w, uint32_t v);
void wb_u64(struct wbuf *w, uint64_t v);
/* Start a record; returns the position to pass to wb_end_record. */
size_t wb_begin_record(struct wbuf *w, uint32_t tag);
void wb_end_record(struct wbuf *w, size_t start);
void wb_free(struct wbuf *w);

/* ---- reading: a bounded cursor that knows where it is ---- */
struct rd {
	const uint8_t *buf;
	size_t pos;   /* absolute offset in the file (buf[0] is offset `base`) */
	size_t end;   /* limit of the current record */
	size_t base;  /* file offset of buf[0] */
	int64_t exit; /* exit being read, -1 outside exits */
	/* Where inside the record: "partitions"[2] . "regions"[5] . field;
	 * NULL scopes are left out. Composed only when an error is reported. */
	const char *scope1, *scope2;
	uint32_t idx1, idx2;
	bool failed;
	/* The file is known to be cut short: a record running past the end is
	 * read up to the end, so the error names the field that was cut. */
	bool truncated;
	/* HX_TRACE_UNSEALED: the pool placement is left to hv_system_init. */
	bool unsealed;
	uint32_t version;             /* the file's format version */
	struct hx_trace_cache *cache; /* may be NULL */
	/* The CONF record's body, for the cache after validation. */
	size_t conf_at, conf_len;
	struct hx_trace_error *err;
};

/* Record a precise error at the current position and fail the cursor.
 * field is a static name; the scopes (if any) are prefixed. */
void rd_fail(struct rd *r, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
bool rd_u8(struct rd *r, const char *field, uint8_t *v);
bool rd_u16(struct rd *r, const char *field, uint16_t *v);
bool rd_u32(struct rd *r, const char *field, uint32_t *v);
bool rd_u64(struct rd *r, const char *field, uint64_t *v);
/* Pointer to n bytes at the cursor (advanced), NULL on failure. */
const uint8_t *rd_bytes(struct rd *r, const char *field, size_t n);
static inline size_t rd_left(const struct rd *r)
{
	return r->end - r->pos;
}

/* ---- the parts of the format ---- */
/* The trace keeps the config's file name, not where it lay on the recording
 * machine: "" for NULL, the part after the last '/'. */
const char *tr_config_file_name(const char *config_name);
void tr_put_meta(struct wbuf *w, const struct hx_trace_meta *m);
void tr_put_config(struct wbuf *w, const struct hv_system_config *cfg);
/* Returns false when the log breaks a limit of the format. */
bool tr_log_ok(const struct hx_obs_view *log);
void tr_put_exit(struct wbuf *w, const struct hv_exit *in, const struct hx_obs_view *log,
                 const struct hv_result *res, const struct hv_vcpu_state *out);

bool tr_get_meta(struct rd *r, struct hx_trace *t);
/* Into a zeroed cfg (tr_cfg_new): fields the record does not carry stay 0. */
bool tr_get_config(struct rd *r, struct hv_system_config *cfg);
/* Parse one EXIT body into e, its log stored in t's arena. */
bool tr_get_exit(struct rd *r, struct hx_trace *t, struct hx_trace_exit *e);

/* trace_arena.c: storage that lives as long as the trace (its parsed
 * logs). tr_arena_alloc returns n bytes (NULL: out of memory);
 * tr_arena_trim cuts the block it returned last, p, to n bytes;
 * tr_arena_free releases all of it (hx_trace_free calls it). */
void *tr_arena_alloc(struct hx_trace *t, size_t n);
void tr_arena_trim(struct hx_trace *t, void *p, size_t n);
void tr_arena_free(struct hx_trace *t);

/* Grow t->exits / t->exit_mem for one more exit. */
bool tr_reserve(struct hx_trace *t);
/* Room for cap exits in all (at most HX_TRACE_MAX_EXITS); false when out
 * of memory, t unchanged. */
bool tr_reserve_n(struct hx_trace *t, uint32_t cap);
/* Copy a log into one malloc'd block (entries, then data); view points
 * into it. Returns the block or NULL. */
void *tr_copy_log(const struct hx_obs_view *log, struct hx_obs_view *view);

/* Encode header for a payload. */
void tr_header(uint8_t out[HX_TRACE_HEADER_SIZE], uint64_t payload_len, uint64_t checksum,
               uint32_t nexits);

/* trace_cfg_alloc.c: zeroed config buffers, recycled (NULL: out of
 * memory). tr_cfg_free takes any config; tr_cfg_free_parsed only one that
 * nothing but tr_get_config wrote: one the parser drops, or a cached one,
 * which no one may modify (trace.h). Both take NULL. */
struct hv_system_config *tr_cfg_new(void);
void tr_cfg_free(struct hv_system_config *cfg);
void tr_cfg_free_parsed(struct hv_system_config *cfg);

/* trace_cache.c */
struct tr_cfg_entry;
void tr_cfg_unref(struct tr_cfg_entry *e);
/* Share the cached config when its bytes are body's (t->cfg, cfg_id,
 * cfg_shared set); false on a miss. */
bool tr_cache_lookup(struct hx_trace_cache *c, const uint8_t *body, size_t len, struct hx_trace *t);
/* Make t's own (validated) config the cache's, shared from now on. */
void tr_cache_insert(struct hx_trace_cache *c, const uint8_t *body, size_t len, struct hx_trace *t);

#endif
