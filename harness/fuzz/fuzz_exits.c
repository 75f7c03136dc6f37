/* Exit sequences: the input is an .hxt trace (harness/trace/trace.h),
 * replayed in memory through the hosted core with every oracle after every
 * exit and a second run for DET (harness/replay/replay.h). Recorded outputs
 * are not compared: a mutated input no longer matches its recording, only
 * the invariants judge it. Seeds: corpus/exits (generated traces of every
 * exit family) and corpus/kvm (traces of the KVM guest suite).
 *
 * Traces are parsed unsealed (HX_TRACE_UNSEALED: checksum, payload length
 * and exit count are taken from what is there), so byte-level mutations of
 * AFL++ reach the replay. The libFuzzer custom mutator below mutates either
 * bytes or fields of a parsed exit (reason, partition, vCPU, registers,
 * addresses, control state; duplicating, dropping, swapping exits) and
 * writes every input back as a sealed trace without recorded outputs, so
 * its crash files replay with plain `hx replay FILE`. Any crash file
 * replays with `hx replay --unsealed --no-compare FILE`; with
 * HX_FUZZ_NORMALIZE=OUT set, the replay driver writes the input as such a
 * sealed, output-free trace to OUT (ci/fuzz.sh does this for every crash).
 *
 * Invariants: every oracle (CONTAIN, RIP, CPUID-MASK, MSR-GUARD,
 * HCALL-BOUNDS, EPT-OWN/FORM/EXACT, TOTAL) and DET; a malformed trace must
 * be refused with a message, never crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "replay.h"
#include "trace.h"

static struct hx_replay *engine;

static struct hx_replay *get_engine(void)
{
	if (!engine && !(engine = hx_replay_new()))
		abort();
	return engine;
}

/* The engine (memory model, caches) before the first input; worlds are
 * built per config as inputs bring them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	get_engine();
	return 0;
}

/* ---- turning any parsable input into a sealed trace without outputs ---- */

static struct hx_trace *parse_unsealed(const uint8_t *data, size_t size)
{
	struct hx_trace *t = NULL;
	struct hx_trace_error err;
	/* The custom mutator parses every input too: through the engine's
	 * config cache, a config it parsed is not parsed again by the replay. */
	struct hx_trace_cache *cache = hx_replay_trace_cache(get_engine());
	if (hx_trace_parse_cached(data, size, HX_TRACE_UNSEALED, cache, &t, &err) != 0)
		return NULL;
	return t;
}

static void normalize_to(const char *path, const uint8_t *data, size_t size)
{
	struct hx_trace *t = parse_unsealed(data, size);
	if (!t) {
		fprintf(stderr, "fuzz_exits: not a trace, nothing written to %s\n", path);
		return;
	}
	for (uint32_t i = 0; i < t->nexits; i++)
		t->exits[i].flags &= ~HX_TREC_OUTPUTS;
	char err[256];
	if (hx_trace_save(path, t, err, sizeof(err)) != 0)
		fprintf(stderr, "fuzz_exits: %s\n", err);
	hx_trace_free(t);
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int normalize_checked;
	static const char *normalize;
	static bool check_reset;
	if (!normalize_checked) {
		normalize = getenv("HX_FUZZ_NORMALIZE");
		/* Compare every reset world with a fresh build (slow). */
		const char *cr = getenv("HX_FUZZ_CHECK_RESET");
		check_reset = cr && *cr && strcmp(cr, "0") != 0;
		normalize_checked = 1;
	}
	if (normalize && *normalize)
		normalize_to(normalize, data, size);

	struct hx_replay_opts opts;
	hx_replay_opts_default(&opts);
	opts.compare_outputs = false;
	opts.parse_flags = HX_TRACE_UNSEALED;
	opts.check_reset = check_reset;
	opts.watch_pool = fz_watch_pool();
	struct hx_replay_result res;
	int st = hx_replay_bytes(get_engine(), data, size, &opts, &res);
	if (st == HX_REPLAY_BAD_INPUT) {
		/* Refused: the message must say why. */
		FZ_CHECK(res.first.kind == HX_RF_BAD_INPUT && res.first.msg[0] != '\0', "TOTAL",
		         "trace refused without a reason");
		return 0;
	}
	if (st == HX_REPLAY_FAIL) {
		char line[768];
		hx_replay_failure_str(&res.first, line, sizeof(line));
		fz_fail(res.first.kind == HX_RF_INVARIANT ? hv_invariant_id(res.first.inv) : "DET",
		        "%s (reproduce: hx replay --unsealed --no-compare FILE)", line);
	}
	FZ_CHECK(st == HX_REPLAY_PASS, "TOTAL", "replay status %d", st);
	return 0;
}

/* ---- structure-aware mutations (libFuzzer) ---- */
#ifdef HX_FUZZ_LIBFUZZER
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint64_t rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	uint64_t hi = *seed >> 8;
	*seed = *seed * 1103515245u + 12345u;
	return hi << 24 ^ (*seed >> 8);
}

/* A value that tends to matter: small numbers, hypercall numbers, MSR
 * indices, region edges of the trace's config, all-ones. */
static uint64_t interesting(const struct hx_trace *t, unsigned int *seed)
{
	static const uint64_t fixed[] = {
	        0,          1,     2,          3,          4,          5,          6,
	        7,          8,     0xff,       0x1000,     0xfff,      0x10,       0x1b,
	        0x3a,       0x277, 0xc0000080, 0xc0000100, 0xc0000103, 0xc0010114, 0x40000000,
	        0x80000001, ~0ull, 1ull << 63, 1ull << 47, 1ull << 48};
	uint64_t k = rnd(seed);
	if (k % 3 != 0 || !t->cfg || t->cfg->npartitions == 0)
		return fixed[(k >> 8) % HV_ARRAY_LEN(fixed)];
	const struct hv_partition_config *pc = &t->cfg->partitions[(k >> 8) % t->cfg->npartitions];
	if (pc->nregions == 0)
		return 0;
	const struct hv_region *r = &pc->regions[(k >> 16) % pc->nregions];
	uint64_t edge = (k >> 24) & 1 ? r->gpa : r->gpa + r->size;
	return edge + (uint64_t)(int64_t)(int8_t)(k >> 32);
}

static void mutate_exit(const struct hx_trace *t, struct hv_exit *e, unsigned int *seed)
{
	uint32_t npart = t->cfg ? t->cfg->npartitions : 1;
	switch (rnd(seed) % 14) {
	case 0:
		e->reason = (uint32_t)(rnd(seed) % (HV_EXIT_COUNT + 1));
		break;
	case 1:
		e->partition = (uint32_t)(rnd(seed) % (npart + 1));
		break;
	case 2:
		e->vcpu = (uint32_t)(rnd(seed) % (HV_MAX_VCPUS + 1));
		break;
	case 3:
		e->insn_len = (uint32_t)(rnd(seed) % 17);
		break;
	case 4:
		e->qual ^= 1ull << (rnd(seed) % 8);
		break;
	case 5:
		e->gpa = interesting(t, seed);
		break;
	case 6:
		e->gla = interesting(t, seed);
		break;
	case 7:
	case 8:
		e->st.gpr[rnd(seed) % HV_GPR_COUNT] = interesting(t, seed);
		break;
	case 9:
		e->st.rip += (uint64_t)(int64_t)(int8_t)rnd(seed);
		break;
	case 10:
		e->st.cpl = (uint8_t)(rnd(seed) % 5);
		break;
	case 11: {
		uint64_t bit = 1ull << (rnd(seed) % 64);
		switch (rnd(seed) % 4) {
		case 0:
			e->st.cr0 ^= bit;
			break;
		case 1:
			e->st.cr3 ^= bit;
			break;
		case 2:
			e->st.cr4 ^= bit;
			break;
		default:
			e->st.efer ^= bit;
			break;
		}
		break;
	}
	case 12:
		e->st.rflags ^= 1ull << (rnd(seed) % 22);
		break;
	default:
		e->st.gpr[HV_RAX] = rnd(seed) % 10; /* hypercall numbers */
		break;
	}
}

/* Move the EPT page pool: to the edges of the hypervisor range (inside,
 * straddling, just outside), onto a partition's RAM or MMIO, a channel, or
 * anywhere in host memory, with a new size now and then. The pool's
 * placement is a caller contract of hv_system_init (hv/system.h); unsealed
 * inputs leave it to the core, so the core's check, and the verifier
 * behind it, meet every placement. */
static void mutate_pool(struct hx_trace *t, unsigned int *seed)
{
	const struct hv_system_config *cfg = t->cfg;
	uint64_t pages = t->pool_pages;
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
	t->pool_hpa = hpa & ~(uint64_t)(HV_PAGE_SIZE - 1);
	t->pool_pages = (uint32_t)pages;
}

static struct hx_trace *mutate_trace(struct hx_trace *t, unsigned int *seed)
{
	uint32_t n = t->nexits;
	if (rnd(seed) % 32 == 0 && t->cfg) {
		mutate_pool(t, seed);
		return t;
	}
	if (n == 0)
		return t;
	uint32_t i = (uint32_t)(rnd(seed) % n);
	uint64_t op = rnd(seed) % 10;
	if (op < 7) {
		mutate_exit(t, &t->exits[i].in, seed);
		return t;
	}
	/* Duplicate exit i after itself, drop it, or swap it with another. */
	uint32_t *order = malloc((n + 1) * sizeof(*order));
	if (!order)
		return t;
	uint32_t m = 0, j = (uint32_t)(rnd(seed) % n);
	for (uint32_t k = 0; k < n; k++) {
		if (op == 8 && k == i)
			continue;
		order[m++] = op == 9 && k == i ? j : op == 9 && k == j ? i : k;
		if (op == 7 && k == i)
			order[m++] = i;
	}
	hx_trace_reorder(t, order, m); /* t unchanged when it fails */
	free(order);
	return t;
}

/* Encode t without recorded outputs into out (at most max bytes).
 * Returns the size, or 0 when it does not fit or cannot be encoded. */
static size_t encode_inputs_only(struct hx_trace *t, uint8_t *out, size_t max)
{
	for (uint32_t i = 0; i < t->nexits; i++)
		t->exits[i].flags &= ~HX_TREC_OUTPUTS;
	uint8_t *buf = NULL;
	size_t len = 0;
	size_t n = 0;
	if (hx_trace_encode(t, &buf, &len) == 0 && len <= max) {
		memcpy(out, buf, len);
		n = len;
	}
	free(buf);
	return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	if (seed & 1) {
		struct hx_trace *t = parse_unsealed(data, size);
		if (t) {
			t = mutate_trace(t, &seed);
			size_t n = encode_inputs_only(t, data, max_size);
			hx_trace_free(t);
			if (n)
				return n;
		}
	}
	/* Byte mutations of the whole file, config included: keeping the
	 * framing intact (mutating one parsed record's bytes, or only the
	 * exit records) was tried and reached less of handlers/ in the same
	 * time (config validation above all), though more inputs replayed. */
	size = LLVMFuzzerMutate(data, size, max_size);
	struct hx_trace *t = parse_unsealed(data, size);
	if (t) {
		size_t n = encode_inputs_only(t, data, max_size);
		hx_trace_free(t);
		if (n)
			return n;
	}
	hx_trace_reseal(data, size);
	return size;
}
#endif
