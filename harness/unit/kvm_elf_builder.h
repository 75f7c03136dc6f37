/* Builds small guest ELF images in memory for the KVM runner's tests: one
 * RWX PT_LOAD segment with code at `base` and data after it, a .text
 * section and a symbol table (for hx_cpuid_site etc.). */
#ifndef KVM_ELF_BUILDER_H
#define KVM_ELF_BUILDER_H

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kt_sym {
	const char *name;
	uint64_t value;
};

struct kt_image {
	const uint8_t *code;
	size_t code_len;
	uint64_t base; /* load address of the code (and entry) */
	const uint8_t *data;
	size_t data_len;
	uint64_t data_gpa; /* >= base + code_len */
	uint64_t bss;      /* extra zeroed bytes after the data */
	const struct kt_sym *syms;
	size_t nsyms;
};

#define KT_SEG_OFF 0x1000u

/* Layout of the file: Ehdr, Phdr, segment at KT_SEG_OFF, then .shstrtab,
 * .strtab, .symtab and the section headers. Returns the size, 0 if cap is
 * too small. */
static inline size_t kt_build_elf(const struct kt_image *img, uint8_t *out, size_t cap)
{
	size_t seg_len = (size_t)(img->data_gpa - img->base) + img->data_len;
	if (!img->data_len)
		seg_len = img->code_len;
	size_t off = KT_SEG_OFF + seg_len;
	static const char shstr[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
	size_t shstr_off = off;
	off += sizeof(shstr);
	size_t str_off = off, str_len = 1;
	for (size_t i = 0; i < img->nsyms; i++)
		str_len += strlen(img->syms[i].name) + 1;
	off += str_len;
	off = (off + 7) & ~(size_t)7;
	size_t sym_off = off, sym_len = (img->nsyms + 1) * sizeof(Elf64_Sym);
	off += sym_len;
	off = (off + 7) & ~(size_t)7;
	size_t sh_off = off;
	off += 5 * sizeof(Elf64_Shdr);
	if (off > cap)
		return 0;
	memset(out, 0, off);

	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = img->base;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_shoff = sh_off;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 5;
	eh.e_shstrndx = 4;
	memcpy(out, &eh, sizeof(eh));

	Elf64_Phdr ph = {0};
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_W | PF_X;
	ph.p_offset = KT_SEG_OFF;
	ph.p_vaddr = ph.p_paddr = img->base;
	ph.p_filesz = seg_len;
	ph.p_memsz = seg_len + img->bss;
	ph.p_align = 0x1000;
	memcpy(out + sizeof(eh), &ph, sizeof(ph));

	memcpy(out + KT_SEG_OFF, img->code, img->code_len);
	if (img->data_len)
		memcpy(out + KT_SEG_OFF + (img->data_gpa - img->base), img->data, img->data_len);
	memcpy(out + shstr_off, shstr, sizeof(shstr));

	Elf64_Sym sym = {0};
	size_t s = 1;
	for (size_t i = 0; i < img->nsyms; i++) {
		size_t n = strlen(img->syms[i].name) + 1;
		memcpy(out + str_off + s, img->syms[i].name, n);
		sym.st_name = (uint32_t)s;
		sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
		sym.st_shndx = 1;
		sym.st_value = img->syms[i].value;
		memcpy(out + sym_off + (i + 1) * sizeof(sym), &sym, sizeof(sym));
		s += n;
	}

	Elf64_Shdr sh[5];
	memset(sh, 0, sizeof(sh));
	sh[1].sh_name = 1; /* .text */
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC | SHF_EXECINSTR;
	sh[1].sh_addr = img->base;
	sh[1].sh_offset = KT_SEG_OFF;
	sh[1].sh_size = img->code_len;
	sh[2].sh_name = 7; /* .symtab */
	sh[2].sh_type = SHT_SYMTAB;
	sh[2].sh_offset = sym_off;
	sh[2].sh_size = sym_len;
	sh[2].sh_link = 3;
	sh[2].sh_info = 1;
	sh[2].sh_entsize = sizeof(Elf64_Sym);
	sh[3].sh_name = 15; /* .strtab */
	sh[3].sh_type = SHT_STRTAB;
	sh[3].sh_offset = str_off;
	sh[3].sh_size = str_len;
	sh[4].sh_name = 23; /* .shstrtab */
	sh[4].sh_type = SHT_STRTAB;
	sh[4].sh_offset = shstr_off;
	sh[4].sh_size = sizeof(shstr);
	memcpy(out + sh_off, sh, sizeof(sh));
	return off;
}

/* Write buf to a new temporary file; path receives its name. */
static inline int kt_write_temp(const uint8_t *buf, size_t len, char path[64])
{
	snprintf(path, 64, "/tmp/hx-kvm-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, buf, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

#endif
