#include "bench_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t hxb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double hxb_tsc_per_ns(unsigned ms)
{
	uint64_t n0 = hxb_now_ns(), t0 = hxb_tsc_begin();
	uint64_t until = n0 + (uint64_t)ms * 1000000ull, n1;
	do
		n1 = hxb_now_ns();
	while (n1 < until);
	uint64_t t1 = hxb_tsc_end();
	return (double)(t1 - t0) / (double)(n1 - n0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t hxb_timer_overhead(unsigned n)
{
	uint64_t *s = malloc(n * sizeof(*s));
	if (!s)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = hxb_tsc_begin();
		uint64_t t1 = hxb_tsc_end();
		s[i] = t1 - t0;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	uint64_t med = s[n / 2];
	free(s);
	return med;
}

/* Nearest-rank percentile of sorted samples. */
static double pct(const uint64_t *s, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n);
	if (k >= n)
		k = n - 1;
	return (double)s[k];
}

void hxb_dist_of(uint64_t *samples, size_t n, struct hxb_dist *d)
{
	memset(d, 0, sizeof(*d));
	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), cmp_u64);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)samples[i];
	d->n = n;
	d->min = (double)samples[0];
	d->p1 = pct(samples, n, 1);
	d->p10 = pct(samples, n, 10);
	d->p25 = pct(samples, n, 25);
	d->p50 = pct(samples, n, 50);
	d->p75 = pct(samples, n, 75);
	d->p90 = pct(samples, n, 90);
	d->p99 = pct(samples, n, 99);
	d->max = (double)samples[n - 1];
	d->mean = sum / (double)n;
}

void hxb_dist_json(FILE *f, const struct hxb_dist *d)
{
	fprintf(f,
	        "{\"n\": %llu, \"min\": %.1f, \"p1\": %.1f, \"p10\": %.1f, \"p25\": %.1f, "
	        "\"p50\": %.1f, \"p75\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f, "
	        "\"mean\": %.1f}",
	        (unsigned long long)d->n, d->min, d->p1, d->p10, d->p25, d->p50, d->p75, d->p90,
	        d->p99, d->max, d->mean);
}

FILE *hxb_out_open(struct hxb_out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	if (strlen(path) >= sizeof(o->path)) {
		fprintf(stderr, "output path too long: %s\n", path);
		return NULL;
	}
	snprintf(o->path, sizeof(o->path), "%s", path);
	/* mkstemp, not a pid-based name: the temp file is created new
	 * (O_EXCL), so a planted symlink or FIFO at a guessable name next to
	 * the report cannot redirect or block the write. */
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		fprintf(stderr, "cannot write %s: %s\n", o->tmp, strerror(errno));
		return NULL;
	}
	/* mkstemp creates 0600; a report is an ordinary shareable file. */
	if (fchmod(fd, 0644) != 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "cannot write %s: %s\n", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		return NULL;
	}
	return o->f;
}

int hxb_out_close(struct hxb_out *o)
{
	int bad = ferror(o->f) != 0;
	if (fclose(o->f) != 0)
		bad = 1;
	if (!bad && rename(o->tmp, o->path) != 0) {
		fprintf(stderr, "cannot rename %s to %s: %s\n", o->tmp, o->path, strerror(errno));
		bad = 1;
	}
	if (bad) {
		fprintf(stderr, "failed to write %s\n", o->path);
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

void hxb_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

uint64_t hxb_parse_count(const char *prog, const char *what, const char *text, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "%s: %s must be an integer in 1..%llu, got '%s'\n", prog, what,
		        (unsigned long long)max, text);
		exit(2);
	}
	return v;
}
