/* Storage of a parsed trace's exit logs: chunks filled one log after the
 * other. A fuzz input of a few dozen exits made as many heap blocks, each
 * an ASan allocation with its stack trace and, freed, a quarantine entry:
 * with the trace's arrays, about 6% of the exit target's time. The first chunk of a freed
 * trace is kept for the next one (per thread), so a steady run of inputs
 * allocates nothing here.
 *
 * In ASan builds what no log holds stays poisoned, and every log starts
 * TR_GAP bytes after the one before, so a read past the end of one log's
 * data is reported as it was with a heap block of its own. */
#include <stdlib.h>

#include "asan_build.h"
#include "trace_internal.h"

#define TR_CHUNK_BYTES (60u * 1024u) /* below the allocator's mmap threshold */
#define TR_CHUNK_CAP (TR_CHUNK_BYTES - sizeof(struct tr_chunk)) /* room of such a chunk */
#define TR_GAP 16u                                              /* ASan's smallest redzone */

struct tr_chunk {
	struct tr_chunk *next;
	size_t cap, used;
	_Alignas(16) unsigned char mem[];
};

static _Thread_local struct tr_chunk *spare;

static size_t start_of_next(const struct tr_chunk *c)
{
	return ((c->used + 15u) & ~(size_t)15u) + TR_GAP;
}

static struct tr_chunk *chunk_new(size_t need)
{
	size_t cap = TR_CHUNK_CAP;
	if (need + TR_GAP > cap)
		cap = need + TR_GAP;
	struct tr_chunk *c;
	if (cap == TR_CHUNK_CAP && spare) {
		c = spare;
		spare = NULL;
	} else {
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		ASAN_POISON_MEMORY_REGION(c->mem, cap);
	}
	c->used = 0;
	c->next = NULL;
	return c;
}

void *tr_arena_alloc(struct hx_trace *t, size_t n)
{
	struct tr_chunk *c = t->arena;
	if (!c || start_of_next(c) + n > c->cap) {
		struct tr_chunk *fresh = chunk_new(n);
		if (!fresh)
			return NULL;
		fresh->next = c;
		t->arena = c = fresh;
	}
	size_t at = start_of_next(c);
	c->used = at + n;
	ASAN_UNPOISON_MEMORY_REGION(c->mem + at, n);
	return c->mem + at;
}

void tr_arena_trim(struct hx_trace *t, void *p, size_t n)
{
	struct tr_chunk *c = t->arena;
	size_t at = (size_t)((unsigned char *)p - c->mem);
	ASAN_POISON_MEMORY_REGION(c->mem + at + n, c->used - at - n);
	c->used = at + n;
}

void tr_arena_free(struct hx_trace *t)
{
	struct tr_chunk *c = t->arena;
	t->arena = NULL;
	while (c) {
		struct tr_chunk *next = c->next;
		if (!spare && c->cap == TR_CHUNK_CAP) {
			ASAN_POISON_MEMORY_REGION(c->mem, c->used);
			spare = c;
		} else {
			free(c);
		}
		c = next;
	}
}
