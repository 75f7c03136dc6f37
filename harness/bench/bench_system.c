#include "bench_system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hcall.h"
#include "hv/msr.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_ADDR 0x000ffffffffff000ull

static void add_msr(struct hv_partition_config *p, uint32_t msr, uint8_t mode, uint64_t init,
                    uint64_t writable)
{
	struct hv_msr_rule *r = &p->msr.rules[p->msr.nrules++];
	r->msr = msr;
	r->mode = mode;
	r->init = init;
	r->writable_mask = writable;
}

static void partition(struct hv_partition_config *p, const char *name, uint64_t ram_hpa)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->nvcpus = 2;
	p->hcall_allowed = HV_HC_ALL;
	p->contain = HV_CONTAIN_HALT;
	p->regions[p->nregions++] = (struct hv_region){
	        .gpa = 0,
	        .hpa = ram_hpa,
	        .size = HXB_RAM_SIZE,
	        .type = HV_REGION_RAM,
	        .perm = HV_PERM_RWX,
	        .memtype = HV_MT_WB,
	};
	/* The MSR policy of a typical partition: its own architectural MSRs
	 * emulated, one read-only passthrough, everything else denied. */
	add_msr(p, HV_MSR_TSC_AUX, HV_MSR_EMULATED, 0, 0xffffffffull);
	add_msr(p, HV_MSR_EFER, HV_MSR_EMULATED, HV_EFER_LME | HV_EFER_LMA,
	        HV_EFER_SCE | HV_EFER_LME | HV_EFER_LMA | HV_EFER_NXE);
	add_msr(p, HV_MSR_PAT, HV_MSR_EMULATED, 0x0007040600070406ull, ~0ull);
	add_msr(p, HV_MSR_FS_BASE, HV_MSR_EMULATED, 0, ~0ull);
	add_msr(p, HV_MSR_GS_BASE, HV_MSR_EMULATED, 0, ~0ull);
	add_msr(p, HV_MSR_MTRRCAP, HV_MSR_PASS_R, 0, 0);
}

static void build_config(struct hv_system_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host_mem_size = HXB_HOST_MEM;
	cfg->hv_base = 0;
	cfg->hv_size = HXB_HV_SIZE;
	cfg->npartitions = 2;
	partition(&cfg->partitions[0], "p0", HXB_P0_RAM_HPA);
	partition(&cfg->partitions[1], "p1", HXB_P1_RAM_HPA);
	struct hv_partition_config *p0 = &cfg->partitions[0], *p1 = &cfg->partitions[1];
	p0->devices[p0->ndevices++] = (struct hv_device_config){
	        .gpa = HXB_DEV_GPA,
	        .size = HV_PAGE_SIZE,
	        .type = HV_DEV_CONSOLE,
	};
	cfg->nchannels = 1;
	snprintf(cfg->channels[0].name, HV_NAME_LEN, "link");
	cfg->channels[0].hpa = HXB_CHAN_HPA;
	cfg->channels[0].size = HXB_CHAN_SIZE;
	p0->channels[p0->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_RW, .gpa = HXB_CHAN_GPA};
	p1->channels[p1->nchannels++] =
	        (struct hv_channel_member){.channel = 0, .perm = HV_PERM_R, .gpa = HXB_CHAN_GPA};
}

void hxb_poke(struct hxb_system *s, uint64_t gpa, const void *src, size_t len)
{
	if (gpa > HXB_RAM_SIZE || len > HXB_RAM_SIZE - gpa) {
		fprintf(stderr, "bench: guest poke outside partition 0 RAM\n");
		abort();
	}
	memcpy(s->plat.mem + HXB_P0_RAM_HPA + gpa, src, len);
}

static uint64_t peek64(struct hxb_system *s, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, s->plat.mem + HXB_P0_RAM_HPA + gpa, sizeof(v));
	return v;
}

static uint64_t gpt_alloc(struct hxb_system *s)
{
	static const uint8_t zero[4096];
	uint64_t gpa = s->gpt_next;
	s->gpt_next += 0x1000;
	hxb_poke(s, gpa, zero, sizeof(zero));
	return gpa;
}

void hxb_gpt_map(struct hxb_system *s, uint64_t la, uint64_t gpa)
{
	uint64_t table = s->cr3;
	for (int level = 3; level > 0; level--) {
		uint64_t e_gpa = table + ((la >> (12 + 9 * level)) & 511) * 8;
		uint64_t e = peek64(s, e_gpa);
		if (!(e & PTE_P)) {
			e = gpt_alloc(s) | PTE_P | PTE_RW | PTE_US;
			hxb_poke(s, e_gpa, &e, sizeof(e));
		}
		table = e & PTE_ADDR;
	}
	uint64_t pte = (gpa & PTE_ADDR) | PTE_P | PTE_RW;
	hxb_poke(s, table + ((la >> 12) & 511) * 8, &pte, sizeof(pte));
}

int hxb_system_start(struct hxb_system *s)
{
	memset(s, 0, sizeof(*s));
	if (hxb_platform_init(&s->plat, HXB_HOST_MEM) != 0) {
		perror("bench: host memory");
		return -1;
	}
	hxb_platform_typical_cpuid(&s->plat);
	hxb_platform_set_msr(&s->plat, HV_MSR_MTRRCAP, 0x508);
	build_config(&s->cfg);
	if (hv_pool_init(&s->pool, s->plat.mem + HXB_POOL_HPA, HXB_POOL_HPA, HXB_POOL_PAGES) !=
	    HV_OK) {
		fprintf(stderr, "bench: pool init failed\n");
		return -1;
	}
	struct hv_config_diag diag;
	hv_status st =
	        hv_system_init(&s->sys, &s->cfg, &hxb_platform_ops, &s->plat, &s->pool, &diag);
	if (st != HV_OK) {
		fprintf(stderr, "bench: system init failed: %s\n", hv_config_error_str(diag.error));
		return -1;
	}
	s->pool_mark = hv_pool_mark(&s->pool);
	size_t bytes = (size_t)s->pool_mark * HV_PAGE_SIZE;
	s->pool_snap = malloc(bytes);
	if (!s->pool_snap) {
		perror("bench: pool snapshot");
		return -1;
	}
	memcpy(s->pool_snap, s->pool.mem, bytes);
	s->gpt_next = HXB_GPT_BASE;
	s->cr3 = gpt_alloc(s);
	return 0;
}

void hxb_restore_ept(struct hxb_system *s)
{
	hv_pool_release_to(&s->pool, s->pool_mark);
	memcpy(s->pool.mem, s->pool_snap, (size_t)s->pool_mark * HV_PAGE_SIZE);
	for (uint32_t i = 0; i < s->cfg.npartitions; i++)
		s->sys.parts[i].protected_ = 0;
}

void hxb_system_stop(struct hxb_system *s)
{
	free(s->pool_snap);
	s->pool_snap = NULL;
	hxb_platform_free(&s->plat);
}
