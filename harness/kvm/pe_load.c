/* PE32+ image loader (pe_load.h). Field offsets and values are those of
 * the Microsoft PE/COFF specification ("PE Format": MS-DOS stub, COFF File
 * Header, Optional Header, Section Table, .reloc, .edata, COFF Symbol
 * Table); they are read with explicit little-endian loads at checked
 * offsets, never through a cast of the file. */
#include "pe_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx/guest_abi.h"

#define PE_SIGNATURE 0x00004550u /* "PE\0\0" */
#define PE_MACHINE_AMD64 0x8664u
#define PE_MAGIC_PE32PLUS 0x20bu
#define PE_FILE_HEADER 20u
#define PE_OPT_FIXED 112u /* PE32+ optional header up to the data directories */
#define PE_SECTION_HEADER 40u
#define PE_CHAR_RELOCS_STRIPPED 0x0001u
#define PE_CHAR_EXECUTABLE 0x0002u
#define PE_SCN_UNINITIALIZED 0x00000080u
#define PE_SCN_EXECUTE 0x20000000u
#define PE_SCN_READ 0x40000000u
#define PE_SCN_WRITE 0x80000000u
#define PE_DIR_EXPORT 0u
#define PE_DIR_IMPORT 1u
#define PE_DIR_BASERELOC 5u
#define PE_DIR_TLS 9u
#define PE_REL_ABSOLUTE 0u
#define PE_REL_DIR64 10u
#define PE_SYM_SIZE 18u
#define PE_SYM_EXTERNAL 2u
#define PE_SYM_STATIC 3u
#define PE_SYM_LABEL 6u
#define PE_MAX_IMAGE (64u << 20)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

bool hxk_pe_is_pe(const uint8_t *data, size_t size)
{
	return size >= 2 && data[0] == 'M' && data[1] == 'Z';
}

struct pe {
	const uint8_t *f; /* the file */
	size_t fsize;
	uint32_t coff;     /* offset of the COFF file header */
	uint32_t nsec;     /* NumberOfSections */
	uint32_t sec_off;  /* offset of the section table */
	uint32_t image;    /* SizeOfImage */
	uint32_t headers;  /* SizeOfHeaders */
	uint32_t ndirs;    /* NumberOfRvaAndSizes */
	uint32_t dirs_off; /* offset of the data directories */
	uint64_t base;     /* where the image goes */
};

/* Data directory n as [rva, rva+size) inside the image; size 0 when the
 * image has none. */
static int dir(const struct pe *pe, uint32_t n, uint32_t *rva, uint32_t *size, const char *what,
               struct hxk_err *err)
{
	*rva = *size = 0;
	if (n >= pe->ndirs)
		return 0;
	*rva = rd32(pe->f + pe->dirs_off + 8 * n);
	*size = rd32(pe->f + pe->dirs_off + 8 * n + 4);
	if (*size && !fits(*rva, *size, pe->image))
		return hxk_fail(err, "the %s directory [0x%x, +0x%x) runs past SizeOfImage 0x%x",
		                what, *rva, *size, pe->image);
	return 0;
}

static int parse_headers(struct pe *pe, uint64_t *image_base, uint32_t *entry, uint16_t *subsystem,
                         bool *relocs_stripped, struct hxk_err *err)
{
	const uint8_t *f = pe->f;
	if (pe->fsize < 0x40)
		return hxk_fail(err, "file too short for an MS-DOS header (%zu bytes)", pe->fsize);
	uint32_t lfanew = rd32(f + 0x3c);
	if (!fits(lfanew, 4 + PE_FILE_HEADER, pe->fsize))
		return hxk_fail(err,
		                "e_lfanew 0x%x: the PE header lies past the end of the file "
		                "(%zu bytes)",
		                lfanew, pe->fsize);
	if (rd32(f + lfanew) != PE_SIGNATURE)
		return hxk_fail(err, "no PE signature at e_lfanew 0x%x (an MS-DOS program?)",
		                lfanew);
	pe->coff = lfanew + 4;
	const uint8_t *ch = f + pe->coff;
	if (rd16(ch) != PE_MACHINE_AMD64)
		return hxk_fail(err, "Machine 0x%x, expected 0x8664 (x64)", rd16(ch));
	pe->nsec = rd16(ch + 2);
	uint32_t optsize = rd16(ch + 16);
	uint16_t chars = rd16(ch + 18);
	if (!(chars & PE_CHAR_EXECUTABLE))
		return hxk_fail(err,
		                "Characteristics 0x%x lacks IMAGE_FILE_EXECUTABLE_IMAGE (an "
		                "object file, not an image)",
		                chars);
	*relocs_stripped = chars & PE_CHAR_RELOCS_STRIPPED;
	uint32_t opt = pe->coff + PE_FILE_HEADER;
	if (optsize < PE_OPT_FIXED || !fits(opt, optsize, pe->fsize))
		return hxk_fail(err,
		                "SizeOfOptionalHeader %u: too small for PE32+ (%u) or past the "
		                "end of the file",
		                optsize, PE_OPT_FIXED);
	const uint8_t *o = f + opt;
	if (rd16(o) != PE_MAGIC_PE32PLUS)
		return hxk_fail(err,
		                "optional header magic 0x%x, expected 0x20b (PE32+; 0x10b is "
		                "32-bit PE32)",
		                rd16(o));
	*entry = rd32(o + 16);
	*image_base = rd64(o + 24);
	uint32_t salign = rd32(o + 32), falign = rd32(o + 36);
	pe->image = rd32(o + 56);
	pe->headers = rd32(o + 60);
	*subsystem = rd16(o + 68);
	pe->ndirs = rd32(o + 108);
	pe->dirs_off = opt + PE_OPT_FIXED;
	if (salign == 0 || (salign & (salign - 1)) || falign == 0 || (falign & (falign - 1)) ||
	    salign < falign)
		return hxk_fail(err,
		                "SectionAlignment 0x%x / FileAlignment 0x%x: both must be "
		                "powers of two, SectionAlignment the larger",
		                salign, falign);
	if (pe->ndirs > 16 || PE_OPT_FIXED + 8 * pe->ndirs > optsize)
		return hxk_fail(err,
		                "NumberOfRvaAndSizes %u: more than 16, or more than the "
		                "optional header (%u bytes) holds",
		                pe->ndirs, optsize);
	if (pe->image == 0 || pe->image > PE_MAX_IMAGE)
		return hxk_fail(err, "SizeOfImage 0x%x: empty or larger than the limit of %u MiB",
		                pe->image, PE_MAX_IMAGE >> 20);
	if (pe->nsec == 0 || pe->nsec > HXK_PE_MAX_SECTIONS)
		return hxk_fail(err, "NumberOfSections %u: expected 1 to %u", pe->nsec,
		                HXK_PE_MAX_SECTIONS);
	pe->sec_off = opt + optsize;
	if (!fits(pe->sec_off, (uint64_t)pe->nsec * PE_SECTION_HEADER, pe->fsize))
		return hxk_fail(err,
		                "the section table (%u entries at 0x%x) runs past the end of "
		                "the file (%zu bytes)",
		                pe->nsec, pe->sec_off, pe->fsize);
	if (pe->headers < pe->sec_off + pe->nsec * PE_SECTION_HEADER || pe->headers > pe->fsize ||
	    pe->headers > pe->image)
		return hxk_fail(err,
		                "SizeOfHeaders 0x%x: smaller than the headers (0x%x) or larger "
		                "than the file or SizeOfImage",
		                pe->headers, pe->sec_off + pe->nsec * PE_SECTION_HEADER);
	return 0;
}

static uint32_t seg_flags(uint32_t scn)
{
	return (scn & PE_SCN_EXECUTE ? 1u : 0) | (scn & PE_SCN_WRITE ? 2u : 0) |
	       (scn & PE_SCN_READ ? 4u : 0); /* PF_X, PF_W, PF_R */
}

/* Sections into the memory image: in ascending, non-overlapping RVAs
 * above the headers, their file bytes inside the file. */
static int load_sections(const struct pe *pe, struct hxk_elf *e, struct hxk_err *err)
{
	memcpy(e->data, pe->f, pe->headers);
	e->segs[e->nsegs++] = (struct hxk_elf_seg){.gpa = pe->base,
	                                           .memsz = pe->headers,
	                                           .filesz = pe->headers,
	                                           .offset = 0,
	                                           .flags = 4};
	uint64_t prev_end = pe->headers;
	for (uint32_t i = 0; i < pe->nsec; i++) {
		const uint8_t *s = pe->f + pe->sec_off + i * PE_SECTION_HEADER;
		char name[9];
		for (int k = 0; k < 8; k++)
			name[k] = s[k] >= 0x20 && s[k] < 0x7f ? (char)s[k] : (s[k] ? '?' : 0);
		name[8] = 0;
		uint32_t vsize = rd32(s + 8), rva = rd32(s + 12), rawsize = rd32(s + 16),
		         rawoff = rd32(s + 20), scn = rd32(s + 36);
		uint32_t memsz = vsize ? vsize : rawsize;
		if (scn & PE_SCN_UNINITIALIZED)
			rawsize = 0;
		if (memsz == 0)
			return hxk_fail(err,
			                "section %u (%s): empty (VirtualSize and SizeOfRawData 0)",
			                i, name);
		if (rva < prev_end)
			return hxk_fail(err,
			                "section %u (%s) at RVA 0x%x overlaps the headers or the "
			                "section before it (which end at 0x%llx)",
			                i, name, rva, (unsigned long long)prev_end);
		if (!fits(rva, memsz, pe->image))
			return hxk_fail(err,
			                "section %u (%s) [0x%x, +0x%x) runs past SizeOfImage 0x%x",
			                i, name, rva, memsz, pe->image);
		uint32_t copy = rawsize < memsz ? rawsize : memsz;
		if (copy && !fits(rawoff, copy, pe->fsize))
			return hxk_fail(
			        err,
			        "section %u (%s): its file bytes [0x%x, +0x%x) run past the "
			        "end of the file (%zu bytes)",
			        i, name, rawoff, copy, pe->fsize);
		memcpy(e->data + rva, pe->f + rawoff, copy);
		e->segs[e->nsegs++] = (struct hxk_elf_seg){.gpa = pe->base + rva,
		                                           .memsz = memsz,
		                                           .filesz = memsz,
		                                           .offset = rva,
		                                           .flags = seg_flags(scn)};
		prev_end = (uint64_t)rva + memsz;
	}
	return 0;
}

/* Base relocations (PE Format, "The .reloc Section"): blocks of a page RVA
 * and 16-bit entries, type in the top 4 bits. x64 images use DIR64 and
 * ABSOLUTE (padding) only; anything else is refused, not skipped, so no
 * pointer is left pointing at the link-time base. */
static int relocate(const struct pe *pe, struct hxk_elf *e, uint64_t delta, struct hxk_err *err)
{
	uint32_t rva, size;
	if (dir(pe, PE_DIR_BASERELOC, &rva, &size, "base relocation", err) != 0)
		return -1;
	for (uint32_t at = 0; at < size;) {
		if (size - at < 8)
			return hxk_fail(err,
			                "base relocation block at RVA 0x%x: a truncated header",
			                rva + at);
		uint32_t page = rd32(e->data + rva + at), bsize = rd32(e->data + rva + at + 4);
		if (bsize < 8 || (bsize & 1) || bsize > size - at)
			return hxk_fail(err,
			                "base relocation block at RVA 0x%x: SizeOfBlock %u (at "
			                "least 8, even, inside the directory of %u bytes)",
			                rva + at, bsize, size);
		for (uint32_t k = 8; k < bsize; k += 2) {
			uint16_t ent = rd16(e->data + rva + at + k);
			uint32_t type = ent >> 12;
			uint64_t target = (uint64_t)page + (ent & 0xfff);
			if (type == PE_REL_ABSOLUTE)
				continue;
			if (type != PE_REL_DIR64)
				return hxk_fail(
				        err,
				        "base relocation at RVA 0x%llx: type %u (only DIR64 "
				        "and ABSOLUTE belong in an x64 image)",
				        (unsigned long long)target, type);
			if (!fits(target, 8, pe->image) || target < pe->headers)
				return hxk_fail(err,
				                "base relocation at RVA 0x%llx points outside the "
				                "image's sections [0x%x, 0x%x)",
				                (unsigned long long)target, pe->headers, pe->image);
			uint64_t v = rd64(e->data + target) + delta;
			memcpy(e->data + target, &v, 8);
		}
		at += bsize;
	}
	return 0;
}

static int add_sym(struct hxk_elf *e, const char *name, size_t len, uint64_t addr)
{
	if (len == 0 || len >= sizeof(e->psyms[0].name) || e->npsyms == HXK_PE_MAX_SYMS)
		return 0; /* not callable by name; its address still is */
	struct hxk_img_sym *s = &e->psyms[e->npsyms++];
	memcpy(s->name, name, len);
	s->name[len] = 0;
	s->addr = addr;
	return 0;
}

/* Length of the NUL-terminated string at rva, or 0 when it is not one
 * inside the image. */
static size_t image_str(const struct pe *pe, const struct hxk_elf *e, uint32_t rva)
{
	if (rva >= pe->image)
		return 0;
	const uint8_t *p = memchr(e->data + rva, 0, pe->image - rva);
	return p ? (size_t)(p - (e->data + rva)) : 0;
}

/* The export directory (PE Format, "The .edata Section"): names to RVAs
 * through the ordinal table; forwarders (RVAs inside the directory) name
 * other images and are not callable here. */
static int parse_exports(const struct pe *pe, struct hxk_elf *e, struct hxk_err *err)
{
	uint32_t rva, size;
	if (dir(pe, PE_DIR_EXPORT, &rva, &size, "export", err) != 0)
		return -1;
	if (size == 0)
		return 0;
	if (size < 40)
		return hxk_fail(err,
		                "the export directory (%u bytes) is shorter than its 40-byte "
		                "table",
		                size);
	const uint8_t *d = e->data + rva;
	uint32_t nfun = rd32(d + 20), nnames = rd32(d + 24), afun = rd32(d + 28),
	         anames = rd32(d + 32), aord = rd32(d + 36);
	if (!fits(afun, 4ull * nfun, pe->image) || !fits(anames, 4ull * nnames, pe->image) ||
	    !fits(aord, 2ull * nnames, pe->image))
		return hxk_fail(err,
		                "the export tables (%u functions, %u names) run past "
		                "SizeOfImage 0x%x",
		                nfun, nnames, pe->image);
	for (uint32_t i = 0; i < nnames; i++) {
		uint32_t nrva = rd32(e->data + anames + 4 * i);
		uint16_t ord = rd16(e->data + aord + 2 * i);
		size_t len = image_str(pe, e, nrva);
		if (len == 0)
			return hxk_fail(err,
			                "export name %u at RVA 0x%x is not a string inside the "
			                "image",
			                i, nrva);
		if (ord >= nfun)
			return hxk_fail(err, "export %u: ordinal %u, but there are %u functions", i,
			                ord, nfun);
		uint32_t frva = rd32(e->data + afun + 4 * ord);
		if (frva >= rva && frva - rva < size)
			continue; /* a forwarder */
		if (frva >= pe->image)
			return hxk_fail(err, "export %u: RVA 0x%x lies outside the image", i, frva);
		add_sym(e, (const char *)e->data + nrva, len, pe->base + frva);
	}
	return 0;
}

/* The COFF symbol table that GNU objcopy keeps in EFI images (gnu-efi):
 * external symbols by name, and every symbol of an executable section as
 * an instruction boundary. Deprecated in images, so a malformed one is
 * ignored rather than refused: it only names addresses. */
static void parse_coff_symbols(const struct pe *pe, struct hxk_elf *e)
{
	const uint8_t *ch = pe->f + pe->coff;
	uint32_t ptr = rd32(ch + 8), nsyms = rd32(ch + 12);
	if (!ptr || !nsyms || !fits(ptr, (uint64_t)nsyms * PE_SYM_SIZE + 4, pe->fsize))
		return;
	uint32_t strtab = ptr + nsyms * PE_SYM_SIZE;
	uint32_t strsize = rd32(pe->f + strtab);
	if (strsize < 4 || !fits(strtab, strsize, pe->fsize))
		strsize = 0;
	e->code_syms = malloc(((uint64_t)nsyms + 1) * sizeof(uint64_t));
	if (!e->code_syms)
		return;
	for (uint32_t i = 0; i < nsyms; i++) {
		const uint8_t *s = pe->f + ptr + i * PE_SYM_SIZE;
		int16_t secno = (int16_t)rd16(s + 12);
		uint8_t cls = s[16];
		uint32_t naux = s[17];
		i += naux;
		if (secno < 1 || (uint32_t)secno > pe->nsec)
			continue;
		const struct hxk_elf_seg *seg = &e->segs[secno]; /* segs[0] holds the headers */
		uint32_t value = rd32(s + 8);
		if (value >= seg->memsz)
			continue;
		uint64_t addr = seg->gpa + value;
		if ((seg->flags & 1) &&
		    (cls == PE_SYM_EXTERNAL || cls == PE_SYM_STATIC || cls == PE_SYM_LABEL))
			e->code_syms[e->ncode_syms++] = addr;
		if (cls != PE_SYM_EXTERNAL)
			continue;
		if (rd32(s) != 0) {
			add_sym(e, (const char *)s, strnlen((const char *)s, 8), addr);
		} else {
			uint32_t off = rd32(s + 4);
			if (off >= 4 && off < strsize) {
				const char *n = (const char *)pe->f + strtab + off;
				add_sym(e, n, strnlen(n, strsize - off), addr);
			}
		}
	}
}

/* The entry point is an instruction boundary too. */
static void sort_code_syms(struct hxk_elf *e)
{
	if (!e->code_syms && !(e->code_syms = malloc(sizeof(uint64_t))))
		return;
	if (e->entry)
		e->code_syms[e->ncode_syms++] = e->entry;
	hxk_elf_sort_code_syms(e);
}

int hxk_pe_parse(const uint8_t *data, size_t size, struct hxk_elf *e, struct hxk_err *err)
{
	memset(e, 0, sizeof(*e));
	if (size > HXK_ELF_MAX_BYTES)
		return hxk_fail(err, "file too large (%zu bytes, limit %u)", size,
		                HXK_ELF_MAX_BYTES);
	struct pe pe = {.f = data, .fsize = size};
	uint64_t image_base = 0;
	uint32_t entry = 0;
	bool stripped = false;
	if (parse_headers(&pe, &image_base, &entry, &e->subsystem, &stripped, err) != 0)
		return -1;
	uint32_t rva, dsize;
	if (dir(&pe, PE_DIR_IMPORT, &rva, &dsize, "import", err) != 0)
		return -1;
	if (dsize)
		return hxk_fail(err,
		                "the image imports from other images (import directory of %u "
		                "bytes): firmware gets its services from the system table",
		                dsize);
	if (dir(&pe, PE_DIR_TLS, &rva, &dsize, "TLS", err) != 0)
		return -1;
	if (dsize)
		return hxk_fail(err, "the image has a TLS directory: thread-local storage is not "
		                     "supported");
	/* Its own base when a partition can load there, else 1 MiB; moving it
	 * needs its relocations. */
	uint64_t span = ((uint64_t)pe.image + 4095) & ~4095ull;
	pe.base = image_base;
	if (image_base < HX_GUEST_LOAD_MIN || (image_base & 4095) ||
	    image_base + span > HXK_ELF_ADDR_LIMIT || image_base + span < image_base)
		pe.base = HXK_PE_DEFAULT_BASE;
	if (pe.base != image_base && stripped)
		return hxk_fail(err,
		                "ImageBase 0x%llx is not a loadable address and the image has "
		                "no relocations (IMAGE_FILE_RELOCS_STRIPPED)",
		                (unsigned long long)image_base);
	e->data = calloc(1, span);
	e->psyms = calloc(HXK_PE_MAX_SYMS, sizeof(*e->psyms));
	if (!e->data || !e->psyms) {
		hxk_elf_free(e);
		return hxk_fail(err, "out of memory for the image (%u bytes)", pe.image);
	}
	e->size = span;
	e->pe = true;
	e->lo = pe.base;
	e->hi = pe.base + span;
	if (load_sections(&pe, e, err) != 0 || relocate(&pe, e, pe.base - image_base, err) != 0 ||
	    parse_exports(&pe, e, err) != 0) {
		hxk_elf_free(e);
		return -1;
	}
	if (entry) {
		e->entry = pe.base + entry;
		if (!hxk_elf_in_code(e, e->entry)) {
			hxk_elf_free(e);
			return hxk_fail(err,
			                "AddressOfEntryPoint 0x%x lies outside every executable "
			                "section",
			                entry);
		}
	}
	parse_coff_symbols(&pe, e);
	sort_code_syms(e);
	return 0;
}
