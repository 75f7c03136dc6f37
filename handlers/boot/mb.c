#include "mb.h"

#include "io.h"

#define MB_LOADER_MAGIC 0x2badb002u
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_MMAP_AVAILABLE 1u
#define IDENTITY_LIMIT (4ull << 30) /* what entry.S maps */

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};
_Static_assert(__builtin_offsetof(struct mb_info, mmap_addr) == 48, "multiboot info, 3.3");

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

static bool mapped(uint64_t pa, uint64_t len)
{
	return hv_range_inside(pa, len, 0, IDENTITY_LIMIT);
}

/* A NUL-terminated string of at most 4 KiB inside the identity map. */
static const char *string_at(uint32_t pa, const char *what)
{
	if (!pa)
		return "";
	for (uint64_t n = 0; n < 4096; n++) {
		if (!mapped((uint64_t)pa + n, 1))
			break;
		if (((const char *)(uintptr_t)pa)[n] == 0)
			return (const char *)(uintptr_t)pa;
	}
	hvb_fatal("multiboot: %s at 0x%x is not a string of at most 4 KiB", what, pa);
}

void hvb_mb_read(uint32_t magic, uint32_t info_pa, struct hvb_boot_info *out)
{
	hv_memset(out, 0, sizeof(*out));
	if (magic != MB_LOADER_MAGIC)
		hvb_fatal("not started by a multiboot v1 loader (EAX 0x%x, expected 0x%x)", magic,
		          MB_LOADER_MAGIC);
	if (!mapped(info_pa, sizeof(struct mb_info)))
		hvb_fatal("multiboot: information at 0x%x is outside memory", info_pa);
	const struct mb_info *mi = (const struct mb_info *)(uintptr_t)info_pa;
	out->cmdline = (mi->flags & MB_INFO_CMDLINE) ? string_at(mi->cmdline, "command line") : "";
	if (!(mi->flags & MB_INFO_MMAP))
		hvb_fatal("multiboot: the loader gave no memory map (flags 0x%x)", mi->flags);
	if (!mapped(mi->mmap_addr, mi->mmap_length))
		hvb_fatal("multiboot: memory map at 0x%x (%u bytes) is outside memory",
		          mi->mmap_addr, mi->mmap_length);
	/* Entries: u32 size (not counting itself), u64 base, u64 length, u32 type. */
	for (uint64_t off = 0; off + 24 <= mi->mmap_length;) {
		const uint8_t *e = (const uint8_t *)(uintptr_t)(mi->mmap_addr + off);
		uint32_t size;
		uint64_t base, len;
		uint32_t type;
		hv_memcpy(&size, e, 4);
		hv_memcpy(&base, e + 4, 8);
		hv_memcpy(&len, e + 12, 8);
		hv_memcpy(&type, e + 20, 4);
		if (size < 20)
			hvb_fatal("multiboot: memory map entry at offset %lu has size %u (< 20)",
			          (unsigned long)off, size);
		off += 4ull + size;
		if (type != MB_MMAP_AVAILABLE || len == 0 || !hv_range_ok(base, len))
			continue;
		if (out->nram == HVB_MAX_RAM)
			hvb_fatal("multiboot: more than %u available RAM ranges", HVB_MAX_RAM);
		out->ram[out->nram++] = (struct hvb_range){base, len};
	}
	if (!(mi->flags & MB_INFO_MODS) || mi->mods_count == 0)
		hvb_fatal("multiboot: no modules (the config blob and one guest ELF per "
		          "partition are expected)");
	if (mi->mods_count > HVB_MAX_MODULES)
		hvb_fatal("multiboot: %u modules, at most %u (config + 64 guests)", mi->mods_count,
		          HVB_MAX_MODULES);
	if (!mapped(mi->mods_addr, (uint64_t)mi->mods_count * sizeof(struct mb_module)))
		hvb_fatal("multiboot: module list at 0x%x is outside memory", mi->mods_addr);
	const struct mb_module *m = (const struct mb_module *)(uintptr_t)mi->mods_addr;
	for (uint32_t i = 0; i < mi->mods_count; i++) {
		if (m[i].mod_end < m[i].mod_start ||
		    !mapped(m[i].mod_start, m[i].mod_end - m[i].mod_start))
			hvb_fatal("multiboot: module %u [0x%x, 0x%x) is not a range in memory", i,
			          m[i].mod_start, m[i].mod_end);
		out->modules[i] = (struct hvb_module){m[i].mod_start, m[i].mod_end - m[i].mod_start,
		                                      string_at(m[i].string, "module name")};
	}
	out->nmodules = mi->mods_count;
}

bool hvb_mb_is_ram(const struct hvb_boot_info *bi, uint64_t base, uint64_t size)
{
	for (uint32_t i = 0; i < bi->nram; i++)
		if (hv_range_inside(base, size, bi->ram[i].base, bi->ram[i].size))
			return true;
	return false;
}
