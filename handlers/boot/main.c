/* The bootable hypervisor: multiboot entry (entry.S) -> hv_boot_main. It
 * reads the config blob and the guest ELFs from the multiboot modules,
 * checks every address against the memory map and the hypervisor range,
 * builds the partitions with the production core (hv_system_init), checks
 * the nested tables with the production verifier, and runs the vCPUs
 * (run.c). Everything it reports leaves as events (hv/boot.h). */
#include "hv/boot.h"
#include "hv/guest_abi.h"
#include "hv/verify.h"
#include "guest.h"
#include "io.h"
#include "lapic.h"
#include "mb.h"
#include "run.h"
#include "svm.h"
#include "trap.h"

extern char __hvb_start[], __hvb_end[];

static struct hvb_boot_info boot;
static struct hv_system_config config __attribute__((aligned(64)));
static struct hvb_world world;

/* Hypervisor memory after the image and its modules, handed out in pages:
 * host save area, permission maps, VMCBs, verifier scratch, then the pool. */
struct hv_free {
	uint64_t next, end;
};

static uint64_t take(struct hv_free *f, uint64_t pages, const char *what)
{
	uint64_t bytes = pages * HV_PAGE_SIZE;
	if (f->end - f->next < bytes)
		hvb_fatal("hypervisor range too small: no room for %s (%lu KiB)", what,
		          (unsigned long)(bytes >> 10));
	uint64_t pa = f->next;
	f->next += bytes;
	hv_memset((void *)(uintptr_t)pa, 0, bytes);
	return pa;
}

static void read_blob(const struct hvb_module *m, struct hvb_run_opts *opts)
{
	struct hv_boot_blob h;
	if (m->size < sizeof(h))
		hvb_fatal("config module: %lu bytes, smaller than the blob header (%u)",
		          (unsigned long)m->size, (unsigned)sizeof(h));
	hv_memcpy(&h, (const void *)(uintptr_t)m->start, sizeof(h));
	if (h.magic != HV_BOOT_BLOB_MAGIC)
		hvb_fatal("config module: bad magic (not a config blob; hx boot writes one)");
	if (h.version != HV_BOOT_BLOB_VERSION || h.header_size != sizeof(h))
		hvb_fatal("config module: version %u header %u, this image reads version %u header "
		          "%u",
		          h.version, h.header_size, HV_BOOT_BLOB_VERSION, (unsigned)sizeof(h));
	if (h.config_size != sizeof(config))
		hvb_fatal("config module: config of %lu bytes, this image's is %lu",
		          (unsigned long)h.config_size, (unsigned long)sizeof(config));
	if (m->size != sizeof(h) + sizeof(config))
		hvb_fatal("config module: %lu bytes, expected %lu", (unsigned long)m->size,
		          (unsigned long)(sizeof(h) + sizeof(config)));
	if (h.flags & ~HV_BOOT_OPT_ALL)
		hvb_fatal("config module: unknown option bits 0x%x", h.flags & ~HV_BOOT_OPT_ALL);
	/* Copied before it is checked: the module stays in memory the checks
	 * never look at again. */
	hv_memcpy(&config, (const uint8_t *)(uintptr_t)m->start + sizeof(h), sizeof(config));
	uint32_t sum = hv_boot_fnv1a(&config, sizeof(config));
	if (sum != h.checksum)
		hvb_fatal("config module: checksum 0x%x, the bytes give 0x%x (corrupted)",
		          h.checksum, sum);
	opts->record = (h.flags & HV_BOOT_OPT_RECORD) != 0;
	opts->max_vcpus = h.max_vcpus;
	opts->max_exits = h.max_exits;
}

static void check_config(void)
{
	struct hv_config_diag diag;
	if (hv_config_validate(&config, &diag) != HV_OK)
		hvb_fatal("config rejected: %s (partition %d, index %d, address 0x%lx)",
		          hv_config_error_str(diag.error), diag.partition, diag.index,
		          (unsigned long)diag.addr);
	if (config.vendor != HV_VENDOR_AMD)
		hvb_fatal("config says vendor intel: this image runs AMD SVM with nested paging; "
		          "set \"vendor\": \"amd\"");
	if (config.host_mem_size > (4ull << 30))
		hvb_fatal("host memory of %lu MiB: the image maps the first 4 GiB only",
		          (unsigned long)(config.host_mem_size >> 20));
	if (boot.nmodules != 1 + config.npartitions)
		hvb_fatal("%u modules, expected %u: the config and one guest ELF per partition",
		          boot.nmodules, 1 + config.npartitions);
}

/* Everything the image occupies lies inside the hypervisor range, and
 * every range a partition gets is RAM in the memory map. */
static void check_memory(struct hv_free *f)
{
	uint64_t hv_lo = config.hv_base, hv_size = config.hv_size;
	uint64_t img_lo = (uint64_t)(uintptr_t)__hvb_start, img_hi = (uint64_t)(uintptr_t)__hvb_end;
	if (!hv_range_inside(img_lo, img_hi - img_lo, hv_lo, hv_size))
		hvb_fatal("the image [0x%lx, 0x%lx) is not inside the hypervisor range [0x%lx, "
		          "+0x%lx)",
		          (unsigned long)img_lo, (unsigned long)img_hi, (unsigned long)hv_lo,
		          (unsigned long)hv_size);
	uint64_t top = img_hi;
	for (uint32_t i = 0; i < boot.nmodules; i++) {
		const struct hvb_module *m = &boot.modules[i];
		if (!hv_range_inside(m->start, m->size ? m->size : 1, hv_lo, hv_size))
			hvb_fatal("module %u [0x%lx, +0x%lx) is not inside the hypervisor range", i,
			          (unsigned long)m->start, (unsigned long)m->size);
		if (m->start + m->size > top)
			top = m->start + m->size;
	}
	for (uint32_t p = 0; p < config.npartitions; p++) {
		const struct hv_partition_config *pc = &config.partitions[p];
		for (uint32_t i = 0; i < pc->nregions; i++) {
			const struct hv_region *r = &pc->regions[i];
			if (r->type == HV_REGION_RAM && !hvb_mb_is_ram(&boot, r->hpa, r->size))
				hvb_fatal("partition %u \"%s\" region %u: HPA [0x%lx, +0x%lx) is "
				          "not RAM in "
				          "the memory map",
				          p, pc->name, i, (unsigned long)r->hpa,
				          (unsigned long)r->size);
		}
	}
	for (uint32_t c = 0; c < config.nchannels; c++)
		if (!hvb_mb_is_ram(&boot, config.channels[c].hpa, config.channels[c].size))
			hvb_fatal("channel %u \"%s\": HPA [0x%lx, +0x%lx) is not RAM in the memory "
			          "map",
			          c, config.channels[c].name, (unsigned long)config.channels[c].hpa,
			          (unsigned long)config.channels[c].size);
	f->next = (top + HV_PAGE_SIZE - 1) & ~(uint64_t)(HV_PAGE_SIZE - 1);
	f->end = hv_lo + hv_size;
	/* Only the part of it the memory map calls RAM. */
	uint64_t ram_end = f->next;
	while (ram_end < f->end && hvb_mb_is_ram(&boot, ram_end, HV_PAGE_SIZE))
		ram_end += HV_PAGE_SIZE;
	f->end = ram_end;
	world.image_lo = img_lo;
	world.image_hi = f->next;
}

static void on_violation(void *ctx, const struct hv_violation *v)
{
	(void)ctx;
	hvb_report_violation(&world, v, 0);
}

void hv_boot_main(uint32_t magic, uint32_t info);
void hv_boot_main(uint32_t magic, uint32_t info)
{
	hvb_serial_init();
	hvb_trap_init();
	hvb_printf("hx-boot: starting\n");
	hvb_mb_read(magic, info, &boot);
	struct hvb_run_opts opts = {0};
	read_blob(&boot.modules[0], &opts);
	check_config();
	struct hv_free f;
	check_memory(&f);

	uint64_t hsave = take(&f, 1, "the host save area");
	hvb_svm_enable(hsave, &world.cpu);
	if (world.cpu.nasids < config.npartitions + 1)
		hvb_fatal("%u partitions need %u ASIDs, this CPU has %u", config.npartitions,
		          config.npartitions + 1, world.cpu.nasids);
	world.host_vmsave_pa = take(&f, 1, "the host VMSAVE area");
	/* Every MSR and every port intercepted: both maps all ones (APM
	 * Vol. 2, 15.10.1 and 15.11: 8 KiB MSRPM, 12 KiB IOPM). */
	world.msrpm_pa = take(&f, 2, "the MSR permission map");
	hv_memset((void *)(uintptr_t)world.msrpm_pa, 0xff, 2 * HV_PAGE_SIZE);
	world.iopm_pa = take(&f, 3, "the I/O permission map");
	hv_memset((void *)(uintptr_t)world.iopm_pa, 0xff, 3 * HV_PAGE_SIZE);
	world.opts = opts;
	world.cfg = &config;
	for (uint32_t p = 0; p < config.npartitions; p++) {
		uint32_t n = config.partitions[p].nvcpus;
		if (opts.max_vcpus && n > opts.max_vcpus)
			n = opts.max_vcpus;
		world.nvcpus[p] = n;
		for (uint32_t v = 0; v < n; v++)
			world.vmcb_pa[p][v] = take(&f, 1, "a VMCB");
	}
	/* The rest is the page pool, after canaries mark it as the
	 * hypervisor's: a guest that can read any of it has escaped. */
	uint64_t pool_pages = (f.end - f.next) / HV_PAGE_SIZE;
	if (pool_pages > HV_VERIFY_MAX_POOL_PAGES)
		pool_pages = HV_VERIFY_MAX_POOL_PAGES;
	if (pool_pages < 16)
		hvb_fatal("hypervisor range too small: %lu pages left for the page pool",
		          (unsigned long)pool_pages);
	uint64_t pool_pa = f.next;
	uint64_t *w = (uint64_t *)(uintptr_t)pool_pa;
	for (uint64_t k = 0; k < pool_pages * HV_PAGE_SIZE / 8; k++)
		w[k] = hx_canary(HX_CANARY_OWNER_HV, pool_pa + k * 8);
	hv_status st = hv_pool_init(&world.pool, (void *)(uintptr_t)pool_pa, pool_pa,
	                            (uint32_t)pool_pages);
	if (st != HV_OK)
		hvb_fatal("page pool at 0x%lx: %s", (unsigned long)pool_pa, hv_status_str(st));
	struct hv_config_diag diag;
	st = hvb_world_init(&world, &diag);
	if (st != HV_OK)
		hvb_fatal("hv_system_init: %s (%s, partition %d)", hv_status_str(st),
		          hv_config_error_str(diag.error), diag.partition);
#ifdef HV_BOOT_TEST_BREAK_NPT
	hvb_test_break_npt(&world);
#endif
	struct hv_verify_part vp[HV_MAX_PARTITIONS];
	for (uint32_t p = 0; p < config.npartitions; p++)
		vp[p] = (struct hv_verify_part){world.sys.parts[p].ept_root, false};
	hv_ept_verify(&config, &world.pool, vp, on_violation, 0, 16);

	for (uint32_t p = 0; p < config.npartitions; p++) {
		struct hvb_image img;
		hvb_guest_prepare(&config, p, world.nvcpus[p], &boot.modules[1 + p], &img);
		world.entry[p] = img.entry;
	}
	struct hv_ev_hello hello = {HV_BOOT_BLOB_VERSION,
	                            config.npartitions,
	                            world.cpu.svm_features,
	                            world.cpu.nasids,
	                            pool_pa,
	                            pool_pages,
	                            world.image_lo,
	                            world.image_hi,
	                            3ull * config.npartitions};
	hvb_event(HV_EV_HELLO, &hello, sizeof(hello), 0, 0);
	hvb_printf("hx-boot: %u partitions, pool %lu pages at 0x%lx, SVM features 0x%x\n",
	           config.npartitions, (unsigned long)pool_pages, (unsigned long)pool_pa,
	           world.cpu.svm_features);
	/* Time slices of about 5 ms under QEMU, whose APIC timer counts
	 * nanoseconds (16 ns per tick divided by 16); on a board the length
	 * follows its APIC clock: a bound on starvation, not a schedule. */
	hvb_lapic_timer_start(312500);
	hvb_run(&world);
	hvb_printf("hx-boot: every partition stopped\n");
	hvb_exit(HV_BOOT_EXIT_DONE);
}
