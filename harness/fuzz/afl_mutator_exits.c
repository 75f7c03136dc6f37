/* AFL++ custom mutator for the exit-sequence target (fuzz_exits): the
 * structure-aware trace edits of hx_trace_mutate (one input field of one
 * exit, or duplicating, dropping, swapping exits), which libFuzzer gets
 * through fuzz_exits' LLVMFuzzerCustomMutator. AFL++'s byte mutations
 * alone did not find a planted WRMSR guard bug in minutes that this kind
 * of edit finds in a second. afl-fuzz loads it (AFL_CUSTOM_MUTATOR_LIBRARY,
 * set by ci/afl-run.sh) and runs it as a stage before havoc; it is built
 * without sanitizers or instrumentation, since it runs inside afl-fuzz and
 * not in the target. The trace's config (for the pool placement and the
 * region edges) comes from a config cache of its own: a trace whose CONF
 * bytes it has not seen is parsed once (the trace reader and the core's
 * config validation are linked in for that). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

struct afl_trace_mutator {
	uint32_t seed;
	uint8_t *buf;
	size_t cap;
	struct hx_trace_cache *configs;
};

/* The afl_custom_* entry points AFL++ looks up (docs/custom_mutators.md);
 * its afl_state_t is not needed, so it stays opaque. */
void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
	(void)afl;
	struct afl_trace_mutator *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->seed = seed | 1u;
	m->configs = hx_trace_cache_new(); /* NULL: no config, still mutates */
	return m;
}

/* The config of the trace in buf, or NULL when it does not parse. */
static const struct hv_system_config *config_of(struct afl_trace_mutator *m, const uint8_t *buf,
                                                size_t len)
{
	const struct hv_system_config *cfg = hx_trace_cache_config(m->configs, buf, len);
	struct hx_trace *t;
	if (cfg || !m->configs ||
	    hx_trace_parse_cached(buf, len, HX_TRACE_UNSEALED, m->configs, &t, NULL) != 0)
		return cfg;
	hx_trace_free(t); /* the cache keeps the config */
	return hx_trace_cache_config(m->configs, buf, len);
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	(void)add_buf;
	(void)add_buf_size;
	struct afl_trace_mutator *m = data;
	size_t room = max_size > buf_size ? max_size : buf_size;
	if (room > m->cap) {
		uint8_t *p = realloc(m->buf, room);
		if (!p) {
			*out_buf = buf; /* unchanged: AFL++ runs it once more */
			return buf_size < max_size ? buf_size : max_size;
		}
		m->buf = p;
		m->cap = room;
	}
	memcpy(m->buf, buf, buf_size);
	*out_buf = m->buf;
	size_t n =
	        hx_trace_mutate(m->buf, buf_size, max_size, config_of(m, buf, buf_size), &m->seed);
	if (n)
		return n;
	/* Not a trace with an exit to edit: flip one bit, as havoc would,
	 * within the max_size bytes AFL++ takes back. */
	n = buf_size < max_size ? buf_size : max_size;
	if (n) {
		m->seed = m->seed * 1103515245u + 12345u;
		m->buf[(m->seed >> 8) % n] ^= (uint8_t)(1u << (m->seed >> 28 & 7));
	}
	return n;
}

void afl_custom_deinit(void *data)
{
	struct afl_trace_mutator *m = data;
	if (m) {
		free(m->buf);
		hx_trace_cache_free(m->configs);
	}
	free(m);
}
