/* The KVM runner's ELF loader: every header field is validated with a
 * precise message; placement, loading and symbols. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "elf_load.h"
#include "hx/guest_abi.h"
#include "kvm_elf_builder.h"

#define BASE 0x100000ull
#define CAP 16384

static const uint8_t code[] = {0x90, 0x0f, 0xa2, 0xf4}; /* nop; cpuid; hlt */
static const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const struct kt_sym syms[] = {
        {"hx_cpuid_site", BASE + 1},
        {"later", BASE + 3},
};

static size_t build(uint8_t *buf)
{
	struct kt_image img = {
	        .code = code,
	        .code_len = sizeof(code),
	        .base = BASE,
	        .data = data,
	        .data_len = sizeof(data),
	        .data_gpa = BASE + 0x100,
	        .bss = 0x2000,
	        .syms = syms,
	        .nsyms = 2,
	};
	return kt_build_elf(&img, buf, CAP);
}

static Elf64_Ehdr *ehdr(uint8_t *b)
{
	return (Elf64_Ehdr *)b;
}

static Elf64_Phdr *phdr(uint8_t *b, int i)
{
	return (Elf64_Phdr *)(b + sizeof(Elf64_Ehdr) + (size_t)i * sizeof(Elf64_Phdr));
}

static Elf64_Shdr *shdr(uint8_t *b, int i)
{
	return (Elf64_Shdr *)(b + ehdr(b)->e_shoff + (size_t)i * sizeof(Elf64_Shdr));
}

/* ---- rejections: one row per rule -------------------------------------- */

struct bad_row {
	const char *name;
	void (*mutate)(uint8_t *b, size_t *len);
	const char *expect; /* substring of the message */
};

static void m_short(uint8_t *b, size_t *len)
{
	(void)b;
	*len = 20;
}
static void m_magic(uint8_t *b, size_t *len)
{
	(void)len;
	b[1] = 'X';
}
static void m_class(uint8_t *b, size_t *len)
{
	(void)len;
	b[EI_CLASS] = ELFCLASS32;
}
static void m_endian(uint8_t *b, size_t *len)
{
	(void)len;
	b[EI_DATA] = ELFDATA2MSB;
}
static void m_version(uint8_t *b, size_t *len)
{
	(void)len;
	b[EI_VERSION] = 7;
}
static void m_machine(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_machine = EM_386;
}
static void m_dyn(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_type = ET_DYN;
}
static void m_phentsize(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phentsize = 32;
}
static void m_phoff(uint8_t *b, size_t *len)
{
	ehdr(b)->e_phoff = *len - 8;
}
static void m_phoff_huge(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phoff = ~0ull - 4;
}
static void m_phnum0(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phnum = 0;
}
static void m_filesz(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_filesz = phdr(b, 0)->p_memsz + 1;
}
static void m_offset(uint8_t *b, size_t *len)
{
	phdr(b, 0)->p_offset = *len - 4;
}
static void m_offset_wrap(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_offset = ~0ull - 2;
}
static void m_paddr(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_paddr += 0x1000;
}
static void m_low(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_vaddr = phdr(b, 0)->p_paddr = 0x3000;
	ehdr(b)->e_entry = 0x3000;
}
static void m_wrap(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_memsz = ~0ull - 0x1000;
}
static void m_high(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_vaddr = phdr(b, 0)->p_paddr = (4ull << 30) - 0x1000;
	ehdr(b)->e_entry = (4ull << 30) - 0x1000;
}
static void m_interp(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_type = PT_INTERP;
}
static void m_tls(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_type = PT_TLS;
}
static void m_noload(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_type = PT_NOTE;
}
static void m_entry_out(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_entry = 0x80000000;
}
static void m_entry_nx(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_flags = PF_R | PF_W;
}
static void m_overlap(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phnum = 2;
	*phdr(b, 1) = *phdr(b, 0);
	phdr(b, 1)->p_vaddr = phdr(b, 1)->p_paddr = BASE + 0x80;
}
static void m_shentsize(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_shentsize = 12;
}
static void m_shoff(uint8_t *b, size_t *len)
{
	ehdr(b)->e_shoff = *len - 16;
}
static void m_symtab_bounds(uint8_t *b, size_t *len)
{
	(void)len;
	shdr(b, 2)->sh_size = 1ull << 40;
}
static void m_symtab_link(uint8_t *b, size_t *len)
{
	(void)len;
	shdr(b, 2)->sh_link = 99;
}
static void m_strtab_type(uint8_t *b, size_t *len)
{
	(void)len;
	shdr(b, 3)->sh_type = SHT_PROGBITS;
}

/* A second program header after the first; the builder leaves room. */
static Elf64_Phdr *second(uint8_t *b)
{
	ehdr(b)->e_phnum = 2;
	*phdr(b, 1) = *phdr(b, 0);
	return phdr(b, 1);
}
static void m_empty_filesz(uint8_t *b, size_t *len)
{
	/* p_memsz 0 must not hide file bytes far past the end */
	Elf64_Phdr *p = second(b);
	p->p_memsz = 0;
	p->p_filesz = *len + 0x10000;
}
static void m_empty_offset(uint8_t *b, size_t *len)
{
	Elf64_Phdr *p = second(b);
	p->p_memsz = p->p_filesz = 0;
	p->p_offset = *len + 1;
}
static void m_note_past_end(uint8_t *b, size_t *len)
{
	Elf64_Phdr *p = second(b);
	p->p_type = PT_NOTE;
	p->p_offset = *len - 8;
	p->p_filesz = p->p_memsz = 16;
}
static void m_note_offset_wrap(uint8_t *b, size_t *len)
{
	(void)len;
	Elf64_Phdr *p = second(b);
	p->p_type = PT_NOTE;
	p->p_offset = ~0ull - 7;
	p->p_filesz = 16;
}
static void m_phnum_xnum(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phnum = PN_XNUM;
}
static void m_phnum_many(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_phnum = 0xfffe; /* 0xfffe * 56 bytes: far past the file */
}
static void m_ehsize(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_ehsize = 52;
}
static void m_e_version(uint8_t *b, size_t *len)
{
	(void)len;
	ehdr(b)->e_version = 2;
}
static void m_memsz_huge(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, 0)->p_memsz = 1ull << 40;
}
static void m_second_overlaps(uint8_t *b, size_t *len)
{
	(void)len;
	Elf64_Phdr *p = second(b);
	p->p_vaddr = p->p_paddr = phdr(b, 0)->p_vaddr + phdr(b, 0)->p_memsz - 1;
}

static const struct bad_row bad_rows[] = {
        {"short", m_short, "too short"},
        {"magic", m_magic, "bad magic"},
        {"class", m_class, "ELFCLASS64"},
        {"endian", m_endian, "little-endian"},
        {"version", m_version, "ELF version"},
        {"machine", m_machine, "EM_X86_64"},
        {"dyn", m_dyn, "ET_EXEC"},
        {"phentsize", m_phentsize, "e_phentsize"},
        {"phoff", m_phoff, "program headers"},
        {"phoff huge", m_phoff_huge, "program headers"},
        {"phnum 0", m_phnum0, "no program headers"},
        {"filesz", m_filesz, "p_filesz"},
        {"offset", m_offset, "past the end"},
        {"offset wrap", m_offset_wrap, "past the end"},
        {"paddr", m_paddr, "p_paddr"},
        {"low", m_low, "HX_GUEST_LOAD_MIN"},
        {"wrap", m_wrap, "wraps around"},
        {"above 4G", m_high, "above 4 GiB"},
        {"interp", m_interp, "dynamically linked"},
        {"tls", m_tls, "PT_TLS"},
        {"no load", m_noload, "no loadable"},
        {"entry outside", m_entry_out, "outside every loadable segment"},
        {"entry nx", m_entry_nx, "not executable"},
        {"overlap", m_overlap, "overlaps"},
        {"shentsize", m_shentsize, "e_shentsize"},
        {"shoff", m_shoff, "section headers"},
        {"symtab bounds", m_symtab_bounds, ".symtab"},
        {"symtab link", m_symtab_link, "sh_link"},
        {"strtab type", m_strtab_type, "string table"},
        {"empty segment, filesz past the end", m_empty_filesz, "segment 1: p_filesz 0x"},
        {"empty segment, offset past the end", m_empty_offset, "segment 1: file bytes [0x"},
        {"note past the end", m_note_past_end, "segment 1: file bytes"},
        {"note offset wraps", m_note_offset_wrap, "segment 1: file bytes [0xfffffffffffffff8"},
        {"phnum PN_XNUM", m_phnum_xnum, "PN_XNUM"},
        {"phnum 0xfffe", m_phnum_many, "65534 entries) run past the end"},
        {"ehsize", m_ehsize, "e_ehsize 52, expected 64"},
        {"e_version", m_e_version, "e_version 2"},
        {"memsz 1 TiB", m_memsz_huge, "above 4 GiB"},
        {"second segment overlaps by one byte", m_second_overlaps, "overlaps an earlier"},
};

static void test_rejections(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		uint8_t buf[CAP];
		size_t len = build(buf);
		assert_true(len > 0);
		bad_rows[i].mutate(buf, &len);
		struct hxk_elf e;
		struct hxk_err err = {{0}};
		int r = hxk_elf_parse(buf, len, &e, &err);
		if (r == 0 || !strstr(err.msg, bad_rows[i].expect))
			fail_msg("row '%s': r=%d msg '%s', expected '%s'", bad_rows[i].name, r,
			         err.msg, bad_rows[i].expect);
		assert_null(e.data); /* nothing kept on failure */
	}
}

/* ---- accepted image ------------------------------------------------------ */

static void test_good_image(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	struct hxk_elf e;
	struct hxk_err err;
	assert_int_equal(hxk_elf_parse(buf, len, &e, &err), 0);
	assert_int_equal(e.entry, BASE);
	assert_int_equal(e.nsegs, 1);
	assert_int_equal(e.lo, BASE);
	assert_int_equal(e.hi, BASE + 0x108 + 0x2000);
	uint64_t v = 0;
	assert_true(hxk_elf_symbol(&e, "hx_cpuid_site", &v));
	assert_int_equal(v, BASE + 1);
	assert_false(hxk_elf_symbol(&e, "hx_cpuid", &v));       /* prefix only */
	assert_false(hxk_elf_symbol(&e, "hx_vmcall_site", &v)); /* absent */
	/* Code boundaries from the symbols in .text. */
	assert_true(hxk_elf_code_boundary(&e, BASE + 2, &v));
	assert_int_equal(v, BASE + 1);
	assert_true(hxk_elf_code_boundary(&e, BASE + 3, &v));
	assert_int_equal(v, BASE + 3);
	assert_false(hxk_elf_code_boundary(&e, BASE, &v));
	hxk_elf_free(&e);
}

/* Empty segments inside the file, and headers such as PT_GNU_STACK with
 * no file bytes, are still accepted (and not loaded). */
static void test_empty_segments_inside_the_file(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	Elf64_Phdr *p = second(buf);
	p->p_memsz = p->p_filesz = 0;
	struct hxk_elf e;
	struct hxk_err err;
	assert_int_equal(hxk_elf_parse(buf, len, &e, &err), 0);
	assert_int_equal(e.nsegs, 1);
	hxk_elf_free(&e);
	p->p_type = PT_GNU_STACK;
	p->p_offset = 0;
	assert_int_equal(hxk_elf_parse(buf, len, &e, &err), 0);
	assert_int_equal(e.nsegs, 1);
	hxk_elf_free(&e);
}

struct ram {
	uint8_t mem[0x10000]; /* GPA BASE .. BASE + 64K */
	uint64_t lo, hi;      /* what is_ram accepts */
};

static bool is_ram(void *ctx, uint64_t gpa, uint64_t size)
{
	struct ram *r = ctx;
	return gpa >= r->lo && size <= r->hi - r->lo && gpa - r->lo <= r->hi - r->lo - size;
}

static void *gpa_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	struct ram *r = ctx;
	if (gpa < BASE || gpa + len > BASE + sizeof(r->mem))
		return NULL;
	return r->mem + (gpa - BASE);
}

static void test_placement_and_load(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	struct hxk_elf e;
	struct hxk_err err;
	assert_int_equal(hxk_elf_parse(buf, len, &e, &err), 0);
	struct ram *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	memset(r->mem, 0xee, sizeof(r->mem));
	r->lo = 0;
	r->hi = BASE + 0x1000; /* too small for the bss */
	assert_int_equal(hxk_elf_check_placement(&e, is_ram, r, &err), -1);
	assert_non_null(strstr(err.msg, "own RAM"));
	r->hi = 8ull << 20;
	assert_int_equal(hxk_elf_check_placement(&e, is_ram, r, &err), 0);
	assert_int_equal(hxk_elf_load(&e, gpa_ptr, r, &err), 0);
	assert_memory_equal(r->mem, code, sizeof(code));
	assert_memory_equal(r->mem + 0x100, data, sizeof(data));
	for (size_t i = sizeof(code); i < 0x100; i++)
		assert_int_equal(r->mem[i], 0); /* file bytes between code and data */
	for (size_t i = 0x108; i < 0x2108; i++)
		assert_int_equal(r->mem[i], 0); /* bss zeroed */
	assert_int_equal(r->mem[0x2108], 0xee); /* nothing beyond */
	free(r);
	hxk_elf_free(&e);
}

static void test_load_unbacked(void **state)
{
	(void)state;
	uint8_t buf[CAP];
	size_t len = build(buf);
	phdr(buf, 0)->p_memsz = 0x20000; /* beyond the 64K test memory */
	struct hxk_elf e;
	struct hxk_err err;
	assert_int_equal(hxk_elf_parse(buf, len, &e, &err), 0);
	struct ram *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(hxk_elf_load(&e, gpa_ptr, r, &err), -1);
	assert_non_null(strstr(err.msg, "not backed"));
	free(r);
	hxk_elf_free(&e);
}

static void test_read_file(void **state)
{
	(void)state;
	struct hxk_elf e;
	struct hxk_err err;
	assert_int_equal(hxk_elf_read_file("/nonexistent/guest.elf", &e, &err), -1);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_int_equal(hxk_elf_read_file("/tmp", &e, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	uint8_t buf[CAP];
	size_t len = build(buf);
	char path[64];
	assert_int_equal(kt_write_temp(buf, len, path), 0);
	assert_int_equal(hxk_elf_read_file(path, &e, &err), 0);
	assert_int_equal(e.entry, BASE);
	hxk_elf_free(&e);
	/* A truncated file names itself and the problem. */
	assert_int_equal(truncate(path, 40), 0);
	assert_int_equal(hxk_elf_read_file(path, &e, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "too short"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rejections),
	        cmocka_unit_test(test_good_image),
	        cmocka_unit_test(test_placement_and_load),
	        cmocka_unit_test(test_load_unbacked),
	        cmocka_unit_test(test_read_file),
	        cmocka_unit_test(test_empty_segments_inside_the_file),
	};
	return cmocka_run_group_tests_name("kvm_elf", tests, NULL, NULL);
}
