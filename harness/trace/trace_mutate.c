/* Structure-aware mutation of encoded traces, for the exit-sequence
 * fuzzer's custom mutator: fields of one exit's input (reason, partition,
 * vCPU, registers, addresses, control state), the EPT page pool's
 * placement, or the order of exits (duplicate, drop, swap), edited in the
 * bytes. Nothing is parsed or encoded: a fuzzer mutates every input and
 * then replays it, and parsing it twice (once here, once in the replay)
 * was a third of the exit-sequence target's time. The byte offsets below
 * are those of the writers (TR_EXIT_* in trace_internal.h, the META
 * layout in trace.h); the unit test pins them against the parser. */
#include <stdlib.h>
#include <string.h>

#include "no_coverage.h"
#include "trace_internal.h"

/* EXIT records looked at: beyond this many, later ones are left as they
 * are (a fuzz input of more exits is rare and still mutated bytewise). */
#define TM_MAX_EXITS 4096u

struct tm_rec {
	size_t at, len; /* record start (its tag) and length with the 8-byte head */
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)tr_get_le(p, 4);
}

static uint64_t get64(const uint8_t *p)
{
	return tr_get_le(p, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	tr_put_le(p, v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	tr_put_le(p, v, 8);
}

static uint64_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	uint64_t hi = *seed >> 8;
	*seed = *seed * 1103515245u + 12345u;
	return hi << 24 ^ (*seed >> 8);
}

/* A value that tends to matter: small numbers, hypercall numbers, MSR
 * indices, region edges of the trace's config, all-ones. */
static uint64_t interesting(const struct hv_system_config *cfg, uint32_t *seed)
{
	static const uint64_t fixed[] = {
	        0,          1,     2,          3,          4,          5,          6,
	        7,          8,     0xff,       0x1000,     0xfff,      0x10,       0x1b,
	        0x3a,       0x277, 0xc0000080, 0xc0000100, 0xc0000103, 0xc0010114, 0x40000000,
	        0x80000001, ~0ull, 1ull << 63, 1ull << 47, 1ull << 48};
	uint64_t k = rnd(seed);
	if (k % 3 != 0 || !cfg || cfg->npartitions == 0)
		return fixed[(k >> 8) % HV_ARRAY_LEN(fixed)];
	const struct hv_partition_config *pc = &cfg->partitions[(k >> 8) % cfg->npartitions];
	if (pc->nregions == 0)
		return 0;
	const struct hv_region *r = &pc->regions[(k >> 16) % pc->nregions];
	uint64_t edge = (k >> 24) & 1 ? r->gpa : r->gpa + r->size;
	return edge + (uint64_t)(int64_t)(int8_t)(k >> 32);
}

static void xor64(uint8_t *p, uint64_t bit)
{
	put64(p, get64(p) ^ bit);
}

/* One field of the exit input at b (TR_EXIT_INPUT bytes). */
static void mutate_exit(uint8_t *b, const struct hv_system_config *cfg, uint32_t *seed)
{
	uint32_t npart = cfg ? cfg->npartitions : 1;
	switch (rnd(seed) % 14) {
	case 0:
		put32(b + TR_EXIT_REASON, (uint32_t)(rnd(seed) % (HV_EXIT_COUNT + 1)));
		break;
	case 1:
		put32(b + TR_EXIT_PARTITION, (uint32_t)(rnd(seed) % (npart + 1)));
		break;
	case 2:
		put32(b + TR_EXIT_VCPU, (uint32_t)(rnd(seed) % (HV_MAX_VCPUS + 1)));
		break;
	case 3:
		put32(b + TR_EXIT_INSN_LEN, (uint32_t)(rnd(seed) % 17));
		break;
	case 4:
		xor64(b + TR_EXIT_QUAL, 1ull << (rnd(seed) % 8));
		break;
	case 5:
		put64(b + TR_EXIT_GPA, interesting(cfg, seed));
		break;
	case 6:
		put64(b + TR_EXIT_GLA, interesting(cfg, seed));
		break;
	case 7:
	case 8: {
		size_t reg = rnd(seed) % HV_GPR_COUNT;
		put64(b + TR_EXIT_GPR + 8 * reg, interesting(cfg, seed));
		break;
	}
	case 9:
		put64(b + TR_EXIT_RIP,
		      get64(b + TR_EXIT_RIP) + (uint64_t)(int64_t)(int8_t)rnd(seed));
		break;
	case 10:
		b[TR_EXIT_CPL] = (uint8_t)(rnd(seed) % 5);
		break;
	case 11: {
		static const size_t cr[4] = {TR_EXIT_CR0, TR_EXIT_CR3, TR_EXIT_CR4, TR_EXIT_EFER};
		uint64_t bit = 1ull << (rnd(seed) % 64);
		xor64(b + cr[rnd(seed) % 4], bit);
		break;
	}
	case 12:
		xor64(b + TR_EXIT_RFLAGS, 1ull << (rnd(seed) % 22));
		break;
	default:
		put64(b + TR_EXIT_GPR + 8 * HV_RAX, rnd(seed) % 10); /* hypercall numbers */
		break;
	}
}

/* Move the EPT page pool (META: u8 name length, name, u16 note length,
 * note, u64 pool HPA, u32 pool pages): to the edges of the hypervisor
 * range (inside, straddling, just outside), onto a partition's RAM or
 * MMIO, a channel, or anywhere in host memory, with a new size now and
 * then. The pool's placement is a caller contract of hv_system_init
 * (hv/system.h); unsealed inputs leave it to the core, so the core's
 * check, and the verifier behind it, meet every placement. */
static bool mutate_pool(uint8_t *meta, size_t len, const struct hv_system_config *cfg,
                        uint32_t *seed)
{
	if (len < 1)
		return false;
	size_t at = 1 + (size_t)meta[0];
	if (len < at + 2)
		return false;
	at += 2 + (size_t)(meta[at] | meta[at + 1] << 8);
	if (len < at + 12)
		return false;
	uint64_t pages = get32(meta + at + 8);
	if (rnd(seed) % 4 == 0)
		pages = 1 + rnd(seed) % (pages < 4096 ? 2 * pages + 16 : 4096);
	uint64_t size = pages << HV_PAGE_SHIFT, hpa;
	uint64_t k = rnd(seed);
	switch (k % 6) {
	case 0:
		hpa = cfg->hv_base;
		break;
	case 1: /* the end of the range: inside, straddling or just past */
		hpa = cfg->hv_base + cfg->hv_size - size + ((k >> 8) % 3 - 1) * HV_PAGE_SIZE;
		break;
	case 2:
	case 3: {
		const struct hv_partition_config *pc =
		        &cfg->partitions[(k >> 8) % (cfg->npartitions ? cfg->npartitions : 1)];
		if (pc->nregions == 0) {
			hpa = cfg->hv_base;
			break;
		}
		const struct hv_region *r = &pc->regions[(k >> 16) % pc->nregions];
		hpa = r->hpa + ((k >> 24) % (r->size / HV_PAGE_SIZE)) * HV_PAGE_SIZE;
		break;
	}
	case 4:
		hpa = cfg->nchannels ? cfg->channels[(k >> 8) % cfg->nchannels].hpa : 0;
		break;
	default:
		hpa = (rnd(seed) % ((cfg->host_mem_size >> HV_PAGE_SHIFT) + 1)) << HV_PAGE_SHIFT;
		break;
	}
	put64(meta + at, hpa & ~(uint64_t)(HV_PAGE_SIZE - 1));
	put32(meta + at + 8, (uint32_t)pages);
	return true;
}

/* Duplicate record i after itself (when it fits in max), drop it, or swap
 * it with record j. Returns the new length, or 0 when nothing changed. */
static size_t reorder(uint8_t *buf, size_t len, size_t max, const struct tm_rec *ri,
                      const struct tm_rec *rj, unsigned op)
{
	if (op == 0) {
		if (ri->len > max - len)
			return 0;
		size_t end = ri->at + ri->len;
		memmove(buf + end + ri->len, buf + end, len - end);
		memcpy(buf + end, buf + ri->at, ri->len);
		return len + ri->len;
	}
	if (op == 1) {
		size_t end = ri->at + ri->len;
		memmove(buf + ri->at, buf + end, len - end);
		return len - ri->len;
	}
	const struct tm_rec *a = ri->at < rj->at ? ri : rj, *b = ri->at < rj->at ? rj : ri;
	if (a == b)
		return 0;
	/* [a][mid][b] becomes [b][mid][a]: through a copy of the span. */
	size_t span = b->at + b->len - a->at, mid = b->at - (a->at + a->len);
	uint8_t *tmp = malloc(span);
	if (!tmp)
		return 0;
	memcpy(tmp, buf + b->at, b->len);
	memcpy(tmp + b->len, buf + a->at + a->len, mid);
	memcpy(tmp + b->len + mid, buf + a->at, a->len);
	memcpy(buf + a->at, tmp, span);
	free(tmp);
	return len;
}

HX_NO_COVERAGE bool hx_trace_has_outputs(const uint8_t *buf, size_t len)
{
	uint32_t tag;
	size_t body;
	for (size_t pos = HX_TRACE_HEADER_SIZE; tr_record_at(buf, len, pos, &tag, &body);
	     pos += 8 + body)
		if (tag == TR_TAG_EXIT && body > TR_EXIT_FLAGS &&
		    (buf[pos + 8 + TR_EXIT_FLAGS] & HX_TREC_OUTPUTS))
			return true;
	return false;
}

size_t hx_trace_mutate(uint8_t *buf, size_t len, size_t max, const struct hv_system_config *cfg,
                       uint32_t *seed)
{
	if (len < HX_TRACE_HEADER_SIZE || max < len || memcmp(buf, HX_TRACE_MAGIC, 8) != 0)
		return 0;
	/* The records as they lie: META first, then EXITs that hold a whole
	 * input (anything else is left to byte mutations). */
	static struct tm_rec exits[TM_MAX_EXITS];
	struct tm_rec meta = {0, 0};
	uint32_t n = 0, tag;
	size_t body;
	for (size_t pos = HX_TRACE_HEADER_SIZE; tr_record_at(buf, len, pos, &tag, &body);
	     pos += 8 + body) {
		struct tm_rec r = {pos, 8 + body};
		if (pos == HX_TRACE_HEADER_SIZE && tag == TR_TAG_META)
			meta = r;
		else if (tag == TR_TAG_EXIT && body >= TR_EXIT_INPUT && n < TM_MAX_EXITS)
			exits[n++] = r;
	}
	size_t out = 0;
	if (rnd(seed) % 32 == 0 && cfg && meta.len) {
		if (mutate_pool(buf + meta.at + 8, meta.len - 8, cfg, seed))
			out = len;
	} else if (n) {
		const struct tm_rec *ri = &exits[rnd(seed) % n];
		uint64_t op = rnd(seed) % 10;
		if (op < 7) {
			mutate_exit(buf + ri->at + 8, cfg, seed);
			out = len;
		} else {
			out = reorder(buf, len, max, ri, &exits[rnd(seed) % n], (unsigned)(op - 7));
		}
	}
	return out;
}
