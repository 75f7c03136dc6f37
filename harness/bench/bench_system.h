/* The system every handler benchmark runs on: two partitions sharing a
 * channel, a console device in partition 0, guest page tables and
 * instruction bytes in partition 0's RAM for the MMIO cases. Built with
 * the optimised core (`hv`) on the hosted bench platform. */
#ifndef HXB_SYSTEM_H
#define HXB_SYSTEM_H

#include "bench_platform.h"
#include "hv/config.h"
#include "hv/system.h"

/* Host memory layout (4 KiB aligned):
 *   [0, 4 MiB)   hypervisor-reserved; the EPT page pool is its upper 2 MiB
 *   P0 RAM gpa 0 -> hpa 8 MiB, 8 MiB RWX WB (2 MiB EPT leaves)
 *   P1 RAM gpa 0 -> hpa 24 MiB, 8 MiB RWX WB
 *   channel "link" hpa 40 MiB, 8 KiB: P0 RW, P1 RO, both at gpa 0x10000000
 *   P0 console device at gpa 0xfed00000 (never mapped: emulated) */
#define HXB_HOST_MEM (64ull << 20)
#define HXB_HV_SIZE (4ull << 20)
#define HXB_POOL_HPA (2ull << 20)
#define HXB_POOL_PAGES 512u
#define HXB_P0_RAM_HPA (8ull << 20)
#define HXB_P1_RAM_HPA (24ull << 20)
#define HXB_RAM_SIZE (8ull << 20)
#define HXB_CHAN_HPA (40ull << 20)
#define HXB_CHAN_SIZE 0x2000ull
#define HXB_CHAN_GPA 0x10000000ull
#define HXB_DEV_GPA 0xfed00000ull

/* Partition 0 guest layout: 4-level page tables with 4 KiB pages. */
#define HXB_GPT_BASE 0x10000ull /* table pages from here */
#define HXB_CODE_LA 0x400000ull /* code page -> gpa 0x100000 */
#define HXB_CODE_GPA 0x100000ull
#define HXB_DEV_LA 0x500000ull   /* console device page */
#define HXB_BUF_GPA 0x200000ull  /* hypercall buffers, one page each */
#define HXB_PROT_GPA 0x400000ull /* MEM_PROTECT target inside a 2 MiB leaf */

struct hxb_system {
	struct hxb_platform plat;
	struct hv_pool pool;
	struct hv_system_config cfg;
	struct hv_system sys;
	uint64_t cr3;       /* guest PML4 GPA of partition 0 */
	uint64_t gpt_next;  /* next free guest table page */
	uint32_t pool_mark; /* pool pages in use after start */
	uint8_t *pool_snap; /* EPT pages as built, for restore */
};

/* Build config, platform and system; returns 0 or -1 with a message on
 * stderr. */
int hxb_system_start(struct hxb_system *s);
void hxb_system_stop(struct hxb_system *s);

/* Map linear page la -> gpa in partition 0's guest page tables (4 KiB). */
void hxb_gpt_map(struct hxb_system *s, uint64_t la, uint64_t gpa);
/* Write bytes to partition 0 guest-physical memory (its RAM, directly). */
void hxb_poke(struct hxb_system *s, uint64_t gpa, const void *src, size_t len);

/* Put the EPTs back exactly as built (after MEM_PROTECT split and reduced
 * pages): pool pages, pool usage and the protected flags. */
void hxb_restore_ept(struct hxb_system *s);

#endif
