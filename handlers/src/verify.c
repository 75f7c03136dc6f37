/* The second-stage isolation invariants (DESIGN.md): EPT-OWN, EPT-FORM,
 * EPT-EXACT, over Intel EPT and AMD nested page tables alike (the ids keep
 * the EPT name for both).
 *
 * Written independently of the builder (ept.c) and of hv/s2_entry.h: it
 * decodes entries itself, so a builder or encoder bug is not mirrored
 * here. EPT straight from Intel SDM Vol. 3C, 29.3.2 (entry formats, Tables
 * 29-1 .. 29-6), 29.3.3.1 (misconfigurations) and 29.3.7 (memory types);
 * NPT from AMD APM Vol. 2, 5.3 (long-mode entry formats, Figures 5-18 ..
 * 5-25), 5.6 (how R/W, U/S and NX combine across levels), 7.8 (PAT) and
 * 15.25.5 (every nested access is a user access). One decoder per format
 * turns an entry into the same few facts; everything after that is shared.
 *
 * How it stays cheap and bounded:
 *  - One walk per partition. Every table is entered at most once: a table
 *    page seen before (in this partition or another) is reported as shared
 *    and not followed, so the work is at most 512 entries per pool page in
 *    use. "Seen" is a bitmap of one bit per pool page in use, from the
 *    caller (hv_ept_verify_ex) or on the stack (hv_ept_verify, up to
 *    HV_VERIFY_MAX_POOL_PAGES); a pool in use beyond it is refused with one
 *    violation.
 *  - Entry form is checked per entry; ownership and exactness are checked
 *    per run: leaves contiguous in GPA and HPA with equal effective
 *    permissions and memory type are merged first, so a 1 GiB leaf or a
 *    long stretch of 4 KiB leaves costs one comparison against the config.
 *  - The config side is sorted once (by GPA for exactness, by HPA for
 *    ownership); runs arrive in GPA order, so exactness is a single sweep
 *    and ownership a binary search per run. */
#include "hv/verify.h"

#include "hv/ept.h"

#include "ept_levels.h"

#define VF_ENTRIES 512u
#define VF_TOP_LEVEL 3u
#define VF_MAX_EXPECT (HV_MAX_REGIONS + HV_MAX_CHANNELS)
/* Address bits at or above the supported physical-address width are
 * reserved (SDM 29.3.2: bits 51:N, N = MAXPHYADDR; here N = 46). */
#define VF_RSVD_HIGH (HV_EPTE_ADDR_MASK & ~(HV_HPA_LIMIT - 1))
/* Non-leaf entries: bits 7:3 of a PML4E and 6:3 of a PDPTE/PDE pointing to
 * a table are reserved (Tables 29-1, 29-3, 29-5); bit 7 of those two is the
 * page-size bit, clear by definition of a table pointer. */
#define VF_RSVD_PML4E 0xf8ull
#define VF_RSVD_TABLE 0x78ull

/* NPT, long mode (APM Vol. 2, Figures 5-18 .. 5-25). */
#define VF_NPT_P (1ull << 0)
#define VF_NPT_RW (1ull << 1)
#define VF_NPT_US (1ull << 2)
#define VF_NPT_PWT (1ull << 3)
#define VF_NPT_PCD (1ull << 4)
#define VF_NPT_PS (1ull << 7)
#define VF_NPT_NX (1ull << 63)
/* A PML4E's bits 8:7 must be zero (Figure 5-18); a PDPE or PDE pointing
 * to a table has PS (bit 7) clear by definition. */
#define VF_NPT_RSVD_PML4E 0x180ull
/* The PAT bit of a large leaf is bit 12, of a PTE bit 7 (Figures 5-22,
 * 5-24, 5-25). */
#define VF_NPT_PAT_LARGE (1ull << 12)
#define VF_NPT_PAT_4K (1ull << 7)

/* The host PAT the core's firmware loads before the first VMRUN (one of
 * each memory type, hv/s2_entry.h documents the contract): its value is
 * part of the contract, and the verifier decodes memory types through it
 * itself, entry by entry as the processor does (APM 7.8.2, Table 7-10: the
 * PAT index of a nested leaf is PAT:PCD:PWT). */
#define VF_NPT_HOST_PAT 0x0000000500010406ull /* PA0 WB, PA1 WT, PA2 WC, PA3 UC, PA4 WP */
_Static_assert(VF_NPT_HOST_PAT == HV_S2_NPT_HOST_PAT,
               "the host PAT is a contract: change it in both places on purpose");

/* What one entry says, in either format. */
struct vf_entry {
	uint64_t addr;   /* bits 51:12 as written (misaligned bits included) */
	uint8_t perm;    /* the rights this entry allows (hv_perm) */
	uint8_t mt;      /* leaves: the memory type */
	bool leaf;       /* maps a page */
	bool bad_mt;     /* leaves: a reserved memory type */
	bool w_no_r;     /* write without read */
	bool not_user;   /* NPT: U/S clear, every nested access faults */
	bool rsvd_high;  /* address bits at or above the physical width */
	bool rsvd;       /* other reserved bits of this kind of entry */
	bool misaligned; /* large leaf: address bits below its size set */
};

struct vf_expect {
	uint64_t gpa, hpa, size;
	uint8_t perm, memtype;
	bool ram;
};

struct vf_run {
	uint64_t gpa, hpa, size;
	uint64_t entry;      /* raw value of the first leaf */
	uint64_t entry_size; /* bytes that leaf maps */
	uint8_t perm, memtype;
	bool have;
};

struct vf {
	const struct hv_system_config *cfg;
	const struct hv_pool *pool;
	hv_violation_fn fn;
	void *ctx;
	uint32_t max_report;
	uint32_t found;
	uint64_t pool_end;
	uint64_t *seen; /* one bit per pool page in use */
	/* the partition being checked */
	uint32_t part;
	bool npt; /* its root's format (HV_S2_ROOT_NPT) */
	bool protected_;
	uint32_t nexp;
	struct vf_expect exp[VF_MAX_EXPECT]; /* sorted by GPA */
	uint8_t by_hpa[VF_MAX_EXPECT];       /* indices into exp, sorted by HPA */
	uint32_t cursor;                     /* first exp entry not yet behind the sweep */
	uint64_t swept_to;                   /* GPAs below were compared already */
	struct vf_run run;
};

static const char *const invariant_ids[] = {
        [HV_INV_EPT_OWN] = "EPT-OWN",
        [HV_INV_EPT_FORM] = "EPT-FORM",
        [HV_INV_EPT_EXACT] = "EPT-EXACT",
        [HV_INV_CONTAIN] = "CONTAIN",
        [HV_INV_RIP] = "RIP",
        [HV_INV_CPUID_MASK] = "CPUID-MASK",
        [HV_INV_MSR_GUARD] = "MSR-GUARD",
        [HV_INV_HCALL_BOUNDS] = "HCALL-BOUNDS",
        [HV_INV_TOTAL] = "TOTAL",
        [HV_INV_DET] = "DET",
        [HV_INV_BUILD_EQ] = "BUILD-EQ",
        [HV_INV_DECODE_EQ] = "DECODE-EQ",
        [HV_INV_IO_GUARD] = "IO-GUARD",
        [HV_INV_CR_GUARD] = "CR-GUARD",
};
_Static_assert(HV_ARRAY_LEN(invariant_ids) == HV_INV_COUNT, "every invariant has an id");

static const char *const reason_strs[] = {
        [HV_VR_HV_MEMORY] = "leaf maps hypervisor memory",
        [HV_VR_TABLE_PAGE] = "leaf maps an EPT table page",
        [HV_VR_FOREIGN] = "leaf maps memory the partition does not own",
        [HV_VR_OUTSIDE_HOST] = "leaf maps beyond host memory",
        [HV_VR_WRITE_NO_READ] = "write without read",
        [HV_VR_BAD_MEMTYPE] = "reserved memory type",
        [HV_VR_RESERVED_BITS] = "reserved bits set",
        [HV_VR_LARGE_MISALIGNED] = "large page not aligned to its size",
        [HV_VR_TABLE_OUTSIDE_POOL] = "table pointer outside the pool",
        [HV_VR_TABLE_SHARED] = "table page reachable twice",
        [HV_VR_UNEXPECTED] = "mapped but not configured",
        [HV_VR_MISSING] = "configured but not mapped",
        [HV_VR_WRONG_HPA] = "maps another host address than configured",
        [HV_VR_PERM_GROWN] = "permissions beyond the configured ones",
        [HV_VR_PERM_CHANGED] = "permissions differ from the config without memory-protect",
        [HV_VR_WRONG_MEMTYPE] = "memory type differs from the config",
        [HV_VR_POOL_TOO_LARGE] = "pool too large for the verifier's table bitmap",
        [HV_VR_NOT_USER] = "nested entry without U/S (nested accesses are user accesses)",
        [HV_VR_WRONG_FORMAT] = "table format is not the configured vendor's",
};
_Static_assert(HV_ARRAY_LEN(reason_strs) == HV_VR_COUNT, "every reason has a text");

const char *hv_invariant_id(enum hv_invariant inv)
{
	if ((unsigned)inv >= HV_INV_COUNT)
		return "unknown";
	return invariant_ids[inv];
}

const char *hv_verify_reason_str(enum hv_verify_reason r)
{
	if ((unsigned)r >= HV_VR_COUNT)
		return "unknown";
	return reason_strs[r];
}

static inline uint64_t vf_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t vf_slot(unsigned level)
{
	return 1ull << (HV_PAGE_SHIFT + 9u * level);
}

static void vf_report(struct vf *v, enum hv_invariant inv, enum hv_verify_reason reason,
                      uint64_t gpa, uint64_t hpa, uint64_t entry)
{
	if (v->found < UINT32_MAX)
		v->found++;
	if (!v->fn || v->found > v->max_report)
		return;
	struct hv_violation viol = {
	        .inv = inv,
	        .reason = reason,
	        .partition = v->part,
	        .gpa = gpa,
	        .hpa = hpa,
	        .entry = entry,
	};
	v->fn(v->ctx, &viol);
}

/* Marks the pool page holding table `hpa`; false when it was marked before. */
static bool vf_mark(struct vf *v, uint64_t hpa)
{
	uint64_t idx = (hpa - v->pool->hpa) >> HV_PAGE_SHIFT;
	uint64_t bit = 1ull << (idx & 63);
	if (v->seen[idx >> 6] & bit)
		return false;
	v->seen[idx >> 6] |= bit;
	return true;
}

/* ---- the config side ------------------------------------------------------
 */

static void vf_add_expect(struct vf *v, uint64_t gpa, uint64_t hpa, uint64_t size, uint8_t perm,
                          uint8_t memtype, bool ram)
{
	/* Unusable entries cannot be matched; a validated config has none. */
	if (!hv_range_ok(gpa, size) || !hv_range_ok(hpa, size))
		return;
	v->exp[v->nexp++] = (struct vf_expect){gpa, hpa, size, perm, memtype, ram};
}

/* What partition p must map: its RAM and MMIO regions, its channel windows
 * (member's permissions, WB). Emulated devices stay unmapped. */
static void vf_expectations(struct vf *v, const struct hv_partition_config *pc)
{
	v->nexp = 0;
	uint32_t nreg = pc->nregions < HV_MAX_REGIONS ? pc->nregions : HV_MAX_REGIONS;
	for (uint32_t i = 0; i < nreg; i++) {
		const struct hv_region *rg = &pc->regions[i];
		vf_add_expect(v, rg->gpa, rg->hpa, rg->size, rg->perm, rg->memtype,
		              rg->type == HV_REGION_RAM);
	}
	uint32_t nmem = pc->nchannels < HV_MAX_CHANNELS ? pc->nchannels : HV_MAX_CHANNELS;
	for (uint32_t i = 0; i < nmem; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		if (m->channel >= v->cfg->nchannels || m->channel >= HV_MAX_CHANNELS)
			continue;
		const struct hv_channel_config *ch = &v->cfg->channels[m->channel];
		vf_add_expect(v, m->gpa, ch->hpa, ch->size, m->perm, HV_MT_WB, false);
	}
	/* Insertion sorts: at most VF_MAX_EXPECT entries. */
	for (uint32_t i = 1; i < v->nexp; i++) {
		struct vf_expect x = v->exp[i];
		uint32_t j = i;
		for (; j > 0 && v->exp[j - 1].gpa > x.gpa; j--)
			v->exp[j] = v->exp[j - 1];
		v->exp[j] = x;
	}
	for (uint32_t i = 0; i < v->nexp; i++) {
		uint32_t j = i;
		for (; j > 0 && v->exp[v->by_hpa[j - 1]].hpa > v->exp[i].hpa; j--)
			v->by_hpa[j] = v->by_hpa[j - 1];
		v->by_hpa[j] = (uint8_t)i;
	}
}

/* ---- EPT-EXACT --------------------------------------------------------------
 */

static void vf_compare(struct vf *v, const struct vf_expect *e, const struct vf_run *r, uint64_t g)
{
	uint64_t hpa = r->hpa + (g - r->gpa);
	uint64_t entry = g - r->gpa < r->entry_size ? r->entry : 0;
	if (hpa != e->hpa + (g - e->gpa))
		vf_report(v, HV_INV_EPT_EXACT, HV_VR_WRONG_HPA, g, hpa, entry);
	if (r->memtype != e->memtype)
		vf_report(v, HV_INV_EPT_EXACT, HV_VR_WRONG_MEMTYPE, g, hpa, entry);
	if ((r->perm & ~e->perm) != 0)
		vf_report(v, HV_INV_EPT_EXACT, HV_VR_PERM_GROWN, g, hpa, entry);
	else if (r->perm != e->perm && !v->protected_)
		vf_report(v, HV_INV_EPT_EXACT, HV_VR_PERM_CHANGED, g, hpa, entry);
}

/* Compare [lo, hi) against the config: mapped by run r, or unmapped when r
 * is NULL. Called with increasing, adjacent ranges. */
static void vf_sweep(struct vf *v, uint64_t lo, uint64_t hi, const struct vf_run *r)
{
	uint64_t g = lo;
	/* Each step moves g to the start or the end of a config entry. */
	for (uint32_t step = 0; g < hi && step < 2 * VF_MAX_EXPECT + 2; step++) {
		while (v->cursor < v->nexp && v->exp[v->cursor].gpa + v->exp[v->cursor].size <= g)
			v->cursor++;
		const struct vf_expect *e = v->cursor < v->nexp ? &v->exp[v->cursor] : NULL;
		uint64_t next = e ? e->gpa : hi;
		if (next > g) {
			/* [g, next) is in no config entry */
			if (r)
				vf_report(v, HV_INV_EPT_EXACT, HV_VR_UNEXPECTED, g,
				          r->hpa + (g - r->gpa), g == r->gpa ? r->entry : 0);
			g = vf_min(next, hi);
			continue;
		}
		if (r)
			vf_compare(v, e, r, g);
		else if (!(v->protected_ && e->ram))
			vf_report(v, HV_INV_EPT_EXACT, HV_VR_MISSING, g, e->hpa + (g - e->gpa), 0);
		g = vf_min(hi, e->gpa + e->size);
	}
	v->swept_to = hi;
}

/* ---- EPT-OWN ----------------------------------------------------------------
 */

/* Which config entry owns host address c: the index into by_hpa of the last
 * entry starting at or below c (nexp when none); *owned tells whether c is
 * inside it. */
static uint32_t vf_owner(const struct vf *v, uint64_t c, bool *owned)
{
	uint32_t lo = 0, hi = v->nexp;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v->exp[v->by_hpa[mid]].hpa <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	*owned = false;
	if (lo > 0) {
		const struct vf_expect *e = &v->exp[v->by_hpa[lo - 1]];
		*owned = c - e->hpa < e->size;
	}
	return lo; /* first entry starting above c */
}

/* The first boundary of the host map above c: the pool, the hypervisor
 * range and host memory start or end there. Every step of vf_own stops at
 * the next one, so a run is classified piece by piece wherever it starts
 * (a run owned up to the pool base must still be reported from there on). */
static uint64_t vf_next_boundary(const struct vf *v, uint64_t c)
{
	const struct hv_system_config *cfg = v->cfg;
	const uint64_t marks[] = {v->pool->hpa, v->pool_end, cfg->hv_base,
	                          cfg->hv_base + cfg->hv_size, cfg->host_mem_size};
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < HV_ARRAY_LEN(marks); i++)
		if (marks[i] > c)
			next = vf_min(next, marks[i]);
	return next;
}

static void vf_own(struct vf *v, const struct vf_run *r)
{
	const struct hv_system_config *cfg = v->cfg;
	const struct hv_pool *pool = v->pool;
	uint64_t c = r->hpa, end = r->hpa + r->size;
	for (uint32_t step = 0; c < end && step < 2 * VF_MAX_EXPECT + 16; step++) {
		int reason = -1;
		uint64_t next;
		if (c >= pool->hpa && c < v->pool_end) {
			reason = HV_VR_TABLE_PAGE;
			next = v->pool_end;
		} else if (c >= cfg->hv_base && c - cfg->hv_base < cfg->hv_size) {
			reason = HV_VR_HV_MEMORY;
			next = cfg->hv_base + cfg->hv_size;
		} else if (c >= cfg->host_mem_size) {
			reason = HV_VR_OUTSIDE_HOST;
			next = end;
		} else {
			bool owned;
			uint32_t k = vf_owner(v, c, &owned);
			if (owned) {
				const struct vf_expect *e = &v->exp[v->by_hpa[k - 1]];
				next = e->hpa + e->size;
			} else {
				reason = HV_VR_FOREIGN;
				next = cfg->host_mem_size;
				if (k < v->nexp)
					next = vf_min(next, v->exp[v->by_hpa[k]].hpa);
			}
		}
		next = vf_min(next, vf_next_boundary(v, c));
		if (reason >= 0) {
			uint64_t g = r->gpa + (c - r->hpa);
			vf_report(v, HV_INV_EPT_OWN, (enum hv_verify_reason)reason, g, c,
			          c - r->hpa < r->entry_size ? r->entry : 0);
		}
		c = vf_min(next, end);
	}
}

/* ---- the walk -------------------------------------------------------------
 */

static void vf_flush(struct vf *v)
{
	if (!v->run.have)
		return;
	v->run.have = false;
	vf_own(v, &v->run);
	vf_sweep(v, v->swept_to, v->run.gpa, NULL);
	vf_sweep(v, v->run.gpa, v->run.gpa + v->run.size, &v->run);
}

/* EPT entry, SDM Vol. 3C 29.3.2: present when any of bits 2:0 is set. */
static bool vf_decode_ept(uint64_t e, unsigned level, struct vf_entry *d)
{
	if ((e & HV_EPTE_PERM_MASK) == 0)
		return false; /* not present: every other bit ignored */
	d->addr = e & HV_EPTE_ADDR_MASK;
	d->perm = (uint8_t)(e & HV_EPTE_PERM_MASK);
	d->w_no_r = (e & (HV_EPTE_R | HV_EPTE_W)) == HV_EPTE_W;
	d->not_user = false;
	d->rsvd_high = (e & VF_RSVD_HIGH) != 0;
	d->leaf = level == 0 || (level < VF_TOP_LEVEL && (e & HV_EPTE_LARGE) != 0);
	if (!d->leaf) {
		d->rsvd = (e & (level == VF_TOP_LEVEL ? VF_RSVD_PML4E : VF_RSVD_TABLE)) != 0;
		return true;
	}
	d->rsvd = false;
	d->mt = (uint8_t)((e & HV_EPTE_MT_MASK) >> HV_EPTE_MT_SHIFT);
	/* Memory types 2, 3 and 7 are reserved (SDM 29.3.3.1, 29.3.7). */
	d->bad_mt = d->mt == 2 || d->mt == 3 || d->mt == 7;
	/* 2 MiB / 1 GiB leaves: address bits 20:12 / 29:12 are reserved
	 * (Tables 29-2 and 29-4). */
	d->misaligned = level > 0 && (d->addr & (vf_slot(level) - 1)) != 0;
	return true;
}

/* NPT entry, APM Vol. 2 5.3: present when P is set. Every level's R/W and
 * NX restrict what is below it (5.6); NX is honoured because the core runs
 * with host EFER.NXE set (without it bit 63 would be reserved). */
static bool vf_decode_npt(uint64_t e, unsigned level, struct vf_entry *d)
{
	if ((e & VF_NPT_P) == 0)
		return false;
	d->perm = (uint8_t)(HV_PERM_R | ((e & VF_NPT_RW) ? HV_PERM_W : 0) |
	                    ((e & VF_NPT_NX) ? 0 : HV_PERM_X));
	d->w_no_r = false; /* a present entry is always readable */
	d->not_user = (e & VF_NPT_US) == 0;
	d->rsvd_high = (e & VF_RSVD_HIGH) != 0;
	d->leaf = level == 0 || (level < VF_TOP_LEVEL && (e & VF_NPT_PS) != 0);
	if (!d->leaf) {
		d->addr = e & HV_EPTE_ADDR_MASK;
		d->rsvd = level == VF_TOP_LEVEL && (e & VF_NPT_RSVD_PML4E) != 0;
		return true;
	}
	d->rsvd = false;
	uint64_t pat_bit = level > 0 ? VF_NPT_PAT_LARGE : VF_NPT_PAT_4K;
	unsigned idx = ((e & VF_NPT_PWT) ? 1u : 0u) | ((e & VF_NPT_PCD) ? 2u : 0u) |
	               ((e & pat_bit) ? 4u : 0u);
	d->mt = (uint8_t)((VF_NPT_HOST_PAT >> (8 * idx)) & 7);
	/* PAT types 2 and 3 are reserved; 7 (UC-) is a valid PAT type but
	 * not one the config can ask for, so it is reported as reserved. */
	d->bad_mt = d->mt == 2 || d->mt == 3 || d->mt == 7;
	/* Large leaves: bit 12 is PAT, bits 20:13 / 29:13 are reserved
	 * (Figures 5-22, 5-24). */
	d->addr = e & HV_EPTE_ADDR_MASK & ~(level > 0 ? VF_NPT_PAT_LARGE : 0);
	d->misaligned = level > 0 && (d->addr & (vf_slot(level) - 1)) != 0;
	return true;
}

static void vf_leaf(struct vf *v, uint64_t e, const struct vf_entry *d, unsigned level,
                    uint64_t gpa, uint8_t path)
{
	uint64_t size = vf_slot(level);
	if (d->misaligned)
		vf_report(v, HV_INV_EPT_FORM, HV_VR_LARGE_MISALIGNED, gpa, d->addr, e);
	if (d->bad_mt)
		vf_report(v, HV_INV_EPT_FORM, HV_VR_BAD_MEMTYPE, gpa, d->addr, e);
	uint64_t hpa = d->addr & ~(size - 1);
	uint8_t perm = path & d->perm;
	if (perm == 0)
		return; /* the levels above allow nothing: not reachable */
	struct vf_run *r = &v->run;
	if (r->have && r->gpa + r->size == gpa && r->hpa + r->size == hpa && r->perm == perm &&
	    r->memtype == d->mt) {
		r->size += size;
		return;
	}
	vf_flush(v);
	*r = (struct vf_run){gpa, hpa, size, e, size, perm, d->mt, true};
}

static void vf_table(struct vf *v, const uint64_t *table, unsigned level, uint64_t base,
                     uint8_t path)
{
	uint64_t slot = vf_slot(level);
	for (unsigned i = hv_s2_next_used(table, 0); i < VF_ENTRIES;
	     i = hv_s2_next_used(table, i + 1)) {
		uint64_t e = table[i];
		struct vf_entry d;
		if (!(v->npt ? vf_decode_npt(e, level, &d) : vf_decode_ept(e, level, &d)))
			continue;
		uint64_t gpa = base + (uint64_t)i * slot;
		if (d.w_no_r)
			vf_report(v, HV_INV_EPT_FORM, HV_VR_WRITE_NO_READ, gpa, d.addr, e);
		if (d.not_user)
			vf_report(v, HV_INV_EPT_FORM, HV_VR_NOT_USER, gpa, d.addr, e);
		if (d.rsvd_high)
			vf_report(v, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, gpa, d.addr, e);
		if (d.leaf) {
			vf_leaf(v, e, &d, level, gpa, path);
			/* The next pages with the same attribute bits, below the
			 * physical width, when this one had nothing to report:
			 * decoding them gives what it gave, so they have nothing
			 * to report either and only extend the run (most of a
			 * partition's 4 KiB leaves). */
			if (level == 0 && !d.w_no_r && !d.not_user && !d.rsvd_high && !d.bad_mt &&
			    (path & d.perm) != 0) {
				unsigned end = hv_s2_run_end(table, i, HV_HPA_LIMIT);
				v->run.size += (uint64_t)(end - i - 1) * HV_PAGE_SIZE;
				i = end - 1;
			}
			continue;
		}
		if (d.rsvd)
			vf_report(v, HV_INV_EPT_FORM, HV_VR_RESERVED_BITS, gpa, d.addr, e);
		const uint64_t *sub = hv_pool_ptr_ro(v->pool, d.addr);
		if (!sub) {
			vf_report(v, HV_INV_EPT_FORM, HV_VR_TABLE_OUTSIDE_POOL, gpa, d.addr, e);
			continue;
		}
		if (!vf_mark(v, d.addr)) {
			vf_report(v, HV_INV_EPT_FORM, HV_VR_TABLE_SHARED, gpa, d.addr, e);
			continue;
		}
		vf_table(v, sub, level - 1, gpa, path & d.perm);
	}
}

static void vf_partition(struct vf *v, uint32_t p, const struct hv_verify_part *part)
{
	v->part = p;
	v->protected_ = part->protected_;
	v->cursor = 0;
	v->swept_to = 0;
	v->run.have = false;
	vf_expectations(v, &v->cfg->partitions[p]);

	/* The root's low bits hold nothing but the format tag. */
	uint64_t root = part->root & ~HV_S2_ROOT_NPT;
	v->npt = (part->root & HV_S2_ROOT_NPT) != 0;
	const uint64_t *pml4 = root_table_ro(v->pool, part->root);
	/* Intel runs EPT, AMD nested page tables: a root of the other format
	 * would be walked by the hardware with the other format's bits. */
	bool want_npt = v->cfg->vendor == HV_VENDOR_AMD;
	if (v->npt != want_npt)
		vf_report(v, HV_INV_EPT_FORM, HV_VR_WRONG_FORMAT, 0, root, part->root);
	if (!pml4)
		vf_report(v, HV_INV_EPT_FORM, HV_VR_TABLE_OUTSIDE_POOL, 0, root, 0);
	else if (!vf_mark(v, root))
		vf_report(v, HV_INV_EPT_FORM, HV_VR_TABLE_SHARED, 0, root, 0);
	else
		vf_table(v, pml4, VF_TOP_LEVEL, 0, HV_PERM_RWX);
	vf_flush(v);
	vf_sweep(v, v->swept_to, HV_GPA_LIMIT, NULL);
}

uint32_t hv_ept_verify_ex(const struct hv_system_config *cfg, const struct hv_pool *pool,
                          const struct hv_verify_part *parts, hv_violation_fn fn, void *ctx,
                          uint32_t max_report, uint64_t *seen, uint32_t seen_words)
{
	if (!cfg || !pool || !parts)
		return 1;
	struct vf v;
	v.cfg = cfg;
	v.pool = pool;
	v.fn = fn;
	v.ctx = ctx;
	v.max_report = max_report;
	v.found = 0;
	v.part = 0;
	v.seen = seen;
	v.pool_end = pool->hpa + ((uint64_t)pool->npages << HV_PAGE_SHIFT);
	uint64_t words = ((uint64_t)pool->used + 63u) / 64u;
	if (!seen || words > seen_words) {
		vf_report(&v, HV_INV_EPT_FORM, HV_VR_POOL_TOO_LARGE, 0, pool->hpa, 0);
		return v.found;
	}
	/* Only pages handed out can be tables (hv_pool_ptr refuses the rest). */
	hv_memset(v.seen, 0, words * sizeof(v.seen[0]));
	uint32_t n = cfg->npartitions < HV_MAX_PARTITIONS ? cfg->npartitions : HV_MAX_PARTITIONS;
	for (uint32_t p = 0; p < n; p++)
		vf_partition(&v, p, &parts[p]);
	return v.found;
}

uint32_t hv_ept_verify(const struct hv_system_config *cfg, const struct hv_pool *pool,
                       const struct hv_verify_part *parts, hv_violation_fn fn, void *ctx,
                       uint32_t max_report)
{
	uint64_t seen[HV_VERIFY_MAX_POOL_PAGES / 64];
	return hv_ept_verify_ex(cfg, pool, parts, fn, ctx, max_report, seen,
	                        (uint32_t)HV_ARRAY_LEN(seen));
}
