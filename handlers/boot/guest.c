#include "guest.h"

#include "hv/guest_abi.h"
#include "io.h"

/* ELF-64 (System V gABI, "ELF Header" and "Program Header"). */
struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "program header");
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1
#define ELF_MAX_PHDRS 64

void *hvb_gpa_ptr(const struct hv_system_config *cfg, uint32_t part, uint64_t gpa, uint64_t len)
{
	const struct hv_partition_config *pc = &cfg->partitions[part];
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type == HV_REGION_RAM && hv_range_ok(gpa, len ? len : 1) &&
		    hv_range_inside(gpa, len ? len : 1, r->gpa, r->size))
			return (void *)(uintptr_t)(r->hpa + (gpa - r->gpa));
	}
	return 0;
}

static void fill_canaries(const struct hv_system_config *cfg, uint32_t part)
{
	const struct hv_partition_config *pc = &cfg->partitions[part];
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type != HV_REGION_RAM)
			continue;
		uint64_t *w = (uint64_t *)(uintptr_t)r->hpa;
		for (uint64_t k = 0; k < r->size / 8; k++)
			w[k] = hx_canary(part + 1, r->hpa + k * 8);
	}
}

static void put(const struct hv_system_config *cfg, uint32_t part, uint64_t gpa, const void *src,
                uint64_t len, const char *what)
{
	void *dst = hvb_gpa_ptr(cfg, part, gpa, len);
	if (!dst)
		hvb_fatal(
		        "partition %u: %s at GPA 0x%lx is not in its RAM (the guest ABI needs RAM "
		        "at GPA 0, at least 2 MiB)",
		        part, what, (unsigned long)gpa);
	hv_memcpy(dst, src, len);
}

static void load_elf(const struct hv_system_config *cfg, uint32_t part,
                     const struct hvb_module *mod, struct hvb_image *img)
{
	const uint8_t *file = (const uint8_t *)(uintptr_t)mod->start;
	uint64_t size = mod->size;
	struct elf64_ehdr eh;
	if (size < sizeof(eh))
		hvb_fatal("partition %u: guest image is %lu bytes, smaller than an ELF header",
		          part, (unsigned long)size);
	hv_memcpy(&eh, file, sizeof(eh));
	if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F')
		hvb_fatal("partition %u: guest image is not an ELF file", part);
	if (eh.ident[4] != 2 || eh.ident[5] != 1 || eh.machine != EM_X86_64 || eh.type != ET_EXEC)
		hvb_fatal(
		        "partition %u: guest image is not a 64-bit little-endian x86-64 executable",
		        part);
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phnum == 0 ||
	    eh.phnum > ELF_MAX_PHDRS ||
	    !hv_range_inside(eh.phoff, (uint64_t)eh.phnum * sizeof(struct elf64_phdr), 0, size))
		hvb_fatal("partition %u: guest image has a malformed program header table", part);
	img->lo = ~0ull;
	img->hi = 0;
	bool entry_ok = false;
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		hv_memcpy(&ph, file + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz || !hv_range_inside(ph.offset, ph.filesz, 0, size))
			hvb_fatal("partition %u: segment %u has file bytes outside the image", part,
			          i);
		if (!hv_range_ok(ph.paddr, ph.memsz) || ph.paddr < HX_GUEST_LOAD_MIN)
			hvb_fatal("partition %u: segment %u at GPA 0x%lx is below 0x%lx or wraps",
			          part, i, (unsigned long)ph.paddr,
			          (unsigned long)HX_GUEST_LOAD_MIN);
		uint8_t *dst = hvb_gpa_ptr(cfg, part, ph.paddr, ph.memsz);
		if (!dst)
			hvb_fatal("partition %u: segment %u [0x%lx, +0x%lx) is not inside one RAM "
			          "region of the partition",
			          part, i, (unsigned long)ph.paddr, (unsigned long)ph.memsz);
		hv_memcpy(dst, file + ph.offset, ph.filesz);
		hv_memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		if ((ph.flags & PF_X) && eh.entry >= ph.paddr && eh.entry - ph.paddr < ph.memsz)
			entry_ok = true;
		if (ph.paddr < img->lo)
			img->lo = ph.paddr;
		if (ph.paddr + ph.memsz > img->hi)
			img->hi = ph.paddr + ph.memsz;
	}
	if (!entry_ok)
		hvb_fatal("partition %u: entry point 0x%lx is not in an executable loaded segment",
		          part, (unsigned long)eh.entry);
	img->entry = eh.entry;
}

static void write_boot_info(const struct hv_system_config *cfg, uint32_t part, uint32_t vcpu,
                            const struct hvb_image *img)
{
	struct hx_boot_info bi;
	hx_boot_info_fill(&bi, cfg, part, vcpu, img->lo, img->hi);
	put(cfg, part, hx_boot_info_gpa(vcpu), &bi, sizeof(bi), "the boot info");
}

void hvb_guest_prepare(const struct hv_system_config *cfg, uint32_t part, uint32_t nvcpus,
                       const struct hvb_module *mod, struct hvb_image *img)
{
	fill_canaries(cfg, part);
	load_elf(cfg, part, mod, img);
	uint64_t gdt[HX_GUEST_GDT_ENTRIES];
	hx_guest_gdt(gdt);
	put(cfg, part, HX_GUEST_GDT_GPA, gdt, sizeof(gdt), "the GDT");
	uint8_t tss[HX_GUEST_TSS_LIMIT + 1];
	hv_memset(tss, 0, sizeof(tss));
	tss[102] = sizeof(tss); /* I/O map base beyond the limit: no bitmap */
	put(cfg, part, HX_GUEST_TSS_GPA, tss, sizeof(tss), "the TSS");
	uint64_t *pt = hvb_gpa_ptr(cfg, part, HX_GUEST_PT_GPA, HX_GUEST_PT_PAGES * 4096ull);
	if (!pt)
		hvb_fatal("partition %u: the page tables at GPA 0x%lx are not in its RAM", part,
		          (unsigned long)HX_GUEST_PT_GPA);
	for (uint32_t p = 0; p < HX_GUEST_PT_PAGES; p++)
		for (uint32_t i = 0; i < 512; i++)
			pt[p * 512 + i] = hx_guest_pt_word(p, i);
	for (uint32_t v = 0; v < nvcpus; v++)
		write_boot_info(cfg, part, v, img);
}
