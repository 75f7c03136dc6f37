#include "mock_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hcall.h"
#include "hv/msr.h"

static void add_msr(struct hv_partition_config *p, uint32_t msr, uint8_t mode, uint64_t init,
                    uint64_t writable)
{
	struct hv_msr_rule *r = &p->msr.rules[p->msr.nrules++];
	r->msr = msr;
	r->mode = mode;
	r->init = init;
	r->writable_mask = writable;
}

static void base_partition(struct hv_partition_config *p, const char *name, uint64_t ram_hpa)
{
	memset(p, 0, sizeof(*p));
	strncpy(p->name, name, sizeof(p->name) - 1);
	p->nvcpus = 2;
	p->hcall_allowed = HV_HC_ALL;
	p->contain = HV_CONTAIN_HALT;
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = 0,
	        .hpa = ram_hpa,
	        .size = MOCK_RAM_SIZE,
	        .type = HV_REGION_RAM,
	        .perm = HV_PERM_RWX,
	        .memtype = HV_MT_WB,
	};
	add_msr(p, HV_MSR_TSC_AUX, HV_MSR_EMULATED, 0, 0xffffffffull);
	add_msr(p, HV_MSR_EFER, HV_MSR_EMULATED, HV_EFER_LME | HV_EFER_LMA,
	        HV_EFER_SCE | HV_EFER_LME | HV_EFER_LMA | HV_EFER_NXE);
	add_msr(p, HV_MSR_PAT, HV_MSR_EMULATED, 0x0007040600070406ull, ~0ull);
	add_msr(p, HV_MSR_FS_BASE, HV_MSR_EMULATED, 0, ~0ull);
	add_msr(p, HV_MSR_GS_BASE, HV_MSR_EMULATED, 0, ~0ull);
	add_msr(p, HV_MSR_MTRRCAP, HV_MSR_PASS_R, 0, 0);
	add_msr(p, MOCK_PASS_RW_MSR, HV_MSR_PASS_RW, 0, 0);
}

uint32_t mock_vendor(void)
{
	const char *v = getenv("HX_TEST_VENDOR");
	if (!v || !*v || strcmp(v, "intel") == 0)
		return HV_VENDOR_INTEL;
	if (strcmp(v, "amd") == 0)
		return HV_VENDOR_AMD;
	/* A typo must not quietly test Intel twice. */
	fprintf(stderr, "HX_TEST_VENDOR must be \"intel\" or \"amd\"\n");
	exit(2);
}

void mock_config_one(struct hv_system_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vendor = mock_vendor();
	cfg->host_mem_size = MOCK_HOST_MEM;
	cfg->hv_base = 0;
	cfg->hv_size = MOCK_HV_SIZE;
	cfg->npartitions = 1;
	struct hv_partition_config *p = &cfg->partitions[0];
	base_partition(p, "p0", MOCK_P0_RAM_HPA);
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = MOCK_MMIO_GPA,
	        .hpa = MOCK_MMIO_HPA,
	        .size = HV_PAGE_SIZE,
	        .type = HV_REGION_MMIO,
	        .perm = HV_PERM_RW,
	        .memtype = HV_MT_UC,
	};
	p->devices[p->ndevices++] = (struct hv_device_config){
	        .gpa = MOCK_CONSOLE_GPA,
	        .size = HV_PAGE_SIZE,
	        .type = HV_DEV_CONSOLE,
	};
}

void mock_config_two(struct hv_system_config *cfg)
{
	mock_config_one(cfg);
	cfg->npartitions = 2;
	base_partition(&cfg->partitions[1], "p1", MOCK_P1_RAM_HPA);
	cfg->nchannels = 1;
	strncpy(cfg->channels[0].name, "link", HV_NAME_LEN - 1);
	cfg->channels[0].hpa = MOCK_CHAN_HPA;
	cfg->channels[0].size = MOCK_CHAN_SIZE;
	struct hv_partition_config *p0 = &cfg->partitions[0], *p1 = &cfg->partitions[1];
	p0->channels[p0->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_RW, .gpa = MOCK_CHAN_GPA};
	p1->channels[p1->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_R, .gpa = MOCK_CHAN_GPA};
}

hv_status mock_env_start(struct mock_env *env)
{
	mock_platform_init(&env->plat, MOCK_HOST_MEM);
	mock_cpuid_typical_host(&env->plat);
	mock_set_msr(&env->plat, HV_MSR_MTRRCAP, 0x508);
	mock_set_msr(&env->plat, MOCK_PASS_RW_MSR, 0x55);
	hv_status s = hv_pool_init(&env->pool, env->plat.mem + MOCK_POOL_HPA, MOCK_POOL_HPA,
	                           MOCK_POOL_PAGES);
	if (s != HV_OK)
		return s;
	return hv_system_init(&env->sys, &env->cfg, &mock_platform_ops, &env->plat, &env->pool,
	                      NULL);
}

void mock_env_stop(struct mock_env *env)
{
	mock_platform_free(&env->plat);
}

struct mock_env *mock_env_new(void (*configure)(struct hv_system_config *cfg))
{
	struct mock_env *env = calloc(1, sizeof(*env));
	if (!env)
		return NULL;
	configure(&env->cfg);
	if (mock_env_start(env) != HV_OK) {
		mock_env_free(env);
		return NULL;
	}
	return env;
}

void mock_env_free(struct mock_env *env)
{
	if (!env)
		return;
	mock_env_stop(env);
	free(env);
}

void mock_poke(struct mock_env *env, uint64_t hpa, const void *src, size_t len)
{
	if (hpa > env->plat.mem_size || len > env->plat.mem_size - hpa)
		abort();
	memcpy(env->plat.mem + hpa, src, len);
}

void mock_peek(struct mock_env *env, uint64_t hpa, void *dst, size_t len)
{
	if (hpa > env->plat.mem_size || len > env->plat.mem_size - hpa)
		abort();
	memcpy(dst, env->plat.mem + hpa, len);
}

void mock_identity_page_tables(struct mock_env *env, uint64_t ram_hpa, uint64_t pt_gpa)
{
	/* 4-level paging (SDM Vol. 3A, 4.5): P|RW|US in every table entry, plus
	 * PS in the PDEs for 2 MiB pages. */
	uint64_t pml4[512] = {0}, pdpt[512] = {0}, pd[512];
	pml4[0] = (pt_gpa + 0x1000) | 7;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (pt_gpa + 0x2000 + 0x1000ull * i) | 7;
	mock_poke(env, ram_hpa + pt_gpa, pml4, sizeof(pml4));
	mock_poke(env, ram_hpa + pt_gpa + 0x1000, pdpt, sizeof(pdpt));
	for (int d = 0; d < 4; d++) {
		for (int i = 0; i < 512; i++)
			pd[i] = ((uint64_t)d << 30 | (uint64_t)i << 21) | 0x87;
		mock_poke(env, ram_hpa + pt_gpa + 0x2000 + 0x1000ull * d, pd, sizeof(pd));
	}
}
