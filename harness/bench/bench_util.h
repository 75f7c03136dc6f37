/* Timing and reporting helpers shared by the benchmarks: serialised TSC
 * reads, percentiles, TSC frequency, atomic output files. */
#ifndef HXB_UTIL_H
#define HXB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Start and end of a timed region. LFENCE before RDTSC keeps earlier
 * instructions from leaking into the region, the one after keeps later
 * ones from starting before the read; RDTSCP waits for everything before
 * it to execute, and the LFENCE after it keeps the region's end honest
 * (Intel SDM Vol. 2B, RDTSC/RDTSCP; on AMD LFENCE is dispatch serialising
 * when the OS enables it, as Linux does). */
static inline uint64_t hxb_tsc_begin(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t hxb_tsc_end(void)
{
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

uint64_t hxb_now_ns(void);

/* TSC ticks per nanosecond, measured against CLOCK_MONOTONIC_RAW over
 * `ms` milliseconds. */
double hxb_tsc_per_ns(unsigned ms);

/* Median of `n` empty timed regions: the cost of the timer itself. */
uint64_t hxb_timer_overhead(unsigned n);

/* Percentiles of samples (sorted in place). */
struct hxb_dist {
	uint64_t n;
	double min, p1, p10, p25, p50, p75, p90, p99, max, mean;
};
void hxb_dist_of(uint64_t *samples, size_t n, struct hxb_dist *d);
void hxb_dist_json(FILE *f, const struct hxb_dist *d);

/* Atomic output: write to a temporary file beside path, then rename.
 * hxb_out_open returns NULL (with a message) on failure; hxb_out_close
 * returns 0 on success and removes the temporary file on failure. */
struct hxb_out {
	FILE *f;
	char path[1024];
	char tmp[1100];
};
FILE *hxb_out_open(struct hxb_out *o, const char *path);
int hxb_out_close(struct hxb_out *o);

/* JSON string with escapes. */
void hxb_json_str(FILE *f, const char *s);

/* Parse a positive integer argument; exits 2 with a message when bad. */
uint64_t hxb_parse_count(const char *prog, const char *what, const char *text, uint64_t max);

#endif
