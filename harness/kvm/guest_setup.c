#include "guest_setup.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hx/guest_abi.h"

/* x86 architectural bits (Intel SDM Vol. 3A, 2.5 and 4.5). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define SEL_CODE HX_SEL_CODE
#define SEL_DATA HX_SEL_DATA
#define SEL_TSS HX_SEL_TSS
#define TSS_LIMIT HX_GUEST_TSS_LIMIT

_Static_assert((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG) == HX_GUEST_CR0, "CR0");
_Static_assert((CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT) == HX_GUEST_CR4, "CR4");
_Static_assert((EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE) == HX_GUEST_EFER, "EFER");

uint64_t hxk_boot_info_gpa(uint32_t vcpu)
{
	return hx_boot_info_gpa(vcpu);
}

int hxk_gpa_put(hxk_gpa_ptr_fn ptr, void *ctx, uint64_t gpa, const void *src, uint64_t len,
                const char *what, const char *where, struct hxk_err *err)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t chunk = 4096 - ((gpa + done) & 4095);
		if (chunk > len - done)
			chunk = len - done;
		void *dst = ptr(ctx, gpa + done, chunk);
		if (!dst)
			return hxk_fail(err, "%s at GPA 0x%llx is not in %s", what,
			                (unsigned long long)(gpa + done), where);
		memcpy(dst, (const uint8_t *)src + done, chunk);
		done += chunk;
	}
	return 0;
}

static int put(hxk_gpa_ptr_fn ptr, void *ctx, uint64_t gpa, const void *src, uint64_t len,
               const char *what, struct hxk_err *err)
{
	return hxk_gpa_put(ptr, ctx, gpa, src, len, what,
	                   "the partition's RAM (the guest ABI needs RAM at GPA 0, at least 2 MiB)",
	                   err);
}

int hxk_guest_write_tables(hxk_gpa_ptr_fn ptr, void *ctx, struct hxk_err *err)
{
	uint64_t gdt[HX_GUEST_GDT_ENTRIES];
	hx_guest_gdt(gdt);
	uint8_t tss[TSS_LIMIT + 1];
	memset(tss, 0, sizeof(tss));
	tss[102] = sizeof(tss); /* I/O map base beyond the limit: no bitmap */
	if (put(ptr, ctx, HX_GUEST_GDT_GPA, gdt, sizeof(gdt), "the GDT", err) != 0 ||
	    put(ptr, ctx, HXK_GUEST_TSS_GPA, tss, sizeof(tss), "the TSS", err) != 0)
		return -1;

	/* The same words for every partition and every call: built once (a
	 * sandbox writes them before each call). */
	static uint64_t pt[HX_GUEST_PT_PAGES][512];
	static bool built;
	if (!built) {
		for (uint32_t p = 0; p < HX_GUEST_PT_PAGES; p++)
			for (uint32_t i = 0; i < 512; i++)
				pt[p][i] = hx_guest_pt_word(p, i);
		built = true;
	}
	return put(ptr, ctx, HX_GUEST_PT_GPA, pt, sizeof(pt), "the page tables", err);
}

int hxk_guest_write_boot_info(hxk_gpa_ptr_fn ptr, void *ctx, const struct hv_system_config *cfg,
                              uint32_t part, uint32_t vcpu, uint64_t image_lo, uint64_t image_hi,
                              int *truncated, struct hxk_err *err)
{
	struct hx_boot_info bi;
	*truncated = hx_boot_info_fill(&bi, cfg, part, vcpu, image_lo, image_hi);
	return put(ptr, ctx, hxk_boot_info_gpa(vcpu), &bi, sizeof(bi), "the boot info", err);
}

static struct kvm_segment flat(uint16_t sel, uint8_t type, int code)
{
	struct kvm_segment s;
	memset(&s, 0, sizeof(s));
	s.base = 0;
	s.limit = 0xffffffffu;
	s.selector = sel;
	s.type = type;
	s.present = 1;
	s.dpl = (uint8_t)(sel & 3);
	s.db = code ? 0 : 1;
	s.s = 1;
	s.l = code ? 1 : 0;
	s.g = 1;
	return s;
}

void hxk_guest_sregs(struct kvm_sregs *s)
{
	s->cs = flat(SEL_CODE, 0xb, 1);
	s->ds = s->es = s->fs = s->gs = s->ss = flat(SEL_DATA, 0x3, 0);
	memset(&s->tr, 0, sizeof(s->tr));
	s->tr.base = HXK_GUEST_TSS_GPA;
	s->tr.limit = TSS_LIMIT;
	s->tr.selector = SEL_TSS;
	s->tr.type = 0xb; /* busy 64-bit TSS */
	s->tr.present = 1;
	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.type = 0x2;
	s->ldt.present = 1;
	s->ldt.limit = 0xffff;
	s->gdt.base = HX_GUEST_GDT_GPA;
	s->gdt.limit = 7 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = HX_GUEST_PT_GPA;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	s->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
}

void hxk_guest_regs(struct kvm_regs *r, uint64_t entry, uint32_t part, uint32_t vcpu)
{
	memset(r, 0, sizeof(*r));
	r->rip = entry;
	r->rsp = 0;
	r->rdi = part;
	r->rsi = vcpu;
	r->rdx = hxk_boot_info_gpa(vcpu);
	r->rflags = 0x2; /* bit 1 is always set (SDM Vol. 1, 3.4.3) */
}
