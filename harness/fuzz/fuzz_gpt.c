/* Guest page-table walker (hv_gpt_translate, hv_gpt_fetch) against an
 * independent reference walker written from the Intel SDM Vol. 3A, 4.5
 * (4-level paging) and 4.6 (access rights), with the documented choices of
 * handlers/src/gpt.c: MAXPHYADDR 48 (entry bits 51:48 and CR3 bits 63:48
 * reserved, bits 62:52 ignored), CR0.PG clear = linear is physical,
 * anything but IA-32e 4-level paging unsupported, 1 GiB pages allowed,
 * protection keys not modelled, accessed/dirty bits never written.
 *
 * The reference reads guest memory straight from the mock host memory,
 * through its own table of the partition's regions (not through the EPT),
 * so EPT translation bugs show up as differences too.
 *
 * Each input writes eight page-table pages in a small window of partition
 * RAM (whole pages filled with one drawn entry, then single entries at
 * indices the addresses also favour), so walks keep landing on entries that
 * point at each other, at themselves, at read-only / execute-only / MMIO /
 * unmapped / device pages and past MAXPHYADDR. Then it translates several
 * addresses with R, W and X at CPL 0..3 and fetches instruction bytes
 * across a page boundary.
 *
 * Invariants: GPT-EQ (fault and guest-physical address equal the reference;
 * fetch returns the same bytes, count and fault), CONTAIN (the walk writes
 * nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "hv/ept.h"
#include "hv/gpt.h"
#include "mock_config.h"

/* Partition layout (guest-physical -> host-physical). */
#define RAM0_GPA 0x0ull /* 2 MiB RWX: tables and code live here */
#define RAM0_HPA (8ull << 20)
#define RAM0_SIZE (2ull << 20)
#define RO_GPA 0x200000ull /* 4 KiB R */
#define XO_GPA 0x201000ull /* 4 KiB X only */
#define RW_GPA 0x202000ull /* 4 KiB RW, not executable */
#define SMALL_HPA (12ull << 20)
#define HOLE_GPA 0x203000ull /* unmapped */
#define MMIO_GPA 0x204000ull /* passthrough MMIO, RW UC */
#define MMIO_HPA (48ull << 20)
#define DEV_GPA 0x205000ull    /* emulated console: never mapped */
#define HIGH_GPA 0x40000000ull /* 2 MiB RWX at 1 GiB */
#define HIGH_HPA (16ull << 20)
#define HIGH_SIZE (2ull << 20)

#define TABLE_GPA 0x10000ull /* eight table pages */
#define NTABLES 8u
#define CODE_GPA 0x20000ull /* two code pages */

#define PG_SIZE 4096ull

struct ref_region {
	uint64_t gpa, size, hpa;
	uint8_t perm;
};

static const struct ref_region ref_regions[] = {
        {RAM0_GPA, RAM0_SIZE, RAM0_HPA, HV_PERM_RWX},
        {RO_GPA, PG_SIZE, SMALL_HPA, HV_PERM_R},
        {XO_GPA, PG_SIZE, SMALL_HPA + PG_SIZE, HV_PERM_X}, /* configured RX, see setup */
        {RW_GPA, PG_SIZE, SMALL_HPA + 2 * PG_SIZE, HV_PERM_RW},
        {MMIO_GPA, PG_SIZE, MMIO_HPA, HV_PERM_RW},
        {HIGH_GPA, HIGH_SIZE, HIGH_HPA, HV_PERM_RWX},
};

static struct mock_env *env;

static void add_region(struct hv_partition_config *p, const struct ref_region *r, uint8_t type)
{
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = r->gpa,
	        .hpa = r->hpa,
	        .size = r->size,
	        .type = type,
	        .perm = r->perm == HV_PERM_X ? HV_PERM_RX : r->perm,
	        .memtype = type == HV_REGION_MMIO ? HV_MT_UC : HV_MT_WB,
	};
}

static void setup(void)
{
	env = calloc(1, sizeof(*env));
	if (!env)
		abort();
	struct hv_system_config *cfg = &env->cfg;
	cfg->host_mem_size = MOCK_HOST_MEM;
	cfg->hv_base = 0;
	cfg->hv_size = MOCK_HV_SIZE;
	cfg->npartitions = 1;
	struct hv_partition_config *p = &cfg->partitions[0];
	strcpy(p->name, "walker");
	p->nvcpus = 1;
	for (size_t i = 0; i < HV_ARRAY_LEN(ref_regions); i++)
		add_region(p, &ref_regions[i],
		           ref_regions[i].gpa == MMIO_GPA ? HV_REGION_MMIO : HV_REGION_RAM);
	p->devices[p->ndevices++] =
	        (struct hv_device_config){.gpa = DEV_GPA, .size = PG_SIZE, .type = HV_DEV_CONSOLE};
	hv_status s = mock_env_start(env);
	/* Configs cannot ask for execute-only pages (neither AMD NPT nor every
	 * Intel EPT can map them); memory-protect can still make one at run
	 * time, which is how the walker meets it. */
	if (s == HV_OK) {
		s = hv_ept_protect(&env->pool, env->sys.parts[0].ept_root, XO_GPA, PG_SIZE,
		                   HV_PERM_X);
		env->sys.parts[0].protected_ = 1;
	}
	if (s != HV_OK) {
		fprintf(stderr, "fuzz_gpt: mock system: %s\n", hv_status_str(s));
		abort();
	}
}

/* ---- the reference walker (SDM Vol. 3A, 4.5 and 4.6) ---- */

/* Guest-physical page gpa as the EPT of the config maps it: host address
 * and permissions, or false when unmapped. */
static bool ref_ept(uint64_t gpa, uint64_t *hpa, uint8_t *perm)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(ref_regions); i++) {
		const struct ref_region *r = &ref_regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*hpa = r->hpa + (gpa - r->gpa);
			*perm = r->perm;
			return true;
		}
	}
	return false;
}

/* Read len bytes at gpa (inside one page) with the permissions `need`. */
static bool ref_read(uint64_t gpa, void *dst, uint32_t len, uint8_t need)
{
	uint64_t hpa;
	uint8_t perm;
	if (!ref_ept(gpa, &hpa, &perm) || (perm & need) != need)
		return false;
	memcpy(dst, env->plat.mem + hpa, len);
	return true;
}

#define BIT(n) (1ull << (n))
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~(BIT(lo) - 1))

static enum hv_gpt_fault ref_walk(const struct hv_vcpu_state *st, uint64_t la, uint8_t access,
                                  uint64_t *gpa)
{
	/* 4.1.1: paging disabled, linear addresses are physical. */
	if (!(st->cr0 & BIT(31))) {
		*gpa = la;
		return HV_GPT_OK;
	}
	/* Only IA-32e mode with 4-level paging: LMA, PAE, no LA57. */
	if (!(st->efer & BIT(10)) || !(st->cr4 & BIT(5)) || (st->cr4 & BIT(12)))
		return HV_GPT_UNSUPPORTED;
	/* Bits 63:47 are copies of bit 47 (a #GP on hardware, before paging). */
	uint64_t ext = (la & BIT(47)) ? BITS(63, 48) : 0;
	if ((la & BITS(63, 48)) != ext)
		return HV_GPT_NON_CANONICAL;
	if (st->cr3 & BITS(63, 48))
		return HV_GPT_RESERVED;
	bool nxe = (st->efer & BIT(11)) != 0;
	bool all_rw = true, all_us = true, any_xd = false;
	uint64_t table = st->cr3 & BITS(47, 12);
	/* Levels 4 (PML4E, bits 47:39), 3 (PDPTE), 2 (PDE), 1 (PTE). */
	for (int lvl = 4; lvl >= 1; lvl--) {
		unsigned lo = 12 + 9 * (unsigned)(lvl - 1);
		uint64_t idx = (la >> lo) & 0x1ff;
		uint64_t e;
		if (!ref_read(table + idx * 8, &e, sizeof(e), HV_PERM_R))
			return HV_GPT_TABLE_FAULT;
		if (!(e & BIT(0)))
			return HV_GPT_NOT_PRESENT; /* other bits ignored */
		bool ps = (e & BIT(7)) != 0;
		bool leaf = lvl == 1 || ((lvl == 3 || lvl == 2) && ps);
		uint64_t rsvd = BITS(51, 48);
		if (!nxe)
			rsvd |= BIT(63);
		if (lvl == 4)
			rsvd |= BIT(7); /* Table 4-15: PS of a PML4E is reserved */
		if (leaf && lvl == 3)
			rsvd |= BITS(29, 13); /* Table 4-16: 1 GiB frame below bit 30 */
		if (leaf && lvl == 2)
			rsvd |= BITS(20, 13); /* Table 4-18: 2 MiB frame below bit 21 */
		if (e & rsvd)
			return HV_GPT_RESERVED;
		all_rw = all_rw && (e & BIT(1));
		all_us = all_us && (e & BIT(2));
		any_xd = any_xd || (nxe && (e & BIT(63)));
		if (!leaf) {
			table = e & BITS(47, 12);
			continue;
		}
		/* 4.6.1: user-mode address = U/S set at every level. */
		bool user_mode = st->cpl == 3;
		bool smap_blocks = all_us && (st->cr4 & BIT(21)) && !(st->rflags & BIT(18));
		bool ok;
		if (access & HV_PERM_X) {
			if (user_mode)
				ok = all_us && !any_xd;
			else
				ok = !(all_us && (st->cr4 & BIT(20))) && !any_xd;
		} else if (access & HV_PERM_W) {
			if (user_mode)
				ok = all_us && all_rw;
			else
				ok = !smap_blocks && (all_rw || !(st->cr0 & BIT(16)));
		} else {
			ok = user_mode ? all_us : !smap_blocks;
		}
		if (!ok)
			return HV_GPT_PROTECTION;
		*gpa = (e & BITS(47, lo)) | (la & (BIT(lo) - 1));
		return HV_GPT_OK;
	}
	abort(); /* level 1 is always a leaf */
}

static uint32_t ref_fetch(const struct hv_vcpu_state *st, uint64_t rip, uint8_t *buf, uint32_t len,
                          enum hv_gpt_fault *fault)
{
	/* An instruction is at most 15 bytes (SDM Vol. 2A, 2.3.11). */
	if (len > 15)
		len = 15;
	uint32_t done = 0;
	*fault = HV_GPT_OK;
	while (done < len) {
		uint64_t la = rip + done, gpa;
		enum hv_gpt_fault f = ref_walk(st, la, HV_PERM_X, &gpa);
		if (f != HV_GPT_OK) {
			*fault = f;
			break;
		}
		uint32_t room = (uint32_t)(PG_SIZE - (la & (PG_SIZE - 1)));
		uint32_t n = len - done < room ? len - done : room;
		/* Fetching needs execute and read through the EPT. */
		if (!ref_read(gpa, buf + done, n, HV_PERM_R | HV_PERM_X)) {
			*fault = HV_GPT_EPT_FAULT;
			break;
		}
		done += n;
	}
	return done;
}

/* ---- input decoding ---- */

/* Page frames entries point at: mostly the tables themselves. */
static uint64_t draw_frame(struct fz *f)
{
	static const uint64_t others[] = {
	        CODE_GPA,
	        CODE_GPA + PG_SIZE,
	        RAM0_GPA,
	        RO_GPA,
	        XO_GPA,
	        RW_GPA,
	        HOLE_GPA,
	        MMIO_GPA,
	        DEV_GPA,
	        HIGH_GPA,
	        HIGH_GPA + PG_SIZE,
	        0x100000ull,
	        BITS(47, 12), /* top of the 48-bit space */
	        0x80000000ull,
	        0x400000ull, /* more 1 GiB / 2 MiB aligned frames */
	};
	uint8_t k = fz_u8(f);
	if (k < 160)
		return TABLE_GPA + (k % NTABLES) * PG_SIZE;
	if (k < 240)
		return others[k % HV_ARRAY_LEN(others)];
	if (k < 248)
		return fz_u64(f) & BITS(47, 12);
	return fz_u64(f) & BITS(62, 12); /* reserved 51:48 or ignored 62:52 */
}

static uint64_t draw_entry(struct fz *f)
{
	uint64_t e = draw_frame(f);
	uint8_t flags = fz_u8(f);
	uint8_t extra = fz_u8(f);
	if (extra & 0x4) {
		e |= BIT(7);
		/* A large page is mostly aligned as its level needs (2 MiB or
		 * 1 GiB); otherwise its low frame bits are reserved-bit faults. */
		if (extra & 0x40)
			e &= (extra & 0x80) ? ~(BIT(30) - 1) : ~(BIT(21) - 1);
	}
	/* P most of the time, R/W, U/S, PWT, PCD, A, D as drawn. */
	e |= flags & 0x7e;
	if (extra & 0x3)
		e |= BIT(0);
	if (extra & 0x8)
		e |= BIT(63); /* XD */
	if ((extra & 0x30) == 0x30) {
		/* PAT, a large-page reserved bit or the edges of those ranges */
		static const uint8_t edges[] = {12, 13, 20, 21, 29, 30};
		uint8_t k = fz_u8(f);
		e |= BIT(k < 128 ? edges[k % sizeof(edges)] : 12 + k % 18);
	}
	if ((extra & 0x30) == 0x20)
		e |= BIT(8 + fz_below(f, 4)); /* G and ignored bits */
	return e;
}

/* Indices that entries and addresses both favour. */
static uint64_t draw_index(struct fz *f)
{
	static const uint64_t hot[] = {0, 1, 2, 3, 255, 256, 510, 511};
	uint8_t k = fz_u8(f);
	return k < 200 ? hot[k % HV_ARRAY_LEN(hot)] : fz_u16(f) & 0x1ff;
}

static void write_tables(struct fz *f)
{
	static uint64_t page[512];
	for (uint32_t t = 0; t < NTABLES; t++) {
		uint64_t fill = fz_u8(f) & 1 ? draw_entry(f) : 0;
		for (int i = 0; i < 512; i++)
			page[i] = fill;
		mock_poke(env, RAM0_HPA + TABLE_GPA + t * PG_SIZE, page, sizeof(page));
	}
	uint32_t n = fz_below(f, 24);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = fz_below(f, NTABLES);
		uint64_t idx = draw_index(f);
		uint64_t e = draw_entry(f);
		mock_poke(env, RAM0_HPA + TABLE_GPA + t * PG_SIZE + idx * 8, &e, sizeof(e));
	}
}

static void draw_state(struct fz *f, struct hv_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	uint8_t a = fz_u8(f), b = fz_u8(f), c = fz_u8(f);
	st->cr0 = BIT(0) | (a & 0x7 ? BIT(31) : 0) | (a & 0x8 ? BIT(16) : 0);
	st->cr4 = (a & 0x30 ? BIT(5) : 0) | (b & 0x1 ? BIT(20) : 0) | (b & 0x2 ? BIT(21) : 0) |
	          ((b & 0x1c) == 0x1c ? BIT(12) : 0);
	st->efer = BIT(8) | ((a & 0xc0) != 0xc0 ? BIT(10) : 0) | (b & 0x20 ? BIT(11) : 0);
	st->rflags = 0x2 | (b & 0x40 ? BIT(18) : 0);
	st->cpl = (b & 0x80) ? 3 : (c & 0x3) == 0x3 ? (uint8_t)(1 + (c >> 7)) : 0;
	uint8_t r = fz_u8(f);
	st->cr3 = r < 240 ? TABLE_GPA + (r % NTABLES) * PG_SIZE : draw_frame(f);
	st->cr3 |= c & 0x18;    /* PWT / PCD */
	if ((c & 0x60) == 0x60) /* rarely a reserved high bit */
		st->cr3 |= BIT(48 + fz_below(f, 16));
}

static uint64_t draw_address(struct fz *f)
{
	uint8_t k = fz_u8(f);
	uint64_t la = 0;
	if (k < 224) {
		for (int lvl = 4; lvl >= 1; lvl--)
			la |= draw_index(f) << (12 + 9 * (lvl - 1));
		la |= fz_u16(f) & 0xfff;
		if (la & BIT(47))
			la |= BITS(63, 48);
		if (k >= 216)
			la ^= BIT(48 + fz_below(f, 16)); /* non-canonical */
	} else {
		la = fz_u64(f);
	}
	return la;
}

static const char *fault_name(enum hv_gpt_fault x)
{
	return hv_gpt_fault_str(x);
}

static void check_translate(const struct hv_vcpu_state *st, uint64_t la, uint8_t access)
{
	uint64_t got = 0x5a5a5a5a5a5a5a5aull, want = 0;
	enum hv_gpt_fault gf = hv_gpt_translate(&env->sys, 0, st, la, access, &got);
	enum hv_gpt_fault wf = ref_walk(st, la, access, &want);
	if (wf != HV_GPT_OK)
		want = 0;
	FZ_CHECK(gf == wf && got == want, "GPT-EQ",
	         "la %#llx access %u cpl %u cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx rflags %#llx: "
	         "walker %s gpa %#llx, reference %s gpa %#llx",
	         (unsigned long long)la, access, st->cpl, (unsigned long long)st->cr0,
	         (unsigned long long)st->cr3, (unsigned long long)st->cr4,
	         (unsigned long long)st->efer, (unsigned long long)st->rflags, fault_name(gf),
	         (unsigned long long)got, fault_name(wf), (unsigned long long)want);
}

static void check_fetch(const struct hv_vcpu_state *st, uint64_t rip, uint32_t len)
{
	uint8_t got[32], want[32];
	memset(got, 0xcc, sizeof(got));
	memset(want, 0xcc, sizeof(want));
	enum hv_gpt_fault gf = HV_GPT_FAULT_COUNT, wf;
	uint32_t gn = hv_gpt_fetch(&env->sys, 0, st, rip, got, len, &gf);
	uint32_t wn = ref_fetch(st, rip, want, len, &wf);
	FZ_CHECK(gn == wn && gf == wf, "GPT-EQ",
	         "fetch %u bytes at %#llx cpl %u cr0 %#llx cr3 %#llx: walker %u bytes (%s), "
	         "reference %u bytes (%s)",
	         len, (unsigned long long)rip, st->cpl, (unsigned long long)st->cr0,
	         (unsigned long long)st->cr3, gn, fault_name(gf), wn, fault_name(wf));
	FZ_CHECK(memcmp(got, want, sizeof(got)) == 0, "GPT-EQ",
	         "fetch %u bytes at %#llx: bytes differ from the reference", len,
	         (unsigned long long)rip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!env)
		setup();
	struct fz f;
	fz_init(&f, data, size);
	struct hv_vcpu_state st, fetch_st;
	draw_state(&f, &st);
	fetch_st = st;
	/* Fetch: usually close to a page end so it crosses into the next; the
	 * length counts down so a short input still fetches 15 bytes (and
	 * sometimes asks for more, which must be clamped to 15). */
	uint64_t rip = draw_address(&f);
	if (fz_u8(&f) < 200)
		rip = (rip & ~(PG_SIZE - 1)) | (PG_SIZE - 1 - fz_below(&f, 16));
	uint32_t fetch_len = 19 - fz_below(&f, 20);
	write_tables(&f);
	uint8_t code[2 * PG_SIZE];
	memset(code, 0x90, sizeof(code));
	fz_bytes(&f, code + PG_SIZE - 16, 32);
	mock_poke(env, RAM0_HPA + CODE_GPA, code, sizeof(code));

	uint32_t writes = env->plat.calls[MOCK_OP_PHYS_WRITE];
	uint32_t nq = 1 + fz_below(&f, 8);
	for (uint32_t q = 0; q < nq; q++) {
		static const uint8_t access[] = {HV_PERM_R, HV_PERM_W, HV_PERM_X};
		uint8_t acc = access[fz_below(&f, 3)];
		check_translate(&st, draw_address(&f), acc);
		if (fz_u8(&f) < 32)
			draw_state(&f, &st);
	}
	check_fetch(&fetch_st, rip, fetch_len);
	FZ_CHECK(env->plat.calls[MOCK_OP_PHYS_WRITE] == writes, "CONTAIN",
	         "the page walk wrote guest memory (%u writes)",
	         env->plat.calls[MOCK_OP_PHYS_WRITE] - writes);
	return 0;
}
