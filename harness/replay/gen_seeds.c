/* hx-gen-seeds CONFIG.json OUTDIR: write seed traces covering every exit
 * family (CPUID, MSRs, hypercalls, channels, EPT violations, the other
 * exits and malformed records) for a two-partition config with a channel,
 * such as corpus/configs/two-channel.json. The host is synthetic
 * (synth_host.h) and guests run in long mode with identity-mapped page
 * tables, as the KVM runner sets them up. Every exit is checked by the
 * oracles while recording: the tool fails (exit 1) if any invariant breaks,
 * and 2 on bad input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_json.h"
#include "hv/cpuid.h"
#include "hv/hcall.h"
#include "hv/msr.h"
#include "recorder.h"
#include "synth_host.h"

#define CODE_GPA 0x10000ull    /* instructions of MMIO accesses */
#define DATA_GPA 0x20000ull    /* hypercall buffers */
#define PT_GPA 0x3000ull       /* PML4, PDPT, 4 PDs: identity map of 4 GiB */
#define UNMAPPED 0x7f000000ull /* above the RAM of two-channel.json, below devices */

struct gen {
	const struct hv_system_config *cfg;
	const char *config_name;
	const char *outdir;
	struct hx_synth_host *host;
	struct hv_pool pool;
	uint8_t *pool_mem;
	struct hv_system *sys;
	struct hx_recorder *rec;
	uint32_t violations;
	uint32_t files;
	uint64_t chan_gpa_ok; /* channel window of partition 0 */
};

static void on_violation(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct gen *g = ctx;
	g->violations++;
	fprintf(stderr, "hx-gen-seeds: exit %llu: %s: %s\n", (unsigned long long)index,
	        hv_invariant_id(inv), msg);
}

/* Host address of a partition's guest-physical address, through its RAM
 * regions (the generator only writes guest RAM). */
static bool gpa_hpa(const struct gen *g, uint32_t p, uint64_t gpa, uint64_t *hpa)
{
	const struct hv_partition_config *pc = &g->cfg->partitions[p];
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (r->type == HV_REGION_RAM && gpa >= r->gpa && gpa - r->gpa < r->size) {
			*hpa = r->hpa + (gpa - r->gpa);
			return true;
		}
	}
	return false;
}

static void poke(struct gen *g, uint32_t p, uint64_t gpa, const void *src, uint32_t len)
{
	uint64_t hpa;
	if (!gpa_hpa(g, p, gpa, &hpa) || !hx_synth_poke(g->host, hpa, src, len)) {
		fprintf(stderr, "hx-gen-seeds: partition %u has no RAM at gpa 0x%llx\n", p,
		        (unsigned long long)gpa);
		exit(2);
	}
}

/* Identity map [0, 4 GiB) with 2 MiB pages, like the runner's guests. */
static void page_tables(struct gen *g, uint32_t p)
{
	uint64_t pml4[512] = {0}, pdpt[512] = {0}, pd[512];
	pml4[0] = (PT_GPA + 0x1000) | 7;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (PT_GPA + 0x2000 + 0x1000ull * i) | 7;
	poke(g, p, PT_GPA, pml4, sizeof(pml4));
	poke(g, p, PT_GPA + 0x1000, pdpt, sizeof(pdpt));
	for (int d = 0; d < 4; d++) {
		for (int i = 0; i < 512; i++)
			pd[i] = ((uint64_t)d << 30 | (uint64_t)i << 21) | 0x87; /* P RW US PS */
		poke(g, p, PT_GPA + 0x2000 + 0x1000ull * d, pd, sizeof(pd));
	}
}

static void begin(struct gen *g)
{
	g->host = hx_synth_host_new(g->cfg->host_mem_size);
	uint64_t pages = (g->cfg->hv_size >> HV_PAGE_SHIFT) / 2;
	if (pages > HX_TRACE_MAX_POOL_PAGES)
		pages = HX_TRACE_MAX_POOL_PAGES;
	uint64_t pool_hpa = g->cfg->hv_base + g->cfg->hv_size - (pages << HV_PAGE_SHIFT);
	g->pool_mem = aligned_alloc(HV_PAGE_SIZE, pages << HV_PAGE_SHIFT);
	g->sys = calloc(1, sizeof(*g->sys));
	struct hv_config_diag diag;
	if (!g->host || !g->pool_mem || !g->sys ||
	    hv_pool_init(&g->pool, g->pool_mem, pool_hpa, (uint32_t)pages) != HV_OK ||
	    hv_system_init(g->sys, g->cfg, &hx_synth_host_ops, g->host, &g->pool, &diag) != HV_OK) {
		fprintf(stderr, "hx-gen-seeds: cannot start the system for this config\n");
		exit(2);
	}
	for (uint32_t p = 0; p < g->cfg->npartitions; p++)
		page_tables(g, p);
	g->rec = hx_recorder_new(g->sys, g->config_name, "hx-gen-seeds (synthetic host)",
	                         on_violation, g);
	if (!g->rec) {
		fprintf(stderr, "hx-gen-seeds: out of memory\n");
		exit(2);
	}
}

static void end(struct gen *g, const char *name)
{
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/%s", g->outdir, name);
	const struct hx_trace *t = hx_recorder_trace(g->rec);
	if (hx_trace_save(path, t, err, sizeof(err)) != 0) {
		fprintf(stderr, "hx-gen-seeds: %s\n", err);
		exit(2);
	}
	printf("%s: %u exits\n", path, t->nexits);
	g->files++;
	hx_recorder_free(g->rec);
	free(g->sys);
	free(g->pool_mem);
	hx_synth_host_free(g->host);
}

static struct hv_exit base_exit(uint32_t reason, uint32_t p, uint32_t v)
{
	struct hv_exit x = {.reason = reason, .partition = p, .vcpu = v};
	x.st.rip = CODE_GPA;
	x.st.gpr[HV_RSP] = 0x80000;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull; /* PE MP ET NE WP PG */
	x.st.cr3 = PT_GPA;
	x.st.cr4 = 0x620; /* PAE OSFXSR OSXMMEXCPT */
	x.st.efer = HV_EFER_SCE | HV_EFER_LME | HV_EFER_LMA | HV_EFER_NXE;
	return x;
}

static void run(struct gen *g, struct hv_exit *x)
{
	struct hv_result res;
	hx_recorder_exit(g->rec, x, &res); /* violations arrive through on_violation */
}

static void cpuid(struct gen *g, uint32_t p, uint32_t v, uint32_t leaf, uint32_t sub)
{
	struct hv_exit x = base_exit(HV_EXIT_CPUID, p, v);
	x.st.gpr[HV_RAX] = leaf;
	x.st.gpr[HV_RCX] = sub;
	x.insn_len = 2;
	run(g, &x);
}

static void rdmsr(struct gen *g, uint32_t p, uint32_t v, uint32_t msr)
{
	struct hv_exit x = base_exit(HV_EXIT_RDMSR, p, v);
	x.st.gpr[HV_RCX] = msr;
	x.insn_len = 2;
	run(g, &x);
}

static void wrmsr(struct gen *g, uint32_t p, uint32_t v, uint32_t msr, uint64_t val)
{
	struct hv_exit x = base_exit(HV_EXIT_WRMSR, p, v);
	x.st.gpr[HV_RCX] = msr;
	x.st.gpr[HV_RAX] = (uint32_t)val;
	x.st.gpr[HV_RDX] = val >> 32;
	x.insn_len = 2;
	run(g, &x);
}

static void hcall_cpl(struct gen *g, uint32_t p, uint8_t cpl, uint64_t nr, uint64_t a1, uint64_t a2,
                      uint64_t a3)
{
	struct hv_exit x = base_exit(HV_EXIT_VMCALL, p, 0);
	x.st.gpr[HV_RAX] = nr;
	x.st.gpr[HV_RDI] = a1;
	x.st.gpr[HV_RSI] = a2;
	x.st.gpr[HV_RDX] = a3;
	x.st.cpl = cpl;
	x.insn_len = 3;
	run(g, &x);
}

static void hcall(struct gen *g, uint32_t p, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	hcall_cpl(g, p, 0, nr, a1, a2, a3);
}

/* An access at gpa by the instruction `code` placed at the guest's RIP. */
static void mmio(struct gen *g, uint32_t p, const uint8_t *code, uint32_t len, uint64_t gpa,
                 bool write, const uint64_t regs[HV_GPR_COUNT])
{
	poke(g, p, CODE_GPA, code, len);
	struct hv_exit x = base_exit(HV_EXIT_EPT_VIOLATION, p, 0);
	for (int i = 0; i < HV_GPR_COUNT; i++)
		if (regs[i])
			x.st.gpr[i] = regs[i];
	x.gpa = gpa;
	x.gla = gpa;
	x.qual = (write ? HV_QUAL_WRITE : HV_QUAL_READ) | HV_QUAL_GLA_VALID;
	run(g, &x);
}

static void seed_cpuid(struct gen *g)
{
	static const uint32_t leaves[][2] = {
	        {0, 0},          {1, 0},          {4, 0},          {4, 1},          {4, 7},
	        {7, 0},          {7, 1},          {0xb, 0},        {0xb, 1},        {0xb, 2},
	        {0xd, 0},        {0xd, 1},        {0xd, 2},        {0x14, 0},       {0x40000000, 0},
	        {0x40000001, 0}, {0x40000002, 0}, {0x80000000, 0}, {0x80000001, 0}, {0x80000008, 0},
	        {0x8fffffff, 0}, {0xc0000000, 0},
	};
	begin(g);
	for (uint32_t p = 0; p < g->cfg->npartitions; p++)
		for (uint32_t v = 0; v < g->cfg->partitions[p].nvcpus; v++)
			for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
				cpuid(g, p, v, leaves[i][0], leaves[i][1]);
	cpuid(g, 0, 0, 1, 0); /* the same question twice: the same answer */
	end(g, "cpuid.hxt");
}

static void seed_msr(struct gen *g)
{
	begin(g);
	for (uint32_t p = 0; p < g->cfg->npartitions; p++) {
		rdmsr(g, p, 0, HV_MSR_EFER);
		wrmsr(g, p, 0, HV_MSR_EFER, HV_EFER_SCE | HV_EFER_LME | HV_EFER_LMA);
		rdmsr(g, p, 0, HV_MSR_EFER);
		wrmsr(g, p, 0, HV_MSR_EFER, HV_EFER_SVME | HV_EFER_LME | HV_EFER_LMA); /* #GP */
		wrmsr(g, p, 0, HV_MSR_FS_BASE, 0x00007fff12345000ull);
		wrmsr(g, p, 0, HV_MSR_FS_BASE, 0x0000800000000000ull); /* non-canonical */
		rdmsr(g, p, 0, HV_MSR_FS_BASE);
		wrmsr(g, p, 0, HV_MSR_TSC_AUX, 3);
		rdmsr(g, p, 0, HV_MSR_TSC_AUX);
		rdmsr(g, p, 0, HV_MSR_FEATURE_CONTROL);
		wrmsr(g, p, 0, HV_MSR_FEATURE_CONTROL, 5);
		rdmsr(g, p, 0, HV_MSR_VMX_BASIC);
		wrmsr(g, p, 0, HV_MSR_SMRR_PHYSBASE, 0);
		rdmsr(g, p, 0, HV_MSR_MTRRCAP);
		rdmsr(g, p, 0, 0x12345678); /* unknown */
		wrmsr(g, p, 0, HV_MSR_VM_HSAVE_PA, 0x1000);
	}
	end(g, "msr.hxt");
}

static void seed_hcall(struct gen *g)
{
	static const char hello[] = "hello from a seed\n";
	begin(g);
	for (uint32_t p = 0; p < g->cfg->npartitions; p++) {
		poke(g, p, DATA_GPA, hello, sizeof(hello) - 1);
		hcall(g, p, HV_HC_VERSION, 0, 0, 0);
		hcall(g, p, HV_HC_CONSOLE_WRITE, DATA_GPA, sizeof(hello) - 1, 0);
		hcall(g, p, HV_HC_CONSOLE_WRITE, DATA_GPA, HV_HC_CONSOLE_MAX + 1, 0); /* E2BIG */
		hcall(g, p, HV_HC_CONSOLE_WRITE, UNMAPPED, 8, 0);                     /* EFAULT */
		hcall(g, p, HV_HC_CONSOLE_WRITE, ~0ull - 3, 8, 0);                    /* wraps */
		hcall(g, p, HV_HC_PARTITION_INFO, DATA_GPA + 0x100, sizeof(struct hv_hc_info), 0);
		hcall(g, p, HV_HC_PARTITION_INFO, DATA_GPA + 0x100, 4, 0); /* too small */
		hcall(g, p, HV_HC_PARTITION_INFO, 0xfed00000, 64, 0);      /* device: EFAULT */
		hcall(g, p, HV_HC_YIELD, 0, 0, 0);
		hcall(g, p, 99, 0, 0, 0);                   /* ENOSYS */
		hcall(g, p, 1ull << 40, 0, 0, 0);           /* ENOSYS */
		hcall_cpl(g, p, 3, HV_HC_VERSION, 0, 0, 0); /* #UD */
		hcall(g, p, HV_HC_MEM_PROTECT, 0x200000, 0x1000, HV_PERM_R);
		hcall(g, p, HV_HC_MEM_PROTECT, 0x200000, 0x1000, HV_PERM_RW); /* would raise */
		hcall(g, p, HV_HC_MEM_PROTECT, 0x200001, 0x1000, HV_PERM_R);  /* misaligned */
		hcall(g, p, HV_HC_PARTITION_INFO, 0x200000, sizeof(struct hv_hc_info),
		      0); /* RO now */
		hcall(g, p, HV_HC_MEM_PROTECT, 0x400000, 0x200000, 0);
	}
	hcall(g, 1, HV_HC_SHUTDOWN, 0, 0, 0);
	hcall(g, 1, HV_HC_VERSION, 0, 0, 0); /* halted: refused */
	end(g, "hcall.hxt");
}

static void seed_channel(struct gen *g)
{
	static const char msg[] = "ping over the channel";
	begin(g);
	uint64_t chan = g->chan_gpa_ok;
	poke(g, 0, DATA_GPA, msg, sizeof(msg) - 1);
	hcall(g, 1, HV_HC_CHANNEL_RECV, 0, DATA_GPA + 0x800, 256); /* EAGAIN: empty */
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, DATA_GPA, sizeof(msg) - 1);
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, DATA_GPA, sizeof(msg) - 1); /* EAGAIN: full */
	hcall(g, 1, HV_HC_CHANNEL_RECV, 0, DATA_GPA + 0x800, 4);       /* E2BIG */
	hcall(g, 1, HV_HC_CHANNEL_RECV, 0, chan, 256);                 /* RO window: EFAULT */
	hcall(g, 1, HV_HC_CHANNEL_RECV, 0, DATA_GPA + 0x800, 256);
	hcall(g, 1, HV_HC_CHANNEL_SEND, 0, DATA_GPA, 4); /* not allowed for beta */
	hcall(g, 0, HV_HC_CHANNEL_SEND, 7, DATA_GPA, 4); /* no such channel */
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, DATA_GPA, 0); /* EINVAL */
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, chan, 16);    /* from the window itself */
	hcall(g, 0, HV_HC_CHANNEL_RECV, 0, chan + 0x1000, 64);
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, 0x2000000 - 8, 16); /* crosses the end of RAM */
	end(g, "channel.hxt");
}

static void seed_ept(struct gen *g)
{
	static const uint8_t store_bl[] = {0x88, 0x18};          /* mov [rax], bl */
	static const uint8_t load_status[] = {0x8b, 0x42, 0x08}; /* mov eax, [rdx+8] */
	static const uint8_t store_imm[] = {0x48, 0xc7, 0x41, 0x20, 0x78, 0x56, 0x34, 0x12};
	static const uint8_t load_scratch[] = {0x4c, 0x8b, 0x41, 0x20}; /* mov r8, [rcx+0x20] */
	static const uint8_t movzx[] = {0x0f, 0xb6, 0x3e};              /* movzx edi, byte [rsi] */
	static const uint8_t movsx[] = {0x48, 0x0f, 0xbf, 0x5e,
	                                0x18};                /* movsx rbx, word [rsi+0x18] */
	static const uint8_t store_ah[] = {0x88, 0x63, 0x10}; /* mov [rbx+0x10], ah */
	static const uint8_t notmov[] = {0x0f, 0x0b};         /* ud2 */
	const uint64_t dev = 0xfed00000ull;
	begin(g);
	for (uint32_t p = 0; p < g->cfg->npartitions; p++) {
		uint64_t r[HV_GPR_COUNT] = {0};
		r[HV_RAX] = dev;
		r[HV_RBX] = 'H';
		mmio(g, p, store_bl, sizeof(store_bl), dev, true, r);
		memset(r, 0, sizeof(r));
		r[HV_RDX] = dev;
		mmio(g, p, load_status, sizeof(load_status), dev + 8, false, r);
		memset(r, 0, sizeof(r));
		r[HV_RCX] = dev;
		mmio(g, p, store_imm, sizeof(store_imm), dev + 0x20, true, r);
		mmio(g, p, load_scratch, sizeof(load_scratch), dev + 0x20, false, r);
		memset(r, 0, sizeof(r));
		r[HV_RSI] = dev + 0x18;
		mmio(g, p, movzx, sizeof(movzx), dev + 0x18, false, r);
		r[HV_RSI] = dev;
		mmio(g, p, movsx, sizeof(movsx), dev + 0x18, false, r);
		memset(r, 0, sizeof(r));
		r[HV_RBX] = dev;
		r[HV_RAX] = 0x4100;
		mmio(g, p, store_ah, sizeof(store_ah), dev + 0x10, true, r);
		memset(r, 0, sizeof(r));
		r[HV_RAX] = dev;
		mmio(g, p, notmov, sizeof(notmov), dev, true, r); /* not decodable: contained */
		mmio(g, p, store_bl, sizeof(store_bl), dev + 8, true, r); /* gpa disagrees */
	}
	/* Unmapped memory: beta injects #GP, alpha halts (last). */
	uint64_t r[HV_GPR_COUNT] = {0};
	r[HV_RAX] = UNMAPPED;
	mmio(g, 1, store_bl, sizeof(store_bl), UNMAPPED, true, r);
	mmio(g, 0, store_bl, sizeof(store_bl), UNMAPPED, true, r);
	end(g, "ept.hxt");
}

static void seed_misc(struct gen *g)
{
	begin(g);
	struct hv_exit x;
	x = base_exit(HV_EXIT_IO, 1, 0);
	run(g, &x); /* beta: inject #GP */
	x = base_exit(HV_EXIT_XSETBV, 1, 0);
	run(g, &x);
	x = base_exit(HV_EXIT_IO, 0, 1); /* alpha: halt */
	run(g, &x);
	x = base_exit(HV_EXIT_HLT, 0, 0); /* already halted: refused */
	run(g, &x);
	x = base_exit(HV_EXIT_TRIPLE_FAULT, 1, 0);
	run(g, &x);
	end(g, "misc.hxt");

	begin(g);
	x = base_exit(HV_EXIT_INVALID_STATE, 1, 0);
	run(g, &x);
	x = base_exit(HV_EXIT_HLT, 0, 1);
	run(g, &x);
	end(g, "halt.hxt");

	/* Records the dispatcher must refuse. */
	begin(g);
	x = base_exit(HV_EXIT_CPUID, 9, 0); /* no such partition: ignored */
	run(g, &x);
	x = base_exit(HV_EXIT_CPUID, 0, 7); /* no such vCPU: alpha halts */
	run(g, &x);
	x = base_exit(HV_EXIT_CPUID, 1, 0);
	x.insn_len = 16; /* longer than any instruction: beta halts */
	run(g, &x);
	end(g, "malformed.hxt");

	begin(g);
	x = base_exit(HV_EXIT_COUNT + 3, 1, 0); /* no such reason */
	run(g, &x);
	x = base_exit(HV_EXIT_VMCALL, 0, 0);
	x.st.cpl = 4; /* no such privilege level */
	run(g, &x);
	end(g, "malformed2.hxt");
}

/* Everything interleaved in one trace: the state carried across exits
 * (emulated MSRs, mailbox, protections, device) is what the exit-sequence
 * fuzzer mutates. */
/* Control-register writes (hv/cr.h): allowed ones (TS, CLTS, LMSW, PGE),
 * ones the policy refuses (WP, VMXE) and ones the architecture refuses
 * (a reserved bit); beta injects #GP, alpha halts (last). */
static void cr_write(struct gen *g, uint32_t p, uint64_t qual, uint64_t value, uint32_t len)
{
	struct hv_exit x = base_exit(HV_EXIT_CR_WRITE, p, 0);
	/* MOV names its GPR in bits 11:8; CLTS and LMSW leave them 0. */
	x.qual = qual | ((qual & HV_QUAL_CR_TYPE_MASK) == HV_QUAL_CR_MOV
	                         ? (uint64_t)HV_RBX << HV_QUAL_CR_GPR_SHIFT
	                         : 0);
	x.st.gpr[HV_RBX] = value;
	x.insn_len = len;
	run(g, &x);
}

static void seed_cr(struct gen *g)
{
	begin(g);
	const uint64_t cr0 = 0x80050033ull, cr4 = 0x620;
	cr_write(g, 1, 0, cr0 | 8, 3);         /* MOV CR0: TS */
	cr_write(g, 1, HV_QUAL_CR_CLTS, 0, 2); /* CLTS */
	cr_write(g, 1, HV_QUAL_CR_LMSW | (0x6ull << HV_QUAL_CR_LMSW_SHIFT), 0, 3);
	cr_write(g, 1, 4, cr4 | 0x80, 3);          /* MOV CR4: PGE */
	cr_write(g, 1, 4, cr4 | (1ull << 13), 3);  /* VMXE: #GP */
	cr_write(g, 1, 0, cr0 | (1ull << 40), 3);  /* reserved: #GP */
	cr_write(g, 1, 3, 0x5000, 3);              /* CR3: not taken */
	cr_write(g, 0, 0, cr0 & ~(1ull << 16), 3); /* WP: alpha halts */
	end(g, "cr.hxt");
}

static void seed_mixed(struct gen *g)
{
	static const uint8_t store_bl[] = {0x88, 0x18};
	static const char msg[] = "mixed";
	begin(g);
	poke(g, 0, DATA_GPA, msg, sizeof(msg) - 1);
	cpuid(g, 0, 0, 1, 0);
	wrmsr(g, 0, 1, HV_MSR_TSC_AUX, 1);
	hcall(g, 0, HV_HC_CHANNEL_SEND, 0, DATA_GPA, sizeof(msg) - 1);
	cpuid(g, 1, 0, HV_CPUID_LEAF_HV_INFO, 0);
	rdmsr(g, 1, 0, HV_MSR_EFER);
	hcall(g, 1, HV_HC_CHANNEL_RECV, 0, DATA_GPA, 64);
	hcall(g, 1, HV_HC_CONSOLE_WRITE, DATA_GPA, sizeof(msg) - 1, 0);
	uint64_t r[HV_GPR_COUNT] = {0};
	r[HV_RAX] = 0xfed00000ull;
	r[HV_RBX] = 'x';
	mmio(g, 1, store_bl, sizeof(store_bl), 0xfed00000ull, true, r);
	hcall(g, 0, HV_HC_MEM_PROTECT, DATA_GPA, 0x1000, HV_PERM_R);
	hcall(g, 0, HV_HC_CHANNEL_RECV, 0, DATA_GPA, 64); /* EAGAIN */
	rdmsr(g, 0, 1, HV_MSR_TSC_AUX);
	hcall(g, 0, HV_HC_YIELD, 0, 0, 0);
	hcall(g, 0, HV_HC_SHUTDOWN, 0, 0, 0);
	end(g, "mixed.hxt");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hx-gen-seeds CONFIG.json OUTDIR\n");
		return 2;
	}
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	struct hx_config_error err;
	if (!cfg || hx_config_load(argv[1], cfg, &err) != HX_CONFIG_OK) {
		fprintf(stderr, "hx-gen-seeds: %s\n", cfg ? err.msg : "out of memory");
		return 2;
	}
	if (cfg->npartitions < 2 || cfg->nchannels < 1 || cfg->partitions[0].nchannels < 1) {
		fprintf(stderr,
		        "hx-gen-seeds: %s: needs two partitions and a channel of the "
		        "first\n",
		        argv[1]);
		return 2;
	}
	struct gen g = {.cfg = cfg, .config_name = argv[1], .outdir = argv[2]};
	g.chan_gpa_ok = cfg->partitions[0].channels[0].gpa;
	seed_cpuid(&g);
	seed_msr(&g);
	seed_hcall(&g);
	seed_channel(&g);
	seed_ept(&g);
	seed_misc(&g);
	seed_cr(&g);
	seed_mixed(&g);
	free(cfg);
	if (g.violations) {
		fprintf(stderr, "hx-gen-seeds: %u invariant violations while recording\n",
		        g.violations);
		return 1;
	}
	printf("%u seed traces written, no invariant violations\n", g.files);
	return 0;
}
