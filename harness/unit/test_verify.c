/* Second-stage verifier (handlers/src/verify.c): clean builds verify clean,
 * and every check has a negative test that corrupts built tables and
 * expects the verifier to name the invariant, the reason, the partition and
 * the GPA.
 *
 * Every test runs on Intel EPT (group "verify-ept") and on AMD nested page
 * tables ("verify-npt"): each corruption has an NPT twin. Where NPT cannot
 * express the EPT corruption (write without read, reserved memory types,
 * execute-only levels) the twin is the nearest NPT defect, named in the
 * row. The entry bits below are written here from the manuals (SDM Vol.
 * 3C 29.3.2; APM Vol. 2 Figures 5-18 .. 5-25), not taken from the core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hv/ept.h"
#include "hv/system.h"
#include "hv/verify.h"
#include "mock_config.h"

#define G1 HV_SIZE_1G
#define M2 HV_SIZE_2M
#define K4 HV_PAGE_SIZE
#define MAX_SEEN 256

static enum hv_s2_format g_fmt;
#define NPT (g_fmt == HV_S2_NPT)

static int group_ept(void **state)
{
	(void)state;
	g_fmt = HV_S2_EPT;
	return 0;
}

static int group_npt(void **state)
{
	(void)state;
	g_fmt = HV_S2_NPT;
	return 0;
}

/* NPT bits (APM Vol. 2, Figures 5-18 .. 5-25). */
#define N_P (1ull << 0)
#define N_RW (1ull << 1)
#define N_US (1ull << 2)
#define N_PWT (1ull << 3)
#define N_PCD (1ull << 4)
#define N_PS (1ull << 7)
#define N_PAT4K (1ull << 7)
#define N_PATLG (1ull << 12)
#define N_NX (1ull << 63)
#define ROOT_TAG (NPT ? 1ull : 0ull)

/* The host PAT index holding each type (PA0 WB, PA1 WT, PA2 WC, PA3 UC,
 * PA4 WP: the contract the core documents). */
static unsigned pat_index(uint8_t mt)
{
	switch (mt) {
	case HV_MT_WB:
		return 0;
	case HV_MT_WT:
		return 1;
	case HV_MT_WC:
		return 2;
	case HV_MT_WP:
		return 4;
	default:
		return 3;
	}
}

/* NPT memory-type bits of a leaf from a PAT index. */
static uint64_t npt_pat_bits(unsigned idx, bool large)
{
	return ((idx & 1) ? N_PWT : 0) | ((idx & 2) ? N_PCD : 0) |
	       ((idx & 4) ? (large ? N_PATLG : N_PAT4K) : 0);
}

static uint64_t npt_perm_bits(uint8_t perm)
{
	if (perm == 0)
		return 0;
	return N_P | N_US | ((perm & HV_PERM_W) ? N_RW : 0) | ((perm & HV_PERM_X) ? 0 : N_NX);
}

/* A leaf of the format under test. */
static uint64_t make_leaf(uint64_t hpa, uint8_t perm, uint8_t mt, bool large)
{
	if (!NPT)
		return hpa | perm | ((uint64_t)mt << HV_EPTE_MT_SHIFT) |
		       (large ? HV_EPTE_LARGE : 0);
	return hpa | npt_perm_bits(perm) | npt_pat_bits(pat_index(mt), large) | (large ? N_PS : 0);
}

struct seen {
	uint32_t n;
	struct hv_violation v[MAX_SEEN];
};

static void collect(void *ctx, const struct hv_violation *v)
{
	struct seen *s = ctx;
	if (s->n < MAX_SEEN)
		s->v[s->n] = *v;
	s->n++;
}

static bool has(const struct seen *s, enum hv_invariant inv, enum hv_verify_reason reason,
                uint32_t part, uint64_t gpa)
{
	for (uint32_t i = 0; i < s->n && i < MAX_SEEN; i++)
		if (s->v[i].inv == inv && s->v[i].reason == reason && s->v[i].partition == part &&
		    s->v[i].gpa == gpa)
			return true;
	return false;
}

static void dump(const struct seen *s)
{
	for (uint32_t i = 0; i < s->n && i < MAX_SEEN; i++)
		print_message("  %s p%u gpa %#llx hpa %#llx: %s\n", hv_invariant_id(s->v[i].inv),
		              s->v[i].partition, (unsigned long long)s->v[i].gpa,
		              (unsigned long long)s->v[i].hpa,
		              hv_verify_reason_str(s->v[i].reason));
}

/* ---- a mocked two-partition system ------------------------------------------ */

struct fx {
	struct mock_env *env;
	struct hv_verify_part parts[2];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->env = calloc(1, sizeof(*f->env));
	mock_config_two(&f->env->cfg);
	f->env->cfg.vendor = NPT ? HV_VENDOR_AMD : HV_VENDOR_INTEL;
	assert_int_equal(mock_env_start(f->env), HV_OK);
	assert_int_equal(f->env->sys.parts[0].ept_root & 1, ROOT_TAG);
	for (int p = 0; p < 2; p++)
		f->parts[p] = (struct hv_verify_part){f->env->sys.parts[p].ept_root, false};
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	mock_env_stop(f->env);
	free(f->env);
	free(f);
	return 0;
}

static uint32_t fx_verify(struct fx *f, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return hv_ept_verify(&f->env->cfg, &f->env->pool, f->parts, collect, s, MAX_SEEN);
}

/* Entry at `level` (3 = PML4) on the way to gpa in partition p. */
static uint64_t *ent(struct fx *f, uint32_t p, uint64_t gpa, unsigned level)
{
	uint64_t *table = hv_pool_ptr(&f->env->pool, f->parts[p].root & ~1ull);
	assert_non_null(table);
	for (unsigned l = 3; l > level; l--) {
		table = hv_pool_ptr(&f->env->pool,
		                    table[(gpa >> (12 + 9 * l)) & 511] & HV_EPTE_ADDR_MASK);
		assert_non_null(table);
	}
	return &table[(gpa >> (12 + 9 * level)) & 511];
}

/* The address of a table entry or leaf; an NPT large leaf keeps its PAT
 * bit (bit 12). */
static void set_addr(uint64_t *e, uint64_t addr)
{
	uint64_t keep = NPT && (*e & N_PS) ? N_PATLG : 0;
	*e = (*e & ~HV_EPTE_ADDR_MASK) | (*e & keep) | addr;
}

/* Rights in the format's own bits: EPT bits 2:0; NPT P, R/W, NX (U/S is
 * kept as it is). */
static void set_perm(uint64_t *e, uint8_t perm)
{
	if (!NPT) {
		*e = (*e & ~HV_EPTE_PERM_MASK) | perm;
		return;
	}
	*e &= ~(N_P | N_RW | N_NX);
	if (perm)
		*e |= npt_perm_bits(perm) & ~N_US;
}

/* A leaf's memory type: EPT bits 5:3; NPT the PAT index of a host-PAT
 * entry, or (mt > 7) the raw index mt - 8. */
static void set_mt(uint64_t *e, uint64_t mt, bool large)
{
	if (!NPT) {
		*e = (*e & ~HV_EPTE_MT_MASK) | (mt << HV_EPTE_MT_SHIFT);
		return;
	}
	unsigned idx = mt > 7 ? (unsigned)(mt - 8) : pat_index((uint8_t)mt);
	*e = (*e & ~(N_PWT | N_PCD | (large ? N_PATLG : N_PAT4K))) | npt_pat_bits(idx, large);
}
#define PAT_INDEX(i) (8u + (i))

/* P0 RAM (gpa 0, 8 MiB) is four 2M leaves; MMIO and channel pages are 4K. */
#define P0_PDE(f, gpa) ent(f, 0, gpa, 1)
#define P0_MMIO_PTE(f) ent(f, 0, MOCK_MMIO_GPA, 0)
#define CHAN_PTE(f, p, n) ent(f, p, MOCK_CHAN_GPA + (n)*K4, 0)

static void c_leaf_to_hv(struct fx *f)
{
	set_addr(P0_PDE(f, 0), 0);
}
static void c_leaf_to_pool(struct fx *f)
{
	set_addr(P0_PDE(f, M2), MOCK_POOL_HPA);
}
static void c_leaf_4k_to_table(struct fx *f)
{
	/* the PT page holding this very entry */
	uint64_t pt = *ent(f, 0, MOCK_MMIO_GPA, 1) & HV_EPTE_ADDR_MASK;
	set_addr(P0_MMIO_PTE(f), pt);
}
static void c_leaf_to_other_ram(struct fx *f)
{
	set_addr(P0_PDE(f, 2 * M2), MOCK_P1_RAM_HPA);
}
static void c_leaf_to_nobodys(struct fx *f)
{
	set_addr(P0_MMIO_PTE(f), 56ull << 20);
}
static void c_leaf_beyond_host(struct fx *f)
{
	set_addr(P0_PDE(f, 3 * M2), 1ull << 40);
}
/* NPT cannot write without reading: its twin is an entry without U/S. */
static void c_write_no_read(struct fx *f)
{
	if (NPT)
		*P0_PDE(f, 0) &= ~N_US;
	else
		set_perm(P0_PDE(f, 0), HV_EPTE_W | HV_EPTE_X);
}
static void c_table_write_no_read(struct fx *f)
{
	if (NPT)
		*ent(f, 0, MOCK_MMIO_GPA, 2) &= ~N_US;
	else
		set_perm(ent(f, 0, MOCK_MMIO_GPA, 2), HV_EPTE_W);
}
/* Every NPT PAT index names a valid type: the twins of the reserved EPT
 * types are indices of another type than configured (5..7 are UC). */
static void c_memtype_2(struct fx *f)
{
	set_mt(P0_PDE(f, M2), NPT ? PAT_INDEX(5) : 2, true);
}
static void c_memtype_3(struct fx *f)
{
	set_mt(P0_MMIO_PTE(f), NPT ? PAT_INDEX(0) : 3, false);
}
static void c_memtype_7(struct fx *f)
{
	set_mt(P0_PDE(f, M2), NPT ? PAT_INDEX(7) : 7, true);
}
static void c_leaf_bit_50(struct fx *f)
{
	*P0_MMIO_PTE(f) |= 1ull << 50;
}
static void c_leaf_bit_46(struct fx *f)
{
	*P0_PDE(f, 0) |= 1ull << 46;
}
/* Two 4 KiB leaves the second of which is the first plus one page, with
 * the same attribute bits, but its address carries into bit 46, above the
 * physical width: the run they would make must not hide it. */
static void c_run_into_bit_46(struct fx *f)
{
	*CHAN_PTE(f, 0, 0) = (*CHAN_PTE(f, 0, 0) & ~HV_EPTE_ADDR_MASK) | (HV_HPA_LIMIT - K4);
	*CHAN_PTE(f, 0, 1) = *CHAN_PTE(f, 0, 0) + K4;
}
/* EPT PML4E bits 7:3 are reserved; NPT PML4E bits 8:7 (bit 3 is PWT). */
static void c_pml4e_bit_3(struct fx *f)
{
	*ent(f, 0, 0, 3) |= NPT ? 1ull << 8 : 1ull << 3;
}
static void c_pml4e_bit_7(struct fx *f)
{
	*ent(f, 0, 0, 3) |= 1ull << 7;
}
/* EPT: bit 6 of a PDE pointing to a table; NPT has no reserved low bits
 * there, so its twin is address bit 51. */
static void c_pde_table_bit_6(struct fx *f)
{
	*ent(f, 0, MOCK_CHAN_GPA, 1) |= NPT ? 1ull << 51 : 1ull << 6;
}
/* Bit 13 (bit 12 of a large NPT leaf is its PAT bit). */
static void c_large_misaligned(struct fx *f)
{
	set_addr(P0_PDE(f, M2), MOCK_P0_RAM_HPA + M2 + 2 * K4);
}
static void c_table_outside_pool(struct fx *f)
{
	set_addr(ent(f, 0, MOCK_MMIO_GPA, 2), MOCK_P0_RAM_HPA);
}
static void c_table_free_pool_page(struct fx *f)
{
	/* inside the pool's range but never handed out */
	set_addr(ent(f, 0, MOCK_MMIO_GPA, 2),
	         MOCK_POOL_HPA + ((uint64_t)(MOCK_POOL_PAGES - 1) << HV_PAGE_SHIFT));
}
static void c_root_outside_pool(struct fx *f)
{
	f->parts[1].root = MOCK_P1_RAM_HPA | ROOT_TAG;
}
static void c_root_other_format(struct fx *f)
{
	f->parts[0].root ^= 1;
}
static void c_root_unaligned(struct fx *f)
{
	f->parts[1].root += 8;
}
static void c_pdptes_share(struct fx *f)
{
	*ent(f, 0, G1, 2) = *ent(f, 0, 0, 2);
}
static void c_pml4e_shared_across(struct fx *f)
{
	*ent(f, 1, 0, 3) = *ent(f, 0, 0, 3);
}
static void c_root_shared(struct fx *f)
{
	f->parts[1].root = f->parts[0].root;
}
static void c_extra_alias(struct fx *f)
{
	/* owned memory, but at a GPA the config does not have */
	*ent(f, 0, MOCK_MMIO_GPA + K4, 0) = make_leaf(MOCK_P0_RAM_HPA, HV_PERM_RW, HV_MT_WB, false);
}
static void c_extra_on_device(struct fx *f)
{
	/* the console device's GPA must stay unmapped: move the MMIO leaf there */
	uint64_t e = *P0_MMIO_PTE(f);
	*P0_MMIO_PTE(f) = 0;
	*ent(f, 0, MOCK_CONSOLE_GPA, 1) = e | (1ull << 7); /* 2M at 0xfec00000 (EPT and NPT) */
	set_addr(ent(f, 0, MOCK_CONSOLE_GPA, 1), MOCK_MMIO_HPA);
}
static void c_missing_ram(struct fx *f)
{
	*P0_PDE(f, 3 * M2) = 0;
}
static void c_missing_channel(struct fx *f)
{
	*CHAN_PTE(f, 0, 1) = 0;
}
/* The second page of a run of 4 KiB leaves that does not continue the
 * first: the verifier's shortcut for a continuing leaf must not take it. */
static void c_run_gap(struct fx *f)
{
	set_addr(CHAN_PTE(f, 0, 1), MOCK_CHAN_HPA + 2 * K4);
}
static void c_run_reduced(struct fx *f)
{
	set_perm(CHAN_PTE(f, 0, 1), HV_PERM_R);
}
static void c_hidden_by_upper(struct fx *f)
{
	/* leaf RW, PDE above allows only X (EPT) or is not present (NPT, which
	 * has no level that allows less than read): nothing is reachable */
	set_perm(ent(f, 0, MOCK_MMIO_GPA, 1), NPT ? 0 : HV_EPTE_X);
}
static void c_wrong_hpa(struct fx *f)
{
	set_addr(P0_PDE(f, M2), MOCK_P0_RAM_HPA + 2 * M2);
}
/* Bit 1 is W in EPT and R/W in NPT. */
static void c_grown_channel(struct fx *f)
{
	*CHAN_PTE(f, 1, 0) |= 1ull << 1;
}
static void c_grown_exec(struct fx *f)
{
	if (NPT)
		*P0_MMIO_PTE(f) &= ~N_NX;
	else
		*P0_MMIO_PTE(f) |= HV_EPTE_X;
}
static void c_reduced(struct fx *f)
{
	set_perm(P0_PDE(f, 0), HV_PERM_R);
}
static void c_reduced_by_upper(struct fx *f)
{
	set_perm(ent(f, 0, 0, 3), HV_PERM_RX);
}
static void c_wrong_memtype(struct fx *f)
{
	set_mt(P0_PDE(f, 0), HV_MT_UC, true);
}
static void c_p1_protected_reduced(struct fx *f)
{
	f->parts[1].protected_ = true;
	set_perm(ent(f, 1, 0, 1), HV_PERM_R);
	*ent(f, 1, M2, 1) = 0;
}
static void c_p1_protected_grown(struct fx *f)
{
	f->parts[1].protected_ = true;
	*CHAN_PTE(f, 1, 1) |= 1ull << 1;
}
static void c_p0_protected_channel_gone(struct fx *f)
{
	f->parts[0].protected_ = true;
	*CHAN_PTE(f, 0, 0) = 0;
}

struct corrupt_case {
	const char *name;
	void (*corrupt)(struct fx *);
	enum hv_invariant inv;
	enum hv_verify_reason reason;
	uint32_t part;
	uint64_t gpa;
	/* NPT twin's reason + 1 where it differs (0: the same reason) */
	unsigned npt_reason;
};
#define NPT_REASON(r) ((r) + 1u)

static const struct corrupt_case corrupt_cases[] = {
        {"leaf -> hypervisor memory", c_leaf_to_hv, HV_INV_EPT_OWN, HV_VR_HV_MEMORY, 0, 0, 0},
        {"leaf -> pool", c_leaf_to_pool, HV_INV_EPT_OWN, HV_VR_TABLE_PAGE, 0, M2, 0},
        {"4K leaf -> its own table", c_leaf_4k_to_table, HV_INV_EPT_OWN, HV_VR_TABLE_PAGE, 0,
         MOCK_MMIO_GPA, 0},
        {"leaf -> other partition's RAM", c_leaf_to_other_ram, HV_INV_EPT_OWN, HV_VR_FOREIGN, 0,
         2 * M2, 0},
        {"leaf -> memory nobody owns", c_leaf_to_nobodys, HV_INV_EPT_OWN, HV_VR_FOREIGN, 0,
         MOCK_MMIO_GPA, 0},
        {"leaf beyond host memory", c_leaf_beyond_host, HV_INV_EPT_OWN, HV_VR_OUTSIDE_HOST, 0,
         3 * M2, 0},
        {"W without R / NPT: no U/S", c_write_no_read, HV_INV_EPT_FORM, HV_VR_WRITE_NO_READ, 0, 0,
         NPT_REASON(HV_VR_NOT_USER)},
        {"W without R in a PDPTE / NPT: no U/S", c_table_write_no_read, HV_INV_EPT_FORM,
         HV_VR_WRITE_NO_READ, 0, 3 * G1, NPT_REASON(HV_VR_NOT_USER)},
        {"memtype 2 / NPT: PAT index 5 (UC for WB)", c_memtype_2, HV_INV_EPT_FORM,
         HV_VR_BAD_MEMTYPE, 0, M2, NPT_REASON(HV_VR_WRONG_MEMTYPE)},
        {"memtype 3 / NPT: PAT index 0 (WB for UC)", c_memtype_3, HV_INV_EPT_FORM,
         HV_VR_BAD_MEMTYPE, 0, MOCK_MMIO_GPA, NPT_REASON(HV_VR_WRONG_MEMTYPE)},
        {"memtype 7 / NPT: PAT index 7 (UC for WB)", c_memtype_7, HV_INV_EPT_FORM,
         HV_VR_BAD_MEMTYPE, 0, M2, NPT_REASON(HV_VR_WRONG_MEMTYPE)},
        {"leaf bit 50", c_leaf_bit_50, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0, MOCK_MMIO_GPA, 0},
        {"leaf bit 46", c_leaf_bit_46, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0, 0, 0},
        {"4K run carried into bit 46", c_run_into_bit_46, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0,
         MOCK_CHAN_GPA + K4, 0},
        {"PML4E bit 3", c_pml4e_bit_3, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0, 0, 0},
        {"PML4E bit 7", c_pml4e_bit_7, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0, 0, 0},
        {"PDE (table) bit 6", c_pde_table_bit_6, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, 0,
         MOCK_CHAN_GPA, 0},
        {"2M leaf misaligned", c_large_misaligned, HV_INV_EPT_FORM, HV_VR_LARGE_MISALIGNED, 0, M2,
         0},
        {"table pointer outside the pool", c_table_outside_pool, HV_INV_EPT_FORM,
         HV_VR_TABLE_OUTSIDE_POOL, 0, 3 * G1, 0},
        {"table pointer to a free pool page", c_table_free_pool_page, HV_INV_EPT_FORM,
         HV_VR_TABLE_OUTSIDE_POOL, 0, 3 * G1, 0},
        {"root outside the pool", c_root_outside_pool, HV_INV_EPT_FORM, HV_VR_TABLE_OUTSIDE_POOL, 1,
         0, 0},
        {"root unaligned", c_root_unaligned, HV_INV_EPT_FORM, HV_VR_TABLE_OUTSIDE_POOL, 1, 0, 0},
        {"root of the other vendor's format", c_root_other_format, HV_INV_EPT_FORM,
         HV_VR_WRONG_FORMAT, 0, 0, 0},
        {"two PDPTEs share a PD", c_pdptes_share, HV_INV_EPT_FORM, HV_VR_TABLE_SHARED, 0, G1, 0},
        {"PDPT shared across partitions", c_pml4e_shared_across, HV_INV_EPT_FORM,
         HV_VR_TABLE_SHARED, 1, 0, 0},
        {"root shared across partitions", c_root_shared, HV_INV_EPT_FORM, HV_VR_TABLE_SHARED, 1, 0,
         0},
        {"extra mapping of own memory", c_extra_alias, HV_INV_EPT_EXACT, HV_VR_UNEXPECTED, 0,
         MOCK_MMIO_GPA + K4, 0},
        {"mapping over the emulated device", c_extra_on_device, HV_INV_EPT_EXACT, HV_VR_UNEXPECTED,
         0, 0xfec00000, 0},
        {"missing RAM", c_missing_ram, HV_INV_EPT_EXACT, HV_VR_MISSING, 0, 3 * M2, 0},
        {"missing channel page", c_missing_channel, HV_INV_EPT_EXACT, HV_VR_MISSING, 0,
         MOCK_CHAN_GPA + K4, 0},
        {"4K run: next page not the next HPA", c_run_gap, HV_INV_EPT_EXACT, HV_VR_WRONG_HPA, 0,
         MOCK_CHAN_GPA + K4, 0},
        {"4K run: next page read-only", c_run_reduced, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, 0,
         MOCK_CHAN_GPA + K4, 0},
        {"leaf hidden by the level above", c_hidden_by_upper, HV_INV_EPT_EXACT, HV_VR_MISSING, 0,
         MOCK_MMIO_GPA, 0},
        {"wrong HPA", c_wrong_hpa, HV_INV_EPT_EXACT, HV_VR_WRONG_HPA, 0, M2, 0},
        {"RO channel made writable", c_grown_channel, HV_INV_EPT_EXACT, HV_VR_PERM_GROWN, 1,
         MOCK_CHAN_GPA, 0},
        {"MMIO made executable", c_grown_exec, HV_INV_EPT_EXACT, HV_VR_PERM_GROWN, 0, MOCK_MMIO_GPA,
         0},
        {"perms reduced without protect", c_reduced, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, 0, 0, 0},
        {"perms reduced by the PML4E", c_reduced_by_upper, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, 0,
         0, 0},
        {"wrong memory type", c_wrong_memtype, HV_INV_EPT_EXACT, HV_VR_WRONG_MEMTYPE, 0, 0, 0},
        {"protected, yet grown", c_p1_protected_grown, HV_INV_EPT_EXACT, HV_VR_PERM_GROWN, 1,
         MOCK_CHAN_GPA + K4, 0},
        {"protected, channel page gone", c_p0_protected_channel_gone, HV_INV_EPT_EXACT,
         HV_VR_MISSING, 0, MOCK_CHAN_GPA, 0},
};

static void test_clean_mock_system(void **state)
{
	struct fx *f = *state;
	struct seen s;
	uint32_t n = fx_verify(f, &s);
	if (n != 0)
		dump(&s);
	assert_int_equal(n, 0);
	assert_int_equal(s.n, 0);
}

static void test_every_corruption_is_named(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(corrupt_cases); i++) {
		const struct corrupt_case *c = &corrupt_cases[i];
		struct fx *f;
		fx_setup((void **)&f);
		c->corrupt(f);
		struct seen s;
		uint32_t n = fx_verify(f, &s);
		enum hv_verify_reason reason = c->reason;
		enum hv_invariant inv = c->inv;
		if (NPT && c->npt_reason) {
			reason = (enum hv_verify_reason)(c->npt_reason - 1);
			if (reason == HV_VR_WRONG_MEMTYPE)
				inv = HV_INV_EPT_EXACT;
		}
		if (!has(&s, inv, reason, c->part, c->gpa)) {
			dump(&s);
			fail_msg("%s: no %s \"%s\" for partition %u gpa %#llx (%u found)", c->name,
			         hv_invariant_id(inv), hv_verify_reason_str(reason), c->part,
			         (unsigned long long)c->gpa, n);
		}
		assert_int_equal(n, s.n);
		fx_teardown((void **)&f);
	}
}

/* The violation carries what a reader needs: the HPA and the raw entry. */
static void test_violation_details(void **state)
{
	struct fx *f = *state;
	c_leaf_to_other_ram(f);
	uint64_t e = *P0_PDE(f, 2 * M2);
	struct seen s;
	fx_verify(f, &s);
	bool found = false;
	for (uint32_t i = 0; i < s.n; i++)
		if (s.v[i].reason == HV_VR_FOREIGN) {
			assert_int_equal(s.v[i].hpa, MOCK_P1_RAM_HPA);
			assert_int_equal(s.v[i].entry, e);
			found = true;
		}
	assert_true(found);
	/* the same leaf is also the wrong HPA for that GPA */
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_WRONG_HPA, 0, 2 * M2));
}

/* What memory-protect may do: reduce perms and drop RAM pages. */
static void test_protected_partition_may_shrink(void **state)
{
	struct fx *f = *state;
	c_p1_protected_reduced(f);
	struct seen s;
	assert_int_equal(fx_verify(f, &s), 0);
	f->parts[1].protected_ = false;
	assert_true(fx_verify(f, &s) >= 2);
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, 1, 0));
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_MISSING, 1, M2));
}

/* The real protect path: split, reduce, unmap; clean only when flagged. */
static void test_after_hv_ept_protect(void **state)
{
	struct fx *f = *state;
	struct hv_pool *pool = &f->env->pool;
	assert_int_equal(hv_ept_protect(pool, f->parts[0].root, 0x3000, K4, HV_PERM_R), HV_OK);
	assert_int_equal(hv_ept_protect(pool, f->parts[0].root, M2, M2, 0), HV_OK);
	struct seen s;
	assert_int_equal(fx_verify(f, &s), 2);
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, 0, 0x3000));
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_MISSING, 0, M2));
	f->parts[0].protected_ = true;
	assert_int_equal(fx_verify(f, &s), 0);
}

static uint32_t calls;
static void count_calls(void *ctx, const struct hv_violation *v)
{
	(void)ctx;
	(void)v;
	calls++;
}

static void test_max_report_and_counting(void **state)
{
	struct fx *f = *state;
	c_write_no_read(f);
	c_memtype_3(f);
	c_missing_ram(f);
	c_grown_channel(f);
	calls = 0;
	uint32_t all = hv_ept_verify(&f->env->cfg, &f->env->pool, f->parts, count_calls, NULL, 100);
	assert_true(all >= 4);
	assert_int_equal(calls, all);
	calls = 0;
	assert_int_equal(hv_ept_verify(&f->env->cfg, &f->env->pool, f->parts, count_calls, NULL, 2),
	                 all);
	assert_int_equal(calls, 2);
	assert_int_equal(hv_ept_verify(&f->env->cfg, &f->env->pool, f->parts, NULL, NULL, 100),
	                 all);
}

static void test_bad_arguments_and_big_pool(void **state)
{
	struct fx *f = *state;
	assert_int_equal(hv_ept_verify(NULL, &f->env->pool, f->parts, NULL, NULL, 0), 1);
	assert_int_equal(hv_ept_verify(&f->env->cfg, NULL, f->parts, NULL, NULL, 0), 1);
	assert_int_equal(hv_ept_verify(&f->env->cfg, &f->env->pool, NULL, NULL, NULL, 0), 1);
	/* more pages in use than the bitmap tracks: refused, loudly */
	struct hv_pool big = f->env->pool;
	big.npages = HV_VERIFY_MAX_POOL_PAGES + 10;
	big.used = HV_VERIFY_MAX_POOL_PAGES + 1;
	struct seen s = {0};
	assert_int_equal(hv_ept_verify(&f->env->cfg, &big, f->parts, collect, &s, 10), 1);
	assert_true(has(&s, HV_INV_EPT_FORM, HV_VR_POOL_TOO_LARGE, 0, 0));
	/* partitions beyond the table limit are not read */
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	*cfg = f->env->cfg;
	cfg->npartitions = HV_MAX_PARTITIONS + 5;
	struct hv_verify_part *parts = calloc(HV_MAX_PARTITIONS, sizeof(*parts));
	for (uint32_t p = 0; p < HV_MAX_PARTITIONS; p++)
		parts[p].root = ROOT_TAG; /* no table, but the right format */
	parts[0] = f->parts[0];
	parts[1] = f->parts[1];
	uint32_t n = hv_ept_verify(cfg, &f->env->pool, parts, NULL, NULL, 0);
	assert_int_equal(n, HV_MAX_PARTITIONS - 2); /* each empty partition: root not in pool */
	free(parts);
	free(cfg);
}

static void test_names(void **state)
{
	for (int i = 0; i < HV_INV_COUNT; i++) {
		const char *a = hv_invariant_id((enum hv_invariant)i);
		assert_non_null(a);
		assert_string_not_equal(a, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, hv_invariant_id((enum hv_invariant)j));
	}
	assert_string_equal(hv_invariant_id(HV_INV_EPT_OWN), "EPT-OWN");
	assert_string_equal(hv_invariant_id(HV_INV_HCALL_BOUNDS), "HCALL-BOUNDS");
	assert_string_equal(hv_invariant_id(HV_INV_COUNT), "unknown");
	for (int i = 0; i < HV_VR_COUNT; i++) {
		const char *a = hv_verify_reason_str((enum hv_verify_reason)i);
		assert_string_not_equal(a, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, hv_verify_reason_str((enum hv_verify_reason)j));
	}
	assert_string_equal(hv_verify_reason_str(HV_VR_COUNT), "unknown");
}

/* ---- larger configs, built directly into a local pool ------------------------- */

struct big {
	struct hv_system_config cfg;
	uint8_t *mem;
	struct hv_pool pool;
	struct hv_verify_part parts[2];
};

/* Host memory of 4 TiB, hypervisor at [0, 64 MiB) with the pool at 32 MiB. */
static struct big *big_new(uint32_t pool_pages)
{
	struct big *b = calloc(1, sizeof(*b));
	b->cfg.vendor = NPT ? HV_VENDOR_AMD : HV_VENDOR_INTEL;
	b->cfg.host_mem_size = 4ull << 40;
	b->cfg.hv_base = 0;
	b->cfg.hv_size = 64ull << 20;
	b->mem = aligned_alloc(K4, (size_t)pool_pages * K4);
	memset(b->mem, 0, (size_t)pool_pages * K4);
	assert_int_equal(hv_pool_init(&b->pool, b->mem, 32ull << 20, pool_pages), HV_OK);
	return b;
}

/* Build in the format the config's vendor asks for, as hv_system_init. */
static hv_status build(struct hv_pool *pool, const struct hv_system_config *cfg, uint32_t p,
                       uint64_t *root)
{
	return hv_s2_build(pool, cfg, p, hv_s2_vendor_format(cfg->vendor), root);
}

static void big_free(struct big *b)
{
	free(b->mem);
	free(b);
}

static struct hv_partition_config *big_part(struct big *b, const char *name)
{
	struct hv_partition_config *p = &b->cfg.partitions[b->cfg.npartitions++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->nvcpus = 1;
	return p;
}

static void add_region(struct hv_partition_config *p, uint64_t gpa, uint64_t hpa, uint64_t size,
                       uint8_t type, uint8_t perm, uint8_t mt)
{
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = gpa, .hpa = hpa, .size = size, .type = type, .perm = perm, .memtype = mt};
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void big_build_and_verify(struct big *b, const char *what)
{
	struct hv_config_diag diag;
	hv_status s = hv_config_validate(&b->cfg, &diag);
	if (s != HV_OK)
		fail_msg("%s: config rejected: %s", what, hv_config_error_str(diag.error));
	for (uint32_t p = 0; p < b->cfg.npartitions; p++)
		assert_int_equal(build(&b->pool, &b->cfg, p, &b->parts[p].root), HV_OK);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct seen sn;
	memset(&sn, 0, sizeof(sn));
	uint32_t n = hv_ept_verify(&b->cfg, &b->pool, b->parts, collect, &sn, MAX_SEEN);
	double ms = ms_since(&t0);
	print_message("  %s: %u tables, verified in %.2f ms\n", what, b->pool.used, ms);
	if (n)
		dump(&sn);
	assert_int_equal(n, 0);
	/* The time is printed, not gated: a wall-clock budget failed on a
	 * loaded machine. Verify speed is measured by make bench
	 * (hx-bench-ept), as instructions, not here. */
}

static void test_largest_partition(void **state)
{
	struct big *b = big_new(1100);
	struct hv_partition_config *p = big_part(b, "huge");
	add_region(p, 0, 1ull << 40, HV_MAX_REGION_SIZE, HV_REGION_RAM, HV_PERM_RWX, HV_MT_WB);
	add_region(p, 2ull << 40, (2ull << 40) + M2, HV_MAX_REGION_SIZE / 2, HV_REGION_RAM,
	           HV_PERM_RW, HV_MT_WB);
	big_build_and_verify(b, "1 TiB in 1G + 512 GiB in 2M leaves");
	big_free(b);
}

static void test_4g_partition_in_4k_pages(void **state)
{
	struct big *b = big_new(2100);
	struct hv_partition_config *p = big_part(b, "p4g");
	/* HPA off 2M alignment by 4K: only 4K leaves, 1M of them */
	add_region(p, 0, (1ull << 32) + K4, 4ull << 30, HV_REGION_RAM, HV_PERM_RWX, HV_MT_WB);
	big_build_and_verify(b, "4 GiB in 4K leaves");
	big_free(b);
}

static void sum_levels(void *ctx, const struct hv_ept_run *r)
{
	((uint64_t *)ctx)[r->level] += r->size;
}

/* Many regions with 4K holes and every leaf size, two partitions and a
 * channel: the dense layout. */
static void test_dense_config(void **state)
{
	struct big *b = big_new(4096);
	struct hv_partition_config *p0 = big_part(b, "a");
	struct hv_partition_config *p1 = big_part(b, "b");
	uint64_t gpa = 0, hpa = 1ull << 30;
	static const uint64_t sizes[] = {K4, 3 * K4, M2, M2 + K4, G1, 5 * M2, G1 + M2 + K4};
	static const uint8_t perms[] = {HV_PERM_R, HV_PERM_RW, HV_PERM_RX, HV_PERM_RWX, HV_PERM_R};
	static const uint8_t mts[] = {HV_MT_WB, HV_MT_WT, HV_MT_WC, HV_MT_WP, HV_MT_UC};
	for (int i = 0; i < 20; i++) {
		uint64_t size = sizes[i % HV_ARRAY_LEN(sizes)];
		struct hv_partition_config *p = i % 2 ? p1 : p0;
		add_region(p, gpa, hpa, size, HV_REGION_RAM, perms[i % 5], mts[i % 5]);
		gpa += size + K4 * (i % 3); /* 4K holes now and then */
		hpa += size + M2;
		if (i % 4 == 0) {
			gpa = (gpa + M2 - 1) & ~(M2 - 1);
			hpa = (hpa + G1 - 1) & ~(G1 - 1);
		}
	}
	add_region(p1, 64 * G1, 64 * G1, 2 * G1 + K4, HV_REGION_RAM, HV_PERM_RWX, HV_MT_WB);
	/* high GPA, low HPA: config order by GPA differs from order by HPA */
	add_region(p0, 1ull << 47, 32 * G1, 4 * M2, HV_REGION_RAM, HV_PERM_RW, HV_MT_WB);
	add_region(p0, 0xfe000000ull << 4, 0x3000000000ull, K4, HV_REGION_MMIO, HV_PERM_RW,
	           HV_MT_UC);
	b->cfg.nchannels = 1;
	snprintf(b->cfg.channels[0].name, HV_NAME_LEN, "link");
	b->cfg.channels[0].hpa = 0x3000100000ull;
	b->cfg.channels[0].size = 3 * K4;
	p0->channels[p0->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_RW, .gpa = 1ull << 44};
	p1->channels[p1->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_R, .gpa = 1ull << 45};
	big_build_and_verify(b, "dense, two partitions");
	/* every leaf size is there */
	uint64_t bytes[3] = {0, 0, 0};
	for (uint32_t p = 0; p < 2; p++)
		assert_int_equal(hv_ept_walk(&b->pool, b->parts[p].root, sum_levels, bytes), HV_OK);
	assert_true(bytes[HV_PG_4K] > 0 && bytes[HV_PG_2M] > 0 && bytes[HV_PG_1G] > 0);
	big_free(b);
}

/* A membership naming a channel that does not exist grants nothing: the
 * window mapped for it is then unexpected. */
static void test_unknown_membership_grants_nothing(void **state)
{
	struct fx *f = *state;
	f->env->cfg.partitions[0].channels[0].channel = 7;
	struct seen s;
	fx_verify(f, &s);
	assert_true(has(&s, HV_INV_EPT_EXACT, HV_VR_UNEXPECTED, 0, MOCK_CHAN_GPA));
	assert_true(has(&s, HV_INV_EPT_OWN, HV_VR_FOREIGN, 0, MOCK_CHAN_GPA));
}

/* Hypervisor memory in the middle of host memory: a leaf below it on
 * nobody's memory runs into it and into the pool, each part named. */
static void test_foreign_then_hypervisor_then_pool(void **state)
{
	struct big *b = big_new(16);
	b->cfg.hv_base = 4 * G1;
	b->pool.hpa = 4 * G1 + M2; /* pool pages are the hypervisor's upper part */
	struct hv_partition_config *p = big_part(b, "p");
	add_region(p, 0, 8 * G1, G1, HV_REGION_RAM, HV_PERM_RW, HV_MT_WB);
	assert_int_equal(build(&b->pool, &b->cfg, 0, &b->parts[0].root), HV_OK);
	/* two extra 1G leaves: one over the hypervisor range (which holds the
	 * pool), one just below it on memory nobody owns */
	uint64_t *pml4 = hv_pool_ptr(&b->pool, b->parts[0].root & ~1ull);
	uint64_t *pdpt = hv_pool_ptr(&b->pool, pml4[0] & HV_EPTE_ADDR_MASK);
	pdpt[1] = make_leaf(4 * G1, HV_PERM_RW, HV_MT_WB, true); /* gpa 1G -> hv */
	pdpt[2] = make_leaf(3 * G1, HV_PERM_RW, HV_MT_WB, true); /* gpa 2G -> nobody */
	struct seen sn = {0};
	hv_ept_verify(&b->cfg, &b->pool, b->parts, collect, &sn, MAX_SEEN);
	assert_true(has(&sn, HV_INV_EPT_OWN, HV_VR_HV_MEMORY, 0, G1));
	assert_true(has(&sn, HV_INV_EPT_OWN, HV_VR_TABLE_PAGE, 0, G1 + M2));
	assert_true(has(&sn, HV_INV_EPT_OWN, HV_VR_HV_MEMORY, 0, G1 + M2 + 16 * K4));
	assert_true(has(&sn, HV_INV_EPT_OWN, HV_VR_FOREIGN, 0, G1 + (64ull << 20)));
	assert_true(has(&sn, HV_INV_EPT_OWN, HV_VR_FOREIGN, 0, 2 * G1));
	assert_true(has(&sn, HV_INV_EPT_EXACT, HV_VR_UNEXPECTED, 0, 2 * G1));
	assert_int_equal(sn.n, 7);
	big_free(b);
}

/* An EPT with more table pages than hv_ept_verify's stack bitmap tracks:
 * refused (loudly) by hv_ept_verify, verified clean by hv_ept_verify_ex with
 * a bitmap sized for the pool, refused again with one word too few. */
static void test_verify_beyond_stack_bitmap(void **state)
{
	(void)state;
	uint32_t pages = HV_VERIFY_MAX_POOL_PAGES + 1200;
	struct big *b = big_new(pages);
	struct hv_partition_config *p = big_part(b, "wide");
	/* HPA off 2M alignment: 4K leaves only, one PT page per 2 MiB */
	uint64_t size = (uint64_t)(HV_VERIFY_MAX_POOL_PAGES + 512) * M2;
	add_region(p, 0, (1ull << 40) + K4, size, HV_REGION_RAM, HV_PERM_RW, HV_MT_WB);
	assert_int_equal(hv_config_validate(&b->cfg, NULL), HV_OK);
	assert_int_equal(build(&b->pool, &b->cfg, 0, &b->parts[0].root), HV_OK);
	assert_true(b->pool.used > HV_VERIFY_MAX_POOL_PAGES);
	struct seen sn = {0};
	assert_int_equal(hv_ept_verify(&b->cfg, &b->pool, b->parts, collect, &sn, 4), 1);
	assert_true(has(&sn, HV_INV_EPT_FORM, HV_VR_POOL_TOO_LARGE, 0, 0));
	uint64_t words = HV_VERIFY_SEEN_WORDS(b->pool.npages);
	uint64_t *seen = calloc(words, sizeof(*seen));
	assert_non_null(seen);
	memset(&sn, 0, sizeof(sn));
	uint32_t n = hv_ept_verify_ex(&b->cfg, &b->pool, b->parts, collect, &sn, MAX_SEEN, seen,
	                              (uint32_t)words);
	if (n)
		dump(&sn);
	assert_int_equal(n, 0);
	uint32_t need = (uint32_t)HV_VERIFY_SEEN_WORDS(b->pool.used);
	assert_int_equal(hv_ept_verify_ex(&b->cfg, &b->pool, b->parts, NULL, NULL, 0, seen, need),
	                 0);
	assert_int_equal(
	        hv_ept_verify_ex(&b->cfg, &b->pool, b->parts, NULL, NULL, 0, seen, need - 1), 1);
	assert_int_equal(hv_ept_verify_ex(&b->cfg, &b->pool, b->parts, NULL, NULL, 0, NULL, 0), 1);
	/* The bitmap really detects sharing there: point the last PD entry
	 * at the first PT, which is then reachable twice. */
	uint64_t *pml4 = hv_pool_ptr(&b->pool, b->parts[0].root & ~1ull);
	uint64_t *pdpt = hv_pool_ptr(&b->pool, pml4[0] & HV_EPTE_ADDR_MASK);
	uint64_t *pd = hv_pool_ptr(&b->pool, pdpt[0] & HV_EPTE_ADDR_MASK);
	assert_non_null(pd);
	uint64_t *pd_last = hv_pool_ptr(&b->pool, pdpt[1] & HV_EPTE_ADDR_MASK);
	assert_non_null(pd_last);
	pd_last[0] = pd[0];
	memset(&sn, 0, sizeof(sn));
	n = hv_ept_verify_ex(&b->cfg, &b->pool, b->parts, collect, &sn, MAX_SEEN, seen,
	                     (uint32_t)words);
	assert_true(n > 0);
	assert_true(has(&sn, HV_INV_EPT_FORM, HV_VR_TABLE_SHARED, 0, G1));
	free(seen);
	big_free(b);
}

/* ---- the pool inside a partition ------------------------------------------- */

#define POOL_TEST_PAGES 16u

/* hv_system_init refuses a pool that is not wholly inside the hypervisor
 * range, naming the pool's address; the mock's own placement works. */
static void test_pool_outside_hypervisor(void **state)
{
	(void)state;
	static const struct {
		uint64_t hpa;
		bool ok;
	} rows[] = {
	        {MOCK_POOL_HPA, true},       {MOCK_HV_SIZE - POOL_TEST_PAGES * K4, true},
	        {MOCK_HV_SIZE - K4, false},  /* straddles the end of the range */
	        {MOCK_P0_RAM_HPA, false},    /* the partition's RAM */
	        {12ull << 20, false},        /* its middle */
	        {MOCK_MMIO_HPA, false},      /* passthrough MMIO */
	        {MOCK_HOST_MEM - K4, false}, /* unowned memory, straddling the end */
	        {MOCK_HOST_MEM + G1, false}, /* beyond host memory */
	};
	uint8_t *mem = aligned_alloc(K4, POOL_TEST_PAGES * K4);
	assert_non_null(mem);
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		struct mock_env *env = calloc(1, sizeof(*env));
		assert_non_null(env);
		mock_config_one(&env->cfg);
		struct hv_pool pool;
		assert_int_equal(hv_pool_init(&pool, mem, rows[i].hpa, POOL_TEST_PAGES), HV_OK);
		struct hv_config_diag diag;
		memset(&diag, 0x5a, sizeof(diag));
		hv_status s = hv_system_init(&env->sys, &env->cfg, &mock_platform_ops, &env->plat,
		                             &pool, &diag);
		if (rows[i].ok) {
			assert_int_equal(s, HV_OK);
		} else {
			assert_int_equal(s, HV_ERR_RANGE);
			assert_int_equal(diag.error, HV_CFG_POOL_PLACEMENT);
			assert_int_equal(diag.addr, rows[i].hpa);
			assert_int_equal(pool.used, 0);
		}
		free(env);
	}
	free(mem);
}

/* With the pool placed inside the partition's RAM (as a caller that
 * ignores the contract would), every leaf that maps a table page is
 * reported as EPT-OWN "table page", wherever the pool sits in the RAM run:
 * at its start, in its middle, at its end. */
static void test_verify_pool_inside_ram(void **state)
{
	(void)state;
	static const uint64_t offsets[] = {0, K4, 4ull << 20, MOCK_RAM_SIZE - POOL_TEST_PAGES * K4};
	uint8_t *mem = aligned_alloc(K4, POOL_TEST_PAGES * K4);
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(mem);
	assert_non_null(cfg);
	for (size_t i = 0; i < HV_ARRAY_LEN(offsets); i++) {
		mock_config_one(cfg);
		uint64_t pool_hpa = MOCK_P0_RAM_HPA + offsets[i];
		struct hv_pool pool;
		assert_int_equal(hv_pool_init(&pool, mem, pool_hpa, POOL_TEST_PAGES), HV_OK);
		cfg->vendor = NPT ? HV_VENDOR_AMD : HV_VENDOR_INTEL;
		struct hv_verify_part part = {0, false};
		assert_int_equal(build(&pool, cfg, 0, &part.root), HV_OK);
		struct seen sn;
		memset(&sn, 0, sizeof(sn));
		uint32_t n = hv_ept_verify(cfg, &pool, &part, collect, &sn, MAX_SEEN);
		/* RAM is mapped at GPA 0, so the pool base is at GPA offsets[i]. */
		if (n == 0 || !has(&sn, HV_INV_EPT_OWN, HV_VR_TABLE_PAGE, 0, offsets[i])) {
			dump(&sn);
			fail_msg("pool at hpa %#llx (ram offset %#llx): table pages not reported",
			         (unsigned long long)pool_hpa, (unsigned long long)offsets[i]);
		}
		/* The RAM after the pool is the partition's own again. */
		for (uint32_t k = 0; k < sn.n && k < MAX_SEEN; k++)
			if (sn.v[k].reason == HV_VR_TABLE_PAGE)
				assert_true(sn.v[k].hpa >= pool_hpa &&
				            sn.v[k].hpa < pool_hpa + POOL_TEST_PAGES * K4);
	}
	free(cfg);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_clean_mock_system, fx_setup, fx_teardown),
	        cmocka_unit_test(test_every_corruption_is_named),
	        cmocka_unit_test_setup_teardown(test_violation_details, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_protected_partition_may_shrink, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_after_hv_ept_protect, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_max_report_and_counting, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_bad_arguments_and_big_pool, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_largest_partition),
	        cmocka_unit_test(test_4g_partition_in_4k_pages),
	        cmocka_unit_test(test_dense_config),
	        cmocka_unit_test_setup_teardown(test_unknown_membership_grants_nothing, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test(test_foreign_then_hypervisor_then_pool),
	        cmocka_unit_test(test_verify_beyond_stack_bitmap),
	        cmocka_unit_test(test_pool_outside_hypervisor),
	        cmocka_unit_test(test_verify_pool_inside_ram),
	};
	int failed = cmocka_run_group_tests_name("verify-ept", tests, group_ept, NULL);
	failed += cmocka_run_group_tests_name("verify-npt", tests, group_npt, NULL);
	return failed;
}
