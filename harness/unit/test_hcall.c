/* Hypercall handler (VMCALL/VMMCALL, hv/hcall.h) on a mocked system of two
 * partitions and a channel. Every failing call is checked for HCALL-BOUNDS:
 * host memory (both partitions, channels, MMIO, the EPT pool) byte for byte,
 * console, channel and partition state, the pool, and every register but
 * RAX must be exactly as before. Successful calls are checked to change only
 * what their contract allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/ept.h"
#include "hv/exit.h"
#include "hv/hcall.h"
#include "hv/verify.h"
#include "mock_config.h"

/* ---- systems under test ------------------------------------------------ */

enum variant {
	CFG_TWO = 0, /* mock_config_two */
	CFG_THREE,   /* + partition p2 and channel 1 "side" (p1 RW, p2 RW) */
	CFG_SPLIT,   /* p0 RAM split: [0,4M) RWX and [4M,8M) RW only */
};

#define P2_RAM_HPA (52ull << 20)
#define SIDE_HPA (44ull << 20)
#define SIDE_GPA 0x20000000ull
#define SPLIT_AT (4ull << 20)
#define SPLIT_HPA2 (12ull << 20)
#define RAM_END MOCK_RAM_SIZE
#define INFO_SIZE ((uint64_t)sizeof(struct hv_hc_info))
#define TOP (~0ull)
#define RIP0 0x401000ull

static void config_three(struct hv_system_config *cfg)
{
	mock_config_two(cfg);
	struct hv_partition_config *p2 = &cfg->partitions[2];
	*p2 = cfg->partitions[1];
	snprintf(p2->name, sizeof(p2->name), "p2");
	p2->regions[0].hpa = P2_RAM_HPA;
	p2->nchannels = 0;
	cfg->npartitions = 3;
	snprintf(cfg->channels[1].name, HV_NAME_LEN, "side");
	cfg->channels[1].hpa = SIDE_HPA;
	cfg->channels[1].size = HV_PAGE_SIZE;
	cfg->nchannels = 2;
	struct hv_partition_config *p1 = &cfg->partitions[1];
	p1->channels[p1->nchannels++] =
	        (struct hv_channel_member){.channel = 1, .perm = HV_PERM_RW, .gpa = SIDE_GPA};
	p2->channels[p2->nchannels++] =
	        (struct hv_channel_member){.channel = 1, .perm = HV_PERM_RW, .gpa = SIDE_GPA};
}

static void config_split(struct hv_system_config *cfg)
{
	mock_config_two(cfg);
	struct hv_partition_config *p0 = &cfg->partitions[0];
	p0->regions[0].size = SPLIT_AT;
	p0->regions[p0->nregions++] = (struct hv_region){
	        .gpa = SPLIT_AT,
	        .hpa = SPLIT_HPA2,
	        .size = MOCK_RAM_SIZE - SPLIT_AT,
	        .type = HV_REGION_RAM,
	        .perm = HV_PERM_RW,
	        .memtype = HV_MT_WB,
	};
}

/* The platform of the tests: the mock plus an ept_changed recorder. */
static struct hv_platform_ops test_ops;
static struct {
	uint32_t calls;
	uint32_t part;
	uint64_t gpa, size;
} ept_changed_seen;

static void record_ept_changed(void *ctx, uint32_t part, uint64_t gpa, uint64_t size)
{
	(void)ctx;
	ept_changed_seen.calls++;
	ept_changed_seen.part = part;
	ept_changed_seen.gpa = gpa;
	ept_changed_seen.size = size;
}

static struct mock_env *env_new(enum variant v)
{
	static void (*const configure[])(struct hv_system_config *) = {
	        [CFG_TWO] = mock_config_two,
	        [CFG_THREE] = config_three,
	        [CFG_SPLIT] = config_split,
	};
	struct mock_env *env = mock_env_new(configure[v]);
	assert_non_null(env);
	test_ops = mock_platform_ops;
	test_ops.ept_changed = record_ept_changed;
	env->sys.ops = &test_ops;
	memset(&ept_changed_seen, 0, sizeof(ept_changed_seen));
	return env;
}

/* HPA behind a GPA of a partition's first RAM region / channel window, for
 * setting up and inspecting buffers without going through the EPT. */
static uint64_t ram_hpa(const struct mock_env *env, uint32_t part, uint64_t gpa)
{
	const struct hv_partition_config *pc = &env->cfg.partitions[part];
	for (uint32_t i = 0; i < pc->nregions; i++) {
		const struct hv_region *r = &pc->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r->hpa + (gpa - r->gpa);
	}
	for (uint32_t i = 0; i < pc->nchannels; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		const struct hv_channel_config *c = &env->cfg.channels[m->channel];
		if (gpa >= m->gpa && gpa - m->gpa < c->size)
			return c->hpa + (gpa - m->gpa);
	}
	fail_msg("gpa 0x%llx of partition %u has no backing", (unsigned long long)gpa, part);
	return 0;
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* ---- one call ---------------------------------------------------------- */

struct call {
	uint32_t part;
	uint32_t vcpu;
	uint8_t cpl;
	uint32_t insn_len;
	uint64_t nr;
	uint64_t a[4];
};

/* Every register gets a distinct value so any stray change shows. */
static void exit_init(struct hv_exit *e, const struct call *c)
{
	memset(e, 0, sizeof(*e));
	e->reason = HV_EXIT_VMCALL;
	e->partition = c->part;
	e->vcpu = c->vcpu;
	e->insn_len = c->insn_len;
	for (int i = 0; i < HV_GPR_COUNT; i++)
		e->st.gpr[i] = 0xa5a5000000000000ull | ((uint64_t)i << 32) | (uint64_t)(i * 0x1111);
	e->st.gpr[HV_RAX] = c->nr;
	e->st.gpr[HV_RDI] = c->a[0];
	e->st.gpr[HV_RSI] = c->a[1];
	e->st.gpr[HV_RDX] = c->a[2];
	e->st.gpr[HV_R10] = c->a[3];
	e->st.rip = RIP0;
	e->st.rflags = 0x202;
	e->st.cr0 = 0x80050033;
	e->st.cr4 = 0x20;
	e->st.efer = 0xd00;
	e->st.cpl = c->cpl;
}

static struct hv_result do_call(struct mock_env *env, const struct call *c, struct hv_exit *e)
{
	struct hv_result res;
	exit_init(e, c);
	hv_handle_exit(&env->sys, e, &res);
	return res;
}

/* A call expected to complete: returns RAX, checks RIP and that no register
 * but RAX (and RDI when rdi_may_change) moved. */
static int64_t call_ok(struct mock_env *env, const struct call *c, bool rdi_may_change,
                       uint64_t *rdi)
{
	struct hv_exit e, before;
	exit_init(&before, c);
	struct hv_result res = do_call(env, c, &e);
	assert_int_equal(res.action, HV_ACT_RESUME);
	assert_int_equal(res.insn_len, c->insn_len ? c->insn_len : 3);
	assert_int_equal(e.st.rip, RIP0 + res.insn_len);
	for (int i = 0; i < HV_GPR_COUNT; i++) {
		if (i == HV_RAX || (i == HV_RDI && rdi_may_change))
			continue;
		if (e.st.gpr[i] != before.st.gpr[i])
			fail_msg("register %d changed: 0x%llx -> 0x%llx", i,
			         (unsigned long long)before.st.gpr[i],
			         (unsigned long long)e.st.gpr[i]);
	}
	if (rdi)
		*rdi = e.st.gpr[HV_RDI];
	return (int64_t)e.st.gpr[HV_RAX];
}

/* ---- snapshots: "nothing changed" -------------------------------------- */

struct snap {
	uint8_t *mem;
	struct hv_partition *parts;
	struct hv_channel_state channels[HV_MAX_CHANNELS];
	struct hv_pool pool;
	uint32_t console_len;
	uint32_t console_calls;
	uint32_t ept_changed;
};

/* One snapshot is taken at a time; its buffers are kept for the next one
 * (copying 64 MiB into fresh pages for every row would dominate the run). */
static uint8_t *snap_mem_buf;
static struct hv_partition *snap_parts_buf;

static void snap_take(struct snap *s, const struct mock_env *env)
{
	assert_int_equal(env->plat.mem_size, MOCK_HOST_MEM);
	if (!snap_mem_buf)
		snap_mem_buf = malloc(MOCK_HOST_MEM);
	if (!snap_parts_buf)
		snap_parts_buf = malloc(sizeof(env->sys.parts));
	assert_non_null(snap_mem_buf);
	assert_non_null(snap_parts_buf);
	s->mem = snap_mem_buf;
	s->parts = snap_parts_buf;
	memcpy(s->mem, env->plat.mem, env->plat.mem_size);
	memcpy(s->parts, env->sys.parts, sizeof(env->sys.parts));
	memcpy(s->channels, env->sys.channels, sizeof(s->channels));
	s->pool = env->pool;
	s->console_len = env->plat.console_len;
	s->console_calls = env->plat.calls[MOCK_OP_CONSOLE];
	s->ept_changed = ept_changed_seen.calls;
}

static void snap_free(struct snap *s)
{
	s->mem = NULL;
	s->parts = NULL;
}

static int free_snap_buffers(void **state)
{
	(void)state;
	free(snap_mem_buf);
	free(snap_parts_buf);
	snap_mem_buf = NULL;
	snap_parts_buf = NULL;
	return 0;
}

/* Host memory equal to the snapshot outside [skip, skip+skip_len). */
static void assert_mem_same_except(const struct snap *s, const struct mock_env *env, uint64_t skip,
                                   uint64_t skip_len)
{
	uint64_t size = env->plat.mem_size;
	for (int half = 0; half < 2; half++) {
		uint64_t lo = half ? skip + skip_len : 0, hi = half ? size : skip;
		if (lo >= hi || memcmp(s->mem + lo, env->plat.mem + lo, hi - lo) == 0)
			continue;
		for (uint64_t i = lo; i < hi; i++)
			if (s->mem[i] != env->plat.mem[i])
				fail_msg("host memory changed at hpa 0x%llx",
				         (unsigned long long)i);
	}
}

/* HCALL-BOUNDS: nothing observable changed at all. */
static void assert_nothing_changed(const struct snap *s, const struct mock_env *env)
{
	assert_mem_same_except(s, env, 0, 0);
	assert_memory_equal(s->parts, env->sys.parts, sizeof(env->sys.parts));
	assert_memory_equal(s->channels, env->sys.channels, sizeof(s->channels));
	assert_memory_equal(&s->pool, &env->pool, sizeof(s->pool));
	assert_int_equal(s->console_len, env->plat.console_len);
	assert_int_equal(s->console_calls, env->plat.calls[MOCK_OP_CONSOLE]);
	assert_int_equal(s->ept_changed, ept_changed_seen.calls);
}

/* Take the current host bytes behind [gpa, gpa+len) of a partition into the
 * snapshot: the writes a successful call is allowed to make. */
static void accept_guest_bytes(struct snap *s, const struct mock_env *env, uint32_t part,
                               uint64_t gpa, uint64_t len)
{
	for (uint64_t k = 0; k < len; k++) {
		uint64_t hpa = ram_hpa(env, part, gpa + k);
		s->mem[hpa] = env->plat.mem[hpa];
	}
}

static struct hv_ept_map translate(const struct mock_env *env, uint32_t part, uint64_t gpa)
{
	struct hv_ept_map m;
	memset(&m, 0, sizeof(m));
	assert_int_equal(hv_ept_translate(&env->pool, env->sys.parts[part].ept_root, gpa, &m),
	                 HV_OK);
	return m;
}

static uint32_t verify_all(const struct mock_env *env)
{
	struct hv_verify_part vp[HV_MAX_PARTITIONS];
	memset(vp, 0, sizeof(vp));
	for (uint32_t i = 0; i < env->cfg.npartitions; i++) {
		vp[i].root = env->sys.parts[i].ept_root;
		vp[i].protected_ = env->sys.parts[i].protected_ != 0;
	}
	return hv_ept_verify(&env->cfg, &env->pool, vp, NULL, NULL, 16);
}

/* ---- setups for rows ---------------------------------------------------- */

static int64_t setup_call(struct mock_env *env, uint32_t part, uint64_t nr, uint64_t a0,
                          uint64_t a1, uint64_t a2)
{
	struct call c = {.part = part, .nr = nr, .a = {a0, a1, a2, 0}};
	struct hv_exit e;
	struct hv_result res = do_call(env, &c, &e);
	assert_int_equal(res.action, HV_ACT_RESUME);
	return (int64_t)e.st.gpr[HV_RAX];
}

/* p0 sends a 64-byte message from gpa 0x3000 */
static void setup_message(struct mock_env *env)
{
	uint8_t msg[64];
	fill_pattern(msg, sizeof(msg), 0x40);
	mock_poke(env, ram_hpa(env, 0, 0x3000), msg, sizeof(msg));
	assert_int_equal(setup_call(env, 0, HV_HC_CHANNEL_SEND, 0, 0x3000, sizeof(msg)), HV_HC_OK);
}

static void setup_protect_5000_r(struct mock_env *env)
{
	assert_int_equal(setup_call(env, 0, HV_HC_MEM_PROTECT, 0x5000, 0x1000, HV_PERM_R),
	                 HV_HC_OK);
}

static void setup_protect_5000_none(struct mock_env *env)
{
	assert_int_equal(setup_call(env, 0, HV_HC_MEM_PROTECT, 0x5000, 0x1000, 0), HV_HC_OK);
}

static void setup_pool_full(struct mock_env *env)
{
	env->pool.npages = env->pool.used;
}

static void setup_fail_next_phys_read(struct mock_env *env)
{
	env->plat.fail_nth[MOCK_OP_PHYS_READ] = env->plat.calls[MOCK_OP_PHYS_READ] + 1;
}

static void setup_fail_next_phys_write(struct mock_env *env)
{
	env->plat.fail_nth[MOCK_OP_PHYS_WRITE] = env->plat.calls[MOCK_OP_PHYS_WRITE] + 1;
}

static void setup_message_fail_read(struct mock_env *env)
{
	setup_message(env);
	setup_fail_next_phys_read(env);
}

static void setup_message_fail_write(struct mock_env *env)
{
	setup_message(env);
	setup_fail_next_phys_write(env);
}

/* A mailbox whose length no send could have produced. */
static void setup_bogus_length(struct mock_env *env)
{
	env->sys.channels[0].msg_len = HV_HC_MSG_MAX + 1;
}

/* Make the EPT entry for p0's GPA [6M, 8M) a table pointer into p1's RAM,
 * outside the pool: walks through it must be refused. */
static void setup_corrupt_ept(struct mock_env *env)
{
	struct hv_ept_map m = translate(env, 0, 6ull << 20);
	assert_true(m.present);
	assert_int_equal(m.level, HV_PG_2M);
	uint64_t root = env->sys.parts[0].ept_root;
	uint64_t *pml4 = hv_pool_ptr(&env->pool, root);
	assert_non_null(pml4);
	uint64_t *pdpt = hv_pool_ptr(&env->pool, pml4[0] & HV_EPTE_ADDR_MASK);
	assert_non_null(pdpt);
	uint64_t *pd = hv_pool_ptr(&env->pool, pdpt[0] & HV_EPTE_ADDR_MASK);
	assert_non_null(pd);
	pd[3] = MOCK_P1_RAM_HPA | HV_EPTE_R | HV_EPTE_W | HV_EPTE_X;
}

/* ---- failing calls: status and no side effect --------------------------- */

struct fail_row {
	const char *name;
	enum variant cfg;
	void (*setup)(struct mock_env *env);
	uint32_t part;
	uint64_t nr;
	uint64_t a[4];
	int64_t status;
};

#define CW HV_HC_CONSOLE_WRITE
#define PI HV_HC_PARTITION_INFO
#define CS HV_HC_CHANNEL_SEND
#define CR HV_HC_CHANNEL_RECV
#define MP HV_HC_MEM_PROTECT
#define CHAN MOCK_CHAN_GPA
#define CHAN_END (MOCK_CHAN_GPA + MOCK_CHAN_SIZE)

static const struct fail_row fail_rows[] = {
        /* numbers */
        {"first unknown number", CFG_TWO, NULL, 0, HV_HC_COUNT, {0}, HV_HC_ENOSYS},
        {"nr 0xffffffff unknown", CFG_TWO, NULL, 0, 0xffffffffull, {0}, HV_HC_ENOSYS},
        {"nr upper bits set (no aliasing of 1)",
         CFG_TWO,
         NULL,
         0,
         (1ull << 32) | CW,
         {0x1000, 4},
         HV_HC_ENOSYS},
        {"nr all ones", CFG_TWO, NULL, 1, TOP, {0}, HV_HC_ENOSYS},

        /* CONSOLE_WRITE: lengths */
        {"console len 257", CFG_TWO, NULL, 0, CW, {0x1000, 257}, HV_HC_E2BIG},
        {"console len 2^32+4 (no truncation)",
         CFG_TWO,
         NULL,
         0,
         CW,
         {0x1000, (1ull << 32) | 4},
         HV_HC_E2BIG},
        {"console len all ones", CFG_TWO, NULL, 0, CW, {0x1000, TOP}, HV_HC_E2BIG},
        /* CONSOLE_WRITE: buffers in the caller's own GPA space only */
        {"console at end of own RAM", CFG_TWO, NULL, 0, CW, {RAM_END, 1}, HV_HC_EFAULT},
        {"console crosses end of RAM by 1", CFG_TWO, NULL, 0, CW, {RAM_END - 16, 17}, HV_HC_EFAULT},
        {"console p1 crosses end of RAM by 1",
         CFG_TWO,
         NULL,
         1,
         CW,
         {RAM_END - 1, 2},
         HV_HC_EFAULT},
        {"console at p1's RAM HPA used as GPA",
         CFG_TWO,
         NULL,
         0,
         CW,
         {MOCK_P1_RAM_HPA, 8},
         HV_HC_EFAULT},
        {"console unmapped gpa", CFG_TWO, NULL, 0, CW, {0x40000000, 8}, HV_HC_EFAULT},
        {"console beyond 48-bit GPA space", CFG_TWO, NULL, 0, CW, {1ull << 48, 8}, HV_HC_EFAULT},
        {"console passthrough MMIO", CFG_TWO, NULL, 0, CW, {MOCK_MMIO_GPA, 8}, HV_HC_EFAULT},
        {"console device window", CFG_TWO, NULL, 0, CW, {MOCK_CONSOLE_GPA, 8}, HV_HC_EFAULT},
        {"console wraps 2^64", CFG_TWO, NULL, 0, CW, {TOP - 3, 8}, HV_HC_EFAULT},
        {"console last byte of 2^64", CFG_TWO, NULL, 0, CW, {TOP, 1}, HV_HC_EFAULT},
        {"console crosses channel end", CFG_TWO, NULL, 0, CW, {CHAN_END - 4, 8}, HV_HC_EFAULT},
        {"console channel p0 is not in", CFG_THREE, NULL, 0, CW, {SIDE_GPA, 8}, HV_HC_EFAULT},
        {"console page protected to none",
         CFG_TWO,
         setup_protect_5000_none,
         0,
         CW,
         {0x5000, 8},
         HV_HC_EFAULT},
        {"console straddles protected page",
         CFG_TWO,
         setup_protect_5000_none,
         0,
         CW,
         {0x4ff0, 32},
         HV_HC_EFAULT},
        {"console host read fails",
         CFG_TWO,
         setup_fail_next_phys_read,
         0,
         CW,
         {0x1000, 8},
         HV_HC_EFAULT},

        /* PARTITION_INFO */
        {"info len sizeof-1", CFG_TWO, NULL, 0, PI, {0x1000, INFO_SIZE - 1}, HV_HC_E2BIG},
        {"info len 0", CFG_TWO, NULL, 0, PI, {0x1000, 0}, HV_HC_E2BIG},
        {"info crosses end of RAM by 1",
         CFG_TWO,
         NULL,
         0,
         PI,
         {RAM_END - INFO_SIZE + 1, 4096},
         HV_HC_EFAULT},
        {"info beyond own RAM", CFG_TWO, NULL, 1, PI, {RAM_END, INFO_SIZE}, HV_HC_EFAULT},
        {"info passthrough MMIO", CFG_TWO, NULL, 0, PI, {MOCK_MMIO_GPA, INFO_SIZE}, HV_HC_EFAULT},
        {"info device window", CFG_TWO, NULL, 0, PI, {MOCK_CONSOLE_GPA, INFO_SIZE}, HV_HC_EFAULT},
        {"info unmapped", CFG_TWO, NULL, 0, PI, {0x80000000, INFO_SIZE}, HV_HC_EFAULT},
        {"info wraps 2^64", CFG_TWO, NULL, 0, PI, {TOP - 16, INFO_SIZE}, HV_HC_EFAULT},
        {"info into read-only channel", CFG_TWO, NULL, 1, PI, {CHAN, INFO_SIZE}, HV_HC_EFAULT},
        {"info straddles channel end",
         CFG_TWO,
         NULL,
         0,
         PI,
         {CHAN_END - 8, INFO_SIZE},
         HV_HC_EFAULT},
        {"info p1 at p0's MMIO GPA",
         CFG_TWO,
         NULL,
         1,
         PI,
         {MOCK_MMIO_GPA, INFO_SIZE},
         HV_HC_EFAULT},
        {"info into page protected to R",
         CFG_TWO,
         setup_protect_5000_r,
         0,
         PI,
         {0x5000, INFO_SIZE},
         HV_HC_EFAULT},
        {"info host write fails",
         CFG_TWO,
         setup_fail_next_phys_write,
         0,
         PI,
         {0x1000, INFO_SIZE},
         HV_HC_EFAULT},

        /* CHANNEL_SEND: arguments */
        {"send channel 1 of 1", CFG_TWO, NULL, 0, CS, {1, 0x1000, 8}, HV_HC_EINVAL},
        {"send channel 2^32", CFG_TWO, NULL, 0, CS, {1ull << 32, 0x1000, 8}, HV_HC_EINVAL},
        {"send channel all ones", CFG_TWO, NULL, 0, CS, {TOP, 0x1000, 8}, HV_HC_EINVAL},
        {"send by RO member", CFG_TWO, NULL, 1, CS, {0, 0x1000, 8}, HV_HC_EPERM},
        {"send by non-member", CFG_THREE, NULL, 0, CS, {1, 0x1000, 8}, HV_HC_EPERM},
        {"send len 0", CFG_TWO, NULL, 0, CS, {0, 0x1000, 0}, HV_HC_EINVAL},
        {"send len 4097", CFG_TWO, NULL, 0, CS, {0, 0x1000, HV_HC_MSG_MAX + 1}, HV_HC_E2BIG},
        {"send len 2^32+8", CFG_TWO, NULL, 0, CS, {0, 0x1000, (1ull << 32) | 8}, HV_HC_E2BIG},
        {"send len all ones", CFG_TWO, NULL, 0, CS, {0, 0x1000, TOP}, HV_HC_E2BIG},
        /* CHANNEL_SEND: buffers */
        {"send crosses end of RAM by 1",
         CFG_TWO,
         NULL,
         0,
         CS,
         {0, RAM_END - 99, 100},
         HV_HC_EFAULT},
        {"send beyond own RAM", CFG_TWO, NULL, 0, CS, {0, RAM_END + 0x1000, 8}, HV_HC_EFAULT},
        {"send unmapped", CFG_TWO, NULL, 0, CS, {0, 0x30000000, 8}, HV_HC_EFAULT},
        {"send from passthrough MMIO", CFG_TWO, NULL, 0, CS, {0, MOCK_MMIO_GPA, 8}, HV_HC_EFAULT},
        {"send from device window", CFG_TWO, NULL, 0, CS, {0, MOCK_CONSOLE_GPA, 8}, HV_HC_EFAULT},
        {"send wraps 2^64", CFG_TWO, NULL, 0, CS, {0, TOP - 7, 16}, HV_HC_EFAULT},
        {"send crosses channel end", CFG_TWO, NULL, 0, CS, {0, CHAN_END - 8, 16}, HV_HC_EFAULT},
        {"send from page protected to none",
         CFG_TWO,
         setup_protect_5000_none,
         0,
         CS,
         {0, 0x5000, 16},
         HV_HC_EFAULT},
        /* CHANNEL_SEND: state and platform */
        {"send to full mailbox", CFG_TWO, setup_message, 0, CS, {0, 0x1000, 8}, HV_HC_EAGAIN},
        {"send bad buffer to full mailbox",
         CFG_TWO,
         setup_message,
         0,
         CS,
         {0, RAM_END, 8},
         HV_HC_EFAULT},
        {"send host read fails",
         CFG_TWO,
         setup_fail_next_phys_read,
         0,
         CS,
         {0, 0x1000, 8},
         HV_HC_EFAULT},
        {"send host write fails",
         CFG_TWO,
         setup_fail_next_phys_write,
         0,
         CS,
         {0, 0x1000, 8},
         HV_HC_EFAULT},

        /* CHANNEL_RECV: arguments */
        {"recv channel 1 of 1", CFG_TWO, setup_message, 1, CR, {1, 0x1000, 4096}, HV_HC_EINVAL},
        {"recv channel all ones", CFG_TWO, setup_message, 1, CR, {TOP, 0x1000, 4096}, HV_HC_EINVAL},
        {"recv by non-member", CFG_THREE, NULL, 0, CR, {1, 0x1000, 4096}, HV_HC_EPERM},
        /* CHANNEL_RECV: buffers (checked whatever the mailbox holds) */
        {"recv into read-only channel", CFG_TWO, setup_message, 1, CR, {0, CHAN, 64}, HV_HC_EFAULT},
        {"recv into passthrough MMIO",
         CFG_TWO,
         setup_message,
         0,
         CR,
         {0, MOCK_MMIO_GPA, 64},
         HV_HC_EFAULT},
        {"recv into device window",
         CFG_TWO,
         setup_message,
         1,
         CR,
         {0, MOCK_CONSOLE_GPA, 64},
         HV_HC_EFAULT},
        {"recv beyond own RAM", CFG_TWO, setup_message, 1, CR, {0, RAM_END, 64}, HV_HC_EFAULT},
        {"recv crosses end of RAM by 1",
         CFG_TWO,
         setup_message,
         1,
         CR,
         {0, RAM_END - 63, 64},
         HV_HC_EFAULT},
        {"recv huge maxlen near end of RAM",
         CFG_TWO,
         setup_message,
         1,
         CR,
         {0, RAM_END - 64, TOP},
         HV_HC_EFAULT},
        {"recv unmapped", CFG_TWO, setup_message, 1, CR, {0, 0x50000000, 64}, HV_HC_EFAULT},
        {"recv wraps 2^64", CFG_TWO, setup_message, 1, CR, {0, TOP - 31, 64}, HV_HC_EFAULT},
        {"recv into page protected to R",
         CFG_TWO,
         setup_protect_5000_r,
         0,
         CR,
         {0, 0x5000, 64},
         HV_HC_EFAULT},
        {"recv bad buffer on empty mailbox", CFG_TWO, NULL, 1, CR, {0, RAM_END, 64}, HV_HC_EFAULT},
        /* CHANNEL_RECV: state and platform */
        {"recv empty", CFG_TWO, NULL, 1, CR, {0, 0x1000, 4096}, HV_HC_EAGAIN},
        {"recv empty maxlen 0", CFG_TWO, NULL, 1, CR, {0, TOP, 0}, HV_HC_EAGAIN},
        {"recv maxlen 63 < 64", CFG_TWO, setup_message, 1, CR, {0, 0x1000, 63}, HV_HC_E2BIG},
        {"recv maxlen 0 with message", CFG_TWO, setup_message, 1, CR, {0, 0x1000, 0}, HV_HC_E2BIG},
        {"recv host read fails",
         CFG_TWO,
         setup_message_fail_read,
         1,
         CR,
         {0, 0x1000, 64},
         HV_HC_EFAULT},
        {"recv host write fails",
         CFG_TWO,
         setup_message_fail_write,
         1,
         CR,
         {0, 0x1000, 64},
         HV_HC_EFAULT},
        {"recv bogus mailbox length",
         CFG_TWO,
         setup_bogus_length,
         1,
         CR,
         {0, 0x1000, TOP},
         HV_HC_EFAULT},

        /* MEM_PROTECT: arguments */
        {"protect perm bit 3", CFG_TWO, NULL, 0, MP, {0x5000, 0x1000, 8}, HV_HC_EINVAL},
        {"protect perm W only", CFG_TWO, NULL, 0, MP, {0x5000, 0x1000, HV_PERM_W}, HV_HC_EINVAL},
        {"protect perm X only", CFG_TWO, NULL, 0, MP, {0x5000, 0x1000, HV_PERM_X}, HV_HC_EINVAL},
        {"protect perm WX",
         CFG_TWO,
         NULL,
         0,
         MP,
         {0x5000, 0x1000, HV_PERM_W | HV_PERM_X},
         HV_HC_EINVAL},
        {"protect perm 2^32|R",
         CFG_TWO,
         NULL,
         0,
         MP,
         {0x5000, 0x1000, (1ull << 32) | 1},
         HV_HC_EINVAL},
        {"protect gpa unaligned", CFG_TWO, NULL, 0, MP, {0x5001, 0x1000, HV_PERM_R}, HV_HC_EINVAL},
        {"protect size unaligned", CFG_TWO, NULL, 0, MP, {0x5000, 0xfff, HV_PERM_R}, HV_HC_EINVAL},
        {"protect size 0", CFG_TWO, NULL, 0, MP, {0x5000, 0, HV_PERM_R}, HV_HC_EINVAL},
        {"protect wraps 2^64",
         CFG_TWO,
         NULL,
         0,
         MP,
         {TOP & HV_PAGE_MASK, 0x2000, HV_PERM_R},
         HV_HC_EINVAL},
        /* MEM_PROTECT: only the caller's own RAM */
        {"protect channel window", CFG_TWO, NULL, 0, MP, {CHAN, 0x1000, HV_PERM_R}, HV_HC_EFAULT},
        {"protect passthrough MMIO",
         CFG_TWO,
         NULL,
         0,
         MP,
         {MOCK_MMIO_GPA, 0x1000, HV_PERM_R},
         HV_HC_EFAULT},
        {"protect device window",
         CFG_TWO,
         NULL,
         0,
         MP,
         {MOCK_CONSOLE_GPA, 0x1000, 0},
         HV_HC_EFAULT},
        {"protect beyond own RAM",
         CFG_TWO,
         NULL,
         1,
         MP,
         {RAM_END, 0x1000, HV_PERM_R},
         HV_HC_EFAULT},
        {"protect crosses end of RAM",
         CFG_TWO,
         NULL,
         0,
         MP,
         {RAM_END - 0x1000, 0x2000, 0},
         HV_HC_EFAULT},
        {"protect unmapped", CFG_TWO, NULL, 0, MP, {0x40000000, 0x1000, 0}, HV_HC_EFAULT},
        {"protect 2^47 bytes from 0",
         CFG_TWO,
         NULL,
         0,
         MP,
         {0, 1ull << 47, HV_PERM_R},
         HV_HC_EFAULT},
        {"protect beyond 48-bit GPA space",
         CFG_TWO,
         NULL,
         0,
         MP,
         {1ull << 48, 0x1000, 0},
         HV_HC_EFAULT},
        {"protect p1 at p0's MMIO GPA",
         CFG_TWO,
         NULL,
         1,
         MP,
         {MOCK_MMIO_GPA, 0x1000, 0},
         HV_HC_EFAULT},
        /* MEM_PROTECT: never raises */
        {"protect R page back to RW",
         CFG_TWO,
         setup_protect_5000_r,
         0,
         MP,
         {0x5000, 0x1000, HV_PERM_RW},
         HV_HC_EPERM},
        {"protect R page to RX",
         CFG_TWO,
         setup_protect_5000_r,
         0,
         MP,
         {0x5000, 0x1000, HV_PERM_RX},
         HV_HC_EPERM},
        {"protect range over R page to RW",
         CFG_TWO,
         setup_protect_5000_r,
         0,
         MP,
         {0x4000, 0x3000, HV_PERM_RW},
         HV_HC_EPERM},
        {"protect none page to R",
         CFG_TWO,
         setup_protect_5000_none,
         0,
         MP,
         {0x5000, 0x1000, HV_PERM_R},
         HV_HC_EPERM},
        {"protect RW region to RWX",
         CFG_SPLIT,
         NULL,
         0,
         MP,
         {SPLIT_AT, 0x1000, HV_PERM_RWX},
         HV_HC_EPERM},
        {"protect across regions to RX",
         CFG_SPLIT,
         NULL,
         0,
         MP,
         {SPLIT_AT - 0x1000, 0x2000, HV_PERM_RX},
         HV_HC_EPERM},
        /* MEM_PROTECT: resources and broken tables */
        {"protect 4K of a 2M page, pool full",
         CFG_TWO,
         setup_pool_full,
         0,
         MP,
         {0x5000, 0x1000, HV_PERM_R},
         HV_HC_ENOMEM},
        {"protect walk hits a bad table",
         CFG_TWO,
         setup_corrupt_ept,
         0,
         MP,
         {6ull << 20, 0x1000, HV_PERM_R},
         HV_HC_EFAULT},
        {"protect to none hits a bad table",
         CFG_TWO,
         setup_corrupt_ept,
         0,
         MP,
         {6ull << 20, 0x1000, 0},
         HV_HC_EFAULT},
};

static void test_failing_calls_change_nothing(void **state)
{
	(void)state;
	/* A failing call changes nothing, so rows without a setup share one
	 * system; a row with a setup gets a fresh one and leaves it dirty. */
	struct mock_env *env = NULL;
	enum variant env_cfg = CFG_TWO;
	bool dirty = false;
	for (size_t i = 0; i < HV_ARRAY_LEN(fail_rows); i++) {
		const struct fail_row *r = &fail_rows[i];
		print_message("  %s\n", r->name);
		if (env && (dirty || r->setup || env_cfg != r->cfg)) {
			mock_env_free(env);
			env = NULL;
		}
		if (!env) {
			env = env_new(r->cfg);
			env_cfg = r->cfg;
		}
		dirty = r->setup != NULL;
		if (r->setup)
			r->setup(env);
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = r->part, .nr = r->nr};
		memcpy(c.a, r->a, sizeof(c.a));
		int64_t st = call_ok(env, &c, false, NULL);
		if (st != r->status)
			fail_msg("%s: status %lld, expected %lld", r->name, (long long)st,
			         (long long)r->status);
		assert_nothing_changed(&s, env);
		if (r->setup != setup_corrupt_ept)
			assert_int_equal(verify_all(env), 0);
		snap_free(&s);
	}
	if (env)
		mock_env_free(env);
}

/* ---- calls that must be refused before looking at anything ------------- */

/* Arguments that make call nr succeed on CFG_TWO for partition 0 (after
 * valid_setup). */
static const uint64_t valid_args[HV_HC_COUNT][4] = {
        [HV_HC_VERSION] = {0},
        [HV_HC_CONSOLE_WRITE] = {0x1000, 16},
        [HV_HC_PARTITION_INFO] = {0x1000, INFO_SIZE},
        [HV_HC_CHANNEL_SEND] = {0, 0x1000, 16},
        [HV_HC_CHANNEL_RECV] = {0, 0x2000, 4096},
        [HV_HC_MEM_PROTECT] = {0x5000, 0x1000, HV_PERM_R},
        [HV_HC_YIELD] = {0},
        [HV_HC_SHUTDOWN] = {0},
        [HV_HC_CALL_RETURN] = {0x1234},
        [HV_HC_CALL_FAULT] = {HV_VEC_GP, 0, 0x401000, 0},
};

static void valid_setup(struct mock_env *env, uint64_t nr)
{
	uint8_t buf[64];
	fill_pattern(buf, sizeof(buf), 0x11);
	mock_poke(env, ram_hpa(env, 0, 0x1000), buf, sizeof(buf));
	if (nr == HV_HC_CHANNEL_RECV)
		setup_message(env);
}

static void test_valid_args_really_succeed(void **state)
{
	(void)state;
	for (uint64_t nr = 0; nr < HV_HC_SHUTDOWN; nr++) {
		struct mock_env *env = env_new(CFG_TWO);
		valid_setup(env, nr);
		struct call c = {.part = 0, .nr = nr};
		memcpy(c.a, valid_args[nr], sizeof(c.a));
		assert_int_equal(call_ok(env, &c, true, NULL), HV_HC_OK);
		mock_env_free(env);
	}
}

static void test_cpl_above_0_is_ud(void **state)
{
	(void)state;
	static const uint64_t extra_nrs[] = {HV_HC_COUNT, TOP};
	for (uint64_t k = 0; k < HV_HC_COUNT + HV_ARRAY_LEN(extra_nrs); k++) {
		uint64_t nr = k < HV_HC_COUNT ? k : extra_nrs[k - HV_HC_COUNT];
		/* One system per number: a refused call leaves it as it was. */
		struct mock_env *env = env_new(CFG_TWO);
		if (nr < HV_HC_COUNT)
			valid_setup(env, nr);
		for (uint8_t cpl = 1; cpl <= 3; cpl++) {
			struct snap s;
			snap_take(&s, env);
			struct call c = {.part = 0, .cpl = cpl, .nr = nr};
			if (nr < HV_HC_COUNT)
				memcpy(c.a, valid_args[nr], sizeof(c.a));
			struct hv_exit e, before;
			exit_init(&before, &c);
			struct hv_result res = do_call(env, &c, &e);
			assert_int_equal(res.action, HV_ACT_INJECT);
			assert_int_equal(res.vector, HV_VEC_UD);
			assert_int_equal(res.has_error_code, 0);
			/* Nothing at all moved, not even RAX or RIP. */
			assert_memory_equal(&e.st, &before.st, sizeof(e.st));
			assert_nothing_changed(&s, env);
			snap_free(&s);
		}
		mock_env_free(env);
	}
}

static void test_disallowed_numbers_eperm(void **state)
{
	(void)state;
	for (uint64_t nr = 0; nr < HV_HC_COUNT; nr++) {
		struct mock_env *env = env_new(CFG_TWO);
		valid_setup(env, nr);
		for (int all_off = 0; all_off < 2; all_off++) {
			env->cfg.partitions[0].hcall_allowed =
			        all_off ? 0 : (HV_HC_ALL & ~(1u << nr));
			struct snap s;
			snap_take(&s, env);
			struct call c = {.part = 0, .nr = nr};
			memcpy(c.a, valid_args[nr], sizeof(c.a));
			assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_EPERM);
			assert_nothing_changed(&s, env);
			snap_free(&s);
		}
		mock_env_free(env);
	}
}

/* Bits beyond the last hypercall do not make unknown numbers known. */
static void test_unknown_numbers_with_all_bits_allowed(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	env->cfg.partitions[0].hcall_allowed = 0xffffffffu;
	for (uint64_t nr = HV_HC_COUNT; nr < 40; nr++) {
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = 0, .nr = nr, .a = {0x1000, 16, 0, 0}};
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_ENOSYS);
		assert_nothing_changed(&s, env);
		snap_free(&s);
	}
	mock_env_free(env);
}

/* ---- VERSION, YIELD, SHUTDOWN, instruction length ----------------------- */

static void test_version(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	struct snap s;
	snap_take(&s, env);
	uint64_t rdi = 0;
	struct call c = {.part = 1, .vcpu = 1, .nr = HV_HC_VERSION, .a = {7, 8, 9, 10}};
	assert_int_equal(call_ok(env, &c, true, &rdi), HV_HC_OK);
	assert_int_equal(rdi, HV_HC_ABI_VERSION);
	assert_nothing_changed(&s, env);
	snap_free(&s);
	mock_env_free(env);
}

static void test_insn_len(void **state)
{
	(void)state;
	static const uint32_t lens[] = {0, 3, 4};
	struct mock_env *env = env_new(CFG_TWO);
	for (size_t i = 0; i < HV_ARRAY_LEN(lens); i++) {
		struct call c = {.part = 0, .nr = HV_HC_VERSION, .insn_len = lens[i]};
		assert_int_equal(call_ok(env, &c, true, NULL), HV_HC_OK);
		/* failing calls complete the instruction too */
		c.nr = HV_HC_COUNT;
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_ENOSYS);
	}
	mock_env_free(env);
}

static void test_yield(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	struct snap s;
	snap_take(&s, env);
	struct call c = {.part = 1, .nr = HV_HC_YIELD};
	for (int i = 0; i < 3; i++)
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
	assert_int_equal(env->sys.parts[1].yields, 3);
	assert_int_equal(env->sys.parts[0].yields, 0);
	env->sys.parts[1].yields = 0;
	assert_nothing_changed(&s, env);
	snap_free(&s);
	mock_env_free(env);
}

static void test_shutdown(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	struct snap s;
	snap_take(&s, env);
	struct call c = {.part = 1, .vcpu = 1, .nr = HV_HC_SHUTDOWN};
	struct hv_exit e, before;
	exit_init(&before, &c);
	struct hv_result res = do_call(env, &c, &e);
	assert_int_equal(res.action, HV_ACT_HALT);
	assert_int_equal(res.halt_reason, HV_HALT_SHUTDOWN);
	assert_memory_equal(&e.st, &before.st, sizeof(e.st)); /* RIP, RAX unchanged */
	assert_int_equal(env->sys.parts[1].halted, HV_HALT_SHUTDOWN);
	assert_int_equal(env->sys.parts[0].halted, HV_HALT_NONE);
	env->sys.parts[1].halted = HV_HALT_NONE;
	assert_nothing_changed(&s, env);
	/* the other partition still runs */
	c.part = 0;
	c.vcpu = 0;
	c.nr = HV_HC_YIELD;
	assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
	snap_free(&s);
	mock_env_free(env);
}

/* ---- CALL_RETURN, CALL_FAULT: the end of a sandboxed call ---------------- */

/* A call that ends the run: halted with `reason`, the vCPU state exactly as
 * the guest left it (the platform reads the result or report from it), the
 * other partition unaffected; then re-armed for the next call. */
static void expect_call_end(struct mock_env *env, struct call *c, uint32_t reason)
{
	struct snap s;
	snap_take(&s, env);
	struct hv_exit e, before;
	exit_init(&before, c);
	struct hv_result res = do_call(env, c, &e);
	assert_int_equal(res.action, HV_ACT_HALT);
	assert_int_equal(res.halt_reason, reason);
	assert_memory_equal(&e.st, &before.st, sizeof(e.st));
	assert_int_equal(env->sys.parts[c->part].halted, reason);
	assert_int_equal(env->sys.parts[1 - c->part].halted, HV_HALT_NONE);
	/* Halted: another exit of it is refused until the platform re-arms. */
	struct call again = {.part = c->part, .nr = HV_HC_VERSION};
	struct hv_result res2 = do_call(env, &again, &e);
	assert_int_equal(res2.action, HV_ACT_HALT);
	assert_int_equal(hv_call_rearm(&env->sys, c->part), HV_OK);
	assert_int_equal(env->sys.parts[c->part].halted, HV_HALT_NONE);
	assert_nothing_changed(&s, env);
	snap_free(&s);
	assert_int_equal(call_ok(env, &again, true, NULL), HV_HC_OK);
}

static void test_call_return(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	struct call c = {.part = 1,
	                 .vcpu = 1,
	                 .nr = HV_HC_CALL_RETURN,
	                 .a = {0xfedcba9876543210ull, 1, 2, 3}};
	expect_call_end(env, &c, HV_HALT_CALL_RETURN);
	/* Any value is a result: nothing to refuse. */
	c.a[0] = 0;
	expect_call_end(env, &c, HV_HALT_CALL_RETURN);
	mock_env_free(env);
}

static void test_call_fault(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	/* Reports an exception can make: vectors 0..31, 32-bit error codes. */
	static const uint64_t good[][4] = {
	        {0, 0, 0x401000, 0},
	        {HV_VEC_PF, 0x7, 0x401000, 0xdeadb000},
	        {31, 0xffffffffull, ~0ull, ~0ull},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(good); i++) {
		struct call c = {.part = 0, .nr = HV_HC_CALL_FAULT};
		memcpy(c.a, good[i], sizeof(c.a));
		expect_call_end(env, &c, HV_HALT_CALL_FAULT);
	}
	/* Others are refused with EINVAL and the call goes on, changed in
	 * nothing but RAX. */
	static const uint64_t bad[][4] = {
	        {32, 0, 0, 0},
	        {255, 0, 0, 0},
	        {1ull << 63, 0, 0, 0},
	        {HV_VEC_GP, 1ull << 32, 0, 0},
	        {HV_VEC_GP, ~0ull, 0, 0},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(bad); i++) {
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = 0, .nr = HV_HC_CALL_FAULT};
		memcpy(c.a, bad[i], sizeof(c.a));
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_EINVAL);
		assert_int_equal(env->sys.parts[0].halted, HV_HALT_NONE);
		assert_nothing_changed(&s, env);
		snap_free(&s);
	}
	mock_env_free(env);
}

/* Only a partition a call ended may be re-armed: a shut-down, violating
 * or running one stays as it is. */
static void test_call_rearm_refused(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	assert_int_equal(hv_call_rearm(&env->sys, 0), HV_ERR_PERM); /* running */
	static const uint32_t others[] = {HV_HALT_SHUTDOWN, HV_HALT_VIOLATION, HV_HALT_TRIPLE_FAULT,
	                                  HV_HALT_BAD_EXIT};
	for (size_t i = 0; i < HV_ARRAY_LEN(others); i++) {
		env->sys.parts[0].halted = others[i];
		assert_int_equal(hv_call_rearm(&env->sys, 0), HV_ERR_PERM);
		assert_int_equal(env->sys.parts[0].halted, others[i]);
	}
	assert_int_equal(hv_call_rearm(&env->sys, 2), HV_ERR_RANGE);
	assert_int_equal(hv_call_rearm(NULL, 0), HV_ERR_RANGE);
	mock_env_free(env);
}

/* ---- CONSOLE_WRITE ------------------------------------------------------ */

struct console_row {
	const char *name;
	enum variant cfg;
	uint32_t part;
	uint64_t gpa;
	uint64_t len;
};

static const struct console_row console_rows[] = {
        {"p0 RAM", CFG_TWO, 0, 0x3000, 5},
        {"p1 RAM, same GPA as p0's", CFG_TWO, 1, 0x3000, 5},
        {"p0 last 256 bytes of RAM", CFG_TWO, 0, RAM_END - 256, 256},
        {"p1 last byte of RAM", CFG_TWO, 1, RAM_END - 1, 1},
        {"p1 from its read-only channel", CFG_TWO, 1, CHAN + 0x100, 40},
        {"p0 from its channel, up to its end", CFG_TWO, 0, CHAN_END - 200, 200},
        {"p0 across two RAM regions", CFG_SPLIT, 0, SPLIT_AT - 100, 256},
        {"p2 from its side channel", CFG_THREE, 2, SIDE_GPA, 100},
};

static void test_console_write(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(console_rows); i++) {
		const struct console_row *r = &console_rows[i];
		print_message("  %s\n", r->name);
		struct mock_env *env = env_new(r->cfg);
		/* Different bytes at the same GPA in both partitions: the caller's
		 * own must come out. */
		char mine[HV_HC_CONSOLE_MAX], other[HV_HC_CONSOLE_MAX];
		for (uint64_t k = 0; k < r->len; k++) {
			mine[k] = (char)('a' + (k % 26));
			other[k] = 'X';
		}
		for (uint64_t k = 0; k < r->len; k++)
			mock_poke(env, ram_hpa(env, r->part, r->gpa + k), &mine[k], 1);
		uint32_t other_part = r->part == 0 ? 1 : 0;
		if (r->gpa + r->len <= RAM_END)
			mock_poke(env, ram_hpa(env, other_part, r->gpa), other, r->len);
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = r->part, .nr = HV_HC_CONSOLE_WRITE, .a = {r->gpa, r->len}};
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
		assert_int_equal(env->plat.calls[MOCK_OP_CONSOLE], s.console_calls + 1);
		assert_int_equal(env->plat.console_len, r->len);
		assert_int_equal(env->plat.console_partition, r->part);
		assert_memory_equal(env->plat.console, mine, r->len);
		env->plat.console_len = s.console_len;
		env->plat.calls[MOCK_OP_CONSOLE] = s.console_calls;
		assert_nothing_changed(&s, env);
		snap_free(&s);
		mock_env_free(env);
	}
}

static void test_console_len_0_does_nothing(void **state)
{
	(void)state;
	static const uint64_t gpas[] = {0x1000, TOP, MOCK_MMIO_GPA};
	struct mock_env *env = env_new(CFG_TWO);
	for (size_t i = 0; i < HV_ARRAY_LEN(gpas); i++) {
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = 0, .nr = HV_HC_CONSOLE_WRITE, .a = {gpas[i], 0}};
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
		assert_nothing_changed(&s, env);
		snap_free(&s);
	}
	mock_env_free(env);
}

/* ---- PARTITION_INFO ----------------------------------------------------- */

struct info_row {
	const char *name;
	enum variant cfg;
	uint32_t part, vcpu;
	uint64_t gpa, len;
	uint32_t nregions;
	const char *pname;
};

static const struct info_row info_rows[] = {
        {"p0 vcpu 0", CFG_TWO, 0, 0, 0x1000, INFO_SIZE, 2, "p0"},
        {"p1 vcpu 1, huge len", CFG_TWO, 1, 1, 0x1000, TOP, 1, "p1"},
        {"p0 last bytes of RAM", CFG_TWO, 0, 1, RAM_END - INFO_SIZE, INFO_SIZE + 100, 2, "p0"},
        {"p0 into its RW channel", CFG_TWO, 0, 0, CHAN + 8, INFO_SIZE, 2, "p0"},
        {"p0 across two RAM regions", CFG_SPLIT, 0, 0, SPLIT_AT - 8, INFO_SIZE, 3, "p0"},
        {"p2", CFG_THREE, 2, 1, 0x7000, INFO_SIZE, 1, "p2"},
};

static void test_partition_info(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(info_rows); i++) {
		const struct info_row *r = &info_rows[i];
		print_message("  %s\n", r->name);
		struct mock_env *env = env_new(r->cfg);
		struct snap s;
		snap_take(&s, env);
		struct call c = {.part = r->part,
		                 .vcpu = r->vcpu,
		                 .nr = HV_HC_PARTITION_INFO,
		                 .a = {r->gpa, r->len}};
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
		struct hv_hc_info info;
		uint8_t *raw = (uint8_t *)&info;
		for (uint64_t k = 0; k < INFO_SIZE; k++)
			mock_peek(env, ram_hpa(env, r->part, r->gpa + k), &raw[k], 1);
		assert_int_equal(info.partition, r->part);
		assert_int_equal(info.vcpu, r->vcpu);
		assert_int_equal(info.nvcpus, 2);
		assert_int_equal(info.nregions, r->nregions);
		assert_int_equal(info.ram_bytes, MOCK_RAM_SIZE);
		assert_string_equal(info.name, r->pname);
		/* exactly sizeof bytes written, nothing else */
		accept_guest_bytes(&s, env, r->part, r->gpa, INFO_SIZE);
		assert_nothing_changed(&s, env);
		snap_free(&s);
		mock_env_free(env);
	}
}

/* ---- CHANNEL_SEND / CHANNEL_RECV ---------------------------------------- */

static void send_ok(struct mock_env *env, uint32_t part, uint64_t ch, uint64_t gpa, uint64_t len)
{
	struct call c = {.part = part, .nr = HV_HC_CHANNEL_SEND, .a = {ch, gpa, len}};
	assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
}

static uint64_t recv_ok(struct mock_env *env, uint32_t part, uint64_t ch, uint64_t gpa,
                        uint64_t maxlen)
{
	uint64_t rdi = 0;
	struct call c = {.part = part, .nr = HV_HC_CHANNEL_RECV, .a = {ch, gpa, maxlen}};
	assert_int_equal(call_ok(env, &c, true, &rdi), HV_HC_OK);
	return rdi;
}

static void test_send_then_recv(void **state)
{
	(void)state;
	static const uint64_t lens[] = {1, 100, 4095, HV_HC_MSG_MAX};
	for (size_t i = 0; i < HV_ARRAY_LEN(lens); i++) {
		uint64_t len = lens[i];
		struct mock_env *env = env_new(CFG_TWO);
		static uint8_t msg[HV_HC_MSG_MAX], got[HV_HC_MSG_MAX];
		fill_pattern(msg, len, (uint8_t)i);
		mock_poke(env, ram_hpa(env, 0, 0x10010), msg, len);

		/* send: only the first len bytes of the channel change */
		struct snap s;
		snap_take(&s, env);
		send_ok(env, 0, 0, 0x10010, len);
		assert_int_equal(env->sys.channels[0].msg_len, len);
		assert_int_equal(env->sys.channels[0].seq, 1);
		mock_peek(env, MOCK_CHAN_HPA, got, len);
		assert_memory_equal(got, msg, len);
		assert_mem_same_except(&s, env, MOCK_CHAN_HPA, len);
		assert_memory_equal(s.parts, env->sys.parts, sizeof(env->sys.parts));
		assert_int_equal(s.console_len, env->plat.console_len);
		snap_free(&s);

		/* recv by the RO member into its own RAM at the same GPA p0 used */
		snap_take(&s, env);
		assert_int_equal(recv_ok(env, 1, 0, 0x10010, HV_HC_MSG_MAX), len);
		assert_int_equal(env->sys.channels[0].msg_len, 0);
		mock_peek(env, ram_hpa(env, 1, 0x10010), got, len);
		assert_memory_equal(got, msg, len);
		assert_mem_same_except(&s, env, ram_hpa(env, 1, 0x10010), len);
		snap_free(&s);

		/* empty again: a second recv has nothing */
		struct call c = {.part = 1, .nr = HV_HC_CHANNEL_RECV, .a = {0, 0x10010, 4096}};
		assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_EAGAIN);
		/* and the mailbox takes the next message */
		send_ok(env, 0, 0, 0x10010, len);
		assert_int_equal(env->sys.channels[0].seq, 2);
		mock_env_free(env);
	}
}

static void test_recv_after_e2big(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	setup_message(env);
	struct call c = {.part = 1, .nr = HV_HC_CHANNEL_RECV, .a = {0, 0x1000, 10}};
	assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_E2BIG);
	assert_int_equal(env->sys.channels[0].msg_len, 64);
	/* exact size fits; a huge maxlen is fine where 4 KiB are writable */
	assert_int_equal(recv_ok(env, 1, 0, 0x1000, 64), 64);
	setup_message(env);
	assert_int_equal(recv_ok(env, 1, 0, 0x1000, TOP), 64);
	setup_message(env);
	assert_int_equal(recv_ok(env, 1, 0, 0x1000, (1ull << 32) | 64), 64);
	mock_env_free(env);
}

/* The sender may name a buffer inside the channel itself, and a member may
 * receive into its channel window: the payload must survive the overlap. */
static void test_channel_overlap(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	uint8_t msg[300], got[300];
	fill_pattern(msg, sizeof(msg), 0x33);
	mock_poke(env, MOCK_CHAN_HPA + 0x10, msg, sizeof(msg));
	send_ok(env, 0, 0, CHAN + 0x10, sizeof(msg));
	mock_peek(env, MOCK_CHAN_HPA, got, sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));

	/* p0 (the RW member) receives its own message into the window at +8 */
	assert_int_equal(recv_ok(env, 0, 0, CHAN + 8, sizeof(msg)), sizeof(msg));
	mock_peek(env, MOCK_CHAN_HPA + 8, got, sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));
	mock_env_free(env);
}

static void test_channel_three_partitions(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_THREE);
	uint8_t msg[32], got[32];
	fill_pattern(msg, sizeof(msg), 0x77);
	mock_poke(env, ram_hpa(env, 2, 0x9000), msg, sizeof(msg));
	struct snap s;
	snap_take(&s, env);
	send_ok(env, 2, 1, 0x9000, sizeof(msg));
	assert_mem_same_except(&s, env, SIDE_HPA, sizeof(msg));
	assert_memory_equal(&s.channels[0], &env->sys.channels[0], sizeof(s.channels[0]));
	assert_int_equal(env->sys.channels[1].msg_len, sizeof(msg));
	snap_free(&s);
	/* p1 receives into its side window (RW there) */
	assert_int_equal(recv_ok(env, 1, 1, SIDE_GPA + 0x800, 4096 - 0x800), sizeof(msg));
	mock_peek(env, SIDE_HPA + 0x800, got, sizeof(got));
	assert_memory_equal(got, msg, sizeof(msg));
	/* p0 is not in channel 1, p2 not in channel 0 */
	struct call c = {.part = 2, .nr = HV_HC_CHANNEL_SEND, .a = {0, 0x9000, 8}};
	assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_EPERM);
	mock_env_free(env);
}

/* ---- MEM_PROTECT -------------------------------------------------------- */

static int64_t protect(struct mock_env *env, uint32_t part, uint64_t gpa, uint64_t size,
                       uint64_t perm)
{
	struct call c = {.part = part, .nr = HV_HC_MEM_PROTECT, .a = {gpa, size, perm}};
	return call_ok(env, &c, false, NULL);
}

static void test_protect_reduces(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	struct snap s;
	snap_take(&s, env);
	assert_int_equal(protect(env, 0, 0x5000, 0x1000, HV_PERM_R), HV_HC_OK);
	/* only the EPT pool changed in host memory */
	assert_mem_same_except(&s, env, MOCK_POOL_HPA, (uint64_t)MOCK_POOL_PAGES * HV_PAGE_SIZE);
	assert_int_equal(translate(env, 0, 0x5000).perm, HV_PERM_R);
	assert_int_equal(translate(env, 0, 0x5fff).perm, HV_PERM_R);
	assert_int_equal(translate(env, 0, 0x4fff).perm, HV_PERM_RWX);
	assert_int_equal(translate(env, 0, 0x6000).perm, HV_PERM_RWX);
	assert_int_equal(translate(env, 0, 0x5000).hpa, MOCK_P0_RAM_HPA + 0x5000);
	assert_int_equal(translate(env, 1, 0x5000).perm, HV_PERM_RWX); /* p1 untouched */
	assert_int_equal(env->sys.parts[0].protected_, 1);
	assert_int_equal(env->sys.parts[1].protected_, 0);
	assert_int_equal(ept_changed_seen.calls, 1);
	assert_int_equal(ept_changed_seen.part, 0);
	assert_int_equal(ept_changed_seen.gpa, 0x5000);
	assert_int_equal(ept_changed_seen.size, 0x1000);
	assert_int_equal(verify_all(env), 0);
	snap_free(&s);

	/* reading from the page still works, writing into it does not */
	struct call c = {.part = 0, .nr = HV_HC_CONSOLE_WRITE, .a = {0x5000, 4}};
	assert_int_equal(call_ok(env, &c, false, NULL), HV_HC_OK);
	/* same perms again, and further down to none, are reductions */
	assert_int_equal(protect(env, 0, 0x5000, 0x1000, HV_PERM_R), HV_HC_OK);
	assert_int_equal(protect(env, 0, 0x4000, 0x3000, HV_PERM_R), HV_HC_OK);
	assert_int_equal(translate(env, 0, 0x4000).perm, HV_PERM_R);
	assert_int_equal(protect(env, 0, 0x5000, 0x1000, 0), HV_HC_OK);
	assert_false(translate(env, 0, 0x5000).present);
	assert_int_equal(protect(env, 0, 0x5000, 0x1000, 0), HV_HC_OK);
	assert_int_equal(protect(env, 0, 0x4000, 0x1000, HV_PERM_RW), HV_HC_EPERM);
	assert_int_equal(ept_changed_seen.calls, 5);
	assert_int_equal(verify_all(env), 0);
	mock_env_free(env);
}

static void test_protect_whole_ram_and_large_pages(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	/* a whole 2 MiB page needs no new table, even with the pool full */
	setup_pool_full(env);
	assert_int_equal(protect(env, 0, 0x200000, 0x200000, HV_PERM_RX), HV_HC_OK);
	assert_int_equal(translate(env, 0, 0x3fffff).perm, HV_PERM_RX);
	assert_int_equal(translate(env, 0, 0x400000).perm, HV_PERM_RWX);
	env->pool.npages = MOCK_POOL_PAGES;
	assert_int_equal(protect(env, 1, 0, RAM_END, HV_PERM_RX), HV_HC_OK);
	for (uint64_t gpa = 0; gpa < RAM_END; gpa += 0x80000)
		assert_int_equal(translate(env, 1, gpa).perm, HV_PERM_RX);
	assert_int_equal(translate(env, 0, 0).perm, HV_PERM_RWX);
	assert_int_equal(verify_all(env), 0);
	/* the channel window of p1 was not affected */
	assert_int_equal(translate(env, 1, CHAN).perm, HV_PERM_R);
	mock_env_free(env);
}

static void test_protect_split_regions(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_SPLIT);
	assert_int_equal(protect(env, 0, SPLIT_AT - 0x2000, 0x4000, HV_PERM_R), HV_HC_OK);
	assert_int_equal(translate(env, 0, SPLIT_AT - 0x2000).perm, HV_PERM_R);
	assert_int_equal(translate(env, 0, SPLIT_AT + 0x1000).perm, HV_PERM_R);
	assert_int_equal(translate(env, 0, SPLIT_AT + 0x2000).perm, HV_PERM_RW);
	assert_int_equal(protect(env, 0, SPLIT_AT + 0x2000, 0x1000, HV_PERM_RW), HV_HC_OK);
	assert_int_equal(verify_all(env), 0);
	mock_env_free(env);
}

/* Without an ept_changed op the call still works. */
static void test_protect_without_ept_changed_op(void **state)
{
	(void)state;
	struct mock_env *env = env_new(CFG_TWO);
	env->sys.ops = &mock_platform_ops;
	assert_int_equal(protect(env, 0, 0x7000, 0x2000, HV_PERM_RX), HV_HC_OK);
	assert_int_equal(translate(env, 0, 0x8000).perm, HV_PERM_RX);
	assert_int_equal(ept_changed_seen.calls, 0);
	mock_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_failing_calls_change_nothing),
	        cmocka_unit_test(test_valid_args_really_succeed),
	        cmocka_unit_test(test_cpl_above_0_is_ud),
	        cmocka_unit_test(test_disallowed_numbers_eperm),
	        cmocka_unit_test(test_unknown_numbers_with_all_bits_allowed),
	        cmocka_unit_test(test_version),
	        cmocka_unit_test(test_insn_len),
	        cmocka_unit_test(test_yield),
	        cmocka_unit_test(test_shutdown),
	        cmocka_unit_test(test_call_return),
	        cmocka_unit_test(test_call_fault),
	        cmocka_unit_test(test_call_rearm_refused),
	        cmocka_unit_test(test_console_write),
	        cmocka_unit_test(test_console_len_0_does_nothing),
	        cmocka_unit_test(test_partition_info),
	        cmocka_unit_test(test_send_then_recv),
	        cmocka_unit_test(test_recv_after_e2big),
	        cmocka_unit_test(test_channel_overlap),
	        cmocka_unit_test(test_channel_three_partitions),
	        cmocka_unit_test(test_protect_reduces),
	        cmocka_unit_test(test_protect_whole_ram_and_large_pages),
	        cmocka_unit_test(test_protect_split_regions),
	        cmocka_unit_test(test_protect_without_ept_changed_op),
	};
	return cmocka_run_group_tests(tests, NULL, free_snap_buffers);
}
