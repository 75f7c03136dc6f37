/* The synthetic host of synth_host.h. */
#include "synth_host.h"

#include <stdlib.h>
#include <string.h>

#include "hv/msr.h"
#include "replay_internal.h"

#define SYNTH_CPUID 64
#define SYNTH_MSRS 32

struct synth_cpuid {
	uint32_t leaf, subleaf;
	uint32_t regs[4];
};

struct synth_msr {
	uint32_t msr;
	uint64_t value;
};

struct hx_synth_host {
	struct rp_mem mem;
	uint32_t ncpuid, nmsrs;
	struct synth_cpuid cpuid[SYNTH_CPUID];
	struct synth_msr msrs[SYNTH_MSRS];
};

static void typical_host(struct hx_synth_host *h)
{
	static const struct synth_cpuid table[] = {
	        {0, 0, {0x10, 0x68747541, 0x444d4163, 0x69746e65}}, /* AuthenticAMD */
	        {1, 0, {0x00a00f11, 0x05100800, 0x7ed8320b | (1u << 5), 0x178bfbff}},
	        {4, 0, {0x00000121, 0x01c0003f, 0x0000003f, 0}},
	        {4, 1, {0x00000122, 0x01c0003f, 0x0000003f, 0}},
	        {7, 0, {1, 0x219c91a9, 0x00400004, 0}},
	        {7, 1, {0, 0, 0, 0}},
	        {0xb, 0, {1, 2, 0x100, 5}},
	        {0xb, 1, {4, 8, 0x201, 5}},
	        {0xd, 0, {0x207, 0x340, 0x988, 0}},
	        {0xd, 1, {0xf, 0x340, 0, 0}},
	        {0x80000000, 0, {0x80000021, 0x68747541, 0x444d4163, 0x69746e65}},
	        {0x80000001, 0, {0x00a00f11, 0, 0x75c237ff, 0x2fd3fbff}}, /* SVM set */
	        {0x80000008, 0, {0x3030, 0, 0x7007, 0}},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		hx_synth_set_cpuid(h, table[i].leaf, table[i].subleaf, table[i].regs);
	hx_synth_set_msr(h, HV_MSR_MTRRCAP, 0x508);
	hx_synth_set_msr(h, HV_MSR_FEATURE_CONTROL, 0x5);
	hx_synth_set_msr(h, HV_MSR_PAT, 0x0007040600070406ull);
	hx_synth_set_msr(h, HV_MSR_EFER, 0xd01);
	hx_synth_set_msr(h, HV_MSR_TSC_AUX, 0x7);
}

struct hx_synth_host *hx_synth_host_new(uint64_t host_mem_size)
{
	struct hx_synth_host *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	if (!rp_mem_init(&h->mem)) {
		rp_mem_free(&h->mem);
		free(h);
		return NULL;
	}
	rp_mem_reset(&h->mem, host_mem_size);
	typical_host(h);
	return h;
}

void hx_synth_host_free(struct hx_synth_host *h)
{
	if (!h)
		return;
	rp_mem_free(&h->mem);
	free(h);
}

void hx_synth_set_cpuid(struct hx_synth_host *h, uint32_t leaf, uint32_t subleaf,
                        const uint32_t regs[4])
{
	for (uint32_t i = 0; i < h->ncpuid; i++) {
		if (h->cpuid[i].leaf == leaf && h->cpuid[i].subleaf == subleaf) {
			memcpy(h->cpuid[i].regs, regs, sizeof(h->cpuid[i].regs));
			return;
		}
	}
	if (h->ncpuid < SYNTH_CPUID) {
		h->cpuid[h->ncpuid] = (struct synth_cpuid){.leaf = leaf, .subleaf = subleaf};
		memcpy(h->cpuid[h->ncpuid++].regs, regs, 4 * sizeof(regs[0]));
	}
}

void hx_synth_set_msr(struct hx_synth_host *h, uint32_t msr, uint64_t value)
{
	for (uint32_t i = 0; i < h->nmsrs; i++) {
		if (h->msrs[i].msr == msr) {
			h->msrs[i].value = value;
			return;
		}
	}
	if (h->nmsrs < SYNTH_MSRS)
		h->msrs[h->nmsrs++] = (struct synth_msr){msr, value};
}

bool hx_synth_poke(struct hx_synth_host *h, uint64_t hpa, const void *src, uint32_t len)
{
	return rp_mem_write(&h->mem, hpa, src, len);
}

bool hx_synth_peek(struct hx_synth_host *h, uint64_t hpa, void *dst, uint32_t len)
{
	return rp_mem_read(&h->mem, hpa, dst, len);
}

static void synth_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct hx_synth_host *h = ctx;
	memset(out, 0, 4 * sizeof(out[0]));
	for (uint32_t i = 0; i < h->ncpuid; i++)
		if (h->cpuid[i].leaf == leaf && h->cpuid[i].subleaf == subleaf)
			memcpy(out, h->cpuid[i].regs, sizeof(h->cpuid[i].regs));
}

static int synth_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct hx_synth_host *h = ctx;
	for (uint32_t i = 0; i < h->nmsrs; i++) {
		if (h->msrs[i].msr == msr) {
			*value = h->msrs[i].value;
			return 0;
		}
	}
	return -1;
}

static int synth_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
	struct hx_synth_host *h = ctx;
	for (uint32_t i = 0; i < h->nmsrs; i++) {
		if (h->msrs[i].msr == msr) {
			h->msrs[i].value = value;
			return 0;
		}
	}
	return -1;
}

static int synth_phys_read(void *ctx, uint64_t hpa, void *dst, uint32_t len)
{
	struct hx_synth_host *h = ctx;
	return rp_mem_read(&h->mem, hpa, dst, len) ? 0 : -1;
}

static int synth_phys_write(void *ctx, uint64_t hpa, const void *src, uint32_t len)
{
	struct hx_synth_host *h = ctx;
	return rp_mem_write(&h->mem, hpa, src, len) ? 0 : -1;
}

static void synth_console(void *ctx, uint32_t partition, const char *buf, uint32_t len)
{
	(void)ctx;
	(void)partition;
	(void)buf;
	(void)len;
}

const struct hv_platform_ops hx_synth_host_ops = {
        .cpuid = synth_cpuid,
        .rdmsr = synth_rdmsr,
        .wrmsr = synth_wrmsr,
        .phys_read = synth_phys_read,
        .phys_write = synth_phys_write,
        .console = synth_console,
};
