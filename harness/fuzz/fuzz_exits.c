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
 * bytes or, in place in the encoded trace (hx_trace_mutate, so an input is
 * parsed once, by the replay), fields of one exit (reason, partition,
 * vCPU, registers, addresses, control state), the pool placement, or the
 * order of exits (duplicating, dropping, swapping), and returns every
 * input as a trace without recorded outputs, its header left unsealed as
 * byte mutations leave it (sealing is a checksum over the whole input).
 * On AFL++ the same edits come from afl_mutator_exits.c, loaded into
 * afl-fuzz. Any crash file replays with `hx replay --unsealed --no-compare
 * FILE`; with HX_FUZZ_NORMALIZE=OUT set, the replay driver writes the
 * input as a sealed, output-free trace to OUT, which plain `hx replay`
 * takes (ci/fuzz.sh does this for every crash).
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

static void strip_outputs(struct hx_trace *t)
{
	for (uint32_t i = 0; i < t->nexits; i++)
		t->exits[i].flags &= ~HX_TREC_OUTPUTS;
}

static void normalize_to(const char *path, const uint8_t *data, size_t size)
{
	struct hx_trace *t = parse_unsealed(data, size);
	if (!t) {
		fprintf(stderr, "fuzz_exits: not a trace, nothing written to %s\n", path);
		return;
	}
	strip_outputs(t);
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

/* A trace with recorded outputs (a seed, as hx_trace_has_outputs says) is
 * written back without them before it is mutated, so every input this
 * mutator returns is an output-free trace. Returns the new size, or size
 * unchanged. */
static size_t drop_outputs(uint8_t *data, size_t size, size_t max_size)
{
	struct hx_trace *t = parse_unsealed(data, size);
	if (!t)
		return size;
	strip_outputs(t);
	uint8_t *buf = NULL;
	size_t len = 0;
	if (hx_trace_encode(t, &buf, &len) == 0 && len <= max_size) {
		memcpy(data, buf, len);
		size = len;
	}
	free(buf);
	hx_trace_free(t);
	return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	if (hx_trace_has_outputs(data, size))
		size = drop_outputs(data, size, max_size);
	if (seed & 1) {
		/* The config from the engine's cache: the input was replayed
		 * (so parsed) before it became a parent. */
		const struct hv_system_config *cfg =
		        hx_trace_cache_config(hx_replay_trace_cache(get_engine()), data, size);
		uint32_t s = seed;
		size_t n = hx_trace_mutate(data, size, max_size, cfg, &s);
		if (n)
			return n;
	}
	/* Byte mutations of the whole file, config included: keeping the
	 * framing intact (mutating one parsed record's bytes, or only the
	 * exit records) was tried and reached less of handlers/ in the same
	 * time (config validation above all), though more inputs replayed. */
	return LLVMFuzzerMutate(data, size, max_size);
}
#endif
