/* Loader for guest images: static ELF64 x86-64 executables linked at fixed
 * addresses (hx/guest_abi.h: identity-mapped, at or above
 * HX_GUEST_LOAD_MIN, inside the partition's RAM), or PE32+ images
 * (pe_load.h), which hxk_elf_read_file hands to the PE loader by their
 * magic; both end as the struct below. Every header field is
 * untrusted: bounds, overflow, overlap and placement are checked and each
 * rejection names the field and the value. */
#ifndef HXK_ELF_LOAD_H
#define HXK_ELF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm_err.h"

#define HXK_ELF_MAX_SEGS 16
#define HXK_ELF_MAX_BYTES (64u << 20)
/* Guest linear addresses are identity-mapped below 4 GiB only. */
#define HXK_ELF_ADDR_LIMIT (4ull << 30)

struct hxk_elf_seg {
	uint64_t gpa; /* p_vaddr (== p_paddr) */
	uint64_t memsz;
	uint64_t filesz;
	uint64_t offset;
	uint32_t flags; /* PF_R / PF_W / PF_X */
};

/* A named address of a PE image: an export or a COFF symbol. */
struct hxk_img_sym {
	uint64_t addr;
	char name[64];
};

struct hxk_elf {
	uint8_t *data; /* the whole file (owned) */
	size_t size;
	uint64_t entry;
	uint32_t nsegs;
	struct hxk_elf_seg segs[HXK_ELF_MAX_SEGS];
	uint64_t lo, hi; /* [lo, hi): GPA span of the loaded image */
	/* symbol table, when the image has one (validated bounds) */
	uint64_t symoff, nsyms, stroff, strsz;
	/* sorted addresses of code symbols (functions and labels in executable
	 * sections): known instruction boundaries */
	uint64_t *code_syms;
	uint32_t ncode_syms;
	/* PE32+ images only (pe_load.c) */
	bool pe;
	uint16_t subsystem;        /* PE "Subsystem": HXK_PE_SUBSYSTEM_* for EFI images */
	struct hxk_img_sym *psyms; /* exports, then external COFF symbols */
	uint32_t npsyms;
};

/* Parse a copy of data[0, size). */
int hxk_elf_parse(const uint8_t *data, size_t size, struct hxk_elf *e, struct hxk_err *err);
/* Read and parse a file (at most HXK_ELF_MAX_BYTES). */
int hxk_elf_read_file(const char *path, struct hxk_elf *e, struct hxk_err *err);
void hxk_elf_free(struct hxk_elf *e);

/* Value of a defined symbol; false when absent (or no symbol table). */
bool hxk_elf_symbol(const struct hxk_elf *e, const char *name, uint64_t *value);

/* Whether addr lies in an executable segment of the image. */
bool hxk_elf_in_code(const struct hxk_elf *e, uint64_t addr);

/* code_syms[0, ncode_syms) sorted and without repeats, as
 * hxk_elf_code_boundary needs them (both loaders fill it). */
void hxk_elf_sort_code_syms(struct hxk_elf *e);

/* The largest code symbol address <= addr; false when none. */
bool hxk_elf_code_boundary(const struct hxk_elf *e, uint64_t addr, uint64_t *out);

/* Check that every segment lies in memory the partition may load into:
 * is_ram(ctx, gpa, size) says whether [gpa, gpa+size) is its own RAM. */
typedef bool (*hxk_is_ram_fn)(void *ctx, uint64_t gpa, uint64_t size);
int hxk_elf_check_placement(const struct hxk_elf *e, hxk_is_ram_fn is_ram, void *ctx,
                            struct hxk_err *err);

/* Copy the segments and zero their bss. ptr(ctx, gpa, len) returns host
 * memory for [gpa, gpa+len) inside one page, or NULL. */
typedef void *(*hxk_gpa_ptr_fn)(void *ctx, uint64_t gpa, uint64_t len);
int hxk_elf_load(const struct hxk_elf *e, hxk_gpa_ptr_fn ptr, void *ctx, struct hxk_err *err);

#endif
