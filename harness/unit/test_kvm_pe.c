/* The PE32+ loader (pe_load.h) and the sandbox's EFI tables (efi_start.h):
 * a small image built here field by field from the PE/COFF specification
 * loads, relocates and names its exports and symbols; every hostile
 * variant of it is refused with a message naming the field; truncations
 * and byte flips of it never crash the loader. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "efi_start.h"
#include "elf_load.h"
#include "pe_load.h"

/* File layout of the image (offsets into the file):
 *   0x000 MS-DOS header, e_lfanew 0x40
 *   0x040 "PE\0\0", COFF header at 0x44, optional header at 0x58 (240
 *         bytes: 16 data directories), section table at 0x148
 *   0x400 .text  (RVA 0x1000)  code; the entry point at its start
 *   0x600 .data  (RVA 0x2000)  export directory; a pointer at RVA 0x2080
 *   0x800 .reloc (RVA 0x3000)  one block: DIR64 at RVA 0x2080, padding
 *   0xa00 COFF symbol table (one symbol) and its string table */
#define LFANEW 0x40u
#define COFF (LFANEW + 4)
#define OPT (COFF + 20)
#define DIRS (OPT + 112)
#define SECT (OPT + 240)
#define SYMS 0xa00u
#define FILE_LEN (SYMS + 18 + 4)
#define CAP 0x1000u

static void w16(uint8_t *b, uint32_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}
static void w32(uint8_t *b, uint32_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}
static void w64(uint8_t *b, uint32_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}
static uint64_t r64(const uint8_t *b, uint64_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static void section(uint8_t *b, uint32_t i, const char *name, uint32_t vsize, uint32_t rva,
                    uint32_t raw, uint32_t chars)
{
	uint32_t s = SECT + 40 * i;
	memcpy(b + s, name, strlen(name));
	w32(b, s + 8, vsize);
	w32(b, s + 12, rva);
	w32(b, s + 16, 0x200);
	w32(b, s + 20, raw);
	w32(b, s + 36, chars);
}

static size_t build_at(uint8_t *b, uint64_t image_base)
{
	memset(b, 0, CAP);
	b[0] = 'M';
	b[1] = 'Z';
	w32(b, 0x3c, LFANEW);
	w32(b, LFANEW, 0x00004550);
	w16(b, COFF, 0x8664);
	w16(b, COFF + 2, 3);       /* NumberOfSections */
	w32(b, COFF + 8, SYMS);    /* PointerToSymbolTable */
	w32(b, COFF + 12, 1);      /* NumberOfSymbols */
	w16(b, COFF + 16, 240);    /* SizeOfOptionalHeader */
	w16(b, COFF + 18, 0x0022); /* EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE */
	w16(b, OPT, 0x20b);        /* PE32+ */
	w32(b, OPT + 16, 0x1000);  /* AddressOfEntryPoint */
	w64(b, OPT + 24, image_base);
	w32(b, OPT + 32, 0x1000); /* SectionAlignment */
	w32(b, OPT + 36, 0x200);  /* FileAlignment */
	w32(b, OPT + 56, 0x4000); /* SizeOfImage */
	w32(b, OPT + 60, 0x400);  /* SizeOfHeaders */
	w16(b, OPT + 68, 12);     /* EFI runtime driver */
	w32(b, OPT + 108, 16);    /* NumberOfRvaAndSizes */
	w32(b, DIRS + 0, 0x2000); /* export */
	w32(b, DIRS + 4, 0x60);
	w32(b, DIRS + 5 * 8, 0x3000); /* base relocations */
	w32(b, DIRS + 5 * 8 + 4, 12);
	section(b, 0, ".text", 0x10, 0x1000, 0x400, 0x60000020);
	section(b, 1, ".data", 0x100, 0x2000, 0x600, 0xc0000040);
	section(b, 2, ".reloc", 12, 0x3000, 0x800, 0x42000040);
	/* .text: ret, then two more "functions" */
	b[0x400] = 0xc3;
	b[0x408] = 0xc3;
	b[0x40c] = 0xc3;
	/* .data: the export directory (PE Format, "Export Directory Table") */
	uint32_t d = 0x600;
	w32(b, d + 20, 1);      /* NumberOfFunctions */
	w32(b, d + 24, 1);      /* NumberOfNames */
	w32(b, d + 28, 0x2028); /* AddressOfFunctions */
	w32(b, d + 32, 0x202c); /* AddressOfNames */
	w32(b, d + 36, 0x2030); /* AddressOfNameOrdinals */
	w32(b, d + 0x28, 0x1008);
	w32(b, d + 0x2c, 0x2040);
	w16(b, d + 0x30, 0);
	memcpy(b + d + 0x40, "exported_fn", 12);
	w64(b, d + 0x80, image_base + 0x1004); /* a pointer into .text */
	/* .reloc: one block for the page at RVA 0x2000 */
	w32(b, 0x800, 0x2000);
	w32(b, 0x804, 12);
	w16(b, 0x808, (10u << 12) | 0x080); /* DIR64 at RVA 0x2080 */
	w16(b, 0x80a, 0);                   /* ABSOLUTE: padding */
	/* COFF symbol "coff_fn", .text + 0xc, external */
	memcpy(b + SYMS, "coff_fn", 7);
	w32(b, SYMS + 8, 0xc);
	w16(b, SYMS + 12, 1);
	b[SYMS + 16] = 2;
	w32(b, SYMS + 18, 4); /* an empty string table */
	return FILE_LEN;
}

static size_t build(uint8_t *b)
{
	return build_at(b, 0); /* as gnu-efi links: relocated to 1 MiB */
}

static void test_good_image(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	struct hxk_elf e;
	struct hxk_err err = {{0}};
	if (hxk_pe_parse(buf, len, &e, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(e.pe);
	assert_true(hxk_efi_image(&e));
	assert_int_equal(e.subsystem, HXK_PE_SUBSYSTEM_EFI_RUNTIME_DRIVER);
	assert_int_equal(e.entry, HXK_PE_DEFAULT_BASE + 0x1000);
	assert_int_equal(e.lo, HXK_PE_DEFAULT_BASE);
	assert_int_equal(e.hi, HXK_PE_DEFAULT_BASE + 0x4000);
	assert_int_equal(e.nsegs, 4); /* headers and three sections */
	assert_int_equal(e.segs[1].gpa, HXK_PE_DEFAULT_BASE + 0x1000);
	assert_int_equal(e.segs[1].flags & 1, 1); /* .text executable */
	assert_int_equal(e.segs[2].flags & 1, 0); /* .data not */
	assert_int_equal(e.segs[2].flags & 2, 2); /* but writable */
	/* The DIR64 relocation moved the pointer by the load delta. */
	assert_int_equal(r64(e.data, 0x2080), HXK_PE_DEFAULT_BASE + 0x1004);
	uint64_t v = 0;
	assert_true(hxk_elf_symbol(&e, "exported_fn", &v));
	assert_int_equal(v, HXK_PE_DEFAULT_BASE + 0x1008);
	assert_true(hxk_elf_symbol(&e, "coff_fn", &v));
	assert_int_equal(v, HXK_PE_DEFAULT_BASE + 0x100c);
	assert_false(hxk_elf_symbol(&e, "coff", &v));
	assert_true(hxk_elf_code_boundary(&e, HXK_PE_DEFAULT_BASE + 0x100e, &v));
	assert_int_equal(v, HXK_PE_DEFAULT_BASE + 0x100c);
	hxk_elf_free(&e);
}

static void test_own_base_kept(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build_at(buf, 0x200000);
	struct hxk_elf e;
	struct hxk_err err = {{0}};
	assert_int_equal(hxk_pe_parse(buf, len, &e, &err), 0);
	assert_int_equal(e.lo, 0x200000);
	assert_int_equal(r64(e.data, 0x2080), 0x201004); /* delta 0 */
	hxk_elf_free(&e);
	/* Without relocations it can only go where it was linked. */
	len = build_at(buf, 0);
	w16(buf, COFF + 18, 0x0023);
	assert_int_equal(hxk_pe_parse(buf, len, &e, &err), -1);
	assert_non_null(strstr(err.msg, "IMAGE_FILE_RELOCS_STRIPPED"));
}

struct bad_row {
	const char *name;
	uint32_t off;   /* where to write */
	uint32_t width; /* 1, 2, 4 (0: cut the file to off bytes) */
	uint32_t value;
	const char *expect;
};

#define S1 (SECT + 40) /* .data's section header */
static const struct bad_row bad_rows[] = {
        {"short", 0x20, 0, 0, "too short for an MS-DOS header"},
        {"lfanew past the end", 0x3c, 4, 0xfff0, "e_lfanew 0xfff0"},
        {"no PE signature", LFANEW, 4, 0x12345678, "no PE signature"},
        {"i386", COFF, 2, 0x14c, "Machine 0x14c, expected 0x8664"},
        {"object file", COFF + 18, 2, 0x0020, "IMAGE_FILE_EXECUTABLE_IMAGE"},
        {"PE32", OPT, 2, 0x10b, "expected 0x20b"},
        {"optional header too small", COFF + 16, 2, 100, "SizeOfOptionalHeader 100"},
        {"optional header past the end", COFF + 16, 2, 0xfff0, "SizeOfOptionalHeader 65520"},
        {"section alignment 3", OPT + 32, 4, 3, "SectionAlignment 0x3"},
        {"file alignment above section", OPT + 36, 4, 0x2000, "FileAlignment 0x2000"},
        {"17 directories", OPT + 108, 4, 17, "NumberOfRvaAndSizes 17"},
        {"image 256 MiB", OPT + 56, 4, 0x10000000, "SizeOfImage 0x10000000"},
        {"image 0", OPT + 56, 4, 0, "SizeOfImage 0x0"},
        {"no sections", COFF + 2, 2, 0, "NumberOfSections 0"},
        {"16 sections", COFF + 2, 2, 16, "NumberOfSections 16"},
        {"65535 sections", COFF + 2, 2, 0xffff, "NumberOfSections 65535"},
        {"headers too small", OPT + 60, 4, 0x100, "SizeOfHeaders 0x100"},
        {"headers past the file", OPT + 60, 4, 0x10000, "SizeOfHeaders 0x10000"},
        {"section table cut", 0x160, 0, 0, "the section table (3 entries at 0x148)"},
        {"sections overlap", S1 + 12, 4, 0x1008, "overlaps the headers or the section before"},
        {"section over the headers", SECT + 12, 4, 0x200, "overlaps the headers"},
        {"section past the image", S1 + 8, 4, 0x10000, "runs past SizeOfImage"},
        {"section raw data past the file", S1 + 20, 4, 0x100000, "run past the end of the file"},
        {"section raw data wraps", S1 + 20, 4, 0xffffff00, "run past the end of the file"},
        {"reloc HIGHLOW", 0x808, 2, (3u << 12) | 0x80, "type 3"},
        {"reloc at the image's end", 0x800, 4, 0x3ff8 - 0x80 + 1, "points outside"},
        {"reloc into the headers", 0x800, 4, 0, "points outside"},
        {"reloc block of 6", 0x804, 4, 6, "SizeOfBlock 6"},
        {"reloc block odd", 0x804, 4, 11, "SizeOfBlock 11"},
        {"reloc block past its directory", 0x804, 4, 16, "SizeOfBlock 16"},
        {"reloc directory past the image", DIRS + 44, 4, 0x2000, "base relocation directory"},
        {"imports", DIRS + 12, 4, 0x20, "imports from other images"},
        {"TLS", DIRS + 9 * 8 + 4, 4, 0x20, "TLS"},
        {"export directory short", DIRS + 4, 4, 16, "shorter than its 40-byte table"},
        {"export tables past the image", 0x600 + 24, 4, 0x40000000, "export tables"},
        {"export name outside", 0x62c, 4, 0x7fffffff, "export name 0"},
        {"export name empty", 0x62c, 4, 0x3fff, "export name 0"},
        {"export ordinal", 0x630, 2, 5, "ordinal 5"},
        {"export outside the image", 0x628, 4, 0x80000000, "lies outside the image"},
        {"entry in .data", OPT + 16, 4, 0x2000, "AddressOfEntryPoint 0x2000"},
        {"entry past the image", OPT + 16, 4, 0xfffffff0, "AddressOfEntryPoint 0xfffffff0"},
};

static void test_rejections(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad_row *row = &bad_rows[i];
		uint8_t buf[CAP];
		size_t len = build(buf);
		if (row->width == 0)
			len = row->off;
		else if (row->width == 1)
			buf[row->off] = (uint8_t)row->value;
		else if (row->width == 2)
			w16(buf, row->off, (uint16_t)row->value);
		else
			w32(buf, row->off, row->value);
		struct hxk_elf e;
		struct hxk_err err = {{0}};
		int r = hxk_pe_parse(buf, len, &e, &err);
		if (r == 0 || !strstr(err.msg, row->expect))
			fail_msg("row '%s': r=%d msg '%s', expected '%s'", row->name, r, err.msg,
			         row->expect);
		assert_null(e.data); /* nothing kept on failure */
		assert_null(e.psyms);
	}
}

/* A malformed COFF symbol table only names addresses: it is ignored. */
static void test_bad_symbols_ignored(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	w32(buf, COFF + 12, 0x10000000); /* NumberOfSymbols past the file */
	struct hxk_elf e;
	struct hxk_err err = {{0}};
	assert_int_equal(hxk_pe_parse(buf, len, &e, &err), 0);
	uint64_t v;
	assert_false(hxk_elf_symbol(&e, "coff_fn", &v));
	assert_true(hxk_elf_symbol(&e, "exported_fn", &v));
	hxk_elf_free(&e);
	len = build(buf);
	w16(buf, SYMS + 12, 9); /* a section that does not exist */
	assert_int_equal(hxk_pe_parse(buf, len, &e, &err), 0);
	assert_false(hxk_elf_symbol(&e, "coff_fn", &v));
	hxk_elf_free(&e);
}

/* Every prefix and a few thousand byte flips: an answer, never a crash
 * (the sanitizers of the unit build watch the reads). */
static void test_truncations_and_flips(void **state)
{
	(void)state;
	uint8_t good[CAP], buf[CAP];
	size_t len = build(good);
	struct hxk_elf e;
	struct hxk_err err;
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, good, n);
		if (hxk_pe_parse(buf, n, &e, &err) == 0)
			hxk_elf_free(&e);
	}
	uint32_t x = 12345;
	uint32_t accepted = 0;
	for (int i = 0; i < 4000; i++) {
		memcpy(buf, good, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % len] ^= (uint8_t)(1u << ((x >> 4) & 7));
		}
		if (hxk_pe_parse(buf, len, &e, &err) == 0) {
			accepted++;
			assert_true(e.nsegs >= 2 && e.nsegs <= HXK_ELF_MAX_SEGS);
			for (uint32_t s = 0; s < e.nsegs; s++)
				assert_true(e.segs[s].offset + e.segs[s].filesz <= e.size);
			hxk_elf_free(&e);
		}
	}
	assert_true(accepted > 0); /* flips in code and padding load */
}

static void test_read_file_dispatch(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	char path[] = "/tmp/hx-test-pe.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	struct hxk_elf e;
	struct hxk_err err = {{0}};
	assert_int_equal(hxk_elf_read_file(path, &e, &err), 0);
	assert_true(e.pe);
	hxk_elf_free(&e);
	buf[LFANEW] = 'X';
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	assert_int_equal(hxk_elf_read_file(path, &e, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "no PE signature"));
	unlink(path);
}

static uint32_t u32_at(const uint8_t *b, uint32_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

/* The tables the sandbox gives an EFI image (UEFI spec 4.2-4.5). */
static void test_efi_tables(void **state)
{
	(void)state;
	assert_int_equal(hxk_efi_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	uint8_t t[HXK_EFI_TABLES_SIZE];
	const uint64_t stub = 0xe123;
	hxk_efi_tables(t, stub);
	const uint8_t *st = t + (HXK_EFI_SYSTAB_GPA - HXK_EFI_TABLES_GPA);
	const uint8_t *rt = t + (HXK_EFI_RT_GPA - HXK_EFI_TABLES_GPA);
	const uint8_t *bs = t + (HXK_EFI_BS_GPA - HXK_EFI_TABLES_GPA);
	assert_int_equal(r64(st, 0), 0x5453595320494249ull);
	assert_int_equal(r64(rt, 0), 0x56524553544e5552ull);
	assert_int_equal(r64(bs, 0), 0x56524553544f4f42ull);
	assert_int_equal(r64(st, 0x58), HXK_EFI_RT_GPA);
	assert_int_equal(r64(st, 0x60), HXK_EFI_BS_GPA);
	assert_int_equal(r64(st, 0x18), HXK_EFI_VENDOR_GPA);
	const uint8_t *hdrs[3] = {st, rt, bs};
	for (int i = 0; i < 3; i++) {
		uint32_t size = u32_at(hdrs[i], 12);
		uint8_t copy[HXK_EFI_BS_SIZE];
		memcpy(copy, hdrs[i], size);
		memset(copy + 16, 0, 4);
		assert_int_equal(u32_at(hdrs[i], 16), hxk_efi_crc32(copy, size));
	}
	for (uint32_t o = 24; o < HXK_EFI_RT_SIZE; o += 8)
		assert_int_equal(r64(rt, o), stub);
	for (uint32_t o = 24; o < HXK_EFI_BS_SIZE; o += 8)
		assert_int_equal(r64(bs, o), stub);
	assert_int_equal(hxk_efi_rt_offset("GetTime"), 0x18);
	assert_int_equal(hxk_efi_rt_offset("GetVariable"), 0x48);
	assert_int_equal(hxk_efi_rt_offset("SetVariable"), 0x58);
	assert_int_equal(hxk_efi_rt_offset("ResetSystem"), 0x68);
	assert_int_equal(hxk_efi_rt_offset("QueryVariableInfo"), 0x80);
	assert_int_equal(hxk_efi_rt_offset("getTime"), 0);
	assert_int_equal(hxk_efi_rt_offset(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good_image),
	        cmocka_unit_test(test_own_base_kept),
	        cmocka_unit_test(test_rejections),
	        cmocka_unit_test(test_bad_symbols_ignored),
	        cmocka_unit_test(test_truncations_and_flips),
	        cmocka_unit_test(test_read_file_dispatch),
	        cmocka_unit_test(test_efi_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
