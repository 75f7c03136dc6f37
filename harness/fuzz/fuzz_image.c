/* Guest and firmware images as the KVM runner and hx call read them: a
 * static ELF64 (harness/kvm/elf_load.c) or a PE32+ image
 * (harness/kvm/pe_load.c), chosen by the magic as hxk_elf_read_file does.
 * Every byte is the attacker's: headers, tables, relocations, symbols.
 *
 * Invariants (LOADER): no crash, overflow or undefined behaviour
 * (ASan+UBSan); a refusal carries a message and keeps nothing; an accepted
 * image has 1 to 16 segments, each with file bytes inside the image's
 * data, no more file bytes than memory, inside [lo, hi) and apart from
 * the others, an entry point inside an executable segment, sorted code
 * boundaries, and it loads into memory page by page without reading
 * outside its data. Seeds: corpus/image (the project's own ELF and
 * gnu-efi images, stripped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_load.h"
#include "fz.h"
#include "pe_load.h"

static uint8_t page[4096];

/* Loading: every chunk is at most a page and inside one. */
static void *sink(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	FZ_CHECK(len >= 1 && len <= 4096 && (gpa & 4095) + len <= 4096, "LOADER",
	         "load chunk of %llu bytes at 0x%llx crosses a page", (unsigned long long)len,
	         (unsigned long long)gpa);
	return page;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hxk_elf e;
	struct hxk_err err;
	err.msg[0] = 0;
	bool pe = hxk_pe_is_pe(data, size);
	int r = pe ? hxk_pe_parse(data, size, &e, &err) : hxk_elf_parse(data, size, &e, &err);
	if (r != 0) {
		FZ_CHECK(err.msg[0] != 0, "LOADER", "%s image refused without a message",
		         pe ? "PE" : "ELF");
		FZ_CHECK(!e.data && !e.psyms && !e.code_syms, "LOADER",
		         "a refused image kept memory");
		return 0;
	}
	FZ_CHECK(e.nsegs >= 1 && e.nsegs <= HXK_ELF_MAX_SEGS, "LOADER", "%u segments", e.nsegs);
	FZ_CHECK(e.lo < e.hi && e.hi <= HXK_ELF_ADDR_LIMIT, "LOADER", "span [0x%llx, 0x%llx)",
	         (unsigned long long)e.lo, (unsigned long long)e.hi);
	bool entry_ok = pe && e.entry == 0;
	for (uint32_t i = 0; i < e.nsegs; i++) {
		const struct hxk_elf_seg *s = &e.segs[i];
		FZ_CHECK(s->memsz > 0 && s->filesz <= s->memsz && s->offset <= e.size &&
		                 s->filesz <= e.size - s->offset,
		         "LOADER", "segment %u: file bytes [0x%llx, +0x%llx) of %zu, memsz 0x%llx",
		         i, (unsigned long long)s->offset, (unsigned long long)s->filesz, e.size,
		         (unsigned long long)s->memsz);
		FZ_CHECK(s->gpa >= e.lo && s->gpa + s->memsz <= e.hi && s->gpa + s->memsz > s->gpa,
		         "LOADER", "segment %u [0x%llx, +0x%llx) outside [lo, hi)", i,
		         (unsigned long long)s->gpa, (unsigned long long)s->memsz);
		for (uint32_t j = 0; j < i; j++) {
			const struct hxk_elf_seg *o = &e.segs[j];
			FZ_CHECK(s->gpa >= o->gpa + o->memsz || o->gpa >= s->gpa + s->memsz,
			         "LOADER", "segments %u and %u overlap", j, i);
		}
		if ((s->flags & 1) && e.entry >= s->gpa && e.entry - s->gpa < s->memsz)
			entry_ok = true;
	}
	FZ_CHECK(entry_ok, "LOADER", "entry point 0x%llx outside every executable segment",
	         (unsigned long long)e.entry);
	for (uint32_t i = 1; i < e.ncode_syms; i++)
		FZ_CHECK(e.code_syms[i - 1] < e.code_syms[i], "LOADER", "code boundaries unsorted");
	for (uint32_t i = 0; i < e.npsyms; i++) {
		uint64_t v;
		FZ_CHECK(e.psyms[i].name[0] && hxk_elf_symbol(&e, e.psyms[i].name, &v), "LOADER",
		         "symbol %u cannot be looked up", i);
	}
	uint64_t v;
	(void)hxk_elf_symbol(&e, "get_time", &v);
	(void)hxk_elf_code_boundary(&e, e.entry, &v);
	struct hxk_err lerr;
	FZ_CHECK(hxk_elf_load(&e, sink, NULL, &lerr) == 0, "LOADER", "load failed: %s", lerr.msg);
	hxk_elf_free(&e);
	return 0;
}
