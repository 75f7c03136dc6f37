#include "mock_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Count a call; true when this call is the one scripted to fail. */
static int mock_should_fail(struct mock_platform *m, enum mock_op op)
{
	m->calls[op]++;
	return m->fail_nth[op] != 0 && m->calls[op] == m->fail_nth[op];
}

static void mock_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct mock_platform *m = ctx;
	memset(out, 0, 4 * sizeof(out[0]));
	if (mock_should_fail(m, MOCK_OP_CPUID))
		return;
	for (uint32_t i = 0; i < m->ncpuid; i++) {
		if (m->cpuid[i].leaf == leaf && m->cpuid[i].subleaf == subleaf) {
			memcpy(out, m->cpuid[i].out, sizeof(m->cpuid[i].out));
			return;
		}
	}
}

static int mock_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct mock_platform *m = ctx;
	if (mock_should_fail(m, MOCK_OP_RDMSR))
		return -1;
	for (uint32_t i = 0; i < m->nmsrs; i++) {
		if (m->msrs[i].msr == msr) {
			*value = m->msrs[i].value;
			return 0;
		}
	}
	return -1;
}

static int mock_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct mock_platform *m = ctx;
	if (mock_should_fail(m, MOCK_OP_WRMSR))
		return -1;
	if (m->nmsr_writes < MOCK_MAX_MSR_WRITES)
		m->msr_writes[m->nmsr_writes++] = (struct mock_msr_entry){msr, value};
	for (uint32_t i = 0; i < m->nmsrs; i++) {
		if (m->msrs[i].msr == msr) {
			m->msrs[i].value = value;
			return 0;
		}
	}
	return -1;
}

static int mock_range_ok(const struct mock_platform *m, uint64_t hpa, uint32_t len)
{
	return hpa < m->mem_size && len <= m->mem_size - hpa;
}

static int mock_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct mock_platform *m = ctx;
	if (mock_should_fail(m, MOCK_OP_PHYS_READ) || !mock_range_ok(m, hpa, len))
		return -1;
	memcpy(dst, m->mem + hpa, len);
	return 0;
}

static int mock_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct mock_platform *m = ctx;
	if (mock_should_fail(m, MOCK_OP_PHYS_WRITE) || !mock_range_ok(m, hpa, len))
		return -1;
	memcpy(m->mem + hpa, src, len);
	return 0;
}

static void mock_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct mock_platform *m = ctx;
	if (mock_should_fail(m, MOCK_OP_CONSOLE))
		return;
	m->console_partition = partition;
	for (uint32_t i = 0; i < len && m->console_len < MOCK_CONSOLE_MAX - 1; i++)
		m->console[m->console_len++] = buf[i];
	m->console[m->console_len] = '\0';
}

static void mock_log(void *ctx, enum hv_log_level level, const char *msg)
{
	struct mock_platform *m = ctx;
	(void)level;
	mock_should_fail(m, MOCK_OP_LOG);
	snprintf(m->last_log, sizeof(m->last_log), "%s", msg);
}

const struct hv_platform_ops mock_platform_ops = {
        .cpuid = mock_cpuid,
        .rdmsr = mock_rdmsr,
        .wrmsr = mock_wrmsr,
        .phys_read = mock_phys_read,
        .phys_write = mock_phys_write,
        .console = mock_console,
        .log = mock_log,
};

void mock_platform_init(struct mock_platform *m, uint64_t mem_size)
{
	memset(m, 0, sizeof(*m));
	m->mem_size = mem_size;
	/* Page-aligned, as host memory is (the pool inside it must be), and
	 * mapped lazily: tests touch a few pages of 64 MiB, and zeroing it all
	 * per test dominated their run time. */
	m->mem_alloc = (mem_size + 4095) & ~4095ull;
	if (m->mem_alloc == 0)
		m->mem_alloc = 4096;
	void *p = mmap(NULL, m->mem_alloc, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mock_platform_init: cannot map %llu bytes\n",
		        (unsigned long long)mem_size);
		abort();
	}
	m->mem = p;
}

void mock_platform_free(struct mock_platform *m)
{
	if (m->mem)
		munmap(m->mem, m->mem_alloc);
	m->mem = NULL;
}

void mock_set_cpuid(struct mock_platform *m, uint32_t leaf, uint32_t subleaf, uint32_t eax,
                    uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	for (uint32_t i = 0; i < m->ncpuid; i++) {
		if (m->cpuid[i].leaf == leaf && m->cpuid[i].subleaf == subleaf) {
			m->cpuid[i] =
			        (struct mock_cpuid_entry){leaf, subleaf, {eax, ebx, ecx, edx}};
			return;
		}
	}
	if (m->ncpuid < MOCK_MAX_CPUID)
		m->cpuid[m->ncpuid++] =
		        (struct mock_cpuid_entry){leaf, subleaf, {eax, ebx, ecx, edx}};
}

void mock_set_msr(struct mock_platform *m, uint32_t msr, uint64_t value)
{
	for (uint32_t i = 0; i < m->nmsrs; i++) {
		if (m->msrs[i].msr == msr) {
			m->msrs[i].value = value;
			return;
		}
	}
	if (m->nmsrs < MOCK_MAX_MSRS)
		m->msrs[m->nmsrs++] = (struct mock_msr_entry){msr, value};
}

void mock_cpuid_typical_host(struct mock_platform *m)
{
	/* "AuthenticAMD", max basic leaf 0x10 */
	mock_set_cpuid(m, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
	/* family 0x19; APIC ID 5 in EBX[31:24]; ECX has VMX (bit 5) set on
	 * purpose, hypervisor bit clear; EDX has APIC (bit 9). */
	mock_set_cpuid(m, 1, 0, 0x00a00f11, 0x05100800, 0x7ed8320b | (1u << 5), 0x178bfbff);
	mock_set_cpuid(m, 4, 0, 0x00000121, 0x01c0003f, 0x0000003f, 0);
	mock_set_cpuid(m, 4, 1, 0x00000122, 0x01c0003f, 0x0000003f, 0);
	mock_set_cpuid(m, 7, 0, 1, 0x219c91a9, 0x00400004, 0);
	mock_set_cpuid(m, 7, 1, 0, 0, 0, 0);
	mock_set_cpuid(m, 0xb, 0, 1, 2, 0x100, 5);
	mock_set_cpuid(m, 0xb, 1, 4, 8, 0x201, 5);
	mock_set_cpuid(m, 0xd, 0, 0x207, 0x340, 0x988, 0);
	mock_set_cpuid(m, 0xd, 1, 0xf, 0x340, 0, 0);
	mock_set_cpuid(m, 0xd, 2, 0x100, 0x240, 0, 0);
	mock_set_cpuid(m, 0x80000000, 0, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65);
	/* SVM (bit 2) set */
	mock_set_cpuid(m, 0x80000001, 0, 0x00a00f11, 0, 0x75c237ff, 0x2fd3fbff);
	mock_set_cpuid(m, 0x80000008, 0, 0x3030, 0, 0x7007, 0);
}

int mock_msr_written(const struct mock_platform *m, uint32_t msr)
{
	for (uint32_t i = 0; i < m->nmsr_writes; i++)
		if (m->msr_writes[i].msr == msr)
			return 1;
	return 0;
}
