/* Ready-made system configs and a whole mocked system for handler tests. */
#ifndef MOCK_CONFIG_H
#define MOCK_CONFIG_H

#include "hv/config.h"
#include "hv/system.h"
#include "mock_platform.h"

/* Host memory layout shared by the configs (all 4 KiB aligned):
 *   [0, 4 MiB)          hypervisor-reserved; the pool is its upper 2 MiB
 *   P0 RAM  gpa 0       -> hpa 8 MiB,  8 MiB, RWX WB
 *   P0 MMIO gpa 0xfe000000 -> hpa 48 MiB, 4 KiB, RW UC (passthrough)
 *   P0 console device at gpa 0xfed00000 (unmapped, emulated)
 *   P1 RAM  gpa 0       -> hpa 24 MiB, 8 MiB, RWX WB            (two only)
 *   channel "link" hpa 40 MiB, 8 KiB: P0 RW at gpa 0x10000000,
 *                                      P1 RO at gpa 0x10000000  (two only) */
#define MOCK_HOST_MEM (64ull << 20)
#define MOCK_HV_SIZE (4ull << 20)
#define MOCK_POOL_HPA (2ull << 20)
#define MOCK_POOL_PAGES 512u
#define MOCK_P0_RAM_HPA (8ull << 20)
#define MOCK_P1_RAM_HPA (24ull << 20)
#define MOCK_RAM_SIZE (8ull << 20)
#define MOCK_MMIO_GPA 0xfe000000ull
#define MOCK_MMIO_HPA (48ull << 20)
/* The pass-rw MSR of the mock partitions: one the allow-list (hv/msr.h)
 * allows read-write (IA32_PRED_CMD). */
#define MOCK_PASS_RW_MSR 0x49u
#define MOCK_CONSOLE_GPA 0xfed00000ull
#define MOCK_CHAN_HPA (40ull << 20)
#define MOCK_CHAN_SIZE 0x2000ull
#define MOCK_CHAN_GPA 0x10000000ull

/* One partition ("p0") with two vCPUs, all hypercalls allowed, halt on
 * violations, MSR policy: TSC_AUX emulated (writable low 32 bits), EFER
 * emulated (SCE|LME|LMA|NXE writable), PAT emulated, FS/GS base emulated,
 * MTRRCAP pass-read, IA32_PRED_CMD (MOCK_PASS_RW_MSR) pass-rw (the mock host
 * has it), everything else denied. */
void mock_config_one(struct hv_system_config *cfg);
/* The vendor of the mock configs: HX_TEST_VENDOR=amd makes them AMD (NPT
 * tables), unset or "intel" Intel; anything else exits 2. ci/unit.sh runs
 * every suite once per vendor. */
uint32_t mock_vendor(void);
/* mock_config_one plus partition "p1" and channel "link". */
void mock_config_two(struct hv_system_config *cfg);

/* A mocked platform, pool and initialised system. */
struct mock_env {
	struct mock_platform plat;
	struct hv_pool pool;
	struct hv_system_config cfg;
	struct hv_system sys;
};

/* Initialise env->plat (typical host CPUID), the pool inside hypervisor
 * memory, and env->sys from env->cfg (which the caller fills first, e.g.
 * with mock_config_two). Returns the status of hv_system_init. */
hv_status mock_env_start(struct mock_env *env);
void mock_env_stop(struct mock_env *env);

/* A heap-allocated env (struct mock_env is large), its config filled by
 * configure (e.g. mock_config_two), started. NULL when out of memory or
 * when mock_env_start fails (nothing is left allocated then). Free with
 * mock_env_free. */
struct mock_env *mock_env_new(void (*configure)(struct hv_system_config *cfg));
void mock_env_free(struct mock_env *env);

/* Guest-physical helpers for tests: write/read partition RAM directly in
 * host memory (bypassing the EPT), for setting up buffers and page tables. */
void mock_poke(struct mock_env *env, uint64_t hpa, const void *src, size_t len);
void mock_peek(struct mock_env *env, uint64_t hpa, void *dst, size_t len);

/* Guest page tables identity-mapping the first 4 GiB in long mode (2 MiB
 * pages, present, writable, user) at guest-physical pt_gpa of a partition
 * whose RAM at GPA 0 lies at host address ram_hpa: the PML4 at pt_gpa, the
 * PDPT at pt_gpa + 4 KiB and four page directories after it (24 KiB in
 * all). Load CR3 with pt_gpa. */
void mock_identity_page_tables(struct mock_env *env, uint64_t ram_hpa, uint64_t pt_gpa);

#endif
