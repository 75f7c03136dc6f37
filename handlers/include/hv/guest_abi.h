/* The contract between a hypervisor that runs guest programs (the KVM
 * runner of harness/kvm, the bootable image of handlers/boot) and the
 * programs (harness/guest). Included by all of them; freestanding.
 *
 * Machine state at guest entry (set up by the runner, not by the guest):
 *  - 64-bit long mode, CPL 0, CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|
 *    OSXMMEXCPT, EFER = LME|LMA|SCE|NXE. A flat GDT at HX_GUEST_GDT_GPA with
 *    64-bit code (selector 0x08), data (0x10), user code (0x1b), user data
 *    (0x23) and a TSS (0x28). IDT empty: the runtime's crt0 installs its own.
 *  - Page tables at HX_GUEST_PT_GPA identity-map guest-physical [0, 4 GiB)
 *    with 2 MiB pages, supervisor+user, RW, executable. Whether an access
 *    reaches memory is decided by the partition's EPT (KVM memslots built
 *    from it), never by these tables.
 *  - RIP = ELF entry, RSP = 0 (crt0 loads its own stack), RDI = partition
 *    index, RSI = vCPU index, RDX = GPA of a struct hx_boot_info.
 *
 * Exits the runner turns into hypervisor exits: CPUID and VMCALL/VMMCALL at
 * the runtime's single sites (symbols hx_cpuid_site, hx_vmcall_site,
 * hx_vmmcall_site; hardware breakpoints), RDMSR/WRMSR (user-space MSR
 * exits), loads/stores to GPAs that are not mapped RW (EPT violations). In
 * single-step mode CPUID/VMCALL anywhere are caught.
 *
 * Speed: on this machine class /dev/kvm is kvm_pvm (software virtualization,
 * no SVM/VMX in the host), and guest code runs at roughly 0.5-1 us per
 * instruction (a 3-instruction loop: ~2 us per iteration). Keep loops short:
 * e.g. a canary scan should read one word per 4 KiB page (every word of
 * owned memory holds a canary), not every word.
 * Also on kvm_pvm: hardware breakpoints and single-step traps stop CPL 0
 * code only. CPUID/VMCALL/VMMCALL executed at CPL 3 run natively in KVM and
 * never reach the core (checked: CPUID 0x40000000 at CPL 3 answers KVM's
 * "KVMKVMKVM"), so a CPL 3 hypercall test here checks KVM, not the core.
 *
 * vCPUs: the runner starts every configured vCPU (hx run --vcpus N limits
 * it) in the same state; RDX of vCPU n > 0 points at its own boot info
 * (after the page tables, below HX_GUEST_LOAD_MIN), vCPU 0's is at
 * HX_GUEST_BOOT_INFO_GPA. */
#ifndef HX_GUEST_ABI_H
#define HX_GUEST_ABI_H

#include <stdint.h>

#include "hv/config.h"

/* Guest-physical layout inside partition RAM (which starts at GPA 0). */
#define HX_GUEST_GDT_GPA 0x1000ull
#define HX_GUEST_BOOT_INFO_GPA 0x2000ull
#define HX_GUEST_PT_GPA 0x3000ull /* PML4; PDPT at +0x1000, 4 PDs after */
#define HX_GUEST_PT_PAGES 6u
#define HX_GUEST_LOAD_MIN 0x10000ull  /* ELF segments must load at or above */
#define HX_GUEST_MIN_RAM (2ull << 20) /* partition RAM at GPA 0 of at least 2 MiB */

/* ucall: the guest writes the GPA of a struct hx_ucall to this port with a
 * 32-bit OUT. */
#define HX_UCALL_PORT 0xe9u

enum hx_ucall_type {
	HX_UCALL_SYNC = 1,      /* GUEST_SYNC(stage): progress marker */
	HX_UCALL_ASSERT = 2,    /* GUEST_ASSERT failed: message, file, line */
	HX_UCALL_DONE = 3,      /* GUEST_DONE(): test passed */
	HX_UCALL_PRINT = 4,     /* message for the log */
	HX_UCALL_EXCEPTION = 5, /* unexpected exception: args = vector, error, rip */
	HX_UCALL_FOUND = 6,     /* canary scan: args = gpa, value (foreign memory seen) */
};

#define HX_UCALL_MSG_LEN 96
#define HX_UCALL_FILE_LEN 48

struct hx_ucall {
	uint32_t type;
	uint32_t line;
	uint64_t args[4];
	char file[HX_UCALL_FILE_LEN];
	char msg[HX_UCALL_MSG_LEN];
};

/* Filled by the runner before entry. */
#define HX_BOOT_MAGIC 0x746f6f42584855ull /* "UHXBoot" */
#define HX_BOOT_MAX_RANGES 32

enum hx_boot_range_kind {
	HX_RANGE_RAM = 1,     /* own private RAM */
	HX_RANGE_CHANNEL = 2, /* a channel window (perm says RO or RW) */
	HX_RANGE_MMIO = 3,    /* passthrough MMIO */
	HX_RANGE_DEVICE = 4,  /* emulated console device */
};

struct hx_boot_range {
	uint64_t gpa;
	uint64_t size;
	uint32_t kind;  /* enum hx_boot_range_kind */
	uint32_t perm;  /* HV_PERM_* bits as configured */
	uint32_t index; /* channel index for channels */
	uint32_t pad;
};

struct hx_boot_info {
	uint64_t magic;
	uint32_t partition;
	uint32_t npartitions;
	uint32_t vcpu;
	uint32_t nranges;
	uint64_t image_start; /* GPA range the ELF image occupies */
	uint64_t image_end;
	struct hx_boot_range ranges[HX_BOOT_MAX_RANGES];
};

/* Canaries: the runner fills every 8-byte word of hypervisor memory and of
 * each partition's private RAM (before loading the image) with
 *   HX_CANARY_TAG | owner << 40 | (hpa >> 3 & 0xffffffffff)
 * where owner = partition index + 1, or 0 for hypervisor memory. A guest
 * that reads a word with the tag and another owner has seen memory it must
 * never see. */
#define HX_CANARY_TAG 0xca5a000000000000ull
#define HX_CANARY_TAG_MASK 0xffff000000000000ull
#define HX_CANARY_OWNER_HV 0u

static inline uint64_t hx_canary(uint32_t owner, uint64_t hpa)
{
	return HX_CANARY_TAG | ((uint64_t)(owner & 0xff) << 40) | ((hpa >> 3) & 0xffffffffffull);
}

static inline int hx_canary_owner(uint64_t word)
{
	if ((word & HX_CANARY_TAG_MASK) != HX_CANARY_TAG)
		return -1;
	return (int)((word >> 40) & 0xff);
}

/* The initial GDT and page tables, one definition for every hypervisor
 * that serves this ABI. Descriptors: Intel SDM Vol. 3A, 3.4.5 and 8.2.3;
 * page-table entries: 4.5 (PS = 2 MiB page). */
#define HX_GUEST_TSS_GPA 0x1800ull /* in the GDT's page, after the descriptors */
#define HX_GUEST_TSS_LIMIT 0x67u   /* 104-byte 64-bit TSS (SDM Vol. 3A, 8.7) */
#define HX_GUEST_GDT_ENTRIES 7u
/* Control registers at entry (the values listed at the top of this file). */
#define HX_GUEST_CR0 0x80010033ull /* PE|MP|ET|NE|WP|PG */
#define HX_GUEST_CR4 0x620ull      /* PAE|OSFXSR|OSXMMEXCPT */
#define HX_GUEST_EFER 0xd01ull     /* SCE|LME|LMA|NXE */
#define HX_SEL_CODE 0x08u
#define HX_SEL_DATA 0x10u
#define HX_SEL_TSS 0x28u

static inline void hx_guest_gdt(uint64_t gdt[HX_GUEST_GDT_ENTRIES])
{
	const uint64_t base = HX_GUEST_TSS_GPA, limit = HX_GUEST_TSS_LIMIT;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* 0x08 64-bit code, DPL 0, accessed */
	gdt[2] = 0x00cf93000000ffffull; /* 0x10 data, DPL 0 */
	gdt[3] = 0x00affb000000ffffull; /* 0x18 64-bit code, DPL 3 */
	gdt[4] = 0x00cff3000000ffffull; /* 0x20 data, DPL 3 */
	gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x8bull << 40 |
	         ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56; /* busy TSS */
	gdt[6] = base >> 32;
}

/* Word `index` of page `page` of the HX_GUEST_PT_PAGES table pages at
 * HX_GUEST_PT_GPA: PML4 -> PDPT -> 4 PDs of 2 MiB pages mapping [0, 4 GiB)
 * supervisor+user, writable, executable, A/D preset so the CPU never
 * writes them. */
static inline uint64_t hx_guest_pt_word(uint32_t page, uint32_t index)
{
	const uint64_t tbl = 0x1 | 0x2 | 0x4 | 0x20; /* P, RW, US, A */
	if (page == 0)
		return index == 0 ? (HX_GUEST_PT_GPA + 0x1000) | tbl : 0;
	if (page == 1)
		return index < 4 ? (HX_GUEST_PT_GPA + 0x2000 + index * 0x1000ull) | tbl : 0;
	if (page < HX_GUEST_PT_PAGES)
		return ((uint64_t)(page - 2) << 30 | (uint64_t)index << 21) | tbl | 0x40 | 0x80;
	return 0;
}

/* Boot info of vCPU n > 0: after the page tables, 2 KiB apart (vCPU 0's
 * is at HX_GUEST_BOOT_INFO_GPA). */
#define HX_BOOT_INFO_AP_GPA 0x9000ull
#define HX_BOOT_INFO_AP_STRIDE 0x800ull

static inline uint64_t hx_boot_info_gpa(uint32_t vcpu)
{
	return vcpu == 0 ? HX_GUEST_BOOT_INFO_GPA
	                 : HX_BOOT_INFO_AP_GPA + (uint64_t)(vcpu - 1) * HX_BOOT_INFO_AP_STRIDE;
}

/* The boot info of vCPU vcpu of partition part, from the config: its RAM
 * and MMIO regions, channel windows and console devices, in that order, at
 * most HX_BOOT_MAX_RANGES of them. Returns 1 when more existed (the list
 * is cut), else 0. Shared by every hypervisor that serves this ABI. */
static inline int hx_boot_info_fill(struct hx_boot_info *bi, const struct hv_system_config *cfg,
                                    uint32_t part, uint32_t vcpu, uint64_t image_lo,
                                    uint64_t image_hi)
{
	const struct hv_partition_config *pc = &cfg->partitions[part];
	*bi = (struct hx_boot_info){.magic = HX_BOOT_MAGIC,
	                            .partition = part,
	                            .npartitions = cfg->npartitions,
	                            .vcpu = vcpu,
	                            .image_start = image_lo,
	                            .image_end = image_hi};
	uint32_t total = pc->nregions + pc->nchannels + pc->ndevices;
	for (uint32_t k = 0; k < total && bi->nranges < HX_BOOT_MAX_RANGES; k++) {
		struct hx_boot_range *r = &bi->ranges[bi->nranges++];
		if (k < pc->nregions) {
			const struct hv_region *g = &pc->regions[k];
			*r = (struct hx_boot_range){
			        g->gpa,
			        g->size,
			        g->type == HV_REGION_RAM ? HX_RANGE_RAM : HX_RANGE_MMIO,
			        g->perm,
			        k,
			        0};
		} else if (k < pc->nregions + pc->nchannels) {
			const struct hv_channel_member *m = &pc->channels[k - pc->nregions];
			uint64_t size =
			        m->channel < cfg->nchannels ? cfg->channels[m->channel].size : 0;
			*r = (struct hx_boot_range){m->gpa,  size,       HX_RANGE_CHANNEL,
			                            m->perm, m->channel, 0};
		} else {
			uint32_t i = k - pc->nregions - pc->nchannels;
			*r = (struct hx_boot_range){pc->devices[i].gpa,
			                            pc->devices[i].size,
			                            HX_RANGE_DEVICE,
			                            HV_PERM_RW,
			                            i,
			                            0};
		}
	}
	return total > HX_BOOT_MAX_RANGES;
}

_Static_assert(sizeof(struct hx_boot_info) <= HX_BOOT_INFO_AP_STRIDE, "boot info stride");
_Static_assert(HX_BOOT_INFO_AP_GPA + 7 * HX_BOOT_INFO_AP_STRIDE <= HX_GUEST_LOAD_MIN,
               "per-vCPU boot info (8 vCPUs) stays below the image");
_Static_assert(HX_GUEST_PT_GPA + HX_GUEST_PT_PAGES * 0x1000 <= HX_BOOT_INFO_AP_GPA,
               "boot info after the page tables");
_Static_assert(sizeof(struct hx_ucall) == 184, "ucall layout");

#endif
