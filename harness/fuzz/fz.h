/* Shared pieces of the fuzz targets: a byte-stream consumer (the input is a
 * fixed header followed by bytes the callbacks draw from) and the failure
 * report that turns a broken property into a crash the engines keep. */
#ifndef HX_FUZZ_FZ_H
#define HX_FUZZ_FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The entry points every target shares with libFuzzer, AFL++ (driver_afl.c)
 * and the replay driver (driver_replay.c). LLVMFuzzerInitialize is
 * optional: a target defines it to build its fixture before the first
 * input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline void fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->n = size;
}

/* Draws return 0 once the input is exhausted, so every input is valid. */
uint8_t fz_u8(struct fz *f);
uint16_t fz_u16(struct fz *f);
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
/* A value in [0, n); n > 0. */
uint32_t fz_below(struct fz *f, uint32_t n);
/* One of the values, chosen by the next byte. */
uint64_t fz_pick(struct fz *f, const uint64_t *values, size_t count);
/* Copy up to len bytes; returns how many were available. */
size_t fz_bytes(struct fz *f, void *dst, size_t len);

/* Report a broken property with its invariant id and abort, so libFuzzer
 * and AFL++ record the input as a crash. */
__attribute__((noreturn, format(printf, 2, 3))) void fz_fail(const char *invariant, const char *fmt,
                                                             ...);

/* Called by fz_fail after the report and before abort (e.g. to save the
 * failing input in another form). NULL: none. */
void fz_set_fail_hook(void (*hook)(void));

/* Whether the targets run their oracles with the pool watch
 * (hx_oracle_watch_pool): yes, unless HX_FUZZ_FULL_COMPARE is set to
 * anything but "0" (compare every pool page after every exit, to show
 * both modes find the same on a corpus). */
bool fz_watch_pool(void);

/* Memory no code may touch from now on (state slots of partitions a
 * fixture's config does not have): poisoned for AddressSanitizer, so any
 * read or write of it is a report at that instruction, and a reset need
 * not restore it. Returns false in builds without ASan, where the caller
 * must keep restoring it. */
bool fz_fence(const void *p, size_t len);

/* Whether HX_FUZZ_CHECK_RESET asks the targets to compare each reset
 * with the state right after the build (slow; set to anything but "0"). */
bool fz_check_reset(void);

/* Whether the n > 0 bytes at p are all zero (the reset checks). */
bool fz_all_zero(const void *p, size_t n);

#define FZ_CHECK(cond, inv, ...)                                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fz_fail(inv, __VA_ARGS__);                                                 \
	} while (0)

#endif
