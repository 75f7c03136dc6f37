#include "bench_platform.h"

#include <string.h>
#include <sys/mman.h>

static uint32_t (*cpuid_slot(struct hxb_platform *p, uint32_t leaf, uint32_t subleaf))[4]
{
	if (subleaf >= HXB_CPUID_SUB)
		return NULL;
	if (leaf < HXB_CPUID_BASIC)
		return &p->basic[leaf][subleaf];
	if (leaf >= 0x80000000u && leaf - 0x80000000u < HXB_CPUID_EXT)
		return &p->ext[leaf - 0x80000000u][subleaf];
	return NULL;
}

static void op_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	uint32_t(*slot)[4] = cpuid_slot(ctx, leaf, subleaf);
	if (slot)
		memcpy(out, *slot, sizeof(*slot));
	else
		memset(out, 0, 4 * sizeof(out[0]));
}

static int msr_index(const struct hxb_platform *p, uint32_t msr)
{
	for (uint32_t i = 0; i < p->nmsrs; i++)
		if (p->msr[i] == msr)
			return (int)i;
	return -1;
}

static int op_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct hxb_platform *p = ctx;
	int i = msr_index(p, msr);
	if (i < 0)
		return -1;
	*value = p->msr_value[i];
	return 0;
}

static int op_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct hxb_platform *p = ctx;
	int i = msr_index(p, msr);
	if (i < 0)
		return -1;
	p->msr_value[i] = value;
	return 0;
}

static int op_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct hxb_platform *p = ctx;
	if (hpa >= p->mem_size || len > p->mem_size - hpa)
		return -1;
	memcpy(dst, p->mem + hpa, len);
	return 0;
}

static int op_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct hxb_platform *p = ctx;
	if (hpa >= p->mem_size || len > p->mem_size - hpa)
		return -1;
	memcpy(p->mem + hpa, src, len);
	return 0;
}

static void op_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	struct hxb_platform *p = ctx;
	(void)partition;
	(void)buf;
	p->console_bytes += len;
}

static void op_ept_changed(void *ctx, uint32_t partition, uint64_t gpa, uint64_t size)
{
	struct hxb_platform *p = ctx;
	(void)partition;
	(void)gpa;
	(void)size;
	p->ept_changes++;
}

const struct hv_platform_ops hxb_platform_ops = {
        .cpuid = op_cpuid,
        .rdmsr = op_rdmsr,
        .wrmsr = op_wrmsr,
        .phys_read = op_phys_read,
        .phys_write = op_phys_write,
        .console = op_console,
        .log = NULL,
        .ept_changed = op_ept_changed,
};

int hxb_platform_init(struct hxb_platform *p, uint64_t mem_size)
{
	memset(p, 0, sizeof(*p));
	/* Anonymous pages are page aligned and read as zero without being
	 * touched: start-up stays cheap, also under valgrind. */
	void *mem = mmap(NULL, (size_t)mem_size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	p->mem = mem;
	p->mem_size = mem_size;
	return 0;
}

void hxb_platform_free(struct hxb_platform *p)
{
	if (p->mem)
		munmap(p->mem, (size_t)p->mem_size);
	p->mem = NULL;
}

static void set_cpuid(struct hxb_platform *p, uint32_t leaf, uint32_t subleaf, uint32_t a,
                      uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t(*slot)[4] = cpuid_slot(p, leaf, subleaf);
	if (slot) {
		(*slot)[0] = a;
		(*slot)[1] = b;
		(*slot)[2] = c;
		(*slot)[3] = d;
	}
}

void hxb_platform_typical_cpuid(struct hxb_platform *p)
{
	/* "AuthenticAMD", max basic leaf 0x10 */
	set_cpuid(p, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
	/* family 19h; ECX: SSE3, PCLMUL, VMX (5, for masking), SSSE3, FMA,
	 * CX16, SSE4.1/4.2, x2APIC, MOVBE, POPCNT, AES, XSAVE, AVX, F16C, RDRAND;
	 * EDX: the usual x87..SSE2 set with HTT. */
	set_cpuid(p, 1, 0, 0x00a00f11, 0x00800800, 0x76f8b223 | (1u << 5), 0x178bfbff);
	set_cpuid(p, 7, 0, 0, 0x219c97a9, 0x0040069c, 0x00000010);
	set_cpuid(p, 0xb, 0, 1, 2, 0x100, 0);
	set_cpuid(p, 0xb, 1, 4, 16, 0x201, 0);
	set_cpuid(p, 0xd, 0, 0x207, 0x340, 0x988, 0);
	set_cpuid(p, 0xd, 1, 0xf, 0x340, 0, 0);
	set_cpuid(p, 0x80000000u, 0, 0x80000023u, 0x68747541, 0x444d4163, 0x69746e65);
	/* ECX bit 2 SVM visible on the host: the handler must hide it */
	set_cpuid(p, 0x80000001u, 0, 0x00a00f11, 0x40000000, 0x75c237ff, 0x2fd3fbff);
	set_cpuid(p, 0x80000008u, 0, 0x3030, 0x791ef257, 0x0000107f, 0);
}

void hxb_platform_set_msr(struct hxb_platform *p, uint32_t msr, uint64_t value)
{
	int i = msr_index(p, msr);
	if (i < 0) {
		if (p->nmsrs >= HXB_MAX_MSRS)
			return;
		i = (int)p->nmsrs++;
		p->msr[i] = msr;
	}
	p->msr_value[i] = value;
}
