/* The .hxt trace format: a self-contained record of exits handled by the
 * core, replayable with `hx replay`. Written by the KVM runner, the seed
 * generator and the minimizer; read by replay, `hx trace dump` and the
 * exit-sequence fuzzer (whose inputs are traces).
 *
 * Layout (all integers little-endian, no padding, no raw structs):
 *
 *   header, 40 bytes
 *     0  8  magic "HXTRACE\0"
 *     8  4  format version (HX_TRACE_VERSION; versions 1 and 2 are still read)
 *    12  4  header size (40)
 *    16  8  payload length in bytes
 *    24  8  FNV-1a 64 of the payload
 *    32  4  number of exit records
 *    36  4  flags (0)
 *   payload: records, each  u32 tag, u32 body length, body
 *     "META" (exactly one, first): u8 name length + config name (may be
 *            empty), u16 note length + note, u64 pool HPA, u32 pool pages
 *     "CONF" (exactly one, second): the struct hv_system_config, field by
 *            field with explicit counts (see trace_config.c). Version 2
 *            adds u32 vendor (0 Intel, 1 AMD) after hv_size; a version 1
 *            trace is Intel. Version 3 adds each partition's port-I/O
 *            devices after its MSR rules: u32 count, then per device u16
 *            base, u32 type, u64 init; earlier traces have none.
 *     "EXIT" (one per exit):
 *        input: u32 reason, partition, vcpu, insn_len; u64 qual, gpa, gla;
 *               vCPU state (16 GPRs, rip, rflags, cr0, cr3, cr4, efer: u64;
 *               cpl: u8)
 *        u8 flags (bit 0: outputs recorded)
 *        u32 overflow, u32 count, then count platform calls in call order:
 *               u8 kind, u8 flags (bit 0 failed, bit 1 has before-bytes)
 *               CPUID       u32 leaf, u32 subleaf, u32 eax ebx ecx edx
 *               RDMSR/WRMSR u32 msr, u64 value
 *               PHYS_READ   u64 hpa, u32 len, len bytes (unless failed)
 *               PHYS_WRITE  u64 hpa, u32 len, len bytes [, len bytes before]
 *               CONSOLE     u32 partition, u32 len, len bytes
 *               EPT_CHANGED u32 partition, u64 gpa, u64 size
 *        outputs (when flagged): result (u32 action; u8 vector, has_error;
 *               u32 error, halt_reason, insn_len; u8 has_mmio; mmio u64 gpa,
 *               u64 data, u8 size, is_write, reg, insn_len; msr-apply u32 msr,
 *               u32 valid, u64 value), then the vCPU state out.
 *
 * Inputs of an exit are the record's input fields, CPUID/RDMSR answers and
 * the bytes of PHYS_READ (and the before-bytes of PHYS_WRITE): together the
 * guest memory the handler saw. Outputs are the result, the state out and
 * the PHYS_WRITE / WRMSR / CONSOLE / EPT_CHANGED calls.
 *
 * Readers are bounded: every count and length is checked against the
 * limits below and against the bytes left, and every error names the exit,
 * the field and the byte offset. */
#ifndef HX_TRACE_H
#define HX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/config.h"
#include "hv/exit.h"
#include "observer.h"

#define HX_TRACE_MAGIC "HXTRACE" /* 8 bytes with its NUL */
#define HX_TRACE_VERSION 3u      /* what the writers write */
#define HX_TRACE_MIN_VERSION 1u  /* the oldest the readers read */
#define HX_TRACE_HEADER_SIZE 40u

/* Limits enforced on read (and write). */
#define HX_TRACE_MAX_FILE (256ull << 20) /* bytes */
#define HX_TRACE_MAX_EXITS (1u << 20)
#define HX_TRACE_MAX_OPS HX_OBS_MAX_ENTRIES           /* per exit */
#define HX_TRACE_MAX_OP_LEN 4096u                     /* bytes of one call */
#define HX_TRACE_MAX_EXIT_DATA (2u * HX_OBS_MAX_DATA) /* payload bytes per exit */
#define HX_TRACE_NAME_MAX 64                          /* config name incl. NUL */
#define HX_TRACE_NOTE_MAX 256                         /* note incl. NUL */
#define HX_TRACE_MAX_POOL_PAGES (1u << 18)            /* 1 GiB of EPT tables */

/* EXIT flags */
#define HX_TREC_OUTPUTS 1u

struct hx_trace_exit {
	struct hv_exit in;        /* the record as handed to hv_handle_exit */
	uint32_t flags;           /* HX_TREC_* */
	struct hv_result res;     /* when HX_TREC_OUTPUTS */
	struct hv_vcpu_state out; /* when HX_TREC_OUTPUTS */
	struct hx_obs_view log;   /* platform calls; storage owned by the trace */
	uint64_t offset;          /* byte offset of the record in the file (0 if built) */
};

struct hx_trace {
	uint32_t version;
	char config_name[HX_TRACE_NAME_MAX]; /* e.g. "two-channel.json"; may be "" */
	char note[HX_TRACE_NOTE_MAX];        /* free text: who recorded it, how */
	struct hv_system_config *cfg;        /* owned, heap; shared when cfg_shared */
	/* Parsed with a cache (hx_trace_parse_cached): the config is shared
	 * with every trace whose CONF record has the same bytes, and cfg_id
	 * names it (equal ids, equal configs; 0 for a config of its own). Do
	 * not modify a shared config. */
	void *cfg_shared;
	uint64_t cfg_id;
	uint64_t pool_hpa; /* where the EPT page pool lives */
	uint32_t pool_pages;
	uint32_t nexits;
	uint32_t cap;
	struct hx_trace_exit *exits;
	void **exit_mem; /* internal: storage of each appended exit's log */
	void *arena;     /* internal: storage of the parsed exits' logs */
};

/* A precise reason for rejecting a trace. */
struct hx_trace_error {
	uint64_t offset;    /* byte offset in the file where the problem is */
	int64_t exit_index; /* -1 when not inside an exit record */
	char field[48];     /* e.g. "header.version", "in.st.gpr[7]", "op[3].len" */
	char msg[320];      /* full readable message, includes all of the above */
};

/* Parse a whole trace from memory. Returns 0, or -1 with *err filled.
 * Never reads outside [buf, buf+len). *out is owned by the caller. */
int hx_trace_parse(const uint8_t *buf, size_t len, struct hx_trace **out,
                   struct hx_trace_error *err);
/* Parse flags. */
enum hx_trace_parse_flags {
	/* For fuzzers, whose mutations cannot keep the header consistent: skip
	 * the checksum and take the payload length and exit count from what is
	 * there (everything else is checked as usual, except that a page pool
	 * outside the hypervisor range is left for hv_system_init to refuse,
	 * so fuzzing reaches the core's own check). Files written by the
	 * writers are always sealed; see hx_trace_reseal. */
	HX_TRACE_UNSEALED = 1u << 0,
};
int hx_trace_parse_ex(const uint8_t *buf, size_t len, uint32_t flags, struct hx_trace **out,
                      struct hx_trace_error *err);
/* Make a (mutated) trace's header consistent again: payload length,
 * checksum and the number of EXIT records found by walking the records.
 * Returns 0, or -1 when buf is shorter than a header or has a bad magic.
 * For a mutated trace that is to be kept as a file. */
int hx_trace_reseal(uint8_t *buf, size_t len);

/* Structure-aware mutation in place, for fuzzers (trace_mutate.c): one
 * field of one exit's input, the page pool's placement (needs cfg, the
 * trace's config, else never chosen), or the order of exits (duplicate
 * one, drop one, swap two). The bytes are edited, not parsed, and the
 * header is left as it was, as byte mutations leave it: the result (at
 * most max bytes) reads with HX_TRACE_UNSEALED, and hx_trace_reseal makes
 * it a sealed file (a checksum over the whole payload, which per fuzz
 * input cost 8% of the exit target's time). cfg (may be NULL) supplies
 * region edges as values. Returns the new length, or 0 with buf unchanged when
 * buf holds no record this can edit. */
size_t hx_trace_mutate(uint8_t *buf, size_t len, size_t max, const struct hv_system_config *cfg,
                       uint32_t *seed);
/* Whether an EXIT record of buf[0, len) (walked by its record heads, not
 * parsed) says recorded outputs follow its input. */
bool hx_trace_has_outputs(const uint8_t *buf, size_t len);

/* Read and parse a file (at most HX_TRACE_MAX_FILE bytes). */
int hx_trace_load(const char *path, struct hx_trace **out, struct hx_trace_error *err);
/* A cache of the last few configs parsed through it (trace_cache.c):
 * fuzzers parse thousands of inputs carrying the same few configs. */
struct hx_trace_cache;
struct hx_trace_cache *hx_trace_cache_new(void);
void hx_trace_cache_free(struct hx_trace_cache *c);
void hx_trace_cache_stats(const struct hx_trace_cache *c, uint64_t *hits, uint64_t *misses);
/* hx_trace_parse_ex, sharing the config through cache (may be NULL). */
int hx_trace_parse_cached(const uint8_t *buf, size_t len, uint32_t flags,
                          struct hx_trace_cache *cache, struct hx_trace **out,
                          struct hx_trace_error *err);
/* The config of the trace in buf[0, len) when its CONF record's bytes are
 * in the cache (parsed through it before), else NULL; no parsing, no
 * reference taken: valid until the next parse through the cache. For a
 * custom mutator that wants the config of the input it mutates. */
const struct hv_system_config *hx_trace_cache_config(const struct hx_trace_cache *c,
                                                     const uint8_t *buf, size_t len);
int hx_trace_load_ex(const char *path, uint32_t flags, struct hx_trace **out,
                     struct hx_trace_error *err);
void hx_trace_free(struct hx_trace *t);

/* Building traces in memory (seed generator, minimizer, tests). */
struct hx_trace_meta {
	const struct hv_system_config *cfg; /* copied */
	const char *config_name;            /* a path or file name; may be NULL */
	const char *note;                   /* may be NULL */
	uint64_t pool_hpa;
	uint32_t pool_pages;
};
struct hx_trace *hx_trace_new(const struct hx_trace_meta *meta);
/* Append one exit, copying the log (log NULL: no calls; its overflow
 * count is kept for information). res/out NULL: inputs only. Returns 0, or
 * -1 when a limit is exceeded (too many exits, calls or bytes) or out of
 * memory. */
int hx_trace_append(struct hx_trace *t, const struct hv_exit *in, const struct hx_obs_view *log,
                    const struct hv_result *res, const struct hv_exit *out);
/* Append a copy of an existing exit record (possibly of another trace). */
int hx_trace_append_exit(struct hx_trace *t, const struct hx_trace_exit *e);

/* Put t's exits in the order `order` (n entries, each below t->nexits;
 * repeats copy the record, records not named are dropped). The config
 * (shared or not) and the meta stay as they are. Returns 0, or -1 with t
 * unchanged (an index out of range, over HX_TRACE_MAX_EXITS, no memory). */
int hx_trace_reorder(struct hx_trace *t, const uint32_t *order, uint32_t n);

/* Encode a whole trace into a malloc'd buffer. Returns 0 or -1. */
int hx_trace_encode(const struct hx_trace *t, uint8_t **buf, size_t *len);
/* Encode and write atomically (temp file in the same directory + rename).
 * Returns 0, or -1 with a message in err. */
int hx_trace_save(const char *path, const struct hx_trace *t, char *err, size_t errlen);

/* data[0, len) into path the way traces are written: a temp file beside
 * it, synced and renamed into place, never replacing anything but a
 * regular file (what names the contents in that refusal: "trace"). */
int hx_file_save(const char *path, const void *data, size_t len, const char *what, char *err,
                 size_t errlen);

/* Streaming writer for long recordings (the KVM runner): buffered, to a
 * temp file next to path; commit writes the header and renames it into
 * place, abort removes it. Nothing exists at path until commit succeeds. */
struct hx_trace_writer;
struct hx_trace_writer *hx_trace_writer_open(const char *path, const struct hx_trace_meta *meta,
                                             char *err, size_t errlen);
/* log NULL: no calls; res/out NULL: inputs only. Returns 0, or -1 (limit
 * exceeded, I/O error: the writer is then failed and commit will refuse). */
int hx_trace_writer_add(struct hx_trace_writer *w, const struct hv_exit *in,
                        const struct hx_obs_view *log, const struct hv_result *res,
                        const struct hv_exit *out);
uint32_t hx_trace_writer_count(const struct hx_trace_writer *w);
/* Finish and free w (also on failure). Returns 0 or -1 with err. */
int hx_trace_writer_commit(struct hx_trace_writer *w, char *err, size_t errlen);
void hx_trace_writer_abort(struct hx_trace_writer *w);

/* FNV-1a 64 (the payload checksum). */
uint64_t hx_fnv1a64(const void *buf, size_t len, uint64_t seed);
#define HX_FNV1A64_INIT 0xcbf29ce484222325ull

#endif
