/* ELF64 (System V gABI; x86-64 psABI) guest image loader. */
#include "elf_load.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "hx/guest_abi.h"
#include "input_file.h"
#include "pe_load.h"

/* true when [off, off+len) lies inside a buffer of size bytes */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int parse_segments(struct hxk_elf *e, const Elf64_Ehdr *eh, struct hxk_err *err)
{
	if (eh->e_phnum == 0)
		return hxk_fail(err, "no program headers (e_phnum 0): nothing to load");
	/* PN_XNUM moves the real count into section 0 (gABI "Program Header");
	 * no guest needs 65535 headers, so the extension is refused. */
	if (eh->e_phnum == PN_XNUM)
		return hxk_fail(err, "e_phnum 0x%x (PN_XNUM, extended numbering) is not supported",
		                eh->e_phnum);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return hxk_fail(err, "e_phentsize %u, expected %zu", eh->e_phentsize,
		                sizeof(Elf64_Phdr));
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), e->size))
		return hxk_fail(err,
		                "program headers (e_phoff 0x%llx, %u entries) run past the end of "
		                "the file (%zu bytes)",
		                (unsigned long long)eh->e_phoff, eh->e_phnum, e->size);
	e->lo = UINT64_MAX;
	e->hi = 0;
	for (uint32_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, e->data + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return hxk_fail(err,
			                "program header %u: %s: dynamically linked images are not "
			                "supported (link static, -nostdlib)",
			                i, ph.p_type == PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC");
		if (ph.p_type == PT_TLS)
			return hxk_fail(err,
			                "program header %u: PT_TLS: thread-local storage is "
			                "not supported in guests",
			                i);
		/* The file range of every header is checked before anything is
		 * skipped: an empty or non-loadable segment must not hide bytes
		 * that run past the end of the file. */
		if (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz)
			return hxk_fail(
			        err, "segment %u: p_filesz 0x%llx larger than p_memsz 0x%llx", i,
			        (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
		if (!in_file(ph.p_offset, ph.p_filesz, e->size))
			return hxk_fail(
			        err,
			        "segment %u: file bytes [0x%llx, +0x%llx) run past the end of "
			        "the file (%zu bytes)",
			        i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz,
			        e->size);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (e->nsegs == HXK_ELF_MAX_SEGS)
			return hxk_fail(err, "more than %d loadable segments", HXK_ELF_MAX_SEGS);
		if (ph.p_vaddr != ph.p_paddr)
			return hxk_fail(
			        err,
			        "segment %u: p_paddr 0x%llx differs from p_vaddr 0x%llx (guests "
			        "run identity-mapped: link with equal addresses)",
			        i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_vaddr);
		if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return hxk_fail(err, "segment %u: 0x%llx + 0x%llx wraps around", i,
			                (unsigned long long)ph.p_vaddr,
			                (unsigned long long)ph.p_memsz);
		if (ph.p_vaddr < HX_GUEST_LOAD_MIN)
			return hxk_fail(
			        err,
			        "segment %u: loads at 0x%llx, below HX_GUEST_LOAD_MIN 0x%llx "
			        "(the GDT, boot info and page tables live there)",
			        i, (unsigned long long)ph.p_vaddr,
			        (unsigned long long)HX_GUEST_LOAD_MIN);
		if (ph.p_vaddr + ph.p_memsz > HXK_ELF_ADDR_LIMIT)
			return hxk_fail(
			        err,
			        "segment %u: [0x%llx, 0x%llx) reaches above 4 GiB (only [0, 4 "
			        "GiB) is identity-mapped for guests)",
			        i, (unsigned long long)ph.p_vaddr,
			        (unsigned long long)(ph.p_vaddr + ph.p_memsz));
		for (uint32_t j = 0; j < e->nsegs; j++) {
			const struct hxk_elf_seg *o = &e->segs[j];
			if (ph.p_vaddr < o->gpa + o->memsz && o->gpa < ph.p_vaddr + ph.p_memsz)
				return hxk_fail(err,
				                "segment %u [0x%llx, 0x%llx) overlaps an earlier "
				                "segment [0x%llx, 0x%llx)",
				                i, (unsigned long long)ph.p_vaddr,
				                (unsigned long long)(ph.p_vaddr + ph.p_memsz),
				                (unsigned long long)o->gpa,
				                (unsigned long long)(o->gpa + o->memsz));
		}
		e->segs[e->nsegs++] = (struct hxk_elf_seg){
		        .gpa = ph.p_vaddr,
		        .memsz = ph.p_memsz,
		        .filesz = ph.p_filesz,
		        .offset = ph.p_offset,
		        .flags = ph.p_flags,
		};
		if (ph.p_vaddr < e->lo)
			e->lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > e->hi)
			e->hi = ph.p_vaddr + ph.p_memsz;
	}
	if (e->nsegs == 0)
		return hxk_fail(err, "no loadable (PT_LOAD) segment");
	for (uint32_t j = 0; j < e->nsegs; j++) {
		const struct hxk_elf_seg *s = &e->segs[j];
		if (e->entry >= s->gpa && e->entry - s->gpa < s->memsz) {
			if (!(s->flags & PF_X))
				return hxk_fail(err,
				                "entry point 0x%llx lies in a segment that is not "
				                "executable",
				                (unsigned long long)e->entry);
			return 0;
		}
	}
	return hxk_fail(err, "entry point 0x%llx lies outside every loadable segment",
	                (unsigned long long)e->entry);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

bool hxk_elf_in_code(const struct hxk_elf *e, uint64_t addr)
{
	for (uint32_t i = 0; i < e->nsegs; i++) {
		const struct hxk_elf_seg *s = &e->segs[i];
		if ((s->flags & PF_X) && addr >= s->gpa && addr - s->gpa < s->memsz)
			return true;
	}
	return false;
}

void hxk_elf_sort_code_syms(struct hxk_elf *e)
{
	qsort(e->code_syms, e->ncode_syms, sizeof(uint64_t), cmp_u64);
	uint32_t u = 0;
	for (uint32_t i = 0; i < e->ncode_syms; i++)
		if (u == 0 || e->code_syms[u - 1] != e->code_syms[i])
			e->code_syms[u++] = e->code_syms[i];
	e->ncode_syms = u;
}

/* Addresses of functions and labels in executable sections: instruction
 * boundaries the runner can decode forward from. */
static int collect_code_syms(struct hxk_elf *e, const Elf64_Ehdr *eh, struct hxk_err *err)
{
	if (e->nsyms == 0)
		return 0;
	e->code_syms = malloc(e->nsyms * sizeof(uint64_t));
	if (!e->code_syms)
		return hxk_fail(err, "out of memory for the symbol table");
	uint32_t n = 0;
	for (uint64_t i = 0; i < e->nsyms; i++) {
		Elf64_Sym s;
		memcpy(&s, e->data + e->symoff + i * sizeof(s), sizeof(s));
		uint32_t type = ELF64_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
		    s.st_shndx >= eh->e_shnum)
			continue;
		Elf64_Shdr sec;
		memcpy(&sec, e->data + eh->e_shoff + (uint64_t)s.st_shndx * sizeof(sec),
		       sizeof(sec));
		if (!(sec.sh_flags & SHF_EXECINSTR) || s.st_value < sec.sh_addr ||
		    s.st_value - sec.sh_addr >= sec.sh_size)
			continue;
		e->code_syms[n++] = s.st_value;
	}
	e->ncode_syms = n;
	hxk_elf_sort_code_syms(e);
	return 0;
}

/* The symbol table is optional (stripped images load, but then the CPUID
 * and VMCALL sites are unknown). A malformed one is an error. */
static int parse_symbols(struct hxk_elf *e, const Elf64_Ehdr *eh, struct hxk_err *err)
{
	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return hxk_fail(err, "e_shentsize %u, expected %zu", eh->e_shentsize,
		                sizeof(Elf64_Shdr));
	if (!in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), e->size))
		return hxk_fail(err,
		                "section headers (e_shoff 0x%llx, %u entries) run past the end of "
		                "the file (%zu bytes)",
		                (unsigned long long)eh->e_shoff, eh->e_shnum, e->size);
	for (uint32_t i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, e->data + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_entsize != sizeof(Elf64_Sym) ||
		    !in_file(sh.sh_offset, sh.sh_size, e->size))
			return hxk_fail(err, "section %u (.symtab): bad entry size or bounds", i);
		if (sh.sh_link >= eh->e_shnum)
			return hxk_fail(err, "section %u (.symtab): sh_link %u is not a section", i,
			                sh.sh_link);
		Elf64_Shdr st;
		memcpy(&st, e->data + eh->e_shoff + (uint64_t)sh.sh_link * sizeof(st), sizeof(st));
		if (st.sh_type != SHT_STRTAB || !in_file(st.sh_offset, st.sh_size, e->size))
			return hxk_fail(err, "section %u (symbol string table): bad type or bounds",
			                sh.sh_link);
		e->symoff = sh.sh_offset;
		e->nsyms = sh.sh_size / sizeof(Elf64_Sym);
		e->stroff = st.sh_offset;
		e->strsz = st.sh_size;
		return collect_code_syms(e, eh, err);
	}
	return 0;
}

int hxk_elf_parse(const uint8_t *data, size_t size, struct hxk_elf *e, struct hxk_err *err)
{
	memset(e, 0, sizeof(*e));
	if (size < sizeof(Elf64_Ehdr))
		return hxk_fail(err, "file too short for an ELF header (%zu bytes)", size);
	if (size > HXK_ELF_MAX_BYTES)
		return hxk_fail(err, "file too large (%zu bytes, limit %u)", size,
		                HXK_ELF_MAX_BYTES);
	if (memcmp(data, ELFMAG, SELFMAG) != 0)
		return hxk_fail(err, "not an ELF file (bad magic) nor a PE32+ image");
	if (data[EI_CLASS] != ELFCLASS64)
		return hxk_fail(err, "ELF class %u, expected ELFCLASS64 (64-bit)", data[EI_CLASS]);
	if (data[EI_DATA] != ELFDATA2LSB)
		return hxk_fail(err, "ELF data encoding %u, expected little-endian", data[EI_DATA]);
	if (data[EI_VERSION] != EV_CURRENT)
		return hxk_fail(err, "ELF version %u, expected %u", data[EI_VERSION], EV_CURRENT);
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_version != EV_CURRENT)
		return hxk_fail(err, "e_version %u, expected %u", eh.e_version, EV_CURRENT);
	if (eh.e_ehsize != sizeof(Elf64_Ehdr))
		return hxk_fail(err, "e_ehsize %u, expected %zu", eh.e_ehsize, sizeof(Elf64_Ehdr));
	if (eh.e_machine != EM_X86_64)
		return hxk_fail(err, "e_machine %u, expected EM_X86_64 (%u)", eh.e_machine,
		                EM_X86_64);
	if (eh.e_type != ET_EXEC)
		return hxk_fail(
		        err,
		        "e_type %u is not ET_EXEC: guests must be static executables linked "
		        "at a fixed address (-static -no-pie)",
		        eh.e_type);
	e->data = malloc(size);
	if (!e->data)
		return hxk_fail(err, "out of memory for the image (%zu bytes)", size);
	memcpy(e->data, data, size);
	e->size = size;
	e->entry = eh.e_entry;
	if (parse_segments(e, &eh, err) != 0 || parse_symbols(e, &eh, err) != 0) {
		hxk_elf_free(e);
		return -1;
	}
	return 0;
}

int hxk_elf_read_file(const char *path, struct hxk_elf *e, struct hxk_err *err)
{
	memset(e, 0, sizeof(*e));
	uint8_t *buf;
	size_t size;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, HXK_ELF_MAX_BYTES, &buf, &size, why, sizeof(why)) != 0)
		return hxk_fail(err, "%s: %s", hx_esc(path), why);
	struct hxk_err inner;
	int r = hxk_pe_is_pe(buf, size) ? hxk_pe_parse(buf, size, e, &inner)
	                                : hxk_elf_parse(buf, size, e, &inner);
	free(buf);
	if (r != 0)
		return hxk_fail(err, "%s: %s", hx_esc(path), inner.msg);
	return 0;
}

void hxk_elf_free(struct hxk_elf *e)
{
	free(e->data);
	free(e->code_syms);
	free(e->psyms);
	memset(e, 0, sizeof(*e));
}

bool hxk_elf_symbol(const struct hxk_elf *e, const char *name, uint64_t *value)
{
	size_t want = strlen(name);
	for (uint32_t i = 0; i < e->npsyms; i++) {
		if (!strcmp(e->psyms[i].name, name)) {
			*value = e->psyms[i].addr;
			return true;
		}
	}
	for (uint64_t i = 0; i < e->nsyms; i++) {
		Elf64_Sym s;
		memcpy(&s, e->data + e->symoff + i * sizeof(s), sizeof(s));
		if (s.st_shndx == SHN_UNDEF || s.st_name >= e->strsz)
			continue;
		const char *n = (const char *)e->data + e->stroff + s.st_name;
		size_t room = e->strsz - s.st_name;
		if (want < room && memcmp(n, name, want) == 0 && n[want] == '\0') {
			*value = s.st_value;
			return true;
		}
	}
	return false;
}

bool hxk_elf_code_boundary(const struct hxk_elf *e, uint64_t addr, uint64_t *out)
{
	uint32_t lo = 0, hi = e->ncode_syms;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->code_syms[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	*out = e->code_syms[lo - 1];
	return true;
}

int hxk_elf_check_placement(const struct hxk_elf *e, hxk_is_ram_fn is_ram, void *ctx,
                            struct hxk_err *err)
{
	for (uint32_t i = 0; i < e->nsegs; i++) {
		const struct hxk_elf_seg *s = &e->segs[i];
		if (!is_ram(ctx, s->gpa, s->memsz))
			return hxk_fail(
			        err,
			        "segment [0x%llx, 0x%llx) does not lie inside the partition's "
			        "own RAM",
			        (unsigned long long)s->gpa,
			        (unsigned long long)(s->gpa + s->memsz));
	}
	return 0;
}

int hxk_elf_load(const struct hxk_elf *e, hxk_gpa_ptr_fn ptr, void *ctx, struct hxk_err *err)
{
	for (uint32_t i = 0; i < e->nsegs; i++) {
		const struct hxk_elf_seg *s = &e->segs[i];
		uint64_t done = 0;
		while (done < s->memsz) {
			uint64_t gpa = s->gpa + done;
			uint64_t chunk = 4096 - (gpa & 4095);
			if (chunk > s->memsz - done)
				chunk = s->memsz - done;
			uint8_t *dst = ptr(ctx, gpa, chunk);
			if (!dst)
				return hxk_fail(err,
				                "segment byte at GPA 0x%llx is not backed by RAM",
				                (unsigned long long)gpa);
			uint64_t from_file = 0;
			if (done < s->filesz)
				from_file = s->filesz - done < chunk ? s->filesz - done : chunk;
			memcpy(dst, e->data + s->offset + done, from_file);
			memset(dst + from_file, 0, chunk - from_file);
			done += chunk;
		}
	}
	return 0;
}
