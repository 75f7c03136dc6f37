/* hx-bench-ept: second-stage build and verify time for typical and large
 * layouts, in both formats (Intel EPT and AMD NPT: one builder and one
 * verifier with a per-format encoder and decoder), each beside the
 * bandwidth floor: a memset of as many bytes as the
 * tables occupy (every table page is zeroed when taken from the pool, and
 * the verifier reads every entry, so neither can beat it by much).
 *
 *   hx-bench-ept [-r REPEATS] [-o FILE.json]
 *
 * Layouts:
 *   large_1g   one partition, 4 GiB of RAM, GPA/HPA 1 GiB aligned: 1 GiB leaves
 *   large_2m   one partition, 4 GiB of RAM, HPA only 2 MiB aligned: 2 MiB leaves
 *   small_4k   one partition, 1 GiB of RAM, HPA only 4 KiB aligned: 4 KiB leaves
 *   parts_64   64 partitions, each 64 MiB RAM (2 MiB leaves) + 1 MiB RAM
 *              (4 KiB leaves) + one UC MMIO page + a console device, in 16
 *              channels of four members
 * Only the page pool is real memory: building and verifying never touch the
 * memory the tables map. Times are medians of REPEATS runs (warm caches). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "hv/config.h"
#include "hv/ept.h"
#include "hv/s2_entry.h"
#include "hv/verify.h"

static const char *prog = "hx-bench-ept";

#define POOL_HPA (16ull << 20)
#define POOL_PAGES 8192u /* 32 MiB */
#define HV_SIZE (64ull << 20)
#define PART_BASE (4ull << 30) /* partitions' memory starts at 4 GiB */

struct layout {
	const char *name;
	const char *what;
	void (*make)(struct hv_system_config *cfg);
};

static void base(struct hv_system_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host_mem_size = 64ull << 30;
	cfg->hv_size = HV_SIZE;
}

static struct hv_partition_config *add_part(struct hv_system_config *cfg)
{
	struct hv_partition_config *p = &cfg->partitions[cfg->npartitions];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "p%u", cfg->npartitions);
	p->nvcpus = 1;
	cfg->npartitions++;
	return p;
}

static void add_region(struct hv_partition_config *p, uint64_t gpa, uint64_t hpa, uint64_t size,
                       uint8_t type)
{
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = gpa,
	        .hpa = hpa,
	        .size = size,
	        .type = type,
	        .perm = type == HV_REGION_RAM ? HV_PERM_RWX : HV_PERM_RW,
	        .memtype = type == HV_REGION_RAM ? HV_MT_WB : HV_MT_UC,
	};
}

static void make_large_1g(struct hv_system_config *cfg)
{
	base(cfg);
	add_region(add_part(cfg), 0, PART_BASE, 4ull << 30, HV_REGION_RAM);
}

static void make_large_2m(struct hv_system_config *cfg)
{
	base(cfg);
	add_region(add_part(cfg), 0, PART_BASE + HV_SIZE_2M, 4ull << 30, HV_REGION_RAM);
}

static void make_small_4k(struct hv_system_config *cfg)
{
	base(cfg);
	add_region(add_part(cfg), 0, PART_BASE + HV_PAGE_SIZE, 1ull << 30, HV_REGION_RAM);
}

static void make_parts_64(struct hv_system_config *cfg)
{
	base(cfg);
	uint64_t chan_base = PART_BASE + 64 * (128ull << 20);
	cfg->nchannels = 16;
	for (uint32_t c = 0; c < 16; c++) {
		snprintf(cfg->channels[c].name, HV_NAME_LEN, "ch%u", c);
		cfg->channels[c].hpa = chan_base + c * 0x10000ull;
		cfg->channels[c].size = 0x4000;
	}
	for (uint32_t i = 0; i < 64; i++) {
		struct hv_partition_config *p = add_part(cfg);
		uint64_t hpa = PART_BASE + i * (128ull << 20);
		add_region(p, 0, hpa, 64ull << 20, HV_REGION_RAM);
		add_region(p, 0x10000000, hpa + (64ull << 20) + HV_PAGE_SIZE, 1ull << 20,
		           HV_REGION_RAM);
		add_region(p, 0xfe000000, hpa + (100ull << 20), HV_PAGE_SIZE, HV_REGION_MMIO);
		p->devices[p->ndevices++] = (struct hv_device_config){
		        .gpa = 0xfed00000, .size = HV_PAGE_SIZE, .type = HV_DEV_CONSOLE};
		p->channels[p->nchannels++] = (struct hv_channel_member){
		        .channel = i / 4,
		        .perm = i % 4 == 0 ? HV_PERM_RW : HV_PERM_R,
		        .gpa = 0x20000000,
		};
	}
}

static const struct layout layouts[] = {
        {"large_1g", "1 partition, 4 GiB RAM in 1 GiB pages", make_large_1g},
        {"large_2m", "1 partition, 4 GiB RAM in 2 MiB pages", make_large_2m},
        {"small_4k", "1 partition, 1 GiB RAM in 4 KiB pages", make_small_4k},
        {"parts_64", "64 partitions: 64 MiB (2 MiB pages) + 1 MiB (4 KiB pages) + MMIO + channel",
         make_parts_64},
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* Build every partition's tables in the config's vendor format; returns 0
 * or -1 with a message. */
static int build_all(struct hv_pool *pool, const struct hv_system_config *cfg,
                     struct hv_verify_part *parts)
{
	enum hv_s2_format fmt = hv_s2_vendor_format(cfg->vendor);
	for (uint32_t i = 0; i < cfg->npartitions; i++) {
		parts[i].root = 0;
		parts[i].protected_ = false;
		hv_status s = hv_s2_build(pool, cfg, i, fmt, &parts[i].root);
		if (s != HV_OK) {
			fprintf(stderr, "%s: %s build of partition %u failed (status %d)\n", prog,
			        fmt == HV_S2_NPT ? "NPT" : "EPT", i, (int)s);
			return -1;
		}
	}
	return 0;
}

static int run_layout(const struct layout *l, uint32_t vendor, struct hv_pool *pool,
                      uint8_t *floor_buf, unsigned repeats, FILE *f, bool last)
{
	static struct hv_system_config cfg;
	static struct hv_verify_part parts[HV_MAX_PARTITIONS];
	l->make(&cfg);
	cfg.vendor = vendor;
	struct hv_config_diag diag;
	if (hv_config_validate(&cfg, &diag) != HV_OK) {
		fprintf(stderr, "%s: layout %s rejected: %s\n", prog, l->name,
		        hv_config_error_str(diag.error));
		return -1;
	}
	uint64_t *build = calloc(repeats, sizeof(uint64_t));
	uint64_t *verify = calloc(repeats, sizeof(uint64_t));
	uint64_t *floor = calloc(repeats, sizeof(uint64_t));
	if (!build || !verify || !floor) {
		perror(prog);
		return -1;
	}
	uint32_t pages = 0;
	uint64_t mapped = 0;
	for (uint32_t p = 0; p < cfg.npartitions; p++)
		for (uint32_t r = 0; r < cfg.partitions[p].nregions; r++)
			mapped += cfg.partitions[p].regions[r].size;
	for (unsigned k = 0; k < repeats; k++) {
		hv_pool_release_to(pool, 0);
		uint64_t t0 = hxb_now_ns();
		if (build_all(pool, &cfg, parts) != 0)
			return -1;
		uint64_t t1 = hxb_now_ns();
		uint32_t bad = hv_ept_verify(&cfg, pool, parts, NULL, NULL, 0);
		uint64_t t2 = hxb_now_ns();
		if (bad != 0) {
			fprintf(stderr, "%s: layout %s: the verifier found %u violations\n", prog,
			        l->name, bad);
			return -1;
		}
		pages = pool->used;
		/* The floor: the same bytes of table pages set by memset. */
		uint64_t t3 = hxb_now_ns();
		memset(floor_buf, (int)(k & 0xff), (size_t)pages * HV_PAGE_SIZE);
		__asm__ volatile("" ::"r"(floor_buf) : "memory");
		uint64_t t4 = hxb_now_ns();
		build[k] = t1 - t0;
		verify[k] = t2 - t1;
		floor[k] = t4 - t3;
	}
	uint64_t b = median(build, repeats), v = median(verify, repeats),
	         m = median(floor, repeats);
	if (m == 0)
		m = 1;
	fprintf(f, "    {\"name\": ");
	hxb_json_str(f, l->name);
	fprintf(f, ", \"format\": \"%s\", \"what\": ", vendor == HV_VENDOR_AMD ? "npt" : "ept");
	hxb_json_str(f, l->what);
	fprintf(f,
	        ",\n     \"partitions\": %u, \"mapped_bytes\": %llu, \"table_pages\": %u, "
	        "\"table_bytes\": %llu,\n     \"build_ns\": %llu, \"verify_ns\": %llu, "
	        "\"memset_ns\": %llu, \"build_vs_memset\": %.2f, \"verify_vs_memset\": %.2f, "
	        "\"repeats\": %u}%s\n",
	        cfg.npartitions, (unsigned long long)mapped, pages,
	        (unsigned long long)pages * HV_PAGE_SIZE, (unsigned long long)b,
	        (unsigned long long)v, (unsigned long long)m, (double)b / (double)m,
	        (double)v / (double)m, repeats, last ? "" : ",");
	free(build);
	free(verify);
	free(floor);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned repeats = 15;
	const char *out = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: %s [-r REPEATS] [-o FILE.json]\n", prog);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: bad argument '%s' (usage: %s [-r N] [-o FILE])\n",
			        prog, argv[i], prog);
			return 2;
		}
		if (!strcmp(argv[i], "-r"))
			repeats = (unsigned)hxb_parse_count(prog, "-r", argv[++i], 10000);
		else if (!strcmp(argv[i], "-o"))
			out = argv[++i];
		else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, argv[i]);
			return 2;
		}
	}
	size_t pool_bytes = (size_t)POOL_PAGES * HV_PAGE_SIZE;
	uint8_t *pool_mem = mmap(NULL, pool_bytes, PROT_READ | PROT_WRITE,
	                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint8_t *floor_buf = mmap(NULL, pool_bytes, PROT_READ | PROT_WRITE,
	                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (pool_mem == MAP_FAILED || floor_buf == MAP_FAILED) {
		perror(prog);
		return 1;
	}
	struct hv_pool pool;
	if (hv_pool_init(&pool, pool_mem, POOL_HPA, POOL_PAGES) != HV_OK) {
		fprintf(stderr, "%s: pool init failed\n", prog);
		return 1;
	}
	struct hxb_out o;
	FILE *f = stdout;
	if (out && !(f = hxb_out_open(&o, out)))
		return 1;
	fprintf(f, "{\n  \"layouts\": [\n");
	size_t n = sizeof(layouts) / sizeof(layouts[0]);
	static const uint32_t vendors[] = {HV_VENDOR_INTEL, HV_VENDOR_AMD};
	for (size_t i = 0; i < n; i++)
		for (size_t v = 0; v < 2; v++)
			if (run_layout(&layouts[i], vendors[v], &pool, floor_buf, repeats, f,
			               i + 1 == n && v == 1) != 0)
				return 1;
	fprintf(f, "  ]\n}\n");
	if (out)
		return hxb_out_close(&o) == 0 ? 0 : 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
