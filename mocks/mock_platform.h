/* A scriptable hv_platform_ops for unit tests: host memory is a buffer,
 * CPUID and MSRs come from tables, every call is counted and any op can be
 * made to fail on its Nth call so every unwind path of the core runs. */
#ifndef MOCK_PLATFORM_H
#define MOCK_PLATFORM_H

#include "hv/platform.h"

enum mock_op {
	MOCK_OP_CPUID,
	MOCK_OP_RDMSR,
	MOCK_OP_WRMSR,
	MOCK_OP_PHYS_READ,
	MOCK_OP_PHYS_WRITE,
	MOCK_OP_CONSOLE,
	MOCK_OP_LOG,
	MOCK_OP_COUNT
};

#define MOCK_MAX_CPUID 64
#define MOCK_MAX_MSRS 64
#define MOCK_MAX_MSR_WRITES 64
#define MOCK_CONSOLE_MAX 8192

struct mock_cpuid_entry {
	uint32_t leaf, subleaf;
	uint32_t out[4];
};

struct mock_msr_entry {
	uint32_t msr;
	uint64_t value;
};

struct mock_platform {
	uint8_t *mem; /* host-physical memory [0, mem_size) */
	uint64_t mem_size;
	uint64_t mem_alloc; /* bytes mapped (mem_size rounded up to a page) */
	uint32_t ncpuid;
	struct mock_cpuid_entry cpuid[MOCK_MAX_CPUID]; /* missing leaves read as 0 */
	uint32_t nmsrs;
	struct mock_msr_entry msrs[MOCK_MAX_MSRS]; /* missing MSRs #GP */
	uint32_t nmsr_writes;
	struct mock_msr_entry msr_writes[MOCK_MAX_MSR_WRITES]; /* host writes seen */
	char console[MOCK_CONSOLE_MAX];
	uint32_t console_len;
	uint32_t console_partition; /* partition of the last console call */
	uint32_t calls[MOCK_OP_COUNT];
	uint32_t fail_nth[MOCK_OP_COUNT]; /* fail call number N (1-based); 0 never */
	char last_log[256];
};

extern const struct hv_platform_ops mock_platform_ops;

/* Allocates zeroed host memory of mem_size bytes (freed by mock_platform_free). */
void mock_platform_init(struct mock_platform *m, uint64_t mem_size);
void mock_platform_free(struct mock_platform *m);
void mock_set_cpuid(struct mock_platform *m, uint32_t leaf, uint32_t subleaf, uint32_t eax,
                    uint32_t ebx, uint32_t ecx, uint32_t edx);
void mock_set_msr(struct mock_platform *m, uint32_t msr, uint64_t value);
/* Populate CPUID like a typical AMD EPYC host with SVM and an Intel-style
 * leaf 1 with VMX, so masking is exercised whatever the vendor. */
void mock_cpuid_typical_host(struct mock_platform *m);
/* true if the host saw a WRMSR of msr */
int mock_msr_written(const struct mock_platform *m, uint32_t msr);

#endif
