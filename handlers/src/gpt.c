/* Guest page-table walk for 4-level IA-32e paging (Intel SDM Vol. 3A, 4.5).
 *
 * The walk re-derives what the CPU did for the faulting access, from guest
 * state alone, so every paging-structure entry is untrusted input:
 *   - entries are read only through hv_guest_read(), i.e. through the
 *     partition's EPT with read permission: a table outside the memory the
 *     partition may read ends the walk with TABLE_FAULT;
 *   - the walk is exactly four reads at most, so a table that points to
 *     itself (or any loop) simply ends at the fourth level;
 *   - nothing is ever written: accessed/dirty bits are not set (the CPU
 *     already set them for the access that exited), so the walk changes no
 *     guest memory.
 *
 * Decisions:
 *   - CR0.PG clear: no paging, the linear address is the guest-physical
 *     address (SDM Vol. 3A, 4.1.1).
 *   - CR0.PG set without EFER.LMA (32-bit or PAE paging), or CR4.LA57
 *     (5-level paging): UNSUPPORTED.
 *   - MAXPHYADDR is taken as 48 (HV_GPA_LIMIT, what a 4-level EPT
 *     translates), independent of the host, so a walk gives the same answer
 *     on every machine and in both builds. Bits 51:48 of an entry are
 *     therefore reserved.
 *   - Protection keys (CR4.PKE/PKS) are not modelled.
 *   - 1 GiB pages are always allowed (every 64-bit CPU this runs on has
 *     them, CPUID.80000001H:EDX.Page1GB). */
#include "hv/gpt.h"

#include "hv/exit.h"
#include "hv/guest_mem.h"

/* Control bits (SDM Vol. 3A, 2.5 and 2.2.1). */
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_AC (1ull << 18)

/* Paging-structure entry bits (SDM Vol. 3A, Tables 4-15 .. 4-20). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define GPT_MAXPHYADDR 48
#define GPT_ADDR_MASK (((1ull << GPT_MAXPHYADDR) - 1) & ~0xfffull)
/* Bits 51:MAXPHYADDR of every entry are reserved. */
#define GPT_RSVD_PHYS (((1ull << 52) - 1) & ~((1ull << GPT_MAXPHYADDR) - 1))
#define GPT_RSVD_1G (0x3fffe000ull) /* bits 29:13 of a 1 GiB PDPTE */
#define GPT_RSVD_2M (0x001fe000ull) /* bits 20:13 of a 2 MiB PDE */

#define GPT_LEVELS 4
#define GPT_MAX_FETCH 15u

static const char *const fault_names[] = {
        [HV_GPT_OK] = "ok",
        [HV_GPT_NOT_PAGED] = "paging disabled",
        [HV_GPT_NON_CANONICAL] = "non-canonical address",
        [HV_GPT_NOT_PRESENT] = "not present",
        [HV_GPT_RESERVED] = "reserved bit set",
        [HV_GPT_PROTECTION] = "protection violation",
        [HV_GPT_TABLE_FAULT] = "paging structure not readable through the EPT",
        [HV_GPT_UNSUPPORTED] = "unsupported paging mode",
        [HV_GPT_EPT_FAULT] = "page not accessible through the EPT",
};
_Static_assert(HV_ARRAY_LEN(fault_names) == HV_GPT_FAULT_COUNT, "every fault has a name");

const char *hv_gpt_fault_str(enum hv_gpt_fault f)
{
	return (unsigned)f < HV_GPT_FAULT_COUNT ? fault_names[f] : "unknown";
}

/* 48-bit linear addresses: bits 63:47 all equal (SDM Vol. 1, 3.3.7.1). */
static bool canonical48(uint64_t la)
{
	uint64_t top = la >> 47;
	return top == 0 || top == 0x1ffff;
}

/* Reserved bits of a present entry; level 3 = PML4E, 2 = PDPTE, 1 = PDE,
 * 0 = PTE (SDM Vol. 3A, 4.5.4 and 4.6.1 "reserved bit" faults). */
static uint64_t reserved_bits(int level, bool leaf, bool nxe)
{
	uint64_t r = GPT_RSVD_PHYS;
	if (!nxe)
		r |= PTE_XD;
	if (level == 3)
		r |= PTE_PS; /* PS must be 0 in a PML4E */
	else if (leaf && level == 2)
		r |= GPT_RSVD_1G;
	else if (leaf && level == 1)
		r |= GPT_RSVD_2M;
	return r;
}

/* Access rights of the translation (SDM Vol. 3A, 4.6.1): the R/W and U/S
 * bits of every level must allow the access, XD of any level forbids
 * fetches; supervisor accesses follow CR0.WP, CR4.SMEP and CR4.SMAP. */
static enum hv_gpt_fault check_access(const struct hv_vcpu_state *st, uint8_t access, bool writable,
                                      bool user, bool xd)
{
	bool supervisor = st->cpl < 3;
	if (access & HV_PERM_X) {
		if (xd)
			return HV_GPT_PROTECTION;
		if (supervisor)
			return user && (st->cr4 & CR4_SMEP) ? HV_GPT_PROTECTION : HV_GPT_OK;
		return user ? HV_GPT_OK : HV_GPT_PROTECTION;
	}
	bool write = (access & HV_PERM_W) != 0;
	if (!supervisor) {
		if (!user || (write && !writable))
			return HV_GPT_PROTECTION;
		return HV_GPT_OK;
	}
	if (user && (st->cr4 & CR4_SMAP) && !(st->rflags & RFLAGS_AC))
		return HV_GPT_PROTECTION;
	if (write && !writable && (st->cr0 & CR0_WP))
		return HV_GPT_PROTECTION;
	return HV_GPT_OK;
}

static enum hv_gpt_fault walk(struct hv_system *sys, uint32_t part, const struct hv_vcpu_state *st,
                              uint64_t gla, uint8_t access, uint64_t *gpa)
{
	if (!(st->cr0 & CR0_PG)) {
		*gpa = gla;
		return HV_GPT_OK;
	}
	if (!(st->efer & EFER_LMA) || !(st->cr4 & CR4_PAE) || (st->cr4 & CR4_LA57))
		return HV_GPT_UNSUPPORTED;
	if (!canonical48(gla))
		return HV_GPT_NON_CANONICAL;
	/* CR3 bits 63:MAXPHYADDR are reserved; bits 11:0 are flags or the
	 * PCID and do not take part in the address (SDM Vol. 3A, 4.5.2). */
	if (st->cr3 & ~((1ull << GPT_MAXPHYADDR) - 1))
		return HV_GPT_RESERVED;

	bool nxe = (st->efer & EFER_NXE) != 0;
	bool writable = true, user = true, xd = false;
	uint64_t table = st->cr3 & GPT_ADDR_MASK;
	for (int level = GPT_LEVELS - 1; level >= 0; level--) {
		uint32_t shift = 12u + 9u * (uint32_t)level;
		uint64_t idx = (gla >> shift) & 511;
		uint64_t e;
		if (hv_guest_read(sys, part, table + idx * 8, &e, sizeof(e)) != HV_OK)
			return HV_GPT_TABLE_FAULT;
		if (!(e & PTE_P))
			return HV_GPT_NOT_PRESENT;
		bool leaf = level == 0 || (level < 3 && (e & PTE_PS));
		if (e & reserved_bits(level, leaf, nxe))
			return HV_GPT_RESERVED;
		writable = writable && (e & PTE_RW);
		user = user && (e & PTE_US);
		xd = xd || (nxe && (e & PTE_XD));
		if (leaf) {
			enum hv_gpt_fault f = check_access(st, access, writable, user, xd);
			if (f != HV_GPT_OK)
				return f;
			uint64_t page_mask = (1ull << shift) - 1;
			*gpa = (e & GPT_ADDR_MASK & ~page_mask) | (gla & page_mask);
			return HV_GPT_OK;
		}
		table = e & GPT_ADDR_MASK;
	}
	return HV_GPT_NOT_PRESENT; /* not reached: level 0 is always a leaf */
}

enum hv_gpt_fault hv_gpt_translate(struct hv_system *sys, uint32_t part,
                                   const struct hv_vcpu_state *st, uint64_t gla, uint8_t access,
                                   uint64_t *gpa)
{
	uint64_t out = 0;
	enum hv_gpt_fault f = walk(sys, part, st, gla, access, &out);
	*gpa = f == HV_GPT_OK ? out : 0;
	return f;
}

uint32_t hv_gpt_fetch(struct hv_system *sys, uint32_t part, const struct hv_vcpu_state *st,
                      uint64_t rip, uint8_t *buf, uint32_t len, enum hv_gpt_fault *fault)
{
	enum hv_gpt_fault f = HV_GPT_OK;
	uint32_t done = 0;
	if (len > GPT_MAX_FETCH)
		len = GPT_MAX_FETCH;
	/* At most 15 bytes: at most two pages, each translated on its own
	 * (the second one can fault while the first is fine). */
	for (int page = 0; page < 2 && done < len; page++) {
		uint64_t la = rip + done, gpa;
		f = hv_gpt_translate(sys, part, st, la, HV_PERM_X, &gpa);
		if (f != HV_GPT_OK)
			break;
		uint64_t room = HV_PAGE_SIZE - (la & (HV_PAGE_SIZE - 1));
		uint32_t n = len - done < room ? len - done : (uint32_t)room;
		if (hv_guest_check(sys, part, gpa, n, HV_PERM_X) != HV_OK ||
		    hv_guest_read(sys, part, gpa, buf + done, n) != HV_OK) {
			f = HV_GPT_EPT_FAULT;
			break;
		}
		done += n;
	}
	if (fault)
		*fault = f;
	return done;
}
