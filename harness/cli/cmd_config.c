/* hx config check CONFIG / hx ept dump CONFIG.
 *
 * check: load and validate a JSON partition config; print a one-line summary
 * or the precise reason it was rejected (exit 2).
 * dump: build every partition's EPT with the production builder, in a pool
 * placed like the KVM runner places it (upper half of the hypervisor range),
 * print the walk merged into runs, the emulated devices that stay unmapped,
 * and the verdict of hv_ept_verify (exit 1 on a violation). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "cli.h"
#include "config_json.h"
#include "diag.h"
#include "hv/ept.h"
#include "hv/pool.h"
#include "hv/verify.h"

/* Upper bound on the dump's pool, so a huge hypervisor range does not ask
 * for absurd amounts of (lazily committed) memory: 1 GiB of tables. */
#define DUMP_MAX_POOL_PAGES (1u << 18)

/* Exact sizes in binary units: "64 MiB", "1 GiB 2 MiB 4 KiB", "0 B". */
static const char *size_str(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"TiB", "GiB", "MiB", "KiB", "B"};
	size_t pos = 0;
	buf[0] = '\0';
	for (unsigned u = 0; u < HV_ARRAY_LEN(units); u++) {
		unsigned shift = 10 * (unsigned)(HV_ARRAY_LEN(units) - 1 - u);
		uint64_t part = u == 0 ? n >> shift : (n >> shift) & 1023;
		if (part == 0 || pos >= len)
			continue;
		int w = snprintf(buf + pos, len - pos, "%s%" PRIu64 " %s", pos ? " " : "", part,
		                 units[u]);
		if (w > 0)
			pos += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "0 B");
	return buf;
}

static struct hv_system_config *load(const char *cmd, const char *path)
{
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct hx_config_error *err = calloc(1, sizeof(*err));
	if (!cfg || !err) {
		fprintf(stderr, "hx %s: out of memory\n", cmd);
		free(cfg);
		free(err);
		return NULL;
	}
	if (hx_config_load(path, cfg, err) != HX_CONFIG_OK) {
		fprintf(stderr, "error: %s\n", err->msg);
		free(cfg);
		cfg = NULL;
	}
	free(err);
	return cfg;
}

int hx_cmd_config_check(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: hx config check CONFIG.json\n");
		return HX_EXIT_USAGE;
	}
	struct hv_system_config *cfg = load("config check", argv[1]);
	if (!cfg)
		return HX_EXIT_USAGE;

	uint64_t ram = 0, mmio = 0;
	uint32_t regions = 0, devices = 0, members = 0, vcpus = 0, io = 0;
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		regions += pc->nregions;
		devices += pc->ndevices;
		io += pc->nio;
		members += pc->nchannels;
		vcpus += pc->nvcpus;
		for (uint32_t i = 0; i < pc->nregions; i++) {
			if (pc->regions[i].type == HV_REGION_RAM)
				ram += pc->regions[i].size;
			else
				mmio += pc->regions[i].size;
		}
	}
	char a[48], b[48];
	printf("ok: %u partition%s, %u channel%s, %u region%s (%s RAM, %s MMIO), %u device%s, "
	       "%u port-I/O device%s, %u channel membership%s, %u vCPU%s, vendor %s: %s\n",
	       cfg->npartitions, cfg->npartitions == 1 ? "" : "s", cfg->nchannels,
	       cfg->nchannels == 1 ? "" : "s", regions, regions == 1 ? "" : "s",
	       size_str(ram, a, sizeof(a)), size_str(mmio, b, sizeof(b)), devices,
	       devices == 1 ? "" : "s", io, io == 1 ? "" : "s", members, members == 1 ? "" : "s",
	       vcpus, vcpus == 1 ? "" : "s", hx_config_vendor_name(cfg->vendor), hx_esc(argv[1]));
	free(cfg);
	return HX_EXIT_OK;
}

/* ---- ept dump ---- */

struct dump_part {
	const struct hv_system_config *cfg;
	uint32_t partition;
	uint32_t runs;
	uint64_t pages[3]; /* by enum hv_page_size */
	uint64_t bytes;
};

/* Name the config objects a run covers: "ram region 0", "channel "link"
 * (membership 0)"; a merged run may span several adjacent ones. */
static void print_owners(const struct dump_part *d, const struct hv_ept_run *run)
{
	const struct hv_partition_config *pc = &d->cfg->partitions[d->partition];
	const char *sep = "";
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (hv_ranges_overlap(run->gpa, run->size, r->gpa, r->size)) {
			printf("%s%s region %u", sep, r->type == HV_REGION_RAM ? "ram" : "mmio", i);
			sep = ", ";
		}
	}
	for (uint32_t i = 0; i < pc->nchannels; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		const struct hv_channel_config *ch = &d->cfg->channels[m->channel];
		if (hv_ranges_overlap(run->gpa, run->size, m->gpa, ch->size)) {
			printf("%schannel \"%s\"", sep, hx_esc(ch->name));
			sep = ", ";
		}
	}
	if (!*sep)
		printf("NOT IN CONFIG");
}

static void print_run(void *ctx, const struct hv_ept_run *run)
{
	struct dump_part *d = ctx;
	char perm[4], size[48];
	hx_perm_string(run->perm, perm);
	const char *mt = hx_memtype_name(run->memtype);
	uint64_t page = HV_PAGE_SIZE << (9 * (run->level <= HV_PG_1G ? run->level : 0));
	printf("  gpa 0x%012" PRIx64 "-0x%012" PRIx64 " -> hpa 0x%012" PRIx64
	       "  %-14s %s %s %s x %-6" PRIu64 "  ",
	       run->gpa, run->gpa + run->size - 1, run->hpa,
	       size_str(run->size, size, sizeof(size)), perm, mt ? mt : "??",
	       hx_page_size_name(run->level), run->size / page);
	print_owners(d, run);
	printf("\n");
	d->runs++;
	d->bytes += run->size;
	if (run->level <= HV_PG_1G)
		d->pages[run->level] += run->size / page;
}

static void print_violation(void *ctx, const struct hv_violation *v)
{
	const struct hv_system_config *cfg = ctx;
	char text[512];
	printf("  %s\n", hx_format_violation(cfg, v, text, sizeof(text)));
}

static int dump(const struct hv_system_config *cfg, struct hv_pool *pool,
                struct hv_verify_part *parts)
{
	bool npt = cfg->vendor == HV_VENDOR_AMD;
	const char *kind = npt ? "NPT" : "EPT";
	if (npt)
		printf("vendor amd: nested page tables (APM Vol. 2, 15.25); memory types through "
		       "host PAT 0x%016llx, loaded by the firmware before VMRUN\n",
		       (unsigned long long)HV_S2_NPT_HOST_PAT);
	else
		printf("vendor intel: extended page tables (SDM Vol. 3C, 29.3), 4-level, WB "
		       "walks\n");
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		uint32_t before = pool->used;
		hv_status s =
		        hv_s2_build(pool, cfg, p, hv_s2_vendor_format(cfg->vendor), &parts[p].root);
		if (s != HV_OK) {
			fprintf(stderr,
			        "error: building the %s of partition %u \"%s\" failed: %s (table "
			        "pool: %u of %u pages used; it is the upper half of the "
			        "hypervisor range)\n",
			        kind, p, hx_esc(pc->name), hv_status_str(s), pool->used,
			        pool->npages);
			return s == HV_ERR_NOMEM ? HX_EXIT_USAGE : HX_EXIT_FAIL;
		}
		/* The hardware pointer: EPTP bits 51:12 or N_CR3 (the tag is ours). */
		printf("partition %u \"%s\": %u vCPU%s, %s root 0x%" PRIx64 ", %u table page%s\n",
		       p, hx_esc(pc->name), pc->nvcpus, pc->nvcpus == 1 ? "" : "s", kind,
		       (uint64_t)(parts[p].root & HV_PAGE_MASK), pool->used - before,
		       pool->used - before == 1 ? "" : "s");
		struct dump_part d = {.cfg = cfg, .partition = p};
		s = hv_ept_walk(pool, parts[p].root, print_run, &d);
		if (s != HV_OK) {
			fprintf(stderr, "error: walking the %s of partition %u failed: %s\n", kind,
			        p, hv_status_str(s));
			return HX_EXIT_FAIL;
		}
		for (uint32_t i = 0; i < pc->ndevices; i++) {
			const struct hv_device_config *dev = &pc->devices[i];
			printf("  gpa 0x%012" PRIx64 "-0x%012" PRIx64 "  unmapped: %s device %u "
			       "(emulated)\n",
			       dev->gpa, dev->gpa + dev->size - 1,
			       dev->type == HV_DEV_CONSOLE ? "console" : "unknown", i);
		}
		char total[48];
		printf("  %u run%s, %s mapped: %" PRIu64 " x 4K, %" PRIu64 " x 2M, %" PRIu64
		       " x 1G pages\n",
		       d.runs, d.runs == 1 ? "" : "s", size_str(d.bytes, total, sizeof(total)),
		       d.pages[HV_PG_4K], d.pages[HV_PG_2M], d.pages[HV_PG_1G]);
	}
	printf("verify (EPT-OWN, EPT-FORM, EPT-EXACT): ");
	fflush(stdout);
	/* A table bitmap for the whole pool: a large EPT is verified, not
	 * refused as too large for hv_ept_verify's stack bitmap. */
	uint64_t words = HV_VERIFY_SEEN_WORDS(pool->npages);
	uint64_t *seen = calloc(words, sizeof(*seen));
	if (!seen) {
		fprintf(stderr, "error: out of memory for the verifier's table bitmap\n");
		return HX_EXIT_FAIL;
	}
	uint32_t n = hv_ept_verify_ex(cfg, pool, parts, NULL, NULL, 0, seen, (uint32_t)words);
	if (n == 0) {
		printf("ok\n");
		free(seen);
		return HX_EXIT_OK;
	}
	printf("%u violation%s\n", n, n == 1 ? "" : "s");
	hv_ept_verify_ex(cfg, pool, parts, print_violation, (void *)cfg, 20, seen, (uint32_t)words);
	free(seen);
	return HX_EXIT_FAIL;
}

int hx_cmd_ept_dump(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: hx ept dump CONFIG.json\n");
		return HX_EXIT_USAGE;
	}
	struct hv_system_config *cfg = load("ept dump", argv[1]);
	if (!cfg)
		return HX_EXIT_USAGE;

	/* The pool lives in the upper half of the hypervisor range, as in the
	 * KVM runner; the lower half stands for the hypervisor's own image. */
	uint64_t pages = (cfg->hv_size >> HV_PAGE_SHIFT) / 2;
	if (pages == 0) {
		fprintf(stderr,
		        "error: %s: hypervisor range of %" PRIu64
		        " bytes has no room for an EPT pool\n",
		        hx_esc(argv[1]), cfg->hv_size);
		free(cfg);
		return HX_EXIT_USAGE;
	}
	if (pages > DUMP_MAX_POOL_PAGES)
		pages = DUMP_MAX_POOL_PAGES;
	uint64_t pool_hpa = cfg->hv_base + cfg->hv_size - (pages << HV_PAGE_SHIFT);
	void *mem = aligned_alloc(HV_PAGE_SIZE, pages << HV_PAGE_SHIFT);
	struct hv_verify_part *parts = calloc(HV_MAX_PARTITIONS, sizeof(*parts));
	struct hv_pool pool;
	int rc = HX_EXIT_FAIL;
	if (!mem || !parts) {
		fprintf(stderr, "error: out of memory for a pool of %" PRIu64 " pages\n", pages);
	} else if (hv_pool_init(&pool, mem, pool_hpa, (uint32_t)pages) != HV_OK) {
		fprintf(stderr, "error: cannot set up the EPT pool\n");
	} else {
		char hv[48];
		printf("config %s: %u partition%s, host memory 0x0-0x%" PRIx64
		       ", hypervisor 0x%" PRIx64 "-0x%" PRIx64 " (%s)\n",
		       hx_esc(argv[1]), cfg->npartitions, cfg->npartitions == 1 ? "" : "s",
		       cfg->host_mem_size - 1, cfg->hv_base, cfg->hv_base + cfg->hv_size - 1,
		       size_str(cfg->hv_size, hv, sizeof(hv)));
		printf("EPT pool: %" PRIu64 " page%s at hpa 0x%" PRIx64 "\n", pages,
		       pages == 1 ? "" : "s", pool_hpa);
		rc = dump(cfg, &pool, parts);
	}
	free(mem);
	free(parts);
	free(cfg);
	return rc;
}
